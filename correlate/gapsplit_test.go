package correlate

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// analysisAtGaps correlates c up to the count of capture gaps (gapsFromPaths), as result does: the
// coverage, the flows, the paths, the late joins and the stops found from the paths.
func analysisAtGaps(t *testing.T, c *decode.Capture, chunk int) *analysis {
	t.Helper()
	a := analysisAtSkips(t, c, chunk)
	a.cov.stopsFromSkips(a)
	return a
}

// analysisAtSkips is analysisAtGaps up to the stops found from the paths (stopsFromSkips), not found.
func analysisAtSkips(t *testing.T, c *decode.Capture, chunk int) *analysis {
	t.Helper()
	opts := Options{Window: time.Second, chunk: chunk}
	w := worldOf(c)
	clocks, offFits := w.clocksFor(opts)
	m, err := matchJourneys(context.Background(), c, w, clocks, opts)
	if err != nil {
		t.Fatal(err)
	}
	a := &analysis{w: w, journeys: m.out(), clocks: clocks, opts: opts, nJ: int(m.next), offFits: offFits,
		wg: joinWireGuard(w, m, opts)}
	a.arenaOut = buildArena(w, m, a.nJ, false)
	a.cov, a.capDrop = newCoverage(w, clocks), newCapDrops(w, clocks, &a.journeys)
	a.unordered = a.orderOpenHops()
	a.flowsOut, a.pairMode = a.assignFlows()
	a.adoptOwnAddrs()
	a.paths = (&pathStage{w: w, flows: a.flows, jAll: a.jAll, pairMode: a.pairMode, ar: a.arenaOut, unordered: a.unordered}).buildPaths()
	a.lateOut = (&lateStage{w: w, jo: &a.journeys, ar: a.arenaOut, fo: &a.flowsOut, nJ: a.nJ}).joinLate()
	return a
}

// gapsLabCapture is underlay-loss with router-1/eth0's capture started late (lateRouter) and
// router-1/eth1's stopped after its 39th frame: packets due at the one before its start and at the
// other after its stop, early and late in the journeys' order.
func gapsLabCapture(t *testing.T) *decode.Capture {
	t.Helper()
	const dir = "../testdata/lab/scenarios/underlay-loss/"
	return labSubsetCapture(t, "underlay-loss", anyFiles, map[string][]byte{
		"router-1-eth0.pcap": lastThird(t, dir+"router-1-eth0.pcap"),
		"router-1-eth1.pcap": pcapRecords(t, dir+"router-1-eth1.pcap", 39),
	})
}

// gapsFromPaths counting the journeys from any split point on on a goroutine of their own gives, once
// the halves are joined, the counts one pass gives: the packets before and after each span, the
// farthest of them, their flows and the first ten journeys, in journey order.
func TestGapsSplitAsOnePass(t *testing.T) {
	a := analysisAtGaps(t, gapsLabCapture(t), -1)
	a.cov.gapsSplitAt(a, 0)
	want := a.cov.gaps
	before, after := 0, 0
	for _, g := range want {
		before, after = before+g.before, after+g.after
	}
	if before == 0 || after == 0 || len(want) < 2 {
		t.Fatalf("gaps %v: want packets due both before a span and after one, at two points", want)
	}
	full := false
	for _, g := range want {
		full = full || len(g.js) == 10 && g.before+g.after > 10
	}
	if !full {
		t.Fatalf("no point with more than ten journeys: the first ten are not checked")
	}
	for mid := 1; mid < a.nJ; mid++ {
		a.cov.gapsSplitAt(a, mid)
		if !reflect.DeepEqual(a.cov.gaps, want) {
			for p, g := range a.cov.gaps {
				t.Logf("point %d: %+v, one pass %+v", p, *g, want[p])
			}
			t.Fatalf("split at journey %d of %d: the gaps differ from one pass's", mid, a.nJ)
		}
	}
}

// The stage gives the same Result whether gapsFromPaths counts its journeys in one pass or in two
// halves (chunk 1: two goroutines from two journeys on).
func TestGapsSplitResult(t *testing.T) {
	c := gapsLabCapture(t)
	one := analysisAtGaps(t, c, -1)
	one.cov.gapsFromPaths(one)
	two := analysisAtGaps(t, c, 1)
	two.cov.gapsFromPaths(two)
	if len(one.cov.gaps) == 0 || !reflect.DeepEqual(one.cov.gaps, two.cov.gaps) {
		t.Fatalf("gaps in one pass %v, in two halves %v", one.cov.gaps, two.cov.gaps)
	}
}

// joinGaps adds a later range's counts to an earlier one's: sums, the larger of the farthest times,
// the flows together, the first ten journeys in order, and a point the earlier range had none at.
func TestJoinGaps(t *testing.T) {
	gaps := map[int]*gapCount{
		1: {before: 7, after: 1, early: 50, late: 9, flows: map[int32]bool{3: true}, js: []int32{1, 2, 3, 4, 5, 6, 7, 8}},
		2: {before: 1, early: 5, flows: map[int32]bool{1: true}, js: []int32{9}},
	}
	later := map[int]*gapCount{
		1: {before: 2, after: 4, early: 20, late: 30, flows: map[int32]bool{3: true, 4: true}, js: []int32{20, 21, 22, 23, 24, 25}},
		3: {after: 2, late: 7, flows: map[int32]bool{2: true}, js: []int32{30, 31}},
	}
	joinGaps(gaps, later)
	want := map[int]*gapCount{
		1: {before: 9, after: 5, early: 50, late: 30, flows: map[int32]bool{3: true, 4: true}, js: []int32{1, 2, 3, 4, 5, 6, 7, 8, 20, 21}},
		2: {before: 1, early: 5, flows: map[int32]bool{1: true}, js: []int32{9}},
		3: {after: 2, late: 7, flows: map[int32]bool{2: true}, js: []int32{30, 31}},
	}
	if !reflect.DeepEqual(gaps, want) {
		for p, g := range gaps {
			t.Logf("point %d: %+v, want %+v", p, *g, want[p])
		}
		t.Fatal("joined gaps differ")
	}
}

// The streamed flows' UDP pairs, counted beside the output's first parts on a goroutine of its own
// (chunk 1) or inline (chunk -1), are the same.
func TestUDPPairsBeside(t *testing.T) {
	run := func(chunk int) *Result {
		res := Correlate(labSubsetCapture(t, "underlay-loss", nil, nil), Options{StreamFlows: true, chunk: chunk})
		if !res.FlowsStreamed() {
			t.Fatal("the flows were not streamed")
		}
		return res
	}
	want, got := run(-1), run(1)
	pairs := 0
	for _, n := range want.analysis.udpN {
		pairs += int(n)
	}
	if pairs == 0 {
		t.Fatalf("UDP pairs %v: want some", want.analysis.udpN)
	}
	if !reflect.DeepEqual(got.analysis.udpN, want.analysis.udpN) {
		t.Fatalf("UDP pairs beside %v, inline %v", got.analysis.udpN, want.analysis.udpN)
	}
}
