package tui

import (
	"bytes"
	"math/bits"
	"slices"

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

// orderBy returns the flows 0..n-1 sorted by keys, the first the most significant, ties in flow
// order. Each key fills vals[i] with flow i's key, flows in order (read once, in memory order). Keys
// that span few values together are sorted as one: from the least significant, as many as their
// ranges' bits fit in 64 are packed into one number (pack), and the flows sorted by each such number
// in turn.
func orderBy(sc *sortScratch, n int, keys ...func(vals []uint64)) []int32 {
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	cols := resize(&sc.cols, len(keys))
	for j, key := range keys {
		key(resize(&cols[j], n))
		pass(sc.g)
	}
	vals := resize(&sc.vals, n)
	a, b := resize(&sc.a, n), resize(&sc.b, n)
	for end := len(keys); end > 0; {
		start, packed := pack(cols[:end], vals)
		end = start
		for r, i := range perm {
			a[r] = radixItem{packed[i], i}
		}
		for r, it := range radixSort(sc.g, a, b) {
			perm[r] = it.i
		}
	}
	return perm
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
// shares; b, as long as a, is scratch. It returns a or b, whichever holds the sorted items. It
// yields between passes, waiting for g.
func radixSort(g *gate, a, b []radixItem) []radixItem {
	if len(a) < 2 {
		return a
	}
	var diff uint64
	for _, it := range a {
		diff |= it.k ^ a[0].k
	}
	for sh := 0; sh < 64; sh += 8 {
		if byte(diff>>sh) == 0 {
			continue
		}
		var c [256]int
		for _, it := range a {
			c[byte(it.k>>sh)]++
		}
		pos := 0
		for v := range c {
			c[v], pos = pos, pos+c[v]
		}
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
	keys := resize(&sc.keys, len(flows))
	for i := range flows {
		yield(sc.g, i)
		keys[i] = num(&flows[i])
	}
	perm := orderBy(sc, len(flows), func(vals []uint64) {
		for i, k := range keys {
			vals[i] = ascending(k)
		}
	})
	return perm, tiesOf(perm, func(a, b int32) bool { return keys[a] == keys[b] })
}

// sortWorstFirst sorts the flows worst first (worstCompare), ties in flow order.
func sortWorstFirst(sc *sortScratch, flows []correlate.Flow) ([]int32, []uint64) {
	nums := resize(&sc.keys, len(flows))
	for i := range flows {
		yield(sc.g, i)
		nums[i] = int64(flowNum(flows[i].ID))
	}
	most := func(v func(f *correlate.Flow) int) func(vals []uint64) {
		return func(vals []uint64) {
			for i := range flows {
				yield(sc.g, i)
				vals[i] = descending(int64(v(&flows[i])))
			}
		}
	}
	perm := orderBy(sc, len(flows),
		most(func(f *correlate.Flow) int { return f.Lost }), most(func(f *correlate.Flow) int { return f.Resets }),
		most(func(f *correlate.Flow) int { return f.Retransmissions }),
		most(func(f *correlate.Flow) int { return f.NotCaptured }), most(func(f *correlate.Flow) int { return f.Packets }),
		func(vals []uint64) {
			for i, n := range nums {
				vals[i] = ascending(n)
			}
		})
	return perm, tiesOf(perm, func(a, b int32) bool {
		fa, fb := &flows[a], &flows[b]
		return fa.Lost == fb.Lost && fa.Resets == fb.Resets && fa.Retransmissions == fb.Retransmissions &&
			fa.NotCaptured == fb.NotCaptured && fa.Packets == fb.Packets && nums[a] == nums[b]
	})
}

// sortTexts sorts the flows by column col's text, as strings compare, ties in flow order: by radix
// on the texts' first 16 bytes (prefix), then each run of flows that share them by the whole texts.
func sortTexts(c *common, sc *sortScratch, col int) ([]int32, []uint64) {
	flows := c.res.Flows
	text, offs := sc.text[:0], resize(&sc.offs, len(flows)+1)
	for i := range flows {
		yield(sc.g, i)
		offs[i] = len(text)
		if app := flowColumns[col].appendStr; app != nil {
			text = app(text, c, &flows[i])
		} else {
			text = append(text, flowColumns[col].str(c, &flows[i])...)
		}
	}
	offs[len(flows)], sc.text = len(text), text
	at := func(i int32) []byte { return text[offs[i]:offs[i+1]] }
	p0, p1 := resize(&sc.p0, len(flows)), resize(&sc.p1, len(flows))
	for i := range flows {
		yield(sc.g, i)
		p0[i], p1[i] = prefix(at(int32(i)), 0), prefix(at(int32(i)), 8)
	}
	perm := orderBy(sc, len(flows), func(vals []uint64) { copy(vals, p0) }, func(vals []uint64) { copy(vals, p1) })
	byText := func(a, b int32) int { return bytes.Compare(at(a), at(b)) }
	for r := 0; r < len(perm); {
		s := r + 1
		for s < len(perm) && p0[perm[s]] == p0[perm[r]] && p1[perm[s]] == p1[perm[r]] {
			s++
		}
		if run := perm[r:s]; len(run) > 1 && !slices.IsSortedFunc(run, byText) {
			slices.SortStableFunc(run, byText)
		}
		r = s
	}
	return perm, tiesOf(perm, func(a, b int32) bool { return bytes.Equal(at(a), at(b)) })
}
