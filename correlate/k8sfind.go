package correlate

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/calipath/calipath/cluster"
)

// The findings cluster metadata makes possible: what the IP pools and services expect, against what
// the captures show. Each reads the Result (its flows, modes and points) and Options.Cluster, and
// finds nothing without metadata.

// meta returns the cluster metadata, nil without --k8s.
func (f *findings) meta() *cluster.Meta { return f.a.opts.Cluster }

// poolOf returns the IP pool holding ip (the longest prefix), nil when none does.
func poolOf(m *cluster.Meta, ip netip.Addr) *cluster.Pool {
	var best *cluster.Pool
	for i := range m.Pools {
		p := &m.Pools[i]
		if p.CIDR.Contains(ip) && (best == nil || p.CIDR.Bits() > best.CIDR.Bits()) {
			best = p
		}
	}
	return best
}

// podNodes maps the addresses of the pods (not on the host network, not ended) to their nodes, by
// the captures' names of the nodes (nodeAliases): the pod resolvePods names each address after; an
// address the frames and the metadata disagree on has none.
func podNodes(res *Result, m *cluster.Meta, prefix string) map[netip.Addr]string {
	alias := nodeAliases(res, m)
	out := map[netip.Addr]string{}
	for ip, p := range resolvePods(res, m, m.Ifaces(prefix), alias).pod {
		if p.Node != "" {
			out[ip] = nodeName(alias, p.Node)
		}
	}
	return out
}

// flowEnds returns a flow's client address and the address its packets were finally sent to (after a
// DNAT, the backend).
func flowEnds(fl *Flow) (src, dst netip.Addr, ok bool) {
	src, err1 := netip.ParseAddr(fl.Src.IP)
	dst, err2 := netip.ParseAddr(fl.Dst.IP)
	if err1 != nil || err2 != nil {
		return src, dst, false
	}
	for _, nm := range fl.NAT {
		if nm.Kind != "dnat" && nm.Kind != "nat" {
			continue
		}
		if _, to, ok := natSides(nm.To); ok && to.IsValid() {
			dst = to.Addr()
			break
		}
	}
	return src.Unmap(), dst.Unmap(), true
}

// natSides parses a NAT mapping's side "src:port → dst:port" (ports left out for ICMP).
func natSides(s string) (src, dst netip.AddrPort, ok bool) {
	a, b, found := strings.Cut(s, " → ")
	if !found {
		return src, dst, false
	}
	parse := func(x string) (netip.AddrPort, bool) {
		if ap, err := netip.ParseAddrPort(x); err == nil {
			return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
		}
		if ip, err := netip.ParseAddr(x); err == nil {
			return netip.AddrPortFrom(ip.Unmap(), 0), true
		}
		return netip.AddrPort{}, false
	}
	src, ok1 := parse(strings.TrimSpace(a))
	dst, ok2 := parse(strings.TrimSpace(b))
	return src, dst, ok1 && ok2
}

// Encapsulations as the pools and the modes name them: "none" for packets routed as they are (BGP).
const (
	encIPIP  = "ipip"
	encVXLAN = "vxlan"
	encNone  = "none"
)

var encapWords = map[string]string{encIPIP: "IP-in-IP", encVXLAN: "VXLAN", encNone: "not encapsulated"}

// seenEncap maps a node pair's mode (Result.Modes) to its encapsulation; "" for modes the pools do not
// decide (same-node, WireGuard).
func seenEncap(mode string) string {
	switch mode {
	case "ipip":
		return encIPIP
	case "vxlan":
		return encVXLAN
	case "bgp", "crosssubnet":
		return encNone
	}
	return ""
}

