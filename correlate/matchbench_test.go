package correlate

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// BenchmarkMatchManyFlows is matching alone (the merge of the files by corrected time and the joining
// of sightings into journeys, matchJourneys) on a many-flow capture of 36 files: 20,000 flows, 100,000
// packets, about 600,000 frames, 1% duplicates, 0.1% loss, node-2's clock 3 s off. It is decoded once;
// each iteration matches a fresh copy of the fingerprints. CALIPATH_BENCH_DIR keeps the captures
// between runs.
func BenchmarkMatchManyFlows(b *testing.B) {
	dir := os.Getenv("CALIPATH_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	} else {
		dir = filepath.Join(dir, "match-many-flows")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if len(files) == 0 {
		cfg := manyFlowsConfig()
		cfg.Flows, cfg.Packets = 20000, 100000
		cfg.LossPerHop, cfg.DupRate, cfg.Rate = 0.001, 0.01, 200000
		cfg.ClockOffset = map[string]time.Duration{"node-2": 3 * time.Second}
		cfg.Dir, cfg.KeepTruth = dir, false
		g, err := gen.Generate(cfg)
		if err != nil {
			b.Fatal(err)
		}
		files = g.Files
	}
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	w := worldOf(c)
	clocks, _ := w.clocksFor(Options{})
	frames := 0
	for _, obs := range c.Obs {
		frames += len(obs)
	}
	keep := c.Loose
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		c.Loose = make([]decode.Fingerprints, len(keep))
		for f := range keep {
			c.Loose[f] = keep[f].Clone()
		}
		w.c.Loose = c.Loose
		b.StartTimer()
		m := newMatcher(w, clocks, Options{Window: time.Second, Lean: true})
		m.run()
		if m.next == 0 {
			b.Fatal("no journeys")
		}
	}
	b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
}
