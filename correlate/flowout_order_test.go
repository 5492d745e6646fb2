package correlate

import (
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// perPoint lists a flow's tallies by point id, ties in their order, whatever its order cache holds:
// flows on the same paths (one cache slot) with their points in other orders, in other numbers, and
// more of them than the cache holds, each against a sort of its own.
func TestPerPointOrder(t *testing.T) {
	ids := []string{"n2/eth0", "n1/cali1", "n1/eth0", "n2/cali2", "n1/tunl0", "n2/tunl0", "n1/eth0", "n3/eth0", "n0/x", "n4/y"}
	pts := make([]decode.Point, len(ids))
	for i, id := range ids {
		pts[i] = decode.Point{ID: id}
	}
	a := &analysis{w: &world{c: &decode.Capture{Points: pts}}}
	b := newFlowOutBuf(a, false)
	rng := rand.New(rand.NewSource(1))
	for n := range 400 {
		k := 1 + rng.Intn(len(ids)) // up to 10 points: past orderMax too
		if n%3 == 0 {
			k = 6
		}
		perm := rng.Perm(len(ids))[:k]
		fl := &flowAcc{pathAt: [2]int32{int32(n % 2), 1}} // two cache slots for all of them
		for i, p := range perm {
			fl.perPoint = append(fl.perPoint, pointTally{point: int32(p), packets: uint32(i + 1), bytes: int64(100 * i)})
		}
		want := make([]PointCount, 0, k)
		for _, pc := range fl.perPoint {
			want = append(want, PointCount{Point: ids[pc.point], Packets: int(pc.packets), Bytes: pc.bytes})
		}
		slices.SortStableFunc(want, func(x, y PointCount) int { return strings.Compare(x.Point, y.Point) })
		b.pp = b.pp[:0]
		if got := b.perPoint(fl); !slices.Equal(got, want) {
			t.Fatalf("flow %d, points %v: got %v, want %v", n, perm, got, want)
		}
		if n%5 == 0 { // the same flow again: from the cache
			b.pp = b.pp[:0]
			if got := b.perPoint(fl); !slices.Equal(got, want) {
				t.Fatalf("flow %d again, points %v: got %v, want %v", n, perm, got, want)
			}
		}
	}
}
