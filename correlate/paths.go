package correlate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/calipath/calipath/decode"
)

// pathInfo is a flow direction's expected path: the points its packets should cross, in order, and
// its end nodes (-1 when unknown).
type pathInfo struct {
	points           []int
	srcNode, dstNode int
	// blindStart and blindEnd: the path's first (last) point was taken out of it, a capture of the
	// other direction only (oneway.go); blindEnd without evidence that what reached its end arrived.
	blindStart, blindEnd bool
	// sideUnknown: router point → its router's other captured interface, which none of the path's
	// packets reached and which the TTLs cannot put on either side of it (orderRouters). It is left off
	// the path; a segment from or to the router point may span it (segKind: "side unknown").
	sideUnknown map[int]int
	// unordered: point → the point beside it on the path whose order against it nothing told (their
	// clocks say nothing of each other, and no packets both ways ordered them: orderOpenHops); a loss on
	// a segment from or to either is loss-order-unknown (segOrder).
	unordered map[int]int
	// local: the destination was put on the source's node by its address (localDsts: localBlock,
	// localMaybe), 0 otherwise.
	local localHow
}

// index returns the position of point p on the path, -1 if it is not on it (paths are short).
func (pi *pathInfo) index(p int) int {
	for i, q := range pi.points {
		if q == p {
			return i
		}
	}
	return -1
}

// indexPast is the first position past i (a path index, -1 for none) that holds point p, -1 when none
// does: a path may cross a point twice (an egress gateway's veth, the node's eth0 before and after it).
func (pi *pathInfo) indexPast(p, i int) int {
	for k := i + 1; k < len(pi.points); k++ {
		if pi.points[k] == p {
			return k
		}
	}
	return -1
}

// indexAfter is index for a point likely the one after position i (the path index of the hop before,
// -1 for none): hops come in path order. A path's points are distinct, so either way finds the same.
func (pi *pathInfo) indexAfter(p, i int) int {
	if i+1 < len(pi.points) && pi.points[i+1] == p {
		return i + 1
	}
	return pi.index(p)
}

// pathEnds are the ends of a flow direction's path: the end nodes and the pod-veths on them (-1 when
// unknown).
type pathEnds struct {
	src, dst, srcPod, dstPod int
	local                    localHow // why dst is src, when by the destination's address (localDsts)
	// behindTunnel: the destination is no known pod's, but another direction's packets carried its
	// address through a tunnel device on node dst's side, and no encapsulation names it as a node's
	// own (allEnds): Calico routes packets to it from another node through the tunnels, as to a pod.
	// buildPaths keeps it only for directions whose packets reached no cluster node's underlay, whose
	// own sightings would show whether they were tunnelled (a pod whose packets bypass WireGuard).
	behindTunnel bool
}

// pathStage works out each flow direction's expected path from the flows' votes. Its inputs are the
// world, the flows and each node pair's datapath mode, which it reads only.
type pathStage struct {
	w        *world
	flows    []*flowAcc
	jAll     []int32           // the flows' journeys (flowsOut.jAll)
	pairMode map[[2]int]string // node pair (lower first) → datapath mode (modes.go)
	// tunFam is, per point, the IP families (famBit) a tunnel device was seen to carry, of the families
	// looked for so far (famScanned; tunfamily.go).
	tunFam     []uint8
	famScanned uint8
	// ar is the journeys' hops, for localDsts (nil: it reads no hops).
	ar *arenaOut
	// unordered: the point pairs nothing ordered (orderOpenHops), marked on the paths (markUnordered).
	unordered map[[2]int]bool
	// keyHash hashes buildPaths' keys: nil for pathKey.hash (a test makes them share hashes).
	keyHash func(pathKey) uint64
}

// dirJourneys is flowsOut.dirJourneys.
func (s *pathStage) dirJourneys(fl *flowAcc, d uint8) []int32 { return dirJourneysIn(s.jAll, fl, d) }

