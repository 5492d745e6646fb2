package correlate

import (
	"encoding/binary"
	"math"
	"slices"
	"sort"
	"sync/atomic"
	"unsafe"

	"github.com/calipath/calipath/decode"
)

// placementOut is placement's output: each journey's status and where it was last seen and expected
// next, the offload events by journey, the journeys a node refused and the TCP resends, the segments'
// accounting, and the open ends of the captured paths. (The flows' counts, also placement's, stay
// with the flows.)
type placementOut struct {
	segs       map[[2]int]*segAcc
	segDense   []*segAcc        // segs indexed by from*len(points)+to, when there are few points
	offloadAt  map[int32]uint32 // split parent or merged segment → observation where it continued as others
	offloadNew map[int32]bool   // journeys that began as pieces of a split or as a merge: not new sends
	offMark    []uint64         // bitset: the journeys in offloadAt, offloadNew or fragOf (mayOffload)
	merged     map[int32]bool   // offloaded journeys that went on inside a larger frame (GRO), not as pieces
	retransJ   map[int32]bool   // TCP journeys that resent data already sent
	connJ      map[int32]bool   // TCP SYNs opening a connection after another on their flow's 5-tuple (tcpSyn), nil for none
	refusedBy  map[int32]int    // journeys a node refused with an ICMP error → that node (see refused)
	natRev     map[int32]bool   // journeys.natReversed: never counted lost (nil for none)
	refusedFor map[int32]int32  // ICMP error journeys → the journey each answered (see refused)
	jStatus    []statusCode     // status of each journey
	jLast      []int32          // point last seen on the path, -1
	jNext      []int32          // point expected next, -1
	openEnds   []openEnd        // journeys that left the captures or entered them mid-path (ends.go)
	ackedMiss  []ackedMiss      // TCP segments not lost: their receiver acknowledged them (acked.go)
	enteredAt  []int32          // per point: packets first seen past it on their path (anydrop.go)
}

// placement is the placement stage. It reads the stages settled before it through the analysis (the
// world, the clocks, the arena, the coverage, the flows with their paths, the late joins), which it
// does not write but for the flows' counts, and fills its output; its working state (the open-end
// finder and its caches) ends with it.
type placement struct {
	*analysis
	*placementOut
	oe      *openEndFinder
	tallies []pointTally // room for the flows' per-point tallies, handed out a flow at a time
	lats    []int32      // likewise for their end-to-end latency samples
	// dirTallies: per flow direction (flow<<1 | direction), its clean journeys' packets and bytes not
	// yet on its tallies (tallyClean)
	dirTallies []dirTally
	// distinct: per path (by its index in flowsOut.paths), whether its points are each on it once
	distinct []bool
	// shape: per path (by its index in flowsOut.paths), what its points alone say of a journey on it
	// (shapeEnds, shapeOpenStart)
	shape []uint8
	// fragOf: journeys (WireGuard messages) with later IP fragments as pieces beside them (frag
	// events); fragChild: those fragments' journeys.
	fragOf, fragChild map[int32]bool
	sa                *segCounter     // counts the journeys on the segments
	ack               *ackState       // the ACKs read again (acked.go), nil when none was
	pieceOf           map[int32]int32 // split piece → the journey it was split from (acked.go)
	// cutSeen: per flow direction (flow<<1 | direction), what its journeys showed (snapcuts.go),
	// gathered when a journey of it vanished near a frame cut before its ports.
	cutSeen map[int64]*cutSeen
	// misorder: some clock may have put a packet's sightings out of order (clockMisorders): a journey
	// first seen past its path's first point may be the rest of an earlier journey's packet.
	misorder bool
	// capDrop: the analysis's (placement counts in its vanished), or in the second goroutine's copy
	// (placingCopy) a copy with counts of its own. It stands for the analysis's field in placement's
	// methods.
	capDrop *capDrops
	// pathCounts: per path (by its index in flowsOut.paths), what this placement's segment counter
	// counted on it: each placement copy (placingCopy) has its own
	pathCounts []pathCount
	// hd gives back the hop detail's pages of the journeys placed (nil: none; placepar.go, hopdrop.go):
	// both goroutines' copies share it
	hd *hopDropper
}

// newPlacement makes placement's tables: the segments, the offload events by journey, the journeys a
// node refused, and each journey's status, last point and next point.
func newPlacement(a *analysis) *placement {
	pl := &placement{analysis: a, placementOut: &placementOut{}, capDrop: &a.capDrop}
	pl.segs = map[[2]int]*segAcc{}
	if n := len(a.w.c.Points); n <= 256 {
		pl.segDense = make([]*segAcc, n*n)
	}
	pl.offloadAt, pl.offloadNew, pl.merged = map[int32]uint32{}, map[int32]bool{}, map[int32]bool{}
	pl.fragOf, pl.fragChild = map[int32]bool{}, map[int32]bool{}
	for _, ev := range a.journeys.gso {
		if ev.frag { // a piece beside its message, which goes on itself: no offload point
			pl.fragOf[ev.parent], pl.fragChild[ev.child], pl.offloadNew[ev.child] = true, true, true
			continue
		}
		if prev, ok := pl.offloadAt[ev.parent]; !ok || a.ts(ev.at) < a.ts(prev) {
			pl.offloadAt[ev.parent] = ev.at
		}
		pl.offloadNew[ev.child] = true
		if ev.merge {
			pl.merged[ev.parent] = true
		}
	}
	pl.offMark = make([]uint64, (a.nJ+63)/64)
	for _, m := range []map[int32]bool{pl.offloadNew, pl.fragOf} {
		for j := range m {
			pl.offMark[j/64] |= 1 << (j % 64)
		}
	}
	for j := range pl.offloadAt {
		pl.offMark[j/64] |= 1 << (j % 64)
	}
	pl.retransJ = map[int32]bool{}
	pl.refusedBy, pl.refusedFor = a.refused()
	if len(a.journeys.natReversed) > 0 {
		pl.natRev = map[int32]bool{}
		for _, r := range a.journeys.natReversed {
			pl.natRev[r.j] = true
		}
	}
	pl.dirTallies = make([]dirTally, 2*len(a.flows))
	pl.distinct = make([]bool, len(a.paths))
	pl.shape = make([]uint8, len(a.paths))
	for x, pi := range a.paths {
		pl.distinct[x] = pi != nil && distinct(pi.points)
		pl.shape[x] = pathShape(a.w, pi)
	}
	pl.jStatus = makeBig[statusCode](a.w.big, a.nJ, a.nJ)
	pl.jLast = makeBig[int32](a.w.big, a.nJ, a.nJ)
	pl.jNext = makeBig[int32](a.w.big, a.nJ, a.nJ)
	pl.oe = &openEndFinder{w: a.w, ar: a.arenaOut, jFlow: a.jFlow, nJ: a.nJ}
	pl.misorder = a.clockMisorders()
	pl.pathCounts = newPathCounts(len(a.paths))
	return pl
}

// segAcc is placement's accounting of one segment of the paths: packets, outcomes, latency, losses.
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
	lostDF      int           // lost journeys no router may fragment: IPv4 with DF, and every IPv6 one
	lostV6      int           // lost IPv6 journeys
	refused     int           // lost journeys the segment's node refused with an ICMP error (refused)
	lostMaxLen  int
	passMaxLen  int // largest delivered packet
	holes       int // packets seen before and after the segment's end, not at it (anydrop.go)
	// unplaced: for a "side unknown" segment, the router point at one of its ends and its router's
	// other captured interface, which the TTLs put on neither side of it (pathInfo.sideUnknown).
	unplaced [2]int
	// order: for a segment beside two points whose order nothing told (pathInfo.unordered), the two
	// and the other candidate segment; nil for every other.
	order *segOrder
	// j0: the journey whose count made it, on one of placement's two goroutines (its kind and
	// unplaced are that journey's path's): when both made it, the earlier journey's is kept
	// (mergeSegs)
	j0 int32
}

// anyOffload reports whether some journey is in offloadAt, offloadNew or fragOf (all made with
// placement, newPlacement): when none is, mayOffload is false for every journey.
func (pl *placement) anyOffload() bool {
	return len(pl.offloadAt)+len(pl.offloadNew)+len(pl.fragOf) > 0
}

// mayOffload reports whether journey j may be in offloadAt, offloadNew or fragOf (offMark, when it
// covers j): when not, it is in none of them, and the maps need not be asked.
func (po *placementOut) mayOffload(j int32) bool {
	w := uint32(j) / 64
	return w >= uint32(len(po.offMark)) || po.offMark[w]&(1<<(uint32(j)%64)) != 0
}

