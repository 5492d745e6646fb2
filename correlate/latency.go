package correlate

import (
	"math"
	"math/bits"
	"slices"
)

// exactSamples is how many latencies a latAcc keeps exactly before switching to a histogram.
const exactSamples = 4096

// latAcc accumulates latencies: exactly up to exactSamples values (in 4 bytes each while they fit),
// then in a log-linear histogram (64 sub-buckets per power of two, under 1.6% error), so memory does
// not grow with the capture.
type latAcc struct {
	n        int
	min, max int64
	samples  []int32 // exact values that fit in 32 bits
	wide     []int64 // exact values that do not (latencies beyond ±2.1 s)
	hist     []int32 // counts of buckets histLo, histLo+1, … once past exactSamples
	histLo   int32
}

func (a *latAcc) add(v int64) {
	if a.n == 0 || v < a.min {
		a.min = v
	}
	if a.n == 0 || v > a.max {
		a.max = v
	}
	a.n++
	if a.hist != nil {
		b := int32(v) // bucketOf(v), inlined for a latency of 64 ns or more
		if v >= 64 {
			b = bucketAbove64(uint64(v))
		} else if v < 0 {
			b = bucketOf(v)
		}
		if i := b - a.histLo; i >= 0 && int(i) < len(a.hist) {
			a.hist[i]++
			return
		}
		a.count(b)
		return
	}
	a.addExact(v)
}

// addRoomy adds v as add does when the accumulator holds a value already and keeps v exactly in
// room its samples have (a flow's end-to-end latency, whose samples placement carves to size), and
// reports whether it did; otherwise it does nothing. Small enough to be inlined, with no call.
//
// (With a histogram the samples are none, nil: len(s) == cap(s) declines it, as the test of a.hist did.
// The samples' slice is lengthened in place, its pointer not written again: no write barrier's test.)
func (a *latAcc) addRoomy(v int64) bool {
	s := a.samples
	if a.n == 0 || a.n >= exactSamples || len(s) == cap(s) || int64(int32(v)) != v {
		return false
	}
	s = s[:len(s)+1]
	s[len(s)-1] = int32(v)
	a.samples, a.n = a.samples[:len(s)], a.n+1
	a.min, a.max = min(a.min, v), max(a.max, v)
	return true
}

// addUsual adds v as add does when v is 64 ns or more and the histogram's range holds it already (the
// usual latency past exactSamples: min and max are set), and reports whether it did; otherwise it does
// nothing. It is small enough to be inlined in a loop (the bucket is worked out before the tests: for
// v under 64 it is no bucket, and unused).
func (a *latAcc) addUsual(v int64) bool {
	i := int(bucketAbove64(uint64(v)) - a.histLo)
	if v < 64 || uint(i) >= uint(len(a.hist)) {
		return false
	}
	a.hist[i]++
	a.n++
	a.min, a.max = min(a.min, v), max(a.max, v)
	return true
}

// addEvery adds vs[0], vs[step], vs[2*step], … as add does, in that order, and returns how many of
// them are below neg: while they are kept exactly (exactEvery) and once the histogram has the usual
// value (usualEvery) a run at a time, with the accumulator's fields in registers; the others through
// add.
//
// What a latAcc gives (summary, merge, min) does not depend on the order its values were added in:
// exact, its samples are sorted; past exactSamples, every value is in the histogram, whose buckets
// stay where they are as its range widens. So a caller may add values later than they came.
func (a *latAcc) addEvery(vs []int64, step int, neg int64) (below int) {
	for k := 0; k < len(vs); {
		switch {
		case a.hist == nil && a.n < exactSamples:
			if k, below = a.exactEvery(vs, k, step, neg, below); k >= len(vs) || a.n == exactSamples {
				continue
			}
		case a.hist != nil && neg <= 64: // (a usual value, 64 or more, is not below neg)
			if k = a.usualEvery(vs, k, step); k >= len(vs) {
				continue
			}
		}
		if vs[k] < neg { // a value neither loop takes
			below++
		}
		a.add(vs[k])
		k += step
	}
	return below
}