// encapsulated says whether traffic between nodes x and y is encapsulated (IP-in-IP or VXLAN).
func (s *pathStage) encapsulated(x, y int) bool {
	m := s.pairMode[[2]int{min(x, y), max(x, y)}]
	return m == "ipip" || m == "vxlan"
}

// ends works out where a flow direction's path starts and ends: the most voted nodes, and on them
// the most voted pod-veths.
func (s *pathStage) ends(fl *flowAcc, d uint8) pathEnds {
	w := s.w
	v := &fl.votes[d]
	e := pathEnds{src: v.top(tSrc), dst: v.top(tDst), srcPod: -1, dstPod: -1}
	if e.src >= 0 {
		e.srcPod = v.topWhere(tSrcPod, func(p int) bool { return w.pointNode[p] == e.src })
	}
	if e.dst >= 0 {
		e.dstPod = v.topWhere(tDstPod, func(p int) bool { return w.pointNode[p] == e.dst })
	}
	return e
}

// pathKey is what the flow directions that share a path have in common (buildPaths).
type pathKey struct {
	ends     pathEnds
	v6       bool
	src, dst uint32 // the addresses of the ends whose pod is not known
}

// hash mixes k's fields into a word, for a map of uint64 keys (any two keys may share one).
func (k pathKey) hash() uint64 {
	h := uint64(k.ends.src)*0x9e3779b97f4a7c15 ^ uint64(k.ends.dst)*0xc2b2ae3d27d4eb4f ^ uint64(k.ends.srcPod)<<40 ^
		uint64(k.ends.dstPod)<<20 ^ uint64(k.ends.local)<<60 ^ uint64(k.src)<<32 ^ uint64(k.dst)
	if k.v6 {
		h = ^h
	}
	return h
}

// equal reports whether k and o are the same key: k == o, field by field (the compiler's comparison of
// the struct took about 88 instructions a call).
func (k *pathKey) equal(o *pathKey) bool {
	return k.ends.src == o.ends.src && k.ends.dst == o.ends.dst && k.ends.srcPod == o.ends.srcPod &&
		k.ends.dstPod == o.ends.dstPod && k.ends.local == o.ends.local && k.ends.behindTunnel == o.ends.behindTunnel &&
		k.v6 == o.v6 && k.src == o.src && k.dst == o.dst
}

// pathKeys numbers pathKeys in the order first met. It finds a key by its hash, then among the keys
// sharing that hash: a map of the key itself hashed all its bytes at each look-up. The distinct
// hashes are numbered in a keyIndex of their own (not a Go map of uint64 keys: about 80 instructions
// a look-up, one a flow direction), each with the number of the first key that has it. In front of
// them, recent holds the last key numbered or found with each value of its hash's mixed top bits: the
// usual look-up (a few hundred keys for tens of thousands of flow directions) is that key's.
type pathKeys struct {
	hash   func(pathKey) uint64 // nil: pathKey.hash (called without a func value)
	hashes keyIndex[uint64]     // the distinct hashes, in the order first met
	first  []int32              // by the hash's number there: the number of the first key with it
	keys   []pathKey            // by number
	same   []int32              // by number: the next key with the same hash, -1: none
	recent [1 << recentBits]recentKey
}

// recentBits is how many of a hash's mixed top bits choose its place in pathKeys.recent.
const recentBits = 10

// recentKey is a key's hash and 1 + its number (0: none), in pathKeys.recent.
type recentKey struct {
	h uint64
	n int32
}

// newPathKeys returns an empty pathKeys hashing with hash (nil: pathKey.hash).
func newPathKeys(hash func(pathKey) uint64) *pathKeys {
	return &pathKeys{hash: hash}
}

// index returns k's number, and whether k was new (numbered now, after all others).
func (x *pathKeys) index(k pathKey) (int32, bool) {
	var h uint64
	if x.hash == nil {
		h = k.hash()
	} else {
		h = x.hash(k)
	}
	r := &x.recent[mixWord(h)>>(64-recentBits)]
	if r.n > 0 && r.h == h && x.keys[r.n-1].equal(&k) {
		return r.n - 1, false
	}
	n, added := x.lookup(k, h)
	*r = recentKey{h: h, n: n + 1}
	return n, added
}

