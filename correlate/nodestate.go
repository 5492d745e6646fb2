package correlate

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
)

// Explanation is a line of a node's own state (its `ip` dumps in Options.Cluster) that explains an
// anomaly: the route, neighbour or interface the lost packets met there.
type Explanation struct {
	// Kind is blackhole-route, no-route, no-block-route, neighbour-failed, mtu-too-small or link-down
	// (docs/anomalies.md says what each means).
	Kind  string `json:"kind"`
	Node  string `json:"node"`
	File  string `json:"file"`
	Line  int    `json:"line,omitempty"`  // 0 when what explains it is a line the dump lacks
	Entry int    `json:"entry,omitempty"` // the entry of a JSON dump
	Text  string `json:"text"`            // the dump's line (or entry, as `ip` prints it)
	Why   string `json:"why"`
}

// String cites the explanation: "node-a-routes.txt:3: blackhole 10.244.2.0/26 (why)".
func (e Explanation) String() string {
	at := e.File
	if e.Line > 0 {
		at += fmt.Sprintf(":%d", e.Line)
	}
	if e.Entry > 0 {
		at += fmt.Sprintf(" (entry %d)", e.Entry)
	}
	if e.Text != "" {
		at += ": " + e.Text
	}
	return at + " — " + e.Why
}

// tunnelOverhead is what each tunnel device adds to a packet it carries: its outer headers.
var tunnelOverhead = map[string]int{"tunl0": 20, "vxlan.calico": 50, "vxlan-v6.calico": 70, "wireguard.cali": 60,
	"wg-v6.cali": 80}

// encapOverhead is the same by the encapsulation a frame was seen with.
var encapOverhead = map[decode.Encap]int{decode.EncapIPIP: 20, decode.EncapVXLAN: 50}

// lostPkt is what a lost packet was at the start of the segment it was lost on.
type lostPkt struct {
	dst   netip.Addr // innermost destination
	outer netip.Addr // the outer destination when it was encapsulated there
	size  int        // innermost IP length (0 for a GSO/GRO frame, whose size is no packet's)
	encap decode.Encap
	src   int // the node it was first seen on (the sending pod's, normally)
}

// explainer works out which line of the nodes' dumps explains the drop anomalies.
type explainer struct {
	a      *analysis
	states map[string]*cluster.NodeState
	point  map[string]int // point ID → index
}

// explainDrops gives each drop anomaly (losses on a segment, unanswered ARP) the lines of the nodes'
// `ip` dumps that explain it. Without dumps (Options.Cluster's NodeState) it does nothing, so the
// Result is what it was.
func (a *analysis) explainDrops(anoms []Anomaly) {
	if a.opts.Cluster == nil || len(a.opts.Cluster.NodeState) == 0 {
		return
	}
	x := &explainer{a: a, states: a.opts.Cluster.NodeState, point: pointIndex(a.w.c.Points)}
	for i := range anoms {
		an := &anoms[i]
		switch an.Kind {
		case "encap-drop", "underlay-drop", "decap-drop", "delivery-drop", "host-drop", "loss", "pmtu-blackhole":
			an.ExplainedBy = x.segment(an)
			if an.Kind == "pmtu-blackhole" {
				an.ExplainedBy = dedupe(append(an.ExplainedBy, x.wgMTU(an)...)) // wgmtu.go
				an.Next += x.recvMTUNext(an)                                    // mtulink.go
			}
		case "fragmented":
			an.ExplainedBy = x.wgMTU(an)
		case "proxy-arp-missing", "arp-unanswered":
			an.ExplainedBy = x.arp(an)
		}
	}
}

