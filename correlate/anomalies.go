package correlate

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/calipath/calipath/decode"
)

// explain gives each anomaly kind its explanation (with %s for the place) and the next thing to check.
// docs/anomalies.md lists the same kinds.
var explain = map[string][2]string{
	"arp-unanswered": {"ARP requests at %s got no reply. The asked-for address has no owner on that link, or replies are filtered.",
		"Check the neighbour table (`ip neigh`) and whether the target exists."},
	"proxy-arp-missing": {"The pod at %s asked who has 169.254.1.1 and the host never answered: Calico's proxy ARP did not work. The kernel answers only when proxy_arp and forwarding are on for the cali device and the host has a route back (usually its default route).",
		"Check `sysctl net.ipv4.conf.<cali>.proxy_arp` and `ip route` on the node."},
	"arp-unexpected-mac": {"169.254.1.1 was answered at %s by a MAC other than ee:ee:ee:ee:ee:ee. Something other than the Calico host end answers for the gateway (a second CNI, a stale veth, a spoofer).",
		"Check the MAC of the cali device and what else is attached to the pod's network."},
	"encap-drop": {"Packets vanished inside the sending node between %s: after the pod's veth and before the underlay, where routing and IP-in-IP/VXLAN encapsulation happen. Likely causes: iptables/Felix policy, a missing route to the remote block, MTU (DF packets larger than the tunnel), rp_filter.",
		"Check `ip route get <dst>` and the Felix/iptables counters on the node."},
	"underlay-drop": {"Packets left %s and never arrived. The network between the nodes dropped them. For IP-in-IP this is often a cloud security group or firewall that blocks IP protocol 4; for VXLAN, UDP 4789.",
		"Check the security groups, NACLs and firewalls between the nodes."},
	"decap-drop": {"Packets reached the receiving node's underlay but not its tunnel device, between %s. The node dropped them while decapsulating: Felix drops IP-in-IP from unknown sources, or the tunnel is down, or rp_filter.",
		"Check Felix's INPUT rules, that the sender's IP is a known Calico host, and `ip -s link show tunl0`."},
	"delivery-drop": {"Packets came out of the tunnel but never reached the pod, between %s. Likely policy (Felix's to-workload chains), a missing host route to the pod, or conntrack state.",
		"Check the NetworkPolicy for the destination pod and `ip route get <pod IP>` on the node."},
	"host-drop": {"Packets vanished inside a node between %s. The kernel's routing or filtering dropped them.",
		"Check iptables counters, routes and rp_filter on that node."},
	"loss": {"Some packets were lost between %s (scattered, not all). Congestion, a lossy link or rate limiting.",
		"Compare with interface drop counters on both ends."},
	"pmtu-blackhole": {"Large DF packets were lost between %s while smaller ones passed, and no ICMP fragmentation-needed reached the sending pod: a path-MTU black hole.",
		"Lower the pod/tunnel MTU (Calico's MTU setting) or let ICMP type 3 code 4 through the network."},
	"icmp-frag-needed": {"ICMP fragmentation-needed was sent from %s: a link on the path has a smaller MTU than the packets, and the sender should lower its path MTU.",
		"If this repeats, configure Calico's MTU to fit the underlay (minus 20 bytes for IP-in-IP, 50 for VXLAN)."},
	"icmp-unreachable": {"ICMP destination-unreachable was seen at %s. A router or host had no route, or a port or protocol was closed or administratively prohibited; the code tells which.",
		"Check the routes on the path and the target port."},
	"ttl-expired": {"ICMP time-exceeded was seen at %s: packets ran out of TTL, usually a routing loop.",
		"Check the routes on the path (traceroute from the pod)."},
	"nat": {"Addresses were rewritten between %s. This is expected for Services (kube-proxy DNAT) and natOutgoing (SNAT); listed so the journeys can be read with it in mind.",
		""},
	"clock-skew": {"%s's clock differs from the reference node's. calipath corrected the timestamps; latencies across nodes carry the bound shown.",
		"Run NTP/chrony on the nodes for tighter numbers."},
	"clock-inconsistent": {"After clock correction some packets still arrived before they left between %s. The offset estimate is off (asymmetric delays, drift, or a wrong --offset).",
		"Give --offset, or capture longer in both directions."},
	"retransmission": {"TCP resent data that it had sent before (seen at %s): packets or their ACKs were lost or delayed.",
		"See the loss anomalies on the same flows."},
	"checksum-bad": {"Frames with a wrong checksum were received at %s (offload placeholders and outer checksums computed over them are not counted). Suspect a NIC or driver bug, or the VXLAN outer UDP checksum bug (calico#3145).",
		"Check `ethtool -K <dev> tx off` on the sender."},
	"wrong-outer-address": {"Encapsulated packets at %s have an outer source or destination that is not a node IP. Calico picked the wrong node address (IP autodetection; calico#2042) or a route points at the wrong next hop.",
		"Check the Node resource's IPv4Address and IP_AUTODETECTION_METHOD."},
	"capture-gap": {"The capture at %s does not cover the time span of the others, so packets there can only be 'not captured'.",
		"Start and stop all captures together."},
	"pod-veth-shared": {"A pod-veth point must be one pod's cali interface; %s is a capture of several (a bridge, merged captures, or one file for many calis), so packets cannot be followed through it, and a flow whose path is this point alone is never counted as delivered.",
		"Capture each pod's cali interface into its own file."},
	"point-unnamed": {"Packets seen at %s are not placed with the other nodes' points: a capture point needs its node and interface.",
		"Name the file <node>-<iface>.pcap, or give --point NODE:IFACE=FILE."},
	"window-too-small": {"--window is shorter than the hops in these captures (%s and the other segments counted): packets were seen again past the window and each was followed as two journeys. calipath joined them again, so they are not counted as lost, but matching with a window shorter than the hops is fragile.",
		"Re-run with a larger --window."},
	"ambiguous-packets": {"They were counted by position in order: at %s and every point after it, the k-th such packet seen was taken as the k-th sent. Sent, delivered and lost are counted from the number seen at each point (a duplicated capture among them counts as one more packet); which packet was lost, and the per-packet latencies, pair the packets by their order (exact when none was lost or overtaken between points).",
		"To follow each packet, capture traffic whose packets differ (IP ids, sequence numbers or payload), or read these flows' counts per point."},
	"path-incomplete": {"%s is an open end of the captured path: calipath judges packets only between the points captured.",
		"Capture on the other node too (its eth0, tunnel device and the pod's cali interface, or -i any)."},
	"offset-contradicted": {"calipath corrected %s's clock with its own estimate instead (see the clock offsets), so journeys across it are followed as the traffic shows.",
		"Drop --offset for this node (calipath estimates it), or check its sign and unit: it is the node's clock minus the reference node's."},
}

