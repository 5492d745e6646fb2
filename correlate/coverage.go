package correlate

import (
	"errors"
	"math"
	"math/bits"
	"time"
	"unsafe"

	"github.com/calipath/calipath/decode"
)

// coverage is the stage after matching that says when each capture ran, in corrected time. pcap files
// record no start or stop time, so a capture's span is known only from its frames. The captures of one
// node are taken to run together (they are started by one script or one person): a point covers its
// node's span. A capture without a single frame ran while the others did.
type coverage struct {
	first, last       []int64 // per point: the span its capture is taken to cover (its node's)
	ownFirst, ownLast []int64 // per point: its own first and last frame
	// nodeEmpty marks nodes whose captures hold no frame at all: taken to have run while the others did
	nodeEmpty []bool
	// stop says, per point, why its capture is taken to cover its own frames' span only, at one end or
	// both (stopCut, stopSkipped, startLate; 0: its node's span)
	stop []uint8
	// gaps are, by point, the packets due there outside its capture's span, unseen (gapsFromPaths)
	gaps map[int]*gapCount
	// known marks the points whose files state when their capture ran (fileSpans); nil when none
	known []bool
}

// newCoverage works out the coverage of w's points with the clocks' corrections.
func newCoverage(w *world, clocks []clockModel) coverage {
	np := len(w.c.Points)
	c := coverage{first: make([]int64, np), last: make([]int64, np), ownFirst: make([]int64, np),
		ownLast: make([]int64, np), nodeEmpty: make([]bool, len(w.nodes)), stop: make([]uint8, np)}
	lo, hi := int64(1<<62), int64(-1<<62)
	for i, p := range w.c.Points {
		if p.Traffic.Frames == 0 {
			continue
		}
		cm := &clocks[w.pointNode[i]]
		c.ownFirst[i], c.ownLast[i] = cm.correct(p.Traffic.First), cm.correct(p.Traffic.Last)
		lo, hi = min(lo, c.ownFirst[i]), max(hi, c.ownLast[i])
	}
	nodeLo := make([]int64, len(w.nodes))
	nodeHi := make([]int64, len(w.nodes))
	for n := range nodeLo {
		nodeLo[n], nodeHi[n] = int64(1<<62), int64(-1<<62)
	}
	for i, p := range w.c.Points {
		if p.Traffic.Frames > 0 {
			n := w.pointNode[i]
			nodeLo[n], nodeHi[n] = min(nodeLo[n], c.ownFirst[i]), max(nodeHi[n], c.ownLast[i])
		}
	}
	for n := range nodeLo {
		c.nodeEmpty[n] = nodeHi[n] < nodeLo[n]
	}
	for i, p := range w.c.Points {
		n := w.pointNode[i]
		switch {
		case p.Traffic.Frames > 0:
			c.first[i], c.last[i] = nodeLo[n], nodeHi[n]
		case nodeHi[n] >= nodeLo[n]:
			c.first[i], c.last[i] = nodeLo[n], nodeHi[n]+coverageGrace
		case hi >= lo:
			c.first[i], c.last[i] = lo, hi+coverageGrace
		}
	}
	c.fileSpans(w, clocks)
	c.cutFiles(w, clocks)
	return c
}

// covered reports whether point p's capture covers corrected time t.
func (c *coverage) covered(p int, t int64) bool {
	return t >= c.first[p] && t+coverageGrace <= c.last[p]
}

// Why a point's capture is taken to have stopped before its node's other captures (or started after
// them), so that it covers its own frames' span only (coverage.stop).
const (
	stopCut     = 1 << iota // its files were cut short (decode.FileInfo.Cut) or could not be read to the end
	stopSkipped             // packets crossed it unseen after its last frame (stopsFromSkips)
	startLate               // packets crossed it unseen before its first frame
)

