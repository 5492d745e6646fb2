package correlate

import (
	"net/netip"
	"sort"
	"strings"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
)

// Cluster metadata (Options.Cluster, from --k8s) names what the Result shows: Names lists the
// addresses it holds that the metadata knows, and each pod-veth point gets its pod. It reads the Result
// only, once the flows are built, so the stages before it know nothing of Kubernetes. Without metadata
// it changes nothing, but for the names an Inspektor Gadget capture gives its addresses itself.

// Kinds of Name.
const (
	nameKindPod         = "pod"
	nameKindHostNetwork = "host-network-pod"
	nameKindService     = "service"
	nameKindNode        = "node"
)

// clusterIndex is what the metadata says of each address, the most telling name first: a pod of its
// own address, a service, a node, a host-network pod (its node's address), an ended pod (its address
// may be reused).
type clusterIndex struct {
	meta   *cluster.Meta
	byIP   map[netip.Addr]Name
	rank   map[netip.Addr]int
	ifaces map[string]string // host-side interface → "ns/pod"
}

// A running pod's address is named after the pod resolvePods settles on, and an address it gives no
// name to (the frames contradict the metadata) is given none at all.
func newClusterIndex(m *cluster.Meta, ifaces, alias map[string]string, pods *podResolution) *clusterIndex {
	x := &clusterIndex{meta: m, byIP: map[netip.Addr]Name{}, rank: map[netip.Addr]int{}, ifaces: ifaces}
	add := func(ip netip.Addr, rank int, n Name) {
		if pods.blocked[ip] {
			return
		}
		if r, ok := x.rank[ip]; ok && r <= rank {
			return // a better (or earlier, equally good) name is there
		}
		n.IP = ip.String()
		x.byIP[ip], x.rank[ip] = n, rank
	}
	for i := range m.Pods {
		p := &m.Pods[i]
		rank, kind := 0, nameKindPod
		switch {
		case p.HostNetwork:
			rank, kind = 3, nameKindHostNetwork
		case p.Done():
			rank = 4
		}
		node := p.Node
		if a, ok := alias[node]; ok {
			node = a
		}
		for _, ip := range p.IPs {
			if rank == 0 && pods.pod[ip] != p {
				continue // another pod's, by the frames
			}
			add(ip, rank, Name{Kind: kind, Namespace: p.Namespace, Name: p.Name, Node: node, Source: p.Source})
		}
	}
	for i := range m.Services {
		s := &m.Services[i]
		for _, ip := range append(append([]netip.Addr(nil), s.ClusterIPs...), s.ExternalIPs...) {
			add(ip, 1, Name{Kind: nameKindService, Namespace: s.Namespace, Name: s.Name, Source: s.Source})
		}
	}
	for i := range m.Nodes {
		n := &m.Nodes[i]
		for _, a := range n.Addresses {
			add(a.IP, 2, Name{Kind: nameKindNode, Name: n.Name, Source: a.Source})
		}
	}
	return x
}

// name returns the metadata's name of an address given as text.
func (x *clusterIndex) name(s string) (Name, bool) {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return Name{}, false
	}
	n, ok := x.byIP[ip.Unmap()]
	return n, ok
}

// applyCluster fills res.Names with the names of the addresses res shows (flow ends, NAT rewrites,
// node IPs, pod addresses, ICMP errors, ARP) and each pod-veth point's Pod: by its interface name
// (Calico's rule, or a workload endpoint's interfaceName), else by its pod address.
// An address metadata does not name takes its name from dns (captureNames), when it has one there.
// It returns what names them, for the addresses of the anomalies (nameAnomalies); nil when nothing does.
func applyCluster(res *Result, m *cluster.Meta, prefix string, dns map[string]Name) *namer {
	if m == nil && len(dns) == 0 {
		return nil
	}
	if m == nil {
		m = cluster.New()
	}
	ifaces, alias := m.Ifaces(prefix), nodeAliases(res, m)
	pods := resolvePods(res, m, ifaces, alias)
	x := newClusterIndex(m, ifaces, alias, pods)
	nm := &namer{x: x, dns: dns, names: map[string]Name{}}
	look := nm.look
	for i := range res.Flows {
		fl := &res.Flows[i]
		look(fl.Src.IP)
		look(fl.Dst.IP)
		for _, nm := range fl.NAT {
			for _, side := range []string{nm.From, nm.To} {
				for _, ep := range strings.Split(side, " → ") {
					look(hostOf(ep))
				}
			}
		}
	}
	for _, n := range res.NodeIPs {
		look(n.IP)
	}
	for i := range res.Points {
		p := &res.Points[i]
		for _, ip := range strings.Split(p.PodIP, ",") {
			look(ip)
		}
		if p.Role != "pod-veth" || pods.badPoint[p.ID] {
			continue
		}
		if pod, ok := x.ifaces[p.Iface]; ok {
			p.Pod = pod
			continue
		}
		for _, ip := range strings.Split(p.PodIP, ",") {
			if n, ok := x.name(strings.TrimSpace(ip)); ok && n.Kind == nameKindPod {
				p.Pod = n.String()
				break
			}
		}
	}
	for _, e := range res.ICMP {
		look(e.Src)
		look(e.Dst)
	}
	for _, ap := range res.ARP {
		for _, ex := range ap.Exchanges {
			look(ex.Who)
			look(ex.Tell)
		}
	}
	nm.set(res)
	return nm
}

