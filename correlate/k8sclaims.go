package correlate

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/calipath/calipath/cluster"
)

// A pod name is given to an address only when the cluster metadata and the frames agree on it: the
// pod-veth points show which node (and, by the interface's name, which pod) each pod address is
// behind. Where the metadata says otherwise (two running pods with one address, a pod listed on
// another node than the one whose veth carries its address, an interface whose pod has other
// addresses), no pod name is given and k8s-contradicted says why.

// podResolution is what the metadata's running pods and the pod-veth points settle.
type podResolution struct {
	pod       map[netip.Addr]*cluster.Pod // the pod each address is named after
	blocked   map[netip.Addr]bool         // addresses given no name: the frames contradict the metadata
	badPoint  map[string]bool             // pod-veth points whose interface's pod the frames contradict
	conflicts []k8sConflict
}

// k8sConflict is one disagreement between the metadata and the frames, said at a node.
type k8sConflict struct {
	node, detail string
	ip           netip.Addr // the address concerned, if one is
}

// vethSeen is a pod address seen behind a pod-veth point: its node, and the pod its interface's name
// gives (cluster.Meta.Ifaces), if any.
type vethSeen struct {
	point, node, pod string
}

// resolvePods settles each running pod address's pod. alias maps the metadata's node names to the
// captures' (nodeAliases); ifaces the pod interfaces to their pods (cluster.Meta.Ifaces).
func resolvePods(res *Result, m *cluster.Meta, ifaces, alias map[string]string) *podResolution {
	r := &podResolution{pod: map[netip.Addr]*cluster.Pod{}, blocked: map[netip.Addr]bool{}, badPoint: map[string]bool{}}
	claims := map[netip.Addr][]*cluster.Pod{}
	var ips []netip.Addr
	for i := range m.Pods {
		p := &m.Pods[i]
		if p.HostNetwork || p.Done() {
			continue
		}
		for _, ip := range p.IPs {
			if len(claims[ip]) == 0 {
				ips = append(ips, ip)
			}
			if !podIn(claims[ip], p) {
				claims[ip] = append(claims[ip], p)
			}
		}
	}
	sort.Slice(ips, func(i, j int) bool { return ips[i].Less(ips[j]) })
	seen := vethAddrs(res, ifaces)
	for _, ip := range ips {
		r.settle(ip, claims[ip], seen[ip], alias)
	}
	r.checkPoints(res, m, ifaces, alias)
	return r
}

func podIn(list []*cluster.Pod, p *cluster.Pod) bool {
	for _, q := range list {
		if q.Key() == p.Key() {
			return true
		}
	}
	return false
}

// vethAddrs maps each address a pod-veth point carries (Point.PodIP) to where it was seen.
func vethAddrs(res *Result, ifaces map[string]string) map[netip.Addr][]vethSeen {
	out := map[netip.Addr][]vethSeen{}
	for i := range res.Points {
		p := &res.Points[i]
		if p.Role != "pod-veth" {
			continue
		}
		for _, s := range strings.Split(p.PodIP, ",") {
			if ip, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil {
				out[ip.Unmap()] = append(out[ip.Unmap()], vethSeen{point: p.ID, node: p.Node, pod: ifaces[p.Iface]})
			}
		}
	}
	return out
}

// nodeName is a metadata node's name as the captures give it.
func nodeName(alias map[string]string, n string) string {
	if a, ok := alias[n]; ok {
		return a
	}
	return n
}

// agrees reports whether the frames put pod p's address where the metadata does: behind a pod veth on
// p's node whose interface, when its name gives a pod, is p's.
func agrees(p *cluster.Pod, at []vethSeen, alias map[string]string) bool {
	for _, v := range at {
		if (p.Node == "" || nodeName(alias, p.Node) == v.node) && (v.pod == "" || v.pod == p.Key()) {
			return true
		}
	}
	return false
}

// settle names address ip after the one claiming pod the frames agree with (or the only one, when no
// pod veth carries ip), and notes the disagreements.
func (r *podResolution) settle(ip netip.Addr, claims []*cluster.Pod, at []vethSeen, alias map[string]string) {
	var agree []*cluster.Pod
	for _, p := range claims {
		if agrees(p, at, alias) {
			agree = append(agree, p)
		}
	}
	switch {
	case len(at) == 0 && len(claims) == 1:
		r.pod[ip] = claims[0]
		return
	case len(at) > 0 && len(agree) == 1:
		r.pod[ip] = agree[0]
		if len(claims) > 1 {
			r.note(at[0].node, ip, fmt.Sprintf("%d running pods claim %s in the cluster metadata: %s. The captures show it behind %s: it is named %s only.",
				len(claims), ip, podList(claims, alias), vethList(at), agree[0].Key()))
		}
		return
	}
	r.blocked[ip] = true
	switch {
	case len(at) == 0:
		r.note(nodeName(alias, claims[0].Node), ip, fmt.Sprintf("%d running pods claim %s in the cluster metadata: %s. No pod interface captured carries it to tell which: it is given no pod name.",
			len(claims), ip, podList(claims, alias)))
	case len(claims) == 1:
		r.note(at[0].node, ip, fmt.Sprintf("The cluster metadata says %s is pod %s, but the captures show it behind %s: it is given no pod name.",
			ip, podList(claims, alias), vethList(at)))
	default:
		r.note(at[0].node, ip, fmt.Sprintf("%d running pods claim %s in the cluster metadata: %s, and the captures show it behind %s, which agrees with %s: it is given no pod name.",
			len(claims), ip, podList(claims, alias), vethList(at), orNone(agree)))
	}
}

