package correlate

import (
	"math/bits"
	"slices"
	"unsafe"
)

// The merge puts the files' Observations into one corrected-time order a slice of time at a time:
// each file's next Observations below the slice's end, from the earliest head on, are made into
// sightings file after file (sightAhead: a run of one source at a time) and then ordered by their
// sort keys (sortKeys: a counting sort of buckets, then insertion), each key a time's offset in the
// slice above its place (file order, then each file's own) in the low bits, so that equal times keep
// the order of their files and, within a file, its own. That is
// the order the head tree of the files' heads gives (headTree: the earlier time, on equal times the
// lower file), as long as each file's times do not fall within a slice: they never do in a file in
// order (matcher.orders); where one does (a clock's correction can move a file's times back across a
// step), the head tree merges the rest. The tree cost about 80 instructions a sighting (5.4 levels
// for 36 files), the sort about 20, and the sightings are made once, into the slice, not into each
// file's sightings ahead and copied from there.

// sliceCap is how many sightings a slice holds at most (sliceMerge.stage); a slice that would take more
// is made again half as wide.
const sliceCap = 4096

// The slices' widths, in ns: a power of two from 2 (a slice of one time, 1, is taken without a sort)
// up to maxSliceWidth, whose offsets fit the 32 bits above a key's place; starting at firstSliceWidth,
// a slice is made twice as wide after one that held less than a quarter of its room.
const (
	firstSliceWidth = 1 << 20
	maxSliceWidth   = 1 << 30
)

// sliceMerge is the merge's state: the files, the slice's sightings and their sort keys, and the
// batch being filled for the matcher.
type sliceMerge struct {
	m     *matcher
	files []mergeFile
	live  []int32 // the files with Observations left, in file order
	start []int   // each live file's position (in merge order) at the slice's start
	stage []sighting
	// keys are the slice's sort keys: a sighting's time less the slice's start (its offset) at the top
	// (offset*mul(): the offset's top bit at bit 63, its lowest at bit 34 or above), its place in stage
	// below bit 32 (as its offset in bytes, keyOf); tmp is the sort's second array. Equal offsets are equal bits above 32.
	keys, tmp []uint64
	count     [1 << bucketBits]int32 // the slice's keys by bucket (stageSlice)
	width     uint64
	cap       int // sightings a slice holds at most (sliceCap; tests set others)
	b         []sighting
	out       chan<- []sighting
	free      <-chan []sighting
	// take, on one core (runDirect), matches what the merge hands over in place of out and free: the
	// sightings of stage that keys name, in that order, or stage's own when keys is nil; n is how many
	// of the batch being handed over it took already (in batches of m.batch, as out's, so that
	// tiesInOrder orders the same runs).
	take func(stage []sighting, keys []uint64)
	n    int
}

// A slice's outcome (stageSlice).
const (
	sliceOK        = iota
	sliceFull      // more sightings than the slice has room for
	sliceUnordered // a file's time falls: the head tree merges the rest
)

// merge sends every Observation in corrected-time order (a k-way merge of the files, each in the
// order perm gives, nil meaning its own; on equal times the lower file first), in batches taken from
// free; it closes out at the end.
func (m *matcher) merge(perm [][]uint32, out chan<- []sighting, free <-chan []sighting) {
	defer close(out)
	m.newSliceMerge(m.mergeFiles(perm), out, free).run()
}

// newSliceMerge makes the merge of files, at their starts, handing over on out in batches from free.
func (m *matcher) newSliceMerge(files []mergeFile, out chan<- []sighting, free <-chan []sighting) *sliceMerge {
	sm := &sliceMerge{m: m, files: files, width: firstSliceWidth, cap: m.sliceCap, out: out, free: free}
	if sm.cap <= 0 {
		sm.cap = sliceCap
	}
	sm.stage, sm.keys, sm.tmp = make([]sighting, 0, sm.cap), make([]uint64, sm.cap), make([]uint64, sm.cap)
	sm.start = make([]int, len(sm.files))
	for f := range sm.files {
		sm.live = append(sm.live, int32(f))
	}
	return sm
}

