package correlate

import (
	"fmt"
	"strings"

	"github.com/calipath/calipath/decode"
)

// srcFlows is what dnatOpens knows of one source's flows, listed the first time it asks about the
// source: each flow's first sighting there (global id, by decode.Tables.FlowKeys' forward key), each
// conversation's (both directions of a flow, by the lower of the two keys) span in the source's own
// time, and the time of the source's first frame.
type srcFlows struct {
	start int64
	first map[uint64]uint32
	conv  map[uint64]*convSpan
}

// add counts sighting g (flow keys k and r: FlowKeys, at time ts in the source's clock) in sf: the
// first sighting of k, and the span and longest silence of its conversation.
func (sf *srcFlows) add(k, r uint64, g uint32, ts int64) {
	if _, seen := sf.first[k]; !seen {
		sf.first[k] = g
	}
	c := sf.conv[min(k, r)]
	if c == nil {
		sf.conv[min(k, r)] = &convSpan{first: ts, last: ts}
		return
	}
	c.gap = max(c.gap, ts-c.last)
	c.last = ts
}

// convSpan is a conversation's sightings in one source: the first's and the latest's time, and the
// longest time between two of them in a row.
type convSpan struct {
	first, last, gap int64
}

// openUnsure is a NAT sighting that dnatOpens could not tell an opening from a reply: after, the
// sighting, rewritten, on the node whose eth0 no capture shows; before, the latest sighting of the
// open journey it would have joined (of), headed for the node's own address. Neither capture could
// have shown the conversation's opening (srcFlows.late).
type openUnsure struct {
	of            int32
	before, after uint32
}

// dnatOpens reports whether NAT sighting s on node is packet last (open journey js's latest sighting,
// elsewhere, with a higher TTL) after the node's DNAT: last, unencapsulated, was headed for node's own
// address, and s opens its conversation (a TCP SYN without ACK; a UDP datagram that opensFlow finds
// opening it), so its rewrite is a DNAT, not the un-SNAT of a reply. See natBehind.
func (m *matcher) dnatOpens(last *decode.Observation, js *jstate, s *sighting, node int) bool {
	o := s.o
	if last.Encap() != decode.EncapNone || o.Flags&decode.FlagICMPError != 0 ||
		m.w.nodeOfIPOnly(last.Flags&decode.FlagIPv6 != 0, last.Dst) != node {
		return false
	}
	switch o.Proto {
	case 6:
		return o.TCPFlags&(decode.TCPSyn|decode.TCPAck) == decode.TCPSyn
	case 17:
		return m.opensFlow(last, js, s)
	}
	return false
}

// opensFlow reports whether UDP sighting s, rewritten, opens its conversation, last (open journey js's
// latest sighting) being its packet before the rewrite: no packet of the other direction came before it where s was
// seen, nor before last where last was seen (each capture's order), and both captures could have
// shown the conversation's opening. A reply un-SNATed (a pod's conversation masqueraded) looks like
// an opening DNATed where the captures began in the conversation's middle, after its request: so
// where either capture's first sighting of the conversation came no later after that capture's first
// frame than the conversation's longest silence there (srcFlows.late), s is not taken, and the pair is
// noted (natUnsure) for the warning that says so.
func (m *matcher) opensFlow(last *decode.Observation, js *jstate, s *sighting) bool {
	t := m.w.c.Tables
	lastG := js.lastG
	fwd, rev, ok := t.FlowKeys(s.o)
	if !ok {
		return false
	}
	at := m.srcFlows(s.o.Source, s.g)
	if g, seen := at.first[rev]; seen && g < s.g {
		return false
	}
	lf, lr, ok := t.FlowKeys(last)
	if !ok {
		return false
	}
	bf := m.srcFlows(last.Source, lastG)
	if g, seen := bf.first[lr]; seen && g < lastG {
		return false
	}
	if at.late(fwd, rev) || bf.late(lf, lr) {
		m.noteUnsure(js.id1-1, lastG, s.g)
		return false
	}
	return true
}

// late reports whether the conversation of a flow (its keys both ways) was first seen in the source
// no later after the source's first frame than its longest silence there: the capture may have begun
// after its opening, and its first packet seen there tells nothing of which side opened it.
func (sf *srcFlows) late(fwd, rev uint64) bool {
	c := sf.conv[min(fwd, rev)]
	return c == nil || c.first-sf.start <= c.gap
}

