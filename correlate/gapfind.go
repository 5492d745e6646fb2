package correlate

import (
	"math"
	"math/bits"
	"time"

	"github.com/calipath/calipath/decode"
)

// A capture's span is known from its file when the file says it (pcapng interface statistics:
// isb_starttime and isb_endtime), otherwise only from its frames. A quiet interface's frames may
// begin or end with traffic of its own (a router solicitation when the link came up, ARP, neighbour
// discovery, a keepalive), so the span of all frames says little of when a capture ran against the
// others. What matters is whether packets calipath follows were due at the point at a moment its
// capture shows no sign of running: their verdict there (lost, not captured) rests on whether it ran.
// gapsFromPaths counts those packets per point (capture-gap).

// gapSpan is what point p's capture is taken to cover, in corrected time (coverage: its node's span,
// its own frames' when it is shown to have stopped or started late, its files' own start and stop when
// they state them: known).
func (a *analysis) gapSpan(p int) (first, last int64, known bool) {
	c := &a.cov
	return c.first[p], c.last[p], c.known != nil && c.known[p]
}

// fileSpans sets the coverage of the points whose files all state when their capture ran (fileSpan)
// to that span, and marks them known: the file's word, not the assumption that a node's captures
// ran together.
func (c *coverage) fileSpans(w *world, clocks []clockModel) {
	for p, pt := range w.c.Points {
		if pt.Traffic.Frames == 0 {
			continue
		}
		if f, l, ok := fileSpan(w, p); ok {
			if c.known == nil {
				c.known = make([]bool, len(c.first))
			}
			cm := &clocks[w.pointNode[p]]
			c.first[p], c.last[p], c.known[p] = cm.correct(f), cm.correct(l), true
		}
	}
}

// fileSpan is the span (raw capture time) that the pcapng interface statistics of every file carrying
// point p state (isb_starttime to isb_endtime); ok is false when some file states none, or when the
// span does not hold the point's own frames (a capture has no frame from when it did not run: the
// times are wrong then; dumpcap 4.0's, written in microseconds whatever the interface's if_tsresol,
// decode already reads as microseconds, see decode.settleStatsTimes).
func fileSpan(w *world, p int) (first, last int64, ok bool) {
	first, last = int64(1<<62), int64(-1<<62)
	for _, s := range w.c.Points[p].Sources {
		if int(s) >= len(w.c.Sources) {
			return 0, 0, false
		}
		src := w.c.Sources[s]
		if int(src.File) >= len(w.c.Files) {
			return 0, 0, false
		}
		found := false
		for _, st := range w.c.Files[src.File].IfStats[int(src.Iface)] {
			if st.Start > 0 && st.End >= st.Start {
				first, last, found = min(first, st.Start), max(last, st.End), true
			}
		}
		if !found {
			return 0, 0, false
		}
	}
	tr := &w.c.Points[p].Traffic
	return first, last, last >= first && first <= tr.First+fileSpanSlack && last >= tr.Last-fileSpanSlack
}

// fileSpanSlack is how far a point's frames may lie outside the span its files state (the statistics
// are taken a moment before or after the last frame is written).
const fileSpanSlack = int64(time.Second)

// gapCount is what gapsFromPaths found at one point: the packets due there outside its span, not
// seen there, before its span and after it, how far outside the farthest was, their flows, and the
// first few of them.
type gapCount struct {
	before, after int
	early, late   int64 // the farthest such packet's time before the span's start, after its end (ns)
	flows         map[int32]bool
	js            []int32
}

// gapPath is one path's points to look at for gaps (their indexes on it), and the latest start and
// earliest end of their spans: a journey inside both is inside every one of them.
type gapPath struct {
	ks                []int
	maxFirst, minLast int64
}

// gapsFromPaths counts, per point, the journeys on a path through it that were not seen there and
// were due there outside its span (gapDue): they crossed it, seen before and after it on their path
// (at a path's first point: after it), or were seen last at the point just before it. It reads the
// paths and the hops' points and times, so it runs after the paths, before placement drops them. On
// more than one core, with enough journeys (gapSplit), it counts them in two halves side by side.
func (c *coverage) gapsFromPaths(a *analysis) {
	mid := 0 // one pass
	if k := stageChunk(&a.opts, gapSplit); k > 0 && a.nJ >= 2*k {
		mid = a.nJ / 2
	}
	c.gapsSplitAt(a, mid)
}

