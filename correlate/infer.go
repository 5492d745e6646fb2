package correlate

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/calipath/calipath/decode"
)

// Points that a -i any capture covered without a frame.
//
// A -i any capture records every interface of its node for as long as it runs, but a point exists
// only where a frame was captured: an interface nothing reached has no capture source and so no
// point, and a path would end at the last point that saw traffic, calling packets that went no
// further "delivered". When packets are encapsulated to a node captured with -i any and their inner
// destination is a pod that showed no frame on that node at all, the points those packets still had
// to cross on the node (its underlay, its tunnel device, the pod's veth) were being watched: they are
// added as inferred points (no frames, Point.Inferred), so a packet that went no further than the
// node's underlay is lost there (decap-drop), and one that never reached the node while its capture
// ran is lost on the way (underlay-drop).
//
// An inferred point is named by --links where that names it (the node's tunl0 or vxlan.calico, its
// only underlay interface, or its only cali interface that saw no frame), and otherwise like the
// stages of a capture without interface indexes: any:underlay, any:tunnel, any:pod.

// inferredPoint is a point added by inference; or, with existing ≥ 0, an existing point of unknown
// role found to be its node's underlay (reason is then what to add to the point's reason).
type inferredPoint struct {
	node     int
	iface    string
	role     decode.Role
	reason   string
	pods     []uint32 // a pod-veth's pods (IPv4)
	existing int
	ownIP    uint32 // a promoted underlay's: its node's own address seen there
}

// anyFiles returns, per node, the file of its -i any capture ("" when it has none): a capture source
// with interface indexes (LINUX_SLL2) or cooked stages (LINUX_SLL), or a point named "any".
func (w *world) anyFiles() []string {
	out := make([]string, len(w.nodes))
	for s, src := range w.c.Sources {
		if s >= len(w.srcPoint) || int(src.File) >= len(w.c.Files) {
			continue
		}
		p := w.srcPoint[s]
		isAny := w.pointRole[p] == decode.RoleAny || (src.IfIndex != -1 && src.IfIndex != decode.IfOverflow)
		if n := w.pointNode[p]; isAny && out[n] == "" {
			out[n] = w.c.Files[src.File].Path
		}
	}
	return out
}

// unreached is a pod on a -i any node that packets were encapsulated to and that showed no frame.
type unreached struct {
	encap  decode.Encap
	nodeIP uint32 // the outer destination they were sent to
}

// inferPoints finds the points to add (none in the common case, where every node's pods show up).
func (w *world) inferPoints() []inferredPoint {
	anyFile := w.anyFiles()
	some := false
	for _, f := range anyFile {
		some = some || f != ""
	}
	if !some {
		return nil
	}
	cand := w.unreachedPods(anyFile)
	w.routedCandidates(anyFile, cand)
	// Even where every pod shows up, a node's interface of unknown role that carries the node's own
	// address is its underlay (promote), and that address the node's IP when none is known.
	underlayOf, reached := w.silentPods(anyFile, cand)
	ids := map[string]int{}
	for i, p := range w.c.Points {
		ids[p.ID] = i
	}
	var out []inferredPoint
	for n := range w.nodes {
		ni := &nodeInference{w: w, n: n, node: w.nodes[n], ids: ids, out: out, underlayOf: underlayOf, reached: reached}
		if len(cand[n]) == 0 {
			ni.promote() // a node packets came from: its underlay, where its own IP shows, is on their path
		} else {
			ni.infer(cand[n], anyFile[n])
		}
		out = ni.out
	}
	return out
}

// unreachedPods returns, per -i any node with known IPs, the inner destinations of encapsulated packets
// sent to its IP that no pod-veth owns (at most 64 a node).
func (w *world) unreachedPods(anyFile []string) []map[uint32]unreached {
	cand := make([]map[uint32]unreached, len(w.nodes))
	encFile := w.filesWith(func(p int) bool {
		t := &w.c.Points[p].Traffic
		return t.IPIP+t.VXLAN > 0
	})
	for f, obs := range w.c.Obs {
		if !encFile[f] {
			continue
		}
		for i := range obs {
			o := &obs[i]
			if o.Encap() == decode.EncapNone || o.Flags&(decode.FlagIPv6|decode.FlagNotIP|decode.FlagARP|decode.FlagICMPError) != 0 {
				continue
			}
			n := w.ctxNodes[o.Ctx][1]
			if n < 0 || anyFile[n] == "" || len(w.ipsOf[n]) == 0 {
				continue
			}
			w.addUnreached(cand, n, o.Dst, unreached{o.Encap(), ip4(w.ctxOf(o).OuterDstAddr())})
		}
	}
	return cand
}

