package correlate

import "runtime/debug"

// arenaOut is the arena stage's output: every journey's hops laid out in one array, in path order,
// with each slot's point and corrected time, and the duplicates of each journey's first sighting.
type arenaOut struct {
	jStart []uint32 // hops of journey j: arena[jStart[j]:jStart[j+1]] (global observation ids, in path order)
	arena  []uint32
	hopPt  []uint16 // the point of each arena slot (until placement is done: dropHopDetail)
	hopTs  hopTimes // the corrected time of each arena slot (its slots' times likewise; t0 stays)
	t0     times    // each journey's first sighting in corrected time, which hopTs counts from
	jDups  map[int32]int
}

// dropHopDetail drops each arena slot's point and corrected time (6 bytes a hop) once placement, their
// last reader, is done, before the flows are written out (the memory peak of many flows). The arena's
// hops and the journeys' first sightings (t0) stay: the output and FlowJourneys read those.
func (ar *arenaOut) dropHopDetail() {
	ar.hopPt = nil
	ar.hopTs.dt, ar.hopTs.big = nil, nil
}

// hops returns journey j's hops (global observation ids), in path order.
func (ar *arenaOut) hops(j int) []uint32 { return ar.arena[ar.jStart[j]:ar.jStart[j+1]] }

// buildArena lays out the nJ journeys' hops contiguously, in path order: nodes in the order the packet
// reached them, and within a node by raw capture time (one clock, so exact). It takes the matcher's
// per-journey counts and times and drops its per-observation state (returning the memory to the
// system when lean): the matcher is not needed after it.
func buildArena(w *world, m *matcher, nJ int, lean bool) *arenaOut {
	ar := &arenaOut{t0: m.jT0}
	ar.jStart, ar.jDups = m.jHops, m.jDups // counts, turned into starts below
	m.jHops, m.jDups, m.jT0 = nil, nil, times{}
	for j := 0; j < nJ; j++ {
		ar.jStart[j+1] += ar.jStart[j]
	}
	ar.arena = make([]uint32, ar.jStart[nJ])
	ar.hopPt = make([]uint16, ar.jStart[nJ])
	ar.hopTs = newHopTimes(int(ar.jStart[nJ]), &ar.t0)
	fill := make([]uint32, nJ)
	for f, obs := range w.c.Obs {
		for i := range obs {
			g := w.fileBase[f] + uint32(i)
			j := m.jOf[g] - 1
			if j < 0 || m.isDup(g) {
				continue
			}
			k := ar.jStart[j] + fill[j]
			o := &obs[i]
			ar.arena[k], ar.hopPt[k] = g, uint16(w.srcPoint[o.Source])
			ar.hopTs.set(int(k), j, m.corrected(o))
			fill[j]++
		}
	}
	// The matcher's per-observation state is no longer needed.
	m.jOf, m.dup, fill = nil, nil, nil
	if lean {
		debug.FreeOSMemory()
	}
	// Each journey's hops in path order; journeys are independent, so two halves sort side by side.
	mid := nJ / 2
	done := make(chan struct{})
	go func() {
		defer close(done)
		ar.sortHops(w, 0, mid)
	}()
	ar.sortHops(w, mid, nJ)
	<-done
	return ar
}

// sortHops puts the hops of journeys [from, to) in path order. Within a journey: nodes in the order
// the packet reached them (first sighting in corrected time), and within a node by capture time (one
// clock, so exact). Journeys are short: insertion sorts on the parallel arrays, first by time, then by
// node rank.
func (a *arenaOut) sortHops(w *world, from, to int) {
	swap := func(i, k int) {
		a.arena[i], a.arena[k] = a.arena[k], a.arena[i]
		a.hopPt[i], a.hopPt[k] = a.hopPt[k], a.hopPt[i]
		a.hopTs.swap(i, k)
	}
	var nodes []int
	rankOf := func(k int) int {
		n := w.pointNode[a.hopPt[k]]
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

// pointOf returns the point of global observation g.
func (w *world) pointOf(g uint32) int {
	o, _ := w.obsAt(g)
	return w.srcPoint[o.Source]
}
