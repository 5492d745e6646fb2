package correlate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// A node's clock that steps during the capture (ntpd or chrony setting it: every time from a moment on
// moved by a constant) is not one offset, nor a line: the samples of each node pair with that node,
// both ways, agree on one offset before the moment and on another after it. Fitted as one offset, the
// clock was off by half the step throughout, and every clock fitted against it too, so packets across
// the node seemed lost or resent (a +40 ms step of node-b in healthy-ipip: "1 of 12 packets lost"
// inside node-b and a TCP retransmission that never was). findStep looks for such a step in the
// samples (a piecewise-constant fit with one breakpoint, tried only when no line fits every sample; a
// clock that stepped again has its next step found with the first taken off: findSteps),
// puts it down to the node whose pairs show it, and removes it from that node's samples, so that the
// clocks are fitted as if it had not stepped; the node's clock model takes it off its times from the
// step on (clockModel.correct).

// maxSteps bounds the steps of one node's clock found in one capture: each is found with the earlier
// ones taken off (estimateClocksAvoid).
const maxSteps = 8

// stepMin is a step findStep takes for one whatever the samples' noise (the offsets before and after
// it differ by at least this). A smaller step is taken when the samples resolve it: no line fits them,
// each side of it fits one offset, and the step stands stepNoise times above the jitter of the
// samples' delays on either side (stepJitter), which is what a timestamp off by chance moves them by.
// The lab's own jitter and drift (clock-drift: 200 ppm, a line) are no step then.
const stepMin = int64(time.Millisecond)

// stepNoise is how many times the delays' jitter on either side a step under stepMin must be.
const stepNoise = 4

// backNoise is the most a file's times go back but at a step: frames of one interface written from
// several CPUs' queues, microseconds apart. A step back by |s| shows in a file as a jump back by |s|
// less the time between the two frames about it: by less than half the step where they were more
// than half of it apart (clusterip-dnat, router-1 −500 µs at 1.611 s, in its TCP exchange: its frames
// 316 µs apart, a jump back of 184 µs).
const backNoise = int64(20 * time.Microsecond)

// stepQuantum is the capture times' resolution (pcap's microseconds): a jitter below it is none.
const stepQuantum = int64(time.Microsecond)

// clockStep is a step of one node's clock, found in the samples.
type clockStep struct {
	node int
	size int64 // the node's clock jumped by size: its times from the step on are size later than before
	at   int64 // the node's own (raw) time from which its frames are taken as after the step
	// pre and post are the node's raw times of the last sample before the step and the first after it.
	pre, post int64
	pairs     int      // node pairs whose samples show the step
	unsure    int      // the node's frames between pre and post that neither a sample nor a jump back places
	others    []string // other pairs whose samples show a step not of this node (not corrected)
	tiedWith  int      // a tied step (clockModel.tied): the other node it could be of
	// lineless: of a tied step, the other pairs of its two nodes whose samples fit no line, a step shown
	// or not (pairSteps' unfit): their third node may have stepped then too (tieGroups).
	lineless [][2]int
	// pinned: the packets (by exact fingerprint) of the samples that only the offset before the step
	// fits or only the one after, with the node's time of each such sample: see stepPin. A packet has
	// one pin per sample of it that places it: a router's sample as the receiver of its pair with the
	// sender is its first frame there, and as the sender of its pair with the receiver its last.
	pinned map[uint64][]stepPin
	first  []int // per file: the index of its first frame after the step (stepFiles)
	window bool  // a pair showed it among the samples of its first two stretches only (firstSplit)
	// partial: taken off, the step left its node's samples apart by more than half of it (stepTaken):
	// kept only when later steps leave them one offset (findSteps).
	partial bool
	// drifts: a pair showed it with its samples' drift taken off (splitSlope): the node's clock, the
	// step taken off, is fitted as a line, not as one offset (jointFit).
	drifts bool
}

// stepPin places a sampled packet's frames on the stepped node: its frame at time t (the sample's
// time there: when it came in, or went out) is on the side after says, and with it the packet's other
// frames there less than half the step away (a packet crosses a node in microseconds; one that crossed
// it as its clock stepped has its frames there a whole step apart, and those are left unplaced).
type stepPin struct {
	t     int64
	after bool
}

// side says which side of a step of size the pinned packet's frame at time t is on, if it can tell.
func (p stepPin) side(t, size int64) (after, ok bool) {
	return p.after, abs64(t-p.t) < abs64(size)/2
}

// pinSide says which side of a step of size a packet's frame at time t is on, by the packet's pins:
// the side of the pin nearest t, where that one tells (side); nothing where two pins as near say
// different sides. A packet that crossed the node as its clock stepped is pinned on both sides, each
// pin at its own frame: clusterip-dnat with router-1 −300 µs at 1.611 s, its TCP SYN in at eth0
// before the step (1.610993) and out at eth1 15 µs later, after it (1.610708 on router-1's clock):
// its sample from node-a pins it after at eth1, the one to node-b before at eth0. With one pin per
// packet (the last sample's), the eth0 frame, 285 µs from the eth1 pin, was left unplaced, taken as
// after by its time, and the step, taken off, left the samples apart: not kept, "39 packets, 27
// delivered, 11 lost" (truth: 27 and 27).
func pinSide(pins []stepPin, t, size int64) (after, ok bool) {
	best := int64(math.MaxInt64)
	for _, p := range pins {
		d := abs64(t - p.t)
		if d > best {
			continue
		}
		a, o := p.side(t, size)
		if d == best && (a != after || o != ok) {
			after, ok = false, false // as near, and not the same: not told
			continue
		}
		best, after, ok = d, a, o
	}
	return after, ok
}

// stepPt is one delay sample of a node pair [a, b] as a bound on θ = b's clock − a's: θ ≤ v (up: a
// packet a→b) or θ ≥ v (a packet b→a), at a's raw time xa and b's raw time xb.
type stepPt struct {
	xa, xb int64
	v      int64
	up     bool
	fp     uint64
}

// pairSplit is the best one-breakpoint split of a pair's samples: θ before and after, the margin of
// the worse segment, and each node's raw times of the last sample before and the first after.
type pairSplit struct {
	before, after int64
	margin        int64
	k             int  // the first sample after the split, in the order it was found in
	window        bool // found among the samples of the first two stretches only (firstSplit)
	// drift: found with θ's drift against a's raw time (s/s) taken off both sides (splitSlope); θ's
	// values (before, after, sLo, sHi) are then of the line at a's first sampled time.
	drift       float64
	sLo, sHi    int64 // the steps (after − before) that leave one offset fitting every sample once taken off
	preA, postA int64
	preB, postB int64
	pinPre      []stepPt // the samples only the offset before fits
	pinPost     []stepPt // and after
}

// splitPair finds the step of a pair [a, b] with samples both ways (ab: a→b, ba: b→a): none (ok false)
// when a line (constant or drifting) fits every sample to within stepMin, or when no single breakpoint
// leaves two segments that each fit one offset. The samples are ordered by a's time and by b's (the
// node that stepped back has its times out of order around the step; the other's are in order).
func splitPair(ab, ba []delaySample) (s pairSplit, ok, lineless bool) {
	// One offset fitting every sample (by far the most common) needs one pass, and nothing more.
	if minDelay(ab)+minDelay(ba) >= 0 {
		return pairSplit{}, false, false
	}
	pts, x0 := stepPts(ab, ba)
	var up, lo []linePt
	for _, p := range pts {
		if p.up {
			up = append(up, linePt{float64(p.xa - x0), float64(p.v)})
		} else {
			lo = append(lo, linePt{float64(p.xa - x0), float64(p.v)})
		}
	}
	if _, _, margin := bestLineBinned(up, lo); margin >= 0 {
		return pairSplit{}, false, false // a line fits: a drift, or none
	}
	// A clock that drifts as well as steps fits a line each side, not one offset: where no split was
	// found, it is sought again with the drift both sides show taken off (splitSlope).
	best, in, ok := firstSplit(pts)
	if k := splitSlopeIf(!ok, pts, x0); k != 0 {
		det := make([]stepPt, len(pts))
		for i, p := range pts {
			p.v -= int64(math.Round(k * float64(p.xa-x0)))
			det[i] = p
		}
		if b, in2, ok2 := firstSplit(det); ok2 {
			best, in, ok = b, in2, true
			best.drift = k
		}
	}
	if !ok {
		return pairSplit{}, false, true
	}
	pts = in
	size := best.after - best.before
	// The split only bounds the step's moment: which side a sample is on is told by the delay each
	// offset gives it. A packet takes less than half the step (the assumption), so the side is the one
	// whose offset gives a delay from −half to +half of the step (the other gives one off by the whole
	// step); a sample delayed by more than that is left unplaced.
	tol := abs64(size) / 2
	best.preA, best.preB, best.postA, best.postB = math.MinInt64, math.MinInt64, math.MaxInt64, math.MaxInt64
	for _, p := range pts {
		fits := func(theta int64) bool {
			d := p.v - theta // the delay θ gives: θ ≤ v for a packet a→b, θ ≥ v for one b→a
			if !p.up {
				d = -d
			}
			return d >= -tol && d <= tol
		}
		switch b, a := fits(best.before), fits(best.after); {
		case b && !a:
			best.preA, best.preB = max(best.preA, p.xa), max(best.preB, p.xb)
			best.pinPre = append(best.pinPre, p)
		case a && !b:
			best.postA, best.postB = min(best.postA, p.xa), min(best.postB, p.xb)
			best.pinPost = append(best.pinPost, p)
		}
	}
	if best.preA == math.MinInt64 || best.postA == math.MaxInt64 {
		return pairSplit{}, false, true
	}
	return best, true, true
}

