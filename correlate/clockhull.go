package correlate

import (
	"math"
	"sort"
	"time"
)

// hullPt is a limit a sample sets on a one-sided clock (oneSided): at x (reference ns since t0) the
// offset is at most (or at least) y, from node u's clock and packet.
type hullPt struct {
	x, y float64
	u    int
}

// limitHull returns the vertices, by x, of the lower convex hull of pts (upper: limits from above, the
// least at each moment) or of their upper hull (limits from below). It reorders pts.
func limitHull(pts []hullPt, upper bool) []hullPt {
	sign := 1.0
	if !upper {
		sign = -1 // the upper hull is the lower hull of the points turned upside down
	}
	sort.Slice(pts, func(i, j int) bool {
		if pts[i].x != pts[j].x {
			return pts[i].x < pts[j].x
		}
		return sign*pts[i].y < sign*pts[j].y
	})
	var h []hullPt
	for _, p := range pts {
		if len(h) > 0 && h[len(h)-1].x == p.x {
			continue // the tighter limit of this moment is in already
		}
		for len(h) >= 2 {
			o, a := h[len(h)-2], h[len(h)-1]
			if (a.x-o.x)*sign*(p.y-o.y)-sign*(a.y-o.y)*(p.x-o.x) > 0 {
				break
			}
			h = h[:len(h)-1] // a is on or above the line from o to p
		}
		h = append(h, p)
	}
	return h
}

// maxDrift is the fastest a clock is taken to drift (s/s): the kernel's frequency limit (adjtimex,
// ±500 ppm). A clock slewed faster (chrony's maxslewrate) can outrun a one-sided limit.
const maxDrift = 500e-6

// driftCap takes off the ends of the hull h (limitHull) the vertices only a clock drifting faster than
// maxDrift could reach: a lower hull's slopes grow along it, so those are the first ones, while its
// slope is below −maxDrift, and the last ones, once it is above maxDrift (an upper hull's the other
// way: upper). Beyond its ends the limit goes on at maxDrift (hullAt). What is left is the tightest
// limit at each moment for a clock that runs on a line within maxDrift: two packets' limits moments
// apart (from two neighbours) no longer make a steep segment whose slope no clock has.
func driftCap(h []hullPt, upper bool) []hullPt {
	sign := 1.0
	if !upper {
		sign = -1
	}
	slope := func(a, b hullPt) float64 { return sign * (b.y - a.y) / (b.x - a.x) }
	i, j := 0, len(h)-1
	for i < j && slope(h[i], h[i+1]) < -maxDrift {
		i++
	}
	for j > i && slope(h[j-1], h[j]) > maxDrift {
		j--
	}
	return h[i : j+1]
}

// hullAt is the limit at x of the hull h (limitHull, driftCap; upper: limits from above): on the line
// through the vertices about x, and beyond the ends on a line at maxDrift away from the end vertex
// (the loosest a clock within maxDrift can be there).
func hullAt(h []hullPt, x float64, upper bool) float64 {
	sign := 1.0
	if !upper {
		sign = -1
	}
	switch {
	case x <= h[0].x:
		return h[0].y + sign*maxDrift*(h[0].x-x)
	case x >= h[len(h)-1].x:
		return h[len(h)-1].y + sign*maxDrift*(x-h[len(h)-1].x)
	}
	i := sort.Search(len(h)-2, func(i int) bool { return h[i+1].x >= x }) // the segment h[i]..h[i+1]
	a, b := h[i], h[i+1]
	return a.y + (b.y-a.y)*(x-a.x)/(b.x-a.x)
}

// setHull takes a one-sided clock at the limits h (from above: upper): its offset is the first limit, its drift the slope
// from the first limit to the last (what the clock table shows; the correction follows the hull), and
// never 0 (unskew's constant-offset path), the least there is when the first and last limits are equal.
func (m *clockModel) setHull(h []hullPt, upper bool) {
	m.hull, m.hullUp, m.bound, m.drift = h, upper, -1, 0
	if n := len(h); n > 1 {
		m.drift = (h[n-1].y - h[0].y) / (h[n-1].x - h[0].x)
	}
	if m.drift == 0 { // unskew takes a clock without drift as a constant offset: not this one
		m.drift = math.SmallestNonzeroFloat64
	}
	m.offset = int64(math.Round(h[0].y))
}