var severityRank = map[string]int{"error": 0, "warning": 1, "info": 2}

// AnomalyKinds lists every anomaly kind calipath can report, sorted.
func AnomalyKinds() []string { return sortedKeys(explain) }

// Severities lists the severities, most severe first.
func Severities() []string { return []string{"error", "warning", "info"} }

func (a *analysis) anomaly(kind, severity string, where Where, flows map[int32]bool, ids []string, count int,
	ev []Evidence, detail string) Anomaly {
	an := Anomaly{Kind: kind, Severity: severity, Where: where, Flows: []string{}, Count: count,
		Evidence: append([]Evidence{}, ev...)}
	for f := range flows {
		if f >= 0 {
			an.Flows = append(an.Flows, ids[f])
		}
	}
	sort.Slice(an.Flows, func(i, j int) bool { return flowNum(an.Flows[i]) < flowNum(an.Flows[j]) })
	place := where.Point
	switch {
	case where.From != "":
		place = where.From + " → " + where.To
	case where.Node != "":
		place = where.Node
	}
	an.Message = fmt.Sprintf(explain[kind][0], place)
	an.Next = explain[kind][1]
	if detail != "" {
		an.Message = detail + " " + an.Message
	}
	return an
}

// icmpKey groups ICMP error findings into anomalies.
type icmpKey struct {
	kind  string
	point int
	self  bool
	own   bool
}

// segFlow is one flow's losses on one segment.
type segFlow struct {
	s    *segAcc
	flow int32
}

// lostEvidence is how many lost journeys of each flow a segment keeps as evidence: enough for an
// anomaly's list after the drops that ICMP errors answered are taken out.
const lostEvidence = 10