// splitSlope returns the drift (s/s, θ against a's raw time x, from x0) that the samples of a clock
// that stepped show on both sides of the step, 0 when they show none. A clock that drifts and steps
// fits a line on each side, not one offset, and the split's test that each side is one stretch
// (fitRun) failed: a node drifting 50 ppm over 10 s (0.5 ms) and stepped by 4 ms had 20,000 samples
// "cannot resolve a step". The drift is the slope of two parallel lines, one each side of the best
// breakpoint (bestSplit, in the order of either node's time), with the widest worse margin; the worse
// margin is concave in the slope (the least of two concave functions), so a ternary search over
// ±maxDrift finds it, as bestLine does. With the drift taken off the breakpoint is sought again, and
// the slope fitted again about it. It is kept only when it widens the worse side's margin clearly
// (bestLine's test: by 2 µs and by half the margin without one): the jitter of a clock that does not
// drift does not look like one.
func splitSlope(pts []stepPt, x0 int64) float64 {
	k := 0.0
	det := slices.Clone(pts)
	for range 2 {
		time := func(p stepPt, byB bool) int64 {
			if byB {
				return p.xb
			}
			return p.xa
		}
		var best pairSplit
		found, byB, from := false, false, int64(0) // from: the order's time of the first sample after it
		for _, b := range []bool{false, true} {
			slices.SortStableFunc(det, func(p, q stepPt) int { return cmp.Compare(time(p, b), time(q, b)) })
			if s, ok := bestSplit(det, b); ok && (!found || s.margin > best.margin) {
				best, found, byB, from = s, true, b, time(det[s.k], b)
			}
		}
		if !found {
			return 0
		}
		var sides [2][2][]linePt // [after][down]
		for _, p := range pts {
			at, down := 0, 0
			if time(p, byB) >= from {
				at = 1
			}
			if !p.up {
				down = 1
			}
			sides[at][down] = append(sides[at][down], linePt{float64(p.xa - x0), float64(p.v)})
		}
		if gapped(sides[0]) || gapped(sides[1]) {
			return 0
		}
		worse := func(k float64) float64 {
			_, m1 := lineFit(sides[0][0], sides[0][1], k)
			_, m2 := lineFit(sides[1][0], sides[1][1], k)
			return min(m1, m2)
		}
		l, r := -maxDrift, maxDrift
		for range 60 {
			m1, m2 := l+(r-l)/3, r-(r-l)/3
			if worse(m1) < worse(m2) {
				l = m1
			} else {
				r = m2
			}
		}
		k = (l + r) / 2
		if g0 := worse(0); worse(k)-g0 < max(2000, math.Abs(g0)/2) {
			return 0
		}
		for i, p := range pts {
			p.v -= int64(math.Round(k * float64(p.xa-x0)))
			det[i] = p
		}
	}
	return k
}

// gapped reports whether the samples of one side of a step (up, down: splitSlope) leave a gap of half
// their span or more: across it a step of the clock and a drift are one. The lab's captures, with
// pings 200 ms apart and a TCP exchange over a second later, had a step of 300 µs between them taken
// for a drift of 250 ppm (tcp-retransmission, node-b +500 µs at 300 ms and −300 µs at 1.611 s: the
// two steps said as +575 µs and −73 µs at one moment); generated captures, whose packets run
// throughout, have gaps of milliseconds.
func gapped(side [2][]linePt) bool {
	xs := make([]float64, 0, len(side[0])+len(side[1]))
	for _, way := range side {
		for _, p := range way {
			xs = append(xs, p.x)
		}
	}
	slices.Sort(xs)
	if len(xs) < 2 {
		return true
	}
	span, gap := xs[len(xs)-1]-xs[0], 0.0
	for i := 1; i < len(xs); i++ {
		gap = max(gap, xs[i]-xs[i-1])
	}
	return gap >= span/2
}

// splitSlopeIf is splitSlope where try is set, 0 otherwise.
func splitSlopeIf(try bool, pts []stepPt, x0 int64) float64 {
	if !try {
		return 0
	}
	return splitSlope(pts, x0)
}

// stepPts returns the samples of a pair [a, b] (ab: a→b, ba: b→a) as bounds on θ, and a's least time.
func stepPts(ab, ba []delaySample) ([]stepPt, int64) {
	pts := make([]stepPt, 0, len(ab)+len(ba))
	for _, s := range ab {
		pts = append(pts, stepPt{xa: s.t, xb: s.t + s.m, v: s.m, up: true, fp: s.fp})
	}
	for _, s := range ba {
		pts = append(pts, stepPt{xa: s.t + s.m, xb: s.t, v: -s.m, fp: s.fp})
	}
	x0 := pts[0].xa
	for _, p := range pts {
		x0 = min(x0, p.xa)
	}
	return pts, x0
}

// firstSplit returns the split of pts that is a step (resolved), and the samples it rests on, in the
// order it was found in: the best one-breakpoint split of them all, or, where there is none (a clock
// that stepped more than once), of the samples up to the end of the second stretch that fits one
// offset (in the order of either node's time), which hold the first step alone; the best split of them
// all only where each side is one stretch (fitRun: a packet between two steps forward can bound the
// offset on one side only, and fit either). Its samples are the
// split's: the ones after those are the later steps' (estimateClocks takes each off in turn).
func firstSplit(pts []stepPt) (best pairSplit, in []stepPt, ok bool) {
	order := func(pts []stepPt, byB bool) {
		sort.SliceStable(pts, func(i, j int) bool {
			if byB {
				return pts[i].xb < pts[j].xb
			}
			return pts[i].xa < pts[j].xa
		})
	}
	for _, window := range []bool{false, true} {
		found, bestByB, bestK := false, false, 0
		for _, byB := range []bool{false, true} {
			order(pts, byB)
			k := len(pts)
			if window {
				if k = fitRun(pts, fitRun(pts, 0)); k == len(pts) {
					continue // two stretches: the whole was tried
				}
			}
			if s, ok := bestSplit(pts[:k], byB); ok && (!found || s.margin > best.margin) {
				best, found, bestByB, bestK = s, true, byB, k
			}
		}
		if !found {
			continue
		}
		order(pts, bestByB)
		if in = pts[:bestK]; best.resolved(in) && (window || oneStretchEach(in, best.k)) {
			best.window = window
			return best, in, true
		}
	}
	return pairSplit{}, nil, false
}

// fitRun returns the end of the longest stretch of pts from i on that one offset fits, and whose
// delays each way stay within stepNoise times their spread so far (at least unfitMin) above the least:
// a sample off by more is taken for the next stretch's, though its bound alone fits this one (one
// packet each way between two steps of a clock stepped forward twice bounds the offset on one side
// only).
func fitRun(pts []stepPt, i int) int {
	end, _, _ := fitRunFrom(pts, i, 0, 0)
	return end
}

// oneStretchEach reports whether the samples pts before k and from k on are each one stretch (fitRun),
// each side's delays taken to spread at least as much as the other side's: the delays' jitter is the
// same before a step and after it, and a stretch's first few delays (a capture's, a step's) tell
// little of it. The spread so far alone broke a stretch at its second sample where delays spread by
// hundreds of microseconds: a generated capture (underlay delays of 100 to 500 µs) stepped back by
// 3 ms at 2.5 s had the stretch after the step end at its second sample, 202 µs slower than the first
// (200 µs is stepNoise times unfitMin), and "cannot resolve a step", with 20,000 samples.
func oneStretchEach(pts []stepPt, k int) bool {
	_, up, lo := fitRunFrom(pts, k, 0, 0)
	end, up, lo := fitRunFrom(pts, 0, up, lo)
	if end < k {
		return false
	}
	end, _, _ = fitRunFrom(pts, k, up, lo)
	return end == len(pts)
}

// fitRunFrom is fitRun with the delays' spread each way taken as at least upSpread and loSpread from
// the start; it returns the stretch's end and its spreads.
func fitRunFrom(pts []stepPt, i int, upSpread, loSpread int64) (end int, up, lo int64) {
	var minUp, maxLo int64 = math.MaxInt64, math.MinInt64
	far := func(d, spread int64) bool { return d > stepNoise*max(spread, unfitMin) }
	for ; i < len(pts); i++ {
		if p := pts[i]; p.up {
			if minUp != math.MaxInt64 && far(p.v-minUp, upSpread) || maxLo != math.MinInt64 && p.v < maxLo {
				return i, upSpread, loSpread
			}
			if minUp != math.MaxInt64 {
				upSpread = max(upSpread, p.v-minUp, minUp-p.v)
			}
			minUp = min(minUp, p.v)
		} else {
			if maxLo != math.MinInt64 && far(maxLo-p.v, loSpread) || minUp != math.MaxInt64 && p.v > minUp {
				return i, upSpread, loSpread
			}
			if maxLo != math.MinInt64 {
				loSpread = max(loSpread, maxLo-p.v, p.v-maxLo)
			}
			maxLo = max(maxLo, p.v)
		}
	}
	return i, upSpread, loSpread
}

