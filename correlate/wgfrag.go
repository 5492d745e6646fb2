package correlate

import (
	"fmt"
	"sort"

	"github.com/calipath/calipath/decode"
)

// WireGuard messages fragmented on the way.
//
// WireGuard sends its UDP datagrams without DF (as the kernel module does), so a link whose MTU is
// below the WireGuard MTU plus 60 bytes (IPv4; 80 for IPv6) fragments the large messages. The first IP
// fragment carries the UDP and WireGuard headers: decode gives it the message's fingerprint, so the
// matcher puts it in the message's journey. Its Seq is its IP identification (as every fragment's), and
// decode's Tables keep its counter (WGFragCounter); its length is the fragment's: the message's length
// comes from the message's sightings in one piece (the sender's eth0 when a router fragmented it), or
// else from the fragments reassembled at that point (when the sender fragmented it itself). The later
// fragments, without UDP header, are followed as journeys of their own by the matcher (their IP id
// and offset name them from point to point), then made pieces of their message (laterPieces): the
// message reached a point whole only if all its fragments did, so a lost later fragment is the
// message lost where the fragment went missing, and the fragments are not packets of the nodes' UDP
// flow.

// wgNoCounter is the counter of a first fragment whose counter decode did not keep (an Observation not
// decoded from a frame).
const wgNoCounter = ^uint64(0)

// wgFragWork is what joinWireGuard keeps about fragments while it collects the messages.
type wgFragWork struct {
	known  map[int32]wgMsg          // message journey → the message as a sighting in one piece showed it
	firsts []wgFirstFrag            // first fragments of transport messages at underlay points
	later  map[wgFragKey][]wgLaterF // later UDP fragments at underlay points, by datagram
}

// wgFragKey names the fragments of one datagram at one point.
type wgFragKey struct {
	p        int
	src, dst uint32
	id       uint32
}

// wgFirstFrag is the first fragment of a transport message seen at an underlay point.
type wgFirstFrag struct {
	o *decode.Observation
	g uint32
	j int32
	p int
	t int64
}

// wgLaterF is a later fragment: its payload bytes, when it was seen, its journey and frame.
type wgLaterF struct {
	payload int
	t       int64
	j       int32
	g       uint32
}

// wgFrag is one transport message seen in IP fragments, for the fragmented finding.
type wgFrag struct {
	j        int32  // its journey (the packet's it carried, once joined)
	g        uint32 // its earliest fragmented sighting: the point nearest where it was fragmented
	from, to int    // sending and receiving nodes (-1 unknown)
	first    int    // IP length of that first fragment (the link's MTU is at least this)
	msgLen   int    // the message's length (UDP payload; 0: unknown)
}

// fragReassembly bounds how far apart in time the fragments of one datagram at one point may be
// (Linux's ipfrag_time is 30 s; fragments of one datagram are normally back to back).
const fragReassembly = int64(30e9)

// noteMsg records a message as one of its sightings in one piece showed it.
func (wj *wgJoin) noteMsg(j int32, m wgMsg) {
	if wj.known == nil {
		wj.known = map[int32]wgMsg{}
	}
	if _, ok := wj.known[j]; !ok {
		wj.known[j] = m
	}
}

// fragment lists an IP fragment of a UDP datagram at underlay point p: the first fragment of a
// transport message (typ), or a later fragment of any datagram (typ 0: it may complete one).
func (wj *wgJoin) fragment(o *decode.Observation, typ uint8, g uint32, j int32, p int, t int64) {
	switch {
	case typ == decode.WGTransport && o.Flags&decode.FlagLaterFragment == 0:
		wj.firsts = append(wj.firsts, wgFirstFrag{o: o, g: g, j: j, p: p, t: t})
	case o.Flags&decode.FlagLaterFragment != 0:
		if wj.later == nil {
			wj.later = map[wgFragKey][]wgLaterF{}
		}
		k := wgFragKey{p, o.Src, o.Dst, o.Seq}
		wj.later[k] = append(wj.later[k], wgLaterF{payload: o.PayloadLen(), t: t, j: j, g: g})
	}
}

// fragments lists the messages seen as first fragments at the nodes' underlay in their sessions (once
// every sighting in one piece is known), and notes each fragmented message for the finding.
func (wj *wgJoin) fragments() {
	w := wj.w
	byJ := map[int32]*wgFrag{}
	for i := range wj.firsts {
		ff := &wj.firsts[i]
		wj.transport(ff.o, ff.g, ff.j, ff.p, w.pointNode[ff.p], ff.t) // lists it at the nodes' underlay only

		fr := byJ[ff.j]
		if fr == nil || wj.m.correctedG(ff.g) < wj.m.correctedG(fr.g) {
			v6 := ff.o.Flags&decode.FlagIPv6 != 0
			fr = &wgFrag{j: ff.j, g: ff.g, from: w.nodeOf(v6, ff.o.Src), to: w.nodeOf(v6, ff.o.Dst), first: int(ff.o.Len),
				msgLen: wj.fragPadded(ff.j, ff.o, ff.g)}
			if fr.msgLen > 0 {
				fr.msgLen += 32
			}
			byJ[ff.j] = fr
		}
	}
	for _, fr := range byJ {
		wj.st.frags = append(wj.st.frags, *fr)
	}
	sort.Slice(wj.st.frags, func(x, y int) bool { return wj.st.frags[x].g < wj.st.frags[y].g })
}