// lookup is index without recent: k's number and whether k was new, h its hash.
func (x *pathKeys) lookup(k pathKey, h uint64) (int32, bool) {
	hi, ok := x.hashes.get(h, mixWord(h))
	if ok {
		for j := x.first[hi]; j >= 0; j = x.same[j] {
			if x.keys[j].equal(&k) {
				return j, false
			}
		}
	}
	n := int32(len(x.keys))
	x.keys, x.same = append(x.keys, k), append(x.same, -1)
	if ok { // another key has its hash: k goes second in their chain
		i := x.first[hi]
		x.same[n], x.same[i] = x.same[i], n
	} else {
		x.hashes.add(h, mixWord(h), mixWord)
		x.first = append(x.first, n)
	}
	return n, true
}

// buildPaths gives every flow direction its path. The flow directions between one pair of pods (or,
// where a pod is not known, of addresses) take one path: packets between two pods cross the same
// points, whichever protocol or port they use. What their journeys showed of the routers is pooled,
// so that a flow whose packets all died at the first router is drawn, and judged, on the same path
// as the flows that went further. It sets each flow's paths, per direction (flowAcc.pathAt: 0 for a
// direction without journeys), returns them (flowsOut.paths: index 0 is none) and drops the flows'
// votes.
func (s *pathStage) buildPaths() []*pathInfo {
	type group struct {
		ends     pathEnds
		routers  map[int]*routerSeen
		multi    map[int]*routerSeen // hop positions at the underlays of nodes with several (dirRare.multi)
		edge     votes               // point<<8|TTL at the cluster nodes' underlays (dirRare.edge)
		tunnel   bool                // some journey was seen at a tunnel device
		underlay bool                // some journey was seen at a cluster node's underlay (pathEnds.behindTunnel)
		v6       bool
		index    int32 // in groups
	}
	var groups []*group
	byKey := newPathKeys(s.keyHash)
	member, ends := make([][2]int32, len(s.flows)), s.allEnds() // each flow direction's group (-1: none), its ends (outerends.go)
	for fi, fl := range s.flows {
		for d := uint8(0); d < 2; d++ {
			member[fi][d] = -1
			if fl.nDir(d) == 0 {
				continue
			}
			e := ends[fi][d]
			k := pathKey{ends: e, v6: fl.client.v6}
			if e.srcPod < 0 || e.dstPod < 0 {
				t := fl.client
				if d == s2c {
					t = t.reverse()
				}
				if e.srcPod < 0 {
					k.src = t.src
				}
				if e.dstPod < 0 {
					k.dst = t.dst
				}
			}
			gi, added := byKey.index(k)
			if added {
				groups = append(groups, &group{ends: e, routers: map[int]*routerSeen{}, v6: k.v6, index: gi})
			}
			g := groups[gi]
			addRouters(g.routers, fl.votes[d].routers())
			if m := fl.votes[d].multi(); m != nil {
				if g.multi == nil {
					g.multi = map[int]*routerSeen{}
				}
				addRouters(g.multi, m)
			}
			if ev := fl.votes[d].edge(); ev != nil {
				for _, v := range ev.ttls {
					g.edge.addN(int(v.key), int(v.n))
				}
			}
			g.tunnel = g.tunnel || fl.votes[d].tunnel
			g.underlay = g.underlay || fl.votes[d].underlay
			member[fi][d] = g.index
		}
	}
	back := reverseGroups(member, len(groups))
	built := make([]*pathInfo, 1+len(groups)) // built[1+i]: group i's; built[0]: none
	for i, g := range groups {
		if len(g.routers) == 0 && g.tunnel {
			g.routers = s.wgRouters(g.ends, g.routers)
		}
		var rev map[int]*routerSeen
		if back[i] > 0 {
			rev = groups[back[i]-1].routers
		}
		e := g.ends
		e.behindTunnel = e.behindTunnel && !g.underlay
		built[1+i] = s.buildPath(e, g.routers, rev, g.edge, g.tunnel, g.v6)
		s.finishPath(built[1+i], g.multi)
	}
	if s.ar != nil && s.ar.revisit.Load() {
		s.revisitPaths(built, member)
	}
	for fi, fl := range s.flows {
		fl.pathAt = [2]int32{member[fi][c2s] + 1, member[fi][s2c] + 1}
		fl.votes = nil // read by nothing after this, while the flows live on
	}
	return built
}