// resolved reports whether split s of pts (in the order it was found in) is a step: each side fits
// one offset (to within a twentieth of the step, and 50 µs from stepMin on: a drift within it), the
// two offsets cannot be one, and a step under stepMin stands stepNoise times above the delays' jitter
// on either side.
func (s *pairSplit) resolved(pts []stepPt) bool {
	size := abs64(s.after - s.before)
	tol := size / 20
	if size >= stepMin {
		tol = max(tol, int64(50*time.Microsecond))
	}
	if s.margin < -tol || s.sLo <= 0 && s.sHi >= 0 {
		return false
	}
	return size >= stepMin || size >= stepNoise*max(stepJitter(pts[:s.k]), stepJitter(pts[s.k:]), stepQuantum)
}

// bestSplit returns the breakpoint of pts (in order) whose worse segment fits one offset best; each
// segment needs samples both ways.
func bestSplit(pts []stepPt, byB bool) (pairSplit, bool) {
	n := len(pts)
	type env struct {
		minUp, maxLo int64
		hasUp, hasLo bool
	}
	add := func(e env, p stepPt) env {
		if p.up {
			if !e.hasUp || p.v < e.minUp {
				e.minUp = p.v
			}
			e.hasUp = true
		} else {
			if !e.hasLo || p.v > e.maxLo {
				e.maxLo = p.v
			}
			e.hasLo = true
		}
		return e
	}
	suf := make([]env, n+1)
	for i := n - 1; i >= 0; i-- {
		suf[i] = add(suf[i+1], pts[i])
	}
	var best pairSplit
	found := false
	var pre env
	for k := 1; k < n; k++ {
		pre = add(pre, pts[k-1])
		x1, x2 := pts[k-1].xa, pts[k].xa
		if byB {
			x1, x2 = pts[k-1].xb, pts[k].xb
		}
		post := suf[k]
		if x1 == x2 || !pre.hasUp || !pre.hasLo || !post.hasUp || !post.hasLo {
			continue
		}
		m := min(pre.minUp-pre.maxLo, post.minUp-post.maxLo) / 2
		if found && m <= best.margin {
			continue
		}
		best = pairSplit{before: (pre.minUp + pre.maxLo) / 2, after: (post.minUp + post.maxLo) / 2, margin: m, k: k,
			sLo: post.maxLo - pre.minUp, sHi: post.minUp - pre.maxLo}
		found = true
	}
	return best, found
}

// stepJitter is how far the samples' delays scatter above their least, each way: the most, over the
// two ways, of the median delay less the least. A sample whose time is off by chance moves a bound by
// about that much; a step resolved by the samples stands well above it.
func stepJitter(pts []stepPt) int64 {
	var up, lo []int64
	for _, p := range pts {
		if p.up {
			up = append(up, p.v) // the delay a→b, less θ
		} else {
			lo = append(lo, -p.v) // the delay b→a, plus θ
		}
	}
	j := int64(0)
	for _, d := range [][]int64{up, lo} {
		if len(d) == 0 {
			continue
		}
		slices.Sort(d)
		j = max(j, d[len(d)/2]-d[0])
	}
	return j
}

// pairStep is the step the samples of node pair key show.
type pairStep struct {
	key [2]int
	s   pairSplit
}

// pairTally counts a node's pairs with samples both ways: all of them, those one offset fits
// throughout (fits), those no line fits, a step shown or not (unfit), and those that show a step.
type pairTally struct{ all, fits, unfit, steps int }

// pairSteps returns the steps of the node pairs with samples both ways, in pair order, and per node
// the tally of its pairs. It tells which node of a pair that shows a step stepped where no other pair
// shows it (a step too small for their jitter to resolve): not one whose other pairs fit one offset
// throughout.
func pairSteps(pairs map[[2]int][]delaySample) (steps []pairStep, tally map[int]*pairTally) {
	tally = map[int]*pairTally{}
	count := func(k [2]int, f func(t *pairTally)) {
		for _, n := range k {
			if tally[n] == nil {
				tally[n] = &pairTally{}
			}
			f(tally[n])
		}
	}
	keys := make([][2]int, 0, len(pairs))
	for k := range pairs {
		if k[0] < k[1] && len(pairs[k]) > 0 && len(pairs[[2]int{k[1], k[0]}]) > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		ab, ba := pairs[k], pairs[[2]int{k[1], k[0]}]
		count(k, func(t *pairTally) { t.all++ })
		if minDelay(ab)+minDelay(ba) >= 0 {
			count(k, func(t *pairTally) { t.fits++ })
			continue
		}
		s, ok, lineless := splitPair(ab, ba)
		if ok {
			steps = append(steps, pairStep{k, s})
			count(k, func(t *pairTally) { t.steps++ })
		}
		if lineless {
			count(k, func(t *pairTally) { t.unfit++ })
		}
	}
	return steps, tally
}

// findStep looks for a clock step in the samples of every node pair with samples both ways and puts it
// down to one node: the one whose pairs show it (with a router between them, node-b's step shows
// against node-a and against the router, which agree with each other; with two nodes only, either may
// have stepped, and the later one by name is taken, the reference being the first; with more, a step
// nothing tells of which of its pair is set aside as tied, not corrected: tieStep). nil when no pair
// shows a step.
func (w *world) findStep(pairs, aside map[[2]int][]delaySample) *clockStep {
	steps, tally := pairSteps(pairs)
	if len(steps) == 0 {
		return nil
	}
	node, tie := stepNode(steps, tally)
	best := bestStep(steps, node)
	// A node one of whose other pairs rules the step out (refutes) did not step: its pair's other node
	// did, where no pair of that one rules it out (healthy-ipip with node-b stepped by +500 µs and
	// node-a by −40 ms: router-1 is in both pairs that show a step, but its pair with node-b has
	// packets both ways on either side of the −40 ms step's moment, one offset fitting them, so the
	// step is node-a's).
	if f := steps[best]; refutes(pairs, f, node) {
		if other := f.otherOf(node); !refutes(pairs, f, other) {
			node, tie, best = other, false, bestStep(steps, other)
		}
	}
	// Nothing tells which of the pair stepped: it is not put down to either on a guess (the later by
	// name was). It is said, not corrected, and the other steps are looked for without the pair.
	if tiedPair(pairs, steps, tally, steps[best], node, aside) {
		return w.setAside(pairs, aside, steps[best], node)
	}
	st := &clockStep{node: node}
	first, firstF := true, pairStep{}
	var lo, hi int64
	steps = append(append([]pairStep{steps[best]}, steps[:best]...), steps[best+1:]...)
	for _, f := range steps {
		if f.key[0] != node && f.key[1] != node {
			st.others = append(st.others, w.nodes[f.key[0]]+"–"+w.nodes[f.key[1]])
			continue
		}
		size, pre, post, sLo, sHi := f.of(node)
		if !first && (!sameStep(firstF, f, node) || !bounded(firstF, f, node) && abs64(size) >= stepMin) {
			// Another step of one of the pair (another node's, at another moment): named, and found
			// next with this one taken off (findSteps).
			st.others = append(st.others, w.nodes[f.key[0]]+"–"+w.nodes[f.key[1]])
			continue
		}
		st.pairs++
		st.window = st.window || f.s.window
		st.drifts = st.drifts || f.s.drift != 0
		if st.pinned == nil {
			st.pinned = map[uint64][]stepPin{}
		}
		for k, pins := range [][]stepPt{f.s.pinPre, f.s.pinPost} {
			for _, p := range pins {
				t := p.xb
				if f.key[0] == node {
					t = p.xa
				}
				st.pinned[p.fp] = append(st.pinned[p.fp], stepPin{t, k == 1})
			}
		}
		if first {
			st.size, st.pre, st.post, first, firstF = size, pre, post, false, f
			lo, hi = sLo, sHi
			continue
		}
		st.pre, st.post = max(st.pre, pre), min(st.post, post)
		lo, hi = max(lo, sLo), min(hi, sHi)
	}
	// The step that leaves each pair's samples one offset, where one does for every pair (the first
	// pair's estimate alone left a reference node that stepped microseconds off after the step, and
	// every clock fitted against it inconsistent); where none does, the middle of the gap between the
	// bounds (two-routers, router-2's −500 µs sized −506 µs: router-1's +500 µs then bound by ≥ 497 and
	// ≤ 495 µs; the first pair's +517 µs left a step of −25 µs more and a negative latency).
	st.size = lo + (hi-lo)/2
	if tie && abs64(st.size) < stepMin {
		return nil // left to the fit: its samples disagree, and clockUnfit says so
	}
	// Frames before the step have the node's times below the moment T, those after at least T + size.
	st.at = stepMoment(st.size, st.pre, st.post)
	return st
}

