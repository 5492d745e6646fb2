package correlate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/calipath/calipath/decode"
)

// Severities of anomalies, most severe first.
const (
	sevError   = "error"
	sevWarning = "warning"
	sevInfo    = "info"
)

// Places an anomaly kind is said at (Anomaly.Where): a capture point, a segment between two points, or a
// node.
const (
	atPoint   = "point"
	atSegment = "segment"
	atNode    = "node"
)

// kindRow is one anomaly kind: everything calipath says about it and how it is found.
type kindRow struct {
	kind     string
	severity string // its severity; a detector departs from it only where docs/anomalies.md says so
	place    string // atPoint, atSegment or atNode
	text     string // the explanation, with %s for the place
	next     string // the next thing to check
	// detect lists the kind's anomalies from what the earlier stages settled (findings); k is this row.
	detect func(f *findings, k *kindRow) []Anomaly
}

// anomalyKinds is the vocabulary: one row per kind, in the order docs/anomalies.md lists them (which
// TestAnomalyDocs checks). Adding a kind is adding a row, its detector, and its line in the doc.
var anomalyKinds = []kindRow{
	{"encap-drop", sevError, atSegment,
		"Packets vanished inside the sending node between %s: after the pod's veth and before the underlay, where routing and IP-in-IP/VXLAN encapsulation happen. Likely causes: iptables/Felix policy, a missing route to the remote block, MTU (DF packets larger than the tunnel), rp_filter.",
		"Check `ip route get <dst>` and the Felix/iptables counters on the node.", detectLosses},
	{"underlay-drop", sevError, atSegment,
		"Packets left %s and never arrived. The network between the nodes dropped them. For IP-in-IP this is often a cloud security group or firewall that blocks IP protocol 4; for VXLAN, UDP 4789.",
		"Check the security groups, NACLs and firewalls between the nodes.", detectLosses},
	{"decap-drop", sevError, atSegment,
		"Packets reached the receiving node's underlay but not its tunnel device, between %s. The node dropped them while decapsulating: Felix drops IP-in-IP from unknown sources, or the tunnel is down, or rp_filter.",
		"Check Felix's INPUT rules, that the sender's IP is a known Calico host, and `ip -s link show tunl0`.", detectLosses},
	{"delivery-drop", sevError, atSegment,
		"Packets came out of the tunnel but never reached the pod, between %s. Likely policy (Felix's to-workload chains), a missing host route to the pod, or conntrack state.",
		"Check the NetworkPolicy for the destination pod and `ip route get <pod IP>` on the node.", detectLosses},
	{"host-drop", sevError, atSegment,
		"Packets vanished inside a node between %s. The kernel's routing or filtering dropped them.",
		"Check iptables counters, routes and rp_filter on that node.", detectLosses},
	{"loss", sevWarning, atSegment,
		"Some packets were lost between %s (scattered, not all). Congestion, a lossy link or rate limiting.",
		"Compare with interface drop counters on both ends.", detectLosses},
	{"pmtu-blackhole", sevError, atSegment,
		"Large DF packets were lost between %s while smaller ones passed, and no ICMP fragmentation-needed reached the sending pod: a path-MTU black hole.",
		"Lower the pod/tunnel MTU (Calico's MTU setting) or let ICMP type 3 code 4 through the network.", detectLosses},
	{"icmp-frag-needed", sevWarning, atPoint,
		"ICMP fragmentation-needed was sent from %s: a link on the path has a smaller MTU than the packets, and the sender should lower its path MTU.",
		"If this repeats, configure Calico's MTU to fit the underlay (minus 20 bytes for IP-in-IP, 50 for VXLAN).", detectICMP},
	{"fragmented", sevWarning, atPoint,
		"They were sent without DF, as WireGuard sends its UDP, and a link on the way, at %s or before it, has a smaller MTU, so the sender or a router split them: each such packet costs two or more on the underlay, all its fragments must arrive, and firewalls or cloud fabrics that drop fragments turn this into a black hole.",
		"Set the WireGuard MTU (FelixConfiguration wireguardMTU, or Calico's MTU setting) to the smallest underlay MTU on the way minus 60 bytes (IPv4) or 80 (IPv6).", detectFragmented},
	{"icmp-unreachable", sevWarning, atPoint,
		"ICMP destination-unreachable was seen at %s. A router or host had no route, or a port or protocol was closed or administratively prohibited; the code tells which.",
		"Check the routes on the path and the target port.", detectICMP},
	{"ttl-expired", sevWarning, atPoint,
		"ICMP time-exceeded was seen at %s: packets ran out of TTL, usually a routing loop.",
		"Check the routes on the path (traceroute from the pod).", detectICMP},
	{"icmp-error-nat-unknown", sevWarning, atSegment,
		"The two were not taken for one error rewritten by NAT on %s, as nothing captured shows a NAT joining the flows they quote: either a NAT between the points (a Service's DNAT, natOutgoing's SNAT) rewrote the error, and it was not lost but went on as the second, or they are two errors about two packets. The first is followed as ending where it was last seen; which it is, the captures cannot tell.",
		"Capture the quoted flows' own packets (the requests the errors answer) on both sides of the NAT and re-run: their NAT event joins the errors. Meanwhile, check whether one of the quoted addresses is a Service's (--k8s with the cluster's Services names them; they do not join the errors): then the NAT reading is the likely one.", detectICMPNATUnknown},
	{"icmp-error-copies", sevInfo, atPoint,
		"A capture that writes a frame twice does so within microseconds, but a sender can send two identical errors as fast (a router or host answering two identical packets back to back): at %s the captures cannot tell a duplicated capture from two errors, so each such error may be two.",
		"Check whether the same capture holds other frames twice (a capture on a bridge and on its port, a mirror port): then these are copies too. Otherwise count each as possibly two errors, and capture the packets they answer to see how many were sent.", detectICMPErrorCopies},
	{"proxy-arp-missing", sevError, atPoint,
		"The pod at %s asked who has 169.254.1.1 and the host never answered: Calico's proxy ARP did not work. The kernel answers only when proxy_arp and forwarding are on for the cali device and the host has a route back (usually its default route).",
		"Check `sysctl net.ipv4.conf.<cali>.proxy_arp` and `ip route` on the node.", detectARP},
	{"arp-unanswered", sevWarning, atPoint,
		"ARP requests at %s got no reply. The asked-for address has no owner on that link, or replies are filtered.",
		"Check the neighbour table (`ip neigh`) and whether the target exists.", detectARP},
	{"arp-unexpected-mac", sevError, atPoint,
		"169.254.1.1 was answered at %s by a MAC other than ee:ee:ee:ee:ee:ee. Something other than the Calico host end answers for the gateway (a second CNI, a stale veth, a spoofer).",
		"Check the MAC of the cali device and what else is attached to the pod's network.", detectARP},
	{"nd-gateway-unanswered", sevError, atPoint,
		"The pod at %s asked for the MAC of its IPv6 gateway fe80::ecee:eeff:feee:eeee (neighbour solicitations) and the host never answered with a neighbour advertisement: until one does, the pod sends nothing beyond its link. The gateway is the link-local address the kernel gives the host end of the pod's veth from its MAC ee:ee:ee:ee:ee:ee, and the host answers for it itself (no proxy, unlike 169.254.1.1): it does not when IPv6 is disabled on the cali device, its link-local address is gone (removed, or never made: addr_gen_mode), its MAC is not ee:ee:ee:ee:ee:ee, or a firewall drops ICMPv6 135/136 there.",
		"On the node: `sysctl net.ipv6.conf.<cali>.disable_ipv6` must be 0; `ip -6 addr show dev <cali>` must list fe80::ecee:eeff:feee:eeee/64 (`ip link show <cali>`: link/ether ee:ee:ee:ee:ee:ee); check ip6tables/nft rules for ICMPv6 neighbour solicitation and advertisement on the cali. In the pod, `ip -6 neigh show fe80::ecee:eeff:feee:eeee` shows the entry FAILED or INCOMPLETE, and `ip -6 route` its default route via it.", detectND},
	{"nd-unanswered", sevWarning, atPoint,
		"IPv6 neighbour solicitations at %s got no neighbour advertisement. The asked-for address has no owner on that link, or the exchange is filtered.",
		"Check the IPv6 neighbour table (`ip -6 neigh`) and whether the target exists.", detectND},
	{"nd-unexpected-mac", sevError, atPoint,
		"fe80::ecee:eeff:feee:eeee was advertised at %s at a MAC other than ee:ee:ee:ee:ee:ee. Something other than the Calico host end answers for the pods' IPv6 gateway (a second CNI, a stale veth, a spoofer).",
		"Check the MAC of the cali device (`ip link show <cali>`) and what else is attached to the pod's network; in the pod, `ip -6 neigh show fe80::ecee:eeff:feee:eeee`.", detectND},
	{"nat", sevInfo, atSegment,
		"Addresses were rewritten between %s. This is expected for Services (kube-proxy DNAT) and natOutgoing (SNAT); listed so the journeys can be read with it in mind.",
		"", detectNAT},
	{"clock-skew", sevInfo, atNode,
		"%s's clock differs from the reference node's. calipath corrected the timestamps; latencies across nodes carry the bound shown.",
		"Run NTP/chrony on the nodes for tighter numbers.", detectClockSkew},
	{"clock-inconsistent", sevWarning, atSegment,
		"After clock correction some packets still arrived before they left between %s. The offset estimate is off (asymmetric delays, drift, or a wrong --offset).",
		"Give --offset, or capture longer in both directions.", detectClockInconsistent},
	{"clock-step", sevWarning, atNode,
		"The clock of %s stepped during the capture (ntpd or chrony setting it): the packets crossing to and from it agree on one offset before a moment and on another after it, which no single offset nor drift fits. calipath took the step off the node's times from each capture file's first frame after it.",
		"Check the node's time service (chronyc tracking, the makestep setting; ntpd's step threshold). To be sure of the packets around the moment, split the captures there (editcap -B/-A) and correlate each part, with --offset for the node if needed.",
		detectClockSteps},
	{"retransmission", sevInfo, atPoint,
		"TCP resent data that it had sent before (seen at %s): packets or their ACKs were lost or delayed.",
		"See the loss anomalies on the same flows.", detectRetransmissions},
	{"checksum-bad", sevError, atPoint,
		"Frames with a wrong checksum were received at %s (offload placeholders and outer checksums computed over them are not counted). Suspect a NIC or driver bug, or the VXLAN outer UDP checksum bug (calico#3145).",
		"Check `ethtool -K <dev> tx off` on the sender.", detectFrames},
	{"wrong-outer-address", sevError, atPoint,
		"Encapsulated packets at %s have an outer source or destination that is not a node IP. Calico picked the wrong node address (IP autodetection; calico#2042) or a route points at the wrong next hop.",
		"Check the Node resource's IPv4Address and IP_AUTODETECTION_METHOD.", detectFrames},
	{"capture-gap", sevInfo, atPoint,
		"The capture at %s shows no frame at moments when packets followed on its path crossed it or were due there: whether they were lost before it or only not captured there rests on whether it ran then.",
		"Start and stop all captures together (dumpcap's pcapng files also record when each capture ran).", detectCaptureGaps},
	{"capture-dropped", sevWarning, atPoint,
		"The capture at %s did not write every packet that crossed it: its capture tool says it dropped some, or another capture of the same interface holds frames it lacks (the kernel's capture buffer overflowed). A packet missing there is not evidence of a loss on the network, so packets that vanished before it while it dropped are counted as not captured.",
		"Capture again with a larger buffer (tcpdump -B 32768, dumpcap -B) or a tighter filter, and write to a fast disk.", detectCaptureDrops},
	{"capture-cut", sevWarning, atPoint,
		"The capture at %s cut frames before their inner ports (its snaplen): their packets cannot be matched to their sightings elsewhere, so packets that vanished before it when such frames crossed it are counted as not captured, not lost.",
		"Capture again with -s 0 (whole frames), or a snaplen that keeps the inner headers (at least 160 bytes through a tunnel).", detectCaptureCuts},
	{"capture-one-way", sevWarning, atPoint,
		"The capture at %s recorded one direction only (tcpdump -Q in or -Q out, a capture of a router's ingress only, a filter on the packet type): it saw none of the packets that crossed it the other way. calipath leaves it out of those packets' paths, as if it had not been captured for them, so they are neither lost nor delivered there.",
		"Capture that interface in both directions (tcpdump without -Q), or -i any on the node without a filter on the packet type.",
		detectOneWay},
	{"loss-one-way-gap", sevWarning, atSegment,
		"Packets were lost between %s, across a point that captured the other direction only (see capture-one-way): they were lost somewhere between these two points, and where is unknown.",
		"Capture the one-way point in both directions (tcpdump without -Q) to place the loss.", detectLosses},
	{"loss-router-side-unknown", sevWarning, atSegment,
		"Packets were lost between %s, next to a router interface whose place on their way the TTLs cannot tell: where between these two points they were lost is unknown.",
		"Capture the router's interfaces in both directions (tcpdump without -Q), or the destination node too (the TTL there tells the routers apart), to place the loss.",
		detectLosses},
	{"loss-order-unknown", sevWarning, atSegment,
		"Packets were lost between %s, next to two capture points whose order on their way nothing the captures hold tells: their nodes' clocks are each bounded on one side only, neither through the other, so their times do not order them, and no packets crossed both the other way to order them whatever the clocks. The loss is in one of two segments, which the message names.",
		"Capture with clocks that can be compared at both points (packets both ways between them), or give --offset for both nodes, to order them and place the loss.",
		detectLosses},
	{"router-side-unknown", sevWarning, atPoint,
		"The capture at %s is on no path: it is a router interface the TTLs could not place on either side of its router's other captured interface, so calipath left it out of the paths of the packets that crossed that one (they are neither lost nor delivered there).",
		"Capture the router's interfaces in both directions (tcpdump without -Q), or the destination node's underlay too (the TTL there tells the routers apart), to place it.",
		detectRouterUnplaced},
	{"pod-veth-shared", sevWarning, atPoint,
		"A pod-veth point must be one pod's cali interface; %s is a capture of several (a bridge, merged captures, or one file for many calis), so packets cannot be followed through it, and a flow whose path is this point alone is never counted as delivered.",
		"Capture each pod's cali interface into its own file.", detectSharedVeths},
	{"point-unnamed", sevWarning, atPoint,
		"Packets seen at %s are not placed with the other nodes' points: a capture point needs its node and interface.",
		"Name the file <node>-<iface>.pcap, or give --point NODE:IFACE=FILE.", detectUnnamedPoints},
	{"window-too-small", sevWarning, atSegment,
		"--window is shorter than the hops in these captures (%s and the other segments counted): packets were seen again past the window and each was followed as two journeys. calipath joined them again, so they are not counted as lost, but matching with a window shorter than the hops is fragile.",
		"Re-run with a larger --window.", detectWindowTooSmall},
	{"ambiguous-packets", sevWarning, atPoint,
		"They were counted by position in order: at %s and every point after it, the k-th such packet seen was taken as the k-th sent. Sent, delivered and lost are counted from the number seen at each point (a duplicated capture among them counts as one more packet); which packet was lost, and the per-packet latencies, pair the packets by their order (exact when none was lost or overtaken between points).",
		"To follow each packet, capture traffic whose packets differ (IP ids, sequence numbers or payload), or read these flows' counts per point.",
		detectAmbiguous},
	{"path-incomplete", sevWarning, atPoint,
		"%s is an open end of the captured path: calipath judges packets only between the points captured.",
		"Capture on the other node too (its eth0, tunnel device and the pod's cali interface, or -i any).",
		detectPathIncomplete},
	{"offset-contradicted", sevWarning, atNode,
		"calipath corrected %s's clock with its own estimate instead (see the clock offsets), so journeys across it are followed as the traffic shows.",
		"Drop --offset for this node (calipath estimates it), or check its sign and unit: it is the node's clock minus the reference node's.",
		detectContradictedOffsets},
	{"node-ip-contradicted", sevWarning, atNode,
		"calipath takes %s's addresses the captures show as its own too, so no verdict rests on the flag. Either --node-ip is wrong, or Calico uses another address than the one meant (a node with two interfaces; IP autodetection, calico#2042).",
		"Check the Node resource's IPv4Address (`calicoctl get node -o yaml`, or give it with --k8s instead of --node-ip) and IP_AUTODETECTION_METHOD; if it is the address the captures show, drop --node-ip or give that address.",
		detectNodeIPDoubts},
	{"point-files-disagree", sevWarning, atPoint,
		"Their frames are all taken as %s's: packets one of them saw are placed there (a --point naming another node's file or the wrong interface), so what is said about this point and its neighbours (losses, capture drops, clock offsets) may be wrong.",
		"Check the --point options and the file names: each file must be a capture of the interface it names.",
		detectPointFileDoubts},
	{"any-iface-tied", sevWarning, atPoint,
		"The -i any interface %s is therefore a point of its own, merged with neither capture's point: its frames are followed as those of one more interface of the node, and nothing said of either capture's interface rests on it.",
		"Give --links NODE=FILE with the output of `ip -o link` on the node (it names every interface index), or capture the interfaces separately (tcpdump -i IFACE, one file each).",
		detectAnyTies},
	{"wireguard-no-session", sevError, atSegment,
		"Packets entered the WireGuard device and never left it encrypted, between %s, while the node had no WireGuard session to send them in (it sent no transport message toward the peer at that time, and its handshake initiations around then went unanswered): the handshake with the peer failed, see wireguard-handshake-failing.",
		"Check `wg show` on both nodes (latest handshake, endpoint, public keys) and that UDP 51820 passes between them.", detectLosses},
	{"wireguard-handshake-failing", sevError, atPoint,
		"A WireGuard handshake initiation left %s and no response came back: the peer is unreachable, UDP 51820 is blocked on the way, or the peer does not know this node's public key.",
		"Check `wg show` on both nodes (public keys, endpoints) and the firewalls between them for UDP 51820.", detectWGHandshakes},
	{"wireguard-bypass", sevError, atPoint,
		"Pod packets left through %s in clear, toward a node the others reach through WireGuard: a route or policy rule sends this pod's traffic around the WireGuard device, unencrypted.",
		"Check `ip rule` and `ip route get <dst> from <pod IP> iif <cali>` on the node: Calico's WireGuard rule (table 1) must come first.", detectWGBypass},
	{"wireguard-reordered", sevWarning, atPoint,
		"WireGuard transport messages arrived at %s out of their counter order, or with a counter already received (a replay): WireGuard drops replays and messages too far behind.",
		"Check the underlay for reordering paths (ECMP, bonding) or duplicated packets.", detectWGReordered},
	{"wireguard-rekey", sevInfo, atPoint,
		"WireGuard sessions of the node behind %s were replaced by new ones (a new handshake while a session existed: a new receiver index). WireGuard does so every 2 minutes of a session; much more often, handshakes were redone early.",
		"If the sessions change far more often than every 2 minutes, check the peers' `wg show` (latest handshake, endpoint) and whether a node's WireGuard device or Felix restarted.", detectWGRekey},
	{"encap-mode-mismatch", sevWarning, atSegment,
		"The IP pool's encapsulation mode (from the cluster metadata) is not what the packets between %s show: Calico programmed these nodes' routes otherwise than the pool says (a pool changed after its blocks were routed, a node whose subnet mask Calico got wrong for CrossSubnet, or metadata from another cluster).",
		"Compare the routes to the peer's pod block on both nodes (`ip route`, proto 80 or bird, via tunl0 or vxlan.calico) with `calicoctl get ippool -o yaml`.",
		detectPoolMode},
	{"nat-outgoing-mismatch", sevWarning, atNode,
		"The SNAT of traffic leaving the IP pools at %s is not what the pool's natOutgoing says: Calico masquerades a pod's packets to destinations outside every pool on the pod's node when, and only when, natOutgoing is true.",
		"Check the pool's natOutgoing (`calicoctl get ippool -o yaml`) and the node's cali-nat-outgoing chain (`iptables -t nat -S cali-nat-outgoing`); another MASQUERADE rule may be at work.",
		detectNATOutgoing},
	{"dnat-not-endpoint", sevError, atSegment,
		"A Service's DNAT between %s sent packets to a backend its EndpointSlices do not list: kube-proxy's rules are stale or another rule rewrote the destination.",
		"Compare `iptables -t nat -S KUBE-SERVICES` (or `ipvsadm -Ln`) on the node with `kubectl get endpointslices -l kubernetes.io/service-name=<svc>`.",
		detectServiceDNAT},
	{"k8s-contradicted", sevWarning, atNode,
		"The cluster metadata (--k8s) contradicts the captures, or itself, at %s: a name is given only where both agree, so calipath names neither here rather than pick one (the metadata may be stale, from another time or cluster, or edited).",
		"Collect the metadata again while capturing, from this cluster (kubectl get pods,nodes -A -o json), or correct the file; without --k8s the captures' own names stand.",
		detectK8sContradicted},
}

