package correlate

import (
	"fmt"
	"sort"
	"time"

	"github.com/calipath/calipath/decode"
)

// Two capture points on nodes whose clocks say nothing of each other (pairBound BoundNone: each
// bounded on one side only, neither through the other, as a router's and an external host's
// bounded from node-a only) have no order in corrected time: a packet's sightings there may even
// take one corrected time (both clocks taken at their limits), and the journeys' hops then kept the
// files' order, so that which file's path sorted first placed a loss beside them (router-three-ifaces-
// drop with router-1's eth2 named as a router of its own: the drop inside router-1 put at node-a/eth0
// → ext-1/eth0). What orders them regardless of their clocks is the packets both ways between them:
// a packet p seen at P then Q and a packet q of the other direction seen at Q then P give, in raw
// capture times, (tP(q) − tQ(q)) − (tP(p) − tQ(p)) = the two transit times, positive, whatever the
// two clocks' offsets (they cancel, but for the drift over the time between p and q). Its sign orders
// the two points for p's direction (the addresses p had at P) and q's; orderOpenHops puts each
// journey's hops in that order, and where the sign is not clear (no packets the other way, or too
// close to tell) the pair is unordered: a loss next to it is loss-order-unknown, naming the two
// candidate segments. Two things would make that sign a wrong one. The difference is two transit
// times only when q crossed Q then P, back over the link p took: packets back by another way (a
// router between the two, asymmetric routing) give some other difference, so only packets (either
// way) with the same TTL and encapsulation at both points, as p has, are compared (openSightings).
// And the times are raw: a clock step between p and q adds itself to the difference, so a verdict
// needs two comparisons that agree and that no one moment lies between (openApart).

// orderTick is the error of one capture timestamp that the order test allows: a classic pcap's
// microsecond (nanosecond files are held to it too: the test then asks more than it needs).
const orderTick = int64(time.Microsecond)

// openSighting is a journey's sightings at both points of an unordered pair: its raw capture times at
// the two points (openSightings files it under its direction, the addresses it had at the first).
type openSighting struct {
	t0, t1 int64
}

// openDirKey is a packet's direction: its addresses (Observation.Src and Dst) and their family.
type openDirKey struct {
	src, dst uint32
	v6       bool
}

// openDir is the direction of observation o.
func openDir(o *decode.Observation) openDirKey {
	return openDirKey{o.Src, o.Dst, o.Flags&decode.FlagIPv6 != 0}
}

// back is the direction of the packets back: the addresses swapped.
func (k openDirKey) back() openDirKey { return openDirKey{k.dst, k.src, k.v6} }