// gapSplit is the least journeys each of gapsFromPaths' two goroutines counts (Options.chunk, for
// tests, sets it): fewer are counted in one pass.
const gapSplit = 1 << 14

// gapsSplitAt is gapsFromPaths with the journeys from mid on counted on a goroutine of their own
// (none: mid <= 0 or mid >= the journeys).
func (c *coverage) gapsSplitAt(a *analysis, mid int) {
	np := len(c.first)
	first, last := make([]int64, np), make([]int64, np)
	for p := range np {
		if a.w.c.Points[p].Traffic.Frames > 0 {
			first[p], last[p], _ = a.gapSpan(p)
		}
	}
	// flows share paths: each path's gapPath is made once, by path index (made: whether it was)
	by, made := make([]*gapPath, len(a.paths)), make([]bool, len(a.paths))
	of := make([]*gapPath, 2*len(a.flows))
	for fi, fl := range a.flows {
		for d, x := range fl.pathAt {
			pi := a.paths[x]
			if pi == nil || len(pi.points) < 2 || len(pi.points) > 64 {
				continue
			}
			gp := by[x]
			if !made[x] {
				gp = &gapPath{maxFirst: -1 << 62, minLast: 1 << 62}
				for k, p := range pi.points {
					if a.w.c.Points[p].Traffic.Frames > 0 {
						gp.ks = append(gp.ks, k)
						gp.maxFirst, gp.minLast = max(gp.maxFirst, first[p]), min(gp.minLast, last[p])
					}
				}
				if gp.ks == nil {
					gp = nil
				}
				by[x], made[x] = gp, true
			}
			of[2*fi+d] = gp
		}
	}
	in := gapBounds{from: math.MinInt64, to: math.MaxInt64, ok: a.hopTs.bigNone()}
	for _, gp := range by {
		if gp != nil {
			in.from, in.to = max(in.from, gp.maxFirst-coverageGrace), min(in.to, gp.minLast+coverageGrace)
		}
	}
	pieces := map[int32]bool{}
	for _, ev := range a.journeys.gso {
		pieces[ev.child] = true
	}
	c.gaps = map[int]*gapCount{}
	if mid <= 0 || mid >= a.nJ {
		c.gapsIn(a, of, in, pieces, first, last, c.gaps, 0, a.nJ)
		return
	}
	// On more than one core, the journeys after mid are counted on a goroutine of their own, into
	// counts of their own, joined after to those before (joinGaps) as one pass would have counted them:
	// gapDue reads only what the stages before settled (the paths, the arena, the coverage, the
	// clocks) and writes only the counts it is given; trimAt is safe from several goroutines
	// (stopsFromSkips' halves call it too).
	second := map[int]*gapCount{}
	wait := beside(func() { c.gapsIn(a, of, in, pieces, first, last, second, mid, a.nJ) })
	c.gapsIn(a, of, in, pieces, first, last, c.gaps, 0, mid)
	wait()
	joinGaps(c.gaps, second)
}

// joinGaps adds to gaps, the counts of a range of journeys, those of the journeys after them in
// later: the counts summed, the farthest times the larger, the flows together and the first few
// journeys those of gaps, then later's, as one pass over both ranges in order counts them.
func joinGaps(gaps, later map[int]*gapCount) {
	for p, l := range later {
		g := gaps[p]
		if g == nil {
			gaps[p] = l
			continue
		}
		g.before, g.after = g.before+l.before, g.after+l.after
		g.early, g.late = max(g.early, l.early), max(g.late, l.late)
		for fi := range l.flows {
			g.flows[fi] = true
		}
		for _, j := range l.js {
			if len(g.js) >= 10 {
				break
			}
			g.js = append(g.js, j)
		}
	}
}