// sameSubnet reports whether nodes a and b share a subnet by the masks of their Calico addresses
// (projectcalico.org/IPv4Address, bgp.ipv4Address); known is false when a mask is missing. a and b
// are the captures' names of the nodes (alias: nodeAliases).
func sameSubnet(m *cluster.Meta, alias map[string]string, a, b string) (same, known bool) {
	nets := func(name string) (pfx []netip.Prefix, ips []netip.Addr) {
		for i := range m.Nodes {
			if n := m.Nodes[i].Name; n != name && alias[n] != name {
				continue
			}
			for _, ad := range m.Nodes[i].HostIPs() {
				ips = append(ips, ad.IP)
			}
			for _, ad := range m.Nodes[i].Addresses {
				if !ad.Tunnel && ad.Prefix >= 0 {
					if p, err := ad.IP.Prefix(ad.Prefix); err == nil {
						pfx = append(pfx, p)
					}
				}
			}
		}
		return pfx, ips
	}
	pa, ia := nets(a)
	pb, ib := nets(b)
	if len(pa) == 0 || len(pb) == 0 {
		return false, false
	}
	in := func(pfx []netip.Prefix, ips []netip.Addr) bool {
		for _, p := range pfx {
			for _, ip := range ips {
				if p.Contains(ip) {
					return true
				}
			}
		}
		return false
	}
	return in(pa, ib) && in(pb, ia), true
}

// expectedEncap returns the encapsulations pool p allows between nodes a and b: VXLAN or IP-in-IP
// Always; CrossSubnet's by whether the nodes share a subnet (both when that is unknown); none when
// both modes are Never.
func expectedEncap(m *cluster.Meta, alias map[string]string, p *cluster.Pool, a, b string) (out []string, why string) {
	mode := func(field, m2, enc string) ([]string, string, bool) {
		switch m2 {
		case "Always":
			return []string{enc}, field + " Always", true
		case "CrossSubnet":
			same, known := sameSubnet(m, alias, a, b)
			switch {
			case !known:
				return []string{enc, encNone}, field + " CrossSubnet", true
			case same:
				return []string{encNone}, field + " CrossSubnet, and the nodes share a subnet", true
			default:
				return []string{enc}, field + " CrossSubnet, and the nodes are in different subnets", true
			}
		}
		return nil, "", false
	}
	if out, why, ok := mode("vxlanMode", p.VXLANMode, encVXLAN); ok {
		return out, why
	}
	if out, why, ok := mode("ipipMode", p.IPIPMode, encIPIP); ok {
		return out, why
	}
	return []string{encNone}, "ipipMode and vxlanMode Never"
}

// detectPoolMode compares each node pair's encapsulation (Result.Modes) with what the IP pools of the
// pods talking between them say.
func detectPoolMode(f *findings, k *kindRow) []Anomaly {
	m, res := f.meta(), f.res
	if m == nil || len(m.Pools) == 0 || res == nil {
		return nil
	}
	ids := flowIDs(res)
	nodeOf, alias := podNodes(res, m, f.a.opts.IfacePrefix), nodeAliases(res, m)
	var out []Anomaly
	for _, pm := range res.Modes {
		seen := seenEncap(pm.Mode)
		if seen == "" {
			continue
		}
		flows := map[int32]bool{}
		allowed := map[string]bool{}
		var whys []string
		for i := range res.Flows {
			src, dst, ok := flowEnds(&res.Flows[i])
			if !ok {
				continue
			}
			ns, ok1 := nodeOf[src]
			nd, ok2 := nodeOf[dst]
			if !ok1 || !ok2 || !(ns == pm.From && nd == pm.To || ns == pm.To && nd == pm.From) {
				continue
			}
			for _, ip := range []netip.Addr{dst, src} { // the route to a pod's block follows its pool
				p := poolOf(m, ip)
				if p == nil {
					continue
				}
				exp, why := expectedEncap(m, alias, p, ns, nd)
				for _, e := range exp {
					allowed[e] = true
				}
				w := fmt.Sprintf("IP pool %s (%s, in %s) has %s", p.Name, p.CIDR, p.Source, why)
				if !contains(whys, w) {
					whys = append(whys, w)
				}
				flows[int32(i)] = true
			}
		}
		if len(allowed) == 0 || allowed[seen] {
			continue
		}
		var want []string
		for _, e := range []string{encIPIP, encVXLAN, encNone} {
			if allowed[e] {
				want = append(want, encapWords[e])
			}
		}
		detail := fmt.Sprintf("Pod traffic between %s and %s was %s, but %s: %s expected.", pm.From, pm.To,
			encapWords[seen], strings.Join(whys, "; "), strings.Join(want, " or "))
		packets := 0
		for fi := range flows {
			packets += res.Flows[fi].Packets
		}
		out = append(out, k.anomaly(k.severity, Where{From: pm.From, To: pm.To}, flows, ids, packets, nil, detail))
	}
	return out
}

