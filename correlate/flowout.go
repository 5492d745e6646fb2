package correlate

import (
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/hugepage"
)

// flowOutBuf holds what writing the flows out shares between them: each address's string, each
// path's point ids, and one backing array for all flows' per-point counts (each flow's a piece of it,
// capped so that appending to one never writes into the next).
type flowOutBuf struct {
	a     *analysis
	addrs addrStrings
	paths [][]string // by path index (flowsOut.paths): its point ids, nil until made
	pp    []PointCount
	hs    []PointRTT   // the flows' handshake RTTs, in blocks
	rank  []int32      // each point's rank by id (equal ids, equal ranks)
	tmp   []pointTally // scratch: a flow's tallies, sorted
	// orders: a flow's tallies' points (up to orderMax) and the order that sorts them by rank,
	// direct-mapped by the flow's paths (flows on the same paths have the same points, most of them in
	// the same order): perPoint sorts a list of points once, not once a flow
	orders []pointOrder
	// ppLast is the pointOrder whose points' ids perPoint last wrote at the start of pp, in its
	// order, and ppLastAt pp's array then: while both hold, a flow on the same points (the next flow
	// on the same paths, when the flows are written out one at a time) writes its numbers alone
	ppLast   *pointOrder
	ppLastAt *PointCount
	// derived is every flow's latency summary, pairs and handshake RTTs, computed ahead when the flows
	// are written out one at a time (nil: computed with each flow)
	derived *flowsDerived
	touched uint64 // what touchFlows read ahead, kept so that the reads are made
}

// newFlowOutBuf makes the buffer for writing out all the flows (all: one array for all their
// per-point counts), or one flow at a time (the caller empties pp and hs between flows).
func newFlowOutBuf(a *analysis, all bool) *flowOutBuf {
	n := 0
	for _, fl := range a.flows {
		if !all {
			n = max(n, len(fl.perPoint))
			continue
		}
		n += len(fl.perPoint)
	}
	b := &flowOutBuf{a: a, paths: make([][]string, len(a.paths)),
		pp: hugepage.Make[PointCount](0, n)}
	b.rank = idRanks(a.w.c.Points)
	return b
}

// idRanks returns each point's rank by id (equal ids, equal ranks).
func idRanks(pts []decode.Point) []int32 {
	byID := make([]int, len(pts))
	for i := range byID {
		byID[i] = i
	}
	slices.SortFunc(byID, func(x, y int) int { return strings.Compare(pts[x].ID, pts[y].ID) })
	rank := make([]int32, len(pts))
	for r, p := range byID {
		rank[p] = int32(r)
		if r > 0 && pts[p].ID == pts[byID[r-1]].ID {
			rank[p] = rank[byID[r-1]]
		}
	}
	return rank
}

// addr is w.addrString, once per address.
func (b *flowOutBuf) addr(v6 bool, a uint32) string {
	k := uint64(a)
	if v6 {
		k |= 1 << 32
	}
	if i, ok := b.addrs.get(k, mixWord(k)); ok {
		return b.addrs.vals[i]
	}
	v := b.a.w.addrString(v6, a)
	b.addrs.add(k, mixWord(k), mixWord)
	b.addrs.vals = append(b.addrs.vals, v)
	return v
}

// addrStrings is flowOutBuf's strings of addresses by key (the address, 1<<32 for IPv6), by number.
type addrStrings struct {
	keyIndex[uint64]
	vals []string
}

// path returns the point ids of the path of index x in flowsOut.paths (an empty list for none, 0),
// shared by the flows on it.
func (b *flowOutBuf) path(x int32) []string {
	pi := b.a.paths[x]
	if pi == nil {
		return []string{}
	}
	ids := b.paths[x]
	if ids == nil {
		ids = make([]string, len(pi.points))
		for i, p := range pi.points {
			ids[i] = b.a.w.c.Points[p].ID
		}
		b.paths[x] = ids
	}
	return ids[:len(ids):len(ids)]
}

// orderMax is the most tallies a flow's pointOrder holds; orderSlots, how many pointOrders perPoint keeps.
const (
	orderMax   = 8
	orderSlots = 256
)

// pointOrder is a list of points (a flow's tallies', in their order) and the order of them by rank:
// ord[0] the position in the list of the first point by rank, and so on.
type pointOrder struct {
	pts [orderMax]int32
	ord [orderMax]uint8
	n   int
}