// revisitSample is how many journeys of each flow direction revisitPaths reads.
const revisitSample = 64

// revisitPaths gives each group of flow directions whose packets came back to a node (a NodePort: an
// external client's request DNATed on node-a to a pod on node-b crosses router-1's eth0 toward node-a
// bare, node-a's eth0 in bare and out in IP-in-IP, then router-1's eth0 again; see visits) the points
// those packets crossed, in order, as its path: the most common such hop sequence among the group's
// journeys (up to revisitSample a flow direction). buildPath's model (the sender's points, the routers,
// the receiver's) has each point once, so it drew such a way with node-a at its start and ext-1 among
// the routers. built[1+i] is group i's path; member each flow direction's group (-1: none).
func (s *pathStage) revisitPaths(built []*pathInfo, member [][2]int32) {
	w := s.w
	type seq struct {
		points []int
		n      int
		hops   []uint32 // the first such journey's
	}
	byGroup := map[int32]map[string]*seq{}
	for fi, fl := range s.flows {
		for d := uint8(0); d < 2; d++ {
			gi := member[fi][d]
			if gi < 0 {
				continue
			}
			for k, j := range s.dirJourneys(fl, d) {
				if k == revisitSample {
					break
				}
				var pts []int
				again := false
				h := s.ar.hops(int(j))
				for _, g := range h {
					p := w.pointOf(g)
					for _, q := range pts {
						again = again || q == p
					}
					pts = append(pts, p)
				}
				if !again {
					continue
				}
				key := fmt.Sprint(pts)
				m := byGroup[gi]
				if m == nil {
					m = map[string]*seq{}
					byGroup[gi] = m
				}
				if m[key] == nil {
					m[key] = &seq{points: pts, hops: h}
				}
				m[key].n++
			}
		}
	}
	for gi, m := range byGroup {
		var best *seq
		for _, x := range m {
			if best == nil || x.n > best.n || x.n == best.n && (len(x.points) > len(best.points) ||
				len(x.points) == len(best.points) && fmt.Sprint(x.points) < fmt.Sprint(best.points)) {
				best = x
			}
		}
		pi := built[1+gi]
		pi.points = best.points
		pi.sideUnknown, pi.unordered = nil, nil
		s.revisitEnds(pi, best.hops)
	}
}

// revisitEnds corrects the end nodes of revisit path pi, drawn from a journey's hops h: where NAT
// rewrote the packet's source on the node its path begins at (or its destination on the node it ends
// at), the model's end node came from the rewritten address, and the path now begins (ends) with the
// address the packet had before (after): that address's node is the end's. A NodePort's request,
// masqueraded to node-a's tunnel address, had its source end on node-a, where its path now begins at
// node-a's eth0 with the external client's address, whose node no capture shows.
func (s *pathStage) revisitEnds(pi *pathInfo, h []uint32) {
	w := s.w
	first, _ := w.obsAt(h[0])
	last, _ := w.obsAt(h[len(h)-1])
	v6 := first.Flags&decode.FlagIPv6 != 0
	for _, g := range h { // the first hop with another source: where it was rewritten
		if o, _ := w.obsAt(g); o.Src != first.Src {
			if w.pointNode[w.pointOf(g)] == w.pointNode[w.pointOf(h[0])] {
				pi.srcNode = w.nodeOf(v6, first.Src)
			}
			break
		}
	}
	for k := len(h) - 1; k >= 0; k-- { // the last hop with another destination: the one after it rewritten
		if o, _ := w.obsAt(h[k]); o.Dst != last.Dst {
			if w.pointNode[w.pointOf(h[k+1])] == w.pointNode[w.pointOf(h[len(h)-1])] {
				pi.dstNode = w.nodeOf(v6, last.Dst)
			}
			break
		}
	}
}

