package correlate

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/calipath/calipath/decode"
)

// clockModel corrects one node's timestamps: corrected = raw − offset − drift×(raw − t0).
type clockModel struct {
	offset  int64
	drift   float64 // seconds per second (ppm × 1e-6)
	t0      int64
	bound   int64 // ± ns; -1 unbounded on one side
	method  string
	samples int
	// blind: packets crossed between this node and others, but none could be put down to a sending
	// node (their sources are no known pod's or node IP), so the clock is not corrected (see blindNodes).
	blind bool
	// steps: the clock stepped during the capture (clockstep.go), up to maxSteps times, in the order
	// found; each one's times from its at on (its own, with the earlier ones taken off) are moved back
	// by its size first. None without a step: nothing moves.
	steps []*clockStep
	// tied: steps the samples show of this node or of another (tiedWith) that nothing tells apart:
	// not corrected (findStep), said in the clock-step warning, and its losses about then uncertain.
	tied []*clockStep
	// In a capture source's copy (the matcher's srcClock, newMatcher), the steps by the index of its
	// file's first frame after each (correctAt): stepIdx and stepSize the earliest (stepIdx past every
	// frame without one), idxSteps the others, in order.
	stepIdx  int
	stepSize int64
	idxSteps []stepOff
	// disagree: fitted against its neighbours both ways, no offset fits every sample, which disagree
	// by this much (fitBound); 0 when one fits them all. clockUnfit hedges the drops it may have made.
	disagree int64
	// open: for a clock the samples bound on one side only (bound -1, set by oneSided), which side:
	// sideUpper when its true offset is at most the one taken, sideLower when at least; openBy the nodes
	// whose packets bound it. sideNone for every other clock. segClock (segclock.go) reads them.
	// openVia is 1 + the node whose packet set the limit (0: none known): the latencies between the two
	// are bounds even when both clocks are one-sided.
	// hull: for such a clock, its limit at each moment (oneSided): the offset between two vertices is
	// on the line through them, beyond the ends on the end segments'; nil for every other clock.
	open    clockSide
	openBy  []int
	openVia int
	hull    []hullPt
	hullUp  bool // the hull's limits are from above (sideUpper)
	// jump: for such a clock, where its limits leave every line within maxDrift (limitsJump); jumped
	// says there is one. Its limit is then no bound: latencies it bounds are not given (chainNext).
	jump   limitJump
	jumped bool
}

func (m *clockModel) correct(t int64) int64 {
	return m.unskew(m.unstep(t, 0))
}

// unstep takes the steps from the k-th on off t, by time.
func (m *clockModel) unstep(t int64, k int) int64 {
	for _, st := range m.steps[k:] {
		if t >= st.at {
			t -= st.size
		}
	}
	return t
}

// stepOff is a step of a capture source's clock from its file's idx-th frame on.
type stepOff struct {
	idx  int
	size int64
}

// correctAt corrects the time t of its file's i-th frame: a step is taken off from the file's first
// frame after it (stepIdx, per capture source), not by time, which after a step back is used twice.
// The common clock (no step up to frame i, no drift) is corrected inline, here; the others, a
// one-sided clock's limit among them (unskewHull), in correctAtSlow.
func (m *clockModel) correctAt(t int64, i int) int64 {
	if i < m.stepIdx && m.drift == 0 {
		return t - m.offset
	}
	return m.correctAtSlow(t, i)
}

// correctAtSlow is correctAt for a clock that stepped before frame i or drifts.
func (m *clockModel) correctAtSlow(t int64, i int) int64 {
	if i >= m.stepIdx {
		t -= m.stepSize
		for _, s := range m.idxSteps {
			if i >= s.idx {
				t -= s.size
			}
		}
	}
	return m.unskew(t)
}

// unskew takes the offset and the drift off t: a one-sided clock's limit at t (unskewHull) for one
// bounded on one side only, whose drift is never 0 (setHull).
func (m *clockModel) unskew(t int64) int64 {
	if m.drift == 0 {
		return t - m.offset
	}
	if m.hull != nil {
		return m.unskewHull(t)
	}
	// The drift runs on the reference clock: t − offset approximates it.
	return t - m.offset - int64(m.drift*float64(t-m.offset-m.t0))
}

// sightingSpan bounds how far apart one packet's sightings on one node may be.
const sightingSpan = int64(10 * time.Millisecond)

// maxClockSamples bounds the fingerprints kept for clock estimation.
const maxClockSamples = 1 << 17

type delaySample struct {
	t  int64  // sender's raw time
	m  int64  // receiver raw time − sender raw time
	fp uint64 // the packet's exact fingerprint (which frames a clock step places: clockstep.go)
}

// estimateClocks estimates every node's clock against the reference node (the first node, by name,
// that exchanges packets with others) from packets seen at both ends of the underlay.
func (w *world) estimateClocks(overrides map[string]time.Duration) []clockModel {
	return w.estimateClocksAvoid(overrides, overrides)
}

// estimateClocksAvoid is estimateClocks with the reference picked, where possible, among the nodes
// avoid does not name: a node given --offset is not the reference, since its offset is meant against
// the other nodes (with it as the reference, every estimate moved with it and each node was reported
// as that far off the reference, whose clock it shares).
func (w *world) estimateClocksAvoid(overrides, avoid map[string]time.Duration) []clockModel {
	nn := len(w.nodes)
	edge, total, t0 := w.clockEdges()
	refs := w.sampleRefs(edge, sampleRate(total))
	pkts, blind := w.clockPackets(refs, total)
	pairs := delayPairs(pkts)
	steps, _, blind, pairs := w.findSteps(refs, total, pkts, blind, pairs)
	if t0 == math.MaxInt64 {
		t0 = 0
	}
	models := make([]clockModel, nn)
	ref := w.propagateClocks(models, w.pairEstimates(pairs), overrides, avoid, t0)
	w.blindNodes(models, blind)
	anchors := []int{}
	for n := range models {
		if n == ref || models[n].method == "--offset" {
			anchors = append(anchors, n)
		}
	}
	side := clockSides(nn, pairs, anchors)
	stepped, drifts := make([]bool, nn), make([]bool, nn)
	for _, st := range steps {
		stepped[st.node], drifts[st.node] = true, drifts[st.node] || st.drifts
	}
	for n := range stepped {
		stepped[n] = stepped[n] && !drifts[n] // a clock whose steps were found across its drift: a line
	}
	w.jointFit(models, pairs, ref, t0, side, stepped)
	w.feasible(models, pairs, ref, side)
	w.oneSided(models, pairs, side, t0)
	for n := range models {
		if m := &models[n]; m.bound < 0 && m.open == sideNone && (side[n] == sideUpper || side[n] == sideLower) {
			m.open = side[n] // a one-way estimate oneSided did not set (propagateClocks)
		}
	}
	w.setSteps(models, steps)
	for _, st := range w.stepTies {
		models[st.node].tied = append(models[st.node].tied, st)
	}
	return models
}

