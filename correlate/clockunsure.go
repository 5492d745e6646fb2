package correlate

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// unsureReach returns the corrected times between which a packet's sightings may have been matched
// wrong about node n's step i, one its captures cannot place exactly (clockStep.unsure): the node's
// frames between the last sample before it and the first after it may be on either side, so their
// corrected times are uncertain by the step's size, and a frame placed on the wrong side can take,
// or leave, a match as far again from it, at another node too (clusterip-dnat, node-b −300 µs at
// 1.6111 s: the SYN seen at node-a 183 µs before node-b's last sample before the step was left
// unmatched).
func (a *analysis) unsureReach(n, i int) (lo, hi int64) {
	m := &a.clocks[n]
	st := m.steps[i]
	d := abs64(st.size)
	lo = m.unskew(m.unstep(min(st.pre, st.post), i+1)) - max(st.size, 0)
	hi = m.unskew(m.unstep(max(st.pre, st.post), i+1)) + max(-st.size, 0)
	return lo - d, hi + d
}

// unsureSpan is unsureReach of node n's step i.
type unsureSpan struct {
	n, i   int
	lo, hi int64
}

// unsureSpans returns unsureReach of every step placed but for a few frames (clockStep.unsure), of
// the clocks movedClocks leaves out: a tie or a clock no offset fits is clockUnreliable's.
func (a *analysis) unsureSpans() []unsureSpan {
	moved := a.movedClocks()
	var out []unsureSpan
	for n := range a.clocks {
		m := &a.clocks[n]
		if len(m.tied) > 0 || slices.Contains(moved, n) {
			continue
		}
		for i, st := range m.steps {
			if st.unsure > 0 {
				lo, hi := a.unsureReach(n, i)
				out = append(out, unsureSpan{n, i, lo, hi})
			}
		}
	}
	return out
}

// spanOf returns the first of spans that holds corrected time t.
func spanOf(spans []unsureSpan, t int64) (unsureSpan, bool) {
	for _, r := range spans {
		if t >= r.lo && t <= r.hi {
			return r, true
		}
	}
	return unsureSpan{}, false
}

// unsureLost returns, of the packets an unplaced step may have split in two (unsureSpans), the
// segments (last point seen, next expected) of those lost within a span, each with its span.
func (a *analysis) unsureLost(spans []unsureSpan) map[[2]int32]unsureSpan {
	lost := map[[2]int32]unsureSpan{}
	for j := 0; j < a.nJ; j++ {
		hs := a.hops(j)
		if a.jFlow[j] < 0 || len(hs) == 0 || a.jStatus[j] != stLost || a.jLast[j] < 0 || a.jNext[j] < 0 {
			continue
		}
		o, f := a.obs(hs[len(hs)-1])
		t := a.journeys.corrected(o, f, int(hs[len(hs)-1]-a.w.fileBase[f]))
		k := [2]int32{a.jLast[j], a.jNext[j]}
		if r, ok := spanOf(spans, t); ok {
			if _, had := lost[k]; !had {
				lost[k] = r
			}
		}
	}
	return lost
}

// unsureLosses hedges the losses a step its captures cannot place exactly may have made, at any
// node: a loss finding (lossWarnings) on a segment where a packet was lost within unsureReach of such
// a step is said as uncertain, and the nodes whose steps did it are returned, in order, for the summary
// (unsureUnreliable). stepUncertain leaves a loss across the stepped node itself alone when its step
// was placed but for a few frames; one of those frames on the wrong side of the step leaves one
// packet's sightings as two journeys, the first lost: clusterip-dnat, node-b −300 µs at 1.6111 s, or
// node-a −500 µs at 1.6109 s with per-interface files only, gave "1 of 15 packets lost" between
// node-a's pod veth and tunl0, 28 packets (truth: 27 sent, 27 delivered), all said as certain.
func (a *analysis) unsureLosses(ans []Anomaly) []int {
	spans := a.unsureSpans()
	if len(spans) == 0 {
		return nil
	}
	lost := a.unsureLost(spans)
	if len(lost) == 0 {
		return nil
	}
	pointOf := pointIndex(a.w.c.Points)
	var nodes []int
	for i := range ans {
		an := &ans[i]
		if an.Severity == sevError || strings.HasPrefix(an.Message, "Uncertain:") {
			continue
		}
		from, okFrom := pointOf[an.Where.From]
		to, okTo := pointOf[an.Where.To]
		r, ok := lost[[2]int32{int32(from), int32(to)}]
		if !lossWarnings[an.Kind] || !okFrom || !okTo || !ok {
			continue
		}
		a.sayUnsure(an, r)
		if !slices.Contains(nodes, r.n) {
			nodes = append(nodes, r.n)
		}
	}
	slices.Sort(nodes)
	return nodes
}

// sayUnsure says loss finding an as uncertain by span r's step.
func (a *analysis) sayUnsure(an *Anomaly, r unsureSpan) {
	name, st := a.w.nodes[r.n], a.clocks[r.n].steps[r.i]
	an.Message = fmt.Sprintf("Uncertain: the clock of %s stepped by %s during the capture, at a moment its captures "+
		"cannot place exactly (see clock-step at %s), and packets were lost here within %s (the step's size) of the "+
		"frames of %s it leaves unplaced: one of them placed on the wrong side of the step can leave one packet's "+
		"sightings as two journeys, the first lost, so these may not be lost. %s", name, fmtStep(st.size), name,
		time.Duration(abs64(st.size)).Round(time.Microsecond), name, an.Message)
	an.Next = fmt.Sprintf("Split the captures at the step (%s on %s's clock) and correlate each part, or give "+
		"--offset %s=D for each part. %s", fmtAt(st.at), name, name, an.Next)
}

// unsureUnreliable is the summary's Unreliable when losses were hedged by unsureLosses (the nodes
// whose unplaced steps made them uncertain), else "": the summary's sent, delivered and lost counts
// hold the journeys such a step may have made of one packet.
func (a *analysis) unsureUnreliable() string {
	if len(a.unsureStepped) == 0 {
		return ""
	}
	var names []string
	for _, n := range a.unsureStepped {
		names = append(names, a.w.nodes[n])
	}
	clocks, at := "the clock of "+names[0], names[0]
	if len(names) > 1 {
		clocks = "the clocks of " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	}
	return fmt.Sprintf("%s stepped at a moment the captures cannot place exactly, and packets were lost about then "+
		"(see clock-step and the losses said as uncertain): one packet's sightings may have been counted as two "+
		"packets, one lost, so the sent, delivered and lost counts are unreliable; split the captures at the step "+
		"(editcap -A/-B) and correlate each part, or give --offset %s=D for each part", clocks, at)
}
