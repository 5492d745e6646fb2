package correlate

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
)

// Captures that stop before a packet's destination, or start after its source.
//
// A flow direction's path runs between the points that were captured. A packet that reached the last
// of them reached its destination only when that point is where the destination lives: the veth of
// the pod it was sent to, or the node whose own address it was sent to (or any point of a node whose
// -i any capture covers every interface). A packet last seen anywhere else — the sender's underlay,
// with no capture of the node it was encapsulated to — left the captured area: whether it arrived is
// unknown, so it is neither delivered nor lost (status left-captures, counted as not captured). The
// same holds upstream: a packet first seen at a node's underlay or tunnel, coming from a source whose
// node nothing captured, was not captured upstream. Both are said in a path-incomplete warning that
// names where the captures stop and what to capture.

// openEnd is a journey that left the captures after point (left) or entered them at it.
type openEnd struct {
	j      int32
	point  int
	left   bool
	addr   string // the packet's destination (left) or source (entered)
	remote string // the outer address it was encapsulated to (left) or from (entered), "" when plain
	// inAny: it left at a node whose -i any capture covers every interface, plain, to an address no
	// node is known by: that node took it in (its own address) or dropped it.
	inAny bool
	// onNode: the point is on its path's destination (left) or source node (entered), whose captures
	// stop short of the pod (outerends.go).
	onNode bool
	// local: it left at its source pod's cali, headed for another pod of that node whose cali no capture
	// covers (localends.go), or perhaps so: why that node (localHow), 0 when not.
	local localHow
}

// openEndFinder notes, while placement runs, the journeys that left the captures or entered them
// mid-path. Its inputs are the world, the arena and each journey's flow; its output is found.
type openEndFinder struct {
	w     *world
	ar    *arenaOut
	jFlow []int32
	nJ    int

	anyOf      []string           // per node, its -i any capture ("" none), once asked for
	srcFirstAt map[[2]uint64]bool // (node, source address) of journeys first seen on that node, once asked for
	tunnelSrc  map[[2]uint64]bool // (node, source address) of journeys its own stack sent through its tunnel device (tunnelSelf)

	found []openEnd // the output: journeys that left the captures or entered them mid-path

	pi *pathInfo // the path of the journey asked about (set by placement)
}

// nodeHasAny says whether node n has a -i any capture (which covers every interface of the node).
func (f *openEndFinder) nodeHasAny(n int) bool {
	if f.anyOf == nil {
		f.anyOf = f.w.anyFiles()
	}
	return n >= 0 && n < len(f.anyOf) && f.anyOf[n] != ""
}

// ownAddr says whether address x (v6 or not) is node n's own address.
func (f *openEndFinder) ownAddr(n int, v6 bool, x uint32) bool {
	m := f.w.nodeOfIP
	if v6 {
		m = f.w.nodeOfIP6
	}
	k, ok := m[x]
	return ok && k == n
}

// leftCaptures says whether a packet that reached the last point p of its path, as observation g,
// went on beyond the captures: p is not its destination's pod veth, nor on the node it was sent to
// (as that node's own address, or on a node a -i any capture covers). It records the open end.
func (f *openEndFinder) leftCaptures(j int32, p int, g uint32) bool {
	w := f.w
	if w.pointRole[p] == decode.RolePodVeth {
		return false
	}
	if q, gq, ok := f.beyondEnd(j, p, g); ok {
		p, g = q, gq // seen arriving past the path's end, and going nowhere else (pastend.go)
	}
	o, _ := f.w.obsAt(g)
	v6 := o.Flags&decode.FlagIPv6 != 0
	np := w.pointNode[p]
	if n := w.nodeOf(v6, o.Dst); n == np && (f.ownAddr(n, v6, o.Dst) || f.nodeHasAny(np)) {
		return false
	}
	if _, owned := w.ownerOf(v6, o.Dst); owned && w.nodeOf(v6, o.Dst) == np {
		return false // its pod's veth is on this node: the path would end there (kept as it was)
	}
	if !w.cluster[np] && len(w.underlays[np]) == 1 && o.Encap() == decode.EncapNone && f.dstAt(np, v6, o.Dst) {
		return false // a host outside the cluster, captured on its one interface, that answers for the address
	}
	if w.cluster[np] && w.pointRole[p] == decode.RoleTunnel && o.Encap() == decode.EncapNone && f.tunnelSelf(np, v6, o.Dst) {
		return false // the node's own tunnel address, which its own stack sends from (ownTunnel): taken in there
	}
	e := openEnd{j: j, point: p, left: true, addr: w.addrString(v6, o.Dst), onNode: f.onEndNode(np, true)}
	if o.Encap() != decode.EncapNone {
		e.remote = w.ctxOf(o).OuterDstAddr().String()
	} else {
		e.inAny = o.Flags&decode.FlagOutbound == 0 && w.nodeOf(v6, o.Dst) < 0 && w.cluster[np] &&
			w.pointRole[p] == decode.RoleUnderlay && f.nodeHasAny(np) // not a frame the capture saw leave
	}
	f.found = append(f.found, e)
	return true
}