// tiedPair reports whether nothing tells which of f's pair, node or the other, stepped: both ruled out
// (refutes), or neither, each with as many pairs that show this step (sameStep), as many that fit one
// offset and as many that fit none, and a pair besides f between them (with two nodes alone either
// one's times, corrected, agree with the other's). With a pair set aside (aside: every pair), the pairs that fit
// no line (another step may be in them) and the nodes' other pairs do not tell: healthy-ipip with
// node-a stepped by −2 ms and router-1 by +2 ms at one moment had node-b said to have stepped. healthy-ipip with node-b stepped by +500 µs and
// router-1 by −40 ms: node-a–node-b alone shows the small step, and node-a, the later by name, was
// said to have stepped by −488 µs.
func tiedPair(pairs map[[2]int][]delaySample, steps []pairStep, tally map[int]*pairTally, f pairStep,
	node int, aside map[[2]int][]delaySample) bool {
	other := f.otherOf(node)
	same := func(n int) int { return agreeing(steps, f, n) }
	a, b := tally[node], tally[other]
	if aside != nil { // a pair set aside: only a pair ruling one out (any), or showing the step or fitting, tells
		return refutes(aside, f, node) == refutes(aside, f, other) && same(node) == same(other) && a.fits == b.fits
	}
	return refutes(pairs, f, node) == refutes(pairs, f, other) && same(node) == same(other) &&
		a.fits == b.fits && a.unfit == b.unfit && a.all+b.all > 2
}

// stepMoment returns the node's raw time from which its frames are taken as after a step of size whose
// last sample before it is at pre and first after it at post (clockStep.at): after a step forward
// (from moment T) the first sample after it, less the step, is a moment no earlier than T and after
// the last sample before; after a step back, times from T + size to T are used twice, and the first
// sample after the step is where its times are taken as after.
func stepMoment(size, pre, post int64) int64 {
	if size > 0 {
		return max(post-size, pre+1)
	}
	return post
}

// spansMeet reports whether two steps' spans, each from its last sample before to its first after (in
// either order) on one node's clock, overlap: the two are at one moment.
func spansMeet(pre1, post1, pre2, post2 int64) bool {
	return min(pre1, post1) <= max(pre2, post2) && min(pre2, post2) <= max(pre1, post1)
}

// agreeing returns how many of steps are of node n's pairs and show one step of n with f (sameStep).
func agreeing(steps []pairStep, f pairStep, n int) (c int) {
	for _, g := range steps {
		if (g.key[0] == n || g.key[1] == n) && sameStep(f, g, n) {
			c++
		}
	}
	return c
}

// otherOf returns the node of f's pair that is not n.
func (f pairStep) otherOf(n int) int {
	if f.key[0] == n {
		return f.key[1]
	}
	return f.key[0]
}

// setAside records the step f shows as tied between node and the other of its pair (tieStep), and
// looks for a step in the samples of the other pairs (findStep), with every pair's samples (aside,
// nil for pairs) still ruling a node out (refutes).
func (w *world) setAside(pairs, aside map[[2]int][]delaySample, f pairStep, node int) *clockStep {
	w.tieStep(pairs, f, node, f.otherOf(node))
	rest := make(map[[2]int][]delaySample, len(pairs))
	for k, v := range pairs {
		if k != f.key && k != [2]int{f.key[1], f.key[0]} {
			rest[k] = v
		}
	}
	if aside == nil {
		aside = pairs
	}
	return w.findStep(rest, aside)
}

// tieStep records the step f shows as one of node's or other's that nothing tells apart (once per
// pair): a tied step of each, not corrected, with the other pairs of the two whose samples fit no line
// (pairs: every pair's samples). healthy-ipip with node-a and router-1 stepped by ∓500 µs at 1.611 s,
// in the middle of the TCP exchange: node-b–router-1 shows a step, and node-a's pairs fit no line (a
// packet in flight across node-a and router-1 at the moment has one end before the step and the
// other after: its sample fits neither offset, and no split leaves two stretches), so node-a, which
// stepped, is a candidate as much as node-b.
func (w *world) tieStep(pairs map[[2]int][]delaySample, f pairStep, node, other int) {
	for _, t := range w.stepTies {
		if t.node == node && t.tiedWith == other || t.node == other && t.tiedWith == node {
			return
		}
	}
	var lineless [][2]int
	for k, ab := range pairs {
		ba := pairs[[2]int{k[1], k[0]}]
		if k[0] > k[1] || k == f.key || len(ab) == 0 || len(ba) == 0 ||
			k[0] != node && k[0] != other && k[1] != node && k[1] != other {
			continue
		}
		if _, ok, unfit := splitPair(ab, ba); !ok && unfit {
			lineless = append(lineless, k)
		}
	}
	slices.SortFunc(lineless, func(p, q [2]int) int { return cmp.Or(cmp.Compare(p[0], q[0]), cmp.Compare(p[1], q[1])) })
	for _, n := range []int{node, other} {
		size, pre, post, _, _ := f.of(n)
		w.stepTies = append(w.stepTies, &clockStep{node: n, tiedWith: f.otherOf(n), size: size, pre: pre, post: post,
			at: stepMoment(size, pre, post), pairs: 1, lineless: lineless})
	}
}

// findSteps finds the steps of one node's clock, up to maxSteps, each with the earlier ones taken off,
// and returns them with the packets and pairs sampled again without them.
func (w *world) findSteps(refs []clockRef, total int, pkts clockPkts, blind map[uint64]uint64,
	pairs map[[2]int][]delaySample) ([]*clockStep, clockPkts, map[uint64]uint64, map[[2]int][]delaySample) {
	type state struct {
		pkts  clockPkts
		blind map[uint64]uint64
		pairs map[[2]int][]delaySample
	}
	var steps []*clockStep
	refs0 := refs
	w.stepTies = nil
	seen := []state{{pkts, blind, pairs}} // seen[i]: with steps[:i] taken off
	for len(steps) < maxSteps {
		st := w.findStep(pairs, nil)
		if st == nil {
			break
		}
		// The step is taken out of the node's sampled frames (from each file's first frame after it on),
		// and the packets sampled again: the clocks are fitted as if it had not stepped; a later step
		// shows in them then.
		w.stepFiles(st, steps)
		refs2 := w.unstepRefs(refs, st)
		pkts2, blind2 := w.clockPackets(refs2, total)
		pairs2 := delayPairs(pkts2)
		st.partial = !stepTaken(pairs2, st)
		refs, pkts, blind, pairs = refs2, pkts2, blind2, pairs2
		steps = append(steps, st)
		seen = append(seen, state{pkts, blind, pairs})
	}
	// More than one step, one found among two stretches' samples only, or one that left its node's
	// samples apart (partial: a clock that stepped again), is kept only when the steps leave the
	// stepped nodes' samples one offset; otherwise the steps up to the first such one (the one step a
	// single breakpoint shows, or none), and the fit says the rest (no offset fits).
	keep := len(steps)
	for i, st := range steps {
		if i > 0 || st.window || st.partial {
			if !stepsFit(pairs, steps) {
				keep = i
			}
			break
		}
	}
	s := seen[keep]
	// Several nodes' steps sized together, where that leaves the samples no further apart.
	if rs, p, b, pr := w.resizeSteps(refs0, total, seen[0].pairs, steps[:keep]); rs != nil &&
		worstApart(pr) <= worstApart(s.pairs) {
		steps, s = rs, state{p, b, pr}
	}
	// A tie a kept step of one of its nodes explains (of about its size) is resolved.
	ties := w.stepTies[:0]
	for _, t := range w.stepTies {
		resolved := false
		for _, st := range steps[:keep] {
			resolved = resolved || (st.node == t.node || st.node == t.tiedWith) && abs64(abs64(st.size)-abs64(t.size)) <= abs64(t.size)/2
		}
		if !resolved {
			ties = append(ties, t)
		}
	}
	w.stepTies = ties
	// Pairs another node's step showed in were named as not corrected; with every node's steps taken
	// off and every pair one offset, none is left.
	if keep > 0 && stepsFit(s.pairs, steps[:keep]) && allFit(s.pairs, steps[:keep]) {
		for _, st := range steps[:keep] {
			st.others = nil
		}
	}
	w.unsplit = unsplitWhys(s.pairs)
	return steps[:keep], s.pkts, s.blind, s.pairs
}

// unsplitWhys returns, per node, why the samples of its first pair (in pair order) with samples both
// ways that no line fits show no step splitPair resolves (unsplitWhy): what unresolvedSteps says.
func unsplitWhys(pairs map[[2]int][]delaySample) map[int]string {
	var out map[int]string
	for _, k := range sortedPairs(pairs) {
		ab, ba := pairs[k], pairs[[2]int{k[1], k[0]}]
		if k[0] > k[1] || len(ab) == 0 || len(ba) == 0 || minDelay(ab)+minDelay(ba) >= 0 {
			continue
		}
		if _, ok, lineless := splitPair(ab, ba); ok || !lineless {
			continue
		}
		why := unsplitWhy(ab, ba)
		if out == nil {
			out = map[int]string{}
		}
		for _, n := range k {
			if _, ok := out[n]; !ok {
				out[n] = why
			}
		}
	}
	return out
}