// gapsIn counts journeys [from, to) into gaps (gapsFromPaths): of is each flow direction's gapPath,
// in the times inside every span of every path, pieces the journeys that are pieces of a split,
// first and last each point's span.
func (c *coverage) gapsIn(a *analysis, of []*gapPath, in gapBounds, pieces map[int32]bool, first, last []int64,
	gaps map[int]*gapCount, from, to int) {
	// the journeys' tables in registers, not read through a at each journey (gapDue writes none of them)
	jFlow, jDir, jStart, ht := a.jFlow[:to], a.jDir[:to], a.jStart[:to+1], &a.hopTs
	for j := from; j < to; j++ {
		// the journeys inside every span on their path passed over a block of t0 at a time (gapsInside)
		blk := j &^ (timesBlock - 1)
		end := min(to, blk+timesBlock)
		if j = gapsInside(jFlow, jDir, jStart, of, ht.t0.blocks[blk/timesBlock], ht.dt, in, blk, j, end); j == end {
			j--
			continue
		}
		fi := jFlow[j]
		if fi < 0 {
			continue
		}
		gp := of[2*int(fi)+int(jDir[j])]
		if gp == nil {
			continue
		}
		base, n := int(jStart[j]), int(jStart[j+1]-jStart[j])
		t0 := ht.t0.at(j)
		if n == 0 || t0 >= gp.maxFirst-coverageGrace && ht.atFrom(t0, base+n-1) <= gp.minLast+coverageGrace ||
			pieces[int32(j)] {
			continue // inside every span on its path, or a piece of a split (it enters its path mid-way)
		}
		c.gapDue(a, j, a.pathOf(a.flows[fi], a.jDir[j]), gp, first, last, gaps)
		a.w.trimAt(j)
	}
}

// gapsInside returns the first journey from j to end (all in the block of t0s, t0's from journey
// blk) that gapsIn has to look at (end when none): those it passes over have no flow, no gapPath, no
// hop, or lie inside every span on their path, as gapsIn's own tests find (a journey whose last hop's
// time is in hopTimes' side map is left to them). A run of gapRun journeys (from a multiple of gapRun
// after blk) whose hops all lie within in (gapBounds.holds) is passed over as a whole: each of them is
// inside every span of every path. Its loops keep the tables in registers.
func gapsInside(jFlow []int32, jDir []uint8, jStart []uint32, of []*gapPath, t0s []int64, dt []uint32, in gapBounds, blk, j, end int) int {
	// the tables from journey blk, each as long (no bounds check by journey)
	n := end - blk
	jFlow, jDir, jStart, t0s = jFlow[blk:end], jDir[blk:end], jStart[blk:end+1], t0s[:n]
	for i := j - blk; i < n; {
		k := min(n, (i|(gapRun-1))+1)
		if i&(gapRun-1) == 0 && in.holds(jStart[i:k+1], t0s[i:k], dt) {
			i = k
			continue
		}
		for ; i < k; i++ {
			fi := jFlow[i]
			if fi < 0 {
				continue
			}
			gp := of[2*int(fi)+int(jDir[i])]
			if gp == nil {
				continue
			}
			s, e := jStart[i], jStart[i+1]
			if s == e {
				continue
			}
			d := dt[e-1]
			if t0 := t0s[i]; d == dtBig || t0 < gp.maxFirst-coverageGrace || t0+int64(d) > gp.minLast+coverageGrace {
				return blk + i
			}
		}
	}
	return end
}

// gapRun is how many journeys gapsInside tests against its gapBounds at once.
const gapRun = 256

// gapBounds are the times inside every span of every path's gapPath, with coverageGrace: from the
// latest maxFirst less it to the earliest minLast plus it. ok: no hop's time is in hopTimes' side
// map (hopTimes.bigNone: the fill alone adds to it), so that each hop's time is in hopTimes.dt.
type gapBounds struct {
	from, to int64
	ok       bool
}

// holds reports whether every journey with a hop among those whose hops begin at jStart[0],
// jStart[1], … (one more than t0s) was first seen at from or later and last seen at to or earlier
// (t0s their first sightings, dt their hops' times after them): then gapsInside would pass over
// each of them (a journey with a hop inside every span of every path is inside every span of its
// own).
func (b gapBounds) holds(jStart []uint32, t0s []int64, dt []uint32) bool {
	if !b.ok {
		return false
	}
	first, last := hopsSpan(jStart, t0s, dt)
	return first >= b.from && last <= b.to
}

