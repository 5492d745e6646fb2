package correlate

import (
	"math"
	"math/rand"
	"testing"
)

// gapsInsideLoop is gapsInside without its runs tested against gapBounds: each journey by its own
// path's gapPath, as gapsIn's own tests.
func gapsInsideLoop(jFlow []int32, jDir []uint8, jStart []uint32, of []*gapPath, t0s []int64, dt []uint32, blk, j, end int) int {
	for ; j < end; j++ {
		fi := jFlow[j]
		if fi < 0 {
			continue
		}
		gp := of[2*int(fi)+int(jDir[j])]
		if gp == nil {
			continue
		}
		s, e := jStart[j], jStart[j+1]
		if s == e {
			continue
		}
		d := dt[e-1]
		if t0 := t0s[j-blk]; d == dtBig || t0 < gp.maxFirst-coverageGrace || t0+int64(d) > gp.minLast+coverageGrace {
			return j
		}
	}
	return end
}

// gapsInside, passing over runs of journeys whose hops lie within the gapBounds of every path, finds
// the journeys the loop over each journey's own gapPath finds, from any journey on: on journeys all
// inside every span, with a few outside (before the latest start or after the earliest end, by a
// nanosecond or more), without a flow, a gapPath or a hop, and with hops whose time is dtBig (where
// the bounds are not ok).
func TestGapsInsideAsLoop(t *testing.T) {
	const grace = coverageGrace
	r := rand.New(rand.NewSource(7))
	for round := range 200 {
		paths := []*gapPath{
			{ks: []int{0, 1}, maxFirst: 1000 + grace, minLast: 900_000 - grace},
			{ks: []int{1}, maxFirst: 5000 + grace, minLast: 800_000 - grace},
			nil,
		}
		nf := 1 + r.Intn(50)
		of := make([]*gapPath, 2*nf)
		for i := range of {
			of[i] = paths[r.Intn(len(paths))]
		}
		in := gapBounds{from: math.MinInt64, to: math.MaxInt64, ok: round%5 != 0}
		for _, gp := range paths {
			if gp != nil {
				in.from, in.to = max(in.from, gp.maxFirst-grace), min(in.to, gp.minLast+grace)
			}
		}
		outside := []int{0, 1, 3, 30, 1000}[round%5] // journeys in 1,000 outside some span
		n := 1 + r.Intn(3*gapRun)
		jFlow, jDir, jStart := make([]int32, n), make([]uint8, n), make([]uint32, n+1)
		t0s := make([]int64, n)
		var dt []uint32
		for j := range n {
			jFlow[j], jDir[j] = int32(r.Intn(nf)), uint8(r.Intn(2))
			if r.Intn(20) == 0 {
				jFlow[j] = -1
			}
			t0s[j] = 5000 + r.Int63n(700_000)
			hops := 1 + r.Intn(4)
			if r.Intn(30) == 0 {
				hops = 0
			}
			for h := range hops {
				dt = append(dt, uint32(h*r.Intn(20_000)))
			}
			if r.Intn(1000) < outside {
				switch r.Intn(4) {
				case 0: // first seen before the latest start: by one or more
					t0s[j] = in.from - 1 - r.Int63n(3)
				case 1: // last seen after the earliest end: by one or more
					last := int64(0)
					if hops > 0 {
						last = int64(dt[len(dt)-1])
					}
					t0s[j] = in.to - last + 1 + r.Int63n(3)
				case 2: // before the later path's start only
					t0s[j] = 1000 + r.Int63n(4000)
				case 3:
					if !in.ok && hops > 0 {
						dt[len(dt)-1] = dtBig
					}
				}
			}
			jStart[j+1] = uint32(len(dt))
		}
		for _, blk := range []int{0, n / 3} {
			t0b := t0s[blk:]
			for j := blk; j <= n; j++ {
				got := gapsInside(jFlow, jDir, jStart, of, t0b, dt, in, blk, j, n)
				want := gapsInsideLoop(jFlow, jDir, jStart, of, t0b, dt, blk, j, n)
				if got != want {
					t.Fatalf("round %d, block %d, from %d: gapsInside %d, the loop %d", round, blk, j, got, want)
				}
			}
		}
	}
}
