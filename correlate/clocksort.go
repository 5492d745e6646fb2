package correlate

import (
	"cmp"
	"math/bits"
	"slices"
	"unsafe"

	"github.com/calipath/calipath/decode"
)

// refCmp orders sampled edge frames by time, point, TTL and flags (sortRefs' order).
func refCmp(a, b *clockRef) int {
	switch {
	case a.ts != b.ts:
		return cmp.Compare(a.ts, b.ts)
	case a.point != b.point:
		return cmp.Compare(a.point, b.point)
	case a.ttl != b.ttl:
		return cmp.Compare(a.ttl, b.ttl)
	}
	return cmp.Compare(a.flags, b.flags)
}

// refKey is a sampled edge frame's point, TTL and flags as one word in refCmp's order of them.
func refKey(r *clockRef) uint64 {
	return uint64(uint32(r.point)^1<<31)<<24 | uint64(r.ttl)<<16 | uint64(r.flags)
}

// refLess reports whether a comes before b in refCmp's order.
func refLess(a, b *clockRef) bool {
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	return refKey(a) < refKey(b)
}

// A Flags is 16 bits: refKey's fields do not overlap.
var _ [0]struct{} = [unsafe.Sizeof(decode.Flags(0)) - 2]struct{}{}

// orderFiles is how many edge files' runs orderRefs merges at most.
const orderFiles = 64

// orderRefs returns refs, which come in file order, ordered by refCmp in a new list, or nil, leaving
// refs as they were, where it cannot tell that the clocks make of the list what they made of
// pdqsort's (sortRefs before, issue 17: it took 48.7 M instructions on the VXLAN set's 113,000
// sampled frames, two files' frames interleaved in time). Each file's frames, nearly in time order
// already, are put in order by insertion (a few thousand moves at most, else nil), then the files'
// runs merged. Frames equal under refCmp (different packets at one point in one microsecond: 3,794
// pairs on the many-flow set) may end in another order among themselves than pdqsort's, which is not
// stable; the clocks read the frames packet by packet (samplePackets), so that order changes nothing
// but the order packets are first met in, which nothing reads (the list of packets is in no
// particular order: on two cores two halves joined). So orderRefs gives up (nil) when two equal
// frames are of one packet (their exact fingerprints equal), whose sightings the order could change.
func (w *world) orderRefs(refs []clockRef) []clockRef {
	n := len(refs)
	if n < 2 {
		return nil
	}
	out := make([]clockRef, n)
	copy(out, refs)
	// One pass: where each file's frames end, and those out of order within a file moved back.
	var ends []int
	moves, budget := 0, n/8+1024
	for i := 1; i < n; i++ {
		if out[i].f != out[i-1].f {
			if len(ends) == orderFiles-1 {
				return nil
			}
			ends = append(ends, i)
			continue
		}
		if !refLess(&out[i], &out[i-1]) {
			continue
		}
		x, j, lo := out[i], i, 0
		if len(ends) > 0 {
			lo = ends[len(ends)-1]
		}
		for ; j > lo && refLess(&x, &out[j-1]); j-- {
			out[j] = out[j-1]
		}
		out[j] = x
		if moves += i - j; moves > budget {
			return nil
		}
	}
	ends = append(ends, n)
	// The files' runs merged pairwise, between out and a second list.
	var tmp []clockRef
	for len(ends) > 1 {
		if tmp == nil {
			tmp = make([]clockRef, n)
		}
		from, merged := 0, ends[:0]
		for k := 0; k < len(ends); k += 2 {
			if k+1 == len(ends) { // an odd run out: copied as it is
				copy(tmp[from:], out[from:ends[k]])
				merged = append(merged, ends[k])
				break
			}
			mid, end := ends[k], ends[k+1]
			mergeTwoRefs(tmp[from:end], out[from:mid], out[mid:end])
			merged = append(merged, end)
			from = end
		}
		ends, out, tmp = merged, tmp, out
	}
	// Equal frames of one packet: left to pdqsort.
	for i := 1; i < n; i++ {
		if out[i].ts != out[i-1].ts || refKey(&out[i]) != refKey(&out[i-1]) {
			continue
		}
		j := i + 1
		for j < n && out[j].ts == out[i].ts && refKey(&out[j]) == refKey(&out[i]) {
			j++
		}
		if w.samePacket(out[i-1 : j]) {
			return nil
		}
		i = j - 1
	}
	return out
}