// segKind names what a segment crosses.
func (pl *placement) segKind(from, to int, pi *pathInfo) string {
	w := pl.w
	nf, nt := w.pointNode[from], w.pointNode[to]
	if pl.oneWay.gapOf(from, to) != nil {
		return "one-way gap" // across a point that captured the other direction only (oneway.go)
	}
	if _, ok := pi.sideUnknown[from]; ok {
		return "side unknown" // may span a router interface whose side the TTLs do not tell (orderRouters)
	}
	if _, ok := pi.sideUnknown[to]; ok {
		return "side unknown"
	}
	if nf != nt || !w.cluster[nf] {
		return "underlay" // between nodes, or through a router of the underlay
	}
	rf, rt := w.pointRole[from], w.pointRole[to]
	if k := wgSegKind(w, from, to, pi); k != "" {
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

// seg returns the accumulator of segment from→to, made on first use (its kind judged on pi's path) by
// journey j (its j0).
func (pl *placement) seg(from, to int, pi *pathInfo, j int32) *segAcc {
	var slot **segAcc
	if pl.segDense != nil {
		slot = &pl.segDense[from*len(pl.w.c.Points)+to]
		if *slot != nil {
			return *slot
		}
	}
	k := [2]int{from, to}
	s := pl.segs[k]
	if s == nil {
		s = &segAcc{from: from, to: to, kind: pl.segKind(from, to, pi), flows: map[int32]int{}, j0: j}
		if s.kind == "side unknown" {
			if q, ok := pi.sideUnknown[from]; ok {
				s.unplaced = [2]int{from, q}
			} else {
				s.unplaced = [2]int{to, pi.sideUnknown[to]}
			}
		}
		s.order = pi.orderOf(from, to)
		pl.segs[k] = s
	}
	if slot != nil {
		*slot = s
	}
	return s
}

// placing is the journey being placed on its flow direction's path. One is reused for every journey,
// so placing a journey allocates nothing.
type placing struct {
	j       int
	fi      int32
	px      int32 // its path's index in flowsOut.paths (pi)
	fl      *flowAcc
	pi      *pathInfo
	h       []uint32
	o0      *decode.Observation // the first sighting
	reached []int               // per path point: the hop it was first seen at there, -1
	when    []int64             // per path point: the corrected time then
	first   int                 // the first path point reached (len(points) when none)
	reach   int                 // the last path point reached (-1 when none)
	piece   bool                // a piece of a split or a merge: not a new send
	parent  bool                // it went on as other journeys (split or merged) from offloadAt
	last    uint32              // its hop at the last path point reached, when it reached one
	// clean: its hops are its path's points, each once, in path order (reachPath): the usual
	// journey, which crosses every segment of its path and is tallied at every point of it
	clean bool
}

// placeJourney places journey j: its status, and its counts on its path's segments and on its flow.
// (Not inlined: near the budget of a hot function, inlined into placeJourneys' loop it took the calls
// it inlines, tcpStep and reachPath among them, as calls.)
//
//go:noinline
func (pl *placement) placeJourney(j int, p *placing) {
	fi := pl.jFlow[j]
	fl := pl.flows[fi]
	d := pl.jDir[j]
	p.j, p.fi, p.fl, p.px, p.pi, p.h = j, fi, fl, fl.pathAt[d], pl.pathOf(fl, d), pl.hops(j)
	pl.oe.pi = p.pi // the path its open ends are on
	p.o0, _ = pl.obs(pl.w.pktHop(p.h))
	if p.o0.Flags&decode.FlagICMPError != 0 {
		// An ICMP error is about a flow, not part of it: listed in Result.ICMP and shown with the
		// flow, but judged by whether it reached its own destination's node, and not counted.
		pl.jStatus[j] = pl.icmpStatus(p.h, int32(j))
		return
	}
	pl.reachPath(p)
	if pl.misorder && p.first > 0 && p.first < len(p.pi.points) && !p.pi.blindStart {
		// First seen past its path's first point while a clock may have put sightings out of order: the
		// rest of a packet whose first sightings an earlier journey took (clusterip-dnat, node-b +300 µs
		// at 98% of its capture: 3 "retransmitted segments" that were each one packet seen once). Its
		// data is taken as neither sent nor resent; a reset is still one.
		pl.tcpReset(fl, p.o0)
	} else {
		pl.tcpStep(fl, d, int32(j), p.o0)
	}
	fl.bytes += int64(p.o0.Len)
	mo := pl.mayOffload(int32(j))
	if p.piece = mo && pl.offloadNew[int32(j)]; !p.piece {
		fl.nSent++
	}
	status := stDelivered // the usual journey's (placeStatus' first case) without placeStatus' call
	if p.parent = false; mo || !p.clean || pl.shape[p.px]&shapeEnds == 0 {
		status = pl.placeStatus(p)
	}
	if p.first == 0 && status != stUnplaced && pl.shape[p.px]&shapeOpenStart != 0 { // (a pod's veth: nothing before it; pathShape)
		pl.oe.enteredUncaptured(int32(j), p.pi.points[0], p.h[p.reached[0]])
	}
	pl.jStatus[j] = status
	if p.first > 0 && p.first < len(p.pi.points) && !p.piece {
		pl.enteredPast(p.pi.points[p.first-1]) // anydrop.go
	}
	if p.reach >= 0 {
		p.last = p.h[p.reached[p.reach]]
	}
	// its per-point tallies are the segment counter's (count), off this goroutine's path
	pl.sa.add(p, status)
}

// cleanJourneys: placement counts a clean journey (placing.clean) by its path and flow direction,
// not hop by hop and segment by segment, and the skip counter (countSkips) at its candidate points
// without their bits; false treats it as any other (a test compares the two).
var cleanJourneys = true

// reachPath finds where along its path journey p was seen, and whether it is clean.
func (pl *placement) reachPath(p *placing) {
	pi := p.pi
	n := len(pi.points)
	if cap(p.reached) < n {
		p.reached, p.when = make([]int, n), make([]int64, n)
	}
	reached, when := p.reached[:n], p.when[:n]
	p.reached, p.when = reached, when
	base := int(pl.jStart[p.j])
	t0 := pl.hopTs.t0.at(p.j) // the journey's first sighting, which its hops' times count from
	hops := pl.hopPt[base : base+len(p.h)]
	if len(hops) == n && cleanJourneys { // most journeys: a hop at each of the path's points, in order
		pts, ht, k := pi.points[:n], &pl.hopTs, 0 // (ht, dt: in registers, not read through pl at each hop)
		for dt := ht.dt[base : base+n]; k < n && int(hops[k]) == pts[k]; {
			reached[k], when[k] = k, ht.atIn(t0, dt, k, base)
			k++
		}
		if k == n {
			p.first, p.reach, p.clean = 0, n-1, true
			return
		}
	}
	p.clean = false
	for i := range reached { // when is read only where reached
		reached[i] = -1
	}
	first, reach := n, -1
	i := -1 // the path index of the hop before
	for hi, pt := range hops {
		if i = pi.indexAfter(int(pt), i); i >= 0 && reached[i] < 0 {
			reached[i] = hi
			when[i] = pl.hopTs.atFrom(t0, base+hi)
			first, reach = min(first, i), max(reach, i)
		}
	}
	p.first, p.reach = first, reach
}

// fillNone sets every element of s to -1 (none: jLast, jNext), a doubling run of copies.
func fillNone(s []int32) {
	if len(s) == 0 {
		return
	}
	s[0] = -1
	for k := 1; k < len(s); k *= 2 {
		copy(s[k:], s[:k])
	}
}

// hopsKey is a path's points as the hops of a journey at them, in order, lie in hopPt (two bytes a
// point, as they lie in memory), for a path of 4 to 8 points: its first 8 bytes and its last 8 (which
// overlap for fewer than 8 points); n is its points, 0 for another path (or a point past a uint16).
type hopsKey struct {
	lo, hi uint64
	n      int
}

// hopsKeyOf returns the hopsKey of points pts.
func hopsKeyOf(pts []int) hopsKey {
	if len(pts) < 4 || len(pts) > 8 {
		return hopsKey{}
	}
	hp := make([]uint16, len(pts))
	for i, p := range pts {
		if p < 0 || p > math.MaxUint16 {
			return hopsKey{}
		}
		hp[i] = uint16(p)
	}
	b := hopBytes(hp)
	return hopsKey{lo: binary.NativeEndian.Uint64(b), hi: binary.NativeEndian.Uint64(b[len(b)-8:]), n: len(pts)}
}

// at reports whether hops hp, as many as k's points (k.n, not 0), are at its points in order.
func (k *hopsKey) at(hp []uint16) bool {
	b := hopBytes(hp)
	return len(b) >= 8 && binary.NativeEndian.Uint64(b) == k.lo && binary.NativeEndian.Uint64(b[len(b)-8:]) == k.hi
}

// atHops is at for the n hops from hp on (a pointer into hopPt, which the caller has tested to hold
// them: slotsHold): false unless n is k's points (k.n, 4 to 8 when not 0), so that the two words
// read lie among them.
func (k *hopsKey) atHops(hp unsafe.Pointer, n int) bool {
	return n == k.n && n >= 4 && *(*uint64)(hp) == k.lo && *(*uint64)(unsafe.Add(hp, 2*n-8)) == k.hi
}

// slotsHold reports whether a journey's slots [s, e) are n (its path's points) and lie among the
// arena's slots (the first slots), as placeClean reads them through pointers: s+n is e (so s <= e:
// s and e are below 1<<32) and e is at most slots.
func slotsHold(s, e uint, n int, slots uint) bool {
	return s+uint(n) == e && e <= slots
}

// rowHolds reports whether the n values from at on lie in a slice of length l (at and n not
// negative), as placeClean writes a journey's row of latencies through a pointer.
func rowHolds(at, n, l int) bool {
	return uint(at+n) <= uint(l)
}

// hopBytes returns the bytes hops hp (a range of hopPt) lie in, without a copy.
func hopBytes(hp []uint16) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(hp))), 2*len(hp))
}