// lossEv is the evidence of one lost journey j: its last frame, and its flow.
type lossEv struct {
	flow int32
	j    int32
	ev   Evidence
}

// lossEvidence returns the first 10 frames of s's lost journeys, leaving out the first answered[flow]
// of each flow (the drops ICMP errors answered, counted in their anomaly).
func lossEvidence(s *segAcc, answered map[segFlow]int) []Evidence {
	var out []Evidence
	skipped := map[int32]int{}
	for _, e := range s.evidence {
		if skipped[e.flow] < answered[segFlow{s, e.flow}] {
			skipped[e.flow]++
			continue
		}
		if len(out) < 10 {
			out = append(out, e.ev)
		}
	}
	return out
}

// icmpExplained books each ICMP error (frag-needed, unreachable, time-exceeded) against one packet of
// the flow it quotes that was lost on a segment starting on the node that sent the error: the node
// dropped that packet and said why. It returns the answered drops per segment, per flow on a segment
// and per ICMP group. Errors a node addresses to itself answer nothing (they report the node's own
// sends).
func (a *analysis) icmpExplained() (map[*segAcc]int, map[segFlow]int, map[icmpKey]int) {
	w := a.w
	explained, answered := map[*segAcc]int{}, map[icmpKey]int{}
	segs := make([]*segAcc, 0, len(a.segs))
	for _, s := range a.segs {
		if s.lost > 0 {
			segs = append(segs, s)
		}
	}
	sort.Slice(segs, func(i, j int) bool {
		if segs[i].from != segs[j].from {
			return segs[i].from < segs[j].from
		}
		return segs[i].to < segs[j].to
	})
	used := map[segFlow]int{} // losses of a flow on a segment already answered
	for _, f := range a.icmpFindings {
		if f.self || f.own || f.flow < 0 {
			continue // a node's own refusals of its pods' packets stay losses of its segment
		}
		node := w.pointNode[f.point]
		var pick *segAcc
		for _, s := range segs {
			if w.pointNode[s.from] != node || s.flows[f.flow] <= used[segFlow{s, f.flow}] {
				continue
			}
			if pick == nil || (s.from == f.point && pick.from != f.point) {
				pick = s
			}
		}
		if pick == nil {
			continue
		}
		used[segFlow{pick, f.flow}]++
		explained[pick]++
		answered[icmpKey{f.kind, f.point, f.self, f.own}]++
	}
	return explained, used, answered
}