// run merges the files and hands every sighting over.
func (sm *sliceMerge) run() {
	if sm.take != nil {
		sm.b = make([]sighting, 0, sm.m.batch)
	} else {
		sm.b = <-sm.free
	}
	if !sm.slices() {
		sm.byTree()
	}
	switch {
	case len(sm.b) == 0:
	case sm.take != nil:
		sm.take(sm.m.tiesInOrder(sm.b), nil)
	default:
		sm.out <- sm.m.tiesInOrder(sm.b)
	}
}

// handOver hands the batch b over (to the matcher on one core, else on out) and starts the next.
func (sm *sliceMerge) handOver() {
	if sm.take != nil {
		sm.take(sm.m.tiesInOrder(sm.b), nil)
		sm.b, sm.n = sm.b[:0], 0
		return
	}
	sm.out <- sm.m.tiesInOrder(sm.b)
	sm.b = <-sm.free
}

// slices merges the files a slice at a time, and reports false when a file's time fell (the head tree
// is to merge the rest, from the files' positions as they are).
func (sm *sliceMerge) slices() bool {
	for {
		t0, ok := sm.heads()
		if !ok {
			return true
		}
		if sm.width == 1 {
			if !sm.equal(t0) {
				return false
			}
			sm.width = 2
			continue
		}
		switch sm.stageSlice(t0) {
		case sliceFull:
			sm.count = [1 << bucketBits]int32{}
			sm.rewind()
			sm.width >>= 1
			continue
		case sliceUnordered:
			sm.rewind()
			return false
		}
		sm.emit()
		if len(sm.stage) < sm.cap/4 && sm.width < maxSliceWidth {
			sm.width <<= 1
		}
	}
}

// heads drops the files done from live, notes each live file's position (start), and returns the
// earliest head's time; false when every file is done.
func (sm *sliceMerge) heads() (int64, bool) {
	live, t0 := sm.live[:0], int64(0)
	for _, f := range sm.live {
		mf := &sm.files[f]
		if mf.k == mf.n {
			continue
		}
		if t := mf.ts[mf.k]; len(live) == 0 || t < t0 {
			t0 = t
		}
		live = append(live, f)
		sm.start[f] = mf.from + mf.k
	}
	sm.live = live
	return t0, len(live) > 0
}

// rewind puts every live file back at its position at the slice's start.
func (sm *sliceMerge) rewind() {
	for _, f := range sm.live {
		mf := &sm.files[f]
		if i := sm.start[f]; mf.from+mf.k != i {
			sm.m.seek(mf, int(f), i)
		}
	}
}

// stageSlice makes into stage, file after file, the sightings of each live file's Observations from
// its head on with times below t0 + width, their sort keys, and the count of keys of each bucket
// (the offset's top bucketBits bits).
func (sm *sliceMerge) stageSlice(t0 int64) int {
	sm.stage = sm.stage[:0]
	w, mul, count := sm.width, sm.mul(), &sm.count
	for _, f := range sm.live {
		mf := &sm.files[f]
		prev := t0
		for {
			k, c := mf.k, mf.n
			if !mf.ordered || mf.ts[k] < prev {
				return sliceUnordered
			}
			n := len(sm.stage)
			room := min(c-k, sm.cap-n)
			if c = k + stageKeys(mf.ts[k:k+room], sm.keys[n:n+room], count, t0, w, mul, uint64(n)); c == k+room && c < mf.n {
				if uint64(mf.ts[c])-uint64(t0) < w { // no room for the next, within the slice
					return sliceFull
				}
			}
			if c > k {
				sm.stage = sm.stage[:n+c-k]
				sm.m.sightAhead(sm.stage[n:], mf, k, c)
				mf.k, prev = c, mf.ts[c-1]
			}
			if c < mf.n {
				break
			}
			i := mf.from + mf.n
			if i == len(mf.obs) {
				break
			}
			sm.m.fillAhead(mf, int(f), i)
		}
	}
	return sliceOK
}

