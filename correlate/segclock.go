package correlate

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/calipath/calipath/internal/units"
)

// What a segment's latencies are when a clock at one of its ends is bounded on one side only
// (Segment.ClockBound).
const (
	BoundLower = "lower" // at least the values shown
	BoundUpper = "upper" // at most the values shown
	BoundNone  = "none"  // neither: the values are not measurements and are not given
)

// segClock says what the latencies of the segment from point from to point to are, and why, when a
// clock at one of its ends is bounded on one side only (oneSided); "" for both when neither is. Where
// nothing ordered the two points either (analysis.unordered), the note says so. measured: the segment
// has latencies (a clock nothing corrected at an end of one without any leaves nothing to say).
func (a *analysis) segClock(from, to int, measured bool) (bound, note string) {
	bound, note = a.nodeClockAs(a.w.pointNode[from], a.w.pointNode[to], measured)
	if bound == BoundNone && a.unordered[[2]int{min(from, to), max(from, to)}] {
		note = strings.Replace(note, "neither lower nor upper bounds. ", "neither lower nor upper bounds; nor does "+
			"anything the captures hold tell which of the two the packets crossed first (no packets crossed both the other "+
			"way, or none whose times clear the timestamps' error: see loss-order-unknown), so the order shown is not known "+
			"either (where their corrected times are one, it is their files'). ", 1)
	}
	return bound, note
}

// anyOpen reports whether some node's clock is bounded on one side only: else every latency between
// two nodes is a measurement (pairBound is "" for all).
func (a *analysis) anyOpen() bool {
	for n := range a.clocks {
		if a.clocks[n].open != sideNone {
			return true
		}
	}
	return false
}

// ClockNotEstimated is what a Segment's, Flow's or Hop's clock note says of a clock that could not be
// estimated (blindNodes): its latencies are not known (BoundNone) for that reason, not a one-sided bound.
const ClockNotEstimated = "could not be estimated"

// anyBlind reports whether some node's clock was corrected by nothing (uncorrected).
func (a *analysis) anyBlind() bool {
	for n := range a.clocks {
		if a.uncorrected(n) {
			return true
		}
	}
	return false
}

// uncorrected reports whether nothing corrected node n's clock: it could not be estimated
// (clockModel.blind), or no sampled packet crossed to or from its node (methodUncrossed). A packet
// followed across such a node all the same (its underlay frames cut by the snaplen before the bytes
// the clocks sample, or seen again past the window) has no measured latency there: the clock may be
// off by anything.
func (a *analysis) uncorrected(n int) bool {
	return a.clocks[n].blind || a.clocks[n].method == methodUncrossed
}

// shownBound is pairBound for a latency as shown (segments, flows, hops, timelines): BoundNone also
// when a clock of the two was corrected by nothing (uncorrected: no packet from a known sender crossed
// its node, or none the clocks sampled, and it may be off by anything). The order of hops across nodes
// and the clock-inconsistent test keep pairBound: such a clock is taken as it reads there, as before,
// and their verdicts do not change.
func (a *analysis) shownBound(x, y int) string { return a.shownBoundAs(x, y, true) }

// shownBoundAs is shownBound for latencies between x and y that were measured (crossed) or not: a clock
// that could not be estimated (blind) hedges them either way, one not crossed only when some were.
func (a *analysis) shownBoundAs(x, y int, crossed bool) string {
	if x >= 0 && y >= 0 && x != y && x < len(a.clocks) && y < len(a.clocks) && (a.clocks[x].blind || a.clocks[y].blind ||
		crossed && (a.uncorrected(x) || a.uncorrected(y))) {
		return BoundNone
	}
	return a.pairBound(x, y)
}