// exactEvery is addEvery from vs[k] while the values are kept exactly (a.n below exactSamples, no
// histogram) and fit in 32 bits (a.samples), below counting on from below. It returns where it
// stopped (len(vs) or more, a.n at exactSamples, or a value that does not fit), and below.
func (a *latAcc) exactEvery(vs []int64, k, step int, neg int64, below int) (int, int) {
	if a.n == 0 {
		a.min, a.max = vs[k], vs[k]
	}
	m := min((len(vs)-k+step-1)/step, exactSamples-a.n) // the values it may take
	sm := slices.Grow(a.samples, m)
	k, t, mn, mx, below := exactRun(vs, k, step, sm[len(sm):len(sm)+m], neg, a.min, a.max, below)
	if t > 0 { // (a value that does not fit, first: the samples as they were, nil or not)
		a.min, a.max, a.n, a.samples = mn, mx, a.n+t, sm[:len(sm)+t]
	}
	return k, below
}

// exactRun is exactEvery's loop, with nothing else live in its registers: it writes vs[k],
// vs[k+step], … into out while they fit in 32 bits, and returns where it stopped in vs, how many it
// wrote, their extremes with mn and mx, and below counting on those below neg.
//
//go:noinline
func exactRun(vs []int64, k, step int, out []int32, neg, mn, mx int64, below int) (int, int, int64, int64, int) {
	t := 0
	for ; t < len(out); t, k = t+1, k+step {
		v := vs[k]
		if int64(int32(v)) != v {
			break
		}
		if v < neg {
			below++
		}
		mn, mx = min(mn, v), max(mx, v)
		out[t] = int32(v)
	}
	return k, t, mn, mx, below
}

// usualEvery is addEvery from vs[k] while the values are usual (addUsual's: 64 ns or more, in the
// histogram's range; and below usualTop). It returns where it stopped: len(vs) or more, or the first
// other value. A value's bucket is read from its float64's exponent and top 6 bits of mantissa
// (floatBucket), without bucketAbove64's shift by a count; the float's top bits alone tell a usual
// value (usualFloats).
func (a *latAcc) usualEvery(vs []int64, k, step int) int {
	k0 := k
	off := floatBucket + int64(a.histLo) // the bucket's offset in hist, from the float's top bits
	lo, hi := max(usualFloats[0], off), min(usualFloats[1], off+int64(len(a.hist)))
	if hi <= lo {
		return k // none of the histogram's buckets is a usual value's (its range below theirs): add's
	}
	k, a.min, a.max = usualRun(vs, k, step, a.hist[lo-off:hi-off], uint64(lo), a.min, a.max)
	a.n += (k - k0) / step
	return k
}

// usualRun is usualEvery's loop, with nothing else live in its registers: it counts vs[k], vs[k+step],
// … in h while a value's float64's bits from the 46th up, less lo, are an index of h (h: the
// histogram's buckets of usual values, from lo less floatBucket), and returns where it stopped and the
// extremes.
//
//go:noinline
func usualRun(vs []int64, k, step int, h []int32, lo uint64, mn, mx int64) (int, int64, int64) {
	u := uint(k) // (k is not negative: unsigned, u < len(vs) needs no bounds check)
	for ; u < uint(len(vs)); u += uint(step) {
		v := vs[u]
		i := math.Float64bits(float64(v))>>46 - lo
		if i >= uint64(len(h)) {
			break
		}
		h[i]++
		mn, mx = min(mn, v), max(mx, v)
	}
	return int(u), mn, mx
}

// usualTop and floatBucket: a latency v from 64 up to usualTop (2^53, where float64 still holds every
// integer) is exactly a float64, whose bits from the 46th up (its biased exponent, Len64(v)+1022, and
// the top 6 bits of its mantissa, those below v's leading 1) are its bucketAbove64 plus floatBucket.
const (
	usualTop    = 1 << 53
	floatBucket = 1028 * 64
)