// finishPath orders path pi's underlays at the nodes with several (multi: the hop positions there,
// nil for none) and marks the points whose order nothing told (s.unordered).
func (s *pathStage) finishPath(pi *pathInfo, multi map[int]*routerSeen) {
	if multi != nil {
		pi.orderUnderlays(s.w, multi)
	}
	if s.unordered != nil {
		pi.markUnordered(s.unordered)
	}
}

// addRouters adds to, what journeys showed at router points, what from showed.
func addRouters(to, from map[int]*routerSeen) {
	if len(from) == 0 {
		return // most flow directions between pods cross no router: no map iteration begun for nothing
	}
	for p, rs := range from {
		gs := to[p]
		if gs == nil {
			gs = &routerSeen{}
			to[p] = gs
		}
		gs.pos += rs.pos
		gs.n += rs.n
		for _, v := range rs.ttls {
			gs.ttls.addN(int(v.key), int(v.n))
		}
	}
}

// reverseGroups returns each of n groups' reverse direction's group + 1 (0: none), from the groups of
// each flow's directions (member, -1 for none): the first flow with both directions pairs them.
func reverseGroups(member [][2]int32, n int) []int32 {
	back := make([]int32, n)
	for _, m := range member {
		if m[0] >= 0 && m[1] >= 0 && m[0] != m[1] && back[m[0]] == 0 {
			back[m[0]], back[m[1]] = m[1]+1, m[0]+1
		}
	}
	return back
}

// buildPath orders the points a flow direction's packets should cross, given its ends and what its
// journeys showed of the routers (and the reverse direction's, back: nil for none), the TTLs they had
// at the cluster nodes' underlays (edge: point<<8|TTL) and whether they crossed a tunnel device; v6 is
// its IP family (tunnel devices carry one).
func (s *pathStage) buildPath(e pathEnds, routers, back map[int]*routerSeen, edge votes, tunnel, v6 bool) *pathInfo {
	w := s.w
	src, dst, srcPod, dstPod := e.src, e.dst, e.srcPod, e.dstPod
	pi := &pathInfo{srcNode: src, dstNode: dst, local: e.local}
	add := func(ps ...int) {
		for _, p := range ps {
			if pi.index(p) < 0 {
				pi.points = append(pi.points, p)
			}
		}
	}
	if src >= 0 && srcPod >= 0 {
		add(w.podEnd(srcPod)...) // pod-eth0, then cali (podeth0.go)
	}
	// Encapsulated node pairs send pod traffic through the tunnels; traffic between the nodes' own
	// addresses goes straight over the underlay.
	tunneled := dst >= 0 && src >= 0 && (s.encapsulated(src, dst) && (dstPod >= 0 || tunnel || e.behindTunnel) ||
		s.wgTunneled(src, dst, tunnel) || s.tunnelUnknownMode(src, dst, tunnel || e.behindTunnel))
	if src >= 0 && src != dst {
		if tunneled || (dst < 0 && tunnel) { // also when the destination's node is unknown: its packets crossed it
			add(s.pairTunnels(src, src, dst, v6)...)
		}
		add(w.underlaysOut(src)...)
	}
	rps, unknown := s.orderRouters(routers, back, edgeTTL(w, edge, src), edgeTTL(w, edge, dst))
	add(rps...)
	pi.sideUnknown = unknown
	if dst >= 0 && dst != src {
		add(w.underlays[dst]...)
		if tunneled {
			add(s.pairTunnels(dst, src, dst, v6)...)
		}
	}
	if dstPod >= 0 {
		end := w.podEnd(dstPod)
		for i := len(end) - 1; i >= 0; i-- { // cali, then pod-eth0
			add(end[i])
		}
	}
	return pi
}