// detectNATOutgoing compares the SNAT of traffic leaving the IP pools with the pool's natOutgoing:
// Calico masquerades a pod's packets to addresses outside every pool on the pod's node when the
// pool's natOutgoing is on, and only then. Traffic to nodes and services is left out, and a missing
// SNAT is only said when the captures saw the packets leave the pod's node.
func detectNATOutgoing(f *findings, k *kindRow) []Anomaly {
	m, res := f.meta(), f.res
	if m == nil || len(m.Pools) == 0 || res == nil {
		return nil
	}
	ids := flowIDs(res)
	nodeOf := podNodes(res, m, f.a.opts.IfacePrefix)
	pts := pointsOf(res)
	known := knownAddrs(m)
	type group struct {
		where  Where
		flows  map[int32]bool
		count  int
		detail string
	}
	groups := map[string]*group{}
	var order []string
	add := func(key string, where Where, fi int, n int, detail string) {
		g := groups[key]
		if g == nil {
			g = &group{where: where, flows: map[int32]bool{}, detail: detail}
			groups[key] = g
			order = append(order, key)
		}
		g.flows[int32(fi)] = true
		g.count += n
	}
	for i := range res.Flows {
		fl := &res.Flows[i]
		src, dst, ok := flowEnds(fl)
		if !ok {
			continue
		}
		p := poolOf(m, src)
		if p == nil || poolOf(m, dst) != nil || known[dst] {
			continue
		}
		node, ok := nodeOf[src]
		if !ok {
			if node, ok = pts.podNode[src]; !ok {
				continue
			}
		}
		snat := pts.snatOn(fl, src, node)
		switch {
		case p.NATOutgoing && snat == nil && pts.left(fl, node):
			add("missing "+node+" "+p.Name, Where{Node: node}, i, fl.Packets, fmt.Sprintf(
				"Packets from pool %s (%s, natOutgoing true, in %s) left %s for addresses outside every pool with their pod source address: no SNAT was seen.",
				p.Name, p.CIDR, p.Source, node))
		case !p.NATOutgoing && snat != nil:
			add("unexpected "+node+" "+p.Name, Where{Node: node}, i, snat.Count, fmt.Sprintf(
				"Packets from pool %s (%s, natOutgoing false, in %s) were SNATed on %s (between %s).", p.Name, p.CIDR, p.Source, node,
				strings.Replace(snat.At, "→", " and ", 1)))
		}
	}
	var out []Anomaly
	for _, key := range order {
		g := groups[key]
		out = append(out, k.anomaly(k.severity, g.where, g.flows, ids, g.count, nil, g.detail))
	}
	return out
}

// resultPoints is what the NAT check needs of the Result's points: each point's node and role, and the
// node of each pod address behind a pod veth.
type resultPoints struct {
	node, role map[string]string
	podNode    map[netip.Addr]string
}

func pointsOf(res *Result) resultPoints {
	pts := resultPoints{node: map[string]string{}, role: map[string]string{}, podNode: map[netip.Addr]string{}}
	for _, p := range res.Points {
		pts.node[p.ID], pts.role[p.ID] = p.Node, p.Role
		for _, s := range strings.Split(p.PodIP, ",") {
			if ip, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil && p.Role == "pod-veth" {
				pts.podNode[ip] = p.Node
			}
		}
	}
	return pts
}