func (a *analysis) anomalies(ids []string, res *Result) []Anomaly {
	w := a.w
	out := []Anomaly{}
	// Losses per segment; drops answered with an ICMP error are that error's anomaly, not a loss.
	explained, answeredOn, answered := a.icmpExplained()
	for _, s := range a.segs {
		if s.lost == 0 || explained[s] == s.lost {
			continue
		}
		where := Where{From: w.c.Points[s.from].ID, To: w.c.Points[s.to].ID}
		flows := map[int32]bool{}
		icmpReached := false
		for f, n := range s.flows {
			if n > answeredOn[segFlow{s, f}] { // a flow whose every drop here was answered is not in it
				flows[f] = true
			}
			if a.flows[f].icmpFrag > 0 {
				icmpReached = true
			}
		}
		evidence := lossEvidence(s, answeredOn)
		total := s.lost + s.delivered
		lost := s.lost - explained[s] // the unexplained drops
		detail := fmt.Sprintf("%d of %d packets lost.", lost, total)
		if n := explained[s]; n > 0 {
			detail = fmt.Sprintf("%d of %d packets lost (and %d dropped with an ICMP error, listed apart).", lost, total, n)
		}
		if s.refused > 0 {
			detail += fmt.Sprintf(" %s refused %d of them itself and answered with an ICMP error (see the ICMP anomaly).",
				w.nodes[w.pointNode[s.from]], s.refused)
		}
		if n := w.pointNode[s.to]; a.nodeEmpty[n] {
			detail += fmt.Sprintf(" %s's captures hold no frame at all: calipath takes them to have run while the others did "+
				"(a pcap file records no start or stop time); if they did not, these packets were not captured there rather than lost.",
				w.nodes[n])
		}
		switch {
		case s.lostDF == s.lost && lost >= 2 && s.lostMaxLen > s.passMaxLen && s.delivered > 0 && !icmpReached:
			out = append(out, a.anomaly("pmtu-blackhole", "error", where, flows, ids, lost, evidence,
				fmt.Sprintf("%s Lost packets were up to %d bytes with DF; the largest that passed was %d.", detail, s.lostMaxLen, s.passMaxLen)))
		case lost*2 >= total || a.flowDropped(s, answeredOn):
			kind := map[string]string{"encap": "encap-drop", "underlay": "underlay-drop", "decap": "decap-drop",
				"delivery": "delivery-drop"}[s.kind]
			if kind == "" {
				kind = "host-drop"
			}
			out = append(out, a.anomaly(kind, "error", where, flows, ids, lost, evidence, detail))
		default:
			out = append(out, a.anomaly("loss", "warning", where, flows, ids, lost, evidence, detail))
		}
	}
	for _, s := range a.segs {
		if s.negative > 0 && w.pointNode[s.from] != w.pointNode[s.to] {
			out = append(out, a.anomaly("clock-inconsistent", "warning", Where{From: w.c.Points[s.from].ID, To: w.c.Points[s.to].ID},
				nil, ids, s.negative, nil, fmt.Sprintf("%d packets had negative latency.", s.negative)))
		}
	}
	// ARP.
	type akey struct {
		kind  string
		point int
	}
	arpGroups := map[akey][]arpFinding{}
	for _, f := range a.arpFindings {
		k := akey{f.kind, f.point}
		arpGroups[k] = append(arpGroups[k], f)
	}
	for k, fs := range arpGroups {
		var ev []Evidence
		for _, f := range fs {
			if len(ev) < 10 {
				ev = append(ev, f.ev)
			}
		}
		sev := "error"
		detail := fmt.Sprintf("%d requests for %s.", len(fs), fs[0].who)
		if k.kind == "arp-unanswered" {
			sev = "warning"
		}
		if k.kind == "arp-unexpected-mac" {
			detail = fmt.Sprintf("%s is-at %s.", fs[0].who, fs[0].mac)
		}
		out = append(out, a.anomaly(k.kind, sev, Where{Point: w.c.Points[k.point].ID}, nil, ids, len(fs), ev, detail))
	}
	// ICMP errors.
	icmpGroups := map[icmpKey][]icmpFinding{}
	for _, f := range a.icmpFindings {
		k := icmpKey{f.kind, f.point, f.self, f.own}
		icmpGroups[k] = append(icmpGroups[k], f)
	}
	for k, fs := range icmpGroups {
		flows := map[int32]bool{}
		var ev []Evidence
		for _, f := range fs {
			flows[f.flow] = true
			if len(ev) < 10 {
				ev = append(ev, f.ev)
			}
		}
		detail := ""
		if k.kind == "icmp-frag-needed" {
			detail = fmt.Sprintf("Next-hop MTU %d.", fs[0].mtu)
		}
		if n := answered[k]; n > 0 {
			what := "a packet"
			if n > 1 {
				what = fmt.Sprintf("%d packets", n)
			}
			detail += fmt.Sprintf(" It answered %s dropped on that node (not counted again as loss).", what)
		}
		if k.own {
			node := w.nodes[w.pointNode[k.point]]
			detail += fmt.Sprintf(" Sent by %s to its own pod: the node refused the pod's packet itself (its drop counts as loss on %s's segment).",
				node, node)
		}
		sev := "warning"
		if k.self {
			sev = "info"
			detail += fmt.Sprintf(" Sent by %s to itself: its own stack reporting a local send failure, not a hop on the path.",
				w.nodes[w.pointNode[k.point]])
		}
		out = append(out, a.anomaly(k.kind, sev, Where{Point: w.c.Points[k.point].ID}, flows, ids, len(fs), ev, strings.TrimSpace(detail)))
	}
	// NAT, grouped by kind and place.
	type nkey struct{ kind, at string }
	natGroups := map[nkey]map[int32]bool{}
	natCount := map[nkey]int{}
	natEv := map[nkey][]Evidence{}
	for fi, fl := range a.flows { // flows in first-seen order, so the evidence is too
		for _, k := range sortedNAT(fl.nat) {
			nk := nkey{k.kind, k.at}
			if natGroups[nk] == nil {
				natGroups[nk] = map[int32]bool{}
			}
			natGroups[nk][int32(fi)] = true
			natCount[nk] += fl.nat[k]
			for _, e := range fl.natEv[k] {
				if len(natEv[nk]) < 10 {
					natEv[nk] = append(natEv[nk], e)
				}
			}
		}
	}
	for k, flows := range natGroups {
		from, to, _ := strings.Cut(k.at, "→")
		out = append(out, a.anomaly("nat", "info", Where{From: from, To: to}, flows, ids, natCount[k], natEv[k],
			strings.ToUpper(k.kind)+"."))
	}
	// Clocks.
	for n, m := range a.clocks {
		if m.offset > int64(time.Millisecond) || m.offset < -int64(time.Millisecond) {
			detail := fmt.Sprintf("Offset %s", time.Duration(m.offset))
			if m.bound >= 0 {
				detail += fmt.Sprintf(" ± %s", time.Duration(m.bound))
			}
			if m.drift != 0 {
				detail += fmt.Sprintf(", drift %.1f ppm", m.drift*1e6)
			}
			out = append(out, a.anomaly("clock-skew", "info", Where{Node: w.nodes[n]}, nil, ids, 1, nil, detail+" ("+m.method+")."))
		}
	}
	// Retransmissions, at the first point of the direction that resent.
	type rgroup struct {
		flows          map[int32]bool
		count, packets int
		ev             []Evidence
	}
	rg := map[string]*rgroup{}
	for fi, fl := range a.flows {
		for d := uint8(0); d < 2; d++ {
			n := 0
			var ev []Evidence
			for _, j := range fl.journeys[d] {
				if a.retransJ[j] {
					n++
					if len(ev) < 10 {
						ev = append(ev, a.evidence(a.hops(int(j))[0]))
					}
				}
			}
			if n == 0 {
				continue
			}
			where := ""
			if pi := fl.path[d]; pi != nil && len(pi.points) > 0 {
				where = w.c.Points[pi.points[0]].ID
			}
			g := rg[where]
			if g == nil {
				g = &rgroup{flows: map[int32]bool{}}
				rg[where] = g
			}
			g.flows[int32(fi)] = true
			g.count += n
			g.packets += len(fl.journeys[d])
			if len(g.ev) < 10 {
				g.ev = append(g.ev, ev[:min(len(ev), 10-len(g.ev))]...)
			}
		}
	}
	for where, g := range rg {
		sev := "info"
		if g.count*100 > g.packets {
			sev = "warning"
		}
		out = append(out, a.anomaly("retransmission", sev, Where{Point: where}, g.flows, ids, g.count, g.ev,
			fmt.Sprintf("%d retransmitted segments in %d flows.", g.count, len(g.flows))))
	}
	out = append(out, a.frameAn...)
	out = append(out, a.fitAnomalies(ids)...)
	out = append(out, a.pathAnomalies(ids)...)
	// Capture gaps.
	lo, hi := int64(1<<62), int64(-1<<62)
	for i, p := range w.c.Points {
		if p.Traffic.Frames > 0 {
			lo, hi = min(lo, a.ownFirst[i]), max(hi, a.ownLast[i])
		}
	}
	for i, p := range w.c.Points {
		if p.Traffic.Frames == 0 || hi <= lo {
			continue
		}
		first, last := a.ownFirst[i], a.ownLast[i]
		if a.onlyAny(i) {
			// A -i any capture covers every interface of its node for as long as it runs: its span is
			// the node's, not that of the frames one interface happened to carry.
			first, last = a.covFirst[i], a.covLast[i]
		}
		gap := max(first-lo, hi-last)
		if gap > int64(time.Second) && gap*10 > hi-lo {
			out = append(out, a.anomaly("capture-gap", "info", Where{Point: p.ID}, nil, ids, 1, nil,
				fmt.Sprintf("Its capture misses %s of the %s the others span.", time.Duration(gap).Round(time.Millisecond),
					time.Duration(hi-lo).Round(time.Millisecond))))
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		x, y := out[i], out[j]
		if severityRank[x.Severity] != severityRank[y.Severity] {
			return severityRank[x.Severity] < severityRank[y.Severity]
		}
		if x.Kind != y.Kind {
			return x.Kind < y.Kind
		}
		if x.Where != y.Where {
			return fmt.Sprint(x.Where) < fmt.Sprint(y.Where)
		}
		if x.Count != y.Count {
			return x.Count > y.Count
		}
		return x.Message < y.Message
	})
	return out
}

