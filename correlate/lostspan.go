package correlate

import "strings"

// Losses whose place the captures cannot tell (lst18). An encap-drop on a pod's cali → its node's
// tunnel device where the node's underlay was not captured, and the node did not refuse the packets
// with ICMP errors of its own, is a warning (encapNoUnderlaySev): the packets may have died inside the
// node, or left it unencapsulated by its default route and died past its underlay, which no capture
// shows. The journeys, the flows' lost_at and the segment say so too: they keep their last point seen
// and next expected point (the tunnel device, which did not see them), and name the points not
// captured where they may have been lost instead (Journey.LostUncaptured, LostAt.Uncaptured,
// Segment.LostUncaptured). state-missing-route without node-b's eth0: the replies were lost past
// node-b's eth0, not between its cali and tunl0; state-blackhole-route without it, inside node-b, from
// captures that look the same.

// lostSpanKey is a segment by its points.
type lostSpanKey [2]int32

// encapNoUnderlay is encapNoUnderlaySev's severity of the encap-drop on segment s, whose node's
// underlay was not captured; where that is a warning (the place cannot be told), it marks the
// segment's losses as possibly past the underlay (markLostSpan).
func (f *findings) encapNoUnderlay(s *segAcc, lost int) string {
	sev := f.encapNoUnderlaySev(s, lost)
	if sev == sevWarning {
		f.a.markLostSpan(s)
	}
	return sev
}

// markLostSpan notes that the losses of segment s may have happened past its node's underlay, which
// was not captured (encapNoUnderlay, where encapNoUnderlaySev made the encap-drop a warning).
func (a *analysis) markLostSpan(s *segAcc) {
	if a.lostSpans == nil {
		a.lostSpans = map[lostSpanKey][]string{}
	}
	a.lostSpans[lostSpanKey{int32(s.from), int32(s.to)}] = []string{a.w.nodes[a.w.pointNode[s.from]] + " underlay"}
}

// lostSpan returns the points not captured past segment from → to where its losses may have been (nil
// for a segment whose losses are placed on it).
func (a *analysis) lostSpan(from, to int32) []string {
	if a.lostSpans == nil {
		return nil
	}
	return a.lostSpans[lostSpanKey{from, to}]
}

// applyLostSpans writes the spans markLostSpan noted into the flows' lost_at and the segments, once
// the findings are made (the flows and segments are built before them); journeys and streamed flows
// read them as they are rendered.
func (a *analysis) applyLostSpans(res *Result) {
	if a.lostSpans == nil {
		return
	}
	pointOf := pointIndex(a.w.c.Points)
	span := func(from, to string) []string {
		f, okF := pointOf[from]
		t, okT := pointOf[to]
		if !okF || !okT {
			return nil
		}
		return a.lostSpan(int32(f), int32(t))
	}
	for i := range res.Flows {
		for k := range res.Flows[i].LostAt {
			l := &res.Flows[i].LostAt[k]
			l.Uncaptured = span(l.From, l.To)
		}
	}
	for i := range res.Segments {
		if s := &res.Segments[i]; s.Lost > 0 {
			s.LostUncaptured = span(s.From, s.To)
		}
	}
}

// LostPlace says where packets last seen at from and expected next at to were lost: the segment
// "from→to", or, when uncaptured names points not captured where they may have been lost instead
// (Journey.LostUncaptured, LostAt.Uncaptured), past from, not at to, and what was not captured.
func LostPlace(from, to string, uncaptured []string) string {
	if len(uncaptured) == 0 {
		return from + "→" + to
	}
	return "past " + from + " (not at " + to + "; " + strings.Join(uncaptured, ", ") + " not captured)"
}

// LostSpanNote says, for packets last seen at from, not at to, with uncaptured not captured
// (LostPlace), where they may have been lost, as encap-drop's warning does.
func LostSpanNote(from, to string, uncaptured []string) string {
	u := strings.Join(uncaptured, ", ")
	return "last seen at " + from + ", not at " + to + ", and " + u + " was not captured: lost inside the node before " +
		to + ", or past " + u + " after leaving the node unencapsulated (see encap-drop), which the captures cannot tell"
}