// hopsSpan returns the earliest first sighting and the latest last sighting of the journeys with a
// hop among those whose hops begin at jStart[0], jStart[1], … (one more than t0s): MaxInt64 and
// MinInt64 for none. Not inlined: its loop has the registers to itself.
//
//go:noinline
func hopsSpan(jStart []uint32, t0s []int64, dt []uint32) (first, last int64) {
	first, last = math.MaxInt64, math.MinInt64
	s, jStart := jStart[0], jStart[1:len(t0s)+1]
	for i, e := range jStart {
		if e != s {
			t0 := t0s[i]
			first, last = min(first, t0), max(last, t0+int64(dt[e-1]))
		}
		s = e
	}
	return first, last
}

// gapDue counts journey j at the points gp.ks of its path pi whose span [first, last] it was due at
// outside of, unseen, into gaps (gapsFromPaths). Only sightings inside their own point's span count: a frame
// outside it has a time that cannot be right (decode's settleTimes keeps such frames out of spans).
func (c *coverage) gapDue(a *analysis, j int, pi *pathInfo, gp *gapPath, first, last []int64,
	gaps map[int]*gapCount) {
	base, h := int(a.jStart[j]), a.hops(j)
	if o, _ := a.obs(a.w.pktHop(h)); o.Flags&decode.FlagICMPError != 0 {
		return // sent by whatever node refused a packet, anywhere on the path
	}
	t0 := a.hopTs.t0.at(j)
	var seen uint64
	var at [64]int64 // the first sighting's time at each path index seen
	i := -1
	for s, pt := range a.hopPt[base : base+len(h)] {
		if i = pi.indexAfter(int(pt), i); i >= 0 && seen>>i&1 == 0 {
			t := a.hopTs.atFrom(t0, base+s)
			if t < c.ownFirst[pt]-coverageGrace || t > c.ownLast[pt]+coverageGrace {
				return // a time outside its own capture's frames: not to be trusted
			}
			seen |= 1 << i
			at[i] = t
		}
	}
	for _, k := range gp.ks {
		p := pi.points[k]
		if seen>>k&1 != 0 {
			continue
		}
		below, above := seen&(1<<k-1), seen>>(k+1)
		var before, after int64 // the times to set against its span's start and its end
		var by, ay int          // the path indexes they were seen at
		switch {
		case above != 0 && (below != 0 || k == 0):
			// It crossed the point unseen: after its sighting before it, before its sighting after it.
			by = k + 1 + bits.TrailingZeros64(above)
			ay = by
			if below != 0 {
				ay = 63 - bits.LeadingZeros64(below)
			}
		case above == 0 && k > 0 && below>>(k-1) != 0:
			// Seen last at the point just before it: it was due there next.
			by, ay = k-1, k-1
		default:
			continue
		}
		if a.clockShaky(pi.points[by], p) || a.clockShaky(pi.points[ay], p) {
			continue // across a clock no offset fits, the times cannot say when it was due there
		}
		before, after = at[by], at[ay]
		var early, late int64
		switch {
		case before < first[p]-coverageGrace:
			early = first[p] - before
		case after > last[p]+coverageGrace:
			late = after - last[p]
		default:
			continue
		}
		g := gaps[p]
		if g == nil {
			g = &gapCount{flows: map[int32]bool{}}
			gaps[p] = g
		}
		if early > 0 {
			g.before++
			g.early = max(g.early, early)
		} else {
			g.after++
			g.late = max(g.late, late)
		}
		g.flows[a.jFlow[j]] = true
		if len(g.js) < 10 {
			g.js = append(g.js, int32(j))
		}
	}
}

// clockShaky reports whether a time at point q says nothing of when a packet reached point p: they are
// on two nodes and the clock of either is not known to be corrected (no offset fits its samples, or it
// stepped by what nothing tells from another clock's step).
func (a *analysis) clockShaky(q, p int) bool {
	n, m := a.w.pointNode[q], a.w.pointNode[p]
	if n == m {
		return false
	}
	for _, x := range [2]int{n, m} {
		if cm := &a.clocks[x]; cm.disagree > 0 || len(cm.tied) > 0 {
			return true
		}
	}
	return false
}