// lost lists what the lost packets of segment s were at its start (those kept as evidence: the first
// ten of each flow).
func (x *explainer) lost(s *segAcc) []lostPkt {
	a, w := x.a, x.a.w
	var out []lostPkt
	for _, e := range s.evidence {
		hops := a.hops(int(e.j))
		g := hops[len(hops)-1]
		for _, h := range hops {
			if a.point(h) == s.from {
				g = h
			}
		}
		o, _ := a.obs(g)
		if o.Flags&(decode.FlagARP|decode.FlagICMPError) != 0 {
			continue
		}
		v6 := o.Flags&decode.FlagIPv6 != 0
		p := lostPkt{encap: o.Encap(), src: w.pointNode[a.point(hops[0])]}
		if v6 {
			p.dst = w.c.Tables.V6(o.Dst)
		} else {
			p.dst = addrOf(o.Dst)
		}
		if o.Flags&decode.FlagGSO == 0 {
			p.size = int(o.Len)
		}
		if p.encap != decode.EncapNone {
			if c := w.ctxOf(o); c.OuterV != 0 {
				p.outer = c.OuterDstAddr()
			}
		}
		out = append(out, p)
	}
	return out
}

// segment explains the losses of a segment anomaly: on the node that routes the packets there, the
// route their destination takes (a blackhole, none, only the default for a pod of another node), the
// neighbour it needs (unresolved), the MTU of the device it leaves by (below the largest lost packet);
// on the segment's last point, its device (down, or an MTU below what arrives).
func (x *explainer) segment(an *Anomaly) []Explanation {
	a, w := x.a, x.a.w
	from, ok1 := x.point[an.Where.From]
	to, ok2 := x.point[an.Where.To]
	if !ok1 || !ok2 {
		return nil
	}
	s := a.segs[[2]int{from, to}]
	if s == nil {
		return nil
	}
	pkts := x.lost(s)
	var out []Explanation
	n1, n2 := w.nodes[w.pointNode[from]], w.nodes[w.pointNode[to]]
	// The node whose routing the packets crossed on this segment.
	router := ""
	switch s.kind {
	case "encap", "host":
		router = n1
	case "decap", "delivery":
		router = n2
	}
	if st := x.states[router]; st != nil {
		for _, p := range pkts {
			dst := p.dst
			if p.encap != decode.EncapNone && s.kind != "decap" && s.kind != "delivery" && p.outer.IsValid() {
				dst = p.outer // already encapsulated: the outer header is what the node routes
			}
			out = append(out, x.route(st, dst, p, s)...)
		}
	}
	// Packets that left their node by its default route instead of a route for the peer's pod block
	// die wherever that route leads: the sending node's routes explain a drop further on too.
	for _, p := range pkts {
		if sender := w.nodes[p.src]; sender != router && x.states[sender] != nil {
			if r, ok := x.states[sender].Lookup(p.dst); ok && r.Default() {
				out = append(out, x.blockRoute(x.states[sender], r, p.dst)...)
			}
		}
	}
	if st := x.states[n2]; st != nil {
		iface := w.c.Points[to].Iface
		if l, ok := st.Link(iface); ok {
			if l.State == "DOWN" {
				out = append(out, explanation("link-down", n2, l.Source,
					fmt.Sprintf("%s is down on %s: nothing passes it.", iface, n2)))
			}
			largest := 0
			for _, p := range pkts {
				if p.size > 0 {
					largest = max(largest, p.size+x.overheadAt(p, from, to))
				}
			}
			if l.MTU > 0 && largest > l.MTU {
				out = append(out, explanation("mtu-too-small", n2, l.Source, fmt.Sprintf(
					"%s's MTU on %s is %d, below the largest lost packet (%d bytes there): larger packets are dropped.",
					iface, n2, l.MTU, largest)))
			}
		}
	}
	return dedupe(out)
}

// overheadAt is how many bytes of outer headers packet p carries at point to, having been what it was
// at point from.
func (x *explainer) overheadAt(p lostPkt, from, to int) int {
	pts := x.a.w.c.Points
	if pts[to].Role != decode.RoleUnderlay && pts[to].Role != decode.RoleAny {
		return 0 // a pod's veth or a tunnel device carries the inner packet
	}
	if p.encap != decode.EncapNone {
		return encapOverhead[p.encap]
	}
	if pts[from].Role == decode.RoleTunnel {
		return tunnelOverhead[pts[from].Iface]
	}
	return 0
}