// kindIndex finds a kind's row in anomalyKinds.
var kindIndex = func() map[string]int {
	m := make(map[string]int, len(anomalyKinds))
	for i, k := range anomalyKinds {
		m[k.kind] = i
	}
	return m
}()

// isKind reports whether kind is an anomaly kind.
func isKind(kind string) bool {
	_, ok := kindIndex[kind]
	return ok
}

var severityRank = map[string]int{sevError: 0, sevWarning: 1, sevInfo: 2}

// AnomalyKinds lists every anomaly kind calipath can report, sorted.
func AnomalyKinds() []string {
	out := make([]string, len(anomalyKinds))
	for i, k := range anomalyKinds {
		out[i] = k.kind
	}
	sort.Strings(out)
	return out
}

// Severities lists the severities, most severe first.
func Severities() []string { return []string{sevError, sevWarning, sevInfo} }

// anomaly builds an anomaly of kind k at where, with severity sev: the flows it concerns (by index into
// ids; negative ones are left out), its count and evidence, and detail said before the kind's text.
func (k *kindRow) anomaly(sev string, where Where, flows map[int32]bool, ids []string, count int, ev []Evidence,
	detail string) Anomaly {
	an := Anomaly{Kind: k.kind, Severity: sev, Where: where, Flows: []string{}, Count: count,
		Evidence: append([]Evidence{}, ev...)}
	for f := range flows {
		if f >= 0 {
			an.Flows = append(an.Flows, ids[f])
		}
	}
	sort.Slice(an.Flows, func(i, j int) bool { return flowIDLess(an.Flows[i], an.Flows[j]) })
	place := where.Point
	switch {
	case where.From != "":
		place = where.From + " → " + where.To
	case where.Node != "":
		place = where.Node
	}
	an.Message = fmt.Sprintf(k.text, place)
	an.Next = k.next
	if detail != "" {
		an.Message = detail + " " + an.Message
	}
	return an
}

