package correlate

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// BenchmarkCorrelate correlates generated IP-in-IP captures (200,000 packets, about 1.2 M frames in six
// files, 1% duplicates, 0.1% loss, node-2's clock 3 s off) that are decoded once; each iteration
// correlates a fresh copy of the fingerprints. CALIPATH_BENCH_DIR keeps the captures between runs.
func BenchmarkCorrelate(b *testing.B) {
	dir := os.Getenv("CALIPATH_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if len(files) == 0 {
		cfg := gen.DefaultConfig()
		cfg.Packets, cfg.Flows, cfg.Rate = 200000, 1000, 200000
		cfg.LossPerHop, cfg.DupRate = 0.001, 0.01
		cfg.ClockOffset = map[string]time.Duration{"node-2": 3 * time.Second}
		cfg.Dir = dir
		g, err := gen.Generate(cfg)
		if err != nil {
			b.Fatal(err)
		}
		files = g.Files
	}
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	frames := 0
	for _, obs := range c.Obs {
		frames += len(obs)
	}
	keep := c.Loose
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		c.Loose = make([]decode.Fingerprints, len(keep))
		for f := range keep {
			c.Loose[f] = keep[f].Clone()
		}
		b.StartTimer()
		Correlate(c, Options{Lean: true})
	}
	b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
}
