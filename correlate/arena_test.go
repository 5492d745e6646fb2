package correlate

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// sortQuick orders a journey's hops as sortInPlace does: by time and observation id (many equal
// times), then stably by the node order the packet took; and leaves a journey with a time in the side
// map as it was.
func TestSortQuickAsInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 2))
	w := &world{pointNode: []int{0, 0, 1, 1, 2, 3, 3, 4}}
	const s = int64(1e9)
	for round := range 2000 {
		n := 2 + rng.IntN(maxQuickHops-1)
		var t0 times
		t0.append(10 * s)
		ar := &arenaOut{jStart: []uint32{0, uint32(n)}, arena: make([]uint32, n), hopPt: make([]uint16, n)}
		ar.hopTs = newHopTimes(nil, n, &t0)
		big := round%10 == 0
		for k := range n {
			ar.arena[k] = uint32(rng.IntN(1000)) + uint32(k)*1000 // distinct ids, in no order
			ar.hopPt[k] = uint16(rng.IntN(len(w.pointNode)))
			tm := 10*s + int64(rng.IntN(4))
			if big && k == n/2 {
				tm += 5 * s // past what 4 bytes hold: the side map
			}
			ar.hopTs.set(k, 0, tm)
		}
		quick := &arenaOut{jStart: ar.jStart, arena: slices.Clone(ar.arena), hopPt: slices.Clone(ar.hopPt)}
		quick.hopTs = hopTimes{t0: &t0, dt: slices.Clone(ar.hopTs.dt)}
		ok := quick.sortQuick(w, 0, 0, n)
		if ok == big {
			t.Fatalf("round %d: sortQuick reported %v with a side-map time %v", round, ok, big)
		}
		if !ok {
			if !slices.Equal(quick.arena, ar.arena) || !slices.Equal(quick.hopPt, ar.hopPt) || !slices.Equal(quick.hopTs.dt, ar.hopTs.dt) {
				t.Fatalf("round %d: sortQuick declined but changed the slots", round)
			}
			continue
		}
		ar.sortInPlace(w, 0, 0, n, nil)
		if !slices.Equal(quick.arena, ar.arena) || !slices.Equal(quick.hopPt, ar.hopPt) || !slices.Equal(quick.hopTs.dt, ar.hopTs.dt) {
			t.Fatalf("round %d:\nquick    %v %v %v\nin place %v %v %v", round, quick.arena, quick.hopPt, quick.hopTs.dt, ar.arena, ar.hopPt, ar.hopTs.dt)
		}
	}
}

// arenaBoth matches files twice and lays out the arena of each: on one goroutine, and split between
// two (each filling and sorting half of the journeys).
func arenaBoth(t *testing.T, files []string) (one, split *arenaOut) {
	t.Helper()
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	opts := Options{Window: time.Second}
	w := worldOf(c)
	clocks, _ := w.clocksFor(opts)
	keep := c.Loose
	build := func(split bool) *arenaOut {
		c.Loose = make([]decode.Fingerprints, len(keep))
		for f := range keep {
			c.Loose[f] = keep[f].Clone()
		}
		w.c.Loose = c.Loose
		m := matchAll(w, clocks, opts)
		return buildArenaSplit(w, m, int(m.next), false, split)
	}
	return build(false), build(true)
}

// checkArenaSplit checks that the arena laid out by two goroutines is the one laid out by one: the
// same hops, in the same order, with the same points and times. It returns the number of journeys.
func checkArenaSplit(t *testing.T, files []string) int {
	t.Helper()
	one, split := arenaBoth(t, files)
	if !slices.Equal(one.jStart, split.jStart) || !slices.Equal(one.arena, split.arena) ||
		!slices.Equal(one.hopPt, split.hopPt) || !slices.Equal(one.hopTs.dt, split.hopTs.dt) ||
		!maps.Equal(one.hopTs.big, split.hopTs.big) {
		t.Fatal("the arena laid out by two goroutines differs from the one laid out by one")
	}
	return len(one.jStart) - 1
}

// The arena is the same whether one goroutine or two lay it out: on generated many-flow captures
// with loss, duplicates, DNAT and a clock off, in two modes.
func TestArenaSplitSame(t *testing.T) {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 600, 4000
	cfg.LossPerHop, cfg.DupRate, cfg.DNAT = 0.02, 0.02, 0.2
	cfg.ClockOffset = map[string]time.Duration{"node-2": 5 * time.Second}
	eachModeCaps(t, cfg, func(t *testing.T, files []string) {
		if n := checkArenaSplit(t, files); n < 1000 {
			t.Fatalf("%d journeys: too few to tell", n)
		}
	})
}

// Likewise on every lab scenario.
func TestArenaSplitLab(t *testing.T) {
	eachLabScenario(t, func(t *testing.T, files []string) { checkArenaSplit(t, files) })
}

// nodesTogether tells whether hops are grouped by node alike with node numbers below 64 (bits of a
// word) and with larger ones (a list): node numbers either side of 64 and runs coming back to a node.
func TestNodesTogetherLargeNodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(64, 3))
	w := &world{pointNode: []int{0, 1, 2, 63, 64, 65, 200, 5, 63}}
	for round := range 5000 {
		n := 1 + rng.IntN(maxQuickHops)
		pt := make([]uint16, n)
		for k := range pt {
			pt[k] = uint16(rng.IntN(len(w.pointNode)))
			if k > 0 && rng.IntN(2) == 0 {
				pt[k] = pt[k-1] // runs of one node, as journeys have
			}
		}
		if got, want := nodesTogether(w, pt), nodesTogetherList(w, pt); got != want {
			t.Fatalf("round %d: points %v: nodesTogether %v, want %v", round, pt, got, want)
		}
	}
	for _, c := range []struct {
		pt   []uint16
		want bool
	}{
		{[]uint16{0, 4, 0}, false},   // nodes 0, 64, 0: back to node 0
		{[]uint16{0, 4, 4, 6}, true}, // nodes 0, 64, 64, 200
		{[]uint16{3, 8, 1}, true},    // nodes 63, 63, 1
		{[]uint16{3, 1, 8}, false},   // nodes 63, 1, 63
	} {
		if got := nodesTogether(w, c.pt); got != c.want {
			t.Errorf("points %v: nodesTogether %v, want %v", c.pt, got, c.want)
		}
	}
}
