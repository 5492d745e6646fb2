package correlate

import (
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/internal/testtool"
)

// BenchmarkMatchManyFlows is matching alone (the merge of the files by corrected time and the joining
// of sightings into journeys, matchJourneys) on a many-flow capture of 36 files: 20,000 flows, 100,000
// packets, about 600,000 frames, 1% duplicates, 0.1% loss, node-2's clock 3 s off. It is decoded once;
// each iteration matches a fresh copy of the fingerprints. CALIPATH_BENCH_DIR keeps the captures
// between runs.
func BenchmarkMatchManyFlows(b *testing.B) {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 20000, 100000
	w, clocks, frames, fresh := matchBenchSetup(b, "match-many-flows", cfg)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		fresh()
		b.StartTimer()
		m := newMatcher(w, clocks, Options{Window: time.Second, Lean: true})
		m.run()
		if m.next == 0 {
			b.Fatal("no journeys")
		}
	}
	b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
}

// BenchmarkMatchArena is matching and the arena (matchJourneys' merge and joining, the journey ids
// collected, buildArena's layout and hop sort) on a many-flow capture long enough for the window to
// close journeys as it goes, as on scripts/bench.sh's many-flow set: 50,000 flows, 400,000 packets
// over 2 s (twice the window), about 2.4 M frames, 1% duplicates, 0.1% loss, node-2's clock 3 s off.
// It is decoded once; each iteration matches a fresh copy of the fingerprints. CALIPATH_BENCH_DIR
// keeps the captures between runs.
func BenchmarkMatchArena(b *testing.B) {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 50000, 400000
	w, clocks, frames, fresh := matchBenchSetup(b, "match-arena", cfg)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		fresh()
		b.StartTimer()
		m := matchAll(w, clocks, Options{Window: time.Second, Lean: true})
		nJ := int(m.next)
		ar := buildArena(w, m, nJ, false)
		if nJ == 0 || len(ar.arena) == 0 {
			b.Fatal("no journeys")
		}
	}
	b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
}

// matchBenchSetup decodes the benchmark's captures (generated from cfg, kept under name) once and
// returns their world, clocks and frame count, and fresh, which gives the world a new copy of the
// fingerprints for the next match (matching consumes them).
func matchBenchSetup(b *testing.B, name string, cfg gen.Config) (w *world, clocks []clockModel, frames int, fresh func()) {
	files := testtool.BenchCaptures(b, name, testtool.Impaired(cfg))
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	w = worldOf(c)
	clocks, _ = w.clocksFor(Options{})
	for _, obs := range c.Obs {
		frames += len(obs)
	}
	keep := c.Loose
	fresh = func() {
		c.Loose = make([]decode.Fingerprints, len(keep))
		for f := range keep {
			c.Loose[f] = keep[f].Clone()
		}
		w.c.Loose = c.Loose
	}
	return w, clocks, frames, fresh
}
