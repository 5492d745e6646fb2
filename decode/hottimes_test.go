package decode

import (
	"math"
	"testing"
)

// TestAddFastTimes feeds one frame the fast path takes at times that go in order, stand still, go back
// a little and more than a second, jump more than a day on and back, overflow their fraction field,
// lie near the ends of int64 and cross where the range addFast takes frames in at once ends (spanGap
// past the last frame when addTime set it: Traffic.hotLo): what Traffic.addFast returns and counts
// (after endRuns) must be what Traffic.add gives the same frames (fastPair.step and check).
func TestAddFastTimes(t *testing.T) {
	fr := fxFrames(t)["eth-udp"]
	const day = int64(24 * 3600 * 1e9)
	base := int64(1_700_000_000e9)
	runs := map[string][]int64{
		"in order":        {base, base + 1, base + 2, base + 2, base + 1e9, base + 1e9 + 5},
		"back":            {base, base + 3e9, base + 1e9, base + 3e9 - 1, base + 4e9},
		"past the range":  {base, base + day/2, base + day - 1, base + day + 1, base + day + day/2, base + 2*day + 2, base + 2*day + 3},
		"a day away":      {base, base + 1, base + 3*day, base + 2, base + 3*day + 1, base + 3, base + 4, base + 3*day + 2},
		"near the end":    {math.MaxInt64 - day - 5, math.MaxInt64 - day, math.MaxInt64 - 3, math.MaxInt64, math.MaxInt64 - 1, math.MaxInt64},
		"negative":        {-5 * day, -5*day + 1, -5*day + 2, math.MinInt64, math.MinInt64 + 1, -5*day + 3},
		"one frame a day": {base, base + day, base + 2*day, base + 3*day, base + 4*day},
	}
	for name, times := range runs {
		for odd := -1; odd < len(times); odd++ { // no odd frame, then each one odd in turn
			fp := newFastPair(Options{})
			took := 0
			for i, ts := range times {
				rec := Record{Frame: uint32(i + 1), Ts: ts, LinkType: fr.link, Data: fr.data, CapLen: len(fr.data),
					OrigLen: len(fr.data), FracOver: i == odd}
				if fp.step(t, name, &rec) {
					took++
				}
			}
			if took != len(times) {
				t.Fatalf("%s: the fast path took %d of %d frames", name, took, len(times))
			}
			fp.check(t, name)
			for src, tr := range fp.trFast { // (check compares them as endRuns leaves them: their times too)
				if sl := fp.trSlow[src]; tr.First != sl.First || tr.Last != sl.Last || tr.Frames != sl.Frames {
					t.Fatalf("%s: times %d..%d over %d frames, want %d..%d over %d", name, tr.First, tr.Last, tr.Frames,
						sl.First, sl.Last, sl.Frames)
				}
			}
		}
	}
}