// dstAt says whether a host outside the cluster (node n) is where address x lives: packets from x were
// first seen at its point with a TTL no router had decremented yet (sent from there).
func (f *openEndFinder) dstAt(n int, v6 bool, x uint32) bool {
	if f.srcFirstAt == nil {
		f.srcFirstAt = f.sourcesAt(func(h []uint32, o *decode.Observation) (int, bool) {
			// routed on the way here (a TTL decremented): sent from farther away
			return f.w.pointNode[f.w.pointOf(h[0])], initialTTL(o.TTL)
		})
	}
	return f.srcFirstAt[nodeAddr(n, v6, x)]
}

// sourcesAt returns the (node, source address) pairs (nodeAddr) of the journeys of flows whose
// packet keep accepts, keep given the journey's hops h and its packet's Observation o and naming the
// node.
func (f *openEndFinder) sourcesAt(keep func(h []uint32, o *decode.Observation) (int, bool)) map[[2]uint64]bool {
	m := map[[2]uint64]bool{}
	for j := 0; j < f.nJ; j++ {
		h := f.ar.hops(j)
		if len(h) == 0 || f.jFlow[j] < 0 {
			continue
		}
		o, _ := f.w.obsAt(f.w.pktHop(h))
		if n, ok := keep(h, o); ok {
			m[nodeAddr(n, o.Flags&decode.FlagIPv6 != 0, o.Src)] = true
		}
	}
	return m
}

// nodeAddr is the key of address x (IPv6 when v6: an interned one) on node n.
func nodeAddr(n int, v6 bool, x uint32) [2]uint64 {
	k := uint64(x)
	if v6 {
		k |= 1 << 32
	}
	return [2]uint64{uint64(n), k}
}

// ownTunnel says whether observation o, at point p, is a packet its node's own stack sent through its
// tunnel device (a host-networked process talking to a pod on another node: the route to that node's
// block gives the device's address as source): seen there plain, with a TTL no hop decremented yet. A
// pod's packet reaches the device routed, its TTL one lower.
func ownTunnel(w *world, p int, o *decode.Observation) bool {
	return w.cluster[w.pointNode[p]] && w.pointRole[p] == decode.RoleTunnel && o.Encap() == decode.EncapNone && initialTTL(o.TTL)
}

// tunnelSelf says whether address x is node n's own tunnel address: some journey's packet from x began
// at n's tunnel device, sent by the node's own stack (ownTunnel). A packet to it last seen there was
// taken in by the node.
func (f *openEndFinder) tunnelSelf(n int, v6 bool, x uint32) bool {
	if f.tunnelSrc == nil {
		f.tunnelSrc = f.sourcesAt(func(h []uint32, o *decode.Observation) (int, bool) {
			p := f.w.pointOf(f.w.pktHop(h))
			return f.w.pointNode[p], ownTunnel(f.w, p, o)
		})
	}
	return f.tunnelSrc[nodeAddr(n, v6, x)]
}

