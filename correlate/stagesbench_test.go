package correlate

import (
	"testing"
	"time"
)

// BenchmarkAfterMatch is the stages after matching as `report --format json` runs them on one core:
// the arena (buildArenaSplit), the flows and their votes, the paths, placement, the findings and the
// flows rendered one at a time (EachFlow over streamed flows), on a capture of the many-flow set's
// shape: 20,000 flows, 170,000 packets (about 1 M frames), 1% duplicates, 0.1% loss, node-2's clock
// 3 s off. Each iteration matches a fresh copy of the fingerprints first, outside the timer.
// CALIPATH_BENCH_DIR keeps the captures between runs.
func BenchmarkAfterMatch(b *testing.B) {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 20000, 170000
	w, clocks, frames, fresh := matchBenchSetup(b, "after-match", cfg)
	opts := Options{Window: time.Second, Lean: true, StreamFlows: true, chunk: -1}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		fresh()
		m := newMatcher(w, clocks, opts)
		m.run()
		m.ring, m.loose, m.tcp = nil, nil, nil
		m.amb, m.ambByLoose, m.dupRecs = nil, nil, nil
		m.collectJourneys()
		a := &analysis{w: w, journeys: m.out(), clocks: clocks, opts: opts, nJ: int(m.next), wg: joinWireGuard(w, m, opts)}
		b.StartTimer()
		a.arenaOut = buildArenaSplit(w, m, a.nJ, false, false)
		res := a.result()
		n := perPointsWalked(res)
		if res.Summary.Flows < 19000 || n < res.Summary.Flows {
			b.Fatalf("%d flows, %d points counted", res.Summary.Flows, n)
		}
	}
	b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
}