// snatOn returns flow fl's SNAT of source src made on node (between two of its points), or nil.
func (pts resultPoints) snatOn(fl *Flow, src netip.Addr, node string) *NATMapping {
	for j := range fl.NAT {
		nm := &fl.NAT[j]
		if nm.Kind != "snat" && nm.Kind != "nat" {
			continue
		}
		from, to, _ := strings.Cut(nm.At, "→")
		s, _, ok := natSides(nm.From)
		if ok && s.Addr() == src && pts.node[from] == node && pts.node[to] == node {
			return nm
		}
	}
	return nil
}

// left reports whether flow fl was seen where a SNAT on node would show: its underlay, its -i any
// capture, or beyond it.
func (pts resultPoints) left(fl *Flow, node string) bool {
	left := false
	for _, pc := range fl.PerPoint {
		if n := pts.node[pc.Point]; n != node || pts.role[pc.Point] == "underlay" || pts.role[pc.Point] == "any" {
			left = left || n != ""
		}
	}
	return left
}

// knownAddrs returns the metadata's node and service addresses.
func knownAddrs(m *cluster.Meta) map[netip.Addr]bool {
	known := map[netip.Addr]bool{}
	for i := range m.Nodes {
		for _, a := range m.Nodes[i].Addresses {
			known[a.IP] = true
		}
	}
	for i := range m.Services {
		for _, ip := range append(append([]netip.Addr(nil), m.Services[i].ClusterIPs...), m.Services[i].ExternalIPs...) {
			known[ip] = true
		}
	}
	return known
}

// detectServiceDNAT checks each DNAT to a service address (a cluster IP, an external IP, or a node
// address on a node port) against the service's endpoint slices: a backend that is not among them,
// or a port other than its endpoints', is an anomaly. Services without slices in the metadata are
// not judged.
func detectServiceDNAT(f *findings, k *kindRow) []Anomaly {
	m, res := f.meta(), f.res
	if m == nil || len(m.Services) == 0 || res == nil {
		return nil
	}
	ids := flowIDs(res)
	nodeAddr := map[netip.Addr]bool{}
	for i := range m.Nodes {
		for _, a := range m.Nodes[i].Addresses {
			nodeAddr[a.IP] = true
		}
	}
	type group struct {
		where  Where
		flows  map[int32]bool
		count  int
		ev     []Evidence
		detail string
	}
	groups := map[string]*group{}
	var order []string
	for i := range res.Flows {
		fl := &res.Flows[i]
		for _, nm := range fl.NAT {
			if nm.Kind != "dnat" && nm.Kind != "nat" {
				continue
			}
			_, before, ok1 := natSides(nm.From)
			_, after, ok2 := natSides(nm.To)
			if !ok1 || !ok2 || before.Addr() == after.Addr() && before.Port() == after.Port() {
				continue
			}
			svc, sp := serviceAt(m, before, fl.Proto, nodeAddr[before.Addr()])
			if svc == nil {
				continue
			}
			backends, ports, slices := serviceBackends(m, svc, sp)
			if len(slices) == 0 {
				continue
			}
			problem := ""
			switch {
			case !backends[after.Addr()]:
				problem = fmt.Sprintf("%s is not among its endpoints (%s)", after.Addr(), addrList(backends))
			case len(ports) > 0 && after.Port() != 0 && !ports[after.Port()]:
				problem = fmt.Sprintf("port %d is not its endpoints' port %s (%s)", after.Port(), sp.Name, portList(ports))
			default:
				continue
			}
			from, to, _ := strings.Cut(nm.At, "→")
			key := nm.At + " " + svc.Key() + " " + after.String()
			g := groups[key]
			if g == nil {
				g = &group{where: Where{From: from, To: to}, flows: map[int32]bool{}, detail: fmt.Sprintf(
					"Packets to service %s (%s) were DNATed to %s, and %s; endpoint slices in %s.",
					svc.Key(), before, after, problem, strings.Join(slices, ", "))}
				groups[key] = g
				order = append(order, key)
			}
			g.flows[int32(i)] = true
			g.count += nm.Count
			for _, e := range f.natEvidence(fl.ID, nm) {
				if len(g.ev) < 10 {
					g.ev = append(g.ev, e)
				}
			}
		}
	}
	var out []Anomaly
	for _, key := range order {
		g := groups[key]
		out = append(out, k.anomaly(k.severity, g.where, g.flows, ids, g.count, g.ev, g.detail))
	}
	return out
}

