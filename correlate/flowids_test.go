package correlate

import (
	"math/rand"
	"reflect"
	"sort"
	"strconv"
	"testing"
)

// TestFlowIDs checks flowIDs against the plain definition: flows sorted stably by the client tuple
// (IPv4 first, then protocol, source, source port, destination, destination port) are numbered f1, f2, …;
// the tuples are drawn from small ranges so that many compare equal in all but one field, or in all.
func TestFlowIDs(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	a := &analysis{}
	for range 3000 {
		a.flows = append(a.flows, &flowAcc{client: tuple{v6: r.Intn(2) == 0, proto: uint8(r.Intn(3)),
			src: uint32(r.Intn(3)) << 30, dst: uint32(r.Intn(3)), sp: uint16(r.Intn(3)) << 14, dp: uint16(r.Intn(3))}})
	}
	order := make([]int, len(a.flows))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		x, y := a.flows[order[i]].client, a.flows[order[j]].client
		switch {
		case x.v6 != y.v6:
			return !x.v6
		case x.proto != y.proto:
			return x.proto < y.proto
		case x.src != y.src:
			return x.src < y.src
		case x.sp != y.sp:
			return x.sp < y.sp
		case x.dst != y.dst:
			return x.dst < y.dst
		}
		return x.dp < y.dp
	})
	ids := a.flowIDs()
	a.ids = ids
	for fi, id := range ids {
		if got := a.flowIndex(id); got != fi {
			t.Fatalf("flowIndex(%q) = %d, want %d", id, got, fi)
		}
	}
	for _, id := range []string{"", "f", "f0", "f01", "f+1", "x1", "f3001", "f1 "} {
		if got := a.flowIndex(id); got != -1 {
			t.Errorf("flowIndex(%q) = %d, want -1", id, got)
		}
	}
	for rank, fi := range order {
		if want := "f" + strconv.Itoa(rank+1); ids[fi] != want || a.rank[fi] != int32(rank) {
			t.Fatalf("flow %d (%+v): id %q rank %d, want %q rank %d", fi, a.flows[fi].client, ids[fi], a.rank[fi], want, rank)
		}
	}
}

// TestFlowIDLess checks that flow ids order by their numbers.
func TestFlowIDLess(t *testing.T) {
	ids := []string{"f1", "f2", "f9", "f10", "f11", "f99", "f100", "f1000"}
	for i := range ids {
		for j := range ids {
			if got := flowIDLess(ids[i], ids[j]); got != (i < j) {
				t.Errorf("flowIDLess(%q, %q) = %v, want %v", ids[i], ids[j], got, i < j)
			}
		}
	}
}

// TestLostTally checks that a flow's losses per segment add up, and that a segment whose count
// falls to zero is dropped (as the map's key was deleted).
func TestLostTally(t *testing.T) {
	var l lostTally
	l.add(1, 2, 1)
	l.add(3, 4, 1)
	l.add(1, 2, 1)
	l.add(3, 4, -1)
	l.add(5, 6, -1) // nothing counted there: nothing to take back
	if want := (lostTally{{1, 2, 2}}); !reflect.DeepEqual(l, want) {
		t.Fatalf("got %v, want %v", l, want)
	}
	l.add(1, 2, -2)
	if len(l) != 0 {
		t.Fatalf("got %v, want none", l)
	}
}

// TestCarve checks that lists carved from one slab do not overlap, also when one outgrows its room.
func TestCarve(t *testing.T) {
	var slab []int
	a := carve(&slab, 2)
	b := carve(&slab, 3)
	a = append(a, 1, 2, 3) // past its room: moves out
	b = append(b, 4, 5, 6)
	c := carve(&slab, 5000) // more than a block
	c = append(c, 7)
	if !reflect.DeepEqual(a, []int{1, 2, 3}) || !reflect.DeepEqual(b, []int{4, 5, 6}) || !reflect.DeepEqual(c, []int{7}) {
		t.Fatalf("got %v %v %v", a, b, c)
	}
}
