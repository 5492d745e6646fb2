package correlate

import (
	"testing"
	"time"
)

// TestLimitsJump: limits from above, one a second for 10 s at 0 (packets taking their least time), a
// clock taken at their hull. A burst of slow packets (5 within 4 ms, 2 ms slower) is no jump: packets
// queue behind each other for a moment. Every limit from 5 s on 2 ms higher (a clock step) is one, of
// 1 ms or more from 5 s; so is every limit from 5 s on 2 ms lower (the hull then drops, and the limits
// before 5 s stand above it), and one only 50 µs higher is not (under jumpFloor).
func TestLimitsJump(t *testing.T) {
	s := float64(time.Second)
	flat := func(f func(x float64) float64) []hullPt {
		var pts []hullPt
		for i := 0; i <= 10; i++ {
			x := float64(i) * s
			pts = append(pts, hullPt{x: x, y: f(x)})
		}
		return pts
	}
	burst := flat(func(float64) float64 { return 0 })
	for i := 0; i < 5; i++ {
		burst = append(burst, hullPt{x: 3*s + float64(i)*float64(time.Millisecond), y: 2e6})
	}
	step := func(d float64) func(x float64) float64 {
		return func(x float64) float64 {
			if x >= 5*s {
				return d
			}
			return 0
		}
	}
	for _, c := range []struct {
		name    string
		pts     []hullPt
		want    bool
		minSize time.Duration
	}{
		{"steady", flat(func(float64) float64 { return 0 }), false, 0},
		{"burst", burst, false, 0},
		{"step up", flat(step(2e6)), true, time.Millisecond},
		{"step down", flat(step(-2e6)), true, time.Millisecond},
		{"small step", flat(step(50e3)), false, 0},
	} {
		pts := append([]hullPt(nil), c.pts...)
		h := driftCap(limitHull(pts, true), true)
		j, ok := limitsJump(pts, h, true)
		if ok != c.want || ok && time.Duration(j.size) < c.minSize {
			t.Errorf("%s: jump %v (%v from %v to %v, %d limits), want %v of %v or more", c.name, ok, time.Duration(j.size),
				time.Duration(j.from), time.Duration(j.to), j.n, c.want, c.minSize)
		}
	}
}