// cutFiles ends the coverage of the points that only files cut short carry (decode.FileInfo.Cut, or
// unreadable past some frame) at the last frame of those files: such a capture did not run on.
func (c *coverage) cutFiles(w *world, clocks []clockModel) {
	stop := map[int]int64{} // point → the latest last frame of the cut files carrying it
	whole := map[int]bool{} // points a file not cut carries
	for _, fi := range w.c.Files {
		cut := fi.Cut || fi.Err != nil && !errors.Is(fi.Err, decode.ErrStopped)
		last := int64(-1 << 62)
		for _, tr := range fi.Traffic {
			last = max(last, tr.Last)
		}
		for src, tr := range fi.Traffic {
			if int(src) >= len(w.srcPoint) || tr.Frames == 0 {
				continue
			}
			p := w.srcPoint[src]
			if !cut {
				whole[p] = true
				continue
			}
			t := clocks[w.pointNode[p]].correct(last)
			if s, ok := stop[p]; !ok || t > s {
				stop[p] = t
			}
		}
	}
	for p, t := range stop {
		if !whole[p] && t < c.last[p] {
			c.last[p] = t
			c.stop[p] |= stopCut
		}
	}
}

// stopWindow is how far inside a point's own span stopsFromSkips looks for packets that crossed it
// seen, against those that crossed it unseen.
const stopWindow = int64(time.Second)

// skipCounts are stopsFromSkips' counts at one point: packets that crossed it unseen after its last
// frame, before its first, and, within stopWindow inside its span, that crossed it seen or unseen.
type skipCounts struct {
	after, before, seen, unseen int32
}

// stopsFromSkips ends a point's coverage at its last frame (or starts it at its first) when packets
// crossed it unseen after (before) it, within its node's span: seen on their path before and after it
// (or, at a source pod's veth, at two points after it) but not there, while in the second inside its span the packets that crossed it
// were seen there (nine in ten at least). A capture that ran sees what crosses its interface (what it
// says it dropped aside: capdrop.go), so it had stopped; whereas a point that saw nothing after some
// moment because nothing came is still taken to have run with its node's other captures. A point whose
// files state when its capture ran (fileSpans) is left as they say. It reads the
// paths, so it runs after them, before placement.
func (c *coverage) stopsFromSkips(a *analysis) {
	n := c.skipCounts(a)
	for p, k := range n {
		if k.unseen*10 > k.seen {
			continue // it misses packets while it runs: not on their way, or not a stop
		}
		if k.after > 0 {
			c.last[p] = min(c.last[p], c.ownLast[p])
			c.stop[p] |= stopSkipped
		}
		if k.before > 0 {
			c.first[p] = max(c.first[p], c.ownFirst[p])
			c.stop[p] |= startLate
		}
	}
}

// skipCounts counts the journeys at the candidate points of their paths (countSkips), by point: nil
// when no path has a candidate.
func (c *coverage) skipCounts(a *analysis) []skipCounts {
	w := a.w
	cand := make([]bool, len(c.first))
	any := false
	for p := range cand {
		cand[p] = w.c.Points[p].Traffic.Frames > 0 && (c.known == nil || !c.known[p]) &&
			(c.ownLast[p]+coverageGrace < c.last[p] || c.ownFirst[p]-coverageGrace > c.first[p])
		any = any || cand[p]
	}
	if !any {
		return nil
	}
	at := c.candidatesOnPaths(a, cand)
	if at == nil {
		return nil
	}
	sk := skipping{n: make([]skipCounts, len(c.first)), pieces: map[int32]bool{}}
	for _, ev := range a.journeys.gso {
		sk.pieces[ev.child] = true
	}
	if stageChunk(&a.opts, 1) > 0 && a.nJ > 1 {
		// On more than one core, each half of the journeys is counted on a goroutine of its own, with
		// counts of its own: the counts are integers, summed.
		mid := a.nJ / 2
		sk2 := skipping{n: make([]skipCounts, len(c.first)), pieces: sk.pieces}
		wait := beside(func() { c.skipsIn(a, at, &sk2, mid, a.nJ) })
		c.skipsIn(a, at, &sk, 0, mid)
		wait()
		for p, k := range sk2.n {
			n := &sk.n[p]
			n.after, n.before, n.seen, n.unseen = n.after+k.after, n.before+k.before, n.seen+k.seen, n.unseen+k.unseen
		}
	} else {
		c.skipsIn(a, at, &sk, 0, a.nJ)
	}
	return sk.n
}

