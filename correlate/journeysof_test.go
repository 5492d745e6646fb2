package correlate

import (
	"math/rand/v2"
	"testing"
)

// TestJourneysOf holds journeysOf (journeysOfN: the assembly on amd64) and journeysOfGo to the plain
// formula, uint32(slot) | uint32(slot>>32)&rk, for every length from 0 to 40 at every offset of 0 to 3
// into the slices, random slots (every bit of either half set at random) and masks that keep no bit,
// the rank bits and every bit; the ints past the end are left as they were.
func TestJourneysOf(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 7))
	for _, rk := range []uint32{0, 0xff << 24, 0xffffffff, r.Uint32()} {
		for n := 0; n <= 40; n++ {
			for off := 0; off < 4; off++ {
				ch := make([]uint64, off+n+3)
				for i := range ch {
					ch[i] = r.Uint64()
				}
				want := make([]int32, off+n+3)
				for i := range want {
					want[i] = int32(r.Uint32())
				}
				got, gotGo := append([]int32(nil), want...), append([]int32(nil), want...)
				for i := off; i < off+n; i++ {
					want[i] = int32(uint32(ch[i]) | uint32(ch[i]>>32)&rk)
				}
				journeysOf(got[off:off+n+3], ch[off:off+n], rk)
				journeysOfGo(gotGo[off:off+n+3], ch[off:off+n], rk)
				for i := range want {
					if got[i] != want[i] || gotGo[i] != want[i] {
						t.Fatalf("rk %#x, n %d, offset %d: at %d journeysOf %#x, journeysOfGo %#x, want %#x", rk, n, off, i, got[i], gotGo[i], want[i])
					}
				}
			}
		}
	}
}
