package correlate

import (
	"math"
	"slices"
	"sync/atomic"
)

// Placement on two goroutines. Each places the journeys of half the flows (the flows numbered below
// a split and those from it, which have about as many journeys), in journey order, and counts them on
// its own segments inline; the second's output is then added to the first's. What a journey's
// placement writes, and how the halves give what one goroutine would have:
//   - its status, last and next point (jStatus, jLast, jNext): its own elements;
//   - its flow's counts, TCP sequence state, latencies and per-point tallies: the flow is one half's,
//     placed in journey order as before;
//   - the segments (segs, segDense, and the paths' cache of them with the paths' clean journeys'
//     counts, pathCounts: each half's own): summed (mergeSegs);
//   - the open ends (openEndFinder.found) and the TCP segments the ACKs cleared (ackedMiss): lists
//     in journey order, merged by journey;
//   - the TCP resends (retransJ) and later connections' SYNs (connJ): sets; the packets first seen
//     past a point (enteredAt) and those that vanished while a capture dropped (capDrops.vanished):
//     counts per point, summed;
//   - the open-end finder's caches (anyOf, srcFirstAt): each half makes its own.
//
// Not split: captures with frames cut before their ports (snapCuts), or WireGuard messages no packet
// was tied to (wgStand: the same). A journey that vanished takes the first cut frame (untied message)
// that may be it, so whether a later journey of any flow finds one depends on every earlier journey:
// only placing them all in journey order keeps that.
//
// What the two goroutines write, they write apart: flows in two ranges rather than by turns (a flow's
// accumulator and its directions' dirTallies lie beside the next flow's, in the same cache lines),
// each its own pathCounts (padded), jLast and jNext set to -1 for every journey before they start
// (placement writes them again only for a journey not delivered). A cache line written by both would
// move between the cores at nearly every journey.

// segSplit is how many chunks of segChunk journeys there must be for placement to run on two
// goroutines; a variable for BenchmarkPlacement to compare one with two.
var segSplit = 16

// placedTwo counts the placements placeTwo split, for the tests.
var placedTwo atomic.Int64

// placeTwo places the journeys on two goroutines (see above), when there are two cores or more
// (stageChunk), journeys enough, no cut frames and flows to split; it reports whether it did.
func (pl *placement) placeTwo() bool {
	n := stageChunk(&pl.opts, segChunk)
	if n == 0 || pl.nJ < segSplit*n || pl.capDrop.cuts.at != nil || pl.capDrop.wgLoose != nil {
		return false
	}
	mid, from := splitFlows(pl.flows, pl.jAll)
	if mid == 0 {
		return false
	}
	fillNone(pl.jLast)
	fillNone(pl.jNext)
	pl.hd = newHopDropper(pl, 0, from)
	odd := pl.placingCopy()
	wait := beside(func() { odd.placeHalf(mid, int32(len(pl.flows)), from) })
	pl.placeHalf(0, mid, 0)
	wait()
	pl.addCleanCounts()
	odd.addCleanCounts()
	pl.mergeHalf(odd)
	placedTwo.Add(1)
	return true
}

// splitFlows returns where placeTwo splits the flows: the first flow of the second half, where the
// larger half has the fewest journeys (0 when no split leaves both some), and that half's first
// journey (jAll: the flows' journeys, flowAcc.jAt).
func splitFlows(flows []*flowAcc, jAll []int32) (mid int32, from int) {
	total := 0
	for _, fl := range flows {
		total += int(fl.nC2S + fl.nS2C)
	}
	best, before := total, 0 // the larger half's journeys at the best split; the journeys before fi
	for fi, fl := range flows {
		if larger := max(before, total-before); before > 0 && before < total && larger < best {
			mid, best = int32(fi), larger
		}
		if before >= total-before {
			break // the splits further on are worse
		}
		before += int(fl.nC2S + fl.nS2C)
	}
	if mid == 0 {
		return 0, 0
	}
	from = math.MaxInt
	for _, fl := range flows[mid:] {
		if first := firstJourneyIn(jAll, fl); first >= 0 {
			from = min(from, int(first))
		}
	}
	return mid, from
}

