package correlate

import (
	"fmt"
	"math"
	"time"
)

// driftCover is the least share of the span of a node's samples over which packets both ways must
// bound its clock for a drift to be fitted when one offset fits every sample (driftUnbounded).
const driftCover = 0.5

// driftUnbounded checks a drift bestLine fitted to node's constraints (up: packets to it, lo: packets
// from it; jointFit), slope k through theta0 with the given margin. A drift is told from an offset only
// where packets both ways bound the clock: at a moment only one way's packets bound, the widest-margin
// line leans away from them as far as the rest lets it, which is no measurement. So when one offset
// fits every sample (the samples contradict no offset: a line only widens the margin) and the stretch
// both ways bound covers less than driftCover of the samples' span, the drift is not the samples': it
// returns the offset's fit (theta0, margin at slope 0) and why, for the clock's method; "" keeps the
// line. nat-midstream without node-b's eth0: router-1's packets to node-a were the two ping replies of
// its last 99 ms (ext-1's, from no node's address, are no sample), and a line leaning on node-a's
// packets to it over the 522 ms before took +33.9 ppm, putting router-1 13 µs early at the start, where
// the lab's clock is one: 3 of ext-1's packets "arrived" at node-a before router-1 sent them.
// Constraints farther from the line than its margin and the most the slope moves it over the span
// bind no line between the two (a neighbour whose delays are long): they bound nothing there.
func driftUnbounded(up, lo []linePt, k, theta0, margin float64, node string) (th0, margin0 float64, why string) {
	th0, margin0 = lineFit(up, lo, 0)
	if margin0 < 0 {
		return 0, 0, "" // no offset fits every sample: they show the clock moved
	}
	x0, x1 := math.Inf(1), math.Inf(-1)
	for _, p := range up {
		x0, x1 = math.Min(x0, p.x), math.Max(x1, p.x)
	}
	for _, p := range lo {
		x0, x1 = math.Min(x0, p.x), math.Max(x1, p.x)
	}
	span := x1 - x0
	near := margin + math.Abs(k)*span
	ua, ub := nearSpan(up, k, theta0, near, 1)
	la, lb := nearSpan(lo, k, theta0, near, -1)
	both := math.Min(ub, lb) - math.Max(ua, la)
	if span <= 0 || both >= driftCover*span {
		return 0, 0, ""
	}
	d := func(x float64) string { return time.Duration(x).Round(time.Millisecond / 10).String() }
	side := func(a, b float64) string {
		if a > b {
			return "nowhere near the line"
		}
		return "from " + d(a-x0) + " to " + d(b-x0)
	}
	bound := "at no moment in common"
	if both > 0 {
		bound = "over only " + d(both)
	}
	why = fmt.Sprintf("; no drift measured: packets both ways bound it %s of the %s its samples span "+
		"(after its first sample: packets to it %s, packets from it %s), too little to tell a drift from an "+
		"offset, and one offset fits every sample (a line leaning where packets one way alone bound the "+
		"clock took %+.3f ppm); packets both ways across %s throughout the capture (a ping to or from it) "+
		"would measure one", bound, d(span), side(ua, ub), side(la, lb), k*1e6, node)
	return th0, margin0, why
}

// nearSpan returns the first and last x of the constraints pts within near of the line theta0 + k·x
// (sign 1: upper constraints, above it; -1: lower ones, below it); +Inf, -Inf when there is none.
func nearSpan(pts []linePt, k, theta0, near, sign float64) (a, b float64) {
	a, b = math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		if sign*(p.v-theta0-k*p.x) <= near {
			a, b = math.Min(a, p.x), math.Max(b, p.x)
		}
	}
	return a, b
}