// enteredUncaptured records a packet first seen at the first point p of its path, as observation g,
// that came from beyond the captures: p is not its source's pod veth, and its source is neither that
// node's own address nor on a node a -i any capture covers.
func (f *openEndFinder) enteredUncaptured(j int32, p int, g uint32) {
	w := f.w
	if w.pointRole[p] == decode.RolePodVeth {
		return
	}
	o, _ := f.w.obsAt(g)
	v6 := o.Flags&decode.FlagIPv6 != 0
	np := w.pointNode[p]
	if n := w.nodeOf(v6, o.Src); n == np && (f.ownAddr(n, v6, o.Src) || f.nodeHasAny(np)) {
		return
	}
	if n := w.nodeOf(v6, o.Src); n >= 0 && n != np {
		return // its source's node was captured: whatever happened upstream shows there
	}
	if !w.cluster[np] && o.Encap() == decode.EncapNone && initialTTL(o.TTL) {
		return // sent by the host outside the cluster that this point is on
	}
	if ownTunnel(w, p, o) {
		return // sent by the node's own stack from its tunnel device's address: nothing came before
	}
	e := openEnd{j: j, point: p, addr: w.addrString(v6, o.Src), onNode: f.onEndNode(np, false)}
	if o.Encap() != decode.EncapNone {
		e.remote = w.ctxOf(o).OuterSrcAddr().String()
	}
	f.found = append(f.found, e)
}

// detectPathIncomplete says, per point where captures stop (or start) on some flow's path, how many
// packets left (or entered) the captured area there, headed for (or coming from) where, and what to
// capture.
func detectPathIncomplete(f *findings, row *kindRow) []Anomaly {
	a := f.a
	groups, keys := a.openEndGroups()
	pieces := a.unseenPieces() // gsopieces.go
	var out []Anomaly
	for _, k := range keys {
		g := groups[k]
		pt := a.w.c.Points[k.point].ID
		// The metadata's pods could say where the packets were headed: a node's own open end, no --k8s.
		podsHint := a.opts.Cluster == nil && a.w.cluster[a.w.pointNode[k.point]]
		endNode, own := a.addrsNode(g.addrs)
		detail, next := g.text(k.left, pt, podsHint, endNode, own, a.localPods(g.addrs, endNode), a.outsideCluster(g.addrs))
		if node := a.w.nodes[a.w.pointNode[k.point]]; g.onNode == 1 || endNode == node && !own && len(g.remotes) == 0 {
			// On the path's end node: by the packets (onNode), or by the metadata's pods.
			detail, next = g.onNodeText(k.left, pt, node, a.w.pointRole[k.point] == decode.RoleTunnel, a.localPods(g.addrs, node),
				g.onNode != 1, own && endNode == node)
		}
		detail += piecesNote(pieces[k], pt)
		if note, nx := a.openUnsureNote(k.point, k.left); note != "" { // natopens.go
			detail, next = detail+note, nx
		}
		sev := row.severity
		if k.local != 0 {
			node := a.w.nodes[a.w.pointNode[k.point]]
			dsts := g.addrs
			detail = g.localText(pt, node, k.local)
			if k.local == localSeen {
				if note, ends := a.serviceNote(g.addrs, node); note != "" {
					detail, dsts = g.localServiceText(pt, node, note), ends
				}
			}
			next = localNext(node, k.local, a.localPods(dsts, node), a.opts.Cluster != nil)
			detail += piecesNote(pieces[k], pt)
		}
		if k.inAny { // most likely the node's own traffic, taken in: info, with what would tell
			detail, next, sev = g.inAnyText(pt, a.w.nodes[a.w.pointNode[k.point]]), inAnyNext, sevInfo
		}
		an := row.anomaly(sev, Where{Point: pt}, g.flows, f.ids, g.n, g.ev, detail)
		an.Next = next
		out = append(out, an)
	}
	return out
}

// openEndKey is a point where captures stop (left) or start on some flow's path.
type openEndKey struct {
	point int
	left  bool
	inAny bool
	local localHow // headed for another pod of the node, or perhaps so (openEnd.local)
}

// openEndGroup is what left (or entered) the captured area at one openEndKey.
type openEndGroup struct {
	n       int
	flows   map[int32]bool
	addrs   map[string]bool
	remotes map[string]bool
	ev      []Evidence
	onNode  int8 // 1: every end is on its path's end node (openEnd.onNode), -1: some is not
}