func (r *podResolution) note(node string, ip netip.Addr, detail string) {
	r.conflicts = append(r.conflicts, k8sConflict{node: node, ip: ip, detail: detail})
}

// podList says pods with their nodes and files: "default/pod-b (node node-b, in kubectl.json)".
func podList(ps []*cluster.Pod, alias map[string]string) string {
	var s []string
	for _, p := range ps {
		s = append(s, fmt.Sprintf("%s (node %s, in %s)", p.Key(), orDash(nodeName(alias, p.Node)), p.Source))
	}
	return strings.Join(s, ", ")
}

// vethList says where the frames put an address: "node-a/cali5e1c4d6c68c (pod default/pod-a's
// interface by its name)".
func vethList(at []vethSeen) string {
	var s []string
	for _, v := range at {
		if v.pod != "" {
			s = append(s, fmt.Sprintf("%s (pod %s's interface by its name)", v.point, v.pod))
		} else {
			s = append(s, v.point)
		}
	}
	return strings.Join(s, " and ")
}

func orNone(ps []*cluster.Pod) string {
	if len(ps) == 0 {
		return "none of them"
	}
	var s []string
	for _, p := range ps {
		s = append(s, p.Key())
	}
	return strings.Join(s, " and ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// checkPoints finds the pod-veth points whose interface's name gives a running pod that the
// metadata puts on another node, or gives addresses other than the ones the point carries.
func (r *podResolution) checkPoints(res *Result, m *cluster.Meta, ifaces, alias map[string]string) {
	pods := map[string]*cluster.Pod{}
	for i := range m.Pods {
		if p := &m.Pods[i]; !p.HostNetwork && !p.Done() {
			pods[p.Key()] = p
		}
	}
	for i := range res.Points {
		pt := &res.Points[i]
		p := pods[ifaces[pt.Iface]]
		if pt.Role != "pod-veth" || p == nil {
			continue
		}
		var why []string
		if n := nodeName(alias, p.Node); p.Node != "" && n != pt.Node {
			why = append(why, "lists it on node "+n)
		}
		if carried := pointAddrs(pt); len(carried) > 0 && len(p.IPs) > 0 && !anyIn(carried, p.IPs) {
			why = append(why, fmt.Sprintf("gives it %s while the captures show %s behind the interface", addrsText(p.IPs), pt.PodIP))
		}
		if len(why) == 0 {
			continue
		}
		r.badPoint[pt.ID] = true
		r.note(pt.Node, netip.Addr{}, fmt.Sprintf("%s is pod %s's interface by its name, but the cluster metadata (%s) %s: the point is given no pod.",
			pt.ID, p.Key(), p.Source, strings.Join(why, ", and ")))
	}
}

func pointAddrs(p *Point) []netip.Addr {
	var out []netip.Addr
	for _, s := range strings.Split(p.PodIP, ",") {
		if ip, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil {
			out = append(out, ip.Unmap())
		}
	}
	return out
}

func anyIn(a, b []netip.Addr) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

func addrsText(l []netip.Addr) string {
	var s []string
	for _, a := range l {
		s = append(s, a.String())
	}
	return strings.Join(s, ", ")
}

// detectK8sContradicted says each disagreement resolvePods found, with the flows whose ends are the
// address concerned.
func detectK8sContradicted(f *findings, k *kindRow) []Anomaly {
	m, res := f.meta(), f.res
	if m == nil || res == nil || len(m.Pods)+len(m.Refused) == 0 {
		return nil
	}
	alias := nodeAliases(res, m)
	r := resolvePods(res, m, m.Ifaces(f.a.opts.IfacePrefix), alias)
	for _, ra := range m.Refused {
		r.note(nodeName(alias, ra.Node), netip.Addr{}, fmt.Sprintf("The cluster metadata (%s) gives node %s the address %s (%s), but it is %s: it is not taken as the node's address.",
			ra.Addr.Source, nodeName(alias, ra.Node), ra.Addr.IP, ra.Addr.Kind, ra.Why))
	}
	if len(r.conflicts) == 0 {
		return nil
	}
	ids := flowIDs(res)
	var out []Anomaly
	for _, c := range r.conflicts {
		flows, packets := map[int32]bool{}, 0
		for i := range res.Flows {
			if src, dst, ok := flowEnds(&res.Flows[i]); ok && c.ip.IsValid() && (src == c.ip || dst == c.ip) {
				flows[int32(i)] = true
				packets += res.Flows[i].Packets
			}
		}
		out = append(out, k.anomaly(k.severity, Where{Node: c.node}, flows, ids, packets, nil, c.detail))
	}
	return out
}