// pairBound says what a latency from node x to node y is (BoundLower, BoundUpper, BoundNone), "" when
// it is a measurement: both clocks bounded both ways, or one node. It allocates nothing (the journeys'
// hops and the flows' end-to-end latencies ask it per packet).
//
// A one-sided clock is taken at its limit. With e = true offset − offset taken (e ≤ 0 for a clock
// bounded above, sideUpper; e ≥ 0 below; 0 for a clock bounded both ways), a corrected latency is the
// true one plus e(y) − e(x): a lower bound when that cannot be positive, an upper bound when it cannot
// be negative. A clock whose limit came from another clock (openVia: the node whose packet set it)
// moves with it: a clock bounded above through v has e ≤ e(v), one bounded below through v e ≥ e(v),
// and so on along the chain to a clock bounded both ways. So e(y) ≤ e(x) when the chain above y
// (y, its via, …, then 0 if y is bounded above or both ways) meets the chain below x; e(y) ≥ e(x)
// the other way round. Two clocks bounded the same way, neither through the other (router-1 and
// ext-1 each bounded from node-a only), leave e(y) − e(x) unknown either way, and a latency between
// them, negative or not, says nothing (BoundNone).
func (a *analysis) pairBound(x, y int) string {
	if x < 0 || y < 0 || x == y || x >= len(a.clocks) || y >= len(a.clocks) {
		return ""
	}
	if a.clocks[x].open == sideNone && a.clocks[y].open == sideNone {
		return ""
	}
	le := a.chainsMeet(y, x, sideUpper) // e(y) ≤ e(x)
	ge := a.chainsMeet(x, y, sideUpper) // e(x) ≤ e(y)
	switch {
	case le && ge:
		return ""
	case le:
		return BoundLower
	case ge:
		return BoundUpper
	}
	return BoundNone
}

// chainZero stands for every clock bounded both ways (e = 0) in a chain (chainsMeet).
const chainZero = -1

// chainsMeet reports whether e(lo) ≤ e(hi) follows from the limits: whether the chain above lo
// (lo, the node its limit came through while bounded above, …, and chainZero once one is bounded both
// ways) meets the chain below hi (likewise, bounded below). up is sideUpper (the side the chain
// above follows).
func (a *analysis) chainsMeet(lo, hi int, up clockSide) bool {
	down := sideLower
	for u, i := lo, 0; i <= len(a.clocks); i++ {
		for v, k := hi, 0; k <= len(a.clocks); k++ {
			if u == v {
				return true
			}
			if v = a.chainNext(v, down); v == chainZero-1 {
				break
			}
		}
		if u = a.chainNext(u, up); u == chainZero-1 {
			return false
		}
	}
	return false
}

// chainNext is the next clock of a chain (chainsMeet) after n, which follows clocks bounded on side
// s: chainZero after a clock bounded both ways or after one bounded on s with no node named for its
// limit, n's limit node after one bounded on s, and chainZero−1 (the end) after chainZero or after a
// clock bounded the other way.
func (a *analysis) chainNext(n int, s clockSide) int {
	if n == chainZero {
		return chainZero - 1
	}
	switch m := &a.clocks[n]; {
	case m.jumped:
		return chainZero - 1 // its limits jump (limitsJump): e(n) is not known either way
	case m.open == sideNone:
		return chainZero
	case m.open != s:
		return chainZero - 1
	case m.openVia > 0 && m.openVia-1 != n && a.clocks[m.openVia-1].open != sideNone:
		return m.openVia - 1
	}
	return chainZero
}

// nodeClock is pairBound with the note that says why: which one-sided clocks, how each is bounded
// and, for BoundNone, how to bound them.
func (a *analysis) nodeClock(x, y int) (bound, note string) { return a.nodeClockAs(x, y, true) }