// openEndGroups groups the open ends by point and side, counting each packet as its source sent it,
// and returns the keys in order: left ends first, by point.
func (a *analysis) openEndGroups() (map[openEndKey]*openEndGroup, []openEndKey) {
	groups := map[openEndKey]*openEndGroup{}
	var keys []openEndKey
	// A piece of a split GSO frame (or a packet split by a short --window) counts as the packet its
	// source sent: its root, once.
	parent := map[int32]int32{}
	for _, ev := range a.journeys.gso {
		parent[ev.child] = ev.parent
	}
	counted := map[[2]int32]bool{}
	for _, e := range a.openEnds {
		root := e.j
		for a.offloadNew[root] {
			p, ok := parent[root]
			if !ok {
				break
			}
			root = p
		}
		side := int32(0)
		if e.left {
			side = 1
		}
		if counted[[2]int32{root, side}] {
			continue // a group is made only for what it counts: none says "0 packets"
		}
		counted[[2]int32{root, side}] = true
		k := openEndKey{e.point, e.left, e.inAny, e.local}
		g := groups[k]
		if g == nil {
			g = &openEndGroup{flows: map[int32]bool{}, addrs: map[string]bool{}, remotes: map[string]bool{}}
			groups[k] = g
			keys = append(keys, k)
		}
		g.n++
		g.flows[a.jFlow[e.j]] = true
		g.addrs[e.addr] = true
		if e.remote != "" {
			g.remotes[a.w.remoteName(e.remote)] = true
		}
		g.noteOnNode(e.onNode)
		if len(g.ev) < 10 {
			h := a.hops(int(e.j))
			hop := h[0]
			if e.left {
				for _, x := range h {
					if a.point(x) == e.point {
						hop = x
					}
				}
			}
			g.ev = append(g.ev, a.evidence(hop))
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].left != keys[j].left {
			return keys[i].left
		}
		if keys[i].point != keys[j].point {
			return keys[i].point < keys[j].point
		}
		if keys[i].inAny != keys[j].inAny {
			return !keys[i].inAny
		}
		return keys[i].local < keys[j].local
	})
	return groups, keys
}

// openEndList lists up to four of a set's members, sorted.
func openEndList(m map[string]bool) string {
	s := sortedKeys(m)
	if len(s) > 4 {
		s = append(s[:4], "…")
	}
	return strings.Join(s, ", ")
}

