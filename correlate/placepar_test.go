package correlate

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// Two latency accumulators merged summarise as one given all their values would: exact up to
// exactSamples values, a histogram past them, whichever of the two was which, with values too wide for
// 32 bits and negative ones among them.
func TestLatMergeSame(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	for _, n := range []int{0, 1, 2, 100, exactSamples - 1, exactSamples, exactSamples + 1, 2 * exactSamples, 3*exactSamples + 7} {
		for round := range 8 {
			var all, a, b latAcc
			for range n {
				v := r.Int63n(5_000_000) - 50_000
				switch r.Intn(50) {
				case 0:
					v = r.Int63n(1<<40) + 1<<32 // wider than 32 bits
				case 1:
					v = -r.Int63n(1 << 35)
				}
				all.add(v)
				// the split: by turns, all to one side, or at random
				if round%4 == 0 && r.Intn(2) == 0 || round%4 == 1 || round%4 == 3 && r.Intn(5) == 0 {
					a.add(v)
				} else {
					b.add(v)
				}
			}
			want := all.summary()
			a.merge(&b)
			if got := a.summary(); got != want {
				t.Fatalf("%d values, round %d: merged %+v, want %+v", n, round, got, want)
			}
		}
	}
}

// mergeSegs adds the second goroutine's segments to the first's: a segment only the second made is taken
// whole (and found through segDense), a segment both made keeps the kind and unplaced of the one the
// earlier journey made, its counts are summed, its largest lengths kept, its flows' losses summed and
// its evidence merged in journey order.
func TestMergeSegs(t *testing.T) {
	ev := func(fi, j int32) lossEv {
		return lossEv{fi, j, Evidence{File: fmt.Sprint("f", fi), Frame: uint32(j)}}
	}
	for _, earlierSecond := range []bool{false, true} {
		pl := &placement{placementOut: &placementOut{segs: map[[2]int]*segAcc{}, segDense: make([]*segAcc, 9)}}
		pl.analysis = &analysis{w: &world{c: &decode.Capture{Points: make([]decode.Point, 3)}}}
		o := &placement{placementOut: &placementOut{segs: map[[2]int]*segAcc{}}}
		s := &segAcc{from: 0, to: 1, kind: "host", j0: 5, packets: 3, delivered: 1, lost: 2, notCaptured: 0, negative: 1,
			flows: map[int32]int{2: 2}, evidence: []lossEv{ev(2, 6), ev(2, 40)}, lostDF: 1, lostV6: 0, refused: 1,
			lostMaxLen: 1400, passMaxLen: 100, holes: 0}
		s.lat.add(10)
		s.lat.add(30)
		tw := &segAcc{from: 0, to: 1, kind: "side unknown", unplaced: [2]int{0, 2}, j0: 9, packets: 4, delivered: 2, lost: 1,
			notCaptured: 1, negative: 0, flows: map[int32]int{3: 1}, evidence: []lossEv{ev(3, 20)}, lostDF: 1, lostV6: 1,
			refused: 0, lostMaxLen: 900, passMaxLen: 1500, holes: 1}
		tw.lat.add(20)
		if earlierSecond {
			tw.j0 = 2
		}
		only := &segAcc{from: 1, to: 2, kind: "underlay", flows: map[int32]int{}, packets: 1}
		pl.segs[[2]int{0, 1}], pl.segDense[1] = s, s
		o.segs[[2]int{0, 1}], o.segs[[2]int{1, 2}] = tw, only
		pl.mergeSegs(o)
		if pl.segs[[2]int{1, 2}] != only || pl.segDense[1*3+2] != only {
			t.Fatalf("the second goroutine's own segment is not taken: %v %v", pl.segs[[2]int{1, 2}], pl.segDense[5])
		}
		got := pl.segs[[2]int{0, 1}]
		wantKind, wantUnplaced := "host", [2]int{}
		if earlierSecond {
			wantKind, wantUnplaced = "side unknown", [2]int{0, 2}
		}
		if got.kind != wantKind || got.unplaced != wantUnplaced {
			t.Errorf("earlier journey the second's %v: kind %q unplaced %v, want %q %v", earlierSecond, got.kind, got.unplaced,
				wantKind, wantUnplaced)
		}
		counts := [...]int{got.packets, got.delivered, got.lost, got.notCaptured, got.negative, got.lostDF, got.lostV6, got.refused,
			got.lostMaxLen, got.passMaxLen, got.holes}
		if want := [...]int{7, 3, 3, 1, 1, 2, 1, 1, 1400, 1500, 1}; counts != want {
			t.Errorf("counts %v, want %v", counts, want)
		}
		if want := map[int32]int{2: 2, 3: 1}; !reflect.DeepEqual(got.flows, want) {
			t.Errorf("flows %v, want %v", got.flows, want)
		}
		if want := []lossEv{ev(2, 6), ev(3, 20), ev(2, 40)}; !reflect.DeepEqual(got.evidence, want) {
			t.Errorf("evidence %v, want %v", got.evidence, want)
		}
		if l := got.lat.summary(); l.N != 3 || l.Min != 10 || l.Max != 30 || l.P50 != 20 {
			t.Errorf("latency %+v, want 3 of 10, 20, 30", l)
		}
	}
}

