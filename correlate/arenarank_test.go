package correlate

import (
	"slices"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// The fill puts each hop of a journey in the slot of its rank, the order the matcher attached the
// journey's sightings in (rankShift): on generated many-flow captures nearly every journey of two
// hops or more is then in path order as filled, before any sort (hopsInOrder), where a fill in the
// files' order leaves nearly none so (a journey's hops come node by node, each node's files in one
// order whatever the packet's direction).
func TestArenaFillRankOrder(t *testing.T) {
	c := decode.Load(manyFlowsCaps(t), decode.Options{}, decode.PointConfig{})
	w := worldOf(c)
	clocks, _ := w.clocksFor(Options{})
	m := newMatcher(w, clocks, Options{Window: time.Second})
	m.run()
	m.collectJourneys()
	nJ := int(m.next)
	ar := arenaFor(m, nJ)
	ar.fill(w, m, 0, int32(nJ))
	many, ordered := 0, 0
	for j := 0; j < nJ; j++ {
		lo, hi := ar.jStart[j], ar.jStart[j+1]
		if hi-lo < 2 {
			continue
		}
		many++
		if hopsInOrder(ar.hopTs.dt, ar.arena, ar.hopPt, w.pointNode, ar.jStart[j:j+2]) == 1 {
			ordered++
		}
	}
	if many < 1000 || ordered < many*99/100 {
		t.Fatalf("%d of %d journeys of two hops or more in path order as filled: want 99%% or more", ordered, many)
	}
}

// A hop wgMerge moves into another journey (a WireGuard message joined to the packet it carried) takes
// the rank after the target's own hops and those moved before it: the arena of the lab's WireGuard
// scenarios, their journeys joined as CorrelateContext joins them, is the one the plain fill lays out
// (each journey's hops in the files' order, then sorted), where a moved hop put in a slot of another
// hop's rank would leave one of them out.
func TestArenaRanksWireGuardMerge(t *testing.T) {
	moved := 0
	eachLabScenario(t, func(t *testing.T, files []string) {
		c := decode.Load(files, decode.Options{}, decode.PointConfig{})
		w := worldOf(c)
		opts := Options{Window: time.Second}
		clocks, _ := w.clocksFor(opts)
		m := newMatcher(w, clocks, opts)
		m.run()
		m.collectJourneys()
		before := slices.Clone(m.jHops)
		if joinWireGuard(w, m, opts) == nil {
			return
		}
		for j := range before {
			if m.jHops[j] > before[j] {
				moved += int(m.jHops[j] - before[j])
			}
		}
		nJ := int(m.next)
		want := plainFill(w, m, nJ)
		got := arenaFor(m, nJ)
		got.fillSort(w, m, 0, nJ)
		sameArena(t, "ranked fill after the WireGuard joins", want, got, 0, want.jStart[nJ])
	})
	if moved == 0 {
		t.Fatal("no hop moved to another journey by the WireGuard joins: nothing tested")
	}
}

// hopsInOrder counts a journey as in path order only where sortQuick would leave it as it is: for
// random journeys (times, ids and points at random, some of them in order, some one swap away, some
// with a time in hopTs's side map), every journey it passes over sortQuick sorts to itself (it may
// send sortQuick one that is, as ties at one node, which sortQuick looks at), and it stops at the
// first other.
func TestHopsInOrderAsSortQuick(t *testing.T) {
	w := &world{pointNode: []int{0, 0, 1, 1, 2, 2, 70}}
	seed := uint64(1)
	next := func(n int) int {
		seed = seed*6364136223846793005 + 1442695040888963407
		return int(seed>>33) % n
	}
	inOrder, other := 0, 0
	for range 20000 {
		n := 1 + next(maxQuickHops+2)
		ar := &arenaOut{jStart: []uint32{0, uint32(n)}, arena: make([]uint32, n), hopPt: make([]uint16, n)}
		ar.hopTs.dt = make([]uint32, n)
		t0 := uint32(next(1000))
		for k := range n { // time and id rising, points in node order: mostly in path order
			ar.hopTs.dt[k] = t0 + uint32(k*next(3))
			ar.arena[k] = uint32(100*k + next(50))
			ar.hopPt[k] = uint16(min(2*k/max(n/3, 1)+next(2), 5))
		}
		switch next(6) {
		case 0:
			if n > 1 {
				i := next(n - 1)
				ar.arena[i], ar.arena[i+1] = ar.arena[i+1], ar.arena[i]
				ar.hopTs.dt[i], ar.hopTs.dt[i+1] = ar.hopTs.dt[i+1], ar.hopTs.dt[i]
			}
		case 1:
			ar.hopPt[next(n)] = uint16(next(len(w.pointNode)))
		case 2:
			ar.hopTs.dt[n-1] = dtBig
		}
		dt, ga, pts := slices.Clone(ar.hopTs.dt), slices.Clone(ar.arena), slices.Clone(ar.hopPt)
		got := hopsInOrder(ar.hopTs.dt, ar.arena, ar.hopPt, w.pointNode, ar.jStart) == 1
		want := n < 2
		if n >= 2 && n <= maxQuickHops && ar.sortQuick(w, 0, 0, n) {
			want = slices.Equal(dt, ar.hopTs.dt) && slices.Equal(ga, ar.arena) && slices.Equal(pts, ar.hopPt)
		}
		if got && !want {
			t.Fatalf("hops (times %v, ids %v, points %v): in order, but sortQuick does not leave them as they were", dt, ga, pts)
		}
		if got {
			inOrder++
		} else {
			other++
		}
	}
	if inOrder < 1000 || other < 1000 {
		t.Fatalf("%d journeys in order and %d not: want many of each", inOrder, other)
	}
	// A run: the count stops at the first journey not in order.
	ar := &arenaOut{jStart: []uint32{0, 2, 3, 5, 7}, arena: []uint32{1, 2, 3, 5, 4, 8, 9}, hopPt: make([]uint16, 7)}
	ar.hopTs.dt = []uint32{0, 1, 0, 0, 0, 0, 1}
	if n := hopsInOrder(ar.hopTs.dt, ar.arena, ar.hopPt, w.pointNode, ar.jStart); n != 2 {
		t.Fatalf("a run of journeys whose third is out of order: %d in order first, want 2", n)
	}
}