// namer names addresses by cluster metadata (x), else by a capture's own names (dns), and keeps the
// names it gave (names, by address).
type namer struct {
	x     *clusterIndex
	dns   map[string]Name
	names map[string]Name
}

// look names addr, when it can and has not yet.
func (nm *namer) look(addr string) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return
	}
	if _, done := nm.names[addr]; done {
		return
	}
	if n, ok := nm.x.name(addr); ok {
		nm.names[addr] = n
	} else if n, ok := nm.dns[addr]; ok {
		nm.names[addr] = n
	}
}

// set writes the names given into res.Names, sorted by address.
func (nm *namer) set(res *Result) {
	res.Names = make([]Name, 0, len(nm.names))
	for _, n := range nm.names {
		res.Names = append(res.Names, n)
	}
	sort.Slice(res.Names, func(i, j int) bool { return res.Names[i].IP < res.Names[j].IP })
}

// nameAnomalies adds to res.Names (by nm, applyCluster's) the names of the addresses the anomalies'
// messages and next steps show that nothing else in res does: an endpoint of a Service on a node
// whose pod veth was not captured (serviceNote), an address only an explanation cites. Their text
// is named as every address of the report is (Result.Named).
func nameAnomalies(res *Result, nm *namer) {
	if nm == nil {
		return
	}
	n := len(nm.names)
	for i := range res.Anomalies {
		a := &res.Anomalies[i]
		eachAddr(a.Message, func(_ int, ip string) { nm.look(ip) })
		eachAddr(a.Next, func(_ int, ip string) { nm.look(ip) })
	}
	if len(nm.names) != n {
		nm.set(res)
	}
}

// nodeAliases maps the metadata's node names to the names the captures give the same nodes, where
// they differ by a domain (cluster.MatchNodes): a pod's node is then the one its points are on.
func nodeAliases(res *Result, m *cluster.Meta) map[string]string {
	var nodes []string
	for i := range res.Points {
		nodes = append(nodes, res.Points[i].Node)
	}
	for _, n := range res.NodeIPs {
		nodes = append(nodes, n.Node)
	}
	return m.MatchNodes(nodes)
}

// hostOf returns the address of "ip:port", "[ip]:port" or a bare "ip".
func hostOf(ep string) string {
	ep = strings.TrimSpace(ep)
	if ap, err := netip.ParseAddrPort(ep); err == nil {
		return ap.Addr().String()
	}
	return ep
}

// nameKindDNS is a name from a capture's own pcapng Name Resolution Block.
const nameKindDNS = "dns"

// captureNames are the names an Inspektor Gadget capture's Name Resolution Blocks give addresses
// (the pods' and services' DNS names: "10-244-1-5.default.pod"), the first name of each address, by
// address, Source the capture file. Other pcapng files' name records (a capture tool's own lookups)
// are not used.
func captureNames(c *decode.Capture) map[string]Name {
	var out map[string]Name
	for _, f := range c.Files {
		if len(f.Names) == 0 || !gadgetFile(f) {
			continue
		}
		for _, r := range f.Names {
			ip := r.IP.Unmap().String()
			if _, dup := out[ip]; dup || len(r.Names) == 0 || r.Names[0] == "" {
				continue
			}
			if out == nil {
				out = map[string]Name{}
			}
			out[ip] = Name{IP: ip, Kind: nameKindDNS, Name: r.Names[0], Source: f.Path}
		}
	}
	return out
}

// gadgetFile reports whether one of a file's interfaces is described as Inspektor Gadget describes them.
func gadgetFile(f *decode.FileInfo) bool {
	for _, i := range f.Interfaces {
		if _, _, _, _, ok := decode.GadgetPoint(i.Description, i.Name); ok {
			return true
		}
	}
	return false
}
