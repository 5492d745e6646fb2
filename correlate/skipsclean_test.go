package correlate

import (
	"math"
	"math/rand"
	"reflect"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// skipsClean counts the journeys it takes as countSkips does: the skip counts by point are the same
// with it (cleanJourneys) and with every journey walked hop by hop by countSkips' general loop, on one
// goroutine and on two, on generated many-flow captures with loss and duplicates (5 s of them) and on the lab
// capture whose router captures start late and stop early; and on the generated captures it counts
// journeys itself (not all are left to countSkips).
func TestSkipsCleanAsCountSkips(t *testing.T) {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 800, 10000
	cfg.LossPerHop, cfg.DupRate, cfg.Rate = 0.03, 0.02, 2000 // 5 s: journeys near a capture's start, its end, neither
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	caps := []struct {
		name string
		c    *decode.Capture
	}{{"generated", decode.Load(g.Files, decode.Options{}, decode.PointConfig{})}, {"lab", gapsLabCapture(t)}}
	for _, tc := range caps {
		for _, chunk := range []int{-1, 1} { // one goroutine, two
			a := analysisAtSkips(t, tc.c, chunk)
			got := a.cov.skipCounts(a)
			cleanJourneys = false
			want := a.cov.skipCounts(a)
			cleanJourneys = true
			if len(want) == 0 || want == nil {
				t.Fatalf("%s: no candidate point: nothing to compare", tc.name)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, chunk %d: skip counts %v, counted hop by hop %v", tc.name, chunk, got, want)
			}
			if tc.name != "generated" {
				continue
			}
			// skipsClean alone, each journey it leaves passed over: it counts some as seen
			at := a.cov.candidatesOnPaths(a, candsOf(a))
			n := make([]skipCounts, len(a.cov.first))
			for j := 0; j < a.nJ; {
				end := min(a.nJ, (j|(trimRun-1))+1)
				if j = skipsClean(a, at, n, j, end); j < end {
					j++
				}
			}
			seen := int32(0)
			for _, k := range n {
				seen += k.seen
			}
			if seen == 0 {
				t.Fatalf("skipsClean counted no journey")
			}
		}
	}
}

// candsOf is skipCounts' candidate points of a.
func candsOf(a *analysis) []bool {
	c := &a.cov
	cand := make([]bool, len(c.first))
	for p := range cand {
		cand[p] = a.w.c.Points[p].Traffic.Frames > 0 && (c.known == nil || !c.known[p]) &&
			(c.ownLast[p]+coverageGrace < c.last[p] || c.ownFirst[p]-coverageGrace > c.first[p])
	}
	return cand
}

// TestSkipPathNear checks near (t0 outside the quiet window quiet works out) against its definition,
// some candidate k with t0 > k.late or t0 < k.early, for none to four candidates (some with early past
// late: always near), at every time around their bounds.
func TestSkipPathNear(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for range 2000 {
		sp := skipPath{cands: make([]skipCand, rng.Intn(5))}
		var at []int64
		for i := range sp.cands {
			e, l := rng.Int63n(100), rng.Int63n(100)
			sp.cands[i] = skipCand{p: i, late: l, early: e}
			at = append(at, e-1, e, e+1, l-1, l, l+1)
		}
		sp.quiet()
		for _, t0 := range append(at, -1000, 1000, math.MinInt64, math.MaxInt64) {
			want := false
			for _, k := range sp.cands {
				want = want || t0 > k.late || t0 < k.early
			}
			if got := sp.near(t0); got != want {
				t.Fatalf("candidates %+v, t0 %d: near %v, want %v", sp.cands, t0, got, want)
			}
		}
	}
}
