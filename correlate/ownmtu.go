package correlate

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/calipath/calipath/decode"
)

// A node's own drops, which the generic "loss" text (congestion, a lossy link) would misname.
//
// A node that refuses a packet itself answers it with an ICMP error (icmpBook.refusedOn): the error,
// not congestion, says why. And a node that has learned a smaller path MTU to a peer from an ICMP
// fragmentation-needed or Packet Too Big (Linux keeps it as a route exception, `ip route get` shows it
// as `mtu`) drops its next encapsulated packet larger than that MTU in its own output, between its
// tunnel device and its underlay: net/ipv6/ip6_output.c's ip6_fragment (and net/ipv4/ip_output.c's
// ip_fragment for a DF packet) sends the Packet Too Big (fragmentation-needed) to the node itself and
// frees the packet, so no capture on the wire holds an error for it (only an `any` capture sees the
// error on lo). Seen in the lab's pmtu-discovery6.

// pmtuExpire is how long Linux keeps a path MTU it learned (net.ipv4.route.mtu_expires and
// net.ipv6.route.mtu_expires, 600 s by default): a drop later than that after the error is not
// taken to be on that MTU.
const pmtuExpire = int64(600 * time.Second)

// ownDrop replaces a "loss" segLoss l's generic kind text when its node dropped the packets itself:
// every one refused with an ICMP error (refusedText), or, between the node's tunnel device and its
// underlay, every one larger once encapsulated than a path MTU it had learned shortly before
// (learnedMTU).
func (f *findings) ownDrop(l *segLoss) {
	if text := f.refusedText(l.s, l.lost); text != "" {
		l.text = text
		if l.next != "" { // hostUnreachChain's, which names the next hop
			return
		}
		l.next = "Follow the next step of the node's ICMP error (its anomaly, at the same node): these drops end when its cause does."
		return
	}
	if detail, text, next, ev := f.learnedMTU(l.s, l.lost); text != "" {
		l.detail += detail
		l.text, l.next = text, next
		l.evidence = append(ev, l.evidence...)
		if len(l.evidence) > 10 {
			l.evidence = l.evidence[:10]
		}
	}
}

// refusedText is the kind text (%s: the segment) of a loss on segment s (lost: its unexplained drops)
// whose every drop its node refused itself with an ICMP error: what those errors say; "" when some
// drop no such error of the node answers.
func (f *findings) refusedText(s *segAcc, lost int) string {
	n := s.refused - f.unproven[s]
	if lost <= 0 || n < s.lost || len(f.refusedOn[s]) == 0 { // every drop of s, answered elsewhere or not
		return ""
	}
	says := map[string]bool{}
	for _, i := range f.refusedOn[s] {
		says[icmpSays(&f.a.side.icmp.findings[i])] = true
	}
	return "Packets were dropped between %s by the node itself, not by congestion or a lossy link: it refused them and " +
		"answered each with an ICMP error, which says why: " + strings.ReplaceAll(strings.Join(sortedKeys(says), "; "), "%", "%%") + "."
}

// icmpSays is what ICMP error fi says of the packet it answers, in a few words.
func icmpSays(fi *icmpFinding) string {
	switch {
	case fi.kind == "icmp-frag-needed" && fi.v6:
		return fmt.Sprintf("ICMPv6 Packet Too Big, MTU %d: the packets were larger than the MTU of the way out", fi.mtu)
	case fi.kind == "icmp-frag-needed":
		return fmt.Sprintf("ICMP fragmentation-needed, next-hop MTU %d: the packets, with DF, were larger than the MTU of the way out", fi.mtu)
	case fi.hostUnreach:
		return "host unreachable: the next hop's link-layer address did not resolve"
	case fi.kind == "icmp-unreachable":
		return "destination unreachable: no route, or a filter that prohibits them (its code tells which)"
	case fi.kind == "ttl-expired":
		return "time exceeded: their TTL ran out"
	}
	return "see the ICMP anomaly"
}

// learnedPTB is an ICMP fragmentation-needed or Packet Too Big that reached a node: its finding, when
// (corrected) and where (its frame at the node) the node saw it first.
type learnedPTB struct {
	fi  *icmpFinding
	t   int64
	ev  Evidence
	at  string     // the point that saw it
	dst netip.Addr // the quoted packet's (outer) destination: the path MTU is the way to it
}