// checkPlaceTwo correlates files with placement on two goroutines (chunks
// of chunk journeys, small enough for the journeys to fill segSplit of them) at GOMAXPROCS 1, 2 and
// 4: the same Result (as JSON, with the journeys) as with the counting done inline. It returns how
// many journeys there were, 0 when they were not placed on two goroutines (too few, or flows too few
// to split).
func checkPlaceTwo(t *testing.T, files []string, chunk int) int {
	t.Helper()
	run := func(chunk int) ([]byte, int) {
		res := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{Journeys: true, chunk: chunk})
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		return b, len(res.Journeys)
	}
	want, n := run(-1)
	split := placedTwo.Load()
	for _, procs := range []int{1, 2, 4} {
		old := runtime.GOMAXPROCS(procs)
		got, _ := run(chunk)
		runtime.GOMAXPROCS(old)
		if string(got) != string(want) {
			t.Fatalf("GOMAXPROCS %d, two goroutines: the Result differs from the one placed on one", procs)
		}
	}
	if placedTwo.Load() == split {
		return 0 // placed on one
	}
	return n
}

// splitFlows splits the flows where the larger half has the fewest journeys, the second half's flows
// after the first's, and finds the second half's first journey; no split when one half would have
// none.
func TestSplitFlows(t *testing.T) {
	type flows struct {
		fs   []*flowAcc
		jAll []int32
	}
	mk := func(js ...[]int32) flows {
		var f flows
		for _, l := range js {
			n := int32(len(l) / 2)
			f.fs = append(f.fs, &flowAcc{jAt: int32(len(f.jAll)), nC2S: n, nS2C: int32(len(l)) - n})
			f.jAll = append(f.jAll, l...)
		}
		return f
	}
	for _, c := range []struct {
		flows     flows
		mid, from int
	}{
		{mk([]int32{0, 2}, []int32{1, 3}), 1, 1},
		{mk([]int32{0, 5}, []int32{1, 2}, []int32{3, 4}, []int32{6, 7}), 2, 3},
		// c2s then s2c, each in journey order: the flow's first journey is either list's first
		{mk([]int32{0, 1, 2, 3}, []int32{4, 5, 6, 8}, []int32{9, 7}), 1, 4},
		{mk([]int32{0, 1, 2, 3}, []int32{9, 7}), 1, 7},
		{mk([]int32{0, 1, 2, 3, 4, 5}, []int32{6, 7}), 1, 6},
		{mk([]int32{0}, []int32{1, 2, 3, 4, 5}, []int32{6, 7}), 2, 6},
		{mk([]int32{0, 1}, []int32{2}, []int32{3, 4, 5, 6, 7, 8}), 2, 3},
		{mk([]int32{0, 1, 2}), 0, 0},
		{mk([]int32{0, 1}, []int32{}, []int32{}), 0, 0},
		{mk(), 0, 0},
	} {
		mid, from := splitFlows(c.flows.fs, c.flows.jAll)
		if int(mid) != c.mid || from != c.from {
			t.Errorf("%d flows: split at flow %d, first journey %d; want %d, %d", len(c.flows.fs), mid, from, c.mid, c.from)
		}
		// the flow's first journey splitFlows and tcpStep both take (firstJourneyIn): the least of its
		// journeys either way, -1 for none
		fo := &flowsOut{jAll: c.flows.jAll}
		for fi, fl := range c.flows.fs {
			want := int32(-1)
			for _, j := range fo.journeysOf(fl) {
				if want < 0 || j < want {
					want = j
				}
			}
			if got := fo.firstJourney(fl); got != want {
				t.Errorf("%d flows: flow %d's first journey %d, want %d", len(c.flows.fs), fi, got, want)
			}
		}
	}
}