// addUnreached notes dst as a destination node n's captures saw no pod veth for (at most 64 per node),
// unless dst is a known pod's or a node's address.
func (w *world) addUnreached(cand []map[uint32]unreached, n int, dst uint32, u unreached) {
	if _, owned := w.podOwner[dst]; owned {
		return
	}
	if _, isNode := w.nodeOfIP[dst]; isNode {
		return
	}
	if cand[n] == nil {
		cand[n] = map[uint32]unreached{}
	}
	if _, ok := cand[n][dst]; !ok && len(cand[n]) < 64 {
		cand[n][dst] = u
	}
}

// silentPods removes from cand every address that is no silent pod, and returns the interfaces of
// unknown role found to be their node's underlay, with the node's IP seen there; and the addresses
// found to be a node's own that plain IP to or from them showed at another node's capture too.
func (w *world) silentPods(anyFile []string, cand []map[uint32]unreached) (map[int]uint32, map[uint32]bool) {
	// An address that sent anything on its node, or reached one of its pod-veths, is no silent pod
	// (a node's own tunnel address answers from the tunnel device; a pod's veth would own it). And an
	// interface of unknown role where the node's own IP sends ARP or plain IP, or receives plain IP,
	// is its underlay (without IP-in-IP or VXLAN frames its traffic had no Calico signature).
	// (Every -i any node's interfaces are looked at: a sending node's eth0 carrying only routed pod
	// traffic is as unsigned as the receiving node's.) Without encapsulated frames a node's IP may be
	// unknown: an address that sends plain IP with a TTL no router has decremented (64), or that the
	// capture recorded outgoing ARP from (hostSent), at a -i any node's interface of unknown role or
	// its underlay, and at no other node's, is that node's own.
	nodeFile := w.filesWith(func(p int) bool { return anyFile[w.pointNode[p]] != "" })
	sentAt := map[uint32]int{} // address → the one node where it sent with TTL 64 (-1: several)
	for f, obs := range w.c.Obs {
		if !nodeFile[f] {
			continue
		}
		for i := range obs {
			o := &obs[i]
			p := w.srcPoint[o.Source]
			if !w.hostSent(o) || !hostSide(w.pointRole[p]) || w.c.Points[p].Iface == "lo" {
				continue
			}
			if _, pod := w.podOwner[o.Src]; pod {
				continue
			}
			n := w.pointNode[p]
			if m, ok := sentAt[o.Src]; !ok {
				sentAt[o.Src] = n
			} else if m != n {
				sentAt[o.Src] = -1
			}
		}
	}
	own := func(n int, a uint32) bool {
		if m, ok := w.nodeOfIP[a]; ok {
			return m == n
		}
		m, ok := sentAt[a]
		return ok && m == n
	}
	underlayOf := map[int]uint32{} // point of unknown role → its node's IP seen on it
	reached := map[uint32]bool{}   // own addresses (sentAt) seen in plain IP at another node too
	for f, obs := range w.c.Obs {
		if !nodeFile[f] {
			continue
		}
		for i := range obs {
			o := &obs[i]
			if o.Flags&(decode.FlagIPv6|decode.FlagNotIP) != 0 {
				continue
			}
			p := w.srcPoint[o.Source]
			n := w.pointNode[p]
			if c := cand[n]; c != nil {
				delete(c, o.Src)
				if w.pointRole[p] == decode.RolePodVeth {
					delete(c, o.Dst)
				}
			}
			if o.Flags&decode.FlagARP == 0 && o.Encap() == decode.EncapNone {
				for _, a := range [2]uint32{o.Src, o.Dst} {
					if m, ok := sentAt[a]; ok && m >= 0 && m != n {
						reached[a] = true
					}
				}
			}
			if hostSide(w.pointRole[p]) && w.c.Points[p].Iface != "lo" && o.Encap() == decode.EncapNone {
				switch {
				case own(n, o.Src):
					underlayOf[p] = o.Src
				case o.Flags&decode.FlagARP == 0 && own(n, o.Dst):
					underlayOf[p] = o.Dst
				}
			}
		}
	}
	return underlayOf, reached
}