// placeHalf places, in journey order from journey from on, the journeys of the flows numbered from lo
// to hi (not included), and counts them inline. The first half (lo 0) trims the memory as it goes;
// both tell the hop dropper how far they are (every hopDropEvery journeys).
func (pl *placement) placeHalf(lo, hi int32, from int) {
	pl.sa = &segCounter{pl: pl}
	p := &placing{}
	g := 0 // the hop dropper's number for this goroutine
	if lo > 0 {
		g = 1
	}
	fast := pl.cleanRuns()
	for j := from; j < pl.nJ; j++ {
		placed := false
		if fast { // a run of the usual clean journeys (placement.go's loop)
			end := runEnd(j, pl.nJ)
			if j = pl.placeClean(p, j, end, lo, hi); j == end {
				j, placed = end-1, true
			}
		}
		if fi := pl.jFlow[j]; !placed && fi >= lo && fi < hi {
			pl.placeJourney(j, p)
		}
		if lo == 0 {
			pl.w.trimAt(j)
		}
		if pl.hd.every(j) {
			pl.hd.passed(g, j+1)
		}
	}
	pl.hd.passed(g, pl.nJ)
}

// placingCopy returns a copy of pl for the second goroutine: the same stages and tables, read alone,
// and of its own what placing writes beyond its journeys and flows (see above).
func (pl *placement) placingCopy() *placement {
	cd := *pl.capDrop
	cd.vanished = make([]int, len(cd.vanished))
	po := *pl.placementOut
	po.segs, po.retransJ, po.connJ, po.enteredAt, po.ackedMiss = map[[2]int]*segAcc{}, map[int32]bool{}, nil, nil, nil
	if pl.segDense != nil {
		po.segDense = make([]*segAcc, len(pl.segDense))
	}
	oe := *pl.oe
	oe.found = nil
	cp := *pl
	cp.capDrop, cp.placementOut, cp.oe = &cd, &po, &oe
	cp.tallies, cp.lats, cp.pathCounts = nil, nil, newPathCounts(len(pl.pathCounts))
	return &cp
}

// mergeHalf adds to pl what o, the second goroutine's copy, placed.
func (pl *placement) mergeHalf(o *placement) {
	pl.mergeSegs(o)
	for j := range o.retransJ { // a set: its order does not matter
		pl.retransJ[j] = true
	}
	for j := range o.connJ { // likewise
		if pl.connJ == nil {
			pl.connJ = map[int32]bool{}
		}
		pl.connJ[j] = true
	}
	if o.enteredAt != nil {
		if pl.enteredAt == nil {
			pl.enteredAt = make([]int32, len(o.enteredAt))
		}
		for i, n := range o.enteredAt {
			pl.enteredAt[i] += n
		}
	}
	for i, n := range o.capDrop.vanished {
		pl.capDrop.vanished[i] += n
	}
	pl.oe.found = mergeByJourney(pl.oe.found, o.oe.found, func(e openEnd) int32 { return e.j })
	pl.ackedMiss = mergeByJourney(pl.ackedMiss, o.ackedMiss, func(m ackedMiss) int32 { return m.j })
}

// mergeByJourney merges two lists, each in journey order (j), into one in journey order; each
// journey's items are all in one of them.
func mergeByJourney[T any](a, b []T, j func(T) int32) []T {
	if len(b) == 0 {
		return a
	}
	out := make([]T, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if j(b[0]) < j(a[0]) {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	return slices.Concat(out, a, b)
}

// mergeSegs adds the segments counted by o (the second goroutine's copy, placingCopy) to pl's. The
// two counted the journeys of different flows, each in journey order, so the sums are the same as one
// goroutine's; a segment both made keeps the kind of the earlier journey's path (j0), its evidence is
// merged in journey order, and its latencies are added up as one accumulator would have them.
func (pl *placement) mergeSegs(o *placement) {
	for k, t := range o.segs {
		s := pl.segs[k]
		if s == nil {
			pl.segs[k] = t
			if pl.segDense != nil {
				pl.segDense[t.from*len(pl.w.c.Points)+t.to] = t
			}
			continue
		}
		if t.j0 < s.j0 {
			s.kind, s.unplaced, s.order, s.j0 = t.kind, t.unplaced, t.order, t.j0
		}
		s.packets += t.packets
		s.delivered += t.delivered
		s.lost += t.lost
		s.notCaptured += t.notCaptured
		s.negative += t.negative
		s.lat.merge(&t.lat)
		for f, n := range t.flows { // the flows are the counters' own: each in one of them
			s.flows[f] += n
		}
		s.evidence = mergeByJourney(s.evidence, t.evidence, func(e lossEv) int32 { return e.j })
		s.lostDF += t.lostDF
		s.lostV6 += t.lostV6
		s.refused += t.refused
		s.lostMaxLen = max(s.lostMaxLen, t.lostMaxLen)
		s.passMaxLen = max(s.passMaxLen, t.passMaxLen)
		s.holes += t.holes
	}
}