// sortedPairs returns the keys of pairs in order.
func sortedPairs(pairs map[[2]int][]delaySample) [][2]int {
	keys := make([][2]int, 0, len(pairs))
	for k := range pairs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(p, q [2]int) int { return cmp.Or(cmp.Compare(p[0], q[0]), cmp.Compare(p[1], q[1])) })
	return keys
}

// unsplitWhy says why the samples of a pair that no line fits show no step that splitPair resolves:
// of the best breakpoint (bestSplit, in the order of either node's time, with the drift both sides
// show taken off: splitSlope), that it has no samples both ways on each side, that its sides do not
// each fit one offset (or one line), or that the step it shows is within the delays' jitter; else
// that the samples about it do not place it. unresolvedSteps said "too few packets both ways on one
// side of it, or a step within their jitter" whatever the reason: of 20,000 samples of a clock that
// drifted and stepped.
func unsplitWhy(ab, ba []delaySample) string {
	pts, x0 := stepPts(ab, ba)
	if k := splitSlope(pts, x0); k != 0 {
		for i := range pts {
			pts[i].v -= int64(math.Round(k * float64(pts[i].xa-x0)))
		}
	}
	var best pairSplit
	var in []stepPt
	found := false
	for _, byB := range []bool{false, true} {
		slices.SortStableFunc(pts, func(p, q stepPt) int {
			if byB {
				return cmp.Compare(p.xb, q.xb)
			}
			return cmp.Compare(p.xa, q.xa)
		})
		if s, ok := bestSplit(pts, byB); ok && (!found || s.margin > best.margin) {
			best, found, in = s, true, slices.Clone(pts)
		}
	}
	d := func(x int64) string { return time.Duration(x).Round(time.Microsecond / 10).String() }
	size := abs64(best.after - best.before)
	tol := size / 20
	if size >= stepMin {
		tol = max(tol, int64(50*time.Microsecond))
	}
	switch jitter := max(stepJitter(in[:max(best.k, 0)]), stepJitter(in[best.k:]), stepQuantum); {
	case !found:
		return "no moment has packets both ways on each side of it"
	case best.margin < -tol:
		return fmt.Sprintf("no one moment splits them into two stretches that each fit one offset, or one line: the "+
			"best leaves the packets of one side %s apart, more than a step of %s allows; a clock that stepped again "+
			"or slewed leaves them so", d(-2*best.margin), d(size))
	case size < stepMin && size < stepNoise*jitter:
		return fmt.Sprintf("the step they show, of about %s, is within %d times the jitter of their delays, %s",
			d(size), stepNoise, d(jitter))
	}
	return "the packets about the moment do not place it: they fit both sides' offsets, or a stretch of them fits neither"
}

// allFit reports whether every node pair with samples both ways fits one offset to within half the
// least of steps.
func allFit(pairs map[[2]int][]delaySample, steps []*clockStep) bool {
	least := int64(math.MaxInt64)
	for _, st := range steps {
		least = min(least, abs64(st.size))
	}
	return worstApart(pairs) <= least/2
}

// stepsFit reports whether the samples with steps taken off (pairs) fit the stepped nodes' clocks:
// every pair of such a node with samples both ways fits one offset to within half the least step. Where
// a step was found among the samples of two stretches only (a clock that stepped more than once), or
// more than one was, the steps are kept only when they leave the samples so: a step sized or placed
// wrong leaves them apart.
func stepsFit(pairs map[[2]int][]delaySample, steps []*clockStep) bool {
	least := int64(math.MaxInt64)
	stepped := map[int]bool{}
	for _, st := range steps {
		least = min(least, abs64(st.size))
		stepped[st.node] = true
	}
	for k, ab := range pairs {
		ba := pairs[[2]int{k[1], k[0]}]
		if k[0] < k[1] && (stepped[k[0]] || stepped[k[1]]) && len(ab) > 0 && len(ba) > 0 &&
			minDelay(ab)+minDelay(ba) < -least/2 {
			return false
		}
	}
	return true
}

// stepTaken reports whether the samples with a step taken off (pairs) show it gone: every pair of the
// stepped node with samples both ways fits one offset to within half the step. A step under stepMin
// whose frames stepFiles placed wrong (a gap in the times that was not the step) leaves them
// disagreeing by about as much as before, and so does a clock that stepped again: findSteps keeps it
// then only when the later steps leave every pair one offset (stepsFit), else the fit says the
// disagreement (clockUnfit). A larger step is kept as placed: its frames that cannot be placed are
// counted as unsure.
func stepTaken(pairs map[[2]int][]delaySample, st *clockStep) bool {
	if abs64(st.size) >= stepMin {
		return true
	}
	for k, ab := range pairs {
		ba := pairs[[2]int{k[1], k[0]}]
		if k[0] < k[1] && (k[0] == st.node || k[1] == st.node) && len(ab) > 0 && len(ba) > 0 &&
			minDelay(ab)+minDelay(ba) < -abs64(st.size)/2 {
			return false
		}
	}
	return true
}

// of returns the step f shows as node n's (n one of its pair): its size, n's raw times of the last
// sample before it and the first after, and the bounds on its size.
func (f pairStep) of(n int) (size, pre, post, sLo, sHi int64) {
	if f.key[0] == n { // θ is the other node's clock minus this one's
		return f.s.before - f.s.after, f.s.preA, f.s.postA, -f.s.sHi, -f.s.sLo
	}
	return f.s.after - f.s.before, f.s.preB, f.s.postB, f.s.sLo, f.s.sHi
}

// sameStep reports whether pair steps f and g, both of node n's pairs, show one step of n: of one
// size (to a tenth of it, and stepMin, from stepMin on; to half of it under stepMin, as resolved as
// its pairs show it), at one moment (the spans from the last sample before to the first after, on n's
// clock, overlap). Two nodes that stepped at different moments show as steps of their pair with the
// third at different moments: each is the node its own pairs agree on.
func sameStep(f, g pairStep, n int) bool {
	s1, pre1, post1, _, _ := f.of(n)
	s2, pre2, post2, _, _ := g.of(n)
	least := min(abs64(s1), abs64(s2))
	agree := least / 2
	if least >= stepMin {
		agree = max(least/10, stepMin)
	}
	return abs64(s1-s2) <= agree && (spansMeet(pre1, post1, pre2, post2) || momentsMeet(s1, pre1, post1, s2, pre2, post2))
}

// momentsMeet reports whether two steps of one node (sizes s1 and s2, each with the node's raw times
// of its last sample before and first after) can be at one moment T of its clock: frames before a
// step have times below T and frames after it at least T + size, so T is after pre and no later
// than post − size. After a step back the samples' spans need not overlap: clusterip-dnat with
// router-1 −300 µs at 1.611 s, its TCP SYN in at eth0 before the step and out at eth1 after it, 285
// µs earlier on router-1's clock. Its sample from node-a is the first after the step on router-1's
// clock (eth1), its sample to node-b the last before (eth0): the pair with node-a spans up to the
// eth1 frame, the pair with node-b from the eth0 frame on, and only the first pair's step was taken
// for router-1's.
func momentsMeet(s1, pre1, post1, s2, pre2, post2 int64) bool {
	return max(pre1, pre2) < min(post1-s1, post2-s2)
}

// bestStep returns the index of node's pair step that most of its others agree with (sameStep), the
// first such in pair order.
func bestStep(steps []pairStep, node int) int {
	best, most, bounds := 0, -1, -1
	for i, f := range steps {
		if f.key[0] != node && f.key[1] != node {
			continue
		}
		c, b := 0, 0
		for _, g := range steps {
			if (g.key[0] == node || g.key[1] == node) && sameStep(f, g, node) {
				c++
				if bounded(f, g, node) {
					b++
				}
			}
		}
		if c > most || c == most && b > bounds {
			best, most, bounds = i, c, b
		}
	}
	return best
}

// bounded reports whether pair steps f and g of node n bound its size alike: some one size leaves
// each pair's samples one offset. Two steps at moments no sample lies between (node-b's −40 ms and
// node-a's +2 ms in two-routers) show in the pair of the two as one of −42 ms, which sameStep takes
// for node-b's −40 ms, but its bounds exclude that.
func bounded(f, g pairStep, n int) bool {
	_, _, _, lo1, hi1 := f.of(n)
	_, _, _, lo2, hi2 := g.of(n)
	return max(lo1, lo2) <= min(hi1, hi2)
}