// nodeClockAs is nodeClock for latencies between x and y that were measured (crossed) or not
// (shownBoundAs).
func (a *analysis) nodeClockAs(x, y int, crossed bool) (bound, note string) {
	bound = a.shownBoundAs(x, y, crossed)
	if bound == "" {
		return "", ""
	}
	for _, n := range []int{x, y} {
		if a.clocks[n].blind {
			return BoundNone, "not known: " + a.w.nodes[n] + "'s clock " + ClockNotEstimated + " (packets cross to and from it, " +
				"but none from an address calipath could put down to a node) and is not corrected, so it may be off by " +
				"anything, and these latencies are neither lower nor upper bounds. Give the nodes' IPs (--node-ip NODE=IP, " +
				"or --k8s) or --offset " + a.w.nodes[n] + "=DURATION"
		}
	}
	for _, n := range []int{x, y} {
		if crossed && a.uncorrected(n) {
			return BoundNone, "not known: " + a.w.nodes[n] + "'s clock is not corrected (none of the packets that cross to or " +
				"from it could be sampled: their underlay frames cut before the bytes that tell packets apart, or seen again " +
				"past --window), so it may be off by anything, and these latencies are neither lower nor upper bounds. " +
				"Capture the underlay with -s 0 (whole frames), or give --offset " + a.w.nodes[n] + "=DURATION"
		}
	}
	var open []string
	for _, n := range []int{x, y} {
		if a.clocks[n].open != sideNone {
			open = append(open, a.openClock(n))
		}
	}
	if j := a.jumpedOn(x, y); j >= 0 && bound == BoundNone {
		return BoundNone, "not known: " + a.openClock(j) + ", and " + a.jumpWhy(j) + ", so these latencies are neither " +
			"lower nor upper bounds. " + strings.TrimSuffix(a.jumpFix(j), ".") // the tables end notes with "."
	}
	why, limit := strings.Join(open, "; "), ", taken at its limit"
	if len(open) > 1 {
		limit = ", taken at their limits"
	}
	switch bound {
	case BoundLower:
		return BoundLower, "lower bounds: " + why + limit
	case BoundUpper:
		return BoundUpper, "upper bounds: " + why + limit
	}
	return BoundNone, fmt.Sprintf("not known: the clocks of %s and %s are each bounded on one side only (%s), so "+
		"how far apart they are is unknown either way, and these latencies are neither lower nor upper bounds. "+
		"%s", a.w.nodes[x], a.w.nodes[y], why, boundFix("them", a.w.nodes[x], a.w.nodes[y]))
}

// jumpedOn returns the first clock, of x and y and the clocks their limits came through (openVia),
// whose limits jump (clockModel.jumped), -1 when none does.
func (a *analysis) jumpedOn(x, y int) int {
	for _, n := range []int{x, y} {
		for i := 0; i <= len(a.clocks) && n >= 0 && n < len(a.clocks); i++ {
			m := &a.clocks[n]
			if m.jumped {
				return n
			}
			if m.open == sideNone || m.openVia <= 0 || m.openVia-1 == n {
				break
			}
			n = m.openVia - 1
		}
	}
	return -1
}

// jumpWhy says where node n's one-sided limits jump (limitsJump) and what that can be.
func (a *analysis) jumpWhy(n int) string {
	m := &a.clocks[n]
	return fmt.Sprintf("its limits jump: the %d packets from %s to %s (reference time) set them %s or more "+
		"from the tightest line a clock drifting up to %g ppm can follow, which none of them comes nearer: a clock "+
		"step (ntpd or chrony setting it), a slew faster than %g ppm, or every packet then that much slower or faster "+
		"on its way, which packets one way only cannot tell apart", m.jump.n, fmtAt(m.t0+int64(m.jump.from)),
		fmtAt(m.t0+int64(m.jump.to)), time.Duration(m.jump.size).Round(time.Microsecond), maxDrift*1e6, maxDrift*1e6)
}

// jumpFix says how to bound node n's clock, whose limits jump, at every moment.
func (a *analysis) jumpFix(n int) string {
	m := &a.clocks[n]
	name, by := a.w.nodes[n], "another node"
	if len(m.openBy) > 0 {
		by = a.w.nodes[m.openBy[0]]
	}
	dir := fmt.Sprintf("%s to %s", name, by)
	if m.open == sideLower {
		dir = fmt.Sprintf("%s to %s", by, name)
	}
	return fmt.Sprintf("Capture packets both ways across %s (a ping from %s will do): its clock is then bounded both ways "+
		"and a step is found and taken off; or give --offset %s=DURATION for each part of the capture, split at the jump "+
		"(editcap -B/-A).", name, dir, name)
}

// boundFix says how to bound the one-sided clocks of the nodes named both ways; who is how the
// sentence names them ("them", or the names).
func boundFix(who string, names ...string) string {
	offsets := make([]string, len(names))
	for i, n := range names {
		offsets[i] = "--offset " + n + "=DURATION"
	}
	return "Give the IP of a host whose packets crossed " + who + " the other way (--node-ip NODE=IP: packets from an " +
		"address calipath cannot put down to a node bound no clock), or " + strings.Join(offsets, " and ")
}