// skipsIn counts journeys [from, to) at the candidate points at on their paths (countSkips).
func (c *coverage) skipsIn(a *analysis, at *stopCands, sk *skipping, from, to int) {
	fast := cleanJourneys && len(sk.pieces) == 0 && !a.w.wgOn // (skipsClean's conditions)
	for j := from; j < to; j++ {
		if fast {
			// a run of journeys up to the next trimAt (within one block of t0: timesBlock is a multiple of
			// trimRun) counted by skipsClean, up to the first it leaves to countSkips
			end := min(to, (j|(trimRun-1))+1)
			if j = skipsClean(a, at, sk.n, j, end); j == end {
				a.w.trimAt(j - 1)
				j--
				continue
			}
		}
		if fi := a.jFlow[j]; fi >= 0 {
			if i := at.of[2*int(fi)+int(a.jDir[j])]; i > 0 {
				c.countSkips(a, j, a.pathOf(a.flows[fi], a.jDir[j]), at.lists[i-1], sk)
			}
		}
		a.w.trimAt(j)
	}
}

// A run of skipsClean's lies in one block of t0.
var _ = [1]struct{}{}[timesBlock%trimRun]

// skipsClean is countSkips for journeys j to end-1 (in one block of t0), while they have no candidate
// point, are not near any candidate's capture's ends (countSkips' near), or are clean (countSkips'
// clean journey: counted by skipTables.clean, an ICMP error not). It returns the first journey that is
// none of these (end when none), which countSkips counts. For a run of journeys without a WireGuard
// device captured and without pieces of splits (skipping.pieces), with cleanJourneys; its loop keeps
// the journeys' tables in registers.
func skipsClean(a *analysis, at *stopCands, n []skipCounts, j, end int) int {
	blk := j &^ (timesBlock - 1)
	jFlow, jDir, jStart := a.jFlow[blk:end], a.jDir[blk:end], a.jStart[blk:end+1]
	t0s := a.hopTs.t0.blocks[blk/timesBlock][:end-blk]
	of, paths := at.of, at.paths
	tb := &skipTables{arena: a.arena, hopPt: a.hopPt, dt: a.hopTs.dt, blockObs: a.w.blockObs, n: n, icmp: len(a.icmpJ) > 0}
	for i := j - blk; i < len(jFlow); i++ {
		fi := jFlow[i]
		if fi < 0 {
			continue
		}
		x := of[2*int(fi)+int(jDir[i])]
		if x <= 0 {
			continue
		}
		if sp, t0 := &paths[x-1], t0s[i]; sp.near(t0) && !tb.clean(sp, jStart[i], jStart[i+1], t0) {
			return blk + i
		}
	}
	return end
}

// near reports whether a journey first seen at t0 is near a candidate's capture's ends (countSkips'
// near: it is counted): t0 > k.late or t0 < k.early for some candidate k, which is t0 outside
// [quietFrom, quietTo] (see quiet).
func (sp *skipPath) near(t0 int64) bool {
	return t0 < sp.quietFrom || t0 > sp.quietTo
}

// quiet sets quietFrom and quietTo from the candidates: the highest early and the lowest late
// (math.MinInt64 and math.MaxInt64 with none).
func (sp *skipPath) quiet() {
	sp.quietFrom, sp.quietTo = math.MinInt64, math.MaxInt64
	for _, k := range sp.cands {
		sp.quietFrom, sp.quietTo = max(sp.quietFrom, k.early), min(sp.quietTo, k.late)
	}
}

// skipTables are the tables skipTables.clean reads, and the counts it adds to. icmp: some journey
// with a flow is an ICMP error (flowsOut.icmpJ: those whose first sighting, the packet's hop without a
// WireGuard device captured, is one); when none is, clean reads no journey's first Observation.
type skipTables struct {
	arena    []uint32
	hopPt    []uint16
	dt       []uint32
	blockObs [][]decode.Observation
	n        []skipCounts
	icmp     bool
}

