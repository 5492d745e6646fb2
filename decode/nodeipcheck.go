package decode

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
)

// NodeIPConflicts lists what the captures say against --node-ip (cfg.NodeIPs not from cluster
// metadata): an address given to two nodes, an address a pod of some node sends from (seen at its
// pod-veth points), or an address the captures show to be another node's (the outer source of
// encapsulated frames from that node's own pods). Each such address would be taken as given and
// make every verdict about the nodes' traffic wrong (wrong-outer-address errors, two nodes of one
// address), so the caller refuses it with the message, naming the evidence.
func NodeIPConflicts(points []Point, cfg PointConfig) []string {
	given := map[netip.Addr][]string{}
	for _, node := range sortedNodes(nodeSet(cfg.NodeIPs)) {
		for _, ip := range cfg.NodeIPs[node] {
			if _, meta := cfg.NodeIPWhy[ip]; !meta {
				given[ip] = append(given[ip], node)
			}
		}
	}
	if len(given) == 0 {
		return nil
	}
	pod, owner := nodeIPEvidence(points)
	arp := arpNotNode(points, owner)
	var out []string
	for _, ip := range sortedAddrs(given) {
		nodes := given[ip]
		switch {
		case len(nodes) > 1:
			out = append(out, fmt.Sprintf("--node-ip: %s is given for %d nodes (%s): an address is one node's",
				ip, len(nodes), strings.Join(nodes, ", ")))
		case pod[ip] != "":
			out = append(out, fmt.Sprintf("--node-ip %s=%s: %s is a pod's address (%s), not a node's",
				nodes[0], ip, ip, pod[ip]))
		case owner[ip].node != "" && owner[ip].node != nodes[0]:
			out = append(out, fmt.Sprintf("--node-ip %s=%s: the captures show %s is %s's (%s)",
				nodes[0], ip, ip, owner[ip].node, owner[ip].why))
		case arp[nodeAddr{nodes[0], ip}] != "":
			out = append(out, fmt.Sprintf("--node-ip %s=%s: the captures show %s is another device's, not %s's: %s; "+
				"give %s's own address (%s) or drop --node-ip %s",
				nodes[0], ip, ip, nodes[0], arp[nodeAddr{nodes[0], ip}], nodes[0], ownAddrs(owner, nodes[0]), nodes[0]))
		}
	}
	return out
}

type ipOwner struct{ node, why string }

// nodeIPEvidence maps the addresses pods send from to where that was seen, and the outer sources of
// encapsulated frames from a node's own pods to that node.
func nodeIPEvidence(points []Point) (map[netip.Addr]string, map[netip.Addr]ipOwner) {
	pod := map[netip.Addr]string{}
	pods := map[string]map[netip.Addr]bool{}
	for i := range points {
		p := &points[i]
		if p.Role != RolePodVeth {
			continue
		}
		if pods[p.Node] == nil {
			pods[p.Node] = map[netip.Addr]bool{}
		}
		t := &p.Traffic
		for j := 0; j < t.NPodSrc; j++ {
			a := netip.AddrFrom4(t.PodSrcs[j])
			pods[p.Node][a] = true
			if pod[a] == "" {
				pod[a] = "it sends from " + p.ID
			}
		}
		for j := 0; j < t.NPodSrc6; j++ {
			a := netip.AddrFrom16(t.PodSrcs6[j])
			pods[p.Node][a] = true
			if pod[a] == "" {
				pod[a] = "it sends from " + p.ID
			}
		}
	}
	owner := map[netip.Addr]ipOwner{}
	for i := range points {
		p := &points[i]
		t := &p.Traffic
		for j := 0; j < t.NPairs; j++ {
			if in := netip.AddrFrom4(t.InnerSrc[j]); pods[p.Node][in] {
				addOwner(owner, netip.AddrFrom4(t.OuterSrc[j]), p, in)
			}
		}
		for j := 0; j < t.NPairs6; j++ {
			if in := netip.AddrFrom16(t.InnerSrc6[j]); pods[p.Node][in] {
				addOwner(owner, netip.AddrFrom16(t.OuterSrc6[j]), p, in)
			}
		}
	}
	return pod, owner
}

// addOwner records the first evidence that out is p's node's address.
func addOwner(owner map[netip.Addr]ipOwner, out netip.Addr, p *Point, in netip.Addr) {
	if owner[out].node == "" {
		owner[out] = ipOwner{p.Node, fmt.Sprintf("outer source of encapsulated frames from its local pod %s at %s", in, p.ID)}
	}
}

func nodeSet(m map[string][]netip.Addr) map[string]bool {
	s := map[string]bool{}
	for n := range m {
		s[n] = true
	}
	return s
}

