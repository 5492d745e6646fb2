package correlate

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// podCands finds an address's count through its index: the counts, their order (first seen, at most
// 64 addresses: later ones are not counted) and the pod best picks are what a scan of the list gives,
// on streams with few addresses, many (past 64), colliding in the index, and the address 0; a frame's
// two addresses counted in one call (sentTo) as counted one at a time (sent, then bump).
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
		var got podCands
		var want []podCand // the list, counted by a scan
		scan := func(a uint32, own int) {
			for i := range want {
				if want[i].addr == a {
					want[i].n++
					want[i].own += own
					return
				}
			}
			if len(want) < 64 {
				want = append(want, podCand{a, 1, own})
			}
		}
		for range 1 + rng.IntN(2000) {
			a := addrs[rng.IntN(len(addrs))]
			if rng.IntN(3) == 0 { // the pod: most frames
				a = addrs[0]
			}
			switch rng.IntN(3) {
			case 0:
				ttl := uint8(63 + rng.IntN(2))
				got.sent(a, ttl)
				scan(a, map[bool]int{true: 1}[ttl == 64])
			case 1:
				got.bump(a)
				scan(a, 0)
			default: // a frame from a to b (findPods' IPv4 frames), b maybe a itself
				b := addrs[rng.IntN(len(addrs))]
				ttl := uint8(63 + rng.IntN(2))
				got.sentTo(a, b, ttl)
				scan(a, map[bool]int{true: 1}[ttl == 64])
				scan(b, 0)
			}
		}
		if !slices.Equal(got.counted(), want) {
			t.Fatalf("round %d: counts\n%v\nwant\n%v", round, got.counted(), want)
		}
		mine := map[uint32]bool{}
		if round%2 == 0 {
			for range 1 + rng.IntN(3) {
				mine[addrs[rng.IntN(len(addrs))]] = true
			}
		}
		var ref podCands // best over the scan's counts
		ref.n = uint8(copy(ref.list[:], want))
		ga, gok := got.best(mine)
		wa, wok := ref.best(mine)
		if ga != wa || gok != wok {
			t.Fatalf("round %d: best %d %v, want %d %v", round, ga, gok, wa, wok)
		}
	}
}
