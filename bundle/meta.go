package bundle

import (
	"net/netip"

	"github.com/calipath/calipath/cluster"
)

// metaNodes adds to opts the nodes (names, and their InternalIP/ExternalIP addresses) that the cluster
// metadata files among s.Meta list, read by the cluster loader, so that Retina tarballs can be told
// apart by them. The loader's problems are not said here: --k8s reads the same files and says them.
func (s *Set) metaNodes(opts Options) Options {
	if len(s.Meta) == 0 {
		return opts
	}
	m, _, err := cluster.Load(s.Meta)
	if err != nil || m == nil {
		return opts
	}
	nodes := append([]string(nil), opts.Nodes...)
	ips := map[netip.Addr]string{}
	for ip, n := range opts.NodeIPs {
		ips[ip] = n
	}
	for _, n := range m.Nodes {
		nodes = append(nodes, n.Name)
		for _, a := range n.Addresses {
			if a.Kind != "InternalIP" && a.Kind != "ExternalIP" {
				continue
			}
			if _, taken := ips[a.IP]; !taken {
				ips[a.IP] = n.Name
			}
		}
	}
	opts.Nodes, opts.NodeIPs = nodes, ips
	return opts
}
