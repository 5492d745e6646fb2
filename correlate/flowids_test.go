package correlate

import (
	"math/rand"
	"net/netip"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/calipath/calipath/decode"
)

// TestFlowIDs checks flowIDs against the plain definition: flows sorted stably by the client tuple
// (IPv4 first, then protocol, source, source port, destination, destination port; IPv6 addresses
// in address order, whatever their table indexes) are numbered f1, f2, …;
// the tuples are drawn from small ranges so that many compare equal in all but one field, or in all.
func TestFlowIDs(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	// IPv6 addresses are table indexes, handed out as the files are read: here in the reverse of the
	// addresses' order, which the ids must follow.
	tables := decode.NewTables()
	for _, s := range []string{"fd00::3", "fd00::2", "fd00::1"} {
		tables.InternV6(netip.MustParseAddr(s).As16())
	}
	a := &analysis{w: &world{c: &decode.Capture{Tables: tables}}}
	for range 3000 {
		fl := &flowAcc{client: tuple{v6: r.Intn(2) == 0, proto: uint8(r.Intn(3)),
			src: uint32(r.Intn(3)) << 30, dst: uint32(r.Intn(3)), sp: uint16(r.Intn(3)) << 14, dp: uint16(r.Intn(3))}}
		if fl.client.v6 { // indexes 1 to 3 (0 is no address)
			fl.client.src, fl.client.dst = fl.client.src>>30+1, fl.client.dst+1
		}
		a.flows = append(a.flows, fl)
	}
	addr := func(v6 bool, x uint32) uint32 { // the order of an address
		if v6 {
			return 3 - x
		}
		return x
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
			return addr(x.v6, x.src) < addr(y.v6, y.src)
		case x.sp != y.sp:
			return x.sp < y.sp
		case x.dst != y.dst:
			return addr(x.v6, x.dst) < addr(y.v6, y.dst)
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

// sortRanks gives the order of the comparisons (compareRanks) by radix too: on many flows with keys
// that tie (equal client tuples), share digits (one protocol, addresses of one subnet) or differ in
// any of the keys' digits, and on few flows.
func TestSortRanksAsCompare(t *testing.T) {
	rng := rand.New(rand.NewSource(311))
	for round, n := range []int{0, 1, 7, radixRanks - 1, radixRanks, 3 * radixRanks, 70000} {
		order := make([]flowRank, n)
		for fi := range order {
			r := flowRank{fi: int32(fi)}
			switch rng.Intn(4) {
			case 0: // a few client tuples, often the same
				r.hi, r.lo = uint64(17)<<32|uint64(rng.Intn(3)), uint64(rng.Intn(3))<<48|uint64(rng.Intn(2))
			case 1: // one subnet, ports anywhere
				r.hi = uint64(6)<<32 | 0xc0a80000 | uint64(rng.Intn(1<<16))
				r.lo = uint64(rng.Intn(1<<16))<<48 | uint64(0xc0a80101)<<16 | uint64(rng.Intn(1<<16))
			default: // any bits of both words (IPv6 flag, protocol, addresses)
				r.hi, r.lo = rng.Uint64()>>23, rng.Uint64()
			}
			order[fi] = r
		}
		if round == 3 && n > 0 { // every flow of one tuple: no digit differs
			for fi := range order {
				order[fi].hi, order[fi].lo = order[0].hi, order[0].lo
			}
		}
		want := slices.Clone(order)
		slices.SortFunc(want, compareRanks)
		sortRanks(order)
		if !slices.Equal(order, want) {
			t.Fatalf("%d flows: the radix order differs from the comparisons'", n)
		}
	}
	// Digits within narrow ranges away from 0 (ports of one range, addresses of a /22), as sortRanks
	// counts only the buckets between the AND's and the OR's digit; and every flow of one tuple.
	for _, n := range []int{radixRanks, 3 * radixRanks} {
		for _, same := range []bool{false, true} {
			order := make([]flowRank, n)
			for fi := range order {
				r := flowRank{fi: int32(fi)}
				r.hi = uint64(6+11*rng.Intn(2))<<32 | 0x0af40000 | uint64(0x1400+rng.Intn(0x300))
				r.lo = uint64(0x8000+rng.Intn(0x2000))<<48 | uint64(0x0af41400+rng.Intn(0x300))<<16 | uint64(8000+rng.Intn(90))
				if same && fi > 0 {
					r.hi, r.lo = order[0].hi, order[0].lo
				}
				order[fi] = r
			}
			want := slices.Clone(order)
			slices.SortFunc(want, compareRanks)
			sortRanks(order)
			if !slices.Equal(order, want) {
				t.Fatalf("%d flows in narrow ranges (one tuple: %v): the radix order differs from the comparisons'", n, same)
			}
		}
	}
}
