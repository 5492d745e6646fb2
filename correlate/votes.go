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
// list only once a second key comes. Its zero value is empty. Its keys are 0 or more.
type tally struct {
	key, n int32
	more   *votes // every key and its count once there are two or more (key and n -1 then)
}

// add counts key k (0 or more) once: in place, without a call, when it is the tally's one key or the
// tally is empty (the first journey of each flow direction took the call: about 100,000 calls on the
// 1 M-frame many-flow set). With two keys or more, key and n are -1, which no k matches and is not
// 0: add tests neither more nor the empty tally's key.
func (t *tally) add(k int) {
	if int(t.key) == k || t.n == 0 {
		t.key = int32(k)
		t.n++
	} else {
		t.addMore(k)
	}
}

// addMore is add when k is not the tally's one key. Not inlined: add, which calls it, stays within
// the inliner's budget (PGO had inlined it into add, which then no caller inlined).
//
//go:noinline
func (t *tally) addMore(k int) {
	switch {
	case t.more != nil:
		t.more.add(k)
	case t.n == 0:
		t.key, t.n = int32(k), 1
	case int(t.key) == k:
		t.n++
	default:
		t.more = &votes{{t.key, t.n}, {int32(k), 1}}
		t.key, t.n = -1, -1
	}
}

// top is votes.top of the tally.
func (t *tally) top() int {
	if t.more == nil {
		if t.n == 0 {
			return -1
		}
		return int(t.key)
	}
	return t.more.top()
}

// topWhere is votes.topWhere of the tally.
func (t *tally) topWhere(keep func(int) bool) int {
	if t.more == nil {
		if t.n == 0 || !keep(int(t.key)) {
			return -1
		}
		return int(t.key)
	}
	return t.more.topWhere(keep)
}