// usualFloats is the range of a float64's bits from the 46th up that float64(v) has exactly when v is
// from 64 up to usualTop, not included: biased exponents 1029 (64) to 1075 (2^53 less 1, exact in a
// float64), with any top 6 bits of mantissa. Every other int64 has bits outside it: below 64 a smaller
// exponent (0 has none), from 2^53 up an exponent of 1076 or more (the conversion rounds up to 2^53 at
// most), below 0 the sign bit (2^17 at bit 46's place, past the range).
var usualFloats = [2]int64{1029 * 64, 1076 * 64}

// addExact keeps v exactly (a.n counts it already), and moves the samples to the histogram once they
// are more than exactSamples.
func (a *latAcc) addExact(v int64) {
	if int64(int32(v)) == v {
		a.samples = append(a.samples, int32(v))
	} else {
		a.wide = append(a.wide, v)
	}
	if a.n <= exactSamples {
		return
	}
	for _, s := range a.samples {
		a.count(bucketOf(int64(s)))
	}
	for _, s := range a.wide {
		a.count(bucketOf(s))
	}
	a.samples, a.wide = nil, nil
}

// merge adds the latencies of b to a: the summary is the one an accumulator given both's values
// would give, exact while they are exactSamples or fewer, else the histogram of them all.
func (a *latAcc) merge(b *latAcc) {
	if b.n == 0 {
		return
	}
	if a.n == 0 || b.min < a.min {
		a.min = b.min
	}
	if a.n == 0 || b.max > a.max {
		a.max = b.max
	}
	a.n += b.n
	if a.hist == nil && b.hist == nil && a.n <= exactSamples {
		a.samples, a.wide = append(a.samples, b.samples...), append(a.wide, b.wide...)
		return
	}
	for _, l := range []*latAcc{a, b} {
		for _, s := range l.samples {
			a.countN(bucketOf(int64(s)), 1)
		}
		for _, s := range l.wide {
			a.countN(bucketOf(s), 1)
		}
	}
	a.samples, a.wide = nil, nil
	for i, k := range b.hist {
		if k != 0 {
			a.countN(b.histLo+int32(i), k)
		}
	}
}

// count adds one to bucket b, widening the histogram's range when b is outside it.
func (a *latAcc) count(b int32) { a.countN(b, 1) }

// countN adds k to bucket b, widening the histogram's range when b is outside it.
func (a *latAcc) countN(b, k int32) {
	if a.hist == nil {
		a.hist, a.histLo = make([]int32, 64), b-32
	}
	if i := b - a.histLo; i >= 0 && int(i) < len(a.hist) {
		a.hist[i] += k
		return
	}
	lo, hi := min(a.histLo, b), max(a.histLo+int32(len(a.hist)), b+1)
	lo, hi = lo-(hi-lo)/4, hi+(hi-lo)/4 // room to grow either way
	h := make([]int32, hi-lo)
	copy(h[a.histLo-lo:], a.hist)
	a.hist, a.histLo = h, lo
	a.hist[b-lo] += k
}

// bucketOf maps a latency to a histogram bucket; negative latencies get negative buckets.
func bucketOf(v int64) int32 {
	if v < 0 {
		return -bucketOf(-v) - 1
	}
	u := uint64(v)
	if u < 64 {
		return int32(u)
	}
	return bucketAbove64(u)
}

// bucketAbove64 is bucketOf for a latency u of 64 or more.
func bucketAbove64(u uint64) int32 {
	e := bits.Len64(u) - 7 // shift so that the top 7 bits remain (0 to 57: masked, no test for 64 or more)
	return int32(64*(e+1) + int((u>>(uint(e)&63))&63))
}

