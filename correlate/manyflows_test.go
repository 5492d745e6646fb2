package correlate

import (
	"runtime"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/internal/testtool"
)

// manyFlowsConfig is a small capture of the many-flow mix: 3,000 flows, mostly DNS-like UDP
// request/response pairs and short TCP connections, from 30 client pods to one server pod per node.
func manyFlowsConfig() gen.Config {
	cfg := gen.DefaultConfig()
	cfg.Mix = gen.MixManyFlows
	cfg.Nodes, cfg.PodsPerNode = 2, 16
	cfg.Flows, cfg.Packets = 3000, 20000
	return cfg
}

// The property test on the many-flow mix: with loss, duplicates, retransmissions, DNAT and a clock
// 5 s off, every packet gets exactly its true journey, every loss is placed on its segment, the
// counts are the truth's (checkCounts) and every generated flow is found.
func TestPropertyManyFlows(t *testing.T) {
	for _, mode := range []gen.Mode{gen.ModeIPIP, gen.ModeVXLAN, gen.ModeBGP} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg := manyFlowsConfig()
			cfg.Seed = 17
			cfg.Mode = mode
			cfg.Rate = 2000 // 10 s of traffic
			cfg.LossPerHop = 0.01
			cfg.DupRate = 0.05
			cfg.RetransRate = 0.01
			cfg.DNAT = 0.2
			cfg.ClockOffset = map[string]time.Duration{"node-2": 5 * time.Second}
			g, res := runGen(t, cfg)
			frac := checkTruth(t, g, res)
			t.Logf("%.4f%% of %d journeys exact, %d flows found", frac*100, len(g.Truth.Packets), len(res.Flows))
			if frac != 1 {
				t.Errorf("only %.3f%% of journeys recovered exactly, want all", frac*100)
			}
			if len(res.Flows) != cfg.Flows {
				t.Errorf("%d flows found, %d generated", len(res.Flows), cfg.Flows)
			}
		})
	}
}

// BenchmarkManyFlows correlates a small many-flow capture (3,000 flows, 20,000 packets, about 120,000
// frames; 1% duplicates, 0.1% loss, node-2's clock 3 s off) decoded once, as `report` does (lean) and
// with the journeys kept; each iteration correlates a fresh copy of the fingerprints.
// CALIPATH_BENCH_DIR keeps the captures between runs.
func BenchmarkManyFlows(b *testing.B) {
	files := testtool.BenchCaptures(b, "many-flows", testtool.Impaired(manyFlowsConfig()))
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	frames := 0
	for _, obs := range c.Obs {
		frames += len(obs)
	}
	keep := c.Loose
	for _, o := range []struct {
		name string
		opts Options
	}{{"lean", Options{Lean: true}}, {"journeys", Options{Journeys: true}}} {
		b.Run(o.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				c.Loose = make([]decode.Fingerprints, len(keep))
				for f := range keep {
					c.Loose[f] = keep[f].Clone()
				}
				b.StartTimer()
				Correlate(c, o.opts)
			}
			b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
		})
	}
}

// perFlowCapture loads BenchmarkPerFlow's captures: 24,000 flows of about four packets each.
func perFlowCapture(b *testing.B) *decode.Capture {
	cfg := testtool.Impaired(manyFlowsConfig())
	cfg.Flows, cfg.Packets, cfg.ClockOffset = 24000, 96000, nil
	return decode.Load(testtool.BenchCaptures(b, "per-flow", cfg), decode.Options{}, decode.PointConfig{})
}

// freshLoose gives c a fresh copy of the fingerprints keep, which a lean correlation drops.
func freshLoose(c *decode.Capture, keep []decode.Fingerprints) {
	c.Loose = make([]decode.Fingerprints, len(keep))
	for f := range keep {
		c.Loose[f] = keep[f].Clone()
	}
}

// BenchmarkPerFlow weighs the per-flow path: 24,000 flows of about four packets each (96,000 packets,
// about 600,000 frames), so that numbering, voting, placing and writing out flows outweighs
// matching frames; as `report` correlates (lean). Each iteration correlates a fresh copy of the
// fingerprints. CALIPATH_BENCH_DIR keeps the captures between runs.
func BenchmarkPerFlow(b *testing.B) {
	c := perFlowCapture(b)
	keep := c.Loose
	var res *Result
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		freshLoose(c, keep)
		b.StartTimer()
		res = Correlate(c, Options{Lean: true})
		if len(res.Flows) < 20000 {
			b.Fatalf("%d flows, want at least 20,000", len(res.Flows))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)*24000/b.Elapsed().Seconds(), "flows/s")
	// What a Result keeps alive beside the capture, per flow (as the TUI holds it for a session).
	c.Loose = nil
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	withRes := ms.HeapAlloc
	runtime.KeepAlive(res)
	res = nil
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(withRes-ms.HeapAlloc)/24000, "live-B/flow")
}

// TestHopDetailDropped checks that the arena's per-hop points and times (6 bytes a hop) are gone once
// the Result is built, so that they are not on the memory peak of writing many flows out, while the
// journeys are still rendered from what stays: each flow's journeys, and each journey's hops.
func TestHopDetailDropped(t *testing.T) {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 200, 1000
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
	res := Correlate(c, Options{Lean: true})
	a := res.analysis
	if a.hopPt != nil || a.hopTs.dt != nil {
		t.Errorf("the Result keeps %d hop points and %d hop times, want none", len(a.hopPt), len(a.hopTs.dt))
	}
	if len(res.Flows) == 0 {
		t.Fatal("no flows")
	}
	js := res.FlowJourneys(res.Flows[0].ID)
	if len(js) == 0 || len(js[0].Hops) == 0 {
		t.Fatalf("flow %s: %d journeys, want some with hops", res.Flows[0].ID, len(js))
	}
}
