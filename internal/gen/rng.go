package gen

import (
	"math"
	"math/bits"
	"time"
)

// rng is a small deterministic generator (SplitMix64). Its stream depends only on the seed, never on
// the Go version, so captures are reproducible.
type rng struct{ s uint64 }

func newRNG(seed uint64, stream uint64) rng {
	r := rng{s: seed ^ mix64(stream+0x9e3779b97f4a7c15)}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// intn returns a value in [0,n) for n > 0 (Lemire's multiply-shift; the bias is negligible here).
func (r *rng) intn(n int) int { return int(r.int64n(int64(n))) }

// int64n is intn for bounds past a 32-bit int.
func (r *rng) int64n(n int64) int64 {
	if n <= 1 {
		return 0
	}
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int64(hi)
}

// float returns a value in [0,1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return p > 0 && r.float() < p }

// span draws a duration in [s.Min, s.Max] in nanoseconds.
func (r *rng) span(s Span) int64 {
	d := int64(s.Max - s.Min)
	if d <= 0 {
		return int64(s.Min)
	}
	return int64(s.Min) + int64(r.next()%uint64(d+1))
}

// exp draws an exponential variate with the given mean (ns), at least 1.
func (r *rng) exp(mean float64) int64 {
	v := -math.Log(1-r.float()) * mean
	if v < 1 {
		return 1
	}
	if v > float64(time.Hour) {
		return int64(time.Hour)
	}
	return int64(v)
}