// cleanRuns reports whether placement places runs of the usual clean journeys by placeClean: with
// cleanJourneys, no WireGuard device captured (the first hop is the packet's), the segment counter
// inline (sa: it reads no segJob), and no flow's clocks shown (countFlowClock).
func (pl *placement) cleanRuns() bool {
	return cleanJourneys && !pl.w.wgOn && pl.sa.p == nil && pl.flowClocks == nil
}

// runEnd is where a run of placeClean's from journey j ends: at the next journey after which the
// placing loop trims (trimAt) or reports to the hop dropper (hopDropper.every), or at n.
func runEnd(j, n int) int {
	return min(n, (j|(trimRun-1))+1, (j|(hopDropEvery-1))+1)
}

// placedClean counts the journeys placeClean placed, for the tests.
var placedClean atomic.Int64

// placeClean places journeys j to end-1 of the flows numbered lo to hi-1, passing over the others,
// while each is the usual clean journey:
// its hops its path's points in order, each time in hopTs.dt, no ICMP error, no piece, parent or
// fragment (mayOffload false), on a path whose shape is shapeEnds alone (delivered, not entered from
// outside the captures), whose segments a clean journey made (pathCount.run). It places and
// counts each as placeJourney and count do such a journey (its status delivered; its latencies, a
// hop's time less the one before, from the times after its first sighting, whose t0 cancels),
// without placing's reached and when (p: for primeTallies alone), and returns the first journey it
// left (end when none), which placeJourney places.
func (pl *placement) placeClean(p *placing, j, end int, lo, hi int32) int {
	jFlow, jDir, jStart, jStatus := pl.jFlow[:end], pl.jDir[:end], pl.jStart[:end+1], pl.jStatus[:end]
	// The arena's slots (the three as long) through pointers: a journey's [s, e) tested once (slotsHold)
	dt, blockObs := pl.hopTs.dt, pl.w.blockObs
	hopPt, arena := pl.hopPt[:len(dt)], pl.arena[:len(dt)]
	hp, dp, ap := unsafe.Pointer(unsafe.SliceData(hopPt)), unsafe.Pointer(unsafe.SliceData(dt)), unsafe.Pointer(unsafe.SliceData(arena))
	offload := pl.anyOffload() // (none: no journey to test by mayOffload)
	looseMax := pl.looseMax    // countFlowLoose's bound: none below it without loose clocks
	if pl.flowLoose == nil {
		looseMax = math.MinInt64
	}
	placed := 0
	for ; j < end; j++ {
		fi := jFlow[j]
		if fi < lo || fi >= hi {
			continue
		}
		fl, d := pl.flows[fi], jDir[j]
		pc := &pl.pathCounts[fl.pathAt[d]]
		if !pc.run || offload && pl.mayOffload(int32(j)) {
			break
		}
		s, e, c := uint(jStart[j]), uint(jStart[j+1]), &pc.clean
		n, at := len(pc.segs), int(c.nLat)*len(pc.segs) // its points less one (pathCount.run); its row's index
		if !slotsHold(s, e, n+1, uint(len(dt))) || !rowHolds(at, n, len(pc.lats)) {
			break
		}
		// its row of latencies (countClean), written as its hops are tested: the nLat-th of lats' rows of n
		row := unsafe.Add(unsafe.Pointer(unsafe.SliceData(pc.lats)), at*8)
		var lat int64                // its end-to-end latency, its last hop's time less its first's
		if n != 5 || pc.key.n == 0 { // (a path other than the usual keyed one of six points)
			ok := false
			if lat, ok = pc.cleanOther(hopPt[s:e], dt[s:e], unsafe.Slice((*int64)(row), n)); !ok {
				break
			}
		} else if pc.key.atHops(unsafe.Add(hp, s*2), n+1) { // its points as two words, then its times (no dtBig: pathCount.key)
			// (the usual path between pods of two nodes: cali, tunnel, eth0 on each): unrolled
			ds, r := (*[6]uint32)(unsafe.Add(dp, s*4)), (*[5]int64)(row)
			d0, d1, d2, d3, d4, d5 := int64(ds[0]), int64(ds[1]), int64(ds[2]), int64(ds[3]), int64(ds[4]), int64(ds[5])
			r[0], r[1], r[2], r[3], r[4], lat = d1-d0, d2-d1, d3-d2, d4-d3, d5-d4, d5-d0
		} else {
			break
		}
		g := *(*uint32)(unsafe.Add(ap, s*4)) // its first sighting's global id
		o0 := &blockObs[g>>16][g&0xffff]
		if o0.Flags&decode.FlagICMPError != 0 {
			break
		}
		pl.tcpStep(fl, d, int32(j), o0)
		fl.bytes += int64(o0.Len)
		fl.nSent++
		jStatus[j] = stDelivered
		c.n++ // countClean
		c.maxLen = max(c.maxLen, passLen(o0))
		if c.nLat++; c.nLat == cleanBatch {
			pl.addCleanLats(pc)
		}
		fl.delivered++     // countFlow
		if fl.e2e.n == 0 { // room for a sample per journey
			fl.e2e.samples = carve(&pl.lats, min(fl.nDir(c2s)+fl.nDir(s2c), exactSamples))
		}
		if !fl.e2e.addRoomy(lat) {
			fl.e2e.add(lat)
		}
		if lat < looseMax { // countFlowLoose
			pl.looseLat(fi, pc.pts[0], pc.pts[n], lat)
		}
		t := &pl.dirTallies[fi<<1|int32(d)]
		if !t.primed { // tallyClean
			p.j, p.fi, p.fl, p.px, p.pi = j, fi, fl, fl.pathAt[d], pl.paths[fl.pathAt[d]]
			pl.primeTallies(p, t)
		}
		t.n++
		t.bytes += int64(o0.Len)
		placed++
	}
	placedClean.Add(int64(placed))
	return j
}

// cleanOther is placeClean's test of a journey on path pc other than a keyed one of six points, with
// hops hp and times after its first sighting ds: whether they are the path's points, in order, each
// time in hopTs.dt (by its key, 4 to 8 points, or else one by one: cleanRow), writing its row of
// latencies; and its end-to-end latency.
func (pc *pathCount) cleanOther(hp []uint16, ds []uint32, row []int64) (int64, bool) {
	if pc.key.n == 0 {
		if !cleanRow(hp, ds, pc.pts, row) {
			return 0, false
		}
		return int64(ds[len(ds)-1]) - int64(ds[0]), true
	}
	if !pc.key.at(hp) {
		return 0, false
	}
	return diffRow(ds, row), true
}

// diffRow writes row, a hop's time less the one before, from times ds after a journey's first sighting
// (at least two), and returns the last less the first: placeClean's path of other than six points.
func diffRow(ds []uint32, row []int64) int64 {
	prev, ds := ds[0], ds[1:]
	lat := -int64(prev)
	r := row[:len(ds)]
	for i, v := range ds {
		r[i], prev = int64(v)-int64(prev), v
	}
	return lat + int64(prev)
}

// cleanRow reports whether hops hp, with times after their journey's first sighting ds, are at the
// points pts in order (as many), none of their times in hopTs's side map, and writes into row (one
// shorter) each hop's time less the one before, as far as it looked.
func cleanRow(hp []uint16, ds []uint32, pts []int, row []int64) bool {
	n := len(row)
	if len(hp) != n+1 {
		return false
	}
	ds, pts = ds[:n+1], pts[:n+1]
	prev := ds[0]
	if int(hp[0]) != pts[0] || prev == dtBig {
		return false
	}
	for i := range row {
		d := ds[i+1]
		if int(hp[i+1]) != pts[i+1] || d == dtBig {
			return false
		}
		row[i], prev = int64(d)-int64(prev), d
	}
	return true
}

// tallyPoints tallies journey p's packets and bytes per point on its flow.
func (pl *placement) tallyPoints(p *placing) {
	pi, fl := p.pi, p.fl
	base, n := int(pl.jStart[p.j]), int(pl.jStart[p.j+1]-pl.jStart[p.j])
	pp, size := fl.perPoint, int64(p.o0.Len) // the IP packet's length, the same at every point
	// k is the tally of the hop before: a flow's journeys cross its points in the same order, or the
	// reverse.
	k := -1
	for _, hp := range pl.hopPt[base : base+n] {
		pt := int32(hp)
		switch {
		case k+1 < len(pp) && pp[k+1].point == pt:
			k++
		case k > 0 && pp[k-1].point == pt:
			k--
		default:
			k = 0
			for k < len(pp) && pp[k].point != pt {
				k++
			}
		}
		if k == len(pp) {
			if pp == nil { // room for its path's points or this journey's, the more
				pp = carve(&pl.tallies, max(len(pi.points), n))
			}
			pp = append(pp, pointTally{point: pt})
			fl.perPoint = pp
		}
		pp[k].packets++
		pp[k].bytes += size
	}
}