// underlaysOut is node n's underlay points in the order a packet leaving the node crosses them: a
// VLAN sub-interface (named <parent>.<VLAN ID>, as `ip link add link eth0 name eth0.100 type vlan id
// 100` names it) right before its parent when the parent is captured too, since the packet leaves
// through the sub-interface and gets its tag on the way to the parent. w.underlays is in point ID
// order, which puts a parent before its sub-interfaces: the order in which a packet arriving at the
// node crosses them. Other underlays keep that order.
func (w *world) underlaysOut(n int) []int {
	u := w.underlays[n]
	if len(u) < 2 {
		return u
	}
	var out []int // nil while it is u's order
	for k, p := range u {
		q := w.vlanParent(u[:k], p)
		if q < 0 {
			if out != nil {
				out = append(out, p)
			}
			continue
		}
		if out == nil {
			out = append(make([]int, 0, len(u)), u[:k]...)
		}
		i := 0
		for out[i] != q {
			i++
		}
		out = append(out[:i+1], out[i:]...)
		out[i] = p
	}
	if out == nil {
		return u
	}
	return out
}

// vlanParent returns which of points ps is point p's VLAN parent: the point of p's node whose
// interface is p's name without its ".<VLAN ID>" suffix; -1 for none.
func (w *world) vlanParent(ps []int, p int) int {
	pts := w.c.Points
	name := pts[p].Iface
	dot := strings.LastIndexByte(name, '.')
	if dot <= 0 || dot == len(name)-1 {
		return -1
	}
	for _, c := range name[dot+1:] {
		if c < '0' || c > '9' {
			return -1
		}
	}
	for _, q := range ps {
		if pts[q].Node == pts[p].Node && pts[q].Iface == name[:dot] {
			return q
		}
	}
	return -1
}

// orderUnderlays puts the underlay points of each node with several on path pi in the order its
// journeys crossed them (their mean hop position in corrected time, multi), where the names do not
// give it: a node's own points share its clock, so their order in time is the packets' order. Without
// --links, a -i any capture names them any#<ifindex> only, and nothing else tells a VLAN
// sub-interface from its parent; each node's points keep their places on the path, and a point no
// journey reached keeps its own.
func (pi *pathInfo) orderUnderlays(w *world, multi map[int]*routerSeen) {
	for n := range w.underlays {
		u := w.underlays[n]
		if len(u) < 2 {
			continue
		}
		named := false
		for k, p := range u {
			if w.vlanParent(u[:k], p) >= 0 {
				named = true
			}
		}
		if named {
			continue // underlaysOut's order, from the names
		}
		var at []int // positions on the path of the node's underlays that journeys reached
		for i, p := range pi.points {
			if w.pointNode[p] == n && w.pointRole[p] == decode.RoleUnderlay && multi[p] != nil && multi[p].n > 0 {
				at = append(at, i)
			}
		}
		if len(at) < 2 {
			continue
		}
		ps := make([]int, len(at))
		for k, i := range at {
			ps[k] = pi.points[i]
		}
		mean := func(p int) float64 { return float64(multi[p].pos) / float64(multi[p].n) }
		sort.SliceStable(ps, func(a, b int) bool { return mean(ps[a]) < mean(ps[b]) })
		for k, i := range at {
			pi.points[i] = ps[k]
		}
	}
}

// rp is a router point on a path being ordered: its TTL (-1 unknown), its role at that TTL and its
// mean hop position (the order in corrected time).
type rp struct {
	p, ttl int
	role   int // at one TTL: 0 a router's egress, 1 unknown, 2 a router's ingress
	pos    float64
}

