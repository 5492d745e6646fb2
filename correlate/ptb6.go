package correlate

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/calipath/calipath/decode"
)

// IPv6 path-MTU trouble, as ICMPv6 Packet Too Big shows it (RFC 8200, RFC 8201).
//
// IPv6 has no DF bit: no router fragments, so a packet too big for a link is dropped and answered with
// Packet Too Big (type 2), which carries the link's MTU and quotes the packet. Behind a tunnel the
// packet a router refuses is the nodes' datagram, and its error goes to the node that encapsulated:
// that node's kernel learns the path MTU (`ip -6 route get` shows it as `mtu`) and refuses the pods'
// next big packets itself, with a Packet Too Big less the tunnel's overhead (vxlan-v6.calico: 70
// bytes) quoting the pod's packet. A firewall that drops Packet Too Big leaves IPv6 no way around:
// the big packets die, unanswered (a path-MTU black hole).

// vxlan6Overhead is what VXLAN over IPv6 adds to a packet (IPv6 40, UDP 8, VXLAN 8, Ethernet 14):
// Felix sets vxlan-v6.calico's MTU to the host's less this.
var vxlan6Overhead = tunnelOverhead["vxlan-v6.calico"]

// ptbNote is what an ICMPv6 Packet Too Big's anomaly says of the packet it quotes (quote) and its
// next step (next): the tunnel datagram and the pods' packet inside it, or the pod's packet, and the
// MTU that then fits (ptbNotes).
type ptbNote struct{ quote, next string }

// ptbNotes is the ptbNote of Packet Too Big o (table entry e); of other errors, the zero ptbNote.
func (w *world) ptbNotes(o *decode.Observation, e decode.ICMPErr) ptbNote {
	quote, next := w.ptbText(o, &e)
	return ptbNote{quote, next}
}

// ptbText is ptbNotes's two sentences.
func (w *world) ptbText(o *decode.Observation, e *decode.ICMPErr) (quote, next string) {
	if o.Flags&decode.FlagIPv6 == 0 || e.Type != 2 || e.Quoted.Version == 0 {
		return "", ""
	}
	q := &e.Quoted
	to := w.addrString(true, o.Dst)
	if n := w.nodeOf(true, o.Dst); n >= 0 {
		to = w.nodes[n]
	}
	in := &e.QuotedInner
	if in.Version == 0 {
		quote = fmt.Sprintf(" It quotes a %s packet %s → %s.", protoName(q.Proto), endpointAddr(q.SrcAddr(), e.QSport, q.Proto),
			endpointAddr(q.DstAddr(), e.QDport, q.Proto))
		if _, pod := w.ownerOf(true, o.Dst); !pod {
			return quote, "" // a node's own packet, or one calipath cannot place: no advice of its own
		}
		quote = fmt.Sprintf("%s Packets of that flow larger than %d bytes cannot pass.", quote, e.MTU)
		next = fmt.Sprintf("Make the pods' MTU fit %d bytes (Calico's MTU setting: with VXLAN over IPv6, vxlan-v6.calico's MTU "+
			"is the host's less %d), so that no packet needs this refusal; `ip -6 route get %s` on the node shows the path MTU it "+
			"learned (`mtu`).", e.MTU, vxlan6Overhead, q.DstAddr())
		return quote, next
	}
	quote = fmt.Sprintf(" It quotes a VXLAN datagram %s → %s, sent by %s, carrying %s %s → %s: the path between the nodes "+
		"takes at most %d bytes, so the pods' packets in the tunnel must fit %d.", q.SrcAddr(), q.DstAddr(), to,
		protoName(in.Proto), endpointAddr(in.SrcAddr(), e.QSport, in.Proto), endpointAddr(in.DstAddr(), e.QDport, in.Proto),
		e.MTU, int(e.MTU)-vxlan6Overhead)
	next = fmt.Sprintf("Set vxlan-v6.calico's MTU (Calico's MTU setting, FelixConfiguration vxlanMTUV6) to at most %d: the "+
		"smallest underlay MTU on the way less %d; until then every new destination costs a drop and a resend. `ip -6 route "+
		"get %s` on %s shows the path MTU it learned (`mtu`). Keep ICMPv6 Packet Too Big (type 2) allowed on the way: "+
		"IPv6 cannot do without it.", int(e.MTU)-vxlan6Overhead, vxlan6Overhead, q.DstAddr(), to)
	return quote, next
}

// endpointAddr is a quoted endpoint: address and port for TCP and UDP, the address alone otherwise.
func endpointAddr(a netip.Addr, p uint16, proto uint8) string {
	if proto == 6 || proto == 17 {
		return netip.AddrPortFrom(a, p).String()
	}
	return a.String()
}