// named puts what the anomaly's packets or place show in place of its next step's placeholders (a
// kind's own text): each placeholder of vals (pairs: "<dst>", "10.244.2.5") that has a value, and "on
// the node" the node's name when node is known. A placeholder without a value stays as the kind wrote
// it, for the reader to look up.
func (an *Anomaly) named(node string, vals ...string) {
	for i := 0; i+1 < len(vals); i += 2 {
		if vals[i+1] != "" {
			an.Next = strings.ReplaceAll(an.Next, vals[i], vals[i+1])
		}
	}
	if node != "" {
		an.Next = strings.ReplaceAll(an.Next, "on the node", "on "+node)
		an.Next = strings.ReplaceAll(an.Next, "On the node:", "On "+node+":")
	}
}

// podIface is point p's interface name when p is a pod's veth whose name is known (a cali…), else "".
func (w *world) podIface(p int) string {
	pt := &w.c.Points[p]
	if pt.Role != decode.RolePodVeth || pt.Iface == "" || strings.ContainsAny(pt.Iface, "#?") {
		return ""
	}
	return pt.Iface
}

// oneValue is the one value added to it, "" when none or two different ones were.
type oneValue struct {
	v    string
	many bool
}

func (o *oneValue) add(v string) {
	switch {
	case v == "" || o.many:
	case o.v == "":
		o.v = v
	case o.v != v:
		o.v, o.many = "", true
	}
}
