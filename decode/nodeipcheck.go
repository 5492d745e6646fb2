package decode

import (
	"fmt"
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
