package correlate

import (
	"math"
	"math/rand"
	"strings"
	"testing"
)

// nat-midstream per interface without node-b's eth0, or without router-1/eth1: router-1's packets to
// node-a that are samples are the two ping replies of the last 99 ms (ext-1's, from an address that is
// no node's, are none), while node-a's packets to it span 522 ms. The widest-margin line leaned away
// from node-a's packets where nothing bounded it from below and took +33.9 ppm (−13.3 µs ± 6.07 µs),
// 13 µs early at the start, where the lab's hosts share one clock (truth.json: clock null): 3 of
// ext-1's packets reached node-a "before" router-1/eth0 sent them (clock-inconsistent router-1/eth0 →
// node-a/eth0). Now router-1 is fitted as one offset, as with every capture, and its method says why
// no drift is measured and what would measure one. With every capture the fit is unchanged.
func TestNATMidstreamDriftUnbounded(t *testing.T) {
	for _, left := range []string{"", "node-b-eth0.pcap", "router-1-eth1.pcap"} {
		name := "nat-midstream less " + left
		drop := []string{"node-a-any.pcap", "node-b-any.pcap"}
		if left != "" {
			drop = append(drop, left)
		}
		_, r := labSubset(t, "nat-midstream", drop, nil)
		found := false
		for _, c := range r.Clocks {
			if c.BoundNs >= 0 && c.DriftPPM != 0 { // a one-sided clock's slope is no measurement
				t.Errorf("%s: %s's clock drifts %.3f ppm (%s): the lab's hosts share one clock", name, c.Node, c.DriftPPM, c.Method)
			}
			if c.BoundNs >= 0 && (c.OffsetNs > c.BoundNs || c.OffsetNs < -c.BoundNs) {
				t.Errorf("%s: %s's clock %+dns ± %dns (%s): the truth's 0 is outside", name, c.Node, c.OffsetNs, c.BoundNs, c.Method)
			}
			if c.Node != "router-1" {
				continue
			}
			found = true
			said := strings.Contains(c.Method, "no drift measured: packets both ways bound it over only") &&
				strings.Contains(c.Method, "packets both ways across router-1 throughout the capture")
			if said != (left != "") {
				t.Errorf("%s: router-1's method %q says why no drift is measured: %v, want %v", name, c.Method, said, left != "")
			}
		}
		if !found {
			t.Fatalf("%s: no clock for router-1", name)
		}
		noClockInconsistent(t, name, r)
	}
}

// driftCase makes the constraints jointFit would give a node whose clock runs ppm fast against its
// neighbours over span ns: n packets to it (up: θ(x) ≤ delay + θ) and n from it (lo), each way at
// least minDelay plus exponential jitter of mean jitter; the packets from it only in [loFrom, 1) of
// the span, and far more packets from it over the whole span (farLo) whose delays, 1 ms more, bound
// nothing near the line.
func driftCase(rng *rand.Rand, n int, span, ppm, minDelay, jitter, loFrom float64, farLo int) (up, lo []linePt) {
	theta := func(x float64) float64 { return 5e3 + ppm*1e-6*x }
	for i := 0; i < n; i++ {
		x := math.Round(rng.Float64() * span)
		up = append(up, linePt{x, math.Round(theta(x) + minDelay + rng.ExpFloat64()*jitter)})
		x = math.Round((loFrom + rng.Float64()*(1-loFrom)) * span)
		lo = append(lo, linePt{x, math.Round(theta(x) - minDelay - rng.ExpFloat64()*jitter)})
	}
	for i := 0; i < farLo; i++ {
		x := math.Round(rng.Float64() * span)
		lo = append(lo, linePt{x, math.Round(theta(x) - minDelay - 1e6 - rng.ExpFloat64()*jitter)})
	}
	return up, lo
}

// A drift bestLine fits is kept when packets both ways bound the clock over most of the samples' span,
// or when no one offset fits them (they show the clock moved), and dropped for the offset's fit when
// one offset fits every sample and the packets one way bound it only over a short stretch: there the
// line only leans away from the packets of the other way where nothing bounds it from their side
// (nat-midstream's router-1 above). Packets far off the line (a neighbour's long delays) over the
// whole span do not count as bounding it.
func TestDriftUnboundedRule(t *testing.T) {
	rng := rand.New(rand.NewSource(18))
	for _, c := range []struct {
		name                          string
		ppm, minDelay, jitter, loFrom float64
		farLo                         int
		keep                          bool
	}{
		// 30 ppm over 1 s (30 µs) with 40 µs delays each way: one offset fits every sample, and a
		// line widens the margin; packets both ways throughout: the drift is the samples'.
		{"both ways throughout, an offset fits", 30, 40e3, 1e3, 0, 0, true},
		// The same clock, packets from it in the last fifth only: the line is no measurement.
		{"one way in the last fifth, an offset fits", 30, 40e3, 1e3, 0.8, 0, false},
		{"one way in the last fifth, far packets throughout", 30, 40e3, 1e3, 0.8, 40, false},
		// 200 ppm over 1 s with 5 µs delays: no offset fits; the samples show the clock moved.
		{"one way in the last fifth, no offset fits", 200, 5e3, 1e3, 0.8, 0, true},
		{"both ways throughout, no offset fits", 200, 5e3, 1e3, 0, 0, true},
	} {
		up, lo := driftCase(rng, 60, 1e9, c.ppm, c.minDelay, c.jitter, c.loFrom, c.farLo)
		k, th0, margin := bestLine(append([]linePt(nil), up...), append([]linePt(nil), lo...))
		if k == 0 {
			t.Fatalf("%s: bestLine fitted no drift (margin %.0f): the case does not exercise the rule", c.name, margin)
		}
		wantTh, wantMargin := lineFit(up, lo, 0)
		gotTh, gotMargin, why := driftUnbounded(up, lo, k, th0, margin, "node-x")
		switch {
		case c.keep && why != "":
			t.Errorf("%s: %+.1f ppm (true %+.0f) dropped: %s", c.name, k*1e6, c.ppm, why)
		case !c.keep && why == "":
			t.Errorf("%s: %+.1f ppm kept, where packets from the node bound it only in the last %.0f%% of the span", c.name,
				k*1e6, 100*(1-c.loFrom))
		case !c.keep && (gotTh != wantTh || gotMargin != wantMargin || !strings.Contains(why, "across node-x throughout")):
			t.Errorf("%s: offset fit %.0f ± %.0f, want %.0f ± %.0f; %s", c.name, gotTh, gotMargin, wantTh, wantMargin, why)
		}
	}
}