// refutes reports whether another pair of node n (one of f's pair) rules out that the step f shows
// was n's, from a step of stepMin on: n's pair with a node o that has packets both ways before the
// step's moment and both ways after it (on n's clock), whose samples from those on fit one offset to
// within half the step. Had n stepped by f's size then (and o not), they would disagree by about the
// step (less the packets' delays); where o's clock stepped too in that span they disagree by that
// much or more, and rule nothing out.
func refutes(pairs map[[2]int][]delaySample, f pairStep, n int) bool {
	size, pre, post, _, _ := f.of(n)
	if abs64(size) < stepMin {
		return false
	}
	lo, hi := min(pre, post), max(pre, post)
	for k, ab := range pairs {
		ba := pairs[[2]int{k[1], k[0]}]
		if k[0] >= k[1] || k == f.key || k[0] != n && k[1] != n || len(ab) == 0 || len(ba) == 0 {
			continue
		}
		// θ = k[1]'s clock − k[0]'s: a packet k[0]→k[1] bounds it from above (θ ≤ m), one back from
		// below (θ ≥ −m). Per side of the moment, the samples nearest it each way.
		type near struct {
			t  int64
			ok bool
		}
		var up, down [2]near // [after]
		see := func(side int, t int64, isUp bool) {
			b := &down[side]
			if isUp {
				b = &up[side]
			}
			if !b.ok || side == 0 && t > b.t || side == 1 && t < b.t {
				*b = near{t, true}
			}
		}
		for _, s := range ab {
			if t := nTime(k, n, s, true); t < lo {
				see(0, t, true)
			} else if t > hi {
				see(1, t, true)
			}
		}
		for _, s := range ba {
			if t := nTime(k, n, s, false); t < lo {
				see(0, t, false)
			} else if t > hi {
				see(1, t, false)
			}
		}
		if !up[0].ok || !down[0].ok || !up[1].ok || !down[1].ok {
			continue
		}
		// Over the samples from the first of those before the moment to the last after it, the most a
		// packet back bounds θ from below less the least one there bounds it from above: what its
		// change there must at least be. Had n stepped by size (and o not), that is about the step.
		tA, tB := min(up[0].t, down[0].t), max(up[1].t, down[1].t)
		minUp, maxDown := int64(math.MaxInt64), int64(math.MinInt64)
		for _, s := range ab {
			if t := nTime(k, n, s, true); t >= tA && t <= tB {
				minUp = min(minUp, s.m)
			}
		}
		for _, s := range ba {
			if t := nTime(k, n, s, false); t >= tA && t <= tB {
				maxDown = max(maxDown, -s.m)
			}
		}
		if maxDown-minUp < abs64(size)/2 {
			return true
		}
	}
	return false
}

// nTime returns node n's raw time of delay sample s of pair k (ab: sent k[0]→k[1]; else back).
func nTime(k [2]int, n int, s delaySample, ab bool) int64 {
	if (k[0] == n) == ab {
		return s.t // n sent it
	}
	return s.t + s.m
}

// stepNode returns the node the steps of pairs are put down to, and whether another node ties with
// it (tie: which stepped is not known).
func stepNode(steps []pairStep, tally map[int]*pairTally) (node int, tie bool) {
	// The node of the fewest pairs one offset fits throughout, then of the most pairs no line fits (a
	// pair whose jitter hides the step still fits none), then of the most pairs that show the step,
	// then the later by name.
	// First, though, the node with the most pairs that show one step of it (sameStep): with two nodes
	// stepped at different moments, each pair with the third shows one of the steps, and the third,
	// in both, would otherwise be taken for the one that stepped.
	agree := map[int]int{}
	for _, f := range steps {
		for _, n := range f.key {
			agree[n] = max(agree[n], agreeing(steps, f, n))
		}
	}
	cmpNodes := func(n, m int) int {
		a, b := tally[n], tally[m]
		switch {
		case agree[n] != agree[m]:
			return cmp.Compare(agree[n], agree[m])
		case a.fits != b.fits:
			return cmp.Compare(b.fits, a.fits)
		case a.unfit != b.unfit:
			return cmp.Compare(a.unfit, b.unfit)
		}
		return cmp.Compare(a.steps, b.steps)
	}
	node = -1
	for _, f := range steps {
		for _, n := range f.key {
			if node < 0 {
				node = n
			} else if c := cmpNodes(n, node); c > 0 || c == 0 && n > node {
				node = n
			}
		}
	}
	// Two nodes the pairs do not tell apart, one of them with other pairs: which one stepped is not
	// known (with two nodes alone it does not matter: either one's times, corrected, agree with the
	// other's).
	for _, f := range steps {
		for _, n := range f.key {
			tie = tie || n != node && cmpNodes(n, node) == 0 && tally[n].all+tally[node].all > 2
		}
	}
	return node, tie
}

// stepFiles finds, in each file with frames of the stepped node, its first frame after the step. In
// file order the step lies after the node's last frame of a packet placed before it (a sample only the
// old offset fits: stepSplit) and no later than its first frame of one placed after it; between them,
// a step forward shows as a gap of at least the step in the times, a step back as a jump back by half
// of it or more, or by stepMin or more, or, where there is none, the one jump back by more than
// backNoise (a file's times go back only at a step: healthy-ipip, node-b
// −300 ms at 300 ms then −40 ms at 1 s, has its pings 200 ms apart, so the step shows as a jump back of
// 100 ms, and the 200 ms ping, before the step, was taken as after it by time: the step taken off left
// the samples apart by 300 ms again, and neither step was corrected). Where exactly one such gap or jump lies there, that is the step; where the two frames
// are neighbours, too. Otherwise the frames between them could be on either side (st.unsure counts
// them), and those from st.at on are taken as after.
func (w *world) stepFiles(st *clockStep, earlier []*clockStep) {
	on := w.filesWith(func(p int) bool { return w.pointNode[p] == st.node })
	st.first = make([]int, len(w.c.Obs))
	// Times that only one side of the step has. With T the moment (on the node's old clock), frames
	// before the step have times below T, frames after it at least T + size, and the samples put T
	// after st.pre and no later than st.post − size. So after a step forward a time up to st.pre + size
	// is before it and one from st.post − size on after it; after a step back, a time up to st.pre −
	// |size| is before it and one from st.post + |size| on after it.
	preSure, postSure := st.pre+abs64(st.size), st.post-abs64(st.size)
	if st.size < 0 {
		preSure, postSure = st.pre+st.size, st.post-st.size
	}
	for f, obs := range w.c.Obs {
		st.first[f] = len(obs)
		if !on[f] {
			continue
		}
		idx, ts, lastPre, firstPost := w.stepFrames(st, earlier, f, preSure, postSure)
		firstPost = min(firstPost, len(idx))
		// The first frame after the step is at a position from lastPre+1 to firstPost.
		jump, jumps, back, backs := -1, 0, -1, 0
		for k := max(lastPre+1, 1); k <= firstPost && k < len(idx); k++ {
			d := ts[k] - ts[k-1]
			if st.size > 0 && d >= st.size || st.size < 0 && d <= max(st.size/2, -stepMin) {
				jump, jumps = k, jumps+1
			}
			if st.size < 0 && d < -backNoise {
				back, backs = k, backs+1
			}
		}
		if jumps == 0 && backs == 1 {
			jump, jumps = back, 1 // the one jump back, by less than half the step: frames apart by most of it
		}
		var k int
		switch {
		case firstPost == lastPre+1:
			k = firstPost
		case jumps == 1 && firstPost > lastPre:
			k = jump
		default: // by time, among the frames the samples leave open, each counted as unsure
			lo, hi := min(lastPre, firstPost-1), max(lastPre, firstPost-1)
			st.unsure += hi - lo
			k = lo + 1
			for k <= hi && ts[k] < st.at {
				k++
			}
		}
		if k < len(idx) {
			st.first[f] = idx[k]
		}
	}
}

// stepFrames returns file f's frames of the stepped node (their indexes, in file order, and times
// with the node's earlier steps off), and the positions among them of the last placed before step st
// and the first placed after it (stepFiles): by the times only one side has (up to preSure, from
// postSure on) and by the packets' pins (pinSide).
func (w *world) stepFrames(st *clockStep, earlier []*clockStep, f int, preSure, postSure int64) (idx []int, ts []int64,
	lastPre, firstPost int) {
	stamps, loose := &w.c.Stamps[f], &w.c.Loose[f]
	lastPre, firstPost = -1, math.MaxInt // positions in idx
	exPre, exPost := -1, math.MaxInt     // the same by the sure times and the pins at their own frames
	obs := w.c.Obs[f]
	for i := range obs {
		w.trimAt(i)
		o := &obs[i]
		if w.pointNode[w.srcPoint[o.Source]] != st.node {
			continue
		}
		t, pos := stamps.Ts(i, o), len(idx)
		for _, e := range earlier { // the node's earlier steps off first, as the samples have them
			if i >= e.first[f] {
				t -= e.size
			}
		}
		idx, ts = append(idx, i), append(ts, t)
		var after, pinned, exact bool
		if pins := st.pinned[w.exactOf(o, loose.At(i))]; len(pins) > 0 {
			after, pinned = pinSide(pins, t, st.size)
			exact = pinned && slices.ContainsFunc(pins, func(p stepPin) bool { return p.t == t && p.after == after })
		}
		switch {
		case pinned && after || t >= postSure:
			firstPost = min(firstPost, pos)
			if exact || t >= postSure {
				exPost = min(exPost, pos)
			}
		case pinned || t <= preSure:
			lastPre = pos
			if exact || t <= preSure {
				exPre = pos
			}
		}
	}
	if lastPre >= firstPost && exPre < exPost {
		// The file's order contradicts the pins: a packet's frame placed after the step comes before
		// one placed before it. A pin places the packet's other frames on the node by their times
		// alone (they are less than half the step from its own), which a packet that lingered in the
		// node about as long as the step, and crossed it, defeats: healthy-ipip with node-b −500 µs at
		// 1.611 s, the TCP ACK of the FIN 647 µs between node-b's tunl0 (before) and eth0 (after), its
		// tunl0 frame 147 µs before the eth0 one on node-b's clock, so taken as after; node-b's -any
		// file has that frame before node-b's last frame placed before the step. The pins at their own
		// frames, and the sure times, place the file then.
		lastPre, firstPost = exPre, exPost
	}
	return idx, ts, lastPre, firstPost
}