// openClock says how node n's one-sided clock is bounded: "router-1's offset ≤ 2.775µs, from node-a's
// packets".
func (a *analysis) openClock(n int) string {
	m := &a.clocks[n]
	rel, dir := "≤", "from"
	if m.open == sideLower {
		rel, dir = "≥", "by its packets to"
	}
	by := make([]string, 0, len(m.openBy))
	for _, b := range m.openBy {
		by = append(by, a.w.nodes[b])
	}
	s := fmt.Sprintf("%s's offset %s %s", a.w.nodes[n], rel, time.Duration(m.offset))
	if len(m.hull) > 1 { // a limit that moves: the offset is its first (oneSided)
		s += fmt.Sprintf(" at its first sampled packet, %s %s at its last", rel,
			time.Duration(math.Round(m.hull[len(m.hull)-1].y)))
	}
	if len(by) == 0 {
		return s
	}
	if dir == "from" {
		return s + ", from " + strings.Join(by, " and ") + "'s packets"
	}
	return s + ", " + dir + " " + strings.Join(by, " and ")
}

// flowClock is what one-sided clocks make of a flow's end-to-end latencies (countFlow): the kinds
// its journeys' latencies were (bits: flowLower, flowUpper, flowNone), and for each kind the end
// nodes of the first journey of that kind.
type flowClock struct {
	bits uint8
	at   [3][2]int32
}

// The kinds of flowClock.bits, in the order of flowClock.at.
const (
	flowLower uint8 = 1 << iota
	flowUpper
	flowNone
)

// add counts a journey from node x to node y (first and last nodes reached) on the flow.
func (fc *flowClock) add(a *analysis, x, y int) {
	var k int
	switch a.shownBound(x, y) {
	case "":
		return
	case BoundLower:
		k = 0
	case BoundUpper:
		k = 1
	default:
		k = 2
	}
	if fc.bits&(1<<k) == 0 {
		fc.bits |= 1 << k
		fc.at[k] = [2]int32{int32(x), int32(y)}
	}
}

// flowBound says what flow fi's end-to-end latencies are, and why (Flow.ClockBound and ClockNote):
// "" for both when each of its journeys' is a measurement. Quantiles over measurements and lower
// bounds are lower bounds of the true quantiles (each value shown is at most its true one), likewise
// with upper bounds; over lower and upper bounds together, or with a latency that is neither, they
// are neither.
func (a *analysis) flowBound(fi int) (bound, note string) {
	if a.flowClocks == nil || fi >= len(a.flowClocks) {
		return "", ""
	}
	fc := a.flowClocks[fi]
	if fc.bits == 0 {
		return "", ""
	}
	a.flowNotesMu.Lock()
	defer a.flowNotesMu.Unlock()
	if n, ok := a.flowNotes[fc]; ok {
		return n[0], n[1]
	}
	bound, note = a.flowBoundOf(&fc)
	if a.flowNotes == nil {
		a.flowNotes = map[flowClock][2]string{}
	}
	a.flowNotes[fc] = [2]string{bound, note}
	return bound, note
}

// flowBoundOf is flowBound for a flow's flowClock fc, worked out.
func (a *analysis) flowBoundOf(fc *flowClock) (bound, note string) {
	switch {
	case fc.bits == 0:
		return "", ""
	case fc.bits&flowNone != 0:
		_, note = a.nodeClock(int(fc.at[2][0]), int(fc.at[2][1]))
		return BoundNone, note
	case fc.bits == flowLower:
		_, note = a.nodeClock(int(fc.at[0][0]), int(fc.at[0][1]))
		return BoundLower, note
	case fc.bits == flowUpper:
		_, note = a.nodeClock(int(fc.at[1][0]), int(fc.at[1][1]))
		return BoundUpper, note
	}
	lo, up := fc.at[0], fc.at[1]
	var open []string
	var names []string
	seen := map[int32]bool{}
	for _, n := range []int32{lo[0], lo[1], up[0], up[1]} {
		if !seen[n] && a.clocks[n].open != sideNone {
			seen[n] = true
			open = append(open, a.openClock(int(n)))
			names = append(names, a.w.nodes[n])
		}
	}
	limit := ", taken at its limit"
	if len(open) > 1 {
		limit = ", taken at their limits"
	}
	return BoundNone, fmt.Sprintf("not known: its latencies %s → %s are lower bounds and those %s → %s upper bounds (%s%s), "+
		"so quantiles over both are neither. %s", a.w.nodes[lo[0]], a.w.nodes[lo[1]], a.w.nodes[up[0]], a.w.nodes[up[1]],
		strings.Join(open, "; "), limit, boundFix(strings.Join(names, " and "), names...))
}