// orderRouters puts the router points a path crosses in the order packets reach them, from evidence
// that does not depend on clocks: a router decrements the TTL (the outer one when encapsulated) by
// one, so along the path the TTL falls router by router; on one router the interface with the
// higher TTL is its ingress and the other its egress; and at one TTL, on the link between two
// routers, the upstream router's egress comes before the downstream router's ingress. The TTLs the
// packets had leaving the source node and reaching the destination node (t0, t1: -1 unknown) settle
// the side of a router whose points show one TTL (routerSides): one seen at t0 is its ingress, one at
// t1 its egress (a capture of the router's egress only, tcpdump -Q out). A router with two captured
// interfaces of which packets reached only one: at its egress, the other is their way in; otherwise
// they entered there and the other is its way out, on the path even though nothing reached it, unless
// they were seen beyond the router (seenBeyond), or the reverse direction's packets (back) crossed it
// at that interface and not at the other (otherWayBack): then it has an interface no capture names,
// and the other captured one is not shown to be on their way. When the TTLs were read at an end node
// and still leave the side open (the point's TTL is one router from the source and nothing reached the
// destination to show how many routers follow: the egress of the first router, or the ingress of a
// second), the other interface is not put on either side: it is returned in unknown (point → the
// other interface), off the path, and a loss next to the point says that where it was is unknown.
// Points the TTLs cannot order (the two ends of one link, neither router's other interface captured;
// an L2 box that keeps the TTL) keep their order in corrected time.
func (s *pathStage) orderRouters(routers, back map[int]*routerSeen, t0, t1 int) (ordered []int, unknown map[int]int) {
	w := s.w
	rs := make([]rp, 0, len(routers)+2)
	for p, s := range routers {
		rs = append(rs, rp{p: p, ttl: s.ttls.top(), role: 1, pos: float64(s.pos) / float64(s.n)})
	}
	sort.Slice(rs, func(x, y int) bool { return rs[x].p < rs[y].p })
	withTTL := true
	for i := range rs {
		if rs[i].ttl < 0 {
			withTTL = false
			continue
		}
		hi, lo := rs[i].ttl, rs[i].ttl
		for _, q := range rs {
			if w.pointNode[q.p] == w.pointNode[rs[i].p] && q.ttl >= 0 {
				hi, lo = max(hi, q.ttl), min(lo, q.ttl)
			}
		}
		switch {
		case hi == lo:
		case rs[i].ttl == hi:
			rs[i].role = 2
		default:
			rs[i].role = 0
		}
	}
	if withTTL {
		routerSides(w, rs, t0, t1)
	}
	for i, n := 0, len(rs); i < n; i++ {
		r := rs[i]
		others := w.underlays[w.pointNode[r.p]]
		if len(others) != 2 || otherWayBack(r.p, others, back) {
			continue
		}
		if r.role == 0 { // its egress (by the TTLs): the other interface is the way in
			for _, q := range others {
				if _, seen := routers[q]; !seen && q != r.p {
					rs = append(rs, rp{p: q, ttl: r.ttl + 1, role: 2, pos: r.pos - 0.5})
				}
			}
			continue
		}
		if seenBeyond(w, r, rs[:n]) && !crossedBack(r.p, others, back) {
			continue
		}
		for _, q := range others {
			if _, seen := routers[q]; !seen && q != r.p {
				if r.role == 1 && withTTL && (t0 >= 0 || t1 >= 0) {
					if unknown == nil {
						unknown = map[int]int{}
					}
					unknown[r.p] = q // its ingress or its egress: the TTLs do not tell
					continue
				}
				rs[i].role = 2
				rs = append(rs, rp{p: q, ttl: r.ttl - 1, role: 0, pos: r.pos + 0.5})
			}
		}
	}
	sort.SliceStable(rs, func(x, y int) bool {
		a, b := rs[x], rs[y]
		if withTTL && a.ttl != b.ttl {
			return a.ttl > b.ttl
		}
		if withTTL && a.role != b.role {
			return a.role < b.role
		}
		if a.pos != b.pos {
			return a.pos < b.pos
		}
		return a.p < b.p
	})
	ordered = make([]int, len(rs))
	for i, r := range rs {
		ordered[i] = r.p
	}
	return ordered, unknown
}