// bucketValue is the midpoint of a bucket.
func bucketValue(b int32) int64 {
	if b < 0 {
		return -bucketValue(-b - 1)
	}
	if b < 64 {
		return int64(b)
	}
	e := int(b)/64 - 1
	m := uint64(b%64) | 64
	lo := m << uint(e)
	return int64(lo + (uint64(1)<<uint(e))/2)
}

// summary returns the count, extremes and quantiles. It reorders the exact samples in place (selectRank).
func (a *latAcc) summary() Latency {
	if a.n == 0 {
		return Latency{}
	}
	l := Latency{N: a.n, Min: a.min, Max: a.max}
	if a.hist == nil {
		r50, r90, r99 := rank(0.50, a.n), rank(0.90, a.n), rank(0.99, a.n)
		if s := a.samples; len(a.wide) == 0 && len(s) == a.n { // the usual case: the ranks selected
			// from the lowest up, each in the part the one before left above it; the last is the
			// largest (a.max: every value is in s)
			l.P50 = int64(selectRank(s, r50))
			l.P90, l.P99 = a.max, a.max
			if r90 < a.n-1 {
				l.P90 = int64(selectRank(s[r50:], r90-r50))
			}
			if r99 < a.n-1 {
				l.P99 = int64(selectRank(s[r90:], r99-r90))
			}
			return l
		}
		all := make([]int64, 0, a.n)
		for _, s := range a.samples {
			all = append(all, int64(s))
		}
		all = append(all, a.wide...)
		slices.Sort(all)
		l.P50, l.P90, l.P99 = all[r50], all[r90], all[r99]
		return l
	}
	q := func(p float64) int64 {
		want := rank(p, a.n) + 1
		c := 0
		for i, k := range a.hist {
			c += int(k)
			if c >= want {
				return min(max(bucketValue(a.histLo+int32(i)), a.min), a.max)
			}
		}
		return a.max
	}
	l.P50, l.P90, l.P99 = q(0.50), q(0.90), q(0.99)
	return l
}

// rank is the 0-based nearest-rank index of quantile p among n values.
func rank(p float64, n int) int {
	r := int(math.Ceil(p*float64(n))) - 1
	return min(max(r, 0), n-1)
}

// selectSmall is the length of a range selectRank sorts by insertion rather than partitions.
const selectSmall = 16

// selectRank returns the k-th smallest of s (0-based: what s[k] would be were s sorted) and leaves s
// reordered so that s[k] is it, none of s[:k] above it and none of s[k+1:] below it: so a higher rank
// may then be selected in s[k:] alone. It is Hoare's FIND (quickselect, the median of three as
// pivot), a range of selectSmall or fewer sorted by insertion, and the range left sorted by
// slices.Sort after more rounds than a fair input needs (no quadratic input).
func selectRank(s []int32, k int) int32 {
	lo, hi := 0, len(s) // s[k] lies in s[lo:hi], none of s[:lo] above any of it, none of s[hi:] below
	for rounds := 2*bits.Len(uint(len(s))) + 4; hi-lo > selectSmall; rounds-- {
		if rounds == 0 {
			slices.Sort(s[lo:hi])
			return s[k]
		}
		x, y, z := s[lo], s[lo+(hi-lo)/2], s[hi-1]
		p := max(min(x, y), min(max(x, y), z)) // their median
		i, j := lo, hi-1
		for i <= j {
			for s[i] < p {
				i++
			}
			for s[j] > p {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i, j = i+1, j-1
			}
		}
		// s[lo:j+1] are p or below, s[i:hi] p or above, s[j+1:i] p
		switch {
		case k <= j:
			hi = j + 1
		case k >= i:
			lo = i
		default:
			return p
		}
	}
	r := s[lo:hi]
	for i := 1; i < len(r); i++ {
		v, m := r[i], i
		for ; m > 0 && r[m-1] > v; m-- {
			r[m] = r[m-1]
		}
		r[m] = v
	}
	return s[k]
}