// hostSent reports whether o's source address is one of the capturing host's own: a frame its cooked
// (-i any) capture recorded as outgoing, either plain IPv4 with a TTL no router has decremented (64)
// or ARP (a host asks and answers ARP from its own address on that link; never 0.0.0.0 or the
// link-local 169.254.0.0/16 of the pods' gateway). An incoming frame with TTL 64 is a directly
// attached neighbour's (before, a router's -i any capture took its neighbour 203.0.113.10 for its own).
// A cooked v1 file read as a stream does not count: it files frames in from the wire under its pods,
// and its node's address would make the underlay's missing arrivals losses (TestSLLv1Stream).
func (w *world) hostSent(o *decode.Observation) bool {
	if o.Flags&(decode.FlagIPv6|decode.FlagNotIP|decode.FlagOutbound) != decode.FlagOutbound || o.Encap() != decode.EncapNone ||
		int(o.Source) >= len(w.c.Sources) {
		return false
	}
	if s := w.c.Sources[o.Source]; s.IfIndex == -1 || s.IfIndex == decode.IfOverflow ||
		(s.IfIndex < 0 && int(s.File) < len(w.c.Files) && w.c.Files[s.File].CookedStream) {
		return false
	}
	if o.Flags&decode.FlagARP != 0 {
		return o.Src != 0 && o.Src>>16 != 169<<8|254
	}
	return o.TTL == 64
}

// hostSide reports whether a point of role r may be the interface where its node's own address shows:
// one of unknown role (promoted to the underlay) or its underlay (named by --links, whose address is
// then learned all the same).
func hostSide(r decode.Role) bool { return r == decode.RoleUnknown || r == decode.RoleUnderlay }

// nodeInference infers the points of one -i any node.
type nodeInference struct {
	w          *world
	n          int
	node       string
	ids        map[string]int // point ID → point (-1 for the points inferred so far)
	out        []inferredPoint
	underlayOf map[int]uint32  // points of unknown role found to be their node's underlay (silentPods)
	reached    map[uint32]bool // own addresses that packets between the captured nodes used (silentPods)
	covers     string          // what the node's -i any capture covered, said in each reason
	how        string          // IP-in-IP, VXLAN or routed (BGP)
}

// promote makes the node's interfaces of unknown role where its own IP shows its underlay, and says
// whether there was one. Its underlay named by --links is listed too while the node has no known IP,
// for the address seen there (ownNodeIPs).
func (ni *nodeInference) promote() bool {
	promoted := false
	for p, ip := range ni.w.c.Points {
		a, ok := ni.underlayOf[p]
		if !ok || ip.Node != ni.node || (ni.w.pointRole[p] != decode.RoleUnknown && len(ni.w.ipsOf[ni.n]) > 0) {
			continue
		}
		promoted = promoted || ni.w.pointRole[p] == decode.RoleUnknown
		own := uint32(0) // the node's IP, when packets between the captured nodes used it (ownNodeIPs)
		if ni.reached[a] {
			own = a
		}
		ni.out = append(ni.out, inferredPoint{node: ni.n, iface: ip.Iface, role: decode.RoleUnderlay, existing: p, ownIP: own,
			reason: fmt.Sprintf("; role inferred: %s's own IP %s sends or receives here (its underlay)", ni.node, addrOf(a))})
	}
	return promoted
}

// infer adds the node's points that packets to its silent pods (cand) still had to cross: its underlay
// (or promotes an interface of unknown role to it) and tunnel device when they were encapsulated, and
// the pods' veth.
func (ni *nodeInference) infer(cand map[uint32]unreached, anyFile string) {
	w, n, node := ni.w, ni.n, ni.node
	pods := make([]uint32, 0, len(cand))
	for a := range cand {
		pods = append(pods, a)
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i] < pods[j] })
	first := cand[pods[0]]
	ni.how = "IP-in-IP"
	switch first.encap {
	case decode.EncapVXLAN:
		ni.how = "VXLAN"
	case decode.EncapNone:
		ni.how = "routed (BGP)"
	}
	ni.covers = fmt.Sprintf("%s (-i any) covers every interface of %s and saw no frame on it", filepath.Base(anyFile), node)
	promoted := ni.promote()
	if first.encap == decode.EncapNone {
		// Routed packets were seen arriving on the node (that is how it became a candidate): its
		// underlay is captured, and they cross no tunnel.
	} else if len(w.underlays[n]) == 0 && !promoted {
		iface, by := ni.name("any:underlay", func(l string) bool { return decode.RoleOfIface(l) == decode.RoleUnderlay })
		ni.add(inferredPoint{node: n, iface: iface, role: decode.RoleUnderlay, existing: -1, reason: fmt.Sprintf(
			"inferred%s: the underlay of %s, where packets encapsulated to its IP %s arrive; %s", by, node,
			addrOf(first.nodeIP), ni.covers)})
	}
	if len(w.tunnels[n]) == 0 && first.encap != decode.EncapNone {
		want := "tunl0"
		if first.encap == decode.EncapVXLAN {
			want = "vxlan.calico"
		}
		iface, by := ni.name("any:tunnel", func(l string) bool { return l == want })
		ni.add(inferredPoint{node: n, iface: iface, role: decode.RoleTunnel, existing: -1, reason: fmt.Sprintf(
			"inferred%s: the tunnel device of %s, which %s packets to its pods cross after its underlay; %s",
			by, node, ni.how, ni.covers)})
	}
	ni.podVeth(pods)
}