// routerSides settles the role (ingress 2, egress 0) of the points of each router whose points on the
// path all show one TTL t, from the TTLs the packets had leaving the source node (t0) and reaching the
// destination node (t1), -1 when unknown. The router decrements the TTL: at its egress the packets
// crossed a router already (t < t0), at its ingress one is still ahead (t > t1). Counted from the
// source, with t0, the router whose ingress is at t is the (t0-t+1)th, the one whose egress is at t
// the (t0-t)th; a place another router holds is not its own (two routers at one TTL are the two ends
// of the link between them). A router still open keeps role 1 (two routers at one TTL, each with one
// point: the two ends of one link, in an order only the clocks would give).
func routerSides(w *world, rs []rp, t0, t1 int) {
	if t0 < 0 && t1 < 0 {
		return
	}
	type router struct {
		node, ttl int
		role      int // 1: open
	}
	var rt []*router
	byNode := map[int]*router{}
	held := map[int]bool{} // places (from the source, with t0) settled routers hold
	for _, r := range rs {
		n := w.pointNode[r.p]
		if r.role != 1 {
			if t0 >= 0 {
				held[t0-r.ttl+r.role/2] = true
			}
			byNode[n] = nil
			continue
		}
		if _, ok := byNode[n]; ok {
			continue
		}
		g := &router{node: n, ttl: r.ttl, role: 1}
		byNode[n] = g
		rt = append(rt, g)
	}
	settle := func(g *router, role int) {
		g.role = role
		if t0 >= 0 {
			held[t0-g.ttl+role/2] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for _, g := range rt {
			if g.role != 1 {
				continue
			}
			egress := (t0 < 0 || g.ttl < t0 && !held[t0-g.ttl]) && (t1 < 0 || g.ttl >= t1)
			ingress := (t1 < 0 || g.ttl > t1) && (t0 < 0 || g.ttl <= t0 && !held[t0-g.ttl+1])
			switch {
			case egress && !ingress:
				settle(g, 0)
				changed = true
			case ingress && !egress:
				settle(g, 2)
				changed = true
			}
		}
	}
	for i := range rs {
		if g := byNode[w.pointNode[rs[i].p]]; g != nil {
			rs[i].role = g.role
		}
	}
}

// edgeTTL is the TTL the path's packets had most often at node n's underlays (edge: point<<8|TTL
// votes), -1 for none or for n < 0.
func edgeTTL(w *world, edge votes, n int) int {
	if n < 0 {
		return -1
	}
	k := edge.topWhere(func(k int) bool { return w.pointNode[k>>8] == n })
	if k < 0 {
		return -1
	}
	return k & 0xff
}

// seenBeyond reports whether the packets that reached router point r were also seen, at a point of
// another node among rs, where they got only through r's router: with a lower TTL, or at r's TTL at
// another router's ingress; without TTLs, later in corrected time. Then the router's other captured
// interface, which nothing reached, is not their way out: the router has an interface no capture
// names. (At r's TTL a point of unknown role on another node is taken to be an upstream router's
// egress: the link into r's router.)
func seenBeyond(w *world, r rp, rs []rp) bool {
	for _, q := range rs {
		switch {
		case w.pointNode[q.p] == w.pointNode[r.p]:
		case r.ttl >= 0 && q.ttl >= 0:
			if q.ttl < r.ttl || q.ttl == r.ttl && q.role == 2 {
				return true
			}
		case q.pos >= r.pos:
			return true
		}
	}
	return false
}

// crossedBack reports whether the reverse direction's packets (back, nil for none) crossed router point
// p and the router's other captured interface both: the two are the way through the router of this
// pair of addresses, so packets seen at p and beyond the router left it through the other one, even
// though its capture did not show them (one captured one direction only: findOneWay says so).
func crossedBack(p int, others []int, back map[int]*routerSeen) bool {
	if back[p] == nil {
		return false
	}
	for _, q := range others {
		if q != p && back[q] == nil {
			return false
		}
	}
	return true
}

// otherWayBack reports whether the reverse direction's packets (back: what they showed of the
// routers, nil for none) crossed router point p but not the router's other captured interface: they
// came into the router (or left it) another way, so it has an interface no capture names, and the
// other captured one is not shown to be the way out of the packets that reached p.
func otherWayBack(p int, others []int, back map[int]*routerSeen) bool {
	if back[p] == nil {
		return false
	}
	for _, q := range others {
		if q != p && back[q] == nil {
			return true
		}
	}
	return false
}
