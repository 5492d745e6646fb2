package correlate

import (
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// TestSortRTTs checks handshake's sort of a flow's RTTs by their points' ranks by id (sortRTTs, with
// idRanks) against slices.SortFunc by id, which it stands for: the same order, points of equal ids
// (equal ranks) too, where SortFunc's insertion sort keeps them as they come, for lists up to
// insertionMax and past it (SortFunc itself then).
func TestSortRTTs(t *testing.T) {
	rng := rand.New(rand.NewSource(18))
	names := []string{"node-1/eth0", "node-1/tunl0", "node-2/eth0", "node-2/cali1", "node-10/eth0", "node-1/cali2", "router/eth1"}
	for round := 0; round < 2000; round++ {
		pts := make([]decode.Point, 3+rng.Intn(12))
		for i := range pts {
			pts[i].ID = names[rng.Intn(len(names))] // some ids twice
		}
		rank := idRanks(pts)
		n := rng.Intn(insertionMax + 3)
		list := make([]PointRTT, n)
		var rk [insertionMax]int32
		for i := range list {
			p := rng.Intn(len(pts))
			list[i] = PointRTT{Point: pts[p].ID, RTT: int64(i)} // RTT: the order it came in
			if i < len(rk) {
				rk[i] = rank[p]
			}
		}
		want := slices.Clone(list)
		slices.SortFunc(want, func(x, y PointRTT) int { return strings.Compare(x.Point, y.Point) })
		sortRTTs(list, rk[:], true)
		if !slices.Equal(list, want) {
			t.Fatalf("round %d: sortRTTs gave %v, want %v", round, list, want)
		}
	}
}