// learnedMTU explains a loss on segment s, from a node's tunnel device to its underlay, whose every
// unexplained drop (lost, all among the evidence kept) was a packet larger, with the tunnel's outer
// headers, than the MTU of an ICMP fragmentation-needed or Packet Too Big of the same flow the node
// had received within pmtuExpire before the packet reached the tunnel device. It returns the detail,
// the kind text, the next step and the errors' frames at the node; text is "" when some drop is not so.
func (f *findings) learnedMTU(s *segAcc, lost int) (detail, text, next string, ev []Evidence) {
	w := f.a.w
	node := w.pointNode[s.from]
	over, ok := tunnelOverhead[w.c.Points[s.from].Iface]
	if !ok || lost <= 0 || w.pointRole[s.from] != decode.RoleTunnel || w.pointRole[s.to] != decode.RoleUnderlay || w.pointNode[s.to] != node {
		return "", "", "", nil
	}
	ptbs := f.ptbsAt(node)
	skipped, n := map[int32]int{}, 0
	var sizes []string
	var last *learnedPTB
	for _, e := range s.evidence {
		if skipped[e.flow] < f.answeredOn[segFlow{s, e.flow}] {
			skipped[e.flow]++
			continue
		}
		o, t := f.sightingAt(e.j, s.from)
		if o == nil || o.Flags&decode.FlagGSO != 0 {
			return "", "", "", nil // a segmentation-offload frame's size is no packet's
		}
		p := latestPTB(ptbs, e.flow, t, int(o.Len)+over)
		if p == nil {
			return "", "", "", nil
		}
		n++
		sizes = append(sizes, fmt.Sprintf("%d bytes at %s, %d with its %d bytes of outer headers, after the error with MTU %d "+
			"reached %s %s before", o.Len, w.c.Points[s.from].ID, int(o.Len)+over, over, p.fi.mtu, w.nodes[node],
			time.Duration(t-p.t).Round(time.Microsecond)))
		if last == nil || p.t > last.t {
			last = p
		}
		if len(ev) < 2 && (len(ev) == 0 || ev[0] != p.ev) {
			ev = append(ev, p.ev)
		}
	}
	if n < lost || last == nil {
		return "", "", "", nil
	}
	return f.learnedMTUWords(s, last, over, sizes, ev)
}

// learnedMTUWords is learnedMTU's detail, text and next step, from the latest error (last) the node
// learned from, the tunnel's overhead, and each lost packet's sizes.
func (f *findings) learnedMTUWords(s *segAcc, last *learnedPTB, over int, sizes []string, ev []Evidence) (string, string, string, []Evidence) {
	w := f.a.w
	name, dev := w.nodes[w.pointNode[s.from]], w.c.Points[s.from].Iface
	what, ipc := "ICMP fragmentation-needed", "ip"
	if last.fi.v6 {
		what, ipc = "ICMPv6 Packet Too Big", "ip -6"
	}
	dst, to := last.dst.String(), last.dst.String()
	if n := w.nodeOfOuter(last.dst); n >= 0 {
		to = fmt.Sprintf("%s (%s)", w.nodes[n], dst)
	}
	detail := fmt.Sprintf(" %s had learned a path MTU of %d towards %s from the %s %s sent (%s frame %d, at %s): the "+
		"lost packet was %s. Linux drops a packet larger than the path MTU it learned in its own output, after the tunnel "+
		"device and before the wire, and reports it to itself (on lo, seen only by an `any` capture), so no capture on the "+
		"wire holds an error for it.", name, last.fi.mtu, to, what, last.fi.src, filepath.Base(last.ev.File), last.ev.Frame, last.at,
		strings.Join(sizes, "; "))
	text := "Packets were dropped between %s by the node itself, not by congestion or a lossy link: encapsulated, they " +
		"were larger than the path MTU it had just learned from an ICMP error."
	next := fmt.Sprintf("Set %s's MTU (Calico's MTU setting) to at most %d, the path MTU %d less the tunnel's %d bytes, so "+
		"that no packet needs the node's refusal; `%s route get %s` on %s shows the path MTU it learned (`mtu`).",
		dev, int(last.fi.mtu)-over, last.fi.mtu, over, ipc, dst, name)
	return detail, text, next, ev
}

// ptbsAt lists the ICMP fragmentation-needed and Packet Too Big errors that reached node from
// elsewhere (not its own, nor its own to itself) and were seen at one of its points: each at the first
// of them.
func (f *findings) ptbsAt(node int) []learnedPTB {
	a, w := f.a, f.a.w
	var out []learnedPTB
	for i := range a.side.icmp.findings {
		fi := &a.side.icmp.findings[i]
		if fi.kind != "icmp-frag-needed" || fi.mtu == 0 || fi.self || fi.own || fi.local || fi.flow < 0 {
			continue
		}
		for _, g := range a.hops(int(fi.j)) {
			o, _ := a.obs(g)
			if w.pointNode[a.point(g)] != node || w.nodeOf(fi.v6, o.Dst) != node {
				continue
			}
			e := w.c.Tables.ICMPErr(o.Seq)
			out = append(out, learnedPTB{fi: fi, t: a.ts(g), ev: a.evidence(g), at: w.c.Points[a.point(g)].ID, dst: e.Quoted.DstAddr()})
			break
		}
	}
	return out
}

// latestPTB is the latest of ptbs of flow fl seen within pmtuExpire before t whose MTU is below size,
// or nil.
func latestPTB(ptbs []learnedPTB, fl int32, t int64, size int) *learnedPTB {
	var best *learnedPTB
	for i := range ptbs {
		p := &ptbs[i]
		if p.fi.flow == fl && p.t <= t && t-p.t <= pmtuExpire && size > int(p.fi.mtu) && (best == nil || p.t > best.t) {
			best = p
		}
	}
	return best
}

// sightingAt is journey j's observation at point p and its (corrected) time, or nil.
func (f *findings) sightingAt(j int32, p int) (*decode.Observation, int64) {
	a := f.a
	for _, g := range a.hops(int(j)) {
		if a.point(g) == p {
			o, _ := a.obs(g)
			return o, a.ts(g)
		}
	}
	return nil, 0
}
