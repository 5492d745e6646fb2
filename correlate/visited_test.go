package correlate

import (
	"math/rand/v2"
	"testing"
)

// TestVisitedStages checks jstate.visited, with its stage bits, against the list of the stages
// attach recorded (at most maxStages of them): stages of plain points and of -i any ones (with
// encapsulation and TTL), many sharing a bit.
func TestVisitedStages(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 3))
	m := &matcher{ring: make([]jstate, 16), mask: 15}
	var slot uint64
	for round := range 2000 {
		j := int32(round % 16)
		*m.st(j) = jstate{id1: j + 1}
		var recorded []uint32
		for range rng.IntN(12) {
			stage := uint32(rng.IntN(40)) << 12
			if round%2 == 1 {
				stage |= uint32(rng.IntN(3))<<8 | uint32(60+rng.IntN(5))
			}
			m.attach(j, &sighting{slot: &slot, t: int64(round), stage: stage, bit: stageBit(stage)}, stage, 0)
			if len(recorded) < maxStages {
				recorded = append(recorded, stage)
			}
		}
		for p := range 41 {
			for _, low := range []uint32{0, 1<<8 | 61, 2<<8 | 64} {
				s := uint32(p)<<12 | low
				want := false
				for _, r := range recorded {
					want = want || r == s
				}
				if got := m.st(j).visited(s); got != want {
					t.Fatalf("round %d: visited(%#x) = %v, want %v (recorded %#x)", round, s, got, want, recorded)
				}
			}
		}
	}
}