// dirTally is what a flow direction's clean journeys (placing.clean) add to each point of its path:
// n packets and their bytes, counted once a journey and added to the flow's tallies once placement is
// done (addDirTallies). Its first clean journey made the tallies its path's points lacked (primed),
// as tallyPoints would have; when its path's points' tallies lie in a row, forwards or backwards
// (step 1 or -1, 0 when not), from the first point's (at), they are added to without a search.
type dirTally struct {
	n      uint32
	at     uint16
	step   int8
	primed bool
	bytes  int64
}

// tallyClean tallies clean journey p on its flow direction's dirTally, the first one making the
// tallies of its path's points that the flow lacks, in path order (the order of its hops, in which
// tallyPoints makes them).
func (pl *placement) tallyClean(p *placing) {
	t := &pl.dirTallies[p.fi<<1|int32(pl.jDir[p.j])]
	if !t.primed {
		pl.primeTallies(p, t)
	}
	t.n++
	t.bytes += int64(p.o0.Len)
}

// primeTallies makes the tallies of clean journey p's path's points that its flow lacks (a point its
// path crosses twice has one), and notes in t where its path's points' tallies lie.
func (pl *placement) primeTallies(p *placing, t *dirTally) {
	pts, fl := p.pi.points, p.fl
	t.primed = true
	pp := fl.perPoint
	if pp == nil { // the flow's first journey: room for its path's points, as tallyPoints makes
		pp = carve(&pl.tallies, len(pts))
		if pl.distinct[p.px] { // a tally for each point, in path order
			pp = pp[:len(pts)]
			for i, pt := range pts {
				pp[i] = pointTally{point: int32(pt)}
			}
			fl.perPoint, t.step = pp, 1
			return
		}
	}
	if n := len(pts); n == len(pp) && n <= math.MaxUint16 {
		// The usual flow's other direction: its path's points are the tallies', the reverse way (or
		// the same way), each once (a flow's tallies are of distinct points), as the search below
		// would find them.
		if sameTallies(pp, pts, 0, 1) {
			t.at, t.step = 0, 1
			return
		}
		if sameTallies(pp, pts, n-1, -1) {
			t.at, t.step = uint16(n-1), -1
			return
		}
	}
	k, step := -1, int8(0)
	for i, pt := range pts {
		at := tallyIndex(pp, k, int32(pt))
		if at == len(pp) {
			pp = append(pp, pointTally{point: int32(pt)})
			fl.perPoint = pp
		}
		switch {
		case i == 0:
			t.at, step = uint16(at), 1
			if at > math.MaxUint16 {
				step = 0
			}
		case i == 1 && step != 0 && at == k-1:
			step = -1
		case step != 0 && at != k+int(step):
			step = 0
		}
		k = at
	}
	t.step = step
}

// sameTallies reports whether tallies pp, from at by step, are of points pts in order.
func sameTallies(pp []pointTally, pts []int, at, step int) bool {
	for _, pt := range pts {
		if pp[at].point != int32(pt) {
			return false
		}
		at += step
	}
	return true
}

// distinct reports whether pts holds no point twice (a path may cross one twice: a NodePort's node).
func distinct(pts []int) bool {
	for i, p := range pts {
		if slices.Contains(pts[:i], p) {
			return false
		}
	}
	return true
}

// addDirTallies adds each flow direction's clean journeys' counts (dirTallies) to its flow's tallies
// of its path's points: once a flow for both directions when their paths' tallies are one row (the
// usual flow: one path's points, the other's the reverse way), the sums the same.
func (pl *placement) addDirTallies() {
	dts := pl.dirTallies
	for x := 0; x+1 < len(dts); x += 2 {
		t, u := &dts[x], &dts[x+1]
		if t.n == 0 && u.n == 0 {
			continue
		}
		fl := pl.flows[x>>1]
		if t.n != 0 && u.n != 0 { // (a direction without journeys has no path)
			pts, upts := pl.pathOf(fl, c2s).points, pl.pathOf(fl, s2c).points
			at, ok := t.row(len(pts))
			if uat, uok := u.row(len(upts)); ok && uok && uat == at && len(upts) == len(pts) {
				addRow(fl.perPoint[at:at+len(pts)], t.n+u.n, t.bytes+u.bytes)
				*t, *u = dirTally{}, dirTally{}
				continue
			}
		}
		pl.addDirTally(fl, t, c2s)
		pl.addDirTally(fl, u, s2c)
	}
}

// row returns where a flow direction's tallies of its path's n points begin in its flow's tallies,
// when they are in a row (step 1 or -1: from at on, or back from it).
func (t *dirTally) row(n int) (int, bool) {
	if t.step < 0 {
		return int(t.at) - (n - 1), true
	}
	return int(t.at), t.step != 0
}

// addRow adds n packets and their bytes b to each of tallies row.
func addRow(row []pointTally, n uint32, b int64) {
	for i := range row {
		row[i].packets += n
		row[i].bytes += b
	}
}

// addDirTally adds the clean journeys' counts of flow fl's direction d, t, to its tallies of its
// path's points, and clears t.
func (pl *placement) addDirTally(fl *flowAcc, t *dirTally, d uint8) {
	if t.n == 0 {
		return
	}
	pp, pts := fl.perPoint, pl.pathOf(fl, d).points
	if at, ok := t.row(len(pts)); ok { // its path's tallies in a row (the same sums either way)
		addRow(pp[at:at+len(pts)], t.n, t.bytes)
	} else {
		k := -1
		for _, pt := range pts {
			k = tallyIndex(pp, k, int32(pt))
			pp[k].packets += t.n
			pp[k].bytes += t.bytes
		}
	}
	*t = dirTally{}
}

// tallyIndex returns the index in pp of point pt's tally (len(pp) for none), looked for after k (the
// tally found before), before it, then from the start.
func tallyIndex(pp []pointTally, k int, pt int32) int {
	switch {
	case k+1 < len(pp) && pp[k+1].point == pt:
		return k + 1
	case k > 0 && pp[k-1].point == pt:
		return k - 1
	}
	k = 0
	for k < len(pp) && pp[k].point != pt {
		k++
	}
	return k
}

// Path shapes (placement.shape): what a path's points say of every journey on it.
const (
	// shapeEnds: the path has two points or more, its last a pod's veth (where it ends: nothing left
	// the captures past it), and that end is no blind one, so a clean journey on it (placing.clean),
	// unless it is a piece of a split or a merge or went on as such, is delivered (placeStatus).
	shapeEnds = 1 << iota
	// shapeOpenStart: the path has two points or more, its first is no pod's veth (something came
	// before it) and no blind one: a journey first seen there may have entered the captures from
	// outside them (openEndFinder.enteredUncaptured).
	shapeOpenStart
)

// pathShape returns the shape of path pi (nil: none).
func pathShape(w *world, pi *pathInfo) uint8 {
	if pi == nil || len(pi.points) < 2 {
		return 0
	}
	var s uint8
	if !pi.blindEnd && w.pointRole[pi.points[len(pi.points)-1]] == decode.RolePodVeth {
		s |= shapeEnds
	}
	if !pi.blindStart && w.pointRole[pi.points[0]] != decode.RolePodVeth {
		s |= shapeOpenStart
	}
	return s
}

