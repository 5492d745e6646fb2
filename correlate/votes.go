package correlate

import "math"

// votes counts how often each small integer (a node, a point) was seen: a short list, searched
// linearly (a flow has a handful of candidates; cheaper than a map per flow).
type votes []vote

// vote is one key's count: 8 bytes, as each flow holds up to eight lists of them until its paths are
// built (pathVotes). Keys are nodes, points or TTLs; a count stops at 2^31-1 (addN).
type vote struct{ key, n int32 }

func (v *votes) add(k int) { v.addN(k, 1) }

// addN counts key k n times.
func (v *votes) addN(k, n int) {
	for i := range *v {
		if int((*v)[i].key) == k {
			(*v)[i].n = int32(min(int64((*v)[i].n)+int64(n), math.MaxInt32))
			return
		}
	}
	*v = append(*v, vote{int32(k), int32(min(int64(n), math.MaxInt32))})
}

// top returns the most frequent key, the lowest on a tie; -1 when there is none.
func (v votes) top() int {
	best, bn := int32(-1), int32(0)
	for _, c := range v {
		if c.n > bn || (c.n == bn && c.key < best) {
			best, bn = c.key, c.n
		}
	}
	return int(best)
}

// topWhere is top among the keys for which keep holds.
func (v votes) topWhere(keep func(int) bool) int {
	best, bn := int32(-1), int32(0)
	for _, c := range v {
		if keep(int(c.key)) && (c.n > bn || (c.n == bn && c.key < best)) {
			best, bn = c.key, c.n
		}
	}
	return int(best)
}

// tally is votes for a list that mostly holds one key: that key and its count in place, the full
// list (in its direction's dirRare.more) only once a second key comes. Its zero value is empty. Its
// keys are 0 or more.
type tally struct{ key, n int32 } // key and n -1: the keys are in the list

// add counts key k (0 or more) once in place and reports true when it is the tally's one key or
// the tally is empty; else it reports false, and the caller counts k with dirVotes.addMore. Inlined:
// the usual vote takes no call (the first journey of each flow direction took one before the
// tally's first key was taken in place: about 100,000 calls on the 1 M-frame many-flow set). With
// two keys or more, key and n are -1, which no k matches and is not 0: add tests neither the list
// nor the empty tally's key.
func (t *tally) add(k int) bool {
	if int(t.key) == k || t.n == 0 {
		t.key = int32(k)
		t.n++
		return true
	}
	return false
}

// addMore counts key k once on tally i (tSrc…tDstPod) when tally.add did not. Not inlined: a call
// where add is not enough (PGO would inline it into each of votePath's votes).
//
//go:noinline
func (v *dirVotes) addMore(i int, k int) {
	switch t := &v.tl[i]; {
	case t.n < 0:
		v.rare.more[i].add(k)
	case t.n == 0:
		t.key, t.n = int32(k), 1
	case int(t.key) == k:
		t.n++
	default:
		v.rareOf().more[i] = votes{{t.key, t.n}, {int32(k), 1}}
		t.key, t.n = -1, -1
	}
}

// top is votes.top of tally i.
func (v *dirVotes) top(i int) int {
	t := v.tl[i]
	if t.n < 0 {
		return v.rare.more[i].top()
	}
	if t.n == 0 {
		return -1
	}
	return int(t.key)
}

// topWhere is votes.topWhere of tally i.
func (v *dirVotes) topWhere(i int, keep func(int) bool) int {
	t := v.tl[i]
	if t.n < 0 {
		return v.rare.more[i].topWhere(keep)
	}
	if t.n == 0 || !keep(int(t.key)) {
		return -1
	}
	return int(t.key)
}