// Placement on two goroutines (placeTwo) gives the Result it gives on one, on
// generated many-flow captures with loss, duplicates, DNAT, retransmissions and a clock off (segments shared by
// the flows of both halves, some with more latencies than exactSamples).
func TestPlaceTwoSame(t *testing.T) {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 800, 10000
	cfg.LossPerHop, cfg.DupRate, cfg.DNAT, cfg.RetransRate = 0.03, 0.02, 0.2, 0.01
	cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
	for _, mode := range []gen.Mode{gen.ModeIPIP, gen.ModeVXLAN} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			cfg.Mode, cfg.Dir = mode, t.TempDir()
			g, err := gen.Generate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if checkPlaceTwo(t, g.Files, 7) == 0 {
				t.Fatal("too few journeys for two goroutines")
			}
		})
	}
}

// Likewise on every lab scenario; most have journeys enough for two goroutines.
func TestPlaceTwoLab(t *testing.T) {
	split, all := 0, 0
	eachLabScenario(t, func(t *testing.T, files []string) {
		all++
		if checkPlaceTwo(t, files, 1) > 0 {
			split++
		}
	})
	if split < all/2 {
		t.Errorf("two goroutines in %d of %d scenarios: too few to tell", split, all)
	}
}

// mergeHalf adds the second goroutine's lists in journey order (open ends, ACK-cleared segments), its
// resends to the set and its counts per point to the first's.
func TestMergeHalf(t *testing.T) {
	mk := func() *placement {
		return &placement{placementOut: &placementOut{segs: map[[2]int]*segAcc{}, retransJ: map[int32]bool{}},
			oe: &openEndFinder{}, capDrop: &capDrops{vanished: make([]int, 3)}}
	}
	pl, o := mk(), mk()
	pl.oe.found = []openEnd{{j: 2, point: 1}, {j: 9, point: 1, left: true}, {j: 9, point: 0}}
	o.oe.found = []openEnd{{j: 1, point: 2}, {j: 5, point: 2, left: true}, {j: 5, point: 0}, {j: 12, point: 1}}
	pl.ackedMiss, o.ackedMiss = []ackedMiss{{j: 4, point: 1}}, []ackedMiss{{j: 3, point: 2}, {j: 7, point: 0}}
	pl.retransJ[4], o.retransJ[3] = true, true
	pl.capDrop.vanished[1], o.capDrop.vanished[1], o.capDrop.vanished[2] = 2, 3, 1
	o.enteredAt = []int32{0, 4, 1}
	pl.mergeHalf(o)
	var js []int32
	for _, e := range pl.oe.found {
		js = append(js, e.j)
	}
	if want := []int32{1, 2, 5, 5, 9, 9, 12}; !reflect.DeepEqual(js, want) || !pl.oe.found[2].left || !pl.oe.found[4].left {
		t.Errorf("open ends %+v, want journeys %v, each journey's in its half's order", pl.oe.found, want)
	}
	if want := []ackedMiss{{j: 3, point: 2}, {j: 4, point: 1}, {j: 7, point: 0}}; !reflect.DeepEqual(pl.ackedMiss, want) {
		t.Errorf("ACK-cleared %v, want %v", pl.ackedMiss, want)
	}
	if want := map[int32]bool{3: true, 4: true}; !reflect.DeepEqual(pl.retransJ, want) {
		t.Errorf("resends %v, want %v", pl.retransJ, want)
	}
	if want := []int{0, 5, 1}; !reflect.DeepEqual(pl.capDrop.vanished, want) {
		t.Errorf("vanished %v, want %v", pl.capDrop.vanished, want)
	}
	if want := []int32{0, 4, 1}; !reflect.DeepEqual(pl.enteredAt, want) {
		t.Errorf("entered past %v, want %v", pl.enteredAt, want)
	}
}