// podVeth adds the veth of the silent pods: named by --links when one pod is silent and one cali
// interface of the node saw no frame; the existing any:pod of a cooked capture without interface
// indexes, which files every pod's veth under it.
func (ni *nodeInference) podVeth(pods []uint32) {
	w, n, node := ni.w, ni.n, ni.node
	if p, ok := ni.ids[node+"/any:pod"]; ok && p >= 0 && w.pointRole[p] == decode.RolePodVeth {
		ni.out = append(ni.out, inferredPoint{node: n, iface: "any:pod", role: decode.RolePodVeth, pods: pods, existing: p})
		return
	}
	seen := map[string]bool{}
	for _, p := range w.c.Points {
		if p.Node == node {
			seen[p.Iface] = true
		}
	}
	iface, by := "any:pod", ""
	if len(pods) == 1 {
		iface, by = ni.name("any:pod", func(l string) bool { return strings.HasPrefix(l, "cali") && !seen[l] })
		if by != "" {
			by = " (named by --links: the only cali interface of " + node + " without a frame)"
		}
	}
	var list []string
	for _, a := range pods {
		list = append(list, addrOf(a).String())
	}
	ni.add(inferredPoint{node: n, iface: iface, role: decode.RolePodVeth, pods: pods, existing: -1, reason: fmt.Sprintf(
		"inferred%s: the veth of pod %s on %s, where %s packets to it were headed; %s", by, strings.Join(list, ", "),
		node, ni.how, ni.covers)})
}

// name returns the one interface of the node's --links that pick accepts, and how it was named; def
// and "" when there is not exactly one.
func (ni *nodeInference) name(def string, pick func(string) bool) (string, string) {
	var hits []string
	for _, l := range ni.w.c.Links[ni.node] {
		if pick(l) {
			hits = append(hits, l)
		}
	}
	if len(hits) == 1 {
		return hits[0], " (named by --links)"
	}
	return def, ""
}

// add adds an inferred point unless the node has a point of that interface already.
func (ni *nodeInference) add(ip inferredPoint) {
	id := ni.node + "/" + ip.iface
	if _, exists := ni.ids[id]; exists {
		return
	}
	ni.ids[id] = -1
	ni.out = append(ni.out, ip)
}

// withInferred returns a copy of c with the inferred points added (points sorted by ID, as decode
// sorts them); the Observations and tables are shared.
func withInferred(c *decode.Capture, nodes []string, inf []inferredPoint) *decode.Capture {
	c2 := *c
	type entry struct {
		p   decode.Point
		old int
	}
	all := make([]entry, 0, len(c.Points)+len(inf))
	for i, p := range c.Points {
		all = append(all, entry{p, i})
	}
	for _, ip := range inf {
		if ip.existing >= 0 {
			if ip.role != all[ip.existing].p.Role {
				if all[ip.existing].p.Role == decode.RoleUnknown {
					all[ip.existing].p.Reason = dropUnknownReason(all[ip.existing].p.Reason)
				}
				all[ip.existing].p.Role = ip.role
				all[ip.existing].p.Reason += ip.reason
			}
			continue
		}
		node := nodes[ip.node]
		all = append(all, entry{decode.Point{ID: node + "/" + ip.iface, Node: node, Iface: ip.iface, Role: ip.role,
			Reason: ip.reason}, -1})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].p.ID < all[j].p.ID })
	c2.NodeIPs = ownNodeIPs(c, nodes, inf)
	remap := make([]int, len(c.Points))
	c2.Points = make([]decode.Point, len(all))
	for i, e := range all {
		c2.Points[i] = e.p
		if e.old >= 0 {
			remap[e.old] = i
		}
	}
	c2.PointOf = make([]int, len(c.PointOf))
	for s, p := range c.PointOf {
		c2.PointOf[s] = remap[p]
	}
	return &c2
}

