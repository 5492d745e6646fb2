package correlate

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/calipath/calipath/decode"
)

// The nodes a journey's encapsulation names.
//
// Calico encapsulates a pod's packet (IP-in-IP or VXLAN; or encrypts it into a WireGuard message) from
// the node that sends it to the node whose pod block holds its destination: the outer source is the
// sending node's address and the outer destination the receiving node's. When the captures show neither pod (the destination's cali
// interface was not given), the encapsulation still says which nodes the path runs between, so the
// path goes on over the receiving node's underlay and tunnel device, and what happened there is judged
// rather than called "left the captures" at the last router.

// outerNode returns the node journey hops h were encapsulated by (k = 0: the first encapsulated hop's
// outer source, or WireGuard message's source) or to (k = 1: the last one's outer destination), when
// that address is a known node's; -1 when none is, or when the hops show the packet coming into that
// node from outside before it was encapsulated there (k = 0), or going on out of it after it was
// decapsulated there (k = 1) (beyond): then the node only passed the packet on, and the source (the
// destination) does not live there.
func (w *world) outerNode(h []uint32, k int) int {
	n, x := w.outerHop(h, k)
	if n >= 0 && w.beyond(h, x, n, k) {
		return -1
	}
	return n
}

// beyond reports whether journey hops h show the packet on its way into node n from outside before
// hop x (k = 0), or out of n after it (k = 1): a sighting there, not encapsulated, at one of n's
// underlays or on another node. Calico encapsulates a pod's packet from the pod's node to the node of
// the destination's pod, so hop x's encapsulation names the source's (the destination's) node only
// when the packet did not come in bare before it (go out bare after it): an egress gateway's node
// takes a pod's packet in from the tunnel and sends it out masqueraded, bare, at its eth0, and
// tunnels the replies, come in bare from outside, back to the pod's node; a NodePort's node does the
// same with an outside client's requests and their replies.
func (w *world) beyond(h []uint32, x, n, k int) bool {
	lo, hi := 0, x
	if k == 1 {
		lo, hi = x+1, len(h)
	}
	for _, g := range h[lo:hi] {
		o, _ := w.obsAt(g)
		if o.Encap() != decode.EncapNone || w.wgOn && w.wgType(o) == decode.WGTransport {
			continue
		}
		p := w.srcPoint[o.Source]
		if w.pointNode[p] != n || w.pointRole[p] == decode.RoleUnderlay {
			return true
		}
	}
	return false
}

// outerHop is outerNode's node, before beyond's test, and the index in h of the hop that named it.
func (w *world) outerHop(h []uint32, k int) (n, x int) {
	for i := range h {
		x := i
		if k == 1 {
			x = len(h) - 1 - i
		}
		o, _ := w.obsAt(h[x])
		if w.wgOn && w.wgType(o) == decode.WGTransport { // the message carrying it: node to node
			a := o.Src
			if k == 1 {
				a = o.Dst
			}
			if n := w.nodeOfIPOnly(o.Flags&decode.FlagIPv6 != 0, a); n >= 0 {
				return n, x
			}
			continue
		}
		if o.Encap() == decode.EncapNone || int(o.Ctx) >= len(w.ctxNodes) {
			continue
		}
		if n := w.ctxNodes[o.Ctx][k]; n >= 0 {
			return n, x
		}
	}
	return -1, -1
}

// nodeOfIPOnly returns the node whose own address a is (a node IP, not a pod's), -1 when none is known.
func (w *world) nodeOfIPOnly(v6 bool, a uint32) int {
	m := w.nodeOfIP
	if v6 {
		m = w.nodeOfIP6
	}
	if n, ok := m[a]; ok {
		return n
	}
	return -1
}

// tunnelUnknownMode says whether the path between nodes src and dst goes through their tunnel devices
// although no pod-to-pod traffic between them told the pair's mode (one pod's veth was not captured):
// its packets crossed a tunnel device, and Calico routes a pair's pod traffic all through its tunnels.
func (s *pathStage) tunnelUnknownMode(src, dst int, tunnel bool) bool {
	_, known := s.pairMode[[2]int{min(src, dst), max(src, dst)}]
	return tunnel && !known
}

// remoteName is an outer address as the path-incomplete text names it: with its node's name when it
// is a known node's ("192.168.20.2 (node-b)", or "(node-b, not captured)" when no capture is of it).
func (w *world) remoteName(addr string) string {
	n := w.nodeOfAddr(addr)
	if n < 0 {
		return addr
	}
	for _, pn := range w.pointNode {
		if pn == n {
			return addr + " (" + w.nodes[n] + ")"
		}
	}
	return addr + " (" + w.nodes[n] + ", not captured)"
}

