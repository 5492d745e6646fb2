package correlate

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// aheadBatch sums the loose index's buckets of every sighting of a batch, as a plain loop over them
// does, for batches of each length around its four a turn and around aheadRun.
func TestAheadBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	head := make([]int32, 1<<6)
	for i := range head {
		head[i] = r.Int32N(1 << 20)
	}
	for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, aheadRun - 1, aheadRun, aheadRun + 1, 1000} {
		b := make([]sighting, n)
		want := int32(0)
		for i := range b {
			b[i].loose = r.Uint64()
			want += head[int(hash32(b[i].loose))&(len(head)-1)]
		}
		if got := aheadBatch(head, b); got != want {
			t.Errorf("%d sightings: sum %d, want %d", n, got, want)
		}
	}
}

// matchBatch (the two-core matcher's loop: the batch aheadRun at a time, each run's buckets read
// first, then its sightings stepped through stepBatch) gives every Observation the journey and hop
// rank that stepping each sighting of the merge's order one at a time gives: on a generated set with
// duplicates and a clock off, in batches of the merge's sizes, around aheadRun and of one sighting.
func TestMatchBatchRuns(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Flows, cfg.Packets, cfg.Dir = 40, 2000, t.TempDir()
	cfg.DupRate, cfg.Identical = 0.03, 2
	cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
	match := func(batch int, each bool) *matcher {
		w := worldOf(c)
		clocks, _ := w.clocksFor(Options{})
		m := newMatcher(w, clocks, Options{Window: time.Second})
		m.batch = batch
		batches, free := m.start()
		for b := range batches {
			if each {
				for i := range b {
					m.step(&b[i])
				}
			} else {
				m.matchBatch(b)
			}
			free <- b[:0]
		}
		return m
	}
	for _, batch := range []int{1, 7, aheadRun - 1, aheadRun, aheadRun + 1, 3*aheadRun + 5, sightingBatch} {
		want, got := match(batch, true), match(batch, false)
		if got.next != want.next {
			t.Fatalf("batch %d: %d journeys, want %d", batch, got.next, want.next)
		}
		n := 0
		for f := range want.fp {
			for k, ch := range want.fp[f].Chunks {
				if gc := got.fp[f].Chunks[k]; !slices.Equal(gc, ch) {
					t.Fatalf("batch %d: file %d chunk %d: the journeys' slots differ", batch, f, k)
				}
				for _, v := range ch {
					if v != 0 {
						n++
					}
				}
			}
		}
		if n == 0 {
			t.Fatalf("batch %d: no Observation joined a journey", batch)
		}
	}
}