// clockEdges marks the points nearest the wire on each node, and returns how many frames they hold
// and the first capture time of all (math.MaxInt64 when there is no frame). A node with none of those
// roles whose -i any capture named its interfaces by index only (any#N, role unknown: a router's
// cooked v2 capture without --links) has those as its edge: every one of a router's interfaces is on
// the wire, and without them its clock was left uncorrected while packets crossed it (negative hops
// next to it when its clock was off).
func (w *world) clockEdges() (edge []bool, total int, t0 int64) {
	edge = make([]bool, len(w.c.Points))
	found := make([]bool, len(w.nodes))
	for n := range w.nodes {
		for _, set := range [][]int{w.underlays[n], w.tunnels[n], w.podVeths[n], w.anys[n]} {
			if len(set) > 0 {
				for _, p := range set {
					edge[p] = true
				}
				found[n] = true
				break
			}
		}
	}
	for p, pt := range w.c.Points {
		if n := w.pointNode[p]; n >= 0 && n < len(found) && !found[n] && w.pointRole[p] == decode.RoleUnknown &&
			strings.HasPrefix(pt.Iface, "any#") {
			edge[p] = true
		}
	}
	// Frame counts and the first time come from the points' traffic, counted while decoding.
	t0 = math.MaxInt64
	for p := range w.c.Points {
		if tr := &w.c.Points[p].Traffic; tr.Frames > 0 {
			t0 = min(t0, tr.First)
			if edge[p] {
				total += tr.Frames
			}
		}
	}
	return edge, total, t0
}

// clockSight is a sampled packet's sightings on one node: its first (ingress) and last (egress) time at
// the node's edge points.
type clockSight struct {
	node        int
	first, last int64
	ttl         uint8 // the highest TTL seen on the node (outer when encapsulated): as it came in
	key         uint32
	same        int   // frames merged in from the first frame's source, encapsulation and TTL (see ambiguousKey)
	keyLast     int64 // the latest of those frames' times
}

// clockPkt is a sampled packet: the sender comes first on the path, the receiver (the destination's
// node) last, any other node (a router) between them.
type clockPkt struct {
	sender, receiver int
	seen             []clockSight
	ambiguous        bool   // identical packets: see ambiguousKey
	loose            uint64 // its NAT-tolerant fingerprint (for blindSeen)
}

// sampleRate is the rate the NAT-tolerant fingerprints of the edge frames are sampled at: about
// maxClockSamples of total frames.
func sampleRate(total int) uint64 {
	if total > maxClockSamples {
		return uint64(total/maxClockSamples) + 1
	}
	return 1
}

// clockPackets collects the sampled edge frames (clockRefs) into packets, their sightings per node,
// keyed by exact fingerprint. The sampled packets whose sending node is unknown are left out; blind
// gives the nodes each was seen on, by NAT-tolerant fingerprint (see blindNodes). The sampled frames
// are taken in order of capture time, then point, not in the files' order: which sightings of a packet
// are merged, and which node sends it, do not depend on the order the files were named in.
func (w *world) clockPackets(refs []clockRef, total int) (pkts clockPkts, blind map[uint64]uint64) {
	list := w.samplePackets(refs, min(total, maxClockSamples))
	// A packet none of whose sampled frames names its sending node is left out, and noted as blind on
	// every node it was seen on.
	kept := list[:0]
	for _, x := range list {
		if x.p.sender >= 0 {
			kept = append(kept, x)
			continue
		}
		for _, s := range x.p.seen {
			blind = w.blindSeen(blind, x.p.loose, s.node)
		}
	}
	pkts = clockPkts{list: kept, idx: newFpIndex(len(kept))}
	for i, x := range kept {
		*pkts.idx.slot(x.fp, kept) = int32(i + 1)
	}
	return pkts, blind
}

// clockPkts is the sampled packets: list in no particular order (each fingerprint once), and idx,
// which finds them by fingerprint.
type clockPkts struct {
	list []fpPkt
	idx  fpIndex
}

// get returns the sampled packet with fingerprint fp, which must be one.
func (c *clockPkts) get(fp uint64) *clockPkt { return c.list[*c.idx.slot(fp, c.list)-1].p }

// clockRef is a sampled edge frame: frame i of file f, seen at point at time ts (as recorded).
type clockRef struct {
	ts    int64
	f, i  uint32
	point int32
	ttl   uint8
	flags decode.Flags
}

// clockRefs appends, in file order and within a file in frame order, the edge frames among [from,
// to) of the edge files' frames counted end to end in file order (edgeRange) whose NAT-tolerant
// fingerprint the sampling rate keeps (the same packets at every point of their path). One loop over
// the edge frames, a piece of them at a time.
func (w *world) clockRefs(edge, edgeFile []bool, rate uint64, from, to int) []clockRef {
	// About one frame in rate is sampled: room for a little more than that, so that the list is not
	// grown (and copied) a score of times.
	n := uint64(to-from) / rate
	refs, at := make([]clockRef, 0, n+n/8+64), 0 // at: the first edge frame of the file, counted end to end
	for f, obs := range w.c.Obs {
		lo, hi := edgeRange(edgeFile[f], &at, len(obs), from, to)
		if lo >= hi {
			continue
		}
		loose, stamps := &w.c.Loose[f], &w.c.Stamps[f]
		for i := lo; i < hi; {
			// A piece of the frames within one trimRun, and so within one chunk of the fingerprints
			// (FingerprintChunk, a multiple of trimRun): the fingerprint is read from the chunk's slice,
			// and first, as the sampling rate passes over most frames on it alone.
			end := min(i|(trimRun-1)+1, hi)
			at := i % decode.FingerprintChunk
			lfs, piece := loose.Chunks[i/decode.FingerprintChunk][at:at+end-i], obs[i:end]
			for k, lf := range lfs {
				if lf%rate != 0 || lf == 0 { // 0: no sighting (an outer fragment)
					continue
				}
				o := &piece[k]
				pi := w.srcPoint[o.Source]
				if !edge[pi] || o.Flags&(decode.FlagNotIP|decode.FlagARP|decode.FlagNoPayloadHash) != 0 {
					continue
				}
				ts, plain := stamps.TsPlain(i+k, o) // Ts, inlined but for a block with a rebase
				if !plain {
					ts = stamps.Ts(i+k, o)
				}
				refs = append(refs, clockRef{ts, uint32(f), uint32(i + k), int32(pi), o.TTL, o.Flags})
			}
			w.trimAt(end - 1) // the piece's last frame: where trimAt looks
			i = end
		}
	}
	return refs
}

// A piece of clockRefs (up to a multiple of trimRun) lies within one chunk of the fingerprints.
var _ [0]struct{} = [decode.FingerprintChunk % trimRun]struct{}{}

