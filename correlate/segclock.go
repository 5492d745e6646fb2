package correlate

import (
	"fmt"
	"strings"
	"time"
)

// What a segment's latencies are when a clock at one of its ends is bounded on one side only
// (Segment.ClockBound).
const (
	BoundLower = "lower" // at least the values shown
	BoundUpper = "upper" // at most the values shown
	BoundNone  = "none"  // neither: the values are not measurements and are not given
)

// segClock says what the latencies of the segment from point from to point to are, and why, when a
// clock at one of its ends is bounded on one side only (oneSided); "" for both when neither is.
//
// A one-sided clock is taken at its limit. With e = true offset − offset taken (e ≤ 0 for a clock
// bounded above, sideUpper; e ≥ 0 below), a corrected latency is the true one plus e(to) − e(from): a
// lower bound when that cannot be positive, an upper bound when it cannot be negative. A clock whose
// limit came from the other end's clock (openVia) moves with it: e(to) ≤ e(from) when to's limit was
// set by a packet from the from side into it, and so on. Two clocks bounded the same way, neither by
// the other (router-1 and ext-1 each bounded from node-a only), leave e(to) − e(from) unknown either
// way, and a latency between them, negative or not, says nothing (BoundNone).
func (a *analysis) segClock(from, to int) (bound, note string) {
	x, y := a.w.pointNode[from], a.w.pointNode[to]
	if x < 0 || y < 0 || x == y || x >= len(a.clocks) || y >= len(a.clocks) {
		return "", ""
	}
	mx, my := &a.clocks[x], &a.clocks[y]
	if mx.open == sideNone && my.open == sideNone {
		return "", ""
	}
	var le, ge bool // e(to) − e(from) ≤ 0 (lower bounds), ≥ 0 (upper bounds)
	switch {
	case my.open == sideUpper && my.openVia == x+1, mx.open == sideLower && mx.openVia == y+1:
		le = true
	case mx.open == sideUpper && mx.openVia == y+1, my.open == sideLower && my.openVia == x+1:
		ge = true
	default:
		le = my.open != sideLower && mx.open != sideUpper
		ge = my.open != sideUpper && mx.open != sideLower
	}
	var open []string
	for _, n := range []int{x, y} {
		if a.clocks[n].open != sideNone {
			open = append(open, a.openClock(n))
		}
	}
	why, limit := strings.Join(open, "; "), ", taken at its limit"
	if len(open) > 1 {
		limit = ", taken at their limits"
	}
	switch {
	case le:
		return BoundLower, "lower bounds: " + why + limit
	case ge:
		return BoundUpper, "upper bounds: " + why + limit
	}
	return BoundNone, fmt.Sprintf("not known: the clocks of %s and %s are each bounded on one side only (%s), so "+
		"how far apart they are is unknown either way, and these latencies are neither lower nor upper bounds. "+
		"Give the IP of a host whose packets crossed them the other way (--node-ip NODE=IP: packets from an "+
		"address calipath cannot put down to a node bound no clock), or --offset %s=DURATION and --offset %s=DURATION",
		a.w.nodes[x], a.w.nodes[y], why, a.w.nodes[x], a.w.nodes[y])
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
	if len(by) == 0 {
		return s
	}
	if dir == "from" {
		return s + ", from " + strings.Join(by, " and ") + "'s packets"
	}
	return s + ", " + dir + " " + strings.Join(by, " and ")
}