// placeStatus decides journey p's status from how far along its path it was seen, and sets its last
// and next points. placeJourney gives the usual journey its status without a call: clean to its path's
// end (a pod's veth), no piece of a split or merge, parent or fragment (mayOffload false), it is
// delivered, as the cases below find it.
func (pl *placement) placeStatus(p *placing) statusCode {
	j, pi := p.j, p.pi
	offloaded := false
	var at uint32
	var parent bool
	if pl.mayOffload(int32(j)) {
		at, parent = pl.offloadAt[int32(j)]
		p.parent = parent || pl.fragOf[int32(j)] // counted on the segments with its pieces (familyCounts)
	} else if p.parent = false; p.clean && pl.shape[p.px]&shapeEnds != 0 {
		return stDelivered // the usual journey (placeJourney does not call for it): as the cases below find it
	}
	if parent {
		// Segmentation offload: the bytes went on as other journeys from this point (its passage past
		// the journey's reach, where the path crosses it twice).
		if i := pi.indexPast(pl.point(at), p.reach); i >= 0 && p.reached[i] < 0 {
			p.reached[i], p.when[i] = len(p.h)-1, pl.ts(at)
			p.first, p.reach = min(p.first, i), i
			offloaded = true
		}
	}
	reach := p.reach
	switch {
	case reach < 0:
		if h := p.h; len(pi.points) == 0 && pl.oe.leftCaptures(int32(j), pl.point(h[len(h)-1]), h[len(h)-1]) {
			// No point of its path is known (node addresses unknown): where it was last seen says what
			// the captures can say (ends.go).
			pl.jLast[j] = int32(pl.oe.found[len(pl.oe.found)-1].point)
			return stLeftCaptures
		}
		return stUnplaced
	case len(pi.points) == 1:
		return pl.onePointStatus(p)
	case offloaded && reach < len(pi.points)-1:
		pl.jLast[j] = int32(pi.points[reach])
		if pl.merged[int32(j)] {
			return stMerged
		}
		return stSplit
	case reach < len(pi.points)-1:
		nx := pi.points[reach+1]
		pl.jLast[j], pl.jNext[j] = int32(pi.points[reach]), int32(nx)
		n, refused := pl.refusedBy[int32(j)]
		switch {
		case pl.lateUnjoined[int32(j)] || pl.lateOrphans[int32(j)] || pl.natRev[int32(j)]:
			// Seen again past a too small --window but not joined (or the later half of such a packet,
			// whose place on its path is unknown): where it went is unknown (window-too-small says
			// so), never a confident loss.
			return stNotCaptured
		case nx == pi.points[reach]:
			// Its path crosses this point twice in a row: the packet leaves by it for a node no capture
			// shows and comes back rewritten (a NodePort's DNAT and masquerade there). Its rewritten half
			// not found is no place it was lost: a half the matcher could not join is not captured.
			return stNotCaptured
		case !(refused && n == pl.w.pointNode[pi.points[reach]]) && pl.capDrop.dropping(nx, p.when[reach], int64(pl.opts.Window), pl.cutFit(p)) || pl.wgStands(p):
			// The next point's capture was dropping then (or an untied message may be it: wgstand.go): it may have crossed it unseen.
			return stNotCaptured
		case pl.covered(nx, p.when[reach]):
			return pl.lostUnlessArrived(p, nx) // atdest.go
		case refused && n == pl.w.pointNode[pi.points[reach]]:
			// The node it was last seen on refused it and said so with an ICMP error: lost there,
			// however close to the end of the captures.
			return stLost
		case pl.wgRanPast(p.h[p.reached[reach]], nx):
			// A WireGuard message whose session's later counters reached the next point: lost
			// there, however close to the end of the captures (wgranpast.go).
			return stLost
		default:
			return stNotCaptured
		}
	case pl.w.pointRole[pi.points[reach]] != decode.RolePodVeth && pl.oe.leftCaptures(int32(j), pi.points[reach], p.h[p.reached[reach]]): // (a pod's veth: its end)
		pl.jLast[j] = int32(pl.oe.found[len(pl.oe.found)-1].point) // where it left: past the path's end when seen there
		return stLeftCaptures
	}
	if pi.blindEnd { // its end was taken out of the path, blind to it: whether it arrived is unknown
		pl.jLast[j] = int32(pi.points[reach])
		return stNotCaptured
	}
	return stDelivered
}

// countSegments counts journey p on each segment of its path it crossed. Counts are in packets as
// their source sent them: a journey that was split into pieces (or merged by GRO), and the pieces, are
// counted on segments together once their outcome is settled (familyCounts). Latency is sampled per
// frame on the wire.
func (pl *placement) countSegments(p *placing) {
	if p.clean { // it crossed every segment: counted on its path's (countClean), its latencies in a loop of their own
		pl.countClean(p)
		return
	}
	reached, when, family, size := p.reached, p.when, p.piece || p.parent, passLen(p.o0) // not read again through p
	segs := pl.segsFor(p)
	for i := max(p.first, 0); i < p.reach; i++ {
		ps := &segs[i]
		if reached[i] < 0 {
			continue
		}
		if ps.s == nil {
			pl.pathSeg(p, i)
		}
		s := ps.s
		if !family {
			s.packets++
		}
		if reached[i+1] < 0 {
			if !family {
				s.notCaptured++
				s.holes++
			}
			continue
		}
		if !family {
			s.delivered++
		}
		s.passMaxLen = max(s.passMaxLen, size)
		lat := when[i+1] - when[i]
		if lat < ps.neg {
			s.negative++ // beyond what the clocks' uncertainty explains
		}
		s.lat.add(lat) // (on the line main's profile has it, from the func: PGO inlines it here)
	}
}

// countClean is countSegments for clean journey p (placing.clean): it crossed every segment of its
// path, so what it adds to them is its latency on each (its packets, deliveries and largest size are
// counted on its path: cleanCount, here, without a call). The latencies wait in the path's lats, a
// row a journey, until cleanBatch journeys' are there (or placement is done: addCleanCounts), and
// are then added a segment at a time (addCleanLats), the accumulator's fields in registers: the order
// a segment's latencies are added in is not seen in what it gives (latAcc.addEvery). A path of one
// point has no segment: nothing is counted on it.
func (pl *placement) countClean(p *placing) {
	if p.reach <= 0 {
		return
	}
	pc := &pl.pathCounts[p.px]
	c := &pc.clean
	if !c.made {
		pl.segsMade(p, pc)
	}
	if !p.piece && !p.parent {
		c.n++
	}
	c.maxLen = max(c.maxLen, passLen(p.o0))
	at := int(c.nLat) * len(pc.segs)
	row := pc.lats[at : at+len(pc.segs)]
	when := p.when[:len(row)+1]
	for i := range row {
		row[i] = when[i+1] - when[i]
	}
	if c.nLat++; c.nLat == cleanBatch {
		pl.addCleanLats(pc)
	}
}

// cleanBatch is how many clean journeys' latencies a path holds (pathCount.lats) before they are
// added to its segments: each batch costs a call of addEvery and its loops' set-up a segment (about
// 100 instructions), and takes 8 bytes a segment a journey (10 KiB for a path of 5 segments).
const cleanBatch = 256

// addCleanLats adds the latencies that wait in pc.lats to their segments (countClean), and counts
// those below what the clocks' uncertainty explains.
func (pl *placement) addCleanLats(pc *pathCount) {
	n := len(pc.segs)
	lats := pc.lats[:int(pc.clean.nLat)*n]
	for i := range pc.segs {
		ps := &pc.segs[i]
		ps.s.negative += ps.s.lat.addEvery(lats[i:], n, ps.neg)
	}
	pc.clean.nLat = 0
}

// segsFor returns the segments of journey p's path, made on first use, for a journey that is not
// clean (placing.clean; countClean counts those).
func (pl *placement) segsFor(p *placing) []pathSeg {
	pc := &pl.pathCounts[p.px]
	if p.reach > 0 && pc.segs == nil {
		return pl.segsMade(p, pc)
	}
	return pc.segs
}

// segsMade makes the segments of journey p's path, pc's (segsFor, countClean): their list, and for a
// clean journey each of them.
func (pl *placement) segsMade(p *placing, pc *pathCount) []pathSeg {
	if pc.segs == nil {
		pc.segs = make([]pathSeg, len(p.pi.points)-1)
	}
	if p.clean {
		for i := range pc.segs {
			if pc.segs[i].s == nil {
				pl.pathSeg(p, i)
			}
		}
		pc.clean.made = true
		pc.lats = make([]int64, len(pc.segs)*cleanBatch)
		pc.run, pc.pts = pl.shape[p.px]&(shapeEnds|shapeOpenStart) == shapeEnds, p.pi.points
		if pl.hopTs.bigNone() {
			pc.key = hopsKeyOf(pc.pts)
		}
	}
	return pc.segs
}

// cleanCount is what a path's clean journeys (placing.clean) added to each of its segments, counted
// by countClean on one of placement's segment counters: n packets, each delivered (those not pieces of
// a split or merge), and the largest size that passed. made: every segment of the path is made (and
// its lats); nLat: the journeys whose latencies wait in the path's lats.
type cleanCount struct {
	n, maxLen int
	nLat      int32
	made      bool
}

// pathCount is what one of placement's segment counters keeps of a path: its segments' accumulators
// (filled in on first use: pathSeg) and what its clean journeys added to them (clean, until
// addCleanCounts), with the latencies of its last clean journeys not yet added to the segments (lats:
// a row of a latency a segment for each of clean.nLat journeys, room for cleanBatch).
type pathCount struct {
	segs  []pathSeg
	clean cleanCount
	lats  []int64
	// run: placeClean may place a run's journeys on the path (its shape is shapeEnds alone, and its
	// segments and lats are made: set with clean.made); pts: its points, and key their hopsKey (n 0
	// for none), for placeClean's test of a journey's hops: only while no hop's time is in hopTs's
	// side map (hopTimes.bigNone, which stays so through placement: the fill alone adds to it), so that
	// a journey tested by key needs no test of its times for dtBig
	run bool
	pts []int
	key hopsKey
}

// newPathCounts returns the pathCounts of n paths, for one of placement's segment counters. The two
// goroutines of placeTwo write theirs at every journey: a cache line of room before and after the
// counts keeps the two apart, and apart from whatever the allocator puts beside them.
func newPathCounts(n int) []pathCount {
	const pad = (64 + int(unsafe.Sizeof(pathCount{})) - 1) / int(unsafe.Sizeof(pathCount{}))
	return make([]pathCount, n+2*pad)[pad : pad+n : pad+n]
}