// orderOpenHops puts the hops of the journeys at two adjacent points whose nodes' clocks say nothing
// of each other, with the same TTL there (a lower one is further on: sameTTL), in the order the
// packets both ways between those points show, and returns the point
// pairs (lower index first) that nothing ordered: the journeys' hops there stay in corrected-time (or
// file) order, and pathStage marks them on the paths (pathInfo.unordered). Nothing when every clock
// is bounded both ways.
func (a *analysis) orderOpenHops() map[[2]int]bool {
	if !a.openClocks || a.arenaOut == nil {
		return nil
	}
	w, ar := a.w, a.arenaOut
	none := map[[2]int]bool{}
	isNone := func(x, y int) bool {
		k := [2]int{x, y}
		v, ok := none[k]
		if !ok {
			v = a.pairBound(x, y) == BoundNone
			none[k] = v
		}
		return v
	}
	type adj struct {
		j int32
		k int // hops k-1 and k
	}
	var adjs []adj
	pairs := map[[2]int]bool{}
	for j := 0; j < a.nJ; j++ {
		lo, hi := int(ar.jStart[j]), int(ar.jStart[j+1])
		for k := lo + 1; k < hi; k++ {
			p, q := int(ar.hopPt[k-1]), int(ar.hopPt[k])
			x, y := w.pointNode[p], w.pointNode[q]
			if x == y || x < 0 || y < 0 || !isNone(x, y) || !sameTTL(w, ar.arena[k-1], ar.arena[k]) {
				continue
			}
			adjs = append(adjs, adj{int32(j), k})
			pairs[[2]int{min(p, q), max(p, q)}] = true
		}
	}
	if len(adjs) == 0 {
		return nil
	}
	sights := a.openSightings(pairs)
	type verdictKey struct {
		pair [2]int
		dir  openDirKey
	}
	verdicts := map[verdictKey]int{} // the point the direction's packets cross first; -1: not told
	first := func(pair [2]int, dir openDirKey) int {
		k := verdictKey{pair, dir}
		if v, ok := verdicts[k]; ok {
			return v
		}
		v := openFirst(pair, dir, sights[pair][dir], sights[pair][dir.back()])
		verdicts[k] = v
		return v
	}
	var unordered map[[2]int]bool
	for _, d := range adjs {
		k := d.k
		lo, hi := int(ar.jStart[d.j]), int(ar.jStart[d.j+1])
		p, q := int(ar.hopPt[k-1]), int(ar.hopPt[k])
		pair := [2]int{min(p, q), max(p, q)}
		at := k - 1 // the hop at the pair's first point, whose addresses are the direction's
		if q == pair[0] {
			at = k
		}
		o, _ := w.obsAt(ar.arena[at])
		f := first(pair, openDir(o))
		x, y := w.pointNode[p], w.pointNode[q]
		safe := (k-2 < lo || w.pointNode[ar.hopPt[k-2]] != x) && (k+1 >= hi || w.pointNode[ar.hopPt[k+1]] != y)
		switch {
		case f == p:
		case f == q && safe: // the other way round: each node's hops stay together
			ar.arena[k-1], ar.arena[k] = ar.arena[k], ar.arena[k-1]
			ar.hopPt[k-1], ar.hopPt[k] = ar.hopPt[k], ar.hopPt[k-1]
			ar.hopTs.swap(k-1, k)
		default:
			if unordered == nil {
				unordered = map[[2]int]bool{}
			}
			unordered[pair] = true
		}
	}
	return unordered
}

// sameTTL reports whether observations g and h leave the order of their points to the clocks: both
// encapsulated or neither, with the TTL (hop limit) a router decrements the same. A lower one is
// further on its way, whose order the paths take from the TTLs (orderRouters).
func sameTTL(w *world, g, h uint32) bool {
	og, _ := w.obsAt(g)
	oh, _ := w.obsAt(h)
	return (og.Encap() == decode.EncapNone) == (oh.Encap() == decode.EncapNone) && w.hopTTL(og) == w.hopTTL(oh)
}

// openSightings returns, for each point pair and direction, the sightings of every journey seen at
// both its points with the same TTL and encapsulation at both (sameTTL: across the one link between
// them, no router between; one whose TTLs differ took another way), in journey order (by direction,
// so that each direction's verdict reads its own packets and those back, not every flow's across the
// pair).
func (a *analysis) openSightings(pairs map[[2]int]bool) map[[2]int]map[openDirKey][]openSighting {
	w, ar := a.w, a.arenaOut
	inPair := make([]bool, len(w.c.Points))
	for pr := range pairs {
		inPair[pr[0]], inPair[pr[1]] = true, true
	}
	raw := func(g uint32) (*decode.Observation, int64) {
		o, f := w.obsAt(g)
		return o, w.c.Stamps[f].Ts(int(g-w.fileBase[f]), o)
	}
	out := map[[2]int]map[openDirKey][]openSighting{}
	for j := 0; j < a.nJ; j++ {
		lo, hi := int(ar.jStart[j]), int(ar.jStart[j+1])
		for k := lo; k < hi; k++ {
			p := int(ar.hopPt[k])
			if !inPair[p] {
				continue
			}
			for m := k + 1; m < hi; m++ {
				q := int(ar.hopPt[m])
				pair := [2]int{min(p, q), max(p, q)}
				if !inPair[q] || p == q || !pairs[pair] {
					continue
				}
				g0, g1 := ar.arena[k], ar.arena[m]
				if !sameTTL(w, g0, g1) {
					continue // not across the one link between the two: another way (a router between)
				}
				if p != pair[0] {
					g0, g1 = g1, g0
				}
				o, t0 := raw(g0)
				_, t1 := raw(g1)
				if out[pair] == nil {
					out[pair] = map[openDirKey][]openSighting{}
				}
				d := openDir(o)
				out[pair][d] = append(out[pair][d], openSighting{t0: t0, t1: t1})
			}
		}
	}
	return out
}

