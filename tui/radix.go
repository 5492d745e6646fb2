package tui

import (
	"bytes"
	"math/bits"
	"slices"
	"strings"

	"github.com/calipath/calipath/correlate"
)

// The flow list's orders are sorted by radix rather than by comparison: each key of a flow is held
// as an unsigned number that orders as the key does, and the flows are sorted stably by the least
// significant key first, then by each more significant one, a byte at a time. Ties keep the order
// the less significant keys gave them, and last the flows' own order, as the comparisons did.

// radixItem is a flow (i) and one of its keys (k).
type radixItem struct {
	k uint64
	i int32
}

// ascending is v as an unsigned number that orders as v does; descending orders the other way.
func ascending(v int64) uint64  { return uint64(v) ^ 1<<63 }
func descending(v int64) uint64 { return ^ascending(v) }

// columns returns k keys of n flows each, from sc's scratch, for orderBy: the caller fills them.
func (sc *sortScratch) columns(k, n int) [][]uint64 {
	cols := resize(&sc.cols, k)
	for j := range cols {
		resize(&cols[j], n)
	}
	return cols
}

// orderBy returns the flows 0..n-1 sorted by keys cols (cols[j][i] is flow i's j-th key), the first
// the most significant, ties in flow order. Keys that span few values together are sorted as one:
// from the least significant, as many as their ranges' bits fit in 64 are packed into one number
// (pack), and the flows sorted by each such number in turn, unless it is already in order (the
// flows' own order, often the flow numbers').
func orderBy(sc *sortScratch, cols [][]uint64) []int32 {
	n := len(cols[0])
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	if n < 2 {
		return perm
	}
	vals := resize(&sc.vals, n)
	a, b := resize(&sc.a, n), resize(&sc.b, n)
	for end := len(cols); end > 0; {
		start, packed := pack(cols[:end], vals)
		end = start
		pass(sc.g)
		if inOrder(perm, packed) {
			continue
		}
		for r, i := range perm {
			a[r] = radixItem{packed[i], i}
		}
		for r, it := range radixSort(sc.g, a, b) {
			perm[r] = it.i
		}
	}
	return perm
}

// inOrder reports whether the keys of the flows of perm do not decrease: a stable sort would leave
// perm as it is.
func inOrder(perm []int32, keys []uint64) bool {
	for r := 1; r < len(perm); r++ {
		if keys[perm[r]] < keys[perm[r-1]] {
			return false
		}
	}
	return true
}

// sameKeys reports whether flows a and b have the same keys cols.
func sameKeys(cols [][]uint64, a, b int32) bool {
	for _, col := range cols {
		if col[a] != col[b] {
			return false
		}
	}
	return true
}

// pack fills vals with the least significant keys of cols packed into one number each flow, as many
// as fit in 64 bits once their smallest value is taken off (at least one), the more significant in
// the higher bits, and returns the index of the first key packed and the numbers (vals, or the key's
// own when it is packed alone).
func pack(cols [][]uint64, vals []uint64) (int, []uint64) {
	type span struct{ lo, bits uint64 }
	spans := make([]span, len(cols))
	start, used := len(cols), uint64(0)
	for start > 0 {
		lo, hi := cols[start-1][0], cols[start-1][0]
		for _, v := range cols[start-1] {
			lo, hi = min(lo, v), max(hi, v)
		}
		w := uint64(bits.Len64(hi - lo))
		if start < len(cols) && used+w > 64 {
			break
		}
		start--
		spans[start], used = span{lo, w}, used+w
	}
	if start == len(cols)-1 { // one key alone: as it is
		return start, cols[start]
	}
	clear(vals)
	for j := start; j < len(cols); j++ {
		sp := spans[j]
		for i, v := range cols[j] {
			vals[i] = vals[i]<<sp.bits | (v - sp.lo)
		}
	}
	return start, vals
}

// radixSort sorts a stably by k, a byte at a time from the lowest, skipping the bytes every item
// shares; b, as long as a, is scratch. It returns a or b, whichever holds the sorted items. Every
// byte's counts are taken in one pass first (they do not depend on the items' order), and it yields
// between passes, waiting for g.
func radixSort(g *gate, a, b []radixItem) []radixItem {
	if len(a) < 2 {
		return a
	}
	var counts [8][256]int32
	for _, it := range a {
		for d := range counts {
			counts[d][byte(it.k>>(8*d))]++
		}
	}
	for d := range counts {
		c := &counts[d]
		if c[byte(a[0].k>>(8*d))] == int32(len(a)) { // every item has this byte
			continue
		}
		pos := int32(0)
		for v := range c {
			c[v], pos = pos, pos+c[v]
		}
		sh := 8 * d
		for _, it := range a {
			v := byte(it.k >> sh)
			b[c[v]] = it
			c[v]++
		}
		a, b = b, a
		pass(g) // a pass over 200,000 flows takes about a millisecond (yield)
	}
	return a
}

// tiesOf marks the places r of perm where flow perm[r] has the same key as the one before it (eq).
func tiesOf(perm []int32, eq func(a, b int32) bool) []uint64 {
	ties := make([]uint64, (len(perm)+63)/64)
	for r := 1; r < len(perm); r++ {
		if eq(perm[r-1], perm[r]) {
			ties[r>>6] |= 1 << (r & 63)
		}
	}
	return ties
}

// sortNums sorts the flows by the number num, ties in flow order.
func sortNums(sc *sortScratch, flows []correlate.Flow, num func(f *correlate.Flow) int64) ([]int32, []uint64) {
	cols := sc.columns(1, len(flows))
	for i := range flows {
		yield(sc.g, i)
		cols[0][i] = ascending(num(&flows[i]))
	}
	perm := orderBy(sc, cols)
	return perm, tiesOf(perm, func(a, b int32) bool { return cols[0][a] == cols[0][b] })
}