// flowDropped reports whether some flow lost at least half of the packets it sent on segment s
// (leaving out the drops ICMP errors answered): a flow stopped there while others pass (a DF packet
// over the tunnel MTU, policy) is a drop, not scattered loss.
func (a *analysis) flowDropped(s *segAcc, answered map[segFlow]int) bool {
	for f, n := range s.flows {
		if n -= answered[segFlow{s, f}]; n > 0 && n*2 >= a.flows[f].nSent {
			return true
		}
	}
	return false
}

// frameAnomalies checks single frames: bad checksums at receivers and outer addresses that are not
// node IPs.
func (a *analysis) frameAnomalies(ids []string) []Anomaly {
	w := a.w
	type pk struct {
		kind  string
		point int
	}
	count := map[pk]int{}
	ev := map[pk][]Evidence{}
	// Whether a frame's outer addresses fit depends on its (context, inner source, inner destination):
	// remembered in a direct-mapped cache (frames of a flow repeat theirs).
	type fit struct {
		key    [3]uint32
		ok, in bool
	}
	fits := make([]fit, 1<<13)
	for f, obs := range w.c.Obs {
		for i := range obs {
			o := &obs[i]
			p := w.srcPoint[o.Source]
			if o.Checksum() == decode.CsumBad {
				if s := w.senderNode(o); s >= 0 && s != w.pointNode[p] {
					k := pk{"checksum-bad", p}
					count[k]++
					if len(ev[k]) < 10 {
						ev[k] = append(ev[k], Evidence{File: w.c.Files[f].Path, Frame: o.Frame})
					}
				}
			}
			if o.Encap() != decode.EncapNone && o.Flags&decode.FlagIPv6 == 0 && len(w.nodeOfIP) > 0 {
				// The outer source must be an IP of the node whose pod sent the packet, and the outer
				// destination one of the node whose pod receives it (where those nodes' IPs are known).
				key := [3]uint32{uint32(o.Ctx), o.Src, o.Dst}
				e := &fits[(uint64(key[0])<<40^uint64(o.Src)<<20^uint64(o.Dst))*0x9e3779b97f4a7c15>>51]
				if !e.in || e.key != key {
					c := w.ctxOf(o)
					ok := c.OuterV != 4 || (a.outerFits(ip4(c.OuterSrcAddr()), o.Src) && a.outerFits(ip4(c.OuterDstAddr()), o.Dst))
					*e = fit{key, ok, true}
				}
				ok := e.ok
				if !ok {
					k := pk{"wrong-outer-address", p}
					count[k]++
					if len(ev[k]) < 10 {
						ev[k] = append(ev[k], Evidence{File: w.c.Files[f].Path, Frame: o.Frame})
					}
				}
			}
		}
	}
	var out []Anomaly
	for k, n := range count {
		out = append(out, a.anomaly(k.kind, "error", Where{Point: w.c.Points[k.point].ID}, nil, ids, n, ev[k],
			fmt.Sprintf("%d frames.", n)))
	}
	return out
}

// outerFits reports whether an outer address can belong to the node of the inner address's pod:
// true when that node's IPs are unknown.
func (a *analysis) outerFits(outer, inner uint32) bool {
	w := a.w
	pi, ok := w.podOwner[inner]
	if !ok {
		return true
	}
	ips := w.ipsOf[w.pointNode[pi]]
	for _, ip := range ips {
		if ip == outer {
			return true
		}
	}
	return len(ips) == 0
}

// sortedNAT returns a flow's NAT keys in a fixed order.
func sortedNAT(m map[natKey]int) []natKey {
	ks := make([]natKey, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		x, y := ks[i], ks[j]
		if x.at != y.at {
			return x.at < y.at
		}
		if x.from != y.from {
			return x.from < y.from
		}
		return x.to < y.to
	})
	return ks
}