// openFirst returns which point of pair the packets of direction dir cross first, as the packets
// both ways between them show (there: the journeys of dir seen at both, rev: those back, which it
// sorts by time), or -1 when they do not tell: no packet the other way, or none whose sign clears the
// timestamps' error and the drift between the two packets, or signs both ways, or no two comparisons
// apart (openApart). Each packet of dir is compared with the packet back nearest in time.
func openFirst(pair [2]int, dir openDirKey, there, rev []openSighting) int {
	if len(there) == 0 || len(rev) == 0 || dir == dir.back() {
		return -1
	}
	sort.Slice(rev, func(i, k int) bool { return rev[i].t0 < rev[k].t0 })
	pos, neg := 0, 0
	// The comparisons that count: the one whose packets are the earliest to end (by both clocks'
	// times) and the one the latest to begin.
	var early, late [2]openSighting
	for _, p := range there {
		i := sort.Search(len(rev), func(i int) bool { return rev[i].t0 >= p.t0 })
		q := rev[min(i, len(rev)-1)]
		if i > 0 && (i == len(rev) || p.t0-rev[i-1].t0 < rev[i].t0-p.t0) {
			q = rev[i-1]
		}
		// s: the two transit times when p crosses pair[1] first, minus them when pair[0]
		s := (q.t1 - q.t0) - (p.t1 - p.t0)
		span := max(abs64(q.t0-p.t0), abs64(q.t1-p.t1))
		margin := 2*orderTick + int64(2*maxDrift*float64(span))
		switch {
		case s > margin:
			pos++
		case s < -margin:
			neg++
		default:
			continue
		}
		// Between: on each clock, the first and the last of the two packets' times.
		c := [2]openSighting{{min(p.t0, q.t0), min(p.t1, q.t1)}, {max(p.t0, q.t0), max(p.t1, q.t1)}}
		if pos+neg == 1 || c[1].t0 < early[1].t0 {
			early = c
		}
		if pos+neg == 1 || c[0].t0 > late[0].t0 {
			late = c
		}
	}
	if !openApart(early, late) {
		return -1
	}
	switch {
	case pos > 0 && neg == 0:
		return pair[1]
	case neg > 0 && pos == 0:
		return pair[0]
	}
	return -1
}

// openApart reports whether two comparisons of openFirst (each the first and the last of its two
// packets' times at the pair's points: [0] and [1] of t0, at pair[0], and of t1) lie apart on both
// clocks: no one moment lies between the two packets of both. The comparisons are of raw capture
// times, so a clock step between a packet and the one back compared with it adds the step to their
// difference and may flip its sign. A step of a Kubernetes node's clock is found in the samples both
// ways and taken off its corrected times (clockstep.go), but one of a clock bounded on one side only
// cannot be told from its limits beyond a jump (limitsJump, at least 100 µs), and these are raw times
// anyway: a step flips only the comparisons whose two packets it lies between, so two comparisons
// that agree and lie apart cannot both have been flipped by one step, and one it flipped would
// disagree with the other. The verdict assumes no more than one step of the two clocks between the
// packets compared (with more, two could flip two comparisons apart), and a drift of at most maxDrift
// each (the margin).
func openApart(early, late [2]openSighting) bool {
	return early[1].t0 < late[0].t0 && early[1].t1 < late[0].t1
}

// markUnordered marks on path pi each two adjacent points of unordered (point pairs, lower first).
func (pi *pathInfo) markUnordered(unordered map[[2]int]bool) {
	for i := 1; i < len(pi.points); i++ {
		p, q := pi.points[i-1], pi.points[i]
		if unordered[[2]int{min(p, q), max(p, q)}] {
			if pi.unordered == nil {
				pi.unordered = map[int]int{}
			}
			pi.unordered[p], pi.unordered[q] = q, p
		}
	}
}

