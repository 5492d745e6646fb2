package correlate

import (
	"math"
	"sort"
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