// unstepRefs moves the sampled frames of the stepped node from its files' first frames after the step
// on back by the step, in order again.
func (w *world) unstepRefs(refs []clockRef, st *clockStep) []clockRef {
	out := make([]clockRef, len(refs))
	copy(out, refs)
	for k := range out {
		r := &out[k]
		if w.pointNode[r.point] == st.node && int(r.i) >= st.first[r.f] {
			r.ts -= st.size
		}
	}
	out = w.sortRefs(out)
	return out
}

// stepMethod is what a stepped clock's method adds: the step, and from when it is taken off.
func (w *world) stepMethod(st *clockStep) string {
	return fmt.Sprintf("; stepped by %s during the capture (at %s on its own clock; its times from then on "+
		"corrected by the step)", fmtStep(st.size), fmtAt(st.at))
}

// fmtStep writes a step with its sign.
func fmtStep(d int64) string {
	if d > 0 {
		return "+" + time.Duration(d).String()
	}
	return time.Duration(d).String()
}

// fmtAt writes a capture time as UTC, to the microsecond.
func fmtAt(t int64) string {
	return time.Unix(0, t).UTC().Format("2006-01-02 15:04:05.000000")
}

// setSteps puts the steps found into their node's model, after the fits (which ran on the samples
// without them): the node's times from each step on are moved back by it before the offset is taken
// off.
func (w *world) setSteps(models []clockModel, steps []*clockStep) {
	for _, st := range steps {
		m := &models[st.node]
		m.steps = append(m.steps, st)
		m.method += w.stepMethod(st)
	}
}

// srcSteps sets, in capture source s's copy of its node's clock, the index of its file's first frame
// after each step (correctAt); without a step, an index no frame reaches.
func (m *clockModel) srcSteps(w *world, s int) {
	m.stepIdx, m.stepSize, m.idxSteps = math.MaxInt, 0, nil
	if len(m.steps) == 0 || s >= len(w.c.Sources) {
		return
	}
	f := int(w.c.Sources[s].File)
	var offs []stepOff
	for _, st := range m.steps {
		if f < len(st.first) {
			offs = append(offs, stepOff{st.first[f], st.size})
		}
	}
	if len(offs) == 0 {
		return
	}
	slices.SortStableFunc(offs, func(a, b stepOff) int { return cmp.Compare(a.idx, b.idx) })
	m.stepIdx, m.stepSize, m.idxSteps = offs[0].idx, offs[0].size, offs[1:]
}

// detectClockSteps says which node's clock stepped (clockStep), by how much and when (each step), that
// calipath corrected it, and where its times cannot place frames on either side of a step.
func detectClockSteps(f *findings, k *kindRow) []Anomaly {
	a := f.a
	var out []Anomaly
	for n := range a.clocks {
		m := &a.clocks[n]
		if len(m.steps) == 0 {
			continue
		}
		name := a.w.nodes[n]
		var detail string
		for i, st := range m.steps {
			pairs := "1 node pair"
			if st.pairs > 1 {
				pairs = fmt.Sprintf("%d node pairs", st.pairs)
			}
			what := "Its clock stepped"
			if i > 0 {
				what = " Then it stepped"
			}
			// The moment corrected: at is the old clock's time of a step forward (stepMoment), the new
			// clock's after a step back, whose size is taken off it. Taken off both (m.unstep(st.at, i)),
			// a step forward's moment was said a whole step early: +4 ms at 5.000018 s on node-2's clock,
			// "4.996018 corrected", where no other clock was off.
			old := st.at
			if st.size < 0 {
				old -= st.size
			}
			detail += fmt.Sprintf("%s by %s at %s on its own clock (%s corrected), shown by the packets of %s with it; "+
				"its times from then on were corrected by the step.", what, fmtStep(st.size), fmtAt(st.at),
				fmtAt(m.unskew(m.unstep(old, i+1))), pairs)
			if st.unsure > 0 {
				detail += fmt.Sprintf(" But the captures cannot place the step exactly: %d frames of %s lie between the last "+
					"packet that shows the old offset (%s) and the first that shows the new one (%s), and their times do not "+
					"tell which side they are on. Packets across %s about then may be matched wrong: their losses and "+
					"retransmissions there are uncertain, and said as warnings.", st.unsure, name, fmtAt(min(st.pre, st.post)),
					fmtAt(max(st.pre, st.post)), name)
			}
		}
		if others := m.steps[0].others; len(others) > 0 {
			detail += fmt.Sprintf(" The packets between %s show a step too that is not of %s's clock: not corrected, "+
				"so their clocks may be off by it for part of the capture.", strings.Join(others, ", "), name)
		}
		an := k.anomaly(k.severity, Where{Node: name}, nil, f.ids, 1, nil, detail)
		an.Next = fmt.Sprintf("%s Or give --offset %s=D for each part.", k.next, name)
		out = append(out, an)
	}
	out = append(out, limitJumps(f, k)...)
	return append(append(out, tiedSteps(f, k)...), unresolvedSteps(f, k)...)
}

// limitJumps says, of each one-sided clock whose limits jump (limitsJump: a step or a fast slew the
// packets one way only cannot find), where and by how much, that it was not corrected, that the
// latencies across the node are not given, and how to bound it.
func limitJumps(f *findings, k *kindRow) []Anomaly {
	a := f.a
	var out []Anomaly
	for n := range a.clocks {
		if !a.clocks[n].jumped {
			continue
		}
		name := a.w.nodes[n]
		an := k.anomaly(k.severity, Where{Node: name}, nil, f.ids, 1, nil, "")
		an.Message = fmt.Sprintf("The clock of %s may have stepped during the capture: %s, and %s. Not corrected: the "+
			"latencies across %s are not given (neither lower nor upper bounds), nor those of clocks bounded through it.",
			name, a.openClock(n), a.jumpWhy(n), name)
		an.Next = a.jumpFix(n) + " Check the node's time service (chronyc tracking, the makestep setting; ntpd's step threshold)."
		out = append(out, an)
	}
	return out
}

// tiedSteps says, for each step the samples show that could be either of two nodes' and nothing tells
// which (clockModel.tied), that it was not corrected, its size and moment, and which capture would
// tell; the losses across either node about then are said as uncertain (stepUncertain). Ties that
// share a node at one moment (tieGroups: two of three clocks stepped together, every pair of them shows
// a step and none tells which) are one finding, at the first node by name, not one per pair.
func tiedSteps(f *findings, k *kindRow) []Anomaly {
	a := f.a
	var out []Anomaly
	for _, g := range a.tieGroups() {
		name := a.w.nodes[g.nodes[0]]
		an := k.anomaly(k.severity, Where{Node: name}, nil, f.ids, 1, nil, "")
		if len(g.nodes) == 2 {
			st := g.ties[0]
			other := a.w.nodes[st.tiedWith]
			an.Message = fmt.Sprintf("The clock of %s or of %s stepped during the capture: the packets between them agree on "+
				"one offset before a moment and on another after it (%s of %s's clock against %s's, between %s and %s on %s's "+
				"clock), but the captures cannot resolve a step of either one: nothing else the captures hold tells which "+
				"clock stepped, so it was not corrected. Packets across %s and %s about then may have been matched wrong: "+
				"their drops and losses there are said as uncertain.", name, other, fmtStep(st.size), name, other,
				fmtAt(min(st.pre, st.post)), fmtAt(max(st.pre, st.post)), name, name, other)
			an.Next = fmt.Sprintf("Capture another node's traffic to %s or to %s around that moment (its packets both ways "+
				"tell which clock stepped), or give --offset %s=D (or --offset %s=D) for each part.", name, other, name, other)
			out = append(out, an)
			continue
		}
		var names, shown, offsets []string
		for _, n := range g.nodes {
			names = append(names, a.w.nodes[n])
		}
		for _, st := range g.ties {
			shown = append(shown, fmt.Sprintf("%s of %s's clock against %s's, between %s and %s on %s's clock",
				fmtStep(st.size), a.w.nodes[st.node], a.w.nodes[st.tiedWith], fmtAt(min(st.pre, st.post)),
				fmtAt(max(st.pre, st.post)), a.w.nodes[st.node]))
		}
		for _, q := range g.lineless {
			shown = append(shown, fmt.Sprintf("no single offset of %s's clock against %s's", a.w.nodes[q[0]], a.w.nodes[q[1]]))
		}
		for _, n := range names[1:] {
			offsets = append(offsets, "--offset "+n+"=D")
		}
		list := strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
		an.Message = fmt.Sprintf("The clocks of two or more of %s stepped at one moment during the capture: the packets "+
			"between each pair of them that shows it agree on one offset before the moment and on another after it (%s), "+
			"but the captures cannot resolve a step of any one: the pairs' steps fit more than one set of clocks that "+
			"stepped, and nothing else the captures hold tells which, so none was corrected. Packets across %s about "+
			"then may have been matched wrong: their drops and losses there are said as uncertain.", list,
			strings.Join(shown, "; "), list)
		an.Next = fmt.Sprintf("Capture another node's traffic to %s around that moment (its packets both ways tell which "+
			"clocks stepped), or give --offset %s=D (or %s) for each part.", strings.Join(names[:len(names)-1], ", ")+
			" or "+names[len(names)-1], names[0], strings.Join(offsets, ", "))
		out = append(out, an)
	}
	return out
}

