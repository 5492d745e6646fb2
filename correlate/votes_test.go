package correlate

import (
	"math/rand/v2"
	"testing"
)

// TestTally compares a tally with the votes it stands for, on random runs of few keys: its top and
// its top among the keys a filter keeps. The tally is one of a dirVotes' (tDst), whose others stay
// empty.
func TestTally(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for run := range 2000 {
		var dv dirVotes
		var v votes
		keys := 1 + rng.IntN(4)
		for i := range rng.IntN(12) {
			k := rng.IntN(keys) * 7
			if i > 0 && rng.IntN(3) > 0 {
				k = int(v[0].key) // mostly the first key again
			}
			if !dv.tl[tDst].add(k) {
				dv.addMore(tDst, k)
			}
			v.add(k)
			if got, want := dv.top(tDst), v.top(); got != want {
				t.Fatalf("run %d after %d adds: top %d, want %d (votes %v)", run, i+1, got, want, v)
			}
			for _, cut := range []int{0, 7, 14} {
				keep := func(k int) bool { return k >= cut }
				if got, want := dv.topWhere(tDst, keep), v.topWhere(keep); got != want {
					t.Fatalf("run %d after %d adds: top of keys >= %d %d, want %d (votes %v)", run, i+1, cut, got, want, v)
				}
			}
		}
		if len(v) == 0 && (dv.top(tDst) != -1 || dv.topWhere(tDst, func(int) bool { return true }) != -1) {
			t.Fatalf("run %d: empty tally has a top", run)
		}
		for _, i := range []int{tSrc, tSrcPod, tDstPod} {
			if dv.top(i) != -1 {
				t.Fatalf("run %d: tally %d has a top", run, i)
			}
		}
	}
}