// stageKeys writes the sort keys of the times ts below t0 + w (from their first on, places from
// place on) into keys, counts them by bucket (mul: see sliceMerge.mul) into count, and returns how
// many it took. ts never fall and none is below t0 (stageSlice takes a file's times a slice at a time
// only so): the times below t0 + w are a prefix, whose end is found first, by halving when the last
// time is past it (about 7 steps of 128 times), so that the loop over the keys tests none of them.
// A key, (t-t0)*mul | keyOf(place+i), is t*mul + (keyOf(place) - t0*mul) + i*sightingSize: (t-t0)*mul,
// below 1<<64, has no bit below 34 and keyOf(place+i) none above 17, and the products are the same
// modulo 1<<64. Four keys a turn
// through pointers from one index (12 instructions a key one at a time, about 8 here). Not inlined:
// in stageSlice's loop it kept the offset and two values on the stack.
//
//go:noinline
func stageKeys(ts []int64, keys []uint64, count *[1 << bucketBits]int32, t0 int64, w, mul, place uint64) int {
	n := len(ts)
	if n > 0 && uint64(ts[n-1])-uint64(t0) >= w { // the first time past the slice, at n-1 or before
		lo, hi := 0, n-1
		for lo < hi {
			if mid := int(uint(lo+hi) >> 1); uint64(ts[mid])-uint64(t0) >= w {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		n = lo
	}
	ts, keys, c := ts[:n], keys[:n], count[:] // (c: count's nil check once, not a key)
	tp, kp := unsafe.Pointer(unsafe.SliceData(ts)), unsafe.Pointer(unsafe.SliceData(keys))
	a := keyOf(int(place)) - uint64(t0)*mul // (the next key's place, less t0*mul)
	i := 0
	for m := n - 3; i < m; i += 4 { // (i+3 below n: the four are in ts and keys)
		t, k := (*[4]int64)(unsafe.Add(tp, uintptr(i)*8)), (*[4]uint64)(unsafe.Add(kp, uintptr(i)*8))
		k0, k1, k2, k3 := uint64(t[0])*mul+a, uint64(t[1])*mul+a+sightingSize, uint64(t[2])*mul+a+2*sightingSize, uint64(t[3])*mul+a+3*sightingSize
		k[0], k[1], k[2], k[3] = k0, k1, k2, k3 // (stored first: each then shifted in its register, not a copy)
		c[k0>>(64-bucketBits)]++
		c[k1>>(64-bucketBits)]++
		c[k2>>(64-bucketBits)]++
		c[k3>>(64-bucketBits)]++
		a += 4 * sightingSize
	}
	for ; i < n; i++ {
		k := uint64(ts[i])*mul + a
		keys[i] = k
		c[k>>(64-bucketBits)]++
		a += sightingSize
	}
	return n
}

// mul places a time's offset in the slice (of bits.Len64(width-1) bits, at most 30: maxSliceWidth) at
// the top of its key: offset*mul, its top bit at bit 63 and its lowest at bit 34 or above, so that a
// key's bucket, the top bucketBits bits of its offset, is its top bucketBits bits, and its place (below
// sliceCap) lies below bit 32, equal offsets having equal bits above. (A multiply, where a shift by a
// variable count took the one register that can hold it, and values were kept on the stack for it.)
func (sm *sliceMerge) mul() uint64 {
	return 1 << (64 - bits.Len64(sm.width-1))
}

// offsetOf is key k's offset in the slice (the tests').
func (sm *sliceMerge) offsetOf(k uint64) uint64 {
	return k >> (64 - bits.Len64(sm.width-1))
}

// bucketBits is the width of a key's bucket (sliceMerge.count), in bits: 2048 buckets.
const bucketBits = 11

// emit sorts the slice's sightings and hands them over in that order.
func (sm *sliceMerge) emit() {
	keys := sm.sortKeys(len(sm.stage))
	if sm.take != nil {
		sm.emitKeys(keys)
		return
	}
	m, b, stage := sm.m, sm.b, sm.stage
	for len(keys) > 0 {
		l := len(b)
		n := min(len(keys), m.batch-l)
		b = b[:l+n]
		for i, key := range keys[:n] {
			b[l+i] = *sightingAt(stage, key)
		}
		keys = keys[n:]
		if len(b) == m.batch {
			sm.out <- m.tiesInOrder(b)
			b = <-sm.free
		}
	}
	sm.b = b
}

// emitKeys is emit on one core: the matcher takes the sightings where they are, in the keys' order,
// in the batches' bounds. Any sightings of the batch made into b before (send) go first: their times
// are earlier than the slice's, and tiesInOrder orders runs of equal times only, so that a batch
// taken in parts is ordered as it would be whole.
func (sm *sliceMerge) emitKeys(keys []uint64) {
	m := sm.m
	if len(sm.b) > 0 {
		sm.take(m.tiesInOrder(sm.b), nil)
		sm.n, sm.b = sm.n+len(sm.b), sm.b[:0]
	}
	for len(keys) > 0 {
		n := min(len(keys), m.batch-sm.n)
		sm.take(sm.stage, keys[:n])
		if sm.n += n; sm.n == m.batch {
			sm.n = 0
		}
		keys = keys[n:]
	}
}

// sortKeys sorts the slice's n keys (their values below bit 32 distinct and rising: places), counted
// by bucket in count, and returns them sorted (in tmp), their buckets' counts cleared: each key is put
// in its bucket's place (a counting sort of the buckets, which keeps the places' order in a bucket),
// and then each bucket's keys put in order by insertion. A bucket holds about one time at a time
// (1/2048 of the slice, a slice about 2,000 sightings): most keys are in order already. Should the
// insertion move keys more than a few times as many as there are, the rest is sorted by comparison.
func (sm *sliceMerge) sortKeys(n int) []uint64 {
	keys, out, count := sm.keys[:n], sm.tmp[:n], &sm.count
	if n <= 64 { // (most of the buckets empty: by insertion alone)
		*count = [1 << bucketBits]int32{}
		copy(out, keys)
		insertion(out)
		return out
	}
	sum := int32(0)
	for d := 0; d < len(count); d += 8 { // (eight buckets a turn, 3 instructions each: 2,048 for about 2,500 keys)
		c := (*[8]int32)(count[d : d+8])
		c[0], sum = sum, sum+c[0]
		c[1], sum = sum, sum+c[1]
		c[2], sum = sum, sum+c[2]
		c[3], sum = sum, sum+c[3]
		c[4], sum = sum, sum+c[4]
		c[5], sum = sum, sum+c[5]
		c[6], sum = sum, sum+c[6]
		c[7], sum = sum, sum+c[7]
	}
	// Each key to its bucket's next place, without a bounds check: the places of a bucket's keys,
	// from the running sum of the counts before it, are below n (its count was taken of these keys).
	// Four keys a turn through a pointer from one index (11 instructions a key one at a time, 7 here).
	o, kp := unsafe.Pointer(unsafe.SliceData(out)), unsafe.Pointer(unsafe.SliceData(keys))
	i := 0
	for m := n - 3; i < m; i += 4 { // (i+3 below n)
		k := (*[4]uint64)(unsafe.Add(kp, uintptr(i)*8))
		scatterKey(count, o, k[0])
		scatterKey(count, o, k[1])
		scatterKey(count, o, k[2])
		scatterKey(count, o, k[3])
	}
	for ; i < n; i++ {
		scatterKey(count, o, keys[i])
	}
	*count = [1 << bucketBits]int32{}
	insertion(out)
	return out
}

// scatterKey puts key k at its bucket's next place in o (sortKeys' out), counted in c: the bucket's
// count, then the count taken up in memory (one INCL: with the key's store between, the count is read
// again rather than the value loaded reused, which took a copy, an increment and a store, 8
// instructions a key where this takes 6).
func scatterKey(c *[1 << bucketBits]int32, o unsafe.Pointer, k uint64) {
	b := &c[k>>(64-bucketBits)]                          // (its offset's top bits: see mul)
	*(*uint64)(unsafe.Add(o, uintptr(uint32(*b))*8)) = k // (the place, below n, read as unsigned: no sign's extension)
	*b++
}

// insertion sorts keys, nearly in order, by insertion; past a few moves for each key, by comparison.
func insertion(keys []uint64) {
	moves := 0
	for i := 1; i < len(keys); i++ {
		if i = inOrderTo(keys, i); i == len(keys) { // the keys in order: nearly all
			return
		}
		k, j := keys[i], i
		for ; j > 0 && keys[j-1] > k; j-- {
			keys[j] = keys[j-1]
		}
		keys[j] = k
		if moves += i - j; moves > 8*len(keys) {
			slices.Sort(keys)
			return
		}
	}
}

// inOrderTo returns the first i at or past from (from >= 1) whose key is below the one before it,
// len(keys) when there is none: insertion's pass over the keys in order (nearly all of a slice's after
// sortKeys' scatter: about one in a hundred is not), four a turn with their loop's test and the key
// before carried once (8 instructions a key one at a time, about 4 here).
func inOrderTo(keys []uint64, from int) int {
	if from >= len(keys) {
		return from
	}
	top, r := keys[from-1], keys[from:]
	j := 0
	for n := len(r) - 3; j < n; j += 4 {
		k0, k1, k2, k3 := r[j], r[j+1], r[j+2], r[j+3]
		if k0 < top || k1 < k0 || k2 < k1 || k3 < k2 {
			break
		}
		top = k3
	}
	for i := from + j; i < len(keys); i++ {
		if keys[i] < keys[i-1] {
			return i
		}
	}
	return len(keys)
}

// equal hands over every live file's Observations at t0 (a slice one ns wide: no sort), file after
// file, made straight into the batches. It reports false when a file's time after them falls below
// t0: the head tree is to merge the rest, from there (what was handed over is what it would have).
func (sm *sliceMerge) equal(t0 int64) bool {
	for _, f := range sm.live {
		mf := &sm.files[f]
		for {
			c := mf.k
			for c < mf.n && mf.ts[c] == t0 {
				c++
			}
			sm.send(mf, mf.k, c)
			mf.k = c
			if c < mf.n {
				if mf.ts[c] < t0 {
					return false
				}
				break
			}
			i := mf.from + mf.n
			if i == len(mf.obs) {
				break
			}
			sm.m.fillAhead(mf, int(f), i)
		}
	}
	return true
}

// send makes the sightings at places k0 to k1 (excluded) of mf's times ahead straight into the
// batches, and hands over each batch filled.
func (sm *sliceMerge) send(mf *mergeFile, k0, k1 int) {
	m := sm.m
	for k0 < k1 {
		l := len(sm.b)
		n := min(k1-k0, m.batch-sm.n-l)
		sm.b = sm.b[:l+n]
		m.sightAhead(sm.b[l:], mf, k0, k0+n)
		k0 += n
		if sm.n+len(sm.b) == m.batch {
			sm.handOver()
		}
	}
}

// byTree merges what is left of the files through the tree of their heads, a sighting at a time.
func (sm *sliceMerge) byTree() {
	heads, empty := make([]int64, len(sm.files)), make([]bool, len(sm.files))
	for f := range sm.files {
		mf := &sm.files[f]
		if empty[f] = mf.k == mf.n; !empty[f] {
			heads[f] = mf.ts[mf.k]
		}
	}
	ht := newHeadTree(heads, empty)
	for f := ht.top(); f >= 0; f = ht.top() {
		mf := &sm.files[f]
		sm.send(mf, mf.k, mf.k+1)
		k := mf.k + 1
		if k == mf.n {
			i := mf.from + k
			if i == len(mf.obs) {
				mf.k = k
				ht.drop()
				continue
			}
			sm.m.fillAhead(mf, f, i)
			k = 0
		}
		mf.k = k
		ht.advanced(mf.ts[k])
	}
}
