package correlate

import (
	"math/rand"
	"testing"

	"github.com/calipath/calipath/decode"
)

// TestFlagsOf checks flagsOf, eight frames a turn and the rest one at a time, against every frame's
// flags OR-ed one by one: blocks of every length up to 40 and a few long ones, each with a few frames'
// flags set at random places (the first, the last, those past the last whole eight among them), and
// sub-slices that start past the backing array's start.
func TestFlagsOf(t *testing.T) {
	rng := rand.New(rand.NewSource(19))
	lens := []int{}
	for n := 0; n <= 40; n++ {
		lens = append(lens, n)
	}
	lens = append(lens, 255, 256, 257, 4095, 4096)
	for _, n := range lens {
		for round := 0; round < 20; round++ {
			back := make([]decode.Observation, n+4)
			obs := back[rng.Intn(4):][:n]
			switch {
			case n == 0:
			case round == 0:
				obs[0].Flags = decode.FlagFragment
			case round == 1:
				obs[n-1].Flags = decode.FlagARP
			default:
				for k := rng.Intn(3); k >= 0; k-- {
					obs[rng.Intn(n)].Flags |= decode.Flags(1) << rng.Intn(16)
				}
			}
			back[len(back)-1].Flags = decode.FlagIPv6 // past obs: never counted
			var want decode.Flags
			for i := range obs {
				want |= obs[i].Flags
			}
			if got := flagsOf(obs); got != want {
				t.Fatalf("flagsOf of %d frames (round %d) = %#x, want %#x", n, round, got, want)
			}
		}
	}
}