// unorderedAt returns each i for which pi's points i and i+1 are a pair nothing ordered
// (Flow.PathUnordered).
func (pi *pathInfo) unorderedAt() []int {
	var out []int
	for i := 0; i+1 < len(pi.points); i++ {
		if m, ok := pi.unordered[pi.points[i]]; ok && m == pi.points[i+1] {
			out = append(out, i)
		}
	}
	return out
}

// segOrder is, for a segment beside two points of its path whose order nothing told (pathInfo.
// unordered), the two in the path's order and the segment a loss on it would be were they the other
// way round (alt[1] -1: past the path's end).
type segOrder struct {
	pair, alt [2]int
}

// orderOf returns segment from→to's segOrder on path pi, nil when it is beside no unordered pair.
func (pi *pathInfo) orderOf(from, to int) *segOrder {
	if pi.unordered == nil {
		return nil
	}
	next := func(p int) int {
		if i := pi.index(p); i >= 0 && i+1 < len(pi.points) {
			return pi.points[i+1]
		}
		return -1
	}
	inOrder := func(p, q int) [2]int {
		if pi.index(q) < pi.index(p) {
			return [2]int{q, p}
		}
		return [2]int{p, q}
	}
	if m, ok := pi.unordered[to]; ok && m != from { // into the pair: had the other come first
		return &segOrder{pair: inOrder(to, m), alt: [2]int{from, m}}
	}
	if m, ok := pi.unordered[from]; ok && m != to { // out of it: had the other come last
		return &segOrder{pair: inOrder(from, m), alt: [2]int{m, to}}
	}
	if m, ok := pi.unordered[from]; ok && m == to { // between them: had to come first, crossed uncaptured
		return &segOrder{pair: [2]int{from, to}, alt: [2]int{from, next(to)}}
	}
	return nil
}

// orderUnknownDetail is what a loss on segment s beside an unordered pair says: the two points, why
// nothing orders them, and where the packets were lost had they been the other way round.
func (a *analysis) orderUnknownDetail(s *segAcc) string {
	w, o := a.w, s.order
	pts := w.c.Points
	p, q := pts[o.pair[0]].ID, pts[o.pair[1]].ID
	x, y := w.pointNode[o.pair[0]], w.pointNode[o.pair[1]]
	alt := "past " + pts[o.alt[0]].ID + ", the path's last point"
	if o.alt[1] >= 0 {
		alt = "between " + pts[o.alt[0]].ID + " → " + pts[o.alt[1]].ID
	}
	return fmt.Sprintf(" Nothing the captures hold tells which of %s and %s the packets crossed first: the clocks of %s and %s are "+
		"each bounded on one side only (%s; %s), so their times do not order them, and no packets crossed both the other way "+
		"(or none whose times clear the timestamps' error, none across the one link between them, or too few apart in time to rule out "+
		"a clock step between them) to order them whatever the clocks. The path is drawn with %s first; "+
		"were %s first, they were lost %s. calipath does not say which: the candidate segments are %s → %s and that one.",
		p, q, w.nodes[x], w.nodes[y], a.openClock(x), a.openClock(y), p, q, alt, pts[s.from].ID, pts[s.to].ID)
}

// orderUnknownNext is the fix a loss beside an unordered pair names: captures whose clocks can be
// compared, or the nodes' offsets.
func (a *analysis) orderUnknownNext(s *segAcc) string {
	w := a.w
	x, y := w.nodes[w.pointNode[s.order.pair[0]]], w.nodes[w.pointNode[s.order.pair[1]]]
	return fmt.Sprintf("Capture on both sides of the link between %s and %s with clocks that can be compared (packets both ways "+
		"between them, or from a node whose clock bounds both), or give --offset %s=DURATION and --offset %s=DURATION, to order "+
		"them and place the loss.", x, y, x, y)
}