// addCleanCounts adds the paths' clean journeys' counts (cleanCount) to their segments: those of
// this placement's segment counter (pathCounts).
func (pl *placement) addCleanCounts() {
	for x := range pl.pathCounts {
		pc := &pl.pathCounts[x]
		if pc.clean == (cleanCount{}) {
			continue
		}
		c := &pc.clean
		if c.nLat > 0 {
			pl.addCleanLats(pc)
		}
		for _, ps := range pc.segs {
			s := ps.s
			s.packets += c.n
			s.delivered += c.n
			s.passMaxLen = max(s.passMaxLen, c.maxLen)
		}
		*c = cleanCount{}
	}
}

// passLen is what a journey with first sighting o passed its segments with, for their passMaxLen (which
// is never below 0): its length, or none (0) for a GSO/GRO frame, whose size is no packet's on the wire.
func passLen(o *decode.Observation) int {
	if o.Flags&decode.FlagGSO != 0 {
		return 0
	}
	return int(o.Len)
}

// pathSeg is a segment of a path as countSegments counts on it: its accumulator, and the latency
// below which a journey's is negative beyond what the clocks' uncertainty explains.
type pathSeg struct {
	s   *segAcc
	neg int64
}

// pathSeg fills in the i-th segment of journey p's path (pathCount.segs, made on first use: seg).
func (pl *placement) pathSeg(p *placing, i int) {
	pi := p.pi
	from, to := pi.points[i], pi.points[i+1]
	pl.pathCounts[p.px].segs[i] = pathSeg{s: pl.seg(from, to, pi, int32(p.j)), neg: -(negTolerance + pl.bound(from) + pl.bound(to))}
}

// countFlow counts journey p's outcome on its flow, and a loss on the segment it ended at. The flow
// counts what its source sent, so pieces of a split (and GRO merges) are settled with the journey they
// came from (settleOffload).
func (pl *placement) countFlow(p *placing, status statusCode) {
	fl, pi, piece, reach := p.fl, p.pi, p.piece, p.reach
	switch status {
	case stDelivered, stSplit, stMerged:
		if !piece {
			fl.delivered++
			if reach > p.first {
				if fl.e2e.n == 0 { // room for a sample per journey
					fl.e2e.samples = carve(&pl.lats, min(fl.nDir(c2s)+fl.nDir(s2c), exactSamples))
				}
				if lat := p.when[reach] - p.when[p.first]; !fl.e2e.addRoomy(lat) { // (the usual journey's: no call)
					fl.e2e.add(lat)
				}
				if pl.flowClocks != nil { // the journey's end nodes' clocks say what its latency is
					pl.countFlowClock(p)
				}
				if pl.flowLoose != nil && p.when[reach]-p.when[p.first] < pl.looseMax { // loose clocks at its
					pl.countFlowLoose(p) // end nodes may leave it uncertain
				}
			}
		}
	case stLost, stNotCaptured:
		if reach+1 >= len(pi.points) { // no segment to count it on (a one-point path)
			if !piece {
				fl.notCaptured++
			}
			break
		}
		if status == stLost && !piece {
			fl.lost++
			fl.lostAt.add(pi.points[reach], pi.points[reach+1], 1)
		}
		if status == stNotCaptured && !piece {
			fl.notCaptured++
		}
	case stLeftCaptures, stUnplaced: // no segment: it went on past the path's last point, beyond the
		// captures, or was seen only off its path; either way its fate was not captured
		if !piece {
			fl.notCaptured++
		}
	}
}

// countFlowClock counts delivered journey p's end-to-end latency on its flow's flowClock: what the
// clocks of the nodes of the first and the last points it reached make of it.
func (pl *placement) countFlowClock(p *placing) {
	pts := p.pi.points
	x, y := pl.w.pointNode[pts[p.first]], pl.w.pointNode[pts[p.reach]]
	pl.flowClocks[p.fi].add(pl.analysis, x, y)
	fd := pl.flowDirs[p.fi]
	if fd == nil {
		fd = &flowDirs{}
		pl.flowDirs[p.fi] = fd
	}
	d := pl.jDir[p.j]
	fd.fc[d].add(pl.analysis, x, y)
	fd.lat[d].add(p.when[p.reach] - p.when[p.first])
}

// countFlowLoose counts delivered journey p's end-to-end latency on its flow's flowLooseAcc: the
// uncertainty the clocks of the nodes of the first and the last points it reached leave on it, when
// it is at least the latency (pairLoose, as segLoose for a segment).
func (pl *placement) countFlowLoose(p *placing) {
	pts := p.pi.points
	pl.looseLat(p.fi, pts[p.first], pts[p.reach], p.when[p.reach]-p.when[p.first])
}

// looseLat is countFlowLoose for a delivered journey of flow fi first seen at point from and last at
// point to, with end-to-end latency lat.
func (pl *placement) looseLat(fi int32, from, to int, lat int64) {
	x, y := pl.w.pointNode[from], pl.w.pointNode[to]
	if b := pl.pairLoose(x, y); b > 0 && lat < b && b > pl.flowLoose[fi].b {
		pl.flowLoose[fi] = flowLooseAcc{b: b, x: int32(x), y: int32(y)}
	}
}

// countSegEnd counts journey p, lost or not captured, on the segment where it ended (countEnd): a
// packet that was split or merged on the way is counted there with its pieces (familyCounts). (Small
// enough to be inlined: a journey of any other status costs no call.)
func (pl *placement) countSegEnd(p *placing, status statusCode) {
	if status == stLost || status == stNotCaptured {
		pl.countSegLost(p, status)
	}
}

// countSegLost is countSegEnd for journey p lost or not captured.
func (pl *placement) countSegLost(p *placing, status statusCode) {
	pi, reach := p.pi, p.reach
	if reach+1 >= len(pi.points) {
		return
	}
	s := pl.seg(pi.points[reach], pi.points[reach+1], pi, int32(p.j))
	if !(p.piece || p.parent) {
		pl.countEnd(s, status, int32(p.j), p.fi, p.o0, p.last)
	}
}

// countEnd counts packet j on the segment where it ended, lost or not captured: o0 is its first
// frame (length, DF) and last its last frame before the segment (the evidence of a loss). A segment
// keeps the evidence of each flow's first lostEvidence losses in journey order: the packets that
// were split or merged on the way are counted after the others (familyCounts), so one of them may
// take the place of a later packet's.
func (pl *placement) countEnd(s *segAcc, status statusCode, j, fi int32, o0 *decode.Observation, last uint32) {
	s.packets++
	if status != stLost {
		s.notCaptured++
		return
	}
	s.lost++
	s.flows[fi]++
	if n, ok := pl.refusedBy[j]; ok && n == pl.w.pointNode[s.from] {
		s.refused++
	}
	// IPv6 routers never fragment (RFC 8200): every IPv6 packet is "don't fragment", and one too big
	// for a link is dropped with an ICMPv6 Packet Too Big, as IPv4's with DF is with ICMP 3/4.
	if o0.Flags&(decode.FlagDF|decode.FlagIPv6) != 0 {
		s.lostDF++
		if o0.Flags&decode.FlagIPv6 != 0 {
			s.lostV6++
		}
	}
	s.lostMaxLen = max(s.lostMaxLen, int(o0.Len))
	at := len(s.evidence) // where this packet's evidence goes
	if s.flows[fi] > lostEvidence {
		at = -1
		for i, e := range s.evidence { // the flow's latest kept loss, if later than j
			if e.flow == fi && e.j > j && (at < 0 || e.j > s.evidence[at].j) {
				at = i
			}
		}
		if at < 0 {
			return
		}
	}
	_, f := pl.obs(last)
	e := lossEv{fi, j, Evidence{File: pl.w.c.Files[f].Path, Frame: pl.w.frameOf(last)}}
	if at == len(s.evidence) {
		s.evidence = append(s.evidence, e)
	} else {
		s.evidence[at] = e
	}
	// Keep them in journey order (only a packet counted late lands before others).
	for i := len(s.evidence) - 1; i > 0 && s.evidence[i].j < s.evidence[i-1].j; i-- {
		s.evidence[i], s.evidence[i-1] = s.evidence[i-1], s.evidence[i]
	}
}

// familyCounts counts on the segments each packet that was split by segmentation offload or merged by
// GRO, once per segment, as its source sent it: it entered a segment where it or one of the journeys
// it continued as was seen at the segment's start; it ended where settleOffload placed it (lost or not
// captured there, and is not counted on the segments after, even where other pieces of it went on),
// and passed every other segment it entered where the next point saw it or its pieces (otherwise not
// captured there). A lost packet's length, DF bit and evidence are those of the piece that was lost.
func (pl *placement) familyCounts() {
	if len(pl.journeys.gso) == 0 {
		return
	}
	fc := &familyScratch{children: map[int32][]int32{}, seen: map[int32]bool{}}
	var roots []int32
	for _, ev := range pl.journeys.gso {
		if len(fc.children[ev.parent]) == 0 && !pl.offloadNew[ev.parent] {
			roots = append(roots, ev.parent)
		}
		fc.children[ev.parent] = append(fc.children[ev.parent], ev.child)
	}
	sort.Slice(roots, func(i, j int) bool { return roots[i] < roots[j] })
	for _, r := range roots {
		fi := pl.jFlow[r]
		if fi < 0 {
			continue
		}
		pi := pl.pathOf(pl.flows[fi], pl.jDir[r])
		if pi == nil || len(pi.points) < 2 {
			continue
		}
		pl.familyOf(r, fc)
		pl.familyReach(pi, fc)
		pl.countFamily(r, fi, pi, fc)
	}
}

