package correlate

import (
	"runtime"
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
		m := matchAll(w, clocks, opts)
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

// BenchmarkArena is the arena (buildArenaSplit: the journeys' hops filled in and sorted) on the
// capture of BenchmarkAfterMatch, on one goroutine on one core and on two on more (-cpu). Each
// iteration matches a fresh copy of the fingerprints first, outside the timer.
func BenchmarkArena(b *testing.B) {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 20000, 170000
	w, clocks, frames, fresh := matchBenchSetup(b, "after-match", cfg)
	opts := Options{Window: time.Second}
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration
	for range b.N {
		b.StopTimer()
		fresh()
		m := matchAll(w, clocks, opts)
		nJ := int(m.next)
		from := cpuTime()
		b.StartTimer()
		ar := buildArena(w, m, nJ, false)
		b.StopTimer()
		cpu += cpuTime() - from
		if len(ar.arena) < frames/2 {
			b.Fatalf("%d hops of %d frames", len(ar.arena), frames)
		}
	}
	b.ReportMetric(float64(cpu)/float64(b.N)/1e6, "cpu-ms/op")
	b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
}

// afterMatchSetup matches the capture of BenchmarkAfterMatch and lays out its arena once, for the
// benchmarks of a single stage after matching; opts.chunk is 0, so that the stages hand their work to
// goroutines as on the number of cores the benchmark runs with (-cpu).
func afterMatchSetup(b *testing.B) *analysis {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 20000, 170000
	w, clocks, _, fresh := matchBenchSetup(b, "after-match", cfg)
	opts := Options{Window: time.Second, StreamFlows: true}
	fresh()
	m := matchAll(w, clocks, opts)
	a := &analysis{w: w, journeys: m.out(), clocks: clocks, opts: opts, nJ: int(m.next), wg: joinWireGuard(w, m, opts)}
	a.arenaOut = buildArenaSplit(w, m, a.nJ, false, false)
	return a
}

// BenchmarkFlowStage is the flow stage (assignFlows: the flows, their votes and the node pairs'
// modes) on the capture of BenchmarkAfterMatch, inline on one core and with its goroutines on more.
func BenchmarkFlowStage(b *testing.B) {
	a := afterMatchSetup(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		fo, modes := a.assignFlows()
		if len(fo.flows) < 19000 || len(modes) == 0 {
			b.Fatalf("%d flows, %d modes", len(fo.flows), len(modes))
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(a.nJ)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mjourneys/s")
}

// reportCPU reports the CPU time per iteration since from (cpuTime): on a shared machine the work
// done, where the wall time also counts the waits for a core.
func reportCPU(b *testing.B, from time.Duration) {
	b.ReportMetric(float64(cpuTime()-from)/float64(b.N)/1e6, "cpu-ms/op")
}

// matchAll matches w's frames into journeys and drops the matcher's open-journey state, as
// matchJourneys does without its context checks and Lean mode's collections, for the tests and
// benchmarks of the stages after matching.
func matchAll(w *world, clocks []clockModel, opts Options) *matcher {
	m := newMatcher(w, clocks, opts)
	m.run()
	m.ring, m.loose, m.tcp = nil, nil, nil
	m.amb, m.ambByLoose, m.dupRecs = nil, nil, nil
	m.collectJourneys()
	return m
}

// BenchmarkPlacement is the placement stage (placeJourneys, with its segment counting) on the capture
// of BenchmarkAfterMatch, after the stages before it (outside the timer, afresh each iteration, as
// placement writes the flows' counts): on one goroutine on one core; on more (-cpu), placing on one
// goroutine and counting on another ("one"), or placing and counting half the flows on each of two
// ("two", placeTwo).
func BenchmarkPlacement(b *testing.B) {
	a := afterMatchSetup(b)
	for _, c := range []struct {
		name  string
		split int
	}{{"one", 1 << 30}, {"two", segSplit}} {
		b.Run(c.name, func(b *testing.B) {
			defer func(n int) { segSplit = n }(segSplit)
			segSplit = c.split
			b.ReportAllocs()
			var cpu time.Duration
			for range b.N {
				b.StopTimer()
				a.cov, a.capDrop = newCoverage(a.w, a.clocks), newCapDrops(a.w, a.clocks, &a.journeys)
				a.flowsOut, a.pairMode = a.assignFlows()
				a.adoptOwnAddrs()
				a.paths = (&pathStage{w: a.w, flows: a.flows, jAll: a.jAll, pairMode: a.pairMode, ar: a.arenaOut}).buildPaths()
				a.lateOut = (&lateStage{w: a.w, jo: &a.journeys, ar: a.arenaOut, fo: &a.flowsOut, nJ: a.nJ}).joinLate()
				a.cov.stopsFromSkips(a)
				a.oneWay = a.findOneWay()
				runtime.GC()
				from := cpuTime()
				b.StartTimer()
				placed, _ := placeJourneys(a)
				b.StopTimer()
				cpu += cpuTime() - from
				if len(placed.jStatus) != a.nJ || len(placed.segs) == 0 {
					b.Fatalf("%d statuses of %d journeys, %d segments", len(placed.jStatus), a.nJ, len(placed.segs))
				}
			}
			b.ReportMetric(float64(cpu)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}