// route explains what node state st does with packets to dst: its route, the next hop's neighbour,
// the MTU of the device the route leaves by, and for a tunnel device the same for the outer packet.
func (x *explainer) route(st *cluster.NodeState, dst netip.Addr, p lostPkt, s *segAcc) []Explanation {
	node := st.Node
	r, ok := st.Lookup(dst)
	if !ok {
		if st.RouteFile == "" {
			return nil // no route dump: nothing to say
		}
		return []Explanation{{Kind: "no-route", Node: node, File: st.RouteFile,
			Why: fmt.Sprintf("No route on %s covers %s (not even a default route): the kernel drops the packets.", node, dst)}}
	}
	if r.Drops() {
		return []Explanation{explanation("blackhole-route", node, r.Source,
			fmt.Sprintf("The route %s takes for %s is a %s route: the kernel drops the packets there.", node, dst, r.Type))}
	}
	var out []Explanation
	if r.Default() && !p.outer.IsValid() {
		out = append(out, x.blockRoute(st, r, dst)...)
	}
	out = append(out, x.nextHop(st, r, dst)...)
	if l, ok := st.Link(r.Dev); ok && p.size > 0 {
		mtu, src, what := l.MTU, l.Source, r.Dev+"'s MTU"
		if r.MTU > 0 {
			mtu, src, what = r.MTU, r.Source, "the route's MTU"
		}
		if mtu > 0 && s.lostMaxLen > mtu && p.size > mtu {
			out = append(out, explanation("mtu-too-small", node, src, fmt.Sprintf(
				"%s on %s is %d, below the largest lost packet (%d bytes): larger packets are dropped (or refused with ICMP "+
					"fragmentation-needed when they carry DF).", what, node, mtu, p.size)))
		}
		if l.State == "DOWN" {
			out = append(out, explanation("link-down", node, l.Source, fmt.Sprintf("%s is down on %s.", r.Dev, node)))
		}
	}
	if oh, tunnel := tunnelOverhead[r.Dev]; tunnel && r.Via.IsValid() && r.Dev != "vxlan.calico" && r.Dev != "vxlan-v6.calico" {
		// IP-in-IP (and WireGuard) send the outer packet to the route's next hop, routed in turn.
		outer := lostPkt{dst: r.Via, outer: r.Via, encap: decode.EncapIPIP}
		if p.size > 0 {
			outer.size = p.size + oh
		}
		r2, ok := st.Lookup(r.Via)
		if !ok || r2.Drops() {
			return append(out, x.route(st, r.Via, outer, s)...)
		}
		out = append(out, x.nextHop(st, r2, r.Via)...)
		if l, ok := st.Link(r2.Dev); ok && l.MTU > 0 && outer.size > l.MTU {
			out = append(out, explanation("mtu-too-small", node, l.Source, fmt.Sprintf(
				"%s's MTU on %s is %d, below the largest lost packet once encapsulated (%d bytes).", r2.Dev, node,
				l.MTU, outer.size)))
		}
	}
	return out
}

// blockRoute explains the default route r a node took for dst when dst is a pod of another node: the
// node has no route for that pod block, so the packets leave by the default route, unencapsulated.
func (x *explainer) blockRoute(st *cluster.NodeState, r cluster.Route, dst netip.Addr) []Explanation {
	peer, ok := x.podNode(dst)
	if !ok || peer == st.Node {
		return nil
	}
	return []Explanation{explanation("no-block-route", st.Node, r.Source, fmt.Sprintf(
		"%s has no route for the pod block of %s (a pod on %s): only its default route covers it, so the packets "+
			"leave by it, unencapsulated, instead of to %s.", st.Node, dst, peer, peer))}
}

// nextHop explains a route r to dst by its next hop's neighbour entry: FAILED or INCOMPLETE means the
// node could not resolve it, and drops what it queued for it.
func (x *explainer) nextHop(st *cluster.NodeState, r cluster.Route, dst netip.Addr) []Explanation {
	nh := r.Via
	if !nh.IsValid() {
		nh = dst
	}
	if n, ok := st.Neighbour(nh); ok && n.Unresolved() {
		asks := asksOf(nh) + " unanswered"
		return []Explanation{explanation("neighbour-failed", st.Node, n.Source, fmt.Sprintf(
			"%s could not resolve %s, the next hop to %s (%s): it drops the packets queued for it.",
			st.Node, nh, dst, asks))}
	}
	return nil
}