// nodeOfAddr returns the node whose own address addr is, -1 when none is known.
func (w *world) nodeOfAddr(addr string) int {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return -1
	}
	m, k := w.nodeOfIP, uint32(0)
	if a.Is4() {
		k = ip4(a)
	} else {
		m, k = w.nodeOfIP6, w.c.Tables.InternV6(a.As16())
	}
	if n, ok := m[k]; ok {
		return n
	}
	return -1
}

// noteOnNode notes whether an end of the group is on the node its encapsulation names.
func (g *openEndGroup) noteOnNode(on bool) {
	switch {
	case !on:
		g.onNode = -1
	case g.onNode == 0:
		g.onNode = 1
	}
}

// uncaptured ends the list of a group's outer addresses (remoteName): what is known of their nodes.
func (g *openEndGroup) uncaptured() string {
	captured, named := false, false
	for r := range g.remotes {
		captured = captured || strings.HasSuffix(r, ")") && !strings.HasSuffix(r, ", not captured)")
		named = named || strings.HasSuffix(r, ")")
	}
	switch {
	case captured:
		return ", whose captures do not show them there"
	case named:
		return ""
	}
	return ", an address calipath knows as no node's"
}

// onEndNode says whether node np is the end node of the path asked about (placement sets it): its
// destination's (left) or its source's (entered).
func (f *openEndFinder) onEndNode(np int, left bool) bool {
	switch {
	case f.pi == nil:
		return false
	case left:
		return f.pi.dstNode == np
	}
	return f.pi.srcNode == np
}

// onNodeText says what left (left) or entered the captured area at point pt of node, their path's end
// node (the node of the pod they were sent to, or from, as their encapsulation or other packets to
// that address show): the captures of node stop short of the pod, and what to capture (the pod's cali
// interface, and the tunnel device unless pt is one).
//
// pods are the metadata's pods of node among the group's addresses (localPods): the next step names
// their interfaces. With meta, the metadata's pods put node at the path's end, not the packets.
//
// own: the addresses are node's own (a tunnel device's, by the metadata), not a pod's: the next step
// then asks for no pod's interface.
func (g *openEndGroup) onNodeText(left bool, pt, node string, atTunnel bool, pods []localPod, meta, own bool) (detail, next string) {
	tunnel := " and the tunnel device (tunl0, vxlan.calico or wireguard.cali)"
	if atTunnel {
		tunnel = ""
	}
	which := "destination"
	if !left {
		which = "source"
	}
	ifaces := podIfaces(pods, which) + tunnel
	switch {
	case own && atTunnel && left:
		ifaces = "tcpdump -i any there (the destination is " + node + "'s own address, not a pod's: the node takes " +
			"them in itself, or rewrites it)"
	case own && atTunnel:
		ifaces = "its eth0, or tcpdump -i any there (the source is " + node + "'s own address, not a pod's: the node " +
			"sent them itself, or rewrote their source after they came in another way)"
	case own:
		ifaces = "its tunnel device (tunl0, vxlan.calico or wireguard.cali; the " + which + " is " + node +
			"'s own address, not a pod's), or tcpdump -i any there"
	default:
		ifaces += ", or tcpdump -i any there"
	}
	shows := "as their encapsulation or other packets show"
	if meta {
		shows = "by the cluster's metadata"
	}
	if left {
		detail = fmt.Sprintf("%s last seen at %s, headed for %s on %s (the destination's node, %s): no "+
			"capture of %s shows where they went after that, so "+
			"whether they arrived is unknown. They are counted as not captured (status left-captures), neither "+
			"delivered nor lost.", packetsWere(g.n), pt, openEndList(g.addrs), node, shows, node)
		next = "Capture the rest of their way on " + node + " too — " + ifaces + " — and give those files with these."
		return detail, next
	}
	detail = fmt.Sprintf("%s first seen at %s, coming from %s on %s (the source's node, %s): no capture "+
		"of %s shows where they came from before that, "+
		"so what happened to them on the way is unknown.", packetsWere(g.n), pt, openEndList(g.addrs), node, shows, node)
	next = "Capture the rest of their way on " + node + " too — " + ifaces + " — and give those files with these."
	return detail, next
}