// sortRefs orders sampled edge frames, in file order, by time, point, TTL and flags (refCmp), and
// returns them: in a new list when orderRefs can, in refs, sorted in place, when not.
func (w *world) sortRefs(refs []clockRef) []clockRef {
	if out := w.orderRefs(refs); out != nil {
		return out
	}
	// slices.SortFunc runs the same pattern-defeating quicksort as sort.Slice (one template), so equal
	// refs end in the same order as before; without sort.Slice's reflection swaps and closure calls.
	slices.SortFunc(refs, func(a, b clockRef) int { return refCmp(&a, &b) })
	return refs
}

// addSighting adds a sighting of p at time ts on node, with TTL ttl (frame o), to its sightings there.
func (p *clockPkt) addSighting(node int, ts int64, ttl uint8, o *decode.Observation) {
	found := false
	for k := range p.seen {
		if x := &p.seen[k]; x.node == node {
			found = true
			key := ambiguousKey(o, ttl)
			// Within one node a packet passes its edge points in microseconds; a sighting much
			// later is another packet with the same fingerprint (a resend with IP id 0).
			if ts-x.first < sightingSpan && x.last-ts < sightingSpan {
				x.first, x.last, x.ttl = min(x.first, ts), max(x.last, ts), max(x.ttl, ttl)
				if key == x.key {
					x.same++
					p.ambiguous = p.ambiguous || x.same >= ambiguousSame || abs64(ts-x.keyLast) > copyGap
					x.keyLast = ts
				}
			} else if key == x.key {
				p.ambiguous = true
			}
		}
	}
	if !found {
		p.seen = append(p.seen, clockSight{node, ts, ts, ttl, ambiguousKey(o, ttl), 1, ts})
	}
}

// delayPairs turns the sampled packets into delay samples per [upstream, downstream] node pair:
// sender (egress) → every other node (ingress), every router (egress) → the receiver, and each router →
// the next one, in the order the outer TTL gives (it falls by one per routed hop, whatever the clocks
// say). Each pair's samples are in the order of their packets' fingerprints (distinct). On more than
// one core, with pairsSplit packets or more, in two halves (delayPairsIn); else in one pass
// (addPackets).
func delayPairs(pkts clockPkts) map[[2]int][]delaySample {
	return delayPairsIn(pkts.list, runtime.GOMAXPROCS(0) > 1 && len(pkts.list) >= pairsSplit)
}

// pairsSplit is how many sampled packets make it worth turning them into samples on two goroutines.
const pairsSplit = 1 << 12

// delayPairsIn is delayPairs of the packets list. When split, the packets whose fingerprint's top bit
// is 0 and those whose top bit is 1 are each ordered and turned into samples on a goroutine of their
// own (the second beside), and each pair's samples joined, the first half's before the second's: the
// order of the fingerprints, as one pass gives it.
func delayPairsIn(list []fpPkt, split bool) map[[2]int][]delaySample {
	var lo pairSamples
	if !split {
		lo.addPackets(fpOrder(list))
		return lo.byPair()
	}
	var hi pairSamples
	wait := beside(func() { hi.addPackets(fpOrderHalf(list, 1)) })
	lo.addPackets(fpOrderHalf(list, 0))
	wait()
	return lo.joined(&hi)
}

// addPackets adds the samples of the sampled packets ordered (in the order of their fingerprints):
// delayPairs' loop.
func (ps *pairSamples) addPackets(ordered []fpPkt) {
	var routers []*clockSight
	for _, x := range ordered {
		fp, p := x.fp, x.p
		if p.ambiguous {
			continue
		}
		if len(p.seen) == 2 && p.seen[0].node != p.seen[1].node {
			// The usual packet, seen on two nodes: addPacket gives it one sample, from its sighting on
			// the sender's node to the other (the receiver's, or a router's: a single router has no
			// router before it).
			snd, to := &p.seen[0], &p.seen[1]
			if to.node == p.sender {
				snd, to = to, snd
			} else if snd.node != p.sender {
				continue
			}
			ps.addUsual(snd.node, to.node, delaySample{snd.last, to.first - snd.last, fp})
			continue
		}
		routers = ps.addPacket(fp, p, routers)
	}
}

// addPacket adds the samples of the sampled packet p, not ambiguous, of fingerprint fp: sender →
// every other node, every router → the receiver, router → router (routerPairs). routers is room for
// the routers, returned for the next packet.
func (ps *pairSamples) addPacket(fp uint64, p *clockPkt, routers []*clockSight) []*clockSight {
	var snd, rcv *clockSight
	for k := range p.seen {
		switch p.seen[k].node {
		case p.sender:
			snd = &p.seen[k]
		case p.receiver:
			rcv = &p.seen[k]
		}
	}
	if snd == nil {
		return routers
	}
	routers = routers[:0]
	for k := range p.seen {
		x := &p.seen[k]
		if x == snd {
			continue
		}
		ps.add(snd.node, x.node, delaySample{snd.last, x.first - snd.last, fp})
		if x != rcv {
			routers = append(routers, x)
			if rcv != nil {
				ps.add(x.node, rcv.node, delaySample{x.last, rcv.first - x.last, fp})
			}
		}
	}
	routerPairs(ps, routers, fp)
	return routers
}

// pairSamples gathers delayPairs' samples per node pair (sender's node first), each pair's in the
// order added. The pairs are found in a grid indexed by the nodes, not a map: a map look-up (of an
// array key) per sample cost more than the rest of delayPairs together.
type pairSamples struct {
	at    [][]int32 // at[a][b]: 1 + the index of pair a, b in keys and vals; 0: none yet
	keys  [][2]int
	vals  [][]delaySample
	other map[[2]int][]delaySample // pairs naming a negative node, if any
}

// add appends sample s to node pair a, b.
func (ps *pairSamples) add(a, b int, s delaySample) {
	if a < 0 || b < 0 {
		if ps.other == nil {
			ps.other = map[[2]int][]delaySample{}
		}
		ps.other[[2]int{a, b}] = append(ps.other[[2]int{a, b}], s)
		return
	}
	if a >= len(ps.at) {
		ps.at = append(ps.at, make([][]int32, a+1-len(ps.at))...)
	}
	if b >= len(ps.at[a]) {
		ps.at[a] = append(ps.at[a], make([]int32, b+1-len(ps.at[a]))...)
	}
	i := ps.at[a][b]
	if i == 0 {
		ps.keys, ps.vals = append(ps.keys, [2]int{a, b}), append(ps.vals, nil)
		i = int32(len(ps.keys))
		ps.at[a][b] = i
	}
	ps.vals[i-1] = append(ps.vals[i-1], s)
}