// sortWorstFirst sorts the flows worst first (worstCompare), ties in flow order. Its six keys are
// read from each flow in one pass.
func sortWorstFirst(sc *sortScratch, flows []correlate.Flow) ([]int32, []uint64) {
	cols := sc.columns(6, len(flows))
	lost, resets, retx, notCaptured, packets, nums := cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]
	for i := range flows {
		yield(sc.g, i)
		f := &flows[i]
		lost[i], resets[i] = descending(int64(f.Lost)), descending(int64(f.Resets))
		retx[i], notCaptured[i] = descending(int64(f.Retransmissions)), descending(int64(f.NotCaptured))
		packets[i], nums[i] = descending(int64(f.Packets)), ascending(int64(flowNum(f.ID)))
	}
	perm := orderBy(sc, cols)
	return perm, tiesOf(perm, func(a, b int32) bool { return sameKeys(cols, a, b) })
}

// sortTexts sorts the flows by column col's text, as strings compare, ties in flow order: by radix
// on the texts' first 16 bytes (prefix, taken as each text is written), then each run of flows that
// share them by the whole texts, unless they are all of one length no longer than 16 (then equal).
func sortTexts(c *common, sc *sortScratch, col int) ([]int32, []uint64) {
	flows := c.res.Flows
	text, offs := sc.text[:0], resize(&sc.offs, len(flows)+1)
	cols := sc.columns(2, len(flows))
	p0, p1 := cols[0], cols[1]
	for i := range flows {
		yield(sc.g, i)
		offs[i] = len(text)
		if app := flowColumns[col].appendStr; app != nil {
			text = app(text, c, &flows[i])
		} else {
			text = append(text, flowColumns[col].str(c, &flows[i])...)
		}
		t := text[offs[i]:]
		p0[i], p1[i] = prefix(t, 0), prefix(t, 8)
	}
	offs[len(flows)], sc.text = len(text), text
	at := func(i int32) []byte { return text[offs[i]:offs[i+1]] }
	// same reports whether flows a and b, their prefixes equal, have the same text.
	same := func(a, b int32) bool {
		la, lb := offs[a+1]-offs[a], offs[b+1]-offs[b]
		return la == lb && (la <= 16 || bytes.Equal(at(a), at(b)))
	}
	perm := orderBy(sc, cols)
	byText := func(a, b int32) int { return bytes.Compare(at(a), at(b)) }
	for r := 0; r < len(perm); {
		s, equal := r+1, true
		for s < len(perm) && p0[perm[s]] == p0[perm[r]] && p1[perm[s]] == p1[perm[r]] {
			equal = equal && same(perm[s-1], perm[s])
			s++
		}
		if run := perm[r:s]; !equal && !slices.IsSortedFunc(run, byText) {
			slices.SortStableFunc(run, byText)
		}
		r = s
	}
	return perm, tiesOf(perm, func(a, b int32) bool { return p0[a] == p0[b] && p1[a] == p1[b] && same(a, b) })
}

// sortEndpoints sorts the flows by the addresses side gives, as their texts (appendEndpoint, names
// not shown) compare, ties in flow order, without writing the texts, when every address is IPv4's
// (digits and dots: ok false otherwise). An address's text is the address, then ":" and the port's
// digits when it has a port; ':' is past every digit and the dot, so two texts that differ before
// their ports are ordered by that part ("10.0.0.1" or "10.0.0.1:", as many as there are addresses:
// ranked once), and else by their ports' digits (portKey).
func sortEndpoints(sc *sortScratch, flows []correlate.Flow, side func(f *correlate.Flow) *correlate.Endpoint) ([]int32, []uint64, bool) {
	type head struct {
		ip   string
		port bool
	}
	ids := map[head]uint64{}
	var heads []head
	cols := sc.columns(1, len(flows))
	key := cols[0]
	for i := range flows {
		yield(sc.g, i)
		e := side(&flows[i])
		h := head{e.IP, e.Port != 0}
		id, ok := ids[h]
		if !ok {
			if !dotted(e.IP) {
				return nil, nil, false
			}
			id = uint64(len(heads))
			ids[h], heads = id, append(heads, h)
		}
		key[i] = id<<20 | portKey(e.Port)
	}
	text := func(h head) string {
		if h.port {
			return h.ip + ":"
		}
		return h.ip
	}
	byText := make([]int, len(heads))
	for i := range byText {
		byText[i] = i
	}
	slices.SortFunc(byText, func(a, b int) int { return strings.Compare(text(heads[a]), text(heads[b])) })
	rank := make([]uint64, len(heads))
	for r, id := range byText {
		rank[id] = uint64(r)
	}
	for i, k := range key {
		key[i] = rank[k>>20]<<20 | k&(1<<20-1)
	}
	perm := orderBy(sc, cols)
	return perm, tiesOf(perm, func(a, b int32) bool { return key[a] == key[b] }), true
}

// dotted reports whether s holds only digits and dots.
func dotted(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; (b < '0' || b > '9') && b != '.' {
			return false
		}
	}
	return true
}

// portKey is a number that orders ports as their decimal texts compare (a port with no digits, 0,
// first): each digit d, left-aligned in five places, as d+1 in base 11, so that a text that ends
// first, a prefix of the other, comes first.
func portKey(p uint16) uint64 {
	if p == 0 {
		return 0
	}
	var ds [5]byte
	n := 0
	for v := p; v > 0; v /= 10 {
		ds[n] = byte(v % 10)
		n++
	}
	k := uint64(0)
	for j := range 5 {
		k *= 11
		if j < n {
			k += uint64(ds[n-1-j]) + 1
		}
	}
	return k
}