// allEnds returns the ends of every flow direction (ends; those without journeys left zero). An end
// node no address of a direction named, while another direction's encapsulation named one for the same
// address (the same pod, not captured), is that node: a packet to pod-b that node-a refused before
// encapsulating it goes the way the others to pod-b went, and is judged on their path. Such an
// address that a direction's packets carried through a tunnel device, and that is no outer address
// of an encapsulation (a node's own), is behind that node's tunnel (pathEnds.behindTunnel): a pod's
// address, or the node's tunnel address, whose packets from another node go through the tunnels.
// A destination is not learnt on its direction's end node when that node was seen sending the
// direction's packets on encapsulated to another host (sentAway): it does not live there.
func (s *pathStage) allEnds() [][2]pathEnds {
	out := make([][2]pathEnds, len(s.flows))
	learnt := map[[2]uint64]int{}   // (v6, address) → the node an end with no known pod was put on; -2: several
	var tunneled map[[2]uint64]bool // the addresses of learnt carried through a tunnel device
	for fi, fl := range s.flows {
		for d := uint8(0); d < 2; d++ {
			if fl.nDir(d) == 0 {
				continue
			}
			e := s.ends(fl, d)
			if e.srcPod < 0 && e.src >= 0 && s.passedOn(fl, d, e.src, 0) {
				e.src = -1 // came into that node from outside, before it tunnelled them on
			}
			if e.dstPod < 0 && e.dst >= 0 && s.passedOn(fl, d, e.dst, 1) {
				e.dst = -1 // went on out of that node, after it took them out of the tunnel
			}
			out[fi][d] = e
			t := dirTuple(fl, d)
			if e.srcPod < 0 && e.src >= 0 {
				learn(learnt, t.v6, t.src, e.src)
				tunneled = noteTunneled(tunneled, fl.votes[d].tunnel, t.v6, t.src)
			}
			if e.dstPod < 0 && e.dst >= 0 && !s.sentAway(fl, d, e.dst) {
				learn(learnt, t.v6, t.dst, e.dst)
				tunneled = noteTunneled(tunneled, fl.votes[d].tunnel, t.v6, t.dst)
			}
		}
	}
	if len(learnt) == 0 {
		s.localDsts(out, learnt)
		return out
	}
	var outer map[[2]uint64]bool // the outer addresses of the encapsulations: nodes' own
	if tunneled != nil {
		outer = s.w.outerAddrs()
	}
	for fi, fl := range s.flows {
		for d := uint8(0); d < 2; d++ {
			e, t := &out[fi][d], dirTuple(fl, d)
			if n, ok := learnt[addrKey(t.v6, t.src)]; ok && n >= 0 && e.src < 0 && fl.nDir(d) > 0 {
				e.src = n
			}
			k := addrKey(t.v6, t.dst)
			if n, ok := learnt[k]; ok && n >= 0 && e.dst < 0 && fl.nDir(d) > 0 {
				e.dst = n
			}
			if n, ok := learnt[k]; ok && n >= 0 && n == e.dst && e.dstPod < 0 && tunneled[k] && !outer[k] {
				e.behindTunnel = true
			}
		}
	}
	s.localDsts(out, learnt)
	return out
}

// sentAway says whether some journey of flow fl's direction d (any: not only its first few, which may
// all have stopped before the encapsulation, dropped on n or not captured past a point) was last
// seen on node n encapsulated by n (IP-in-IP or VXLAN, the outer source n's address) to another host:
// n sent it on toward its destination's node, so the destination does not live on n, whatever the
// votes made n its end (a pre-NAT destination of n's, as for an egress gateway's un-masqueraded
// replies that n tunnels back to the client pod's node). allEnds then learns nothing of the address
// from it. Journeys that end on n bare, or encapsulated to n, say nothing.
func (s *pathStage) sentAway(fl *flowAcc, d uint8, n int) bool {
	if s.ar == nil {
		return false
	}
	w := s.w
	for _, j := range s.dirJourneys(fl, d) {
		h := s.ar.hops(int(j))
		for k := len(h) - 1; k >= 0; k-- {
			o, _ := w.obsAt(h[k])
			if w.pointNode[w.srcPoint[o.Source]] != n {
				continue
			}
			if o.Encap() != decode.EncapNone && int(o.Ctx) < len(w.ctxNodes) {
				if cn := w.ctxNodes[o.Ctx]; cn[0] == n && cn[1] != n {
					return true
				}
			}
			break // its last sighting on n: not encapsulated away
		}
	}
	return false
}

