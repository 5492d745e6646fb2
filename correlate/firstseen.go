package correlate

import (
	"slices"
	"sync"
)

// firstSeenNote is what OpenerNotShown says of a UDP flow without NAT whose opening no capture could
// have shown: its ends are its first packet seen's, not its client and server.
const firstSeenNote = "which side opened the conversation is not known: every capture that saw its first packet " +
	"may have begun after its opening (the conversation was first seen there no later after the capture's " +
	"first frame than its longest silence there, or after a packet of the other direction), and a conversation's " +
	"first packet seen says nothing of who opened it. Its ends are listed in that packet's direction (first seen " +
	"from, to), not as client and server. Start the captures before the conversation begins"

// tcpFirstSeenNote is what OpenerNotShown says of a TCP flow without NAT whose handshake no capture
// shows: its ends are its first packet seen's, not its client and server.
const tcpFirstSeenNote = tcpUnseen + " Its ends are listed in that packet's direction (first seen from, to), not as " +
	"client and server. Start the captures before the connection opens"

// tcpUnseen is why which side opened a TCP connection is not known (tcpFirstSeenNote, and a NAT
// flow's tcpOpenerNote).
const tcpUnseen = "which side opened the connection is not known: no capture shows its SYN or SYN-ACK (every capture " +
	"began after its handshake, or missed it), and a connection's first packet seen says nothing of who opened it."

// openerShown caches OpenerNotShown's answers by flow index (the TUI asks on every redraw), and holds
// the TCP flows without NAT whose handshake no capture shows (firstSeenTCP).
type openerShown struct {
	mu   sync.Mutex
	note map[int32]string
	// asked: firstSeenTCP ran; tcp then holds, by flow index, the TCP flows without NAT whose opening
	// no capture shows (nil for none).
	asked bool
	tcp   []bool
}

// firstSeenTCP notes the TCP flows without NAT mappings whose opening no capture shows (openingSeen:
// their first journey is neither a SYN nor a SYN-ACK, nor a DNAT of a pod's request), so that
// Flow.OpenerUnknown, JSON's opener_unknown, says it (tcpFirstSeenNote): their Src and Dst are their
// first packet seen's ends, not client and server. The handshake alone answers (a few reads a flow,
// no listing of its sightings). UDP flows without NAT are not asked here: their answer needs a listing
// of each flow's sightings per capture (OpenerNotShown makes it for the tables that ask), which every
// flow of a capture would pay for in JSON (docs/correlation.md, opn19 and opn20).
func (a *analysis) firstSeenTCP() {
	for fi, fl := range a.flows {
		if fl.nat != nil || fl.client.proto != 6 {
			continue
		}
		if seen, _ := a.openingSeen(fl, nil); !seen {
			if a.shown.tcp == nil {
				a.shown.tcp = make([]bool, len(a.flows))
			}
			a.shown.tcp[fi] = true
		}
	}
	a.shown.asked = true
}

// firstSeenAt reports whether firstSeenTCP noted flow fi (Flow.OpenerUnknown: tcpFirstSeenNote).
func (a *analysis) firstSeenAt(fi int) bool { return a.shown.tcp != nil && a.shown.tcp[fi] }

// OpenerNotShown says, for a UDP or TCP flow without NAT mappings whose opening no capture could have
// shown, that which side opened it is not known, and why (firstSeenNote, tcpFirstSeenNote): its Src
// and Dst are then only the ends of its first packet seen. It makes the test natOpeners makes of a NAT
// flow (openingSeen: for TCP, its first journey is neither a SYN nor a SYN-ACK; for UDP, its first
// journey is no WireGuard handshake initiation, and at no capture that saw it did no packet of the
// other direction come before it while the conversation was first seen later after the capture's
// first frame than its longest silence there, srcFlows.late, over the flow's own sightings). A TCP
// flow's is firstSeenTCP's (Flow.OpenerUnknown carries it); a UDP flow's is worked out when asked (the
// Markdown and HTML flow tables ask for the flows they list, the TUI for the flows it shows), so a
// report without those tables (JSON, text) pays nothing for it. "" for every other flow
// (a flow with NAT says so in Flow.OpenerUnknown), an unknown flow ID, or a Result without its
// analysis.
func (r *Result) OpenerNotShown(flowID string) string {
	a := r.analysis
	if a == nil {
		return ""
	}
	fi := a.flowIndex(flowID)
	if fi < 0 {
		return ""
	}
	a.shown.mu.Lock()
	defer a.shown.mu.Unlock()
	if n, ok := a.shown.note[int32(fi)]; ok {
		return n
	}
	n := ""
	if fl := a.flows[fi]; a.shown.asked && fl.nat == nil && fl.client.proto == 6 {
		if a.firstSeenAt(fi) { // firstSeenTCP's answer, which Flow.OpenerUnknown carries
			n = tcpFirstSeenNote
		}
	} else if fl.nat == nil && fl.client.proto == 17 {
		if seen, _ := a.openingSeen(fl, a.flowSources(fl)); !seen {
			n = firstSeenNote
		}
	} else if fl.nat == nil && fl.client.proto == 6 {
		if seen, _ := a.openingSeen(fl, nil); !seen { // the handshake alone: no listing
			n = tcpFirstSeenNote
		}
	}
	if a.shown.note == nil {
		a.shown.note = map[int32]string{}
	}
	a.shown.note[int32(fi)] = n
	return n
}

// flowSources is what srcFlowsIn lists of each source flow fl was seen at, for fl's conversation
// alone, from fl's own sightings (both directions, in each source's order): its keys' first
// sightings, the conversation's first and last time and its longest silence in the source's own
// clock, and the time of the source's first frame. For a flow without NAT every packet of its
// conversation is one of its journeys' sightings (ICMP errors about it, which FlowKeys refuses,
// aside), so openingSeen reads the same as from srcFlowsIn, without listing every source's flows.
func (a *analysis) flowSources(fl *flowAcc) map[uint16]*srcFlows {
	w := a.w
	t := w.c.Tables
	by := map[uint16][]uint32{}
	for _, j := range a.journeysOf(fl) {
		for _, g := range a.hops(int(j)) {
			o, _ := a.obs(g)
			by[o.Source] = append(by[o.Source], g)
		}
	}
	out := make(map[uint16]*srcFlows, len(by))
	for src, gs := range by {
		slices.Sort(gs)
		_, f := a.obs(gs[0])
		sf := &srcFlows{first: map[uint64]uint32{}, conv: map[uint64]*convSpan{}}
		for i := range w.c.Obs[f] {
			if o := &w.c.Obs[f][i]; o.Source == src {
				sf.start = w.c.Stamps[f].Ts(i, o)
				break
			}
		}
		for _, g := range gs {
			o, f := a.obs(g)
			k, r, ok := t.FlowKeys(o)
			if !ok {
				continue
			}
			sf.add(k, r, g, w.c.Stamps[f].Ts(int(g-w.fileBase[f]), o))
		}
		out[src] = sf
	}
	return out
}