// serviceAt returns the service and port that ap (with protocol proto: tcp, udp, sctp) is: a cluster
// or external IP and port, or, on a node address, a node port.
func serviceAt(m *cluster.Meta, ap netip.AddrPort, proto string, onNode bool) (*cluster.Service, *cluster.ServicePort) {
	proto = strings.ToUpper(proto)
	for i := range m.Services {
		s := &m.Services[i]
		own := false
		for _, ip := range append(append([]netip.Addr(nil), s.ClusterIPs...), s.ExternalIPs...) {
			own = own || ip == ap.Addr()
		}
		for j := range s.Ports {
			p := &s.Ports[j]
			if p.Protocol != proto {
				continue
			}
			if own && p.Port == ap.Port() || onNode && p.NodePort != 0 && p.NodePort == ap.Port() {
				return s, p
			}
		}
	}
	return nil, nil
}

// serviceBackends returns the addresses of a service's endpoints, the ports they serve sp on (by
// the port's name), and the files of its slices.
func serviceBackends(m *cluster.Meta, svc *cluster.Service, sp *cluster.ServicePort) (map[netip.Addr]bool, map[uint16]bool, []string) {
	addrs, ports := map[netip.Addr]bool{}, map[uint16]bool{}
	var files []string
	for i := range m.EndpointSlices {
		es := &m.EndpointSlices[i]
		if es.Namespace != svc.Namespace || es.Service != svc.Name {
			continue
		}
		if !contains(files, es.Source) {
			files = append(files, es.Source)
		}
		for _, e := range es.Endpoints {
			for _, a := range e.Addresses {
				addrs[a] = true
			}
		}
		for _, p := range es.Ports {
			if p.Name == sp.Name && p.Protocol == sp.Protocol && p.Port != 0 {
				ports[p.Port] = true
			}
		}
	}
	return addrs, ports, files
}

// natEvidence returns the frames behind one of a flow's NAT mappings.
func (f *findings) natEvidence(flowID string, nm NATMapping) []Evidence {
	if fi := f.a.flowIndex(flowID); fi >= 0 && fi < len(f.a.flows) {
		return f.a.flows[fi].nat.evidence(natKey{kind: nm.Kind, at: nm.At, from: nm.From, to: nm.To})
	}
	return nil
}

// flowIDs returns the Result's flow IDs by their index in Result.Flows.
func flowIDs(res *Result) []string {
	ids := make([]string, len(res.Flows))
	for i := range res.Flows {
		ids[i] = res.Flows[i].ID
	}
	return ids
}

func addrList(set map[netip.Addr]bool) string {
	var l []netip.Addr
	for a := range set {
		l = append(l, a)
	}
	sort.Slice(l, func(i, j int) bool { return l[i].Less(l[j]) })
	var s []string
	for _, a := range l {
		s = append(s, a.String())
	}
	if len(s) == 0 {
		return "none"
	}
	if len(s) > 5 {
		s = append(s[:5], fmt.Sprintf("and %d more", len(l)-5))
	}
	return strings.Join(s, ", ")
}

func portList(set map[uint16]bool) string {
	var l []int
	for p := range set {
		l = append(l, int(p))
	}
	sort.Ints(l)
	var s []string
	for _, p := range l {
		s = append(s, fmt.Sprint(p))
	}
	return strings.Join(s, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