// clean counts the journey with hops s to e-1, first seen at t0, near a candidate of its path sp, as
// countSkips' clean shortcut does when it is clean (and not an ICMP error: not counted), and reports
// whether it was; it counts nothing otherwise. (Not inlined: skipsClean's loop keeps its values in
// registers.)
//
//go:noinline
func (tb *skipTables) clean(sp *skipPath, s, e uint32, t0 int64) bool {
	pts := sp.pts
	if !slotsHold(uint(s), uint(e), len(pts), uint(len(tb.hopPt))) { // (hops s to e-1 in hopPt: as many as pts)
		return false
	}
	if sp.key.n != 0 { // (4 to 8 points: two words compared, read through a pointer)
		if !sp.key.atHops(unsafe.Add(unsafe.Pointer(unsafe.SliceData(tb.hopPt)), uintptr(s)*2), len(pts)) {
			return false
		}
	} else {
		for k, pt := range tb.hopPt[s:e] {
			if int(pt) != pts[k] {
				return false
			}
		}
	}
	d := tb.dt[e-1]
	if d == dtBig {
		return false
	}
	if tb.icmp && tb.blockObs[tb.arena[s]>>16][tb.arena[s]&0xffff].Flags&decode.FlagICMPError != 0 {
		return true // (pktHop: the first hop, with no WireGuard device captured) not counted
	}
	tEnd := t0 + int64(d)
	for _, k := range sp.cands {
		if t0 > k.late || tEnd < k.early {
			tb.n[k.p].seen++
		}
	}
	return true
}

// skipping is stopsFromSkips' working state: the counts by point, and the journeys that began as
// pieces of a split, as merges or as the later half of a late join (they enter their path mid-way).
type skipping struct {
	n      []skipCounts
	pieces map[int32]bool
}

// stopCands are, by flow direction (2*flow + direction), the indexes on its path of the candidate
// points: of[i] is 1 + the index of the list in lists, 0 for none.
type stopCands struct {
	of    []int32
	lists [][]int
	paths []skipPath // by list, as lists: what skipsClean reads
}

// skipPath is a candidate list (stopCands) as skipsClean reads it: its path's points, and each
// candidate's point with the times countSkips tests a journey's first and last sightings against.
type skipPath struct {
	pts   []int
	key   hopsKey // pts as a clean journey's hops' points lie in hopPt
	cands []skipCand
	// a first sighting t0 is near some candidate (near) exactly when it is below the highest early or
	// above the lowest late: those two, worked out once a path (quiet; with no candidate, none is near)
	quietFrom, quietTo int64
}

// skipCand is a candidate point p of a skipPath: late is its capture's last frame less stopWindow,
// early its first frame plus stopWindow.
type skipCand struct {
	p           int
	late, early int64
}

// candidatesOnPaths lists the candidate points on each flow direction's path: points with a point
// before them, or the first point when it is a pod's veth (what the pod sends crosses it). Paths
// longer than 64 points are left out (countSkips keeps a path's points in a bit set). It returns nil
// when no path has a candidate.
func (c *coverage) candidatesOnPaths(a *analysis, cand []bool) *stopCands {
	// flows share paths: each path's list is made once, its index + 1 (0: none) by path index, -1
	// while not made
	done := make([]int32, len(a.paths))
	for i := range done {
		done[i] = -1
	}
	at := &stopCands{of: make([]int32, 2*len(a.flows))}
	for fi, fl := range a.flows {
		for d, x := range fl.pathAt {
			pi := a.paths[x]
			if pi == nil || len(pi.points) < 2 || len(pi.points) > 64 {
				continue
			}
			i := done[x]
			if i < 0 {
				i = 0
				var ks []int
				for k, p := range pi.points[:len(pi.points)-1] {
					if cand[p] && (k > 0 || a.w.pointRole[p] == decode.RolePodVeth) {
						ks = append(ks, k)
					}
				}
				if ks != nil {
					sp := skipPath{pts: pi.points, key: hopsKeyOf(pi.points)}
					for _, k := range ks {
						p := pi.points[k]
						sp.cands = append(sp.cands, skipCand{p: p, late: c.ownLast[p] - stopWindow, early: c.ownFirst[p] + stopWindow})
					}
					sp.quiet()
					at.lists, at.paths = append(at.lists, ks), append(at.paths, sp)
					i = int32(len(at.lists))
				}
				done[x] = i
			}
			at.of[2*fi+d] = i
		}
	}
	if at.lists == nil {
		return nil
	}
	return at
}