// text says what left (left) or entered the captured area at point pt, and what to capture (and,
// with podsHint, that --k8s would say where packets to a pod were headed). node is the node all its
// addresses live on when one is known (addrsNode: own, its own addresses), which the captures of pt's
// path do not reach; pods are the metadata's pods among them (localPods).
//
// outside: the addresses lie outside the cluster by its metadata (outsideCluster): the next step asks
// for a capture at that host, not at a node.
func (g *openEndGroup) text(left bool, pt string, podsHint bool, node string, own bool, pods []localPod,
	outside bool) (detail, next string) {
	list := openEndList
	where, on := "whose node none of the captures shows", ""
	switch {
	case node != "" && own:
		where, on = node+"'s own address: no capture of "+node+" shows them", node
	case node != "":
		where, on = "on "+node+" by the cluster's metadata: no capture of "+node+" shows them", node
	}
	if outside && on == "" && len(g.remotes) == 0 {
		where = "outside the cluster by its metadata: in none of its IP pools, and no node's or Service's address"
		if left {
			detail = fmt.Sprintf("%s last seen at %s, headed for %s (%s): the captures stop there, so whether they "+
				"arrived is unknown. They are counted as not captured (status left-captures), neither delivered nor "+
				"lost.", packetsWere(g.n), pt, list(g.addrs), where)
			next = "Capture at the host that has " + list(g.addrs) + ", or on its link beside it, and give that file " +
				"with these (--point HOST:IFACE=FILE names it)."
			return detail, next
		}
		detail = fmt.Sprintf("%s first seen at %s, coming from %s (%s): not captured upstream, so where they came "+
			"from and what happened on the way is unknown.", packetsWere(g.n), pt, list(g.addrs), where)
		next = "Capture at the host that sent them (" + list(g.addrs) + "), or on its link beside it, and give that " +
			"file with these (--point HOST:IFACE=FILE names it)."
		return detail, next
	}
	if len(g.remotes) > 0 {
		where = "encapsulated to " + list(g.remotes) + g.uncaptured()
	}
	if left {
		detail = fmt.Sprintf("%s last seen at %s, headed for %s (%s): the "+
			"captures stop there, so whether they arrived is unknown. They are counted as not captured (status "+
			"left-captures), neither delivered nor lost.", packetsWere(g.n), pt, list(g.addrs), where)
		next = "Capture on the receiving node too — its eth0, its tunnel device (tunl0 or vxlan.calico; none in BGP " +
			"mode) and the destination pod's cali interface, or tcpdump -i any there — and give those files with these " +
			"(--node-ip NODE=IP says which node an address is, where the captures cannot)."
		switch {
		case on != "" && own:
			next = "Capture on " + on + " too — its eth0, or tcpdump -i any there — and give those files with these."
		case on != "":
			next = "Capture on " + on + " too — its eth0, its tunnel device (tunl0 or vxlan.calico; none in BGP mode) and " +
				podIfaces(pods, "destination") + ", or tcpdump -i any there — and give those files with these."
		}
		if len(g.remotes) == 0 && podsHint && on == "" {
			next += " If that node was captured already (tcpdump -i any shows no route, and no outer header says " +
				"where an unencapsulated packet goes), give --k8s DIR with the cluster's pods (kubectl get pods -A -o " +
				"json) or Calico's workload endpoints: they say which node the destination pod lives on, and calipath " +
				"then places the loss on the way there."
		}
	} else {
		where = "whose node none of the captures shows"
		switch {
		case node != "" && own:
			where = node + "'s own address: no capture of " + node + " shows them"
		case node != "":
			where = "on " + node + " by the cluster's metadata: no capture of " + node + " shows them"
		}
		if len(g.remotes) > 0 {
			where = "encapsulated by " + list(g.remotes) + g.uncaptured()
		}
		detail = fmt.Sprintf("%s first seen at %s, coming from %s (%s): not "+
			"captured upstream, so where they came from and what happened on the way is unknown.",
			packetsWere(g.n), pt, list(g.addrs), where)
		next = "Capture on the sending node too — the source pod's cali interface, its tunnel device and its " +
			"eth0, or tcpdump -i any there — and give those files with these."
		switch {
		case on != "" && own:
			next = "Capture on " + on + " too — its eth0, or tcpdump -i any there — and give those files with these."
		case on != "":
			next = "Capture on " + on + " too — " + podIfaces(pods, "source") + ", its tunnel device and its eth0, or " +
				"tcpdump -i any there — and give those files with these."
		}
	}
	return detail, next
}

// addrsNode returns the node all of addrs live on, when one is known: by the nodes' own addresses
// (own: the captures', --node-ip, the cluster metadata's, its tunnel devices' by the metadata), else by
// the metadata's running pods; "" when they live on none known, or on several.
func (a *analysis) addrsNode(addrs map[string]bool) (node string, own bool) {
	var pods map[string]string    // pod address → its node, by the metadata
	var tunnels map[string]string // a node's tunnel device's address → the node, by the metadata
	if m := a.opts.Cluster; m != nil {
		alias := m.MatchNodes(a.w.nodes)
		pods, tunnels = map[string]string{}, map[string]string{}
		for i := range m.Pods {
			if p := &m.Pods[i]; !p.HostNetwork && !p.Done() {
				for _, ip := range p.IPs {
					pods[ip.String()] = nodeName(alias, p.Node)
				}
			}
		}
		for _, n := range m.Nodes {
			for _, ad := range n.Addresses {
				if ad.Tunnel {
					tunnels[ad.IP.String()] = nodeName(alias, n.Name)
				}
			}
		}
	}
	owns := 0
	for addr := range addrs {
		n := ""
		if i := a.w.nodeOfAddr(addr); i >= 0 {
			n = a.w.nodes[i]
			owns++
		} else if n = tunnels[addr]; n != "" {
			owns++ // the node's own: its tunnel device's (IP-in-IP, VXLAN) address
		} else {
			n = pods[addr]
		}
		if n == "" || node != "" && n != node {
			return "", false
		}
		node = n
	}
	return node, owns == len(addrs)
}

// inAnyText says what arrived at point pt of node, whose -i any capture shows it going nowhere else,
// headed for an address no node is known by (inAnyNext: how to tell delivery from a drop).
func (g *openEndGroup) inAnyText(pt, node string) string {
	return fmt.Sprintf("%s last seen arriving at %s, headed for %s, which calipath knows as no node's "+
		"address; %s's -i any capture shows them on no other interface, so %s took them in (if the address is its "+
		"own) or dropped them. They are counted as not captured (status left-captures), neither delivered nor lost.",
		packetsWere(g.n), pt, openEndList(g.addrs), node, node)
}

