package correlate

import "unsafe"

// headTree orders the files of a k-way merge by their next Observation's corrected time, the file's
// index breaking ties (the lowest first), so that taking the top gives the same order as scanning
// every file's head for the earliest. It is a tournament tree of losers: leaf k+f is file f's head,
// each inner node keeps the later of the two heads that met there (the loser), and node 0 the
// earliest of all. When the top file's head moves on, the new head meets only the losers on its
// leaf's path to the root: one comparison a level, about log2(files) a sighting (a binary heap takes
// two a level, and files nearly always give one sighting at a time before another file's head is
// earlier: runs of 1.2 sightings on average on the generated sets).
//
// While every time it meets is within reach of the first heads' earliest (keyReach, about 78 hours:
// nearly always) and there are fewer than 2^15 files, the tree keeps each entry packed in one word,
// its time's offset above that base over its file (key): one comparison a level. A time out of reach
// turns the tree into entries of their own (unpack), with the same order from there on.
type headTree struct {
	node []headEntry // node[0]: the top; node[1:]: the losers, node n's children 2n and 2n+1
	k    int32       // files; an entry whose file is k or more is a done file (file f's is k+f)
	// The packed entries (nil: node holds them): a live file's (t-base)<<keyFileBits | f, a done
	// file's keyReach<<keyFileBits | k+f, for times from base to base+keyReach-1.
	key  []uint64
	base int64
}

// The packed entries' layout: the file in the low keyFileBits bits, the time's offset above the
// base (below keyReach; keyReach itself for a done file) above them.
const (
	keyFileBits = 16
	keyFileMask = 1<<keyFileBits - 1
	keyReach    = 1<<(64-keyFileBits) - 1
)

// headEntry is a file in the tree and the corrected time of its next Observation.
type headEntry struct {
	t int64
	f int32
}

// before reports whether a's head comes before b's: the earlier time, on equal times the lower file.
// A done file's entry (k+f) comes after every file's with Observations left, at any time.
func (a headEntry) before(b headEntry) bool { return a.t < b.t || (a.t == b.t && a.f < b.f) }

// newHeadTree makes the tree of the files' heads: file f's first corrected time heads[f], or none
// when it has no Observations (empty[f]).
func newHeadTree(heads []int64, empty []bool) *headTree {
	k := len(heads)
	ht := &headTree{node: make([]headEntry, max(k, 1)), k: int32(k)}
	ht.node[0] = headEntry{t: 1<<63 - 1, f: int32(k)} // no files: done
	win := make([]headEntry, 2*k)                     // the winner at each node, leaves from k on
	for f, t := range heads {
		win[k+f] = headEntry{t: t, f: int32(f)}
		if empty[f] {
			win[k+f] = headEntry{t: 1<<63 - 1, f: int32(k + f)}
		}
	}
	for n := k - 1; n >= 1; n-- {
		a, b := win[2*n], win[2*n+1]
		if b.before(a) {
			a, b = b, a
		}
		win[n], ht.node[n] = a, b
	}
	if k > 0 {
		ht.node[0] = win[1]
	}
	ht.pack(heads, empty)
	return ht
}

// pack packs the tree's entries when there are few enough files and every file's first head
// (heads, but the empty ones) is within reach of the earliest.
func (ht *headTree) pack(heads []int64, empty []bool) {
	if ht.k == 0 || 2*int(ht.k) > keyFileMask {
		return
	}
	base, any := int64(0), false
	for f, t := range heads {
		if !empty[f] && (!any || t < base) {
			base, any = t, true
		}
	}
	for f, t := range heads {
		if !empty[f] && uint64(t)-uint64(base) >= keyReach {
			return
		}
	}
	ht.base, ht.key = base, make([]uint64, len(ht.node))
	for i, e := range ht.node {
		off := uint64(keyReach) // a done file
		if e.f < ht.k {
			off = uint64(e.t) - uint64(base)
		}
		ht.key[i] = off<<keyFileBits | uint64(e.f)
	}
}

// unpack turns the packed entries into entries of their own.
func (ht *headTree) unpack() {
	for i, key := range ht.key {
		e := headEntry{t: 1<<63 - 1, f: int32(key & keyFileMask)}
		if off := key >> keyFileBits; off != keyReach {
			e.t = int64(uint64(ht.base) + off)
		}
		ht.node[i] = e
	}
	ht.key = nil
}

// top returns the file whose head comes first, or -1 when every file is done.
func (ht *headTree) top() int {
	if ht.key != nil {
		if f := int32(ht.key[0] & keyFileMask); f < ht.k {
			return int(f)
		}
		return -1
	}
	if f := ht.node[0].f; f < ht.k {
		return int(f)
	}
	return -1
}

// advanced restores the order after the top file's head moved on to time t.
func (ht *headTree) advanced(t int64) {
	if ht.key != nil {
		if off := uint64(t) - uint64(ht.base); off < keyReach {
			ht.replayKey(off<<keyFileBits | ht.key[0]&keyFileMask)
			return
		}
		ht.unpack()
	}
	ht.replay(headEntry{t: t, f: ht.node[0].f})
}

// drop marks the top file done (it has no Observations left).
func (ht *headTree) drop() {
	if ht.key != nil {
		ht.replayKey(keyReach<<keyFileBits | (ht.key[0]&keyFileMask + uint64(ht.k)))
		return
	}
	f := ht.node[0].f
	ht.replay(headEntry{t: 1<<63 - 1, f: f + ht.k})
}

// replayKey is replay on the packed entries. Its loop reads the entries without bounds checks (about
// 5 levels a sighting, each a load, a comparison and at times a store, where the check was two more
// instructions): the top's file f is below k, so n starts at (len(ht.key)+f)/2 < k ≤ len(ht.key) (the
// tree of k ≥ 1 files has k entries), and only halves from there.
func (ht *headTree) replayKey(x uint64) {
	nd := ht.key
	p := unsafe.Pointer(unsafe.SliceData(nd))
	for n := uint(len(nd)+int(nd[0]&keyFileMask)) >> 1; n > 0; n >>= 1 {
		q := (*uint64)(unsafe.Add(p, n*8))
		if y := *q; y < x {
			*q, x = x, y
		}
	}
	nd[0] = x
}

// replay plays the top file's new entry x against the losers on its leaf's path to the root: at
// each node the earlier of the two goes on up and the later stays.
func (ht *headTree) replay(x headEntry) {
	nd := ht.node
	for n := (len(nd) + int(ht.node[0].f)) >> 1; n > 0; n >>= 1 {
		if y := nd[n]; y.before(x) {
			nd[n], x = x, y
		}
	}
	nd[0] = x
}
