package correlate

import (
	"math"
	"math/rand"
	"slices"
	"testing"
)

// bestLineWhole is bestLine without pruneLine: every fit reads every constraint.
func bestLineWhole(up, lo []linePt) (k, theta0, margin float64) {
	fit := func(k float64) (float64, float64) {
		a, b := math.Inf(1), math.Inf(-1)
		for _, p := range up {
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
	l, r := -2e-3, 2e-3
	for i := 0; i < 60; i++ {
		m1, m2 := l+(r-l)/3, r-(r-l)/3
		_, g1 := fit(m1)
		_, g2 := fit(m2)
		if g1 < g2 {
			l = m1
		} else {
			r = m2
		}
	}
	k = (l + r) / 2
	theta0, margin = fit(k)
	t0, margin0 := fit(0)
	if math.Abs(k) < 1e-6 || margin-margin0 < math.Max(2000, math.Abs(margin0)/2) {
		return 0, t0, margin0
	}
	return k, theta0, margin
}

// TestBestLinePruneExact: bestLine, which drops constraints that cannot decide the fit as its search
// narrows (pruneLine), returns bit for bit what reading every constraint in every step returns, on
// constraint sets with and without drift, with noise, ties (repeated points), conflicts and few points.
func TestBestLinePruneExact(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	pruned, binned := 0, 0
	for c := 0; c < 400; c++ {
		n := 1 + rng.Intn(3000)
		span := math.Pow(10, 6+rng.Float64()*7) // 1 ms .. 3 h of x
		drift := 0.0
		if c%2 == 0 {
			drift = (rng.Float64()*2 - 1) * 3e-3 // beyond the searched ±2000 ppm too
		}
		off := (rng.Float64()*2 - 1) * 5e9
		noise := math.Pow(10, rng.Float64()*7)
		gap := (rng.Float64() - 0.3) * 1e5 // negative: the constraints conflict
		var up, lo []linePt
		for i := 0; i < n; i++ {
			x := math.Round(rng.Float64() * span)
			th := off + drift*x
			up = append(up, linePt{x, math.Round(th + gap + rng.ExpFloat64()*noise)})
			lo = append(lo, linePt{x, math.Round(th - gap - rng.ExpFloat64()*noise)})
			if i > 0 && rng.Intn(10) == 0 { // a tie
				up = append(up, up[len(up)-1])
				lo = append(lo, lo[len(lo)-1])
			}
		}
		if c%7 == 0 {
			lo = lo[:1+rng.Intn(len(lo))]
		}
		wk, wt, wm := bestLineWhole(up, lo)
		for _, fit := range []struct {
			name string
			f    func(up, lo []linePt) (k, theta0, margin float64)
		}{{"pruned", bestLine}, {"binned", bestLineBinned}} {
			u2, l2 := append([]linePt(nil), up...), append([]linePt(nil), lo...)
			gk, gt, gm := fit.f(u2, l2)
			if math.Float64bits(gk) != math.Float64bits(wk) || math.Float64bits(gt) != math.Float64bits(wt) ||
				math.Float64bits(gm) != math.Float64bits(wm) {
				t.Fatalf("case %d (%d up, %d lo): %s (%v, %v, %v), whole (%v, %v, %v)", c, len(up), len(lo), fit.name,
					gk, gt, gm, wk, wt, wm)
			}
		}
		if p := pruneLine(append([]linePt(nil), up...), -1e-6, 1e-6, false); len(p) < len(up) {
			pruned++
		}
		if p := binPrune(append([]linePt(nil), lo...), true); len(p) < len(lo)/2 {
			binned++
		}
	}
	if pruned < 100 {
		t.Errorf("pruneLine dropped points in %d of 400 cases: the test does not exercise it", pruned)
	}
	if binned < 100 {
		t.Errorf("binPrune dropped half the points in %d of 400 cases: the test does not exercise it", binned)
	}
}

// TestBinPruneNotFinite: binPrune drops nothing from a set with a NaN or an infinity in it, and keeps
// the lowest upper constraint (the highest lower one) of a set of equal x.
func TestBinPruneNotFinite(t *testing.T) {
	for _, bad := range []linePt{{math.NaN(), 1}, {1, math.NaN()}, {math.Inf(1), 1}, {1, math.Inf(-1)}} {
		for _, lower := range []bool{false, true} {
			pts := make([]linePt, 2*binPruneMin)
			for i := range pts {
				pts[i] = linePt{float64(i * 1000), float64(i%7) * 1e6}
			}
			pts[len(pts)/2] = bad
			if got := binPrune(pts, lower); len(got) != len(pts) {
				t.Errorf("%v (lower %v): %d of %d points kept, want all", bad, lower, len(got), len(pts))
			}
		}
	}
	pts := make([]linePt, binPruneMin)
	for i := range pts {
		pts[i] = linePt{5, float64(i%9 + 1)}
	}
	if got := binPrune(append([]linePt(nil), pts...), false); len(got) == 0 || slices.ContainsFunc(got, func(p linePt) bool { return p.v != 1 }) {
		t.Errorf("upper, x all equal: kept %v, want the points of v = 1", got)
	}
	if got := binPrune(pts, true); len(got) == 0 || slices.ContainsFunc(got, func(p linePt) bool { return p.v != 9 }) {
		t.Errorf("lower, x all equal: kept %v, want the points of v = 9", got)
	}
}
