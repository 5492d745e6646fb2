package correlate

import (
	"sort"

	"github.com/calipath/calipath/decode"
)

type pathInfo struct {
	points           []int
	srcNode, dstNode int
}

type segAcc struct {
	from, to    int
	kind        string
	packets     int
	delivered   int
	lost        int
	notCaptured int
	negative    int
	lat         latAcc
	flows       map[int32]int // flow → lost journeys
	evidence    []lossEv      // the first lostEvidence lost journeys of each flow, in journey order
	lostDF      int           // lost journeys with DF set
	refused     int           // lost journeys the segment's node refused with an ICMP error (refused)
	lostMaxLen  int
	passMaxLen  int // largest delivered packet
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

// pathEnds are the ends of a flow direction's path: the end nodes and the pod-veths on them (-1 when
// unknown).
type pathEnds struct {
	src, dst, srcPod, dstPod int
}

// ends works out where a flow direction's path starts and ends: the most voted nodes, and on them
// the most voted pod-veths.
func (a *analysis) ends(fl *flowAcc, d uint8) pathEnds {
	w := a.w
	e := pathEnds{src: fl.srcVotes[d].top(), dst: fl.dstVotes[d].top(), srcPod: -1, dstPod: -1}
	if e.src >= 0 {
		e.srcPod = fl.srcPods[d].topWhere(func(p int) bool { return w.pointNode[p] == e.src })
	}
	if e.dst >= 0 {
		e.dstPod = fl.dstPods[d].topWhere(func(p int) bool { return w.pointNode[p] == e.dst })
	}
	return e
}

// buildPaths gives every flow direction its path. The flow directions between one pair of pods (or,
// where a pod is not known, of addresses) take one path: packets between two pods cross the same
// points, whichever protocol or port they use. What their journeys showed of the routers is pooled,
// so that a flow whose packets all died at the first router is drawn, and judged, on the same path
// as the flows that went further.
func (a *analysis) buildPaths() {
	type key struct {
		ends     pathEnds
		v6       bool
		src, dst uint32 // the addresses of the ends whose pod is not known
	}
	type group struct {
		ends    pathEnds
		routers map[int]*routerSeen
		tunnel  bool     // some journey was seen at a tunnel device
		members [][2]int // flow, direction
	}
	var groups []*group
	byKey := map[key]*group{}
	for fi, fl := range a.flows {
		for d := uint8(0); d < 2; d++ {
			if len(fl.journeys[d]) == 0 {
				continue
			}
			e := a.ends(fl, d)
			k := key{ends: e, v6: fl.client.v6}
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
			g := byKey[k]
			if g == nil {
				g = &group{ends: e, routers: map[int]*routerSeen{}}
				byKey[k] = g
				groups = append(groups, g)
			}
			for p, rs := range fl.routers[d] {
				gs := g.routers[p]
				if gs == nil {
					gs = &routerSeen{}
					g.routers[p] = gs
				}
				gs.pos += rs.pos
				gs.n += rs.n
				for _, v := range rs.ttls {
					gs.ttls.addN(v.key, v.n)
				}
			}
			g.tunnel = g.tunnel || fl.tunnel[d]
			g.members = append(g.members, [2]int{fi, int(d)})
		}
	}
	for _, g := range groups {
		if len(g.routers) == 0 && g.tunnel {
			g.routers = a.wgRouters(g.ends, g.routers)
		}
		pi := a.buildPath(g.ends, g.routers, g.tunnel)
		for _, m := range g.members {
			a.flows[m[0]].path[m[1]] = pi
		}
	}
}

// buildPath orders the points a flow direction's packets should cross, given its ends and what its
// journeys showed of the routers and whether they crossed a tunnel device.
func (a *analysis) buildPath(e pathEnds, routers map[int]*routerSeen, tunnel bool) *pathInfo {
	w := a.w
	src, dst, srcPod, dstPod := e.src, e.dst, e.srcPod, e.dstPod
	pi := &pathInfo{srcNode: src, dstNode: dst}
	add := func(ps ...int) {
		for _, p := range ps {
			if pi.index(p) < 0 {
				pi.points = append(pi.points, p)
			}
		}
	}
	if src >= 0 && srcPod >= 0 {
		add(srcPod)
	}
	// Encapsulated node pairs send pod traffic through the tunnels; traffic between the nodes' own
	// addresses goes straight over the underlay.
	tunneled := dst >= 0 && src >= 0 && (a.encapsulated(src, dst) && (dstPod >= 0 || tunnel) || a.wgTunneled(src, dst, tunnel))
	if src >= 0 && src != dst {
		if tunneled || (dst < 0 && tunnel) { // also when the destination's node is unknown: its packets crossed it
			add(a.pairTunnels(src, src, dst)...)
		}
		add(w.underlays[src]...)
	}
	add(a.orderRouters(routers)...)
	if dst >= 0 && dst != src {
		add(w.underlays[dst]...)
		if tunneled {
			add(a.pairTunnels(dst, src, dst)...)
		}
	}
	if dstPod >= 0 {
		add(dstPod)
	}
	return pi
}

// orderRouters puts the router points a path crosses in the order packets reach them, from evidence
// that does not depend on clocks: a router decrements the TTL (the outer one when encapsulated) by
// one, so along the path the TTL falls router by router; on one router the interface with the
// higher TTL is its ingress and the other its egress; and at one TTL, on the link between two
// routers, the upstream router's egress comes before the downstream router's ingress. A router with
// two captured interfaces of which packets reached only one: they entered there and the other is
// its way out, on the path even though nothing reached it. Points the TTLs cannot order (the two
// ends of one link, neither router's other interface captured; an L2 box that keeps the TTL) keep
// their order in corrected time.
func (a *analysis) orderRouters(routers map[int]*routerSeen) []int {
	w := a.w
	type rp struct {
		p, ttl int
		role   int // at one TTL: 0 a router's egress, 1 unknown, 2 a router's ingress
		pos    float64
	}
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
	for i, n := 0, len(rs); i < n; i++ {
		r := rs[i]
		others := w.underlays[w.pointNode[r.p]]
		if len(others) != 2 {
			continue
		}
		for _, q := range others {
			if _, seen := routers[q]; !seen && q != r.p {
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
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.p
	}
	return out
}

// segKind names what a segment crosses.
func (a *analysis) segKind(from, to int, pi *pathInfo) string {
	w := a.w
	nf, nt := w.pointNode[from], w.pointNode[to]
	if nf != nt || !w.cluster[nf] {
		return "underlay" // between nodes, or through a router of the underlay
	}
	rf, rt := w.pointRole[from], w.pointRole[to]
	if k := a.wgSegKind(from, to, pi); k != "" {
		return k
	}
	switch {
	case nf == pi.srcNode && nf != pi.dstNode:
		if (rf == decode.RolePodVeth && rt == decode.RoleTunnel) || (rf == decode.RoleTunnel && rt == decode.RoleUnderlay) {
			return "encap"
		}
	case nf == pi.dstNode && nf != pi.srcNode:
		if rf == decode.RoleUnderlay && rt == decode.RoleTunnel {
			return "decap"
		}
		if rf == decode.RoleTunnel && rt == decode.RolePodVeth {
			return "delivery"
		}
	}
	return "host"
}

// seg returns the accumulator of segment from→to, made on first use (its kind judged on pi's path).
func (a *analysis) seg(from, to int, pi *pathInfo) *segAcc {
	var slot **segAcc
	if a.segDense != nil {
		slot = &a.segDense[from*len(a.w.c.Points)+to]
		if *slot != nil {
			return *slot
		}
	}
	k := [2]int{from, to}
	s := a.segs[k]
	if s == nil {
		s = &segAcc{from: from, to: to, kind: a.segKind(from, to, pi), flows: map[int32]int{}}
		a.segs[k] = s
	}
	if slot != nil {
		*slot = s
	}
	return s
}