// pmtuDetail6 is the detail, next step and kind text (%s: the segment) of a path-MTU black hole on
// segment s whose lost packets are IPv6, all or some: IPv6 has no DF bit because no router fragments
// (RFC 8200), and its error is ICMPv6 Packet Too Big (type 2), not ICMP type 3 code 4 (RFC 8201). When
// all are IPv6, the packet too big is the VXLAN datagram its node sent, when they were encapsulated
// at the segment's start, whose node then must get the error; and a lost segmentation-offload frame's
// size is its segments', not its own.
func (a *analysis) pmtuDetail6(s *segAcc, detail, unplaced string) (string, string, string) {
	if s.lostV6 != s.lost {
		return fmt.Sprintf("%s Lost packets were up to %d bytes, IPv4 with DF or IPv6 (which routers never fragment); the largest "+
				"that passed was %d. Neither ICMP fragmentation-needed nor ICMPv6 Packet Too Big reached the sending pod.%s",
				detail, s.lostMaxLen, s.passMaxLen, unplaced),
			"Lower the pod/tunnel MTU (Calico's MTU setting) or let ICMP type 3 code 4 and ICMPv6 Packet Too Big (type 2) through the network.", ""
	}
	o := a.lostAt(s)
	gso, sender, next := "", "the sending pod", ""
	if o != nil && o.Flags&decode.FlagGSO != 0 {
		gso = " (the largest a segmentation-offload frame: its segments, not its size, met the MTU)"
	}
	if o != nil && o.Encap() == decode.EncapVXLAN {
		c := a.w.ctxOf(o)
		node := c.OuterSrcAddr().String()
		if n := a.w.nodeOfOuter(c.OuterSrcAddr()); n >= 0 {
			node = a.w.nodes[n]
		}
		sender = fmt.Sprintf("%s, which sent them in VXLAN over IPv6 to %s", node, c.OuterDstAddr())
		next = fmt.Sprintf("Let ICMPv6 Packet Too Big (type 2) through every firewall and router filter between the nodes: IPv6 has "+
			"no DF bit to clear and no router fragments, so without it the big packets never pass. `ip -6 route get %s` on %s "+
			"shows no learned `mtu` while none arrives. Or set vxlan-v6.calico's MTU (Calico's MTU setting, FelixConfiguration "+
			"vxlanMTUV6) to the smallest underlay MTU on the way less %d.", c.OuterDstAddr(), node, vxlan6Overhead)
	} else {
		next = "Let ICMPv6 Packet Too Big (type 2) through every firewall and router filter on the way: IPv6 has no DF bit to " +
			"clear and no router fragments, so without it the big packets never pass (`ip -6 route get <destination>` on the " +
			"sending node shows no learned `mtu` while none arrives). Or lower the pods' MTU (Calico's MTU setting) below the " +
			"smallest MTU on the way."
	}
	return fmt.Sprintf("%s Lost packets were IPv6, up to %d bytes as sent%s; the largest that passed was %d. IPv6 has no DF bit "+
			"and no router fragments: a packet too big for a link is dropped and answered with ICMPv6 Packet Too Big (type 2), "+
			"and none reached %s.%s", detail, s.lostMaxLen, gso, s.passMaxLen, sender, unplaced), next,
		"Large packets were lost between %s while smaller ones passed, and no ICMPv6 Packet Too Big reached their sender: a path-MTU black hole."
}

// lostAt is the sighting at segment s's start of its largest lost packet among those it keeps as
// evidence, or nil.
func (a *analysis) lostAt(s *segAcc) *decode.Observation {
	var best *decode.Observation
	for _, e := range s.evidence {
		for _, g := range a.hops(int(e.j)) {
			if a.point(g) != s.from {
				continue
			}
			if o, _ := a.obs(g); best == nil || o.Len > best.Len {
				best = o
			}
			break
		}
	}
	return best
}

// retext puts text (a kind's text, %s: the place) in place of kind k's own in an's message.
func retext(an *Anomaly, k *kindRow, text string) {
	place := an.Where.Point
	if an.Where.From != "" {
		place = an.Where.From + " → " + an.Where.To
	}
	an.Message = strings.Replace(an.Message, fmt.Sprintf(k.text, place), fmt.Sprintf(text, place), 1)
}

// fragDetail is the first sentence of an ICMP fragmentation-needed or Packet Too Big anomaly (fs: its
// errors): the MTU, and what a Packet Too Big quotes (ptbNotes).
func fragDetail(fs []icmpFinding) string {
	if fs[0].v6 {
		return fmt.Sprintf("MTU %d: ICMPv6 Packet Too Big carries the MTU of the link the packet could not cross.%s", fs[0].mtu, fs[0].ptb.quote)
	}
	return fmt.Sprintf("Next-hop MTU %d.", fs[0].mtu)
}

// lostDst is the destination address of segment s's lost packets where they were last seen (its
// from point), when all of its evidence's journeys agree on one; "" otherwise.
func (a *analysis) lostDst(s *segAcc) string {
	var dst oneValue
	for _, e := range s.evidence {
		for _, g := range a.hops(int(e.j)) {
			if a.point(g) != s.from {
				continue
			}
			o, _ := a.obs(g)
			if o.Flags&(decode.FlagARP|decode.FlagICMPError) == 0 {
				dst.add(a.w.addrString(o.Flags&decode.FlagIPv6 != 0, o.Dst))
			}
			break
		}
	}
	return dst.v
}
