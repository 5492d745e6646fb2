package correlate

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestCollectChunkPieces: collectChunk, which takes a chunk in pieces of one word of duplicate bits
// and skips the bit test in a piece with none set, gathers the same journeys, hop counts and
// duplicate counts as a test of every Observation's bit, for chunks starting off a word's edge, with
// duplicates at pieces' first and last ids and bits set past the chunk's end (another file's).
func TestCollectChunkPieces(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const nObs, nJ = 1000, 40
	for _, g := range []int{0, 1, 63, 64, 100, 130} {
		for _, n := range []int{1, 63, 64, 65, 200, nObs - 130} {
			ch := make([]uint64, n)
			for i := range ch {
				if r.IntN(4) > 0 {
					ch[i] = uint64(1 + r.IntN(nJ))
				}
			}
			m := &matcher{jOf: make([]int32, nObs), dup: make([]uint64, (nObs+63)/64)}
			set := func(id int) {
				if id >= 0 && id < nObs {
					m.dup[id/64] |= 1 << (id % 64)
				}
			}
			set(g)                 // a piece's first
			set(g + 64 - g%64 - 1) // a piece's last
			set(g + n)             // past the chunk: another file's
			set(g + n + 5)
			for range 3 {
				set(g + r.IntN(n))
			}
			hops, dups := make([]uint32, nJ+1), map[int32]int{}
			m.collectChunk(ch, g, hops, dups)
			wantOf, wantHops, wantDups := make([]int32, nObs), make([]uint32, nJ+1), map[int32]int{}
			for i, v := range ch {
				wantOf[g+i] = int32(v)
				switch {
				case v == 0:
				case m.isDup(uint32(g + i)):
					wantDups[int32(v)-1]++
				default:
					wantHops[v]++
				}
			}
			if !reflect.DeepEqual(m.jOf, wantOf) || !reflect.DeepEqual(hops, wantHops) || !reflect.DeepEqual(dups, wantDups) {
				t.Fatalf("chunk of %d from %d: journeys, hops or duplicates differ from one test a bit:\nhops %v\nwant %v\ndups %v\nwant %v",
					n, g, hops, wantHops, dups, wantDups)
			}
		}
	}
}
