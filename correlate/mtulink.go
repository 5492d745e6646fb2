package correlate

import (
	"fmt"

	"github.com/calipath/calipath/decode"
)

// Where on a segment between two nodes an MTU stops packets.
//
// A router that cannot forward a DF packet through a link with a smaller MTU drops it and sends ICMP
// fragmentation-needed (ICMPv6 Packet Too Big) back: if that never reaches the sender, the ICMP is
// filtered on the way, and "let it through" is the fix. But a frame larger than the MTU of the
// interface that receives it is dropped there before IP (a veth hands a frame to its peer only if it
// fits its MTU; a NIC, or a switch in between, drops an oversize frame), and no ICMP is ever sent: the
// two ends of the link disagree on the MTU. On a segment whose two points are the two ends of one
// layer-2 link nothing routed the packets between them, so that is the only way they were lost there.
// The TTL tells which: every router decrements it, a link does not (linkTTL).

// linkHow is what the TTLs of the packets that crossed a segment show of what lies between its points.
type linkHow int8

const (
	linkUnknown linkHow = iota // no packet was seen at both ends with the same header to compare, or they disagree
	linkSame                   // the TTL was the same at both ends: one layer-2 link, nothing routed the packets between
	linkRouted                 // the TTL fell by the same number (linkTTL's second result) for each: routers between
)

// linkSample is how many packets that crossed a segment linkTTL compares, at most: enough that a path
// whose hop count changes during the capture (a route flapping, ECMP of unequal length) shows it.
const linkSample = 1024

// linkTTL compares the TTL a router decrements (the outer header's when encapsulated) at the two
// points of segment s, for the first linkSample packets of any flow, in flow and journey order, seen
// at both with the same encapsulation: the same TTL for each is linkSame, the same drop for each
// linkRouted (with the drop), anything else linkUnknown. It reads the arena's hops, after placement,
// and only for a segment where a black hole is found: no count on the per-packet path.
func (a *analysis) linkTTL(s *segAcc) (linkHow, int) {
	w := a.w
	n, fell := 0, -1
	for _, fl := range a.flows {
		for d, pi := range a.pathsOf(fl) {
			if pi == nil {
				continue
			}
			if i := pi.index(s.from); i < 0 || i+1 >= len(pi.points) || pi.points[i+1] != s.to {
				continue
			}
			for _, j := range a.dirJourneys(fl, uint8(d)) {
				var at, next *decode.Observation
				for _, g := range a.hops(int(j)) {
					switch p := a.point(g); {
					case p == s.from && at == nil:
						at, _ = a.obs(g)
					case p == s.to && at != nil:
						next, _ = a.obs(g)
					}
					if next != nil {
						break
					}
				}
				if next == nil || at.Encap() != next.Encap() || (at.Flags|next.Flags)&(decode.FlagARP|decode.FlagICMPError) != 0 {
					continue
				}
				k := int(w.hopTTL(at)) - int(w.hopTTL(next))
				if k < 0 || (fell >= 0 && k != fell) {
					return linkUnknown, 0
				}
				fell = k
				if n++; n == linkSample {
					return linkVerdict(fell)
				}
			}
		}
	}
	if n == 0 {
		return linkUnknown, 0
	}
	return linkVerdict(fell)
}

// linkVerdict is what a TTL drop of fell between a segment's points says.
func linkVerdict(fell int) (linkHow, int) {
	if fell == 0 {
		return linkSame, 0
	}
	return linkRouted, fell
}

// mtuWhere is what a path-MTU black hole on segment s between two nodes says of where the packets
// died, and what to do (next, with ICMPv6 Packet Too Big named for IPv6, per pmtuDetail6): the two
// ends of one link disagree on the MTU, or a router between has a smaller one and its ICMP is
// filtered, or the receiving interface's MTU is below the frames. A segment inside one node (a router
// forwarding, a node encapsulating) is that node's own routing, which the kind's text already says:
// "", "".
func (a *analysis) mtuWhere(s *segAcc) (detail, next string) {
	w := a.w
	if w.pointNode[s.from] == w.pointNode[s.to] {
		return "", ""
	}
	pts := w.c.Points
	from, to := pts[s.from].ID, pts[s.to].ID
	icmp := "ICMP type 3 code 4"
	switch {
	case s.lostV6 == s.lost:
		icmp = "ICMPv6 Packet Too Big (type 2)"
	case s.lostV6 > 0:
		icmp = "ICMP type 3 code 4 and ICMPv6 Packet Too Big (type 2)"
	}
	how, fell := a.linkTTL(s)
	if how == linkSame && pts[s.from].Role == decode.RoleUnderlay && pts[s.to].Role == decode.RoleUnderlay {
		return fmt.Sprintf(" %s and %s are the two ends of one layer-2 link: the packets that passed had the same TTL at "+
				"both, so nothing routed them between. The receiving end (or a switch between them) has a smaller MTU than the "+
				"sender and drops the oversize frames silently, before IP: no ICMP can come, and letting it through would not help.",
				from, to),
			fmt.Sprintf("Make the MTU equal on both ends of the link %s — %s (`ip link show` on each, and any switch between), "+
				"or lower Calico's MTU below the smaller of them.", from, to)
	}
	between := "The TTLs do not show whether a router lies between them."
	if how == linkRouted {
		between = fmt.Sprintf("The TTL of the packets that passed fell by %d between them: %d routers, not captured, lie between.",
			fell, fell)
		if fell == 1 {
			between = "The TTL of the packets that passed fell by 1 between them: a router, not captured, lies between."
		}
	}
	return fmt.Sprintf(" %s Either a router on the way has a smaller MTU and its %s is filtered, or the receiving interface "+
			"%s has an MTU below these frames and drops them silently, before IP (no ICMP comes from that).", between, icmp, to),
		fmt.Sprintf("Compare `ip link show` (the MTU) of %s and %s, and of the routers between: make the receiving "+
			"interface's MTU fit the frames, or lower Calico's MTU below the smallest on the way; if it is a router's, let %s "+
			"through the network.", from, to, icmp)
}

// recvMTUNext is what a path-MTU black hole between two nodes adds to its next step when the receiving
// node's link dump explains it (segment's mtu-too-small for the segment's last point): that interface's
// MTU, cited, is below the frames that reach it, so it drops them whatever the routers between do.
func (x *explainer) recvMTUNext(an *Anomaly) string {
	w := x.a.w
	to, ok := x.point[an.Where.To]
	from, ok2 := x.point[an.Where.From]
	if !ok || !ok2 || w.pointNode[from] == w.pointNode[to] {
		return ""
	}
	node, iface := w.nodes[w.pointNode[to]], w.c.Points[to].Iface
	st := x.states[node]
	if st == nil {
		return ""
	}
	l, ok := st.Link(iface)
	if !ok {
		return ""
	}
	for _, e := range an.ExplainedBy {
		if e.Kind == "mtu-too-small" && e.Node == node && e.File == l.Source.File && e.Line == l.Source.Line &&
			e.Entry == l.Source.Entry {
			at := fmt.Sprintf("%s:%d", e.File, e.Line)
			if e.Entry > 0 {
				at += fmt.Sprintf(" (entry %d)", e.Entry)
			}
			return fmt.Sprintf(" Here %s's MTU on %s is %d (%s), below the frames that reach it: it drops them itself. "+
				"Raise it to the sender's MTU, or lower Calico's MTU so that the packets fit %d bytes on the wire.",
				iface, node, l.MTU, at, l.MTU)
		}
	}
	return ""
}
