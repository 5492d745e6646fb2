package correlate

import "runtime"

// collectMin is how many Observations make it worth gathering the journeys on two goroutines.
const collectMin = 1 << 16

// collectSplit gathers the journeys (collectJourneys) on two goroutines when there is more than one
// core and enough Observations, and reports whether it did: each takes a share of the files (about
// half the Observations, matcher.shares) and writes their journey ids (disjoint ranges of jOf).
func (m *matcher) collectSplit() bool {
	if runtime.GOMAXPROCS(0) < 2 || m.w.nObs < collectMin || len(m.fp) < 2 {
		return false
	}
	sh := m.shares(2)
	wait := beside(func() { m.collectFiles(sh[1]) })
	m.collectFiles(sh[0])
	wait()
	return true
}

// hopCounts is a list of per-journey counts in id order, added to as journeys close, in blocks of
// hopBlock from a Mapper (nil: the heap), for collectJourneys to lay out in one array. Index 0 is no
// journey's (jHops[j+1] is journey j's).
type hopCounts struct {
	blocks [][]uint32
	cur    *[hopBlock]uint32 // the last block, where the next count goes (its index needs no bounds check)
	n      int
	mp     Mapper
}

const hopBlock = 1 << 16

// grow adds a block (with index 0, left 0, first).
func (h *hopCounts) grow() {
	b := makeBig[uint32](h.mp, hopBlock, hopBlock)
	h.blocks, h.cur = append(h.blocks, b), (*[hopBlock]uint32)(b)
	if h.n == 0 {
		h.n = 1
	}
}

// flat returns the counts in one array of n (from the Mapper; zeros past those added).
func (h *hopCounts) flat(n int) []uint32 {
	out := makeFilled[uint32](h.mp, n, n)
	for k, b := range h.blocks {
		if lo, hi := k*hopBlock, min(n, h.n); lo < hi {
			copy(out[lo:hi], b)
		}
	}
	return out
}

// keepHops adds the hops of journeys from to to-1 (jstate.hops), the next ones in id order, to
// hopsOf: evict calls it for the journeys it closed, run at its end for those still open. It lists
// in outOfOrder those whose hops, as attached, may not be in path order (jOutOfOrder), and those of
// more hops than sortQuick sorts, which the arena sorts in place whatever their order.
func (m *matcher) keepHops(from, to int32) {
	h := &m.hopsOf
	for j := from; j < to; {
		if h.n%hopBlock == 0 {
			h.grow()
		}
		k := h.n % hopBlock
		n := min(hopBlock-k, int(to-j))
		out := h.cur[k : k+n]
		for i := range out {
			js := m.st(j + int32(i))
			out[i] = js.hops
			if js.flags&jOutOfOrder != 0 || js.hops > maxQuickHops { // (few)
				m.outOfOrder = append(m.outOfOrder, j+int32(i))
			}
		}
		h.n += n
		j += int32(n)
	}
}
