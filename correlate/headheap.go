package correlate

// headTree orders the files of a k-way merge by their next Observation's corrected time, the file's
// index breaking ties (the lowest first), so that taking the top gives the same order as scanning
// every file's head for the earliest. It is a tournament tree of losers: leaf k+f is file f's head,
// each inner node keeps the later of the two heads that met there (the loser), and node 0 the
// earliest of all. When the top file's head moves on, the new head meets only the losers on its
// leaf's path to the root: one comparison a level, about log2(files) a sighting (a binary heap takes
// two a level, and files nearly always give one sighting at a time before another file's head is
// earlier: runs of 1.2 sightings on average on the generated sets).
type headTree struct {
	node []headEntry // node[0]: the top; node[1:]: the losers, node n's children 2n and 2n+1
	k    int32       // files; an entry whose file is k or more is a done file (file f's is k+f)
}

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
	return ht
}

// top returns the file whose head comes first, or -1 when every file is done.
func (ht *headTree) top() int {
	if f := ht.node[0].f; f < ht.k {
		return int(f)
	}
	return -1
}

// topTime returns the head time of the top file (there must be one).
func (ht *headTree) topTime() int64 { return ht.node[0].t }

// advanced restores the order after the top file's head moved on to time t.
func (ht *headTree) advanced(t int64) { ht.replay(headEntry{t: t, f: ht.node[0].f}) }

// drop marks the top file done (it has no Observations left).
func (ht *headTree) drop() {
	f := ht.node[0].f
	ht.replay(headEntry{t: 1<<63 - 1, f: f + ht.k})
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
