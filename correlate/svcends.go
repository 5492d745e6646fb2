package correlate

import (
	"maps"
	"net/netip"
	"strings"
)

// serviceNote says, for the addresses of packets that left the captures at a pod veth of node, headed
// for something that lives on that node by the way its answers came back (localSeen), which of them are
// Service addresses: DNATed to another address on some flow of these captures (kube-proxy's rewrite of
// a ClusterIP to an endpoint), or a Service's cluster IP in the metadata (--k8s). Such an address lives
// on no node: the connections were sent to one of its endpoints, and the one these went to is on node
// (its answers came in there), while other connections to the same address may have gone elsewhere
// (clusterip-two-nodes: 10.96.0.10 DNATed to pod-b on node-b and to pod-c on node-a, pod-c's veth not
// captured). It returns "" when none is.
//
// It returns too the Service addresses' endpoints on node by the metadata (localNext names their pods).
func (a *analysis) serviceNote(addrs map[string]bool, node string) (string, map[string]bool) {
	eps := map[string]map[string]bool{} // service address → the endpoints the captures show it DNATed to
	for _, fl := range a.flows {
		for k := range fl.nat.counts() {
			if k.kind != "dnat" && k.kind != "nat" {
				continue
			}
			from, to := tupleDst(k.from), tupleDst(k.to)
			if !addrs[from] || to == "" || to == from {
				continue
			}
			if eps[from] == nil {
				eps[from] = map[string]bool{}
			}
			eps[from][to] = true
		}
	}
	local := map[string]map[string]bool{} // service address → its endpoints on node, by the metadata
	if m := a.opts.Cluster; m != nil {
		for si := range m.Services {
			svc := &m.Services[si]
			for _, ip := range svc.ClusterIPs {
				if !addrs[ip.String()] {
					continue
				}
				if eps[ip.String()] == nil {
					eps[ip.String()] = map[string]bool{}
				}
				for _, sl := range m.EndpointSlices {
					if sl.Namespace != svc.Namespace || sl.Service != svc.Name {
						continue
					}
					for _, e := range sl.Endpoints {
						if e.Node != node {
							continue
						}
						for _, ea := range e.Addresses {
							if local[ip.String()] == nil {
								local[ip.String()] = map[string]bool{}
							}
							local[ip.String()][ea.String()] = true
						}
					}
				}
			}
		}
	}
	if len(eps) == 0 {
		return "", nil
	}
	ends := map[string]bool{}
	var parts []string
	for _, svc := range sortedKeys(eps) {
		s := svc + " is a Service address"
		if len(eps[svc]) > 0 {
			s += " (DNATed to " + openEndList(eps[svc]) + " on other connections of these captures)"
		}
		if len(local[svc]) > 0 {
			// Not in parentheses: Result.Named leaves those alone (a name stands before them), and the
			// metadata names these endpoints.
			s += ", with endpoints on " + node + ": " + openEndList(local[svc])
			maps.Copy(ends, local[svc])
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ") + ": it lives on no node, and the endpoint these packets were sent to is on " +
		node + ", as its answers show (other connections to it may go to endpoints elsewhere).", ends
}

// tupleDst is the destination address of a NAT mapping's tuple ("a:p → b:q", or "a → b" for ICMP),
// "" when it has none.
func tupleDst(t string) string {
	_, dst, ok := strings.Cut(t, " → ")
	if !ok {
		return ""
	}
	if ip, err := netip.ParseAddr(noPort(dst)); err == nil {
		return ip.String()
	}
	return ""
}
