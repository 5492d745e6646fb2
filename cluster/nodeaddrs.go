package cluster

import (
	"fmt"
	"net/netip"
)

// dropPodNodeAddrs drops each node address (not a tunnel device's) that is a running pod's own address
// (a pod not on the host network) or lies in an IP pool: a node's address is neither, so the metadata
// contradicts itself, and taking it as a node IP would make a pod's packets look like a node's. Each is
// a problem naming both sources, and in Refused; the node keeps its other addresses.
func (m *Meta) dropPodNodeAddrs() []Problem {
	pods := map[netip.Addr]*Pod{}
	for i := range m.Pods {
		p := &m.Pods[i]
		if p.HostNetwork || p.Done() {
			continue
		}
		for _, ip := range p.IPs {
			if _, dup := pods[ip]; !dup {
				pods[ip] = p
			}
		}
	}
	var probs []Problem
	for i := range m.Nodes {
		n := &m.Nodes[i]
		keep := n.Addresses[:0]
		for _, a := range n.Addresses {
			why := ""
			if p := pods[a.IP]; p != nil && !a.Tunnel {
				why = fmt.Sprintf("pod %s's address (in %s)", p.Key(), p.Source)
			} else if pl := m.poolHolding(a.IP); pl != nil && !a.Tunnel {
				why = fmt.Sprintf("in IP pool %s (%s, in %s)", pl.Name, pl.CIDR, pl.Source)
			}
			if why == "" {
				keep = append(keep, a)
				continue
			}
			m.Refused = append(m.Refused, RefusedAddr{Node: n.Name, Addr: a, Why: why})
			probs = append(probs, Problem{File: a.Source, Msg: fmt.Sprintf(
				"node %s: %s %s is %s, which no node address can be: not taken as the node's address (is the file this cluster's, and current? the node's own address is in `kubectl get node %s -o wide`)",
				n.Name, a.Kind, a.IP, why, n.Name)})
		}
		n.Addresses = keep
	}
	return probs
}

// poolHolding returns an enabled IP pool holding ip, nil when none does.
func (m *Meta) poolHolding(ip netip.Addr) *Pool {
	for i := range m.Pools {
		if p := &m.Pools[i]; !p.Disabled && p.CIDR.Contains(ip) {
			return p
		}
	}
	return nil
}
