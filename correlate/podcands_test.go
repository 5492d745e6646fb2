package correlate

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// podCands finds an address's count through its index: the counts, their order (first seen, at most
// 64 addresses: later ones are not counted) and the pod best picks are what a scan of the list gives,
// on streams with few addresses, many (past 64), colliding in the index, and the address 0; a frame's
// two addresses gathered by pair (podPairs, for three points at once, flushed before a frame counted
// on its own as findPods does, and whenever full) as counted one at a time (sent, then bump).
func TestPodCandsAsScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 4))
	for round := range 3000 {
		distinct := 1 + rng.IntN(150)
		addrs := make([]uint32, distinct)
		for i := range addrs {
			switch rng.IntN(4) {
			case 0:
				addrs[i] = 0x0af40000 + uint32(i) // neighbours (a pod network); 64 of them collide in 128 slots
			case 1:
				addrs[i] = uint32(rng.IntN(3)) // 0, 1, 2 among them
			default:
				addrs[i] = rng.Uint32()
			}
		}
		const points = 3
		got := make([]podCands, points)
		pairs := newPodPairs(got)
		want := make([][]podCand, points) // each point's list, counted by a scan
		scan := func(pi int, a uint32, own int) {
			for i := range want[pi] {
				if want[pi][i].addr == a {
					want[pi][i].n++
					want[pi][i].own += own
					return
				}
			}
			if len(want[pi]) < 64 {
				want[pi] = append(want[pi], podCand{a, 1, own})
			}
		}
		for range 1 + rng.IntN(2000) {
			pi := 0
			if rng.IntN(4) == 0 {
				pi = 1 + rng.IntN(points-1)
			}
			a := addrs[rng.IntN(len(addrs))]
			if rng.IntN(3) == 0 { // the pod: most frames
				a = addrs[0]
			}
			switch rng.IntN(5) {
			case 0:
				ttl := uint8(63 + rng.IntN(2))
				pairs.flush()
				got[pi].sent(a, ttl)
				scan(pi, a, map[bool]int{true: 1}[ttl == 64])
			case 1:
				pairs.flush()
				got[pi].bump(a)
				scan(pi, a, 0)
			default: // a frame from a to b (findPods' IPv4 frames), b maybe a itself
				b := addrs[rng.IntN(len(addrs))]
				ttl := uint8(63 + rng.IntN(2))
				pairs.add(int32(pi), a, b, ownTTL(ttl))
				scan(pi, a, map[bool]int{true: 1}[ttl == 64])
				scan(pi, b, 0)
			}
		}
		pairs.flush()
		for pi := range got {
			if !slices.Equal(got[pi].counted(), want[pi]) {
				t.Fatalf("round %d, point %d: counts\n%v\nwant\n%v", round, pi, got[pi].counted(), want[pi])
			}
		}
		mine := map[uint32]bool{}
		if round%2 == 0 {
			for range 1 + rng.IntN(3) {
				mine[addrs[rng.IntN(len(addrs))]] = true
			}
		}
		var ref podCands // best over the scan's counts
		ref.n = uint8(copy(ref.list[:], want[0]))
		ga, gok := got[0].best(mine)
		wa, wok := ref.best(mine)
		if ga != wa || gok != wok {
			t.Fatalf("round %d: best %d %v, want %d %v", round, ga, gok, wa, wok)
		}
	}
}
