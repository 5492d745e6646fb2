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

// driftCoarse checks a drift bestLine fitted to node's constraints (up, lo, read whole; the line's
// margin) against the resolution of the capture times its samples come from (tick, ns; sampleTick). A
// delay read from times recorded to tick is off by less than tick (each end truncated or rounded to
// it), so each constraint is, and with them the flat fit's margin and the line's: the line's gain over
// the flat fit may be up to 2·tick more than the true times would give. bestLine's threshold (2 µs, and
// half the flat margin) is for nanosecond times; a line is kept only when its gain clears the threshold
// by 2·tick too. Otherwise it returns the offset's fit and why: the gain is within what the times'
// resolution makes of the samples. snat-address-midstream with each node's Ethernet captures merged by
// mergecap (-F pcap: microsecond times, where the lab's files have nanoseconds): router-1's 8 samples
// (at 428 ms and 529 ms, packets both ways at each) moved by up to 627 ns, and a line of −45.3 ppm
// widened the margin by 2.26 µs, 42 ns over the threshold, where the nanosecond files' samples gave
// 1.97 µs, under it; the lab's hosts share one clock, and the line made ext-1's and node-a's packets
// through router-1 "clock-inconsistent". Nanosecond times (tick 1, the fit's own unit) change nothing.
func driftCoarse(up, lo []linePt, margin, tick float64) (th0, margin0 float64, why string) {
	if tick <= 1 {
		return 0, 0, ""
	}
	th0, margin0 = lineFit(up, lo, 0)
	need := math.Max(2000, math.Abs(margin0)/2)
	if margin-margin0 >= need+2*tick {
		return 0, 0, ""
	}
	d := func(x float64) string { return time.Duration(x).Round(time.Nanosecond).String() }
	why = fmt.Sprintf("; no drift measured: a line widened the margin by %s, where a drift needs %s and "+
		"the capture times' resolution (%s) alone can widen it by up to %s more; captures with nanosecond "+
		"times (pcap's nanosecond format, pcapng with if_tsresol 9; mergecap -F pcap writes microseconds) "+
		"would tell", d(margin-margin0), d(need), d(tick), d(2*tick))
	return th0, margin0, why
}

// sampleTick returns the coarsest capture-time resolution (ns; ticks: nodeTicks) of the nodes whose
// samples bound node n's clock in jointFit (n and the neighbours its pairs join it to).
func sampleTick(ticks []float64, pairs map[[2]int][]delaySample, keys [][2]int, side []clockSide, n int) float64 {
	t := 0.0
	for _, k := range keys {
		u, v := k[0], k[1]
		if (u == n) == (v == n) || side[u] != sideTwo || side[v] != sideTwo || len(pairs[k]) == 0 {
			continue
		}
		if u < len(ticks) && v < len(ticks) {
			t = math.Max(t, math.Max(ticks[u], ticks[v]))
		}
	}
	return t
}

// nodeTicks returns each node's coarsest capture-time resolution in ns over the capture sources of its
// points (a pcap's microseconds or nanoseconds, a pcapng interface's if_tsresol; a merged capture's
// stages, split by link address, take their file's).
func (w *world) nodeTicks() []float64 {
	ticks := make([]float64, len(w.nodes))
	for _, p := range w.c.Points {
		n, ok := w.nodeIdx[p.Node]
		if !ok {
			continue
		}
		for _, s := range p.Sources {
			if int(s) >= len(w.c.Sources) {
				continue
			}
			src := w.c.Sources[s]
			if int(src.File) >= len(w.c.Files) {
				continue
			}
			ifs := w.c.Files[src.File].Interfaces
			if int(src.Iface) < len(ifs) {
				ifs = ifs[src.Iface : src.Iface+1]
			} // else a stage of a split merged capture (a pseudo interface index): any of the file's
			for _, i := range ifs {
				ticks[n] = math.Max(ticks[n], tsTick(i.TsResol))
			}
		}
	}
	return ticks
}

// tsTick is the time one unit of if_tsresol r stands for, in ns (10^-r s, or 2^-r s with the high bit).
func tsTick(r uint8) float64 {
	e := float64(r & 0x7f)
	if r&0x80 != 0 {
		return 1e9 / math.Pow(2, e)
	}
	return 1e9 / math.Pow(10, e)
}
