package correlate

import (
	"fmt"
	"math"
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
// samples (a piecewise-constant fit with one breakpoint, tried only when no line fits every sample),
// puts it down to the node whose pairs show it, and removes it from that node's samples, so that the
// clocks are fitted as if it had not stepped; the node's clock model takes it off its times from the
// step on (clockModel.correct).

// stepMin is the least step findStep reports: no line fits the samples by more than this, and the
// offsets before and after the step differ by at least this.
const stepMin = int64(time.Millisecond)

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
	// pinned: the packets (by exact fingerprint) of the samples that only the offset before the step
	// fits or only the one after, with the node's time of the sample: see stepPin.
	pinned map[uint64]stepPin
	first  []int // per file: the index of its first frame after the step (stepFiles)
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
	sLo, sHi      int64 // the steps (after − before) that leave one offset fitting every sample once taken off
	preA, postA   int64
	preB, postB   int64
	pinPre        []stepPt // the samples only the offset before fits
	pinPost       []stepPt // and after
}

// splitPair finds the step of a pair [a, b] with samples both ways (ab: a→b, ba: b→a): none (ok false)
// when a line (constant or drifting) fits every sample to within stepMin, or when no single breakpoint
// leaves two segments that each fit one offset. The samples are ordered by a's time and by b's (the
// node that stepped back has its times out of order around the step; the other's are in order).
func splitPair(ab, ba []delaySample) (pairSplit, bool) {
	// One offset fitting every sample (by far the most common) needs one pass, and nothing more.
	if minDelay(ab)+minDelay(ba) >= -stepMin {
		return pairSplit{}, false
	}
	pts := make([]stepPt, 0, len(ab)+len(ba))
	for _, s := range ab {
		pts = append(pts, stepPt{xa: s.t, xb: s.t + s.m, v: s.m, up: true, fp: s.fp})
	}
	for _, s := range ba {
		pts = append(pts, stepPt{xa: s.t + s.m, xb: s.t, v: -s.m, fp: s.fp})
	}
	x0 := pts[0].xa
	var up, lo []linePt
	for _, p := range pts {
		x0 = min(x0, p.xa)
	}
	for _, p := range pts {
		if p.up {
			up = append(up, linePt{float64(p.xa - x0), float64(p.v)})
		} else {
			lo = append(lo, linePt{float64(p.xa - x0), float64(p.v)})
		}
	}
	if _, _, margin := bestLine(up, lo); margin >= -float64(stepMin)/2 {
		return pairSplit{}, false
	}
	var best pairSplit
	found := false
	for _, byB := range []bool{false, true} {
		sort.SliceStable(pts, func(i, j int) bool {
			if byB {
				return pts[i].xb < pts[j].xb
			}
			return pts[i].xa < pts[j].xa
		})
		if s, ok := bestSplit(pts, byB); ok && (!found || s.margin > best.margin) {
			best, found = s, true
		}
	}
	if !found {
		return pairSplit{}, false
	}
	size := best.after - best.before
	if abs64(size) < stepMin || best.margin < -max(abs64(size)/20, int64(50*time.Microsecond)) {
		return pairSplit{}, false
	}
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
		return pairSplit{}, false
	}
	return best, true
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
		best = pairSplit{before: (pre.minUp + pre.maxLo) / 2, after: (post.minUp + post.maxLo) / 2, margin: m,
			sLo: post.maxLo - pre.minUp, sHi: post.minUp - pre.maxLo}
		found = true
	}
	return best, found
}

// pairStep is the step the samples of node pair key show.
type pairStep struct {
	key [2]int
	s   pairSplit
}

// pairSteps returns the steps of the node pairs with samples both ways, in pair order.
func pairSteps(pairs map[[2]int][]delaySample) []pairStep {
	var steps []pairStep
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
		if s, ok := splitPair(pairs[k], pairs[[2]int{k[1], k[0]}]); ok {
			steps = append(steps, pairStep{k, s})
		}
	}
	return steps
}

