package correlate

import (
	"math"
	"math/bits"
	"sort"
)

// exactSamples is how many latencies a latAcc keeps exactly before switching to a histogram.
const exactSamples = 4096

// latAcc accumulates latencies: exactly up to exactSamples values, then in a log-linear histogram
// (64 sub-buckets per power of two, under 1.6% error), so memory does not grow with the capture.
type latAcc struct {
	n        int
	min, max int64
	samples  []int64
	hist     map[int32]int
}

func (a *latAcc) add(v int64) {
	if a.n == 0 || v < a.min {
		a.min = v
	}
	if a.n == 0 || v > a.max {
		a.max = v
	}
	a.n++
	if a.hist == nil {
		a.samples = append(a.samples, v)
		if len(a.samples) <= exactSamples {
			return
		}
		a.hist = map[int32]int{}
		for _, s := range a.samples {
			a.hist[bucketOf(s)]++
		}
		a.samples = nil
		return
	}
	a.hist[bucketOf(v)]++
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
	e := bits.Len64(u) - 7 // shift so that the top 7 bits remain
	return int32(64*(e+1) + int((u>>uint(e))&63))
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

func (a *latAcc) summary() Latency {
	if a.n == 0 {
		return Latency{}
	}
	l := Latency{N: a.n, Min: a.min, Max: a.max}
	if a.hist == nil {
		s := append([]int64(nil), a.samples...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		q := func(p float64) int64 { return s[rank(p, len(s))] }
		l.P50, l.P90, l.P99 = q(0.50), q(0.90), q(0.99)
		return l
	}
	keys := make([]int32, 0, len(a.hist))
	for k := range a.hist {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	q := func(p float64) int64 {
		want := rank(p, a.n) + 1
		c := 0
		for _, k := range keys {
			c += a.hist[k]
			if c >= want {
				return min(max(bucketValue(k), a.min), a.max)
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