// ClockBound says what a time from a sighting at point from to a sighting at point to is (point IDs,
// "node/iface", as in Hop.Point), when a clock of the two points' nodes is bounded on one side only:
// BoundLower, BoundUpper or BoundNone, as Segment.ClockBound says; "" for a measurement (one node,
// both clocks bounded both ways) and when the Result keeps no analysis. The timelines' times from a
// first sighting, of another packet perhaps, are marked by it.
func (r *Result) ClockBound(from, to string) string {
	a := r.analysis
	if a == nil || !a.shownClocks {
		return ""
	}
	return a.shownBound(a.nodeIndex(from), a.nodeIndex(to))
}

// ClockUncertain is how far a time ns from a sighting at point from to a sighting at point to (point
// IDs, as ClockBound takes) may be off when loose clocks leave it uncertain, as
// Segment.ClockUncertainNs says: the sum of the two nodes' bounds when it exceeds 20 µs and ns; 0
// otherwise, and when a clock of the two is bounded on one side only (ClockBound says what it is).
func (r *Result) ClockUncertain(from, to string, ns int64) int64 {
	a := r.analysis
	if a == nil || !a.looseClocks {
		return 0
	}
	if b := a.pairLoose(a.nodeIndex(from), a.nodeIndex(to)); ns < b {
		return b
	}
	return 0
}

// MarkLoose is a time as printed (text) that loose clocks leave uncertain by ±b
// (Segment.ClockUncertainNs): MarkUncertain before it when b is not 0, text unchanged otherwise.
func MarkLoose(b int64, text string) string { return markLoose("", b, text) }

// nodeIndex is the index of the node of the point with ID id, -1 if none.
func (a *analysis) nodeIndex(id string) int {
	node, _, _ := strings.Cut(id, "/")
	for n, name := range a.w.nodes {
		if name == node {
			return n
		}
	}
	return -1
}

// flowDirs is a flow's end-to-end latencies per direction (c2s, s2c) and what one-sided clocks make
// of each direction's (analysis.flowDirs).
type flowDirs struct {
	fc  [2]flowClock
	lat [2]latAcc
}

// dirLatencies is Flow.Dirs for flow fi, whose latencies the clocks leave not known (flowBound): each
// direction's, when its two directions' are bounds of different kinds (lower bounds one way, upper
// the other) and neither direction mixes them or has one that is neither; nil otherwise.
func (a *analysis) dirLatencies(fi int) []DirLatency {
	if a.flowDirs == nil || fi >= len(a.flowDirs) || a.flowDirs[fi] == nil {
		return nil
	}
	fd := a.flowDirs[fi]
	var out []DirLatency
	kinds := uint8(0)
	for d, name := range []string{"c2s", "s2c"} {
		if fd.lat[d].n == 0 {
			continue
		}
		dl := DirLatency{Dir: name, LatencyNs: fd.lat[d].summary()}
		switch fd.fc[d].bits {
		case 0:
		case flowLower:
			dl.ClockBound = BoundLower
		case flowUpper:
			dl.ClockBound = BoundUpper
		default:
			return nil // a direction whose own quantiles are neither: nothing to give apart
		}
		kinds |= fd.fc[d].bits
		out = append(out, dl)
	}
	if kinds != flowLower|flowUpper {
		return nil
	}
	return out
}

// looseBound is the uncertainty, the sum of two clocks' bounds, beyond which a latency between their
// nodes is hedged when it is no larger (pairLoose). A clock tied at a wire is bounded by about the
// wire's one-way delay, since a two-way fit sets it midway between the fastest packets each way: every
// latency across that wire is then about its bound, and the sum of two such bounds exceeds it (every
// lab scenario's full set: 1.7 to 6 µs). A bound beyond 20 µs is no wire's: the fit's samples crossed
// a node's own processing (a node seen only through its tunnel device or its pods' veths, clk13) or
// packets that slow, and a latency within it says nothing of the time the packet took.
const looseBound = 20 * int64(time.Microsecond)