// findStep looks for a clock step in the samples of every node pair with samples both ways and puts it
// down to one node: the one whose pairs show it (with a router between them, node-b's step shows
// against node-a and against the router, which agree with each other; with two nodes only, either may
// have stepped, and the later one by name is taken, the reference being the first). nil when no pair
// shows a step.
func (w *world) findStep(pairs map[[2]int][]delaySample) *clockStep {
	steps := pairSteps(pairs)
	if len(steps) == 0 {
		return nil
	}
	count := map[int]int{}
	for _, f := range steps {
		count[f.key[0]]++
		count[f.key[1]]++
	}
	node := -1
	for _, f := range steps {
		for _, n := range f.key {
			if node < 0 || count[n] > count[node] || count[n] == count[node] && n > node {
				node = n
			}
		}
	}
	st := &clockStep{node: node}
	first := true
	var lo, hi int64
	for _, f := range steps {
		if f.key[0] != node && f.key[1] != node {
			st.others = append(st.others, w.nodes[f.key[0]]+"–"+w.nodes[f.key[1]])
			continue
		}
		size, pre, post, sLo, sHi := f.s.after-f.s.before, f.s.preB, f.s.postB, f.s.sLo, f.s.sHi
		if f.key[0] == node { // θ is the other node's clock minus this one's
			size, pre, post, sLo, sHi = -size, f.s.preA, f.s.postA, -f.s.sHi, -f.s.sLo
		}
		st.pairs++
		if st.pinned == nil {
			st.pinned = map[uint64]stepPin{}
		}
		for k, pins := range [][]stepPt{f.s.pinPre, f.s.pinPost} {
			for _, p := range pins {
				t := p.xb
				if f.key[0] == node {
					t = p.xa
				}
				st.pinned[p.fp] = stepPin{t, k == 1}
			}
		}
		if first {
			st.size, st.pre, st.post, first = size, pre, post, false
			lo, hi = sLo, sHi
			continue
		}
		if abs64(size-st.size) > max(abs64(st.size)/10, stepMin) {
			st.others = append(st.others, w.nodes[f.key[0]]+"–"+w.nodes[f.key[1]])
			continue
		}
		st.pre, st.post = max(st.pre, pre), min(st.post, post)
		lo, hi = max(lo, sLo), min(hi, sHi)
	}
	// The step that leaves each pair's samples one offset, where one does for every pair (the first
	// pair's estimate alone left a reference node that stepped microseconds off after the step, and
	// every clock fitted against it inconsistent).
	if lo <= hi {
		st.size = lo + (hi-lo)/2
	}
	// Frames before the step have the node's times below the moment T, those after at least T + size.
	// After a step forward the first sample after it, less the step, is a moment no earlier than T
	// and after the last sample before; after a step back, times from T + size to T are used twice, and
	// the first sample after the step is where its times are taken as after.
	st.at = st.post
	if st.size > 0 {
		st.at = max(st.post-st.size, st.pre+1)
	}
	return st
}

