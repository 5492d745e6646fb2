package report

import (
	"bytes"
	"io"
	"runtime"
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

// TestStreamedFlowsJSON checks that the JSON report of a Result that streams its flows
// (Options.StreamFlows, never all in memory) is byte for byte that of one that lists them, with and
// without --journeys, on a small many-flow capture with loss, duplicates and DNAT.
func TestStreamedFlowsJSON(t *testing.T) {
	files := manyFlowsCaps(t, 400, 3000, true)
	for _, journeys := range []bool{false, true} {
		var out [2]bytes.Buffer
		for i, stream := range []bool{false, true} {
			c := decode.Load(files, decode.Options{}, decode.PointConfig{})
			res := correlate.Correlate(c, correlate.Options{Lean: true, StreamFlows: stream})
			if res.FlowsStreamed() != stream || (stream && res.Flows != nil) {
				t.Fatalf("StreamFlows %v: FlowsStreamed %v, %d flows listed", stream, res.FlowsStreamed(), len(res.Flows))
			}
			if err := New(&out[i], WithFormat(JSON), WithJourneys(journeys)).Print(res); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(out[0].Bytes(), out[1].Bytes()) {
			t.Errorf("--journeys %v: the JSON with the flows streamed (%d bytes) differs from the JSON with them listed (%d bytes)",
				journeys, out[1].Len(), out[0].Len())
		}
		if !bytes.Contains(out[1].Bytes(), []byte(`"id": "f400"`)) {
			t.Errorf("--journeys %v: the streamed JSON lacks flow f400", journeys)
		}
	}
}

// BenchmarkStreamedFlowsJSON weighs writing the flows out as `report --format json` does: 24,000
// flows of about four packets each, correlated once, lean, with the flows streamed
// (Options.StreamFlows), so that each iteration renders every flow (Result.EachFlow) and writes it.
// It reports the output's bytes a second, ns and allocations per flow; run with -cpu 1 for one core.
// CALIPATH_BENCH_DIR keeps the captures between runs.
func BenchmarkStreamedFlowsJSON(b *testing.B) {
	res := perFlowBenchResult(b)
	var size countWriter
	if err := New(&size, WithFormat(JSON)).Print(res); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := New(io.Discard, WithFormat(JSON)).Print(res); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(res.Summary.Flows), "ns/flow")
	b.ReportMetric(float64(testing.AllocsPerRun(1, func() { _ = New(io.Discard, WithFormat(JSON)).Print(res) }))/float64(res.Summary.Flows), "allocs/flow")
}

// countWriter counts the bytes written to it.
type countWriter int

func (c *countWriter) Write(b []byte) (int, error) {
	*c += countWriter(len(b))
	return len(b), nil
}

// TestStreamedFlowsJSONAllocs checks that writing streamed flows as JSON allocates nothing per flow
// on one core (rendered one at a time into the same Flow and arrays): on a many-flow capture without
// NAT, loss or ICMP (whose lists are made per flow), fewer allocations than a tenth of the flows.
func TestStreamedFlowsJSONAllocs(t *testing.T) {
	c := decode.Load(manyFlowsCaps(t, 2000, 8000, false), decode.Options{}, decode.PointConfig{})
	res := correlate.Correlate(c, correlate.Options{Lean: true, StreamFlows: true})
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	allocs := testing.AllocsPerRun(2, func() {
		if err := New(io.Discard, WithFormat(JSON)).Print(res); err != nil {
			t.Fatal(err)
		}
	})
	if res.Summary.Flows < 1000 || allocs >= float64(res.Summary.Flows)/10 {
		t.Errorf("%d flows written with %.0f allocations, want at least 1,000 flows and fewer than a tenth as many allocations",
			res.Summary.Flows, allocs)
	}
}

// perFlowBenchResult is the streamed Result of the per-flow benchmarks' capture: 24,000 flows of
// about four packets each, impaired, correlated once, lean (CALIPATH_BENCH_DIR keeps the captures).
func perFlowBenchResult(b *testing.B) *correlate.Result {
	cfg := testtool.Impaired(gen.DefaultConfig())
	cfg.Mix = gen.MixManyFlows
	cfg.Nodes, cfg.PodsPerNode = 2, 16
	cfg.Flows, cfg.Packets, cfg.ClockOffset = 24000, 96000, nil
	c := decode.Load(testtool.BenchCaptures(b, "per-flow", cfg), decode.Options{}, decode.PointConfig{})
	res := correlate.Correlate(c, correlate.Options{Lean: true, StreamFlows: true})
	if !res.FlowsStreamed() || res.Summary.Flows < 20000 {
		b.Fatalf("%d flows (streamed %v), want at least 20,000 streamed", res.Summary.Flows, res.FlowsStreamed())
	}
	return res
}