func sortedAddrs(m map[netip.Addr][]string) []netip.Addr {
	out := make([]netip.Addr, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

type nodeAddr struct {
	node string
	ip   netip.Addr
}

// arpNotNode maps (node, address) to the ARP evidence, at that node's own capture points, that the
// address is another device's: the node, sending from an address the captures show to be its own
// (owner), asks by ARP who has it (a host does not ask for its own address; a gratuitous ARP asks
// for the sender's own and is not counted), or ARP ties it to a MAC other than the one its own
// address has there. Only IPv4: ARP is.
func arpNotNode(points []Point, owner map[netip.Addr]ipOwner) map[nodeAddr]string {
	out := map[nodeAddr]string{}
	for i := range points {
		p := &points[i]
		t := &p.Traffic
		macs := map[netip.Addr][6]byte{}
		for j := 0; j < t.NARPs; j++ {
			if a := netip.AddrFrom4(t.ARPs[j].SPA); !a.IsUnspecified() {
				macs[a] = t.ARPs[j].SHA
			}
		}
		for j := 0; j < t.NARPs; j++ {
			f := &t.ARPs[j]
			spa, tpa := netip.AddrFrom4(f.SPA), netip.AddrFrom4(f.TPA)
			if f.Op == 1 && spa != tpa && owner[spa].node == p.Node {
				out[nodeAddr{p.Node, tpa}] = fmt.Sprintf("%s (%s) asks who has %s by ARP at %s%s",
					p.Node, spa, tpa, p.ID, answeredBy(macs, tpa, f.SHA))
			}
		}
		addrs := make([]netip.Addr, 0, len(macs))
		for a := range macs {
			addrs = append(addrs, a)
		}
		sort.Slice(addrs, func(i, j int) bool { return addrs[i].Less(addrs[j]) })
		for _, a := range addrs {
			k, mac := nodeAddr{p.Node, a}, macs[a]
			for _, own := range addrs {
				m := macs[own]
				if out[k] == "" && owner[own].node == p.Node && own != a && m != mac && owner[a].node != p.Node {
					out[k] = fmt.Sprintf("ARP at %s ties it to %s, and %s's own %s to %s",
						p.ID, net.HardwareAddr(mac[:]), p.Node, own, net.HardwareAddr(m[:]))
				}
			}
		}
	}
	return out
}

// answeredBy says which MAC the ARP at a point gave for a, when one other than mine did.
func answeredBy(macs map[netip.Addr][6]byte, a netip.Addr, mine [6]byte) string {
	if m, ok := macs[a]; ok && m != mine {
		return fmt.Sprintf(", and %s answers for it (not the asker's %s)", net.HardwareAddr(m[:]), net.HardwareAddr(mine[:]))
	}
	return ""
}

// ownAddrs lists the addresses the captures show to be node's (the outer sources of its pods'
// encapsulated frames).
func ownAddrs(owner map[netip.Addr]ipOwner, node string) string {
	var s []string
	for a, o := range owner {
		if o.node == node {
			s = append(s, a.String())
		}
	}
	sort.Strings(s)
	if len(s) == 0 {
		return "not seen in these captures"
	}
	return strings.Join(s, ", ")
}

// NodeIPDoubts maps each node whose --node-ip addresses the captures never show it sending from,
// while they show it sending from others, to what they show: the outer sources of the encapsulated
// frames from its own pods (seen at its pod-veth points) are all other addresses. That may be a
// wrong --node-ip, or Calico using another address than the one meant (a node with two
// interfaces, IP autodetection): the captures cannot tell which, so the node's IPs are both (no
// wrong-outer-address error rests on the flag) and a warning says so (node-ip-contradicted). An
// address the captures tie to another node, a pod or another device is refused instead
// (NodeIPConflicts).
func NodeIPDoubts(points []Point, cfg PointConfig) map[string]string {
	var out map[string]string
	var owner map[netip.Addr]ipOwner
	for _, node := range sortedNodes(nodeSet(cfg.NodeIPs)) {
		var given []string
		for _, ip := range cfg.NodeIPs[node] {
			if _, meta := cfg.NodeIPWhy[ip]; meta {
				given = nil
				break
			}
			given = append(given, ip.String())
		}
		if len(given) == 0 {
			continue
		}
		if owner == nil {
			_, owner = nodeIPEvidence(points)
		}
		if seenOwn(owner, node, cfg.NodeIPs[node]) {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[node] = fmt.Sprintf("--node-ip %s=%s: no encapsulated frame from %s's own pods leaves from %s; "+
			"they all leave from %s (%s).", node, strings.Join(given, ","),
			node, strings.Join(given, " or "), ownAddrs(owner, node), firstWhy(owner, node))
	}
	return out
}

// seenOwn reports whether one of ips is node's by the captures, or they show no address of node's.
func seenOwn(owner map[netip.Addr]ipOwner, node string, ips []netip.Addr) bool {
	for _, ip := range ips {
		if owner[ip].node == node {
			return true
		}
	}
	for _, o := range owner {
		if o.node == node {
			return false
		}
	}
	return true
}

// firstWhy is the evidence for node's lowest own address.
func firstWhy(owner map[netip.Addr]ipOwner, node string) string {
	var best netip.Addr
	for a, o := range owner {
		if o.node == node && (!best.IsValid() || a.Less(best)) {
			best = a
		}
	}
	return owner[best].why
}