// passedOn says whether some journey of flow fl's direction d shows its packet coming into node n from
// outside before n encapsulated it (k = 0: bare at n's underlay, or on another node, before its first
// hop at n encapsulated by n) or going on out of n after n took it out of its encapsulation (k = 1:
// the same after its last hop at n encapsulated to n): beyond. A flow direction's source (destination)
// is one address, whose packets Calico tunnels from (to) its own node; one packet that came into n
// from outside (went on out of it) shows it does not live on n, whatever the votes made the
// direction's end: pieces of a GSO frame, first seen at n's tunnel device, were tunnelled by n
// (outerNode, tunnelNode) with nothing before them to say where the frame came from. allEnds then
// leaves that end unknown, and learns nothing of its address. An egress gateway's node takes the
// replies to its pods' masqueraded packets in bare from outside and tunnels them on to the client
// pod's node; it takes the requests out of the tunnel and sends them on out bare.
func (s *pathStage) passedOn(fl *flowAcc, d uint8, n, k int) bool {
	if s.ar == nil {
		return false
	}
	w := s.w
	for _, j := range s.dirJourneys(fl, d) {
		h := s.ar.hops(int(j))
		x := -1
		for i := range h {
			if k == 1 {
				i = len(h) - 1 - i
			}
			o, _ := w.obsAt(h[i])
			if o.Encap() == decode.EncapNone || int(o.Ctx) >= len(w.ctxNodes) || w.pointNode[w.srcPoint[o.Source]] != n {
				continue
			}
			if w.ctxNodes[o.Ctx][k] == n && w.ctxNodes[o.Ctx][1-k] != n {
				x = i
				break
			}
		}
		if x >= 0 && w.beyond(h, x, n, k) {
			return true
		}
	}
	return false
}

// noteTunneled adds address a to m (made when nil) when its direction's packets crossed a tunnel
// device (tunnel), and returns m.
func noteTunneled(m map[[2]uint64]bool, tunnel, v6 bool, a uint32) map[[2]uint64]bool {
	if !tunnel {
		return m
	}
	if m == nil {
		m = map[[2]uint64]bool{}
	}
	m[addrKey(v6, a)] = true
	return m
}

// outerAddrs returns the outer source and destination addresses of every encapsulating header
// context (addrKey): the nodes' own addresses, known as a node's or not.
func (w *world) outerAddrs() map[[2]uint64]bool {
	m := map[[2]uint64]bool{}
	for i := range w.ctx {
		x := &w.ctx[i]
		if x.Encap == decode.EncapNone {
			continue
		}
		for _, a := range []netip.Addr{x.OuterSrcAddr(), x.OuterDstAddr()} {
			switch {
			case a.Is4():
				m[addrKey(false, ip4(a))] = true
			case a.Is6():
				m[addrKey(true, w.c.Tables.InternV6(a.As16()))] = true
			}
		}
	}
	return m
}

// dirTuple is flow fl's tuple in direction d.
func dirTuple(fl *flowAcc, d uint8) tuple {
	if d == s2c {
		return fl.client.reverse()
	}
	return fl.client
}

func addrKey(v6 bool, a uint32) [2]uint64 {
	k := [2]uint64{uint64(a), 0}
	if v6 {
		k[1] = 1
	}
	return k
}

// learn notes that address a is on node n (-2 once two nodes were given for it).
func learn(m map[[2]uint64]int, v6 bool, a uint32, n int) {
	k := addrKey(v6, a)
	if old, ok := m[k]; ok && old != n {
		n = -2
	}
	m[k] = n
}

// tunnelNode returns the node whose own sightings of a journey (hops h) show it putting on (k = 0) or
// taking off (k = 1) the packet's encapsulation (IP-in-IP or VXLAN), -1 when none do: a bare sighting
// (at the node's tunnel device, pod veth or underlay) right before the journey's first encapsulated
// hop, on that hop's node and earlier on its clock (k = 0), or the same after its last encapsulated hop
// (k = 1). It is outerNode for outer addresses that are no known node's (no capture of a pod of the
// node, no --node-ip: the node's clock is not corrected either). One node's hops are read on its one
// clock, so their order needs no correction; two at one time are left undecided.
func (a *analysis) tunnelNode(h []uint32, k int) int {
	w := a.w
	step, i := 1, 0
	if k == 1 {
		step, i = -1, len(h)-1
	}
	for ; i >= 0 && i < len(h); i += step {
		if o, _ := w.obsAt(h[i]); o.Encap() != decode.EncapNone {
			break
		}
	}
	b := i - step // the bare hop before (k = 0) or after (k = 1) the encapsulated one
	if i < 0 || i >= len(h) || b < 0 || b >= len(h) {
		return -1
	}
	n := w.pointNode[a.point(h[i])]
	if w.pointNode[a.point(h[b])] != n {
		return -1
	}
	if tb, ti := a.ts(h[b]), a.ts(h[i]); k == 0 && tb >= ti || k == 1 && tb <= ti {
		return -1
	}
	if w.beyond(h, b, n, k) {
		return -1 // it came into n from outside before (went on out of n after): n only passed it on
	}
	return n
}