// familyScratch is familyCounts' state, reused from one packet to the next.
type familyScratch struct {
	children map[int32][]int32 // journey → the journeys it continued as
	seen     map[int32]bool
	members  []int32 // the family of the packet being counted
	queue    []int32
	reached  []bool // per path point: whether a member was seen there
}

// familyOf collects the family of root r in fc.members: r and every journey it continued as (children
// of children too), of its flow and direction, and the later IP fragments of its WireGuard messages.
func (pl *placement) familyOf(r int32, fc *familyScratch) {
	fc.members, fc.queue = fc.members[:0], append(fc.queue[:0], r)
	clear(fc.seen)
	fc.seen[r] = true
	for len(fc.queue) > 0 {
		m := fc.queue[0]
		fc.queue = fc.queue[1:]
		fc.members = append(fc.members, m)
		for _, c := range fc.children[m] {
			if !fc.seen[c] && (pl.fragChild[c] || pl.jFlow[c] == pl.jFlow[m] && pl.jDir[c] == pl.jDir[m]) {
				fc.seen[c] = true
				fc.queue = append(fc.queue, c)
			}
		}
	}
}

// familyReach marks in fc.reached the points of path pi where a member of the family was seen, or
// went on as other journeys.
func (pl *placement) familyReach(pi *pathInfo, fc *familyScratch) {
	fc.reached = fc.reached[:0]
	for range pi.points {
		fc.reached = append(fc.reached, false)
	}
	for _, m := range fc.members {
		for _, g := range pl.hops(int(m)) {
			if i := pi.index(pl.point(g)); i >= 0 {
				fc.reached[i] = true
			}
		}
		if at, ok := pl.offloadAt[m]; ok {
			if i := pi.index(pl.point(at)); i >= 0 {
				fc.reached[i] = true
			}
		}
	}
}

// countFamily counts the packet of root r (flow fi, path pi, its family in fc) on the segments of its
// path: where it ended as settleOffload placed it, and on every segment it entered before.
func (pl *placement) countFamily(r, fi int32, pi *pathInfo, fc *familyScratch) {
	end := -1 // the segment where the packet ended, by its start's index
	st := pl.jStatus[r]
	if (st == stLost || st == stNotCaptured) && pl.jLast[r] >= 0 && pl.jNext[r] >= 0 {
		if i := pi.index(int(pl.jLast[r])); i >= 0 && i+1 < len(pi.points) && pi.points[i+1] == int(pl.jNext[r]) {
			end = i
		}
	}
	last := -1
	for i, ok := range fc.reached {
		if ok {
			last = i
		}
	}
	for i := 0; i < len(pi.points)-1; i++ {
		if i == end {
			s := pl.seg(pi.points[i], pi.points[i+1], pi, r)
			o0, lastHop := pl.endOf(fc.members, r, st)
			pl.countEnd(s, st, r, fi, o0, lastHop)
			s.passMaxLen = max(s.passMaxLen, pl.piecesAt(fc.members, pi.points[i+1])) // its other pieces passed
			continue
		}
		if !fc.reached[i] || i >= last || (end >= 0 && i > end) {
			continue // not entered, or after the packet was lost (its other pieces go on uncounted)
		}
		s := pl.seg(pi.points[i], pi.points[i+1], pi, r)
		s.packets++
		if fc.reached[i+1] {
			s.delivered++
			s.passMaxLen = max(s.passMaxLen, pl.piecesAt(fc.members, pi.points[i+1]))
		} else {
			s.notCaptured++
			s.holes++
		}
	}
}

// piecesAt returns the largest packet among members seen at point pt first (a piece that crossed the
// segment into pt inside its frame), frames of GSO size left out: what the family shows passed there.
func (pl *placement) piecesAt(members []int32, pt int) int {
	n := 0
	for _, m := range members {
		h := pl.hops(int(m))
		if o, _ := pl.obs(pl.w.pktHop(h)); o.Flags&decode.FlagGSO == 0 && pl.point(h[0]) == pt {
			n = max(n, int(o.Len))
		}
	}
	return n
}

// endOf returns, for a packet of the family members (root r) that ended lost or not captured at
// r's settled place, the first frame of the piece that ended there and that piece's frame at the
// place's start; r's own when no piece did.
func (pl *placement) endOf(members []int32, r int32, st statusCode) (*decode.Observation, uint32) {
	pick := r
	for _, m := range members {
		if _, parent := pl.offloadAt[m]; !parent && pl.jStatus[m] == st && pl.jLast[m] == pl.jLast[r] && pl.jNext[m] == pl.jNext[r] {
			pick = m
			break
		}
	}
	h := pl.hops(int(pick))
	o0, _ := pl.obs(pl.w.pktHop(h))
	if pick == r && o0.Flags&decode.FlagGSO != 0 {
		// Bytes of the frame that no piece holds vanished where it was split (unseenPiece): a piece
		// as large as the largest seen went missing, not the frame, whose size is no packet's.
		for _, m := range members {
			if m == r || pl.jFlow[m] != pl.jFlow[r] || pl.jDir[m] != pl.jDir[r] {
				continue
			}
			if mo, _ := pl.obs(pl.w.pktHop(pl.hops(int(m)))); mo.Flags&decode.FlagGSO == 0 && (o0.Flags&decode.FlagGSO != 0 || mo.Len > o0.Len) {
				o0 = mo
			}
		}
	}
	last := h[len(h)-1]
	for _, g := range h {
		if int32(pl.point(g)) == pl.jLast[r] {
			last = g
			break
		}
	}
	return o0, last
}

// lostBefore says whether journey c stopped earlier on its path than journey w; false when either
// place is unknown. Both are of one flow direction, on its path, unless one is a WireGuard message's
// later IP fragment (of the nodes' UDP flow): then both places are compared on pi, the message's path.
func (pl *placement) lostBefore(c, w int32, pi *pathInfo) bool {
	fc, fw := pl.jFlow[c], pl.jFlow[w]
	if fc < 0 || fw < 0 || pl.jLast[c] < 0 || pl.jLast[w] < 0 {
		return false
	}
	if !pl.fragChild[c] && !pl.fragChild[w] {
		if fc != fw || pl.jDir[c] != pl.jDir[w] {
			return false
		}
		pi = pl.pathOf(pl.flows[fc], pl.jDir[c])
	}
	if pi == nil {
		return false
	}
	pc, pw := pi.index(int(pl.jLast[c])), pi.index(int(pl.jLast[w]))
	return pc >= 0 && pw >= 0 && pc < pw
}

// bound is the clock uncertainty of a point's node (0 for the reference and when unbounded).
func (pl *placement) bound(p int) int64 {
	return max(pl.clocks[pl.w.pointNode[p]].bound, 0)
}

// icmpStatus judges an ICMP error's journey: delivered when its last hop is on the node its destination
// belongs to (a node IP, or a pod of that node), lost at its last point otherwise, unplaced when the
// destination's node is unknown.
func (pl *placement) icmpStatus(h []uint32, j int32) statusCode {
	first, _ := pl.obs(pl.w.pktHop(h))
	last := pl.point(h[len(h)-1])
	n := pl.w.nodeOf(first.Flags&decode.FlagIPv6 != 0, first.Dst)
	switch {
	case n < 0:
		return stUnplaced
	case pl.w.pointNode[last] == n:
		return stDelivered
	}
	pl.jLast[j] = int32(last)
	return stLost
}

// placeJourneys decides each journey's status against its path and accounts segments and flows. It
// returns its output, and the Result's journeys (IDs only, rendered later) when asked for.
func placeJourneys(a *analysis) (*placementOut, []Journey) {
	pl := newPlacement(a)
	if a.shownClocks {
		a.flowClocks = make([]flowClock, len(a.flows))
		a.flowDirs = make([]*flowDirs, len(a.flows))
	}
	if a.looseClocks {
		a.flowLoose = make([]flowLooseAcc, len(a.flows))
	}
	var out []Journey
	if a.opts.Journeys {
		out = make([]Journey, 0, a.nJ)
	}
	p := &placing{}
	pl.prereadAcks()    // acked.go
	if !pl.placeTwo() { // else placed on two goroutines (placepar.go)
		pl.sa = pl.startSegCounter(stageChunk(&a.opts, segChunk))
		if pl.sa.p == nil { // (a segment counter of its own reads the hops of the journeys it is handed later)
			pl.hd = newHopDropper(pl, 0, a.nJ)
		}
		fast, nf := pl.cleanRuns(), int32(len(a.flows))
		fillNone(pl.jLast)
		fillNone(pl.jNext)
		for j := 0; j < a.nJ; j++ {
			placed := false
			if fast { // a run of the usual clean journeys up to the next trimAt or report; then the first it left
				end := runEnd(j, a.nJ)
				if j = pl.placeClean(p, j, end, 0, nf); j == end {
					j, placed = end-1, true
				}
			}
			if !placed && a.jFlow[j] >= 0 {
				pl.placeJourney(j, p)
			}
			a.w.trimAt(j) // the journeys' sightings lie across all the frames
			if pl.hd.every(j) {
				pl.hd.passed(0, j+1)
			}
		}
		pl.sa.wait()
		pl.addCleanCounts()
	}
	pl.addDirTallies()
	pl.pathCounts = nil
	pl.settleOffload()
	pl.familyCounts()
	if a.opts.Journeys {
		out = out[:0]
		for j := 0; j < a.nJ; j++ {
			if a.jFlow[j] >= 0 {
				out = append(out, Journey{ID: j})
			}
		}
	}
	a.natStats()
	a.natOpeners()
	pl.openEnds = pl.oe.found
	return pl.placementOut, out
}