// perPoint returns a flow's packets and bytes per point, by point id.
func (b *flowOutBuf) perPoint(fl *flowAcc) []PointCount {
	if len(fl.perPoint) == 0 {
		return []PointCount{}
	}
	if tl := fl.perPoint; len(tl) <= orderMax {
		if b.orders == nil {
			b.orders = make([]pointOrder, orderSlots)
		}
		po := &b.orders[(uint32(fl.pathAt[0])*0x9e3779b1^uint32(fl.pathAt[1]))*0x85ebca6b>>24%orderSlots]
		var diff int32 // the bits in which a point differs from po's
		for i, pt := range po.pts[:len(tl)] {
			diff |= pt ^ tl[i].point
		}
		if diff != 0 || po.n != len(tl) {
			if po == b.ppLast {
				b.ppLast = nil // its order changes: the ids at the start of pp are no longer its
			}
			b.sortOrder(po, tl)
		}
		from, pts := len(b.pp), b.a.w.c.Points
		if from == 0 && po == b.ppLast && unsafe.SliceData(b.pp) == b.ppLastAt {
			pp := b.pp[:len(tl)] // the ids of po's points in its order, as the loop below writes them
			for i, k := range po.ord[:len(tl)] {
				pc := &tl[k]
				pp[i].Packets, pp[i].Bytes = int(pc.packets), pc.bytes
			}
			b.pp = pp
			return pp[:len(pp):len(pp)]
		}
		for _, k := range po.ord[:len(tl)] {
			pc := &tl[k]
			b.pp = append(b.pp, PointCount{Point: pts[pc.point].ID, Packets: int(pc.packets), Bytes: pc.bytes})
		}
		if from == 0 {
			b.ppLast, b.ppLastAt = po, unsafe.SliceData(b.pp)
		}
		return b.pp[from:len(b.pp):len(b.pp)]
	}
	if len(b.pp) == 0 {
		b.ppLast = nil // the start of pp is written below
	}
	t := append(b.tmp[:0], fl.perPoint...)
	for i := 1; i < len(t); i++ { // a flow crosses few points
		for j := i; j > 0 && b.rank[t[j].point] < b.rank[t[j-1].point]; j-- {
			t[j], t[j-1] = t[j-1], t[j]
		}
	}
	b.tmp = t
	from := len(b.pp)
	for _, pc := range t {
		b.pp = append(b.pp, PointCount{Point: b.a.w.c.Points[pc.point].ID, Packets: int(pc.packets), Bytes: pc.bytes})
	}
	return b.pp[from:len(b.pp):len(b.pp)]
}

// sortOrder makes po the order of tallies tl (no more than orderMax) by their points' rank: the order
// in which perPoint's insertion sort (stable: equal ranks keep their order) would put them.
func (b *flowOutBuf) sortOrder(po *pointOrder, tl []pointTally) {
	po.n = len(tl)
	for i := range tl {
		po.pts[i], po.ord[i] = tl[i].point, uint8(i)
	}
	ord := po.ord[:len(tl)]
	for i := 1; i < len(ord); i++ {
		for j := i; j > 0 && b.rank[tl[ord[j]].point] < b.rank[tl[ord[j-1]].point]; j-- {
			ord[j], ord[j-1] = ord[j-1], ord[j]
		}
	}
}

// lostAt returns where a flow's packets were lost, by the segment's points' ids.
func (b *flowOutBuf) lostAt(fl *flowAcc) []LostAt {
	if len(fl.lostAt) == 0 {
		return []LostAt{}
	}
	pts := b.a.w.c.Points
	out := make([]LostAt, 0, len(fl.lostAt))
	for _, c := range fl.lostAt {
		out = append(out, LostAt{From: pts[c.from].ID, To: pts[c.to].ID, Count: c.n, Uncaptured: b.a.lostSpan(int32(c.from), int32(c.to))})
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && lostAtLess(&out[j], &out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func lostAtLess(x, y *LostAt) bool {
	if x.From != y.From {
		return x.From < y.From
	}
	return x.To < y.To
}

// handshake returns a flow's handshake RTTs (a.handshake) in a piece of a shared block.
func (b *flowOutBuf) handshake(fl *flowAcc) []PointRTT {
	if fl.client.proto != 6 {
		return []PointRTT{}
	}
	if cap(b.hs)-len(b.hs) < 16 {
		b.hs = make([]PointRTT, 0, 4096)
	}
	from := len(b.hs)
	b.hs = b.a.handshake(fl, b.hs, b.rank)
	return b.hs[from:len(b.hs):len(b.hs)]
}

// flowIndex returns the index of the flow with id ("f" and its rank, from 1), -1 for none.
func (a *analysis) flowIndex(id string) int {
	if len(id) < 2 || id[0] != 'f' {
		return -1
	}
	n, err := strconv.Atoi(id[1:])
	if err != nil || n < 1 || n > len(a.byRank) || int(a.byRank[n-1]) >= len(a.ids) {
		return -1
	}
	if fi := int(a.byRank[n-1]); a.ids[fi] == id { // not "f01" nor "f+1"
		return fi
	}
	return -1
}
