package correlate

import "strconv"

// flowOutBuf holds what writing the flows out shares between them: each address's string, each
// path's point ids, and one backing array for all flows' per-point counts (each flow's a piece of it,
// capped so that appending to one never writes into the next).
type flowOutBuf struct {
	a     *analysis
	addrs map[uint64]string
	paths map[*pathInfo][]string
	pp    []PointCount
	hs    []PointRTT // the flows' handshake RTTs, in blocks
}

func newFlowOutBuf(a *analysis) *flowOutBuf {
	n := 0
	for _, fl := range a.flows {
		n += len(fl.perPoint)
	}
	return &flowOutBuf{a: a, addrs: map[uint64]string{}, paths: map[*pathInfo][]string{},
		pp: make([]PointCount, 0, n)}
}

// addr is w.addrString, once per address.
func (b *flowOutBuf) addr(v6 bool, a uint32) string {
	k := uint64(a)
	if v6 {
		k |= 1 << 32
	}
	s, ok := b.addrs[k]
	if !ok {
		s = b.a.w.addrString(v6, a)
		b.addrs[k] = s
	}
	return s
}

// path returns the point ids of a path (an empty list for none), shared by the flows on it.
func (b *flowOutBuf) path(pi *pathInfo) []string {
	if pi == nil {
		return []string{}
	}
	ids, ok := b.paths[pi]
	if !ok {
		ids = make([]string, len(pi.points))
		for i, p := range pi.points {
			ids[i] = b.a.w.c.Points[p].ID
		}
		b.paths[pi] = ids
	}
	return ids[:len(ids):len(ids)]
}

// perPoint returns a flow's packets and bytes per point, by point id.
func (b *flowOutBuf) perPoint(fl *flowAcc) []PointCount {
	if len(fl.perPoint) == 0 {
		return []PointCount{}
	}
	from := len(b.pp)
	for _, pc := range fl.perPoint {
		b.pp = append(b.pp, PointCount{Point: b.a.w.c.Points[pc.point].ID, Packets: pc.packets, Bytes: pc.bytes})
	}
	out := b.pp[from:len(b.pp):len(b.pp)]
	for i := 1; i < len(out); i++ { // a flow crosses few points
		for j := i; j > 0 && out[j].Point < out[j-1].Point; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// lostAt returns where a flow's packets were lost, by the segment's points' ids.
func (b *flowOutBuf) lostAt(fl *flowAcc) []LostAt {
	if len(fl.lostAt) == 0 {
		return []LostAt{}
	}
	pts := b.a.w.c.Points
	out := make([]LostAt, 0, len(fl.lostAt))
	for _, c := range fl.lostAt {
		out = append(out, LostAt{From: pts[c.from].ID, To: pts[c.to].ID, Count: c.n})
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
	b.hs = b.a.handshake(fl, b.hs)
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