// settleOffload gives a split GSO frame (or a segment merged by GRO) the outcome of the journeys it
// continued as: lost where one of them was lost (the earliest such place on the path, where the frame
// first lost data), else not captured if one was, else delivered (its status stays split or merged).
// The flow's counts move with it.
func (pl *placement) settleOffload() {
	rank := func(c statusCode) int {
		switch c {
		case stLost:
			return 2
		case stNotCaptured, stLeftCaptures:
			return 1
		}
		return 0
	}
	children := map[int32][]int32{}
	for _, ev := range pl.journeys.gso {
		children[ev.parent] = append(children[ev.parent], ev.child)
	}
	for _, p := range settleOrder(children, len(pl.fragOf) > 0) {
		var pi *pathInfo // p's path: where its pieces stopped is compared on it
		if pl.jFlow[p] >= 0 {
			pi = pl.pathOf(pl.flows[pl.jFlow[p]], pl.jDir[p])
		}
		c := int32(-1)
		past := pl.furthest(p, pi)
		for _, x := range children[p] {
			if past >= 0 && !pl.fragOf[p] && rank(pl.jStatus[x]) > 0 && pl.jLast[x] >= 0 && pi.index(int(pl.jLast[x])) < past {
				// p itself was seen again past where x stopped: GRO on the way made p's frame again
				// from its pieces (its exact fingerprint: every byte of it), so none was lost.
				continue
			}
			if c < 0 {
				c = x
				continue
			}
			rx, rc := rank(pl.jStatus[x]), rank(pl.jStatus[c])
			if rx > rc || (rx == rc && rx > 0 && pl.lostBefore(x, c, pi)) {
				c = x
			}
		}
		if c < 0 {
			continue
		}
		if own := pl.jStatus[p]; pl.fragOf[p] && (rank(pl.jStatus[c]) < rank(own) || rank(pl.jStatus[c]) == rank(own) &&
			!(own == stLost && pl.lostBefore(c, p, pi))) {
			continue // a message with later fragments keeps its own outcome unless a fragment's is worse
		}
		st, last, next := pl.jStatus[c], pl.jLast[c], pl.jNext[c]
		if vs, vl, vn, ok := pl.unseenPiece(p, children[p], pi, past); ok && rank(vs) >= rank(st) {
			st, last, next = vs, vl, vn // bytes of p no piece holds vanished where it was split
		}
		if rank(st) == 0 || pl.jFlow[p] < 0 {
			continue
		}
		st = pl.unjoinedLoss(p, st)
		if pl.offloadNew[p] { // a piece itself: its outcome is its root's to count
			pl.jStatus[p], pl.jLast[p], pl.jNext[p] = st, last, next
			continue
		}
		fl := pl.flows[pl.jFlow[p]]
		switch pl.jStatus[p] { // undo what the parent was counted as
		case stSplit, stMerged, stDelivered:
			fl.delivered--
		case stLost:
			fl.lost--
			if from, to := int(pl.jLast[p]), int(pl.jNext[p]); from >= 0 && to >= 0 {
				fl.lostAt.add(from, to, -1)
			}
		case stNotCaptured, stLeftCaptures:
			fl.notCaptured--
		}
		pl.jStatus[p], pl.jLast[p], pl.jNext[p] = st, last, next
		if st == stLost {
			fl.lost++
			if last >= 0 && next >= 0 {
				fl.lostAt.add(int(last), int(next), 1)
			}
		} else {
			fl.notCaptured++
		}
	}
}

// unjoinedLoss is the status of family root p whose pieces' outcome is st: not captured for a loss
// when p is a half of a packet a too small --window split and joinLate could not join (lateUnjoined,
// lateOrphans), whose loss is no confident one (as placeStatus has it for the half itself).
func (pl *placement) unjoinedLoss(p int32, st statusCode) statusCode {
	if st == stLost && (pl.lateUnjoined[p] || pl.lateOrphans[p] || pl.natRev[p]) {
		return stNotCaptured
	}
	return st
}

// unseenPiece reports where the bytes of split frame p (its pieces kids, furthest its own furthest
// index on path pi) that no piece holds vanished: a piece lost right where the frame was segmented
// (TSO on the sender's NIC, a piece lost on the wire before the next point) is no journey, and the
// pieces seen would make the frame look delivered. It is lost on the segment from p's last point to
// the next, where the other pieces were first seen (not captured when that point's capture did not
// run then, or dropped). ok is false when the pieces hold every byte, p was merged, is a message with
// fragments or went on as packets of another flow (WireGuard messages), or was seen again past where
// it was split (GRO made it again: every byte went on).
func (pl *placement) unseenPiece(p int32, kids []int32, pi *pathInfo, furthest int) (statusCode, int32, int32, bool) {
	at, split := pl.offloadAt[p]
	if !split || pl.merged[p] || pl.fragOf[p] || pi == nil || furthest < 0 || furthest+1 >= len(pi.points) ||
		pi.index(pl.point(at)) != furthest+1 {
		return 0, 0, 0, false
	}
	h := pl.hops(int(p))
	o, _ := pl.obs(pl.w.pktHop(h))
	n := uint32(o.PayloadLen())
	if o.Proto != 6 || n == 0 {
		return 0, 0, 0, false
	}
	type span struct{ from, to uint32 }
	var spans []span
	for _, k := range kids {
		if pl.jFlow[k] != pl.jFlow[p] || pl.jDir[k] != pl.jDir[p] {
			return 0, 0, 0, false // carried on as other packets (WireGuard messages): not pieces to add up
		}
		ko, _ := pl.obs(pl.w.pktHop(pl.hops(int(k))))
		if off := ko.Seq - o.Seq; off < n {
			spans = append(spans, span{off, min(off+uint32(ko.PayloadLen()), n)})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
	end := uint32(0)
	for _, s := range spans {
		if s.from > end {
			break
		}
		end = max(end, s.to)
	}
	if end >= n {
		return 0, 0, 0, false
	}
	from, to := pi.points[furthest], pi.points[furthest+1]
	t := int64(0)
	for _, g := range h {
		if pl.point(g) == from {
			t = pl.ts(g)
		}
	}
	st := stNotCaptured
	if from != to && pl.covered(to, t) && !pl.capDrop.dropping(to, t, int64(pl.opts.Window), pl.pieceCutFit(p, o, pi)) {
		st = stLost
	}
	return st, int32(from), int32(to), true
}

// furthest returns the index on path pi of the furthest point journey j itself was seen at (-1: none,
// or no path).
func (pl *placement) furthest(j int32, pi *pathInfo) int {
	far := -1
	if pi == nil {
		return far
	}
	for _, g := range pl.hops(int(j)) {
		far = max(far, pi.index(pl.point(g)))
	}
	return far
}

// settleOrder returns the journeys that continued as others (children: journey → those others) in
// the order settleOffload settles them. Latest first: a journey continues only as later ones, so a
// parent that is itself a piece of an earlier journey (a GRO merge split again, a packet split twice
// by a short --window) is settled before the journey it continues, and passes its outcome on. A
// message's later IP fragments (frag events) may be older journeys than their message: each parent
// comes after its children that are parents themselves (frags: there are such events).
func settleOrder(children map[int32][]int32, frags bool) []int32 {
	parents := make([]int32, 0, len(children))
	for p := range children {
		parents = append(parents, p)
	}
	sort.Slice(parents, func(i, j int) bool { return parents[i] > parents[j] })
	if !frags {
		return parents
	}
	order := make([]int32, 0, len(parents))
	visited := make(map[int32]bool, len(parents))
	var visit func(p int32)
	visit = func(p int32) {
		if visited[p] {
			return
		}
		visited[p] = true
		for _, x := range children[p] {
			if _, ok := children[x]; ok {
				visit(x)
			}
		}
		order = append(order, p)
	}
	for _, p := range parents {
		visit(p)
	}
	return order
}

// carve hands out an empty slice with room for n from *slab (taking a new block when it is short), so
// that many small lists share a few allocations; appending past n moves the list out on its own.
func carve[T any](slab *[]T, n int) []T {
	if cap(*slab)-len(*slab) < n {
		*slab = make([]T, 0, max(n, 4096))
	}
	l := len(*slab)
	*slab = (*slab)[:l+n]
	return (*slab)[l : l : l+n]
}