// addUsual is add, with a pair met before's case first.
func (ps *pairSamples) addUsual(a, b int, s delaySample) {
	if a >= 0 && b >= 0 && a < len(ps.at) && b < len(ps.at[a]) {
		if i := ps.at[a][b]; i != 0 {
			ps.vals[i-1] = append(ps.vals[i-1], s)
			return
		}
	}
	ps.add(a, b, s)
}

// joined returns the samples of ps and then of next keyed by node pair (byPair): each pair's of ps
// first, then next's. It reuses ps's lists.
func (ps *pairSamples) joined(next *pairSamples) map[[2]int][]delaySample {
	for i, k := range next.keys {
		if a, b := k[0], k[1]; a < len(ps.at) && b < len(ps.at[a]) && ps.at[a][b] != 0 {
			j := ps.at[a][b] - 1
			ps.vals[j] = append(ps.vals[j], next.vals[i]...)
			continue
		}
		ps.keys, ps.vals = append(ps.keys, k), append(ps.vals, next.vals[i])
	}
	for k, v := range next.other {
		if ps.other == nil {
			ps.other = map[[2]int][]delaySample{}
		}
		ps.other[k] = append(ps.other[k], v...)
	}
	return ps.byPair()
}

// byPair returns the samples keyed by node pair.
func (ps *pairSamples) byPair() map[[2]int][]delaySample {
	pairs := make(map[[2]int][]delaySample, len(ps.keys)+len(ps.other))
	for i, k := range ps.keys {
		pairs[k] = ps.vals[i]
	}
	for k, v := range ps.other {
		pairs[k] = v
	}
	return pairs
}

// routerPairs adds a sample from each router to the next: a router's upstream router is the one that
// saw the packet with the next higher TTL (when exactly one did; a tie says nothing).
func routerPairs(pairs *pairSamples, routers []*clockSight, fp uint64) {
	for _, y := range routers {
		var up *clockSight
		tie := false
		for _, x := range routers {
			switch {
			case x.ttl <= y.ttl:
			case up == nil || x.ttl < up.ttl:
				up, tie = x, false
			case x.ttl == up.ttl:
				tie = true
			}
		}
		if up != nil && !tie {
			pairs.add(up.node, y.node, delaySample{up.last, y.first - up.last, fp})
		}
	}
}

// edgeEst is the estimate of one node pair's offset: of b's clock against a's for the pair [a, b].
type edgeEst struct {
	off, bound int64
	method     string
	n          int
}

// pairEstimates estimates the offset of every node pair with samples, keyed [lower, higher] node:
// NTP-style from the minimum delays both ways, or bounded on one side when packets went one way only.
func (w *world) pairEstimates(pairs map[[2]int][]delaySample) map[[2]int]edgeEst {
	est := map[[2]int]edgeEst{}
	for key, s1 := range pairs {
		a, b := key[0], key[1]
		if a > b {
			continue
		}
		s2 := pairs[[2]int{b, a}]
		m1 := minDelay(s1)
		if len(s2) == 0 {
			// One direction only: offset ≤ m1 (delays are not negative). Assume the fastest packet took
			// no time at all, which is the latest offset the data allows.
			est[key] = edgeEst{off: m1, bound: -1, n: len(s1),
				method: fmt.Sprintf("one-way (%s→%s only): offset ≤ %s; taken as equal: latencies into it are lower bounds, out of it upper bounds (the segment table marks them)", w.nodes[a], w.nodes[b], time.Duration(m1))}
			continue
		}
		m2 := minDelay(s2)
		est[key] = edgeEst{off: (m1 - m2) / 2, bound: (m1 + m2) / 2, n: len(s1) + len(s2),
			method: "two-way minimum delay"}
	}
	for key, s := range pairs { // pairs seen only from the higher-numbered sender
		snd, rcv := key[0], key[1]
		if snd < rcv || len(pairs[[2]int{rcv, snd}]) > 0 {
			continue // handled above
		}
		// est[rcv,snd].off is snd's offset against rcv: m = d − off, so off ≥ −m.
		m := minDelay(s)
		est[[2]int{rcv, snd}] = edgeEst{off: -m, bound: -1, n: len(s),
			method: fmt.Sprintf("one-way (%s→%s only): offset ≥ %s; taken as equal: latencies out of it are lower bounds, into it upper bounds (the segment table marks them)", w.nodes[snd], w.nodes[rcv], time.Duration(-m))}
	}
	return est
}

// propagateClocks sets the models of the reference node (returned, -1 when no node has an estimate),
// of the nodes --offset fixes, and of every node linked to them by estimates, breadth-first from them.
func (w *world) propagateClocks(models []clockModel, est map[[2]int]edgeEst, overrides, avoid map[string]time.Duration, t0 int64) int {
	nn := len(models)
	done := make([]bool, nn)
	for n := range models {
		models[n] = clockModel{t0: t0, method: methodUncrossed}
	}
	ref := w.pickReference(est, avoid)
	// --offset fixes a node's clock before the estimates: the others are fitted against it.
	var queue []int
	if ref >= 0 {
		models[ref] = clockModel{t0: t0, method: "reference"}
		done[ref] = true
		queue = append(queue, ref)
	}
	for n := 0; n < nn; n++ {
		if d, ok := overrides[w.nodes[n]]; ok {
			models[n] = clockModel{t0: t0, offset: int64(d), method: "--offset"}
			if !done[n] {
				done[n] = true
				queue = append(queue, n)
			}
		}
	}
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		for b := 0; b < nn; b++ {
			if done[b] {
				continue
			}
			var e edgeEst
			var ok bool
			sign := int64(1)
			if e, ok = est[[2]int{min(a, b), max(a, b)}]; !ok {
				continue
			}
			if a > b {
				sign = -1
			}
			m := clockModel{t0: t0, offset: models[a].offset + sign*e.off, drift: models[a].drift,
				bound: e.bound, method: e.method, samples: e.n}
			if models[a].bound > 0 && e.bound > 0 {
				m.bound = models[a].bound + e.bound
			}
			if a != ref {
				m.method += " (via " + w.nodes[a] + ")"
			}
			models[b] = m
			done[b] = true
			queue = append(queue, b)
		}
	}
	return ref
}

// pickReference returns the reference node: the first node (by name) with an estimate, a Kubernetes
// node (with pods or a tunnel) before a router, and among those one avoid does not name (or names with
// offset 0: a node given --offset X=0s is the reference by its own words) before one it does; -1 when
// no node has an estimate. (A router before a cluster node given an offset made every given offset
// "contradicted" when each cluster node had one, review10 #3.)
func (w *world) pickReference(est map[[2]int]edgeEst, avoid map[string]time.Duration) int {
	for _, cluster := range []bool{true, false} {
		for _, given := range []bool{false, true} {
			for _, inner := range []bool{false, true} {
				for n := range w.nodes {
					off, named := avoid[w.nodes[n]]
					if named && off == 0 {
						named = false
					}
					if named != given || (cluster && !w.cluster[n]) || w.innerEdged(n) != inner {
						continue
					}
					for key := range est {
						if key[0] == n || key[1] == n {
							return n
						}
					}
				}
			}
		}
	}
	return -1
}

