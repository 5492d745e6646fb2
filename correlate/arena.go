package correlate

import "runtime/debug"

// buildArena lays out every journey's hops contiguously, in path order: nodes in the order the packet
// reached them, and within a node by raw capture time (one clock, so exact).
func (a *analysis) buildArena() {
	m := a.m
	a.jStart, a.jDups = m.jHops, m.jDups // counts, turned into starts below
	m.jHops, m.jDups = nil, nil
	for j := 0; j < a.nJ; j++ {
		a.jStart[j+1] += a.jStart[j]
	}
	a.arena = make([]uint32, a.jStart[a.nJ])
	a.hopPt = make([]uint16, a.jStart[a.nJ])
	a.hopTs = newHopTimes(int(a.jStart[a.nJ]), &m.jT0)
	fill := make([]uint32, a.nJ)
	for f, obs := range a.w.c.Obs {
		for i := range obs {
			g := a.w.fileBase[f] + uint32(i)
			j := m.jOf[g] - 1
			if j < 0 || m.isDup(g) {
				continue
			}
			k := a.jStart[j] + fill[j]
			o := &obs[i]
			a.arena[k], a.hopPt[k] = g, uint16(a.w.srcPoint[o.Source])
			a.hopTs.set(int(k), j, m.corrected(o))
			fill[j]++
		}
	}
	// The matcher's per-observation state is no longer needed.
	m.jOf, m.dup, fill = nil, nil, nil
	if a.opts.Lean {
		debug.FreeOSMemory()
	}
	// Each journey's hops in path order; journeys are independent, so two halves sort side by side.
	mid := a.nJ / 2
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.sortHops(0, mid)
	}()
	a.sortHops(mid, a.nJ)
	<-done
}

// sortHops puts the hops of journeys [from, to) in path order. Within a journey: nodes in the order
// the packet reached them (first sighting in corrected time), and within a node by capture time (one
// clock, so exact). Journeys are short: insertion sorts on the parallel arrays, first by time, then by
// node rank.
func (a *analysis) sortHops(from, to int) {
	swap := func(i, k int) {
		a.arena[i], a.arena[k] = a.arena[k], a.arena[i]
		a.hopPt[i], a.hopPt[k] = a.hopPt[k], a.hopPt[i]
		a.hopTs.swap(i, k)
	}
	var nodes []int
	rankOf := func(k int) int {
		n := a.w.pointNode[a.hopPt[k]]
		for r, x := range nodes {
			if x == n {
				return r
			}
		}
		nodes = append(nodes, n)
		return len(nodes) - 1
	}
	for j := from; j < to; j++ {
		lo, hi := int(a.jStart[j]), int(a.jStart[j+1])
		if hi-lo < 2 {
			continue
		}
		for k := lo + 1; k < hi; k++ {
			for i := k; i > lo && a.hopTs.before(int32(j), i, i-1, a.arena); i-- {
				swap(i, i-1)
			}
		}
		nodes = nodes[:0]
		for k := lo; k < hi; k++ {
			rankOf(k)
		}
		for k := lo + 1; k < hi; k++ {
			for i := k; i > lo && rankOf(i) < rankOf(i-1); i-- {
				swap(i, i-1)
			}
		}
	}
}
