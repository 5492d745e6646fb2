package correlate

import (
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/internal/testtool"
)

// BenchmarkCorrelate correlates generated IP-in-IP captures (200,000 packets, about 1.2 M frames in six
// files, 1% duplicates, 0.1% loss, node-2's clock 3 s off) that are decoded once; each iteration
// correlates a fresh copy of the fingerprints. CALIPATH_BENCH_DIR keeps the captures between runs.
func BenchmarkCorrelate(b *testing.B) {
	cfg := gen.DefaultConfig()
	cfg.Packets, cfg.Flows = 200000, 1000
	files := testtool.BenchCaptures(b, "", testtool.Impaired(cfg))
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	frames := 0
	for _, obs := range c.Obs {
		frames += len(obs)
	}
	keep := c.Loose
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		freshLoose(c, keep)
		b.StartTimer()
		Correlate(c, Options{Lean: true})
	}
	b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
}