// arp explains unanswered ARP at a point: the asker's neighbour entry for the asked address (a pod's
// for 169.254.1.1 when its namespace was dumped, or the node's), and for proxy ARP the host's route to
// 169.254.1.1, which the kernel needs to answer.
func (x *explainer) arp(an *Anomaly) []Explanation {
	a, w := x.a, x.a.w
	p, ok := x.point[an.Where.Point]
	if !ok {
		return nil
	}
	pt := w.c.Points[p]
	st := x.states[pt.Node]
	if st == nil {
		return nil
	}
	asked := map[string]bool{}
	var whos []string
	for _, af := range a.side.arp.findings {
		if af.point == p && af.kind == an.Kind && !asked[af.who] {
			asked[af.who] = true
			whos = append(whos, af.who)
		}
	}
	sort.Strings(whos)
	var out []Explanation
	for _, who := range whos {
		ip, err := netip.ParseAddr(who)
		if err != nil {
			continue
		}
		ns := &st.Netns
		where := pt.Node
		if pt.Role == decode.RolePodVeth {
			ns, where = st.Pods[pt.Iface], "the pod behind "+pt.Iface
		}
		if ns != nil {
			if n, ok := ns.Neighbour(ip); ok && n.Unresolved() {
				out = append(out, explanation("neighbour-failed", pt.Node, n.Source, fmt.Sprintf(
					"The neighbour table of %s holds %s as unresolved: its %s got no answer.", where, ip, asksOf(ip))))
			}
		}
		if an.Kind == "proxy-arp-missing" {
			r, ok := st.Lookup(ip)
			switch {
			case !ok && st.RouteFile != "":
				out = append(out, Explanation{Kind: "no-route", Node: pt.Node, File: st.RouteFile, Why: fmt.Sprintf(
					"No route on %s covers %s (no default route): the kernel answers proxy ARP only for an address it can route.",
					pt.Node, ip)})
			case ok && r.Drops():
				out = append(out, explanation("blackhole-route", pt.Node, r.Source, fmt.Sprintf(
					"%s's route for %s is a %s route: the kernel answers proxy ARP only for an address it can route.",
					pt.Node, ip, r.Type)))
			}
		}
	}
	return dedupe(out)
}

// podNode finds the node a pod address lives on: the node whose dump routes it to a pod's veth
// (Calico's host route "<pod IP> dev cali… scope link"), or the node of the pod-veth point the
// captures place it behind.
func (x *explainer) podNode(ip netip.Addr) (string, bool) {
	nodes := make([]string, 0, len(x.states))
	for n := range x.states {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	for _, n := range nodes {
		if r, ok := x.states[n].Lookup(ip); ok && r.Dst.Bits() == ip.BitLen() &&
			decode.RoleOfIface(r.Dev) == decode.RolePodVeth {
			return n, true
		}
	}
	if ip.Is4() {
		if p, ok := x.a.w.ownerOf(false, ip4(ip)); ok {
			return x.a.w.nodes[x.a.w.pointNode[p]], true
		}
	}
	return "", false
}

// explanation builds an Explanation citing src.
func explanation(kind, node string, src cluster.Source, why string) Explanation {
	return Explanation{Kind: kind, Node: node, File: src.File, Line: src.Line, Entry: src.Entry, Text: src.Text, Why: why}
}

// dedupe keeps the first of explanations citing the same line for the same reason.
func dedupe(es []Explanation) []Explanation {
	type key struct {
		kind, file  string
		line, entry int
		text        string
	}
	seen := map[key]bool{}
	var out []Explanation
	for _, e := range es {
		k := key{e.Kind, e.File, e.Line, e.Entry, e.Text}
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// asksOf names how a node asks for ip's link-layer address: ARP requests, or IPv6 neighbour
// solicitations.
func asksOf(ip netip.Addr) string {
	if ip.Is6() && !ip.Is4In6() {
		return "neighbour solicitations"
	}
	return "ARP requests"
}