// innerEdged says that node n's clock is seen only inside the node: no capture of its underlay, its
// edge points (clockEdges) its tunnel devices or pod veths. Every packet crossing to or from it is
// timed there, past the node's own delays (an IP-in-IP or VXLAN device's encapsulation and
// decapsulation, unequal), which a two-way fit against it reads as clock offset.
func (w *world) innerEdged(n int) bool {
	return len(w.underlays[n]) == 0 && len(w.tunnels[n])+len(w.podVeths[n]) > 0
}

// clockSide says how the samples bound a node's clock against the reference (and --offset nodes).
type clockSide uint8

const (
	sideNone  clockSide = iota // no chain of samples links it to the reference
	sideTwo                    // bounded both ways: packets went to it from the reference's side and back
	sideUpper                  // bounded above only: packets only went toward it (offset ≤ a limit)
	sideLower                  // bounded below only: packets only came from it (offset ≥ a limit)
)

// clockSides classifies every node by the chains of samples between it and the anchors. A sample
// u→v bounds θv − θu ≤ m: a node reached by such a chain from an anchor is bounded above, and one
// from which a chain reaches an anchor is bounded below.
func clockSides(nn int, pairs map[[2]int][]delaySample, anchors []int) []clockSide {
	reach := func(forward bool) []bool {
		seen := make([]bool, nn)
		queue := append([]int(nil), anchors...)
		for _, a := range anchors {
			seen[a] = true
		}
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			for k, s := range pairs {
				from, to := k[0], k[1]
				if !forward {
					from, to = to, from
				}
				if len(s) > 0 && from == n && !seen[to] {
					seen[to] = true
					queue = append(queue, to)
				}
			}
		}
		return seen
	}
	up, down := reach(true), reach(false)
	side := make([]clockSide, nn)
	for n := range side {
		switch {
		case up[n] && down[n]:
			side[n] = sideTwo
		case up[n]:
			side[n] = sideUpper
		case down[n]:
			side[n] = sideLower
		}
	}
	return side
}