// noteUnsure notes NAT sighting g not taken for the packet of open journey j, last seen at lastG,
// because opensFlow could not tell (once per pair).
func (m *matcher) noteUnsure(j int32, lastG, g uint32) {
	for i := len(m.natUnsure) - 1; i >= 0 && m.natUnsure[i].after == g; i-- {
		if m.natUnsure[i].before == lastG {
			return
		}
	}
	m.natUnsure = append(m.natUnsure, openUnsure{of: j, before: lastG, after: g})
}

// srcFlows returns source src's flows (srcFlows), listing them the first time; g is the global id of
// one of its sightings (its file).
func (m *matcher) srcFlows(src uint16, g uint32) *srcFlows {
	if m.flowFirst == nil {
		m.flowFirst = map[uint16]*srcFlows{}
	}
	return m.w.srcFlowsIn(m.flowFirst, src, g)
}

// srcFlowsIn returns source src's flows (srcFlows) from cache, listing them into it the first time;
// g is the global id of one of its sightings (its file).
func (w *world) srcFlowsIn(cache map[uint16]*srcFlows, src uint16, g uint32) *srcFlows {
	if sf, ok := cache[src]; ok {
		return sf
	}
	t := w.c.Tables
	sf := &srcFlows{first: map[uint64]uint32{}, conv: map[uint64]*convSpan{}}
	_, f := w.obsAt(g)
	begun := false
	for i := range w.c.Obs[f] {
		o := &w.c.Obs[f][i]
		if o.Source != src {
			continue
		}
		ts := w.c.Stamps[f].Ts(i, o)
		if !begun {
			sf.start, begun = ts, true
		}
		k, r, ok := t.FlowKeys(o)
		if !ok {
			continue
		}
		sf.add(k, r, w.fileBase[f]+uint32(i), ts)
	}
	cache[src] = sf
	return sf
}

// openUnsureNote is what path-incomplete adds at point (where captures stop, left) for the journeys
// that ended there because opensFlow could not tell (matcher.natUnsure): how many, the points their
// packets may have been seen at next, rewritten, why they were not joined, and the fix. "" when none
// of them ended there.
func (a *analysis) openUnsureNote(point int, left bool) (note, next string) {
	if !left || len(a.journeys.natUnsure) == 0 {
		return "", ""
	}
	w := a.w
	ofs := map[int32]bool{}
	var ats []string
	atSeen := map[int]bool{}
	node := ""
	for _, u := range a.journeys.natUnsure {
		if a.point(u.before) != point || ofs[u.of] {
			continue
		}
		h := a.hops(int(u.of))
		if len(h) == 0 || h[len(h)-1] != u.before {
			continue // the journey went on: joined past the rewrite after all
		}
		ofs[u.of] = true
		if p := a.point(u.after); !atSeen[p] {
			atSeen[p] = true
			ats = append(ats, w.c.Points[p].ID)
			node = w.nodes[w.pointNode[p]]
		}
	}
	if len(ofs) == 0 {
		return "", ""
	}
	// The conversations' later packets were not taken either (the other direction seen before them,
	// no NAT event joined on their flow): every packet of these flows that left the captures here.
	fl := map[int32]bool{}
	for j := range ofs {
		if fi := a.jFlow[j]; fi >= 0 {
			fl[fi] = true
		}
	}
	n := 0
	for _, e := range a.openEnds {
		if e.left && e.point == point && (ofs[e.j] || fl[a.jFlow[e.j]]) {
			n++
		}
	}
	note = fmt.Sprintf(" %d of them may be, rewritten by a NAT on %s that no capture shows, UDP packets seen next at %s: "+
		"calipath cannot tell whether that rewrite is a DNAT opening their conversation or the un-SNAT of replies to "+
		"a conversation that %s's side opened, because the captures began in the conversation's middle (its first "+
		"packet seen at those points came no later after the capture's first frame than the conversation's longest "+
		"silence there), and the first packet of a conversation seen says nothing of who opened it; so the packets "+
		"are not joined across the rewrite, and each side's are counted as not captured, neither delivered nor lost.",
		n, node, strings.Join(ats, ", "), node)
	next = fmt.Sprintf("Capture %s's eth0 (or tcpdump -i any there), and start the captures before the conversations "+
		"begin: the NAT is then seen with both its sides.", node)
	return note, next
}