const inAnyNext = "Say which node the address is (--node-ip NODE=IP, or --k8s with the cluster's Node objects): packets " +
	"to a node's own address that reach it are then delivered."

// localText says what left the captured area at the pod veth pt of node, headed for other pods of the
// node, or for an address that may be one (openEnd.local: how says why).
func (g *openEndGroup) localText(pt, node string, how localHow) string {
	switch how {
	case localBlock:
		return fmt.Sprintf("%s last seen at %s, headed for %s, which lives on %s itself by its address: it is in "+
			"the Calico address block (a /26; IPv6 /122) of pods captured on that node, no capture shows it on "+
			"another node, and none of these packets crossed %s's underlay or tunnel device. The destination pod's cali interface was not "+
			"captured, so whether they arrived is unknown. They are counted as not captured (status left-captures), "+
			"neither delivered nor lost: not a drop, unless no pod of %s has that address (%s's blackhole route "+
			"for its own block drops packets to those).", packetsWere(g.n), pt, openEndList(g.addrs), node, node,
			node, node)
	case localMaybe:
		return fmt.Sprintf("%s last seen at %s, headed for %s, which may be a pod of %s itself: none of these "+
			"packets crossed %s's underlay or tunnel device, as packets between two pods of one node never do, and "+
			"nothing in the captures says where the destination lives (it sent nothing back, no capture shows it on "+
			"another node, and its address is in no Calico address block, a /26, known to be one node's). Whether "+
			"they arrived is unknown: they are counted as not captured (status left-captures), neither delivered "+
			"nor lost, and not called a drop. If the destination is on another node, %s dropped them.", packetsWere(g.n),
			pt, openEndList(g.addrs), node, node, node)
	}
	return fmt.Sprintf("%s last seen at %s, headed for %s, which lives on %s itself (its packets came into that "+
		"node's pods from an interface none of the captures covers, and none crossed %s's underlay or tunnel "+
		"device): the destination pod's cali interface was not captured, so whether they arrived is unknown. "+
		"Not a drop: they are counted as not captured (status left-captures), neither delivered nor lost; those "+
		"the destination answered are counted delivered.", packetsWere(g.n), pt, openEndList(g.addrs), node, node)
}

// localServiceText is localText's default for packets headed for a Service address (serviceNote: note)
// whose endpoint for them is on node: the address lives on no node.
func (g *openEndGroup) localServiceText(pt, node, note string) string {
	return fmt.Sprintf("%s last seen at %s, headed for %s; their answers came into %s's pods from an interface "+
		"none of the captures covers, and none crossed %s's underlay or tunnel device. %s The destination pod's "+
		"cali interface was not captured, so whether they arrived is unknown. Not a drop: they are counted as not "+
		"captured (status left-captures), neither delivered nor lost; those the destination answered are counted "+
		"delivered.", packetsWere(g.n), pt, openEndList(g.addrs), node, node, note)
}

// localNext is what to capture on node for packets to its other pods (how: openEnd.local): the
// pods the metadata gives their addresses (pods, localPods) by name and interface, else the
// destination pod's; with k8s false, that --k8s would say where an address of localMaybe lives.
func localNext(node string, how localHow, pods []localPod, k8s bool) string {
	what := podIfaces(pods, "destination") + " on " + node + " too"
	switch {
	case len(pods) == 0:
		what += " (ip route get <pod IP> there names it)"
	case len(pods) == 1 && pods[0].iface == "":
		what += " (ip route get " + pods[0].ip + " there names it)"
	}
	next := "Capture " + what + ", or tcpdump -i any on " + node + ", and give that file with these"
	if how == localMaybe && !k8s {
		return next + "; or give --k8s (the cluster's pods say which node the destination is on)."
	}
	return next + "."
}