// oneSided sets the clocks that the samples bound on one side only. Such an offset can be anything
// beyond its limit, and its drift anything: each sample bounds the clock's line at its own moment only
// (a sample u→v: θv(x) ≤ m + θu(x), from above). Every line under all those points is under their
// lower convex hull, and each point of the hull is on a line under all of them: the hull is the
// tightest limit at each moment that holds whatever the clock's drift (a constant limit, the fastest
// packet's, fell behind a drifting clock later on, and latencies into it came out above their true
// values). The clock is taken on the hull (clockModel.hull; from below, the upper hull): the latencies
// the way the samples went are lower bounds, the other way upper bounds, and between two clocks
// bounded the same way (or from a third node) neither (segClock). Before the first sample and after
// the last, the limit is held at the first's and the last's: a drift could take the clock past them
// there, where no sample bounds it (a sampled capture's first and last packets may be unsampled).
// Limits follow chains of one-sided nodes (router-1, then router-2 behind it): each node's limit
// comes from its neighbours' clocks as set, in rounds, as in Bellman-Ford. Such a clock has no bound
// (-1); its offset is the first limit and its drift the slope from the first limit to the last (no
// measurement); its method says which way it is open.
func (w *world) oneSided(models []clockModel, pairs map[[2]int][]delaySample, side []clockSide, t0 int64) {
	nn := len(models)
	keys := make([][2]int, 0, len(pairs))
	for k, s := range pairs {
		if len(s) > 0 && (side[k[1]] == sideUpper || side[k[0]] == sideLower) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	have := make([]bool, nn) // the node's clock is set (two-sided ones are)
	for n := range have {
		have[n] = side[n] == sideTwo
	}
	pts := make([][]hullPt, nn)
	for round := 0; round <= nn; round++ {
		moved := false
		for n := range pts {
			pts[n] = pts[n][:0]
		}
		for _, k := range keys {
			u, v := k[0], k[1]
			for _, s := range pairs[k] {
				switch {
				case side[v] == sideUpper && have[u] && side[u] != sideLower:
					// Arrival no earlier than departure: θv ≤ θu(x) + m.
					x := float64(models[u].correct(s.t) - t0)
					pts[v] = append(pts[v], hullPt{x, float64(s.m) + models[u].theta(x), u})
				case side[u] == sideLower && have[v] && side[v] != sideUpper:
					// θu ≥ θv(x) − m, x the arrival in reference time.
					x := float64(models[v].correct(s.t+s.m) - t0)
					pts[u] = append(pts[u], hullPt{x, models[v].theta(x) - float64(s.m), v})
				}
			}
		}
		for n := range models {
			if side[n] != sideUpper && side[n] != sideLower || len(pts[n]) == 0 {
				continue
			}
			h := driftCap(limitHull(pts[n], side[n] == sideUpper), side[n] == sideUpper)
			if !have[n] || !slices.Equal(h, models[n].hull) {
				moved = true
				models[n].setHull(h, side[n] == sideUpper)
			}
			models[n].openVia = hullVia(h)
			have[n] = true
		}
		if !moved {
			break
		}
	}
	for n := range models {
		if (side[n] == sideUpper || side[n] == sideLower) && len(pts[n]) > 0 && models[n].hull != nil {
			models[n].jump, models[n].jumped = limitsJump(pts[n], models[n].hull, side[n] == sideUpper)
		}
	}
	w.oneSidedMethods(models, pairs, side, keys, have)
}

// oneSidedMethods says, for each clock set by oneSided, which neighbours' packets bound it and on which
// side (keys are the sample pairs oneSided used, have the clocks it set).
func (w *world) oneSidedMethods(models []clockModel, pairs map[[2]int][]delaySample, side []clockSide, keys [][2]int,
	have []bool) {
	for n := range models {
		if (side[n] != sideUpper && side[n] != sideLower) || !have[n] {
			continue
		}
		var names []string
		m := &models[n]
		m.samples, m.open, m.openBy = 0, side[n], nil
		for _, k := range keys {
			switch {
			case side[n] == sideUpper && k[1] == n && have[k[0]]:
				m.openBy = append(m.openBy, k[0])
			case side[n] == sideLower && k[0] == n && have[k[1]]:
				m.openBy = append(m.openBy, k[1])
			default:
				continue
			}
			names = append(names, w.nodes[m.openBy[len(m.openBy)-1]])
			m.samples += len(pairs[k])
		}
		through := w.limitVia(models, n)
		rel, lower, upper := "≤", "into", "out of"
		path := strings.Join(names, ", ") + "→" + w.nodes[n]
		if side[n] == sideLower {
			rel, lower, upper = "≥", "out of", "into"
			path = w.nodes[n] + "→" + strings.Join(names, ", ")
		}
		limit := fmt.Sprintf("offset %s %s%s; taken as equal", rel, time.Duration(m.offset), through)
		if h := m.hull; len(h) > 1 {
			limit = fmt.Sprintf("offset %s %s at the first sampled packet, %s %s at the last (%s later)%s; taken at the "+
				"tightest limit at each moment for a drift up to %g ppm (no drift is measured)", rel,
				time.Duration(math.Round(h[0].y)), rel, time.Duration(math.Round(h[len(h)-1].y)),
				time.Duration(h[len(h)-1].x-h[0].x).Round(time.Millisecond), through, maxDrift*1e6)
		}
		m.method = fmt.Sprintf("one-way (%s only): %s: latencies %s it are lower bounds, %s it upper bounds (the segment table marks them)",
			path, limit, lower, upper)
		if m.jumped {
			m.method += fmt.Sprintf("; but its limits jump by %s or more from %s on (a clock step or a slew faster than %g "+
				"ppm?): not corrected, and the latencies across it are not given", time.Duration(m.jump.size).Round(time.Microsecond),
				fmtAt(m.t0+int64(m.jump.from)), maxDrift*1e6)
		} else if m.jump.least > 0 {
			m.method += fmt.Sprintf("; these bounds hold if its clock made no step nor a slew faster than %g ppm "+
				"during the capture: its limits show no jump of %s or more (packets one way show no smaller one, nor one "+
				"with under %s of them on one side, and such a one can move the bounds by its size)", maxDrift*1e6,
				time.Duration(m.jump.least).Round(time.Microsecond), jumpSpan)
		}
	}
}

// limitVia says, for the method of node n's one-sided clock, which node's clock its limit was set
// through (openVia): " through router-1", with what that clock is when it is not the reference's
// (bounded on one side itself, or estimated against the reference); "" when the limit came straight
// from the reference or no node is known for it.
func (w *world) limitVia(models []clockModel, n int) string {
	v := models[n].openVia - 1
	if v < 0 || v == n || v >= len(models) || models[v].method == "reference" {
		return ""
	}
	switch {
	case models[v].bound < 0:
		return fmt.Sprintf(" through %s (set against %s's clock, itself bounded on one side only)", w.nodes[v], w.nodes[v])
	case models[v].method == "--offset":
		return fmt.Sprintf(" through %s (set against %s's clock as --offset gives it)", w.nodes[v], w.nodes[v])
	}
	return fmt.Sprintf(" through %s (set against %s's clock as estimated)", w.nodes[v], w.nodes[v])
}

// receiverNode returns the node a packet is going to: the node of the outer destination for
// encapsulated frames, else the node of the inner destination; -1 if unknown.
func (w *world) receiverNode(o *decode.Observation) int {
	if o.Encap() != decode.EncapNone && int(o.Ctx) < len(w.ctxNodes) {
		if n := w.ctxNodes[o.Ctx][1]; n >= 0 {
			return n
		}
	}
	return w.nodeOf(o.Flags&decode.FlagIPv6 != 0, o.Dst)
}

// senderNode returns the node that sent an Observation's packet: the node of the outer source for
// encapsulated frames, else the node of the inner source (a pod or node address); -1 if unknown.
func (w *world) senderNode(o *decode.Observation) int {
	if o.Encap() != decode.EncapNone && int(o.Ctx) < len(w.ctxNodes) {
		if n := w.ctxNodes[o.Ctx][0]; n >= 0 {
			return n
		}
	}
	return w.nodeOf(o.Flags&decode.FlagIPv6 != 0, o.Src)
}

// hopTTL is the TTL a router sees and decrements: the outer header's when encapsulated.
func (w *world) hopTTL(o *decode.Observation) uint8 {
	if o.Encap() != decode.EncapNone {
		return w.ctxOf(o).OuterTTL
	}
	return o.TTL
}

// ambiguousSame is how many frames of one fingerprint from one capture source with one encapsulation
// and TTL, moments apart, make it ambiguous for the clocks: a duplicated capture gives two (several
// captures of one point give one each); more are different packets that nothing tells apart
// (byte-identical packets sent back to back), whose first and last sightings on two nodes belong to
// different packets and would give delays that no packet took.
const ambiguousSame = 3

// ambiguousKey identifies where a frame was seen for ambiguousSame: its source, encapsulation and TTL.
func ambiguousKey(o *decode.Observation, ttl uint8) uint32 {
	return uint32(o.Source)<<10 | uint32(o.Encap())<<8 | uint32(ttl)
}

func minDelay(s []delaySample) int64 {
	m := int64(math.MaxInt64)
	for _, x := range s {
		m = min(m, x.m)
	}
	return m
}

// linePt is one constraint on a clock line: θ(x) ≤ v (upper) or θ(x) ≥ v (lower), x in ns since t0.
type linePt struct{ x, v float64 }

// bestLine finds the line θ(x) = θ0 + k·x between the upper and lower constraints with the widest
// margin. For a slope k the best θ0 and the margin follow in closed form, and the margin is concave in
// k, so a ternary search over ±2000 ppm finds the best slope. A slope is kept only when it widens the
// margin clearly (by 2 µs and by half the margin without one): measurement noise does not look like
// drift then. It returns the slope (s/s), θ0 and the margin (negative when the constraints conflict).
// It may overwrite the elements of up and lo (pruneLine compacts them in place).
func bestLine(up, lo []linePt) (k, theta0, margin float64) {
	fit := func(k float64) (float64, float64) { return lineFit(up, lo, k) }
	t0, margin0 := fit(0) // before any pruning: k = 0 may leave the searched range
	l, r := -2e-3, 2e-3
	for i := 0; i < 60; i++ { // (2/3)^60 of the range: below 1e-13 s/s
		if i%4 == 3 {
			up, lo = pruneLine(up, l, r, false), pruneLine(lo, l, r, true)
		}
		m1, m2 := l+(r-l)/3, r-(r-l)/3
		g1, g2 := lineMargins(up, lo, m1, m2)
		if g1 < g2 {
			l = m1
		} else {
			r = m2
		}
	}
	k = (l + r) / 2
	theta0, margin = fit(k)
	if math.Abs(k) < 1e-6 || margin-margin0 < math.Max(2000, math.Abs(margin0)/2) {
		return 0, t0, margin0
	}
	return k, theta0, margin
}

// bestLineBinned is bestLine of the constraints binPrune leaves (the same fit, bit for bit). bestLine
// may overwrite the elements of up and lo, and binPrune does.
func bestLineBinned(up, lo []linePt) (k, theta0, margin float64) {
	return bestLine(binPrune(up, false), binPrune(lo, true))
}

// binPruneMin is how many constraints make binPrune worth its passes, binPruneEach how many
// constraints it takes a bin of x to be, and binPruneBins the most bins.
const binPruneMin, binPruneEach, binPruneBins = 256, 32, 1024

// binPrune drops from pts, in place and keeping the others' order, constraints that cannot decide
// bestLine's fit for any slope k in its whole range [−2000, 2000] ppm: upper constraints, or lower
// ones when lower. pruneLine tests every point against one threshold for the whole range, which at
// the search's start (the constraints' values move by up to 2000 ppm of the capture's span, 10 ms
// over 5 s) drops none: bestLine read every constraint in about a dozen of its 60 steps. Here the
// points are put in bins by x, and a point is dropped when its bin's lowest (upper constraints;
// highest when lower) q is below it for every slope in the range by more than the rounding of
// either's value: s(v_p − v_q) > 2e-3·|x_p − x_q| + ε, s = 1 or −1. q's computed value
// (p.v − k·p.x) is then below p's for every k bestLine tries, so p is never the least (nor the first
// of equal ones), and every fit of the range is the same bit for bit, whatever bin each point was
// put in. ε is 2^-40 of (1 + 2e-3) times the largest |v| or |x|: each computed value, and this
// test's own numbers, are within a few units of rounding (2^-53) of that. With a NaN or an infinity
// among them, ε is one too, and no point is dropped.
func binPrune(pts []linePt, lower bool) []linePt {
	if len(pts) < binPruneMin {
		return pts
	}
	const r = 2e-3 // bestLine's range of slopes: every k it fits has |k| ≤ r
	s := 1.0
	if lower {
		s = -1
	}
	// The bins span the x of every binPruneEach-th point; a point beyond goes to the bin at that end.
	xlo, xhi := pts[0].x, pts[0].x
	for i := 0; i < len(pts); i += binPruneEach {
		xlo, xhi = min(xlo, pts[i].x), max(xhi, pts[i].x)
	}
	nb := min(len(pts)/binPruneEach, binPruneBins)
	scale := float64(nb) / (xhi - xlo)
	bin := func(x float64) int { return min(max(int((x-xlo)*scale), 0), nb-1) & (binPruneBins - 1) }
	var least [binPruneBins]linePt // each bin's lowest s·v and its x
	for b := range nb {
		least[b].v = math.Inf(1)
	}
	const abs = 1<<63 - 1
	big := uint64(0) // the largest |v| or |x|, as bits: a float64 ≥ 0 orders as its bits do
	for _, p := range pts {
		if q, sv := &least[bin(p.x)], s*p.v; sv < q.v {
			*q = linePt{p.x, sv}
		}
		big = max(big, math.Float64bits(p.v)&abs, math.Float64bits(p.x)&abs)
	}
	eps := math.Float64frombits(big) * ((1 + r) * 0x1p-40)
	out := pts[:0]
	for _, p := range pts {
		if q := &least[bin(p.x)]; s*p.v-q.v > r*math.Abs(p.x-q.x)+eps {
			continue
		}
		out = append(out, p)
	}
	return out
}

// pruneLine drops from pts the constraints that cannot decide bestLine's fit for any slope k in
// [l, r]: the minimum of p.v − k·p.x over the upper constraints (the maximum over the lower ones, when
// lower). A point's computed value is monotone in k (each rounding is), so over [l, r] it lies between
// its values at l and r; a point whose smallest value there exceeds another point's largest is never
// the minimum, and dropping it leaves every fit in [l, r] bit for bit the same. As the ternary search
// narrows [l, r], all but the few points near the line's support drop out (issue 17: bestLine read all
// samples of a node 122 times in each of jointFit's rounds).
func pruneLine(pts []linePt, l, r float64, lower bool) []linePt {
	if len(pts) < 16 {
		return pts
	}
	sign := 1.0 // lower constraints: maximise p.v − k·p.x, i.e. minimise its negation
	if lower {
		sign = -1
	}
	// One pass: a point is dropped when its smallest value in [l, r] exceeds the least of the largest
	// values of the points before it and itself. That least is never below the one over all points,
	// so every point the whole set's test keeps is kept (and a few more, dropped at the next prune):
	// every fit in [l, r] is the same.
	best := math.Inf(1)
	out := pts[:0]
	for _, p := range pts {
		hi, lo := sign*(p.v-l*p.x), sign*(p.v-r*p.x)
		if lo > hi {
			hi, lo = lo, hi
		}
		if hi < best {
			best = hi
		}
		if lo <= best {
			out = append(out, p)
		}
	}
	return out
}

// lineFit returns, for the slope k, the θ0 of the line between the upper and lower constraints with
// the widest margin, and that margin.
func lineFit(up, lo []linePt, k float64) (theta0, margin float64) {
	a, b := math.Inf(1), math.Inf(-1)
	for _, p := range up { // plain comparisons: no NaNs here, and math.Min is a call
		if v := p.v - k*p.x; v < a {
			a = v
		}
	}
	for _, p := range lo {
		if v := p.v - k*p.x; v > b {
			b = v
		}
	}
	return (a + b) / 2, (a - b) / 2
}

// lineMargins returns lineFit's margins for the slopes k1 and k2, bit for bit, in one pass over the
// constraints (each read once for both: bestLine's ternary search fits two slopes a step).
func lineMargins(up, lo []linePt, k1, k2 float64) (margin1, margin2 float64) {
	a1, a2 := math.Inf(1), math.Inf(1)
	for _, p := range up {
		if v := p.v - k1*p.x; v < a1 {
			a1 = v
		}
		if v := p.v - k2*p.x; v < a2 {
			a2 = v
		}
	}
	b1, b2 := math.Inf(-1), math.Inf(-1)
	for _, p := range lo {
		if v := p.v - k1*p.x; v > b1 {
			b1 = v
		}
		if v := p.v - k2*p.x; v > b2 {
			b2 = v
		}
	}
	return (a1 - b1) / 2, (a2 - b2) / 2
}

// plain reports whether the model is its offset alone (no step, no drift, no hull): correct(t) is
// t − offset and theta(x) the offset (offset + 0·x, the same float64: adding a zero changes no
// number but −0, and the offset's float64 is never −0).
func (m *clockModel) plain() bool { return len(m.steps) == 0 && m.drift == 0 && m.hull == nil }

// theta is a model's offset at ref-clock time x (ns since t0).
func (m *clockModel) theta(x float64) float64 {
	if m.hull != nil {
		return hullAt(m.hull, x, m.hullUp)
	}
	return float64(m.offset) + m.drift*x
}

// jointFit refines every node that exchanged packets in both directions against all its neighbours'
// current clock lines at once: a sample u→n with raw delay m bounds θn(x) ≤ m + θu(x), a sample n→v
// bounds θn(x) ≥ θv(x) − m. Each node in turn gets the widest-margin line (with drift where the data
// shows it), for a few rounds until nothing moves. The reference node stays put.
func (w *world) jointFit(models []clockModel, pairs map[[2]int][]delaySample, ref int, t0 int64, side []clockSide,
	stepped []bool) {
	keys := make([][2]int, 0, len(pairs))
	for k := range pairs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	var up, lo []linePt // rebuilt for each node, in the same slabs
	ticks := w.nodeTicks()
	for round := 0; round < 20; round++ {
		moved := false
		for n := range models {
			if n == ref || ref < 0 || models[n].method == "--offset" || side[n] != sideTwo {
				continue // a one-sided clock is set from its neighbours afterwards (oneSided)
			}
			up, lo = lineConstraints(models, pairs, keys, side, n, t0, up[:0], lo[:0])
			if len(up) == 0 || len(lo) == 0 {
				continue // one direction only: the one-way estimate stands
			}
			var k, th0, margin float64
			// A clock that stepped is fitted as one offset (its step taken off): the step's size is known
			// only to the samples' bounds, and a line would take what is left for drift. It is fitted on
			// all its constraints, without bestLine, whose pruneLine drops in place those that bind no
			// slope near the drift they show, some of which bind the offset at slope 0. A clock whose
			// step was found with its drift taken off (clockStep.drifts) is not stepped here: the samples
			// showed it a line on both sides of the step, and it is fitted as a clock that did not step.
			inner := w.innerEdged(n)
			if inner || stepped[n] {
				th0, margin = lineFit(up, lo, 0)
			}
			if !stepped[n] && (!inner || margin < 0) {
				// A clock seen only inside its node (innerEdged) is fitted with drift only when no one
				// offset fits its samples: the node's own delays, unequal and varying with its load,
				// are in every sample, and over its wide window a line widened the margin by reading
				// them as drift (-67.9 ppm on nodeport-cluster without node-a's eth0, truly none).
				k, th0, margin = bestLineBinned(up, lo)
			}
			note := ""
			if k != 0 { // bestLine compacted up and lo (pruneLine): driftUnbounded reads them whole
				up, lo = lineConstraints(models, pairs, keys, side, n, t0, up[:0], lo[:0])
				if th, mg, why := driftCoarse(up, lo, margin, sampleTick(ticks, pairs, keys, side, n)); why != "" {
					k, th0, margin, note = 0, th, mg, why
				} else if th, mg, why := driftUnbounded(up, lo, k, th0, margin, w.nodes[n]); why != "" {
					k, th0, margin, note = 0, th, mg, why
				}
			}
			m := &models[n]
			off := int64(math.Round(th0))
			if d := off - m.offset; d > 10 || d < -10 || k != m.drift {
				moved = true
			}
			m.offset, m.drift, m.samples = off, k, len(up)+len(lo)
			m.method = "minimum delays both ways, fitted against every neighbour"
			if k != 0 {
				m.method += ", with drift"
			}
			m.method += note
			m.bound = fitBound(margin, &m.method)
			m.disagree = max(0, int64(-2*margin))
		}
		if !moved {
			return
		}
	}
}

// lineConstraints appends to up and lo node n's constraints (jointFit) from the samples of its pairs
// with its neighbours whose clocks are fitted both ways, and returns them.
func lineConstraints(models []clockModel, pairs map[[2]int][]delaySample, keys [][2]int, side []clockSide, n int,
	t0 int64, up, lo []linePt) ([]linePt, []linePt) {
	for _, k := range keys {
		u, v := k[0], k[1]
		if side[u] != sideTwo || side[v] != sideTwo {
			continue
		}
		switch {
		case v == n && u != n:
			mu := &models[u]
			if mu.plain() { // correct and theta written out: t − offset, and the offset
				off, th := mu.offset+t0, float64(mu.offset)
				for _, s := range pairs[k] {
					up = append(up, linePt{float64(s.t - off), float64(s.m) + th})
				}
				continue
			}
			for _, s := range pairs[k] {
				x := float64(mu.correct(s.t) - t0)
				up = append(up, linePt{x, float64(s.m) + mu.theta(x)})
			}
		case u == n && v != n:
			mn, mv := &models[n], &models[v]
			if mn.plain() && mv.plain() {
				off, th := mn.offset+t0, float64(mv.offset)
				for _, s := range pairs[k] {
					lo = append(lo, linePt{float64(s.t - off), th - float64(s.m)})
				}
				continue
			}
			for _, s := range pairs[k] {
				x := float64(mn.correct(s.t) - t0)
				lo = append(lo, linePt{x, mv.theta(x) - float64(s.m)})
			}
		}
	}
	return up, lo
}

// fitBound returns the bound of a clock fitted with margin (bestLine), and says in method when the
// margin is negative: no offset fits every sample, which a bound of 0 would hide behind "± 0s" (review9
// #2: two identical packets' sightings taken for one packet's). The offset is then uncertain by at
// least the margin.
func fitBound(margin float64, method *string) int64 {
	if margin >= 0 {
		return int64(margin)
	}
	*method += fmt.Sprintf("; no offset fits every sample (they disagree by %s: some pair two packets' sightings, "+
		"or their times are off), so it is uncertain by at least that", time.Duration(-2*margin).Round(time.Microsecond/10))
	return int64(-margin)
}

// sortedKeys returns a map's keys in order (for deterministic iteration).
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// feasible adjusts the offsets so that no sampled packet arrives before it left: every directed pair
// (a, b) with minimum raw delay m bounds θb − θa ≤ m (a difference-constraint system). Starting from
// the estimates, violated constraints are repaired by moving both ends half-way (the reference node
// and --offset nodes stay put), for a bounded number of rounds. Offsets with a drift fit are left alone.
func (w *world) feasible(models []clockModel, pairs map[[2]int][]delaySample, ref int, side []clockSide) {
	type con struct {
		a, b int
		m    int64
	}
	fixed := func(n int) bool { return n == ref || models[n].method == "--offset" } // never moved
	var cons []con
	for k, s := range pairs {
		if models[k[0]].drift != 0 || models[k[1]].drift != 0 || side[k[0]] != sideTwo || side[k[1]] != sideTwo {
			continue // one-sided clocks are set afterwards, feasibly by construction (oneSided)
		}
		cons = append(cons, con{k[0], k[1], minDelay(s)})
	}
	sort.Slice(cons, func(i, j int) bool {
		if cons[i].a != cons[j].a {
			return cons[i].a < cons[j].a
		}
		return cons[i].b < cons[j].b
	})
	for round := 0; round < 200; round++ {
		moved := false
		for _, c := range cons {
			ma, mb := &models[c.a], &models[c.b]
			over := mb.offset - ma.offset - c.m
			fa, fb := fixed(c.a), fixed(c.b)
			if over <= 0 || (fa && fb) {
				continue
			}
			moved = true
			switch {
			case fb:
				ma.offset += over
			case fa:
				mb.offset -= over
			default:
				mb.offset -= over / 2
				ma.offset += over - over/2
			}
		}
		if !moved {
			return
		}
	}
}
