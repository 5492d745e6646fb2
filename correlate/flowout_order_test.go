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

// TestPerPointAgain holds perPoint, where a flow on the points whose ids it last wrote at the start of
// pp writes its numbers alone (ppLast), to a stable sort by id over flows one after another: on the same
// points, on other points of the same cache slot (which sorts the slot again, with pp emptied between
// flows and without), on other slots, more points than the cache holds, with pp emptied between flows, appended to, and swapped for
// another array (as the flows written ahead in batches do), fresh or written before, and on the first
// flow's points but the last.
func TestPerPointAgain(t *testing.T) {
	ids := []string{"n2/eth0", "n1/cali1", "n1/eth0", "n2/cali2", "n1/tunl0", "n2/tunl0", "n3/eth0", "n0/x", "n4/y", "n5/z"}
	pts := make([]decode.Point, len(ids))
	for i, id := range ids {
		pts[i] = decode.Point{ID: id}
	}
	a := &analysis{w: &world{c: &decode.Capture{Points: pts}}}
	b := newFlowOutBuf(a, false)
	lists := []struct {
		points []int32
		path   [2]int32
	}{{[]int32{1, 4, 2, 0, 5, 3}, [2]int32{0, 1}}, {[]int32{3, 5, 0, 2, 4, 1}, [2]int32{0, 1}}, // one slot
		{[]int32{1, 4, 2, 0, 5, 3}, [2]int32{2, 3}}, {[]int32{7, 6}, [2]int32{0, 1}}, {[]int32{6, 7, 1}, [2]int32{4, 5}},
		{[]int32{9, 8, 7, 6, 5, 4, 3, 2, 1}, [2]int32{0, 1}}, // past orderMax: not by the cache
		{[]int32{1, 4, 2, 0, 5, 6}, [2]int32{0, 1}}}          // the first list but its last point: the slot's compare reads every point
	arrays := [][]PointCount{b.pp, make([]PointCount, 0, 64), make([]PointCount, 0, 64)}
	rng := rand.New(rand.NewSource(2))
	for n := range 4000 {
		switch r := rng.Intn(10); {
		case r < 7:
			b.pp = b.pp[:0]
		case r < 9: // appended after the flow before
		default:
			b.pp = arrays[rng.Intn(len(arrays))][:0]
		}
		l := lists[rng.Intn(len(lists))]
		if n%7 == 3 { // the steps that break a stale order: the other list of one slot, then the first again
			l = lists[1]
		}
		fl := &flowAcc{pathAt: l.path}
		for _, p := range l.points {
			fl.perPoint = append(fl.perPoint, pointTally{point: p, packets: uint32(rng.Intn(20)), bytes: int64(rng.Intn(5000))})
		}
		want := make([]PointCount, 0, len(l.points))
		for _, pc := range fl.perPoint {
			want = append(want, PointCount{Point: ids[pc.point], Packets: int(pc.packets), Bytes: pc.bytes})
		}
		slices.SortStableFunc(want, func(x, y PointCount) int { return strings.Compare(x.Point, y.Point) })
		if got := b.perPoint(fl); !slices.Equal(got, want) {
			t.Fatalf("flow %d, points %v: got %v, want %v", n, l.points, got, want)
		}
		if len(b.pp) > 48 {
			b.pp = b.pp[:0]
		}
	}
}