// samePacket reports whether two of the sampled frames refs are of one packet (equal exact
// fingerprints).
func (w *world) samePacket(refs []clockRef) bool {
	var fps [8]uint64
	fp := fps[:0]
	for k := range refs {
		r := &refs[k]
		x := w.exactOf(&w.c.Obs[r.f][r.i], w.c.Loose[r.f].At(int(r.i)))
		if slices.Contains(fp, x) {
			return true
		}
		fp = append(fp, x)
	}
	return false
}

// mergeTwoRefs merges the ascending a and b into dst (len(a)+len(b)), a's frame first of two equal.
func mergeTwoRefs(dst, a, b []clockRef) {
	if len(a) == 0 || len(b) == 0 || !refLess(&b[0], &a[len(a)-1]) {
		copy(dst[copy(dst, a):], b) // b starts where a ends (one file's frames all after the other's)
		return
	}
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if refLess(&b[j], &a[i]) {
			dst[k] = b[j]
			j++
		} else {
			dst[k] = a[i]
			i++
		}
		k++
	}
	k += copy(dst[k:], a[i:])
	copy(dst[k:], b[j:])
}

// fpOrderBucket is the largest bucket fpOrder sorts by insertion; a larger one (fingerprints
// that share their top bits far more often than hashes do) sends the whole list to pdqsort.
const fpOrderBucket = 32

// fpOrder returns the packets of list (each fingerprint once) in a new list ordered by
// fingerprint. The exact fingerprints are hashes, spread evenly: the list is bucketed by their top
// bits (about one packet a bucket) and each bucket sorted by insertion, about 30 instructions a
// packet where pdqsort of the fingerprints took about 230 on the many-flow set's 56,000 packets.
func fpOrder(list []fpPkt) []fpPkt {
	out := make([]fpPkt, len(list))
	if len(list) < 2 {
		copy(out, list)
		return out
	}
	b := bits.Len(uint(len(list) - 1))
	shift := uint(64 - b)
	at := make([]int32, 1<<b+1) // at[h+1]: the packets in bucket h; then where bucket h starts
	for _, x := range list {
		at[x.fp>>shift+1]++
	}
	big := int32(0)
	for h := 1; h < len(at); h++ {
		big = max(big, at[h])
		at[h] += at[h-1]
	}
	if big > fpOrderBucket {
		copy(out, list)
		slices.SortFunc(out, func(x, y fpPkt) int { return cmp.Compare(x.fp, y.fp) })
		return out
	}
	for _, x := range list {
		h := x.fp >> shift
		out[at[h]] = x
		at[h]++
	}
	// Each packet is in its bucket, the buckets in order: an insertion sort moves a packet within its
	// bucket alone, past at most fpOrderBucket-1 others.
	for i := 1; i < len(out); i++ {
		x := out[i]
		j := i
		for ; j > 0 && out[j-1].fp > x.fp; j-- {
			out[j] = out[j-1]
		}
		out[j] = x
	}
	return out
}

// fpOrderHalf returns fpOrder of the packets of list whose fingerprint's top bit is top (0 or 1):
// bucketed as fpOrder buckets them, about two a bucket in half of its buckets.
func fpOrderHalf(list []fpPkt, top uint64) []fpPkt {
	n := 0
	for _, x := range list {
		n += int(x.fp>>63 ^ top ^ 1)
	}
	half, k := make([]fpPkt, n), 0
	for _, x := range list {
		if x.fp>>63 == top {
			half[k] = x
			k++
		}
	}
	return fpOrder(half)
}