// pairLoose is how far a latency from node x to node y may be off when both clocks are bounded both
// ways but loosely: the sum of their bounds when it exceeds looseBound, 0 otherwise (one node, a clock
// bounded on one side only: pairBound says what those latencies are).
func (a *analysis) pairLoose(x, y int) int64 {
	if x < 0 || y < 0 || x == y || x >= len(a.clocks) || y >= len(a.clocks) {
		return 0
	}
	cx, cy := &a.clocks[x], &a.clocks[y]
	if cx.open != sideNone || cy.open != sideNone {
		return 0
	}
	if b := max(cx.bound, 0) + max(cy.bound, 0); b > looseBound {
		return b
	}
	return 0
}

// loosestPair is the largest sum of two clocks' bounds, of clocks bounded both ways: the largest
// uncertainty pairLoose can give.
func (a *analysis) loosestPair() int64 {
	var b1, b2 int64 // the two largest bounds
	for n := range a.clocks {
		if c := &a.clocks[n]; c.open == sideNone {
			switch b := c.bound; {
			case b > b1:
				b1, b2 = b, b1
			case b > b2:
				b2 = b
			}
		}
	}
	return b1 + b2
}

// segLoose is the hedge of the segment from point from to point to whose smallest latency is least
// ns (Segment.ClockUncertainNs and ClockNote): its clocks' uncertainty when pairLoose gives one and
// it is at least that latency, so that the figures cannot tell the fastest packet from one that took
// no time (or arrived before it left); 0 and "" otherwise.
func (a *analysis) segLoose(from, to int, least int64) (int64, string) {
	x, y := a.w.pointNode[from], a.w.pointNode[to]
	b := a.pairLoose(x, y)
	if b == 0 || least >= b {
		return 0, ""
	}
	return b, a.looseNote(x, y, b, least, "its")
}

// looseNote says why the latencies from node x to node y, the least of them least, are uncertain by
// ±b, and how to bound the clocks tighter; whose is "its" for a segment, "the flow's" for a flow.
func (a *analysis) looseNote(x, y int, b, least int64, whose string) string {
	var parts, fixes []string
	for _, n := range []int{x, y} {
		c := &a.clocks[n]
		if c.bound <= 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s's clock ±%s", a.w.nodes[n], units.Dur(c.bound)))
		if c.bound*2 <= looseBound {
			continue // tight: not what to fix
		}
		// A clock fitted two ways is bounded by half the fastest round trip its packets took to the
		// nodes it was fitted against: more of the same packets do not narrow it, a faster way does.
		fix := "capture packets both ways between " + a.w.nodes[n] + " and a node it reaches faster than those its clock " +
			"was fitted against (its bound comes from the fastest packets each way; a ping will do)"
		if a.w.innerEdged(n) {
			via := "its pods' veths"
			if len(a.w.tunnels[n]) > 0 {
				via = "its tunnel device"
			}
			fix = "capture " + a.w.nodes[n] + "'s eth0 (its clock is fitted through " + via + " only, across the node's own delays)"
		}
		fixes = append(fixes, fix+" or give --offset "+a.w.nodes[n]+"=DURATION")
	}
	if len(fixes) == 0 { // two bounds each tight, their sum not: name both
		for _, n := range []int{x, y} {
			fixes = append(fixes, "give --offset "+a.w.nodes[n]+"=DURATION")
		}
	}
	fix := strings.Join(fixes, "; ")
	return fmt.Sprintf("uncertain by ±%s (%s; see Clock offsets), at least %s smallest latency (%s): the clocks' estimates, each "+
		"within ±%s of the true one, and a negative one is the clocks' error, not a packet that arrived before it left. %s",
		units.Dur(b), strings.Join(parts, ", "), whose, units.Dur(least), units.Dur(b), strings.ToUpper(fix[:1])+fix[1:])
}

// flowLooseAcc is what loose clocks make of a flow's end-to-end latencies (countFlowLoose): the
// largest uncertainty pairLoose gives a delivered journey's latency that is no larger than it, and the
// journey's first and last nodes; b 0 for none.
type flowLooseAcc struct {
	b    int64
	x, y int32
}
