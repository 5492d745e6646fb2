package correlate

import (
	"math/rand/v2"
	"slices"
	"testing"
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
