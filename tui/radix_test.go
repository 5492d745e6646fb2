package tui

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/calipath/calipath/correlate"
)

// The orders sorted by radix equal the comparisons' (refLess, ties in flow order) on numbers of any
// magnitude and sign, the extremes among them, many of them tying, and the ties are marked where
// the comparison finds two keys equal.
func TestRadixOrdersAnyNumbers(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 1))
	wide := func() int64 {
		switch rng.IntN(6) {
		case 0:
			return []int64{math.MinInt64, math.MaxInt64, -1, 0, 1, 1 << 32, -1 << 40}[rng.IntN(7)]
		case 1:
			return rng.Int64() - rng.Int64()
		case 2:
			return -rng.Int64N(300)
		}
		return rng.Int64N(4)
	}
	narrow := func() int64 { return rng.Int64N(5) - 2 }
	// Keys of wide ranges are sorted one by one, narrow ones packed together, and a mix of both.
	for _, pick := range [][6]func() int64{
		{wide, wide, wide, wide, wide, wide}, {narrow, narrow, narrow, narrow, narrow, narrow},
		{narrow, wide, narrow, narrow, wide, narrow}, {wide, narrow, narrow, narrow, narrow, wide},
	} {
		res := &correlate.Result{}
		for range 5000 {
			f := correlate.Flow{ID: fmt.Sprintf("f%d", rng.IntN(3000)), Lost: int(pick[0]()), Resets: int(pick[1]()),
				Retransmissions: int(pick[2]()), NotCaptured: int(pick[3]()), Packets: int(pick[4]()),
				Delivered: int(pick[5]())}
			if rng.IntN(10) == 0 {
				f.ID = "x" // flowNum -1
			}
			f.LatencyNs.P50 = pick[5]()
			res.Flows = append(res.Flows, f)
		}
		checkOrders(t, &common{res: res})
	}
}

// checkOrders checks orders cols (sortWorst or columns; none: the number orders and worst first) of
// c's flows against the comparisons.
func checkOrders(t *testing.T, c *common, cols ...int) {
	t.Helper()
	res := c.res
	if len(cols) == 0 {
		cols = []int{sortWorst, 0, 5, 6, 7, 9, 10}
	}
	for _, col := range cols {
		name := "worst"
		if col != sortWorst {
			name = flowColumns[col].name
		}
		less := refLess[name]
		want := make([]int32, len(res.Flows))
		for i := range want {
			want[i] = int32(i)
		}
		slices.SortStableFunc(want, func(a, b int32) int { return less(c, &res.Flows[a], &res.Flows[b]) })
		perm, ties := sortFlows(c, col)
		if !slices.Equal(perm, want) {
			t.Fatalf("%s: sorted %v…, comparisons give %v…", name, perm[:min(8, len(perm))], want[:min(8, len(want))])
		}
		for r := 1; r < len(perm); r++ {
			if tie := less(c, &res.Flows[perm[r-1]], &res.Flows[perm[r]]) == 0; tie != hasBit(ties, r) {
				t.Fatalf("%s: row %d tie %v, comparisons %v", name, r, hasBit(ties, r), tie)
			}
		}
	}
}

// The endpoint columns sorted by their addresses and ports, without their texts, equal the
// comparisons of the texts: addresses that are prefixes of others, with a port and without, ports
// whose digits order otherwise than their values; an address that is not IPv4's sorts by the texts.
func TestEndpointOrdersAsTexts(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 2))
	ips := []string{"10.0.0.1", "10.0.0.10", "10.0.0.100", "10.0.0.1.5", "10.0.0.2", "1", "", "9.9.9.9", "10.0.0"}
	ports := []uint16{0, 1, 5, 9, 10, 53, 99, 100, 443, 5000, 5353, 65535, 8, 80, 8080}
	res := &correlate.Result{}
	for i := range 4000 {
		ep := func() correlate.Endpoint {
			return correlate.Endpoint{IP: ips[rng.IntN(len(ips))], Port: ports[rng.IntN(len(ports))]}
		}
		res.Flows = append(res.Flows, correlate.Flow{ID: fmt.Sprintf("f%d", i+1), Src: ep(), Dst: ep()})
	}
	c := &common{res: res}
	for _, col := range []int{2, 3} {
		if _, _, ok := sortEndpoints(new(sortScratch), res.Flows, flowColumns[col].side); !ok {
			t.Fatalf("%s: IPv4 addresses not sorted by their numbers", flowColumns[col].name)
		}
	}
	checkOrders(t, c, 2, 3)
	res.Flows[77].Dst.IP = "fd00::1"
	if _, _, ok := sortEndpoints(new(sortScratch), res.Flows, dstOf); ok {
		t.Fatal("an IPv6 address sorted as IPv4's")
	}
	checkOrders(t, c, 2, 3)
}