// sameNodeGrace is how much earlier than point p's first frame the sighting at hop index h must be
// to come before it: nothing when both are on one node (one clock), coverageGrace across nodes.
func sameNodeGrace(a *analysis, p, h int) int64 {
	if a.w.pointNode[a.hopPt[h]] == a.w.pointNode[p] {
		return 0
	}
	return coverageGrace
}

// countSkips counts journey j at the candidate points ks of its path pi (stopsFromSkips).
func (c *coverage) countSkips(a *analysis, j int, pi *pathInfo, ks []int, sk *skipping) {
	t0 := a.hopTs.t0.at(j)
	near := false
	for _, k := range ks {
		p := pi.points[k]
		near = near || t0 > c.ownLast[p]-stopWindow || t0 < c.ownFirst[p]+stopWindow
	}
	if !near || len(sk.pieces) != 0 && sk.pieces[int32(j)] {
		return
	}
	n := sk.n
	base, h := int(a.jStart[j]), a.hops(j)
	if o, _ := a.obs(a.w.pktHop(h)); o.Flags&decode.FlagICMPError != 0 {
		return // sent by whatever node refused a packet, anywhere on the path
	}
	hops, pts, k := a.hopPt[base:base+len(h)], pi.points, 0
	if len(hops) == len(pts) { // most journeys: a hop at each of the path's points, in order (clean)
		for k < len(pts) && int(hops[k]) == pts[k] {
			k++
		}
	}
	tEnd := a.hopTs.atFrom(t0, base+len(h)-1)
	if k == len(pts) && cleanJourneys {
		// Clean: at each candidate (none is the path's last point: candidatesOnPaths) it was seen,
		// and at a point before it and one after it (at the first, at two after it), so it counts as
		// seen there unless it lies well inside the point's span (the loop below, for every bit set).
		for _, k := range ks {
			if p := pts[k]; t0 > c.ownLast[p]-stopWindow || tEnd < c.ownFirst[p]+stopWindow {
				n[p].seen++
			}
		}
		return
	}
	var seen uint64
	i := -1
	for _, pt := range hops {
		// pi.indexAfter(pt, i), its usual case (the next point on the path) in the loop, the path's
		// points in registers rather than read through pi at each hop
		if p := int(pt); uint(i+1) < uint(len(pts)) && pts[i+1] == p {
			i++
		} else {
			i = pi.index(p)
		}
		if i >= 0 {
			seen |= 1 << (uint(i) & 63) // i < 64 (candidatesOnPaths): no test for a wider shift
		}
	}
	for _, k := range ks {
		p := pi.points[k]
		crossed := seen>>(k+1) != 0 && (k == 0 && bits.OnesCount64(seen) >= 2 || seen&(1<<k-1) != 0)
		here := seen>>k&1 != 0
		switch {
		case !crossed && !here || t0 <= c.ownLast[p]-stopWindow && tEnd >= c.ownFirst[p]+stopWindow:
		case here:
			n[p].seen++
		case t0 > c.ownLast[p]:
			if t0 <= c.last[p] { // within its node's span: not a frame whose time lies
				n[p].after++
			}
		case tEnd < c.ownFirst[p] || k == 0 && t0 < c.ownFirst[p]-sameNodeGrace(a, p, base):
			// Before its first frame: the whole journey, or at a source pod's veth (every sighting is
			// past it, so it crossed the veth before its first sighting) its first sighting.
			if min(tEnd, t0) >= c.first[p] {
				n[p].before++
			}
		default:
			n[p].unseen++
		}
	}
}

// nodeFirst and nodeLast are the span of point p's node's captures: their earliest and latest frames.
func (c *coverage) nodeFirst(w *world, p int) int64 {
	t := c.ownFirst[p]
	for q, n := range w.pointNode {
		if n == w.pointNode[p] && w.c.Points[q].Traffic.Frames > 0 {
			t = min(t, c.ownFirst[q])
		}
	}
	return t
}

func (c *coverage) nodeLast(w *world, p int) int64 {
	t := c.ownLast[p]
	for q, n := range w.pointNode {
		if n == w.pointNode[p] && w.c.Points[q].Traffic.Frames > 0 {
			t = max(t, c.ownLast[q])
		}
	}
	return t
}
