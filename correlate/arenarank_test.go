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

// The matcher lists every journey whose hops it attached in an order that may not be the path's
// (matcher.outOfOrder: a sighting not later than the one before, a second move between nodes, more
// than maxQuickHops hops, or hops moved in by the WireGuard joins); sortHops then looks at those
// alone. So every journey it leaves off must be in path order as the ranked fill lays it out
// (hopsInOrder), unless a hop of it has its time in hopTs's side map (which sortHops looks for): on
// every lab scenario (their journeys joined as CorrelateContext joins them) and on generated
// many-flow captures with loss, duplicates and DNAT, one of them with a node's clock off.
func TestOutOfOrderListed(t *testing.T) {
	left, listed := 0, 0
	check := func(t *testing.T, files []string) {
		c := decode.Load(files, decode.Options{}, decode.PointConfig{})
		w := worldOf(c)
		opts := Options{Window: time.Second}
		clocks, _ := w.clocksFor(opts)
		m := newMatcher(w, clocks, opts)
		m.run()
		m.collectJourneys()
		joinWireGuard(w, m, opts)
		nJ := int(m.next)
		ar := arenaFor(m, nJ)
		if !ar.orderKnown {
			t.Fatal("the fill is not ranked: nothing tested")
		}
		ar.fill(w, m, 0, int32(nJ))
		if !slices.IsSorted(ar.outOfOrder) {
			t.Fatal("the journeys out of order are not listed in id order")
		}
		for j := 0; j < nJ; j++ {
			lo, hi := ar.jStart[j], ar.jStart[j+1]
			if hi-lo < 2 || slices.Contains(ar.hopTs.dt[lo:hi], dtBig) {
				continue
			}
			if _, ok := slices.BinarySearch(ar.outOfOrder, int32(j)); ok {
				listed++
				continue
			}
			left++
			if hopsInOrder(ar.hopTs.dt, ar.arena, ar.hopPt, w.pointNode, ar.jStart[j:j+2]) != 1 {
				t.Fatalf("journey %d (%d hops) is not listed as out of order, but its hops are not in path order as filled", j, hi-lo)
			}
		}
	}
	eachLabScenario(t, check)
	check(t, manyFlowsCaps(t))
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 600, 4000
	cfg.LossPerHop, cfg.DupRate, cfg.DNAT = 0.02, 0.02, 0.2
	cfg.ClockOffset = map[string]time.Duration{"node-2": 5 * time.Millisecond}
	eachModeCaps(t, cfg, check)
	if left < 1000 || listed == 0 {
		t.Fatalf("%d journeys of two hops or more left off the list and %d listed: want many and some", left, listed)
	}
	t.Logf("%d journeys of two hops or more left off the list, %d listed", left, listed)
}

// attach and keepHops list a journey as out of order (outOfOrder) exactly when its sightings, in the
// order attached, may not be its path's order as sortHops would leave them: a sighting not later
// than the latest before it, a move to another node after a first move (the packet may have come
// back), or more hops than sortQuick sorts (sortInPlace, which such a journey goes to, may find a
// second visit to a node, and move hops, even in a journey in time order on one node).
func TestOutOfOrderAttach(t *testing.T) {
	type hop struct {
		t    int64
		node int16
	}
	on := func(n int) []hop { // n hops in rising time on node 1
		hs := make([]hop, n)
		for k := range hs {
			hs[k] = hop{int64(10 * (k + 1)), 1}
		}
		return hs
	}
	for _, c := range []struct {
		what string
		hops []hop
		want bool
	}{
		{"one hop", []hop{{5, 1}}, false},
		{"rising, one node", []hop{{5, 1}, {6, 1}, {9, 1}}, false},
		{"rising, one move", []hop{{5, 1}, {6, 1}, {7, 2}, {9, 2}}, false},
		{"rising, first hop on node 0", []hop{{5, 0}, {6, 0}, {7, 3}}, false},
		{"a tie", []hop{{5, 1}, {6, 1}, {6, 2}}, true},
		{"a time back", []hop{{5, 1}, {7, 1}, {6, 1}}, true},
		{"a time back below the first", []hop{{5, 1}, {7, 1}, {4, 1}}, true},
		{"back to a node", []hop{{5, 1}, {6, 2}, {7, 1}}, true},
		{"three nodes", []hop{{5, 1}, {6, 2}, {7, 3}}, true},
		{"maxQuickHops hops", on(maxQuickHops), false},
		{"more than maxQuickHops hops", on(maxQuickHops + 1), true},
	} {
		m := &matcher{ring: newRing(4), mask: 3}
		slots := make([]uint64, len(c.hops))
		j := m.newJourney(c.hops[0].t)
		for k, h := range c.hops {
			s := &sighting{slot: &slots[k], t: h.t, g: uint32(k), stage: uint32(k) << 12, bit: stageBit(uint32(k) << 12), node: h.node}
			if k == 0 {
				js := m.st(j)
				js.open(1, 2, h.t, h.node, j+1)
				js.first(j, s, s.stage)
			} else {
				m.attach(j, s, s.stage, h.node)
			}
		}
		for k, v := range slots {
			if v != uint64(j)+1|uint64(k)<<rankShift {
				t.Fatalf("%s: hop %d's slot %#x, want journey %d + 1, rank %d", c.what, k, v, j, k)
			}
		}
		m.keepHops(m.base, m.next)
		if got := len(m.outOfOrder) == 1 && m.outOfOrder[0] == j; got != c.want {
			t.Errorf("%s: listed out of order %v, want %v", c.what, got, c.want)
		}
		if got := m.hopsOf.flat(2)[1]; got != uint32(len(c.hops)) {
			t.Errorf("%s: %d hops kept, want %d", c.what, got, len(c.hops))
		}
	}
}