// ownNodeIPs returns c's node IPs with, for each node that has no IPv4 address yet and was captured
// with -i any only (nothing else names its interfaces), the one own address seen on the interfaces
// promoted to its underlay (none when they show several).
func ownNodeIPs(c *decode.Capture, nodes []string, inf []inferredPoint) []decode.NodeIP {
	has := map[string]bool{}
	for _, ip := range c.NodeIPs {
		has[ip.Node] = has[ip.Node] || ip.IP.Is4()
	}
	for s, src := range c.Sources {
		if src.IfIndex == -1 && s < len(c.PointOf) && c.PointOf[s] < len(c.Points) {
			has[c.Points[c.PointOf[s]].Node] = true // a per-interface capture of the node
		}
	}
	own := map[int]uint32{} // node → its one own address (0: several)
	ownIface := map[int]string{}
	var order []int
	for _, ip := range inf {
		if ip.existing < 0 || ip.ownIP == 0 || has[nodes[ip.node]] {
			continue
		}
		if a, seen := own[ip.node]; !seen {
			own[ip.node], ownIface[ip.node] = ip.ownIP, ip.iface
			order = append(order, ip.node)
		} else if a != ip.ownIP {
			own[ip.node] = 0
		}
	}
	out := c.NodeIPs
	for _, n := range order {
		if a := own[n]; a != 0 {
			out = append(out[:len(out):len(out)], decode.NodeIP{Node: nodes[n], IP: addrOf(a),
				Reason: fmt.Sprintf("its own: it sends from it at its underlay %s", ownIface[n])})
		}
	}
	return out
}

// adoptInferred marks the inferred points of a world made from withInferred and gives the inferred
// pod-veths their pods.
func (w *world) adoptInferred(inf []inferredPoint) {
	w.inferred = make([]bool, len(w.c.Points))
	byID := map[string]int{}
	for i, p := range w.c.Points {
		byID[p.ID] = i
	}
	for _, ip := range inf {
		p, ok := byID[w.nodes[ip.node]+"/"+ip.iface]
		if !ok {
			continue
		}
		if ip.existing < 0 {
			w.inferred[p] = true
		}
		for k, a := range ip.pods {
			if k == 0 && w.podOf[p] == 0 {
				w.podOf[p] = a
			}
			w.podOwner[a] = p
		}
		if w.inferred[p] && len(ip.pods) > 1 {
			if w.podsOf == nil {
				w.podsOf = map[int][]uint32{}
			}
			w.podsOf[p] = ip.pods
		}
	}
}

// routedCandidates adds, for BGP (unencapsulated) pod traffic, the destinations on -i any nodes that
// no pod-veth owns: a packet from a pod of another node, seen on a -i any node's underlay (or an
// interface of unknown role) on its way to an address that is neither a node's nor a known pod's,
// was routed to that node, which is where its pod lives (a Calico node does not route pod traffic
// on to a third node). Its veth saw no frame, yet the node's capture covered it.
func (w *world) routedCandidates(anyFile []string, cand []map[uint32]unreached) {
	files := w.filesWith(func(p int) bool {
		n := w.pointNode[p]
		r := w.pointRole[p]
		return anyFile[n] != "" && (r == decode.RoleUnderlay || r == decode.RoleUnknown)
	})
	for f, obs := range w.c.Obs {
		if !files[f] {
			continue
		}
		for i := range obs {
			o := &obs[i]
			if o.Encap() != decode.EncapNone || o.Flags&(decode.FlagIPv6|decode.FlagNotIP|decode.FlagARP|decode.FlagICMPError) != 0 {
				continue
			}
			p := w.srcPoint[o.Source]
			n := w.pointNode[p]
			if r := w.pointRole[p]; anyFile[n] == "" || (r != decode.RoleUnderlay && r != decode.RoleUnknown) {
				continue
			}
			sp, fromPod := w.podOwner[o.Src]
			if !fromPod || w.pointNode[sp] == n {
				continue // not pod traffic from another node
			}
			w.addUnreached(cand, n, o.Dst, unreached{encap: decode.EncapNone})
		}
	}
}

// dropUnknownReason takes "; role unknown: WHY" out of a point's reason once its role is inferred, so
// the reason does not say both.
func dropUnknownReason(reason string) string {
	i := strings.Index(reason, "; role unknown: ")
	if i < 0 {
		return reason
	}
	rest := reason[i+2:]
	if j := strings.Index(rest, "; "); j >= 0 {
		return reason[:i] + rest[j:]
	}
	return reason[:i]
}
