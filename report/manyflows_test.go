package report

import (
	"io"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/internal/testtool"
)

// BenchmarkManyFlowsJSON writes the JSON report (`report --format json`) of a small many-flow capture
// (3,000 flows, 20,000 packets, about 120,000 frames), correlated once as `report` does (lean), with
// every journey in the Result (Options.Journeys), and lean with the journeys rendered while writing
// (`--journeys`, streamed). CALIPATH_BENCH_DIR keeps the captures between runs.
func BenchmarkManyFlowsJSON(b *testing.B) {
	cfg := gen.DefaultConfig()
	cfg.Mix = gen.MixManyFlows
	cfg.Nodes, cfg.PodsPerNode = 2, 16
	cfg.Flows, cfg.Packets = 3000, 20000
	files := testtool.BenchCaptures(b, "many-flows", testtool.Impaired(cfg))
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	frames := 0
	for _, obs := range c.Obs {
		frames += len(obs)
	}
	keep := c.Loose
	for _, o := range []struct {
		name     string
		opts     correlate.Options
		journeys bool
	}{{"lean", correlate.Options{Lean: true}, false}, {"journeys", correlate.Options{Journeys: true}, false},
		{"journeys-streamed", correlate.Options{Lean: true}, true}} {
		b.Run(o.name, func(b *testing.B) {
			c.Loose = make([]decode.Fingerprints, len(keep)) // Correlate consumes the fingerprints
			for f := range keep {
				c.Loose[f] = keep[f].Clone()
			}
			res := correlate.Correlate(c, o.opts)
			if len(res.Flows) == 0 {
				b.Fatal("no flows")
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := New(io.Discard, WithFormat(JSON), WithJourneys(o.journeys)).Print(res); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(res.Flows)), "ns/flow")
			b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
		})
	}
}