// unskewHull is unskew for a one-sided clock, taken at its limit at t in reference time (oneSided).
func (m *clockModel) unskewHull(t int64) int64 {
	x := float64(t - m.t0)
	return t - int64(math.Round(hullAt(m.hull, x-hullAt(m.hull, x-float64(m.offset), m.hullUp), m.hullUp)))
}

// hullVia is openVia for a clock taken at the limits h: 1 + the node whose clock and packets set every
// vertex, 0 when two nodes' did (a limit against each at its own vertices only, so against neither
// throughout).
func hullVia(h []hullPt) int {
	for _, p := range h[1:] {
		if p.u != h[0].u {
			return 0
		}
	}
	return h[0].u + 1
}

// limitJump is where a one-sided clock's limits leave the tightest line a clock within maxDrift can
// follow (limitsJump): every limit from ref ns from to to, set by n packets, at least size from the
// clock as taken (the hull), which no packet between them comes nearer. A clock step (ntpd, chrony), a
// slew faster than maxDrift, or every packet then that much slower (or faster) on its way: limits from
// one side only cannot tell which, so a clock taken at the hull may be off there by about size, and
// the latencies it bounds are no bounds.
type limitJump struct {
	size     int64
	from, to float64
	n        int
	// least: the least jump limitsJump takes in these limits (jumpFloor, or more by their jitter):
	// what a step must exceed to show, found or not.
	least int64
	// far: the farthest any limit lies from the clock as taken. The clock is at or beyond each limit,
	// so where its limits jump its times are off, the way its bound does not allow, by up to that
	// much at each limit's moment (Clock.OrderUnsureNs).
	far int64
}

// jumpFloor is the least jump limitsJump takes, whatever the limits' jitter: latencies of packets
// across a network vary by tens of µs from one to the next.
const jumpFloor = int64(100 * time.Microsecond)

// jumpSpan is the least time a jump's limits span: packets of one burst queue behind each other and
// are slow together for a moment; a step or slew moves every limit after it.
const jumpSpan = 10 * time.Millisecond

// limitsJump finds the jump in the limits pts (sorted by x, as limitHull leaves them) of a clock
// taken at the hull h (upper: limits from above): the stretch of limits spanning jumpSpan or more
// whose least distance from h (slack) is the greatest, when that is jumpFloor or more and stepNoise
// times the limits' jitter: the median change of slack from one limit to the next, by x, where they
// are less than jumpSpan apart (a packet slower than the one just before by chance moves it by about
// that; a drift or a step hardly moves limits moments apart, and a step only once). ok is false
// without one.
func limitsJump(pts, h []hullPt, upper bool) (j limitJump, ok bool) {
	if len(pts) < 2 || len(h) == 0 {
		return limitJump{least: -1}, false
	}
	slack := make([]float64, len(pts))
	far := 0.0
	for i, p := range pts {
		slack[i] = p.y - hullAt(h, p.x, upper)
		if !upper {
			slack[i] = -slack[i]
		}
		far = max(far, slack[i])
	}
	var diffs []float64
	for i := 1; i < len(pts); i++ {
		if pts[i].x-pts[i-1].x < float64(jumpSpan) {
			diffs = append(diffs, math.Abs(slack[i]-slack[i-1]))
		}
	}
	thr := float64(jumpFloor)
	if len(diffs) > 0 {
		sort.Float64s(diffs)
		thr = max(thr, stepNoise*diffs[len(diffs)/2])
	}
	// Sliding minimum over the stretches [i, k], k the first limit jumpSpan or more after i.
	var dq []int // indexes of the stretch, their slack increasing
	k := 0
	best := -1.0
	for i := range pts {
		for len(dq) > 0 && dq[0] < i {
			dq = dq[1:]
		}
		for k < len(pts) && (k <= i || pts[k-1].x-pts[i].x < float64(jumpSpan)) {
			for len(dq) > 0 && slack[dq[len(dq)-1]] >= slack[k] {
				dq = dq[:len(dq)-1]
			}
			dq = append(dq, k)
			k++
		}
		if pts[k-1].x-pts[i].x < float64(jumpSpan) {
			break // no stretch from i on spans jumpSpan
		}
		if s := slack[dq[0]]; s > best {
			best = s
			j = limitJump{size: int64(s), from: pts[i].x, to: pts[k-1].x, n: k - i}
		}
	}
	j.least, j.far = int64(thr), int64(math.Round(far))
	return j, best >= thr
}