// tieGroup is tied steps (each once, at the first of its two nodes by name) that share a node at one
// moment, and their nodes, in order, with the nodes of the other pairs of theirs that fit no line
// (clockStep.lineless): those may have stepped then too.
type tieGroup struct {
	nodes    []int
	ties     []*clockStep
	lineless [][2]int
}

// tieGroups returns the tied steps (clockModel.tied) grouped: two ties are one group where a node of
// both has them at one moment (their spans from the last sample before to the first after, on its
// clock, overlap), in the order of their first node.
func (a *analysis) tieGroups() []tieGroup {
	type pair [2]int
	up := map[pair]pair{}
	var find func(p pair) pair
	find = func(p pair) pair {
		if q, ok := up[p]; ok && q != p {
			r := find(q)
			up[p] = r
			return r
		}
		return p
	}
	key := func(st *clockStep) pair { return pair{min(st.node, st.tiedWith), max(st.node, st.tiedWith)} }
	var order []pair
	first := map[pair]*clockStep{}
	for n := range a.clocks {
		tied := a.clocks[n].tied
		for i, st := range tied {
			if st.tiedWith > n {
				order, first[key(st)], up[key(st)] = append(order, key(st)), st, key(st)
			}
			for _, o := range tied[:i] {
				if spansMeet(st.pre, st.post, o.pre, o.post) {
					if r1, r2 := find(key(st)), find(key(o)); r1 != r2 {
						up[r2] = r1
					}
				}
			}
		}
	}
	var out []tieGroup
	at := map[pair]int{}
	for _, p := range order {
		r := find(p)
		i, ok := at[r]
		if !ok {
			i, at[r] = len(out), len(out)
			out = append(out, tieGroup{})
		}
		g := &out[i]
		g.ties = append(g.ties, first[p])
		for _, n := range p {
			if !slices.Contains(g.nodes, n) {
				g.nodes = append(g.nodes, n)
			}
		}
		for _, q := range first[p].lineless {
			if first[q] != nil {
				continue // a tie of its own (set aside later): grouped by its moment
			}
			if !slices.Contains(g.lineless, q) {
				g.lineless = append(g.lineless, q)
			}
			for _, n := range q {
				if !slices.Contains(g.nodes, n) {
					g.nodes = append(g.nodes, n)
				}
			}
		}
	}
	for i := range out {
		slices.Sort(out[i].nodes)
	}
	return out
}

// unresolvedSteps says, for each clock no offset fits by unfitMin or more (clockModel.disagree) and
// no step was taken off, that it may have stepped by about that much where the samples cannot resolve
// the step (too few packets both ways on one side of it, or a step within their jitter): not
// corrected, and the drops and losses across it said as uncertain (clockUnfit).
func unresolvedSteps(f *findings, k *kindRow) []Anomaly {
	a := f.a
	var out []Anomaly
	grouped := map[int]bool{} // said by a group of ties (tiedSteps): the disagreement is theirs
	for _, g := range a.tieGroups() {
		for _, n := range g.nodes {
			grouped[n] = len(g.nodes) > 2
		}
	}
	for n := range a.clocks {
		m := &a.clocks[n]
		if len(m.steps) > 0 || m.disagree < unfitMin || grouped[n] {
			continue
		}
		name := a.w.nodes[n]
		an := k.anomaly(k.severity, Where{Node: name}, nil, f.ids, 1, nil, "")
		why := a.w.unsplit[n]
		if why == "" {
			why = "too few packets both ways on one side of it, or a step within their jitter"
		}
		an.Message = fmt.Sprintf("No single offset fits the clock of %s: the packets across it disagree by %s, as a step "+
			"of its clock (or of a neighbour's) by about that much would leave them, but the samples cannot resolve a step "+
			"(%s), so it was not corrected. "+
			"Packets across %s may have been matched out of order: the drops and losses there are said as uncertain, and "+
			"a journey first seen past its path's first point is not counted as a retransmission.", name,
			time.Duration(m.disagree).Round(time.Microsecond/10), why, name)
		an.Next = fmt.Sprintf("%s Give --offset %s=D for each part.", k.next, name)
		out = append(out, an)
	}
	return out
}

// stepUnsure reports whether node n's clock stepped at a moment its captures cannot place exactly (or
// another clock stepped too): packets across it may be matched wrong about then.
func (a *analysis) stepUnsure(n int) bool {
	return a.unsureStep(n) != nil
}

// unsureStep returns node n's first step its captures cannot place exactly (the first step when
// another clock stepped too), nil when none.
func (a *analysis) unsureStep(n int) *clockStep {
	steps := a.clocks[n].steps
	if len(a.clocks[n].tied) > 0 {
		return a.clocks[n].tied[0]
	}
	for _, st := range steps {
		if st.unsure > 0 {
			return st
		}
	}
	if len(steps) > 0 && len(steps[0].others) > 0 {
		return steps[0]
	}
	return nil
}

// stepUncertain turns the errors of blindKinds at a segment across a node whose clock stepped at a
// moment the captures cannot place (stepUnsure) into warnings that say why, and says it in the loss
// warnings there too: packets across the node about then may have been matched on the wrong side of
// the step. Unlike clockUncertain, a segment inside the node is one too: a packet that crossed the node
// as its clock stepped has its frames on both sides of the step, each placed by its own capture file.
// A node of a tie (tieGroups) is said as one that may have stepped, with the clock-step warning that
// names the tie (at the tie's first node): not as a clock no offset fits (clockUnfit), which the tie's
// step leaves its samples, and which would send the reader to the clock offsets for a step already
// found.
func (a *analysis) stepUncertain(ans []Anomaly) {
	var unsure []string
	for n := range a.clocks {
		if a.stepUnsure(n) {
			unsure = append(unsure, a.w.nodes[n])
		}
	}
	if len(unsure) == 0 {
		return
	}
	groups := a.tieGroups()
	nodeOf, _ := a.pointNodes(ans)
	for i := range ans {
		an := &ans[i]
		loss := lossWarnings[an.Kind]
		if (!loss && (an.Severity != sevError || !blindKinds[an.Kind])) || an.Where.From == "" ||
			strings.HasPrefix(an.Message, "Uncertain:") {
			continue
		}
		from, ok1 := nodeOf(an.Where.From)
		to, ok2 := nodeOf(an.Where.To)
		if !ok1 || !ok2 {
			continue
		}
		n := from
		if !a.stepUnsure(n) {
			n = to
		}
		if !a.stepUnsure(n) {
			continue
		}
		name, st := a.w.nodes[n], a.unsureStep(n)
		if loss && len(a.clocks[n].tied) == 0 && an.Severity != sevError {
			continue // a loss across a step placed but for a few frames: as before, clockUnfit's if its samples disagree
		}
		an.Severity = sevWarning
		if len(a.clocks[n].tied) > 0 {
			g := tieGroupOf(groups, n)
			var names []string
			for _, m := range g.nodes {
				names = append(names, a.w.nodes[m])
			}
			clocks := "the clock of " + names[0] + " or of " + names[1]
			if len(names) > 2 {
				clocks = "the clocks of two or more of " + strings.Join(names[:len(names)-1], ", ") + " and " +
					names[len(names)-1]
			}
			an.Message = fmt.Sprintf("Uncertain: the clock of %s may have stepped between %s and %s on its clock (%s "+
				"stepped then, and the captures cannot tell which: see clock-step at %s), so packets across %s about "+
				"then may have been matched on the wrong side of the step and these may not be lost. %s", name,
				fmtAt(min(st.pre, st.post)), fmtAt(max(st.pre, st.post)), clocks, names[0], name, an.Message)
			an.Next = fmt.Sprintf("Split the captures at that moment and correlate each part, or give --offset %s=D "+
				"for each part (see clock-step at %s). %s", name, names[0], an.Next)
			continue
		}
		an.Message = fmt.Sprintf("Uncertain: the clock of %s stepped by %s during the capture, at a moment its captures "+
			"cannot place exactly (see clock-step), so packets across it about then may have been matched on the wrong "+
			"side of the step and these may not be lost. %s", name, fmtStep(st.size), an.Message)
		an.Next = fmt.Sprintf("Split the captures at the step (%s on %s's clock) and correlate each part, or give "+
			"--offset %s=D for each part. %s", fmtAt(st.at), name, name, an.Next)
	}
}

// tieGroupOf returns the group of groups (tieGroups) that holds node n: every node with a tied step
// is in one.
func tieGroupOf(groups []tieGroup, n int) tieGroup {
	for _, g := range groups {
		if slices.Contains(g.nodes, n) {
			return g
		}
	}
	return tieGroup{}
}