// stepFiles finds, in each file with frames of the stepped node, its first frame after the step. In
// file order the step lies after the node's last frame of a packet placed before it (a sample only the
// old offset fits: stepSplit) and no later than its first frame of one placed after it; between them,
// a step forward shows as a gap of at least the step in the times, a step back as a jump back by half
// of it or more. Where exactly one such gap or jump lies there, that is the step; where the two frames
// are neighbours, too. Otherwise the frames between them could be on either side (st.unsure counts
// them), and those from st.at on are taken as after.
func (w *world) stepFiles(st *clockStep) {
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
		stamps, loose := &w.c.Stamps[f], &w.c.Loose[f]
		var idx []int // the node's frames, in file order
		var ts []int64
		lastPre, firstPost := -1, math.MaxInt // positions in idx
		for i := range obs {
			w.trimAt(i)
			o := &obs[i]
			if w.pointNode[w.srcPoint[o.Source]] != st.node {
				continue
			}
			t, pos := stamps.Ts(i, o), len(idx)
			idx, ts = append(idx, i), append(ts, t)
			var after, pinned bool
			if pin, ok := st.pinned[o.Exact(loose.At(i))]; ok {
				after, pinned = pin.side(t, st.size)
			}
			switch {
			case pinned && after || t >= postSure:
				firstPost = min(firstPost, pos)
			case pinned || t <= preSure:
				lastPre = pos
			}
		}
		firstPost = min(firstPost, len(idx))
		// The first frame after the step is at a position from lastPre+1 to firstPost.
		jump, jumps := -1, 0
		for k := max(lastPre+1, 1); k <= firstPost && k < len(idx); k++ {
			if d := ts[k] - ts[k-1]; st.size > 0 && d >= st.size || st.size < 0 && d <= st.size/2 {
				jump, jumps = k, jumps+1
			}
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
	sortRefs(out)
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

// setStep puts a step found into its node's model, after the fits (which ran on the samples without
// it): the node's times from the step on are moved back by it before the offset is taken off.
func (w *world) setStep(models []clockModel, st *clockStep) {
	if st == nil {
		return
	}
	m := &models[st.node]
	m.stepAt, m.stepSize, m.step = st.at, st.size, st
	m.method += w.stepMethod(st)
}

// detectClockSteps says which node's clock stepped (clockStep), by how much and when, that calipath
// corrected it, and where its times cannot place frames on either side of the step.
func detectClockSteps(f *findings, k *kindRow) []Anomaly {
	a := f.a
	var out []Anomaly
	for n := range a.clocks {
		st := a.clocks[n].step
		if st == nil {
			continue
		}
		m := &a.clocks[n]
		name := a.w.nodes[n]
		pairs := "1 node pair"
		if st.pairs > 1 {
			pairs = fmt.Sprintf("%d node pairs", st.pairs)
		}
		detail := fmt.Sprintf("Its clock stepped by %s at %s on its own clock (%s corrected), shown by the packets "+
			"of %s with it; its times from then on were corrected by the step.",
			fmtStep(st.size), fmtAt(st.at), fmtAt(m.correct(st.at)), pairs)
		if a.stepUnsure(n) {
			detail += fmt.Sprintf(" But the captures cannot place the step exactly: %d frames of %s lie between the last "+
				"packet that shows the old offset (%s) and the first that shows the new one (%s), and their times do not "+
				"tell which side they are on. Packets across %s about then may be matched wrong: their losses and "+
				"retransmissions there are uncertain, and said as warnings.", st.unsure, name, fmtAt(min(st.pre, st.post)),
				fmtAt(max(st.pre, st.post)), name)
		}
		if len(st.others) > 0 {
			detail += fmt.Sprintf(" The packets between %s show a step too that is not of %s's clock: not corrected, "+
				"so their clocks may be off by it for part of the capture.", strings.Join(st.others, ", "), name)
		}
		an := k.anomaly(k.severity, Where{Node: name}, nil, f.ids, 1, nil, detail)
		an.Next = fmt.Sprintf("%s Or give --offset %s=D for each part.", k.next, name)
		out = append(out, an)
	}
	return out
}

// stepUnsure reports whether node n's clock stepped at a moment its captures cannot place exactly (or
// another clock stepped too): packets across it may be matched wrong about then.
func (a *analysis) stepUnsure(n int) bool {
	st := a.clocks[n].step
	return st != nil && (st.unsure > 0 || len(st.others) > 0)
}

// stepUncertain turns the errors of blindKinds at a segment across a node whose clock stepped at a
// moment the captures cannot place (stepUnsure) into warnings that say why: packets across the node
// about then may have been matched on the wrong side of the step. Unlike clockUncertain, a segment
// inside the node is one too: a packet that crossed the node as its clock stepped has its frames on
// both sides of the step, each placed by its own capture file.
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
	nodeOf, _ := a.pointNodes(ans)
	for i := range ans {
		an := &ans[i]
		if an.Severity != sevError || !blindKinds[an.Kind] || an.Where.From == "" {
			continue
		}
		from, ok1 := nodeOf[an.Where.From]
		to, ok2 := nodeOf[an.Where.To]
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
		name := a.w.nodes[n]
		an.Severity = sevWarning
		an.Message = fmt.Sprintf("Uncertain: the clock of %s stepped by %s during the capture, at a moment its captures "+
			"cannot place exactly (see clock-step), so packets across it about then may have been matched on the wrong "+
			"side of the step and these may not be lost. %s", name, fmtStep(a.clocks[n].step.size), an.Message)
		an.Next = fmt.Sprintf("Split the captures at the step (%s on %s's clock) and correlate each part, or give "+
			"--offset %s=D for each part. %s", fmtAt(a.clocks[n].step.at), name, name, an.Next)
	}
}