// fragCounter returns the counter of the message whose first fragment is o, frame number frame, as
// decode kept it (wgNoCounter: it did not).
func (w *world) fragCounter(o *decode.Observation, frame uint32) uint64 {
	if c, ok := w.c.Tables.WGFragCounter(o, frame, w.ctxOf(o)); ok {
		return c
	}
	return wgNoCounter
}

// fragPadded returns the padded inner length of message journey j seen as first fragment o (frame g):
// as a sighting in one piece showed it, or else from the datagram's fragments at o's point (0 when
// they do not add up to a transport message: one is missing there).
func (wj *wgJoin) fragPadded(j int32, o *decode.Observation, g uint32) int {
	if m, ok := wj.known[j]; ok {
		return m.padded
	}
	p := wj.w.srcPoint[o.Source]
	t := wj.m.correctedG(g)
	n := o.PayloadLen() // UDP payload bytes in the first fragment
	for _, l := range wj.later[wgFragKey{p, o.Src, o.Dst, o.Seq}] {
		if d := l.t - t; d >= -fragReassembly && d <= fragReassembly {
			n += l.payload
		}
	}
	if n < 32 || (n-32)%16 != 0 {
		return 0
	}
	return n - 32
}

// fragsJoined renames the fragmented messages' journeys as the join merged them (find).
func (wj *wgJoin) fragsJoined(find func(int32) int32) {
	for i := range wj.st.frags {
		wj.st.frags[i].j = find(wj.st.frags[i].j)
	}
}

// detectFragmented lists, per underlay point, the WireGuard messages first seen there in IP fragments
// (the point nearest where they were fragmented): the WireGuard MTU is too large for a link before it.
func detectFragmented(f *findings, k *kindRow) []Anomaly {
	a := f.a
	if a.wg == nil || len(a.wg.frags) == 0 {
		return nil
	}
	type hit struct {
		flows          map[int32]bool
		ev             []Evidence
		n, first, size int
		pairs          map[[2]int]bool
	}
	at := map[int]*hit{}
	for _, fr := range a.wg.frags {
		p := a.point(fr.g)
		h := at[p]
		if h == nil {
			h = &hit{flows: map[int32]bool{}, pairs: map[[2]int]bool{}}
			at[p] = h
		}
		h.n++
		h.first, h.size = max(h.first, fr.first), max(h.size, fr.msgLen)
		h.pairs[[2]int{fr.from, fr.to}] = true
		if int(fr.j) < len(a.jFlow) && a.jFlow[fr.j] >= 0 {
			h.flows[a.jFlow[fr.j]] = true
		}
		if len(h.ev) < 10 {
			h.ev = append(h.ev, a.evidence(fr.g))
		}
	}
	var out []Anomaly
	for _, p := range sortedKeys(at) {
		h := at[p]
		detail := fmt.Sprintf("%d WireGuard transport messages %s arrived in IP fragments (the first of at most %d bytes",
			h.n, a.wgPairsText(h.pairs), h.first)
		if h.size > 0 {
			detail += fmt.Sprintf(", of messages up to %d bytes: %d on the wire", h.size, h.size+28)
		}
		detail += "): the WireGuard MTU is too large for the underlay on the way."
		out = append(out, k.anomaly(k.severity, Where{Point: a.w.c.Points[p].ID}, h.flows, f.ids, h.n, h.ev, detail))
	}
	return out
}

// wgPairsText names the node pairs messages went between: "from node-b to node-a", or "between 3 node
// pairs".
func (a *analysis) wgPairsText(pairs map[[2]int]bool) string {
	if len(pairs) != 1 {
		return fmt.Sprintf("between %d node pairs", len(pairs))
	}
	name := func(n int) string {
		if n < 0 {
			return "an unknown node"
		}
		return a.w.nodes[n]
	}
	for pr := range pairs {
		return "from " + name(pr[0]) + " to " + name(pr[1])
	}
	return ""
}

// wgFragChange says where a WireGuard message went on as its first IP fragment: "fragmented 1500→1396"
// (the message's IP length, then its first fragment's); "" elsewhere.
func wgFragChange(prev, o *decode.Observation, msg bool) string {
	if !msg || prev == nil || prev.Flags&decode.FlagFragment != 0 || o.Flags&decode.FlagFragment == 0 {
		return ""
	}
	return fmt.Sprintf("fragmented %d→%d", prev.Len, o.Len)
}

// laterPieces returns the later fragments of each fragmented message as pieces of the message's
// journey (find: as the join merged it): a message reached its receiver only if every fragment did,
// so a lost fragment is the message lost there, and the fragments are not packets of their own. A
// later fragment is the first fragment's at one point when it has the same source, destination and
// IP id (UDP: the first fragments listed are transport messages) within fragReassembly. Each later
// fragment's journey is a piece once, of the first message whose first fragment it completes at some
// point. The pieces go beside the message (frag): placement settles the message with the worst
// outcome of its fragments, and does not take them for its continuation.
func (wj *wgJoin) laterPieces(find func(int32) int32) []gsoEvent {
	var out []gsoEvent
	taken := map[int32]bool{}
	for i := range wj.firsts {
		ff := &wj.firsts[i]
		for _, l := range wj.later[wgFragKey{ff.p, ff.o.Src, ff.o.Dst, ff.o.Seq}] {
			if d := l.t - ff.t; d < -fragReassembly || d > fragReassembly || taken[l.j] || l.j == ff.j {
				continue
			}
			taken[l.j] = true
			out = append(out, gsoEvent{parent: find(ff.j), child: l.j, at: l.g, frag: true})
		}
	}
	return out
}