// podIfaces names the interfaces of pods (localPods) to capture: "default/pod-c's interface
// cali3754a2f57f6", "the interfaces of default/pod-c (cali3754a2f57f6), …", or without any pod "the
// destination pod's cali interface" (which: destination or source).
func podIfaces(pods []localPod, which string) string {
	switch {
	case len(pods) == 0:
		return "the " + which + " pod's cali interface"
	case len(pods) == 1 && pods[0].iface != "":
		return pods[0].pod + "'s interface " + pods[0].iface
	case len(pods) == 1:
		return pods[0].pod + "'s cali interface"
	}
	var l []string
	for i, p := range pods {
		if i == 4 {
			l = append(l, "…")
			break
		}
		if p.iface == "" {
			p.iface = "ip route get " + p.ip + " names it"
		}
		l = append(l, p.pod+" ("+p.iface+")")
	}
	return "the interfaces of " + strings.Join(l, ", ")
}

// localPod is a pod of a node the metadata gives an address (ip) to, with its host-side interface
// when known.
type localPod struct{ pod, iface, ip string }

// localPods returns the running pods of node (the captures' name for it) that the metadata (--k8s)
// gives one of addrs to, by name: each with its interface, the one its Calico workload endpoint names,
// else the one Calico's rule gives it (Options.IfacePrefix), unless the node's `ip link` dump, when
// given, has no such interface. Nil without metadata.
func (a *analysis) localPods(addrs map[string]bool, node string) []localPod {
	m := a.opts.Cluster
	if m == nil || len(addrs) == 0 {
		return nil
	}
	alias := m.MatchNodes(a.w.nodes)
	var out []localPod
	for i := range m.Pods {
		p := &m.Pods[i]
		if p.HostNetwork || p.Done() || nodeName(alias, p.Node) != node {
			continue
		}
		ip := ""
		for _, a := range p.IPs {
			if addrs[a.String()] {
				ip = a.String()
				break
			}
		}
		if ip == "" {
			continue
		}
		iface := cluster.IfaceName(a.opts.IfacePrefix, p.Namespace, p.Name)
		for j := range m.WorkloadEndpoints {
			if w := &m.WorkloadEndpoints[j]; w.Namespace == p.Namespace && w.Pod == p.Name && w.InterfaceName != "" {
				iface = w.InterfaceName
			}
		}
		st := m.NodeState[node]
		if st == nil {
			st = m.NodeState[p.Node]
		}
		if st != nil && len(st.Links) > 0 && !slices.ContainsFunc(st.Links, func(l cluster.Link) bool { return l.Name == iface }) {
			iface = ""
		}
		out = append(out, localPod{pod: p.Key(), iface: iface, ip: ip})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pod < out[j].pod })
	return out
}

// initialTTL says whether a TTL is one that hosts send with (Linux 64, Windows 128, some 255): a packet
// that carries it has crossed no router.
func initialTTL(ttl uint8) bool { return ttl == 64 || ttl == 128 || ttl == 255 }

// packetsWere is "1 packet was" or "n packets were".
func packetsWere(n int) string {
	if n == 1 {
		return "1 packet was"
	}
	return fmt.Sprintf("%d packets were", n)
}

// outsideCluster reports whether every address of addrs lies outside the cluster by its metadata
// (--k8s, with IP pools and nodes): in none of its IP pools, and no node's address (the captures',
// --node-ip, the metadata's, its tunnel devices'), no running pod's and no Service's. False without
// such metadata: then nothing says where an address is.
func (a *analysis) outsideCluster(addrs map[string]bool) bool {
	m := a.opts.Cluster
	if m == nil || len(m.Pools) == 0 || len(m.Nodes) == 0 || len(addrs) == 0 {
		return false
	}
	known := map[netip.Addr]bool{}
	for _, n := range m.Nodes {
		for _, ad := range n.Addresses {
			known[ad.IP] = true
		}
	}
	for i := range m.Pods {
		for _, ip := range m.Pods[i].IPs {
			known[ip] = true
		}
	}
	for _, s := range m.Services {
		for _, ip := range s.ClusterIPs {
			known[ip] = true
		}
		for _, ip := range s.ExternalIPs {
			known[ip] = true
		}
	}
	for addr := range addrs {
		ip, err := netip.ParseAddr(addr)
		if err != nil || known[ip.Unmap()] || poolOf(m, ip.Unmap()) != nil || a.w.nodeOfAddr(addr) >= 0 {
			return false
		}
	}
	return true
}
