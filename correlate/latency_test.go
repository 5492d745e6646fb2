package correlate

import (
	"math"
	"math/rand"
	"reflect"
	"sort"
	"testing"
)

func TestLatAccExact(t *testing.T) {
	var a latAcc
	for _, v := range []int64{50, 10, 40, 20, 30, 60, 70, 80, 90, 100} {
		a.add(v)
	}
	got := a.summary()
	want := Latency{N: 10, Min: 10, P50: 50, P90: 90, P99: 100, Max: 100}
	if got != want {
		t.Fatalf("summary = %+v, want %+v", got, want)
	}
}

// Past exactSamples the histogram keeps every quantile within 1.6% of the exact value.
func TestLatAccHistogram(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var a latAcc
	var all []int64
	for i := 0; i < 50000; i++ {
		v := int64(r.ExpFloat64()*200e3) + 1000
		if i%1000 == 0 {
			v = -v / 10 // a few negative latencies (clock trouble) must not break it
		}
		a.add(v)
		all = append(all, v)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	got := a.summary()
	if got.Min != all[0] || got.Max != all[len(all)-1] {
		t.Fatalf("min/max = %d/%d, want %d/%d", got.Min, got.Max, all[0], all[len(all)-1])
	}
	for _, c := range []struct {
		p   float64
		got int64
	}{{0.5, got.P50}, {0.9, got.P90}, {0.99, got.P99}} {
		want := all[rank(c.p, len(all))]
		if d := float64(c.got-want) / float64(want); d > 0.016 || d < -0.016 {
			t.Errorf("p%.0f = %d, exact %d (%.2f%% off)", c.p*100, c.got, want, d*100)
		}
	}
}

// Latencies beyond 32 bits (a packet held for seconds) stay exact among the 32-bit ones.
func TestLatAccWide(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	var a latAcc
	var all []int64
	for i := 0; i < 3000; i++ {
		v := int64(r.Intn(1e6))
		switch i % 7 {
		case 0:
			v += 3e9 // 3 s
		case 1:
			v = -v - 5e9
		}
		a.add(v)
		all = append(all, v)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	got := a.summary()
	want := Latency{N: len(all), Min: all[0], Max: all[len(all)-1], P50: all[rank(0.5, len(all))],
		P90: all[rank(0.9, len(all))], P99: all[rank(0.99, len(all))]}
	if got != want {
		t.Fatalf("summary = %+v, want %+v", got, want)
	}
}

// Past exactSamples, add counts every latency in bucketOf's bucket (it works the bucket out inline):
// around 64 ns, at powers of two, negative and beyond 32 bits.
func TestLatAccHistogramBuckets(t *testing.T) {
	var vs []int64
	for v := int64(-300); v <= 300; v++ {
		vs = append(vs, v)
	}
	for e := 6; e < 62; e++ {
		vs = append(vs, 1<<e-1, 1<<e, 1<<e+1, -(1 << e), 3<<(e-1)+7)
	}
	var a latAcc
	for a.hist == nil {
		a.add(1000)
	}
	want := latAcc{hist: append([]int32(nil), a.hist...), histLo: a.histLo}
	for _, v := range vs {
		a.add(v)
		want.count(bucketOf(v))
	}
	lo := min(a.histLo, want.histLo)
	at := func(l *latAcc, b int32) int32 {
		if i := b - l.histLo; i >= 0 && int(i) < len(l.hist) {
			return l.hist[i]
		}
		return 0
	}
	for b := lo; b < max(a.histLo+int32(len(a.hist)), want.histLo+int32(len(want.hist))); b++ {
		if got, w := at(&a, b), at(&want, b); got != w {
			t.Fatalf("bucket %d: %d latencies, want %d", b, got, w)
		}
	}
}

// addUsual, with add where it declines, leaves an accumulator as add alone does: through the exact
// samples, the histogram's start, values outside its range (which widen it), values under 64 ns,
// negative ones and wide ones; and it takes the usual value itself.
func TestLatAccAddUsual(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	var want, got latAcc
	took := 0
	for i := range 3 * exactSamples {
		v := int64(r.ExpFloat64()*50e3) + 100
		switch i % 97 {
		case 0:
			v = -v / 10 // negative: clock trouble
		case 1:
			v %= 64 // under 64 ns: the histogram's exact buckets
		case 2:
			v *= 1 << 20 // far past the histogram's range: it widens
		}
		want.add(v)
		if got.addUsual(v) {
			took++
		} else {
			got.add(v)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("after value %d (%d): %+v, want %+v", i, v, got.summary(), want.summary())
		}
	}
	if took < exactSamples {
		t.Errorf("addUsual took %d of %d values: the usual case not taken", took, 3*exactSamples)
	}
}

// addEvery leaves an accumulator as add alone does, value by value in the same order, and counts the
// values below neg: through the exact samples (some too wide for them, the first one too), the
// histogram's start, values outside its range, under 64 ns, negative, near and past 2^53 (where a
// float64 no longer holds every integer), with a neg above 64 at times (no value then taken as usual
// without its test), in runs of one to 64 values, every step-th of them.
func TestLatAccAddEvery(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	for _, step := range []int{1, 5} {
		var want, got latAcc
		usual := 0
		for n := 0; n < 4*exactSamples; {
			m := 1 + r.Intn(64)
			vs := make([]int64, m*step)
			neg := -int64(r.Intn(5000))
			if r.Intn(20) == 0 {
				neg = 100 + int64(r.Intn(1000))
			}
			wantBelow := 0
			for k := 0; k < len(vs); k += step {
				v := int64(r.ExpFloat64()*50e3) + 100
				switch r.Intn(97) {
				case 0:
					v = -v / 10
				case 1:
					v %= 64
				case 2:
					v *= 1 << 20
				case 3:
					v = 1<<31 + v // too wide for the samples
				case 4:
					v = usualTop - 2 + v%4 // around 2^53
				case 5:
					v = usualTop<<1 - 1 - v%3 // past it, where a float64 rounds it up to 2^54
				}
				if n == 0 && k == 0 && step == 5 {
					v = -1 << 40 // the very first value too wide for the samples
				}
				vs[k] = v
				for j := k + 1; j < k+step && j < len(vs); j++ {
					vs[j] = 7 // not one of the values: addEvery reads every step-th
				}
				if v < neg {
					wantBelow++
				}
				if v >= 64 && v < usualTop && want.hist != nil && neg <= 64 {
					if i := bucketAbove64(uint64(v)) - want.histLo; i >= 0 && int(i) < len(want.hist) {
						usual++
					}
				}
				want.add(v)
			}
			n += m
			if below := got.addEvery(vs, step, neg); below != wantBelow {
				t.Fatalf("step %d: %d values below %d, want %d", step, below, neg, wantBelow)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("step %d, after %d values: %+v, want %+v", step, n, got.summary(), want.summary())
			}
		}
		if usual < exactSamples {
			t.Errorf("step %d: %d usual values: the histogram's run not taken", step, usual)
		}
	}
}

// A latency from 64 up to 2^53 has its bucketAbove64 in its float64's bits from the 46th up, less
// floatBucket (usualRun).
func TestFloatBucket(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	check := func(v int64) {
		if got, want := int64(math.Float64bits(float64(v))>>46)-floatBucket, int64(bucketAbove64(uint64(v))); got != want {
			t.Fatalf("%d: bucket %d from its float64, want %d", v, got, want)
		}
	}
	for e := 6; e < 53; e++ {
		for _, d := range []int64{-1, 0, 1} {
			if v := int64(1)<<e + d; v >= 64 && v < usualTop {
				check(v)
			}
		}
	}
	for range 100000 {
		check(64 + r.Int63n(usualTop-64))
		check(64 + r.Int63n(1<<(6+r.Intn(40))))
	}
}

// TestUsualFloats checks that a value's float64 bits from the 46th up lie in usualFloats exactly when
// the value is from 64 up to usualTop (usualRun tells a usual value by them alone).
func TestUsualFloats(t *testing.T) {
	r := rand.New(rand.NewSource(19))
	check := func(v int64) {
		u := int64(math.Float64bits(float64(v)) >> 46)
		if got, want := u >= usualFloats[0] && u < usualFloats[1], v >= 64 && v < usualTop; got != want {
			t.Fatalf("%d: in usualFloats %v, want %v", v, got, want)
		}
	}
	for e := 0; e < 63; e++ {
		for _, d := range []int64{-2, -1, 0, 1, 2} {
			check(int64(1)<<e + d)
			check(-(int64(1)<<e + d))
		}
	}
	for _, v := range []int64{0, 63, 64, 65, usualTop - 1, usualTop, usualTop + 1, math.MaxInt64, math.MinInt64, math.MinInt64 + 1} {
		check(v)
	}
	for range 100000 {
		check(r.Int63() >> r.Intn(63))
		check(-r.Int63() >> r.Intn(63))
	}
}

// TestLatAccAddRoomy checks that addRoomy, where it adds a value, adds it as add does (the accumulator
// the same field by field), and that it declines where add would do more than keep it in room the
// samples have: the first value, a value too wide for 32 bits, samples out of room, and past
// exactSamples, where add moves the samples to the histogram.
func TestLatAccAddRoomy(t *testing.T) {
	r := rand.New(rand.NewSource(16))
	for _, room := range []int{0, 1, 7, exactSamples - 1, exactSamples, exactSamples + 3} {
		var want, got latAcc
		want.samples, got.samples = make([]int32, 0, room), make([]int32, 0, room)
		took := 0
		for i := 0; i < room+exactSamples/2; i++ {
			v := int64(r.ExpFloat64()*50e3) - 1000
			switch r.Intn(50) {
			case 0:
				v = 1<<31 + v // too wide for the samples
			case 1:
				v = -1<<31 - 1 - v%7
			}
			want.add(v)
			if got.addRoomy(v) {
				took++
				if got.n == 1 || got.n > exactSamples || int64(int32(v)) != v {
					t.Fatalf("room %d: addRoomy took value %d (%d) as the accumulator's %d-th", room, i, v, got.n)
				}
			} else {
				got.add(v)
			}
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("room %d: after value %d (%d): addRoomy and add gave %+v, add alone %+v", room, i, v, got, want)
			}
		}
		if room > 1 && took == 0 {
			t.Fatalf("room %d: addRoomy took no value", room)
		}
	}
}

// TestSelectRank checks selectRank against a sorted copy, and summary's exact quantiles against the
// sorted samples' ranks, on inputs of every small length and some long ones: random values (few
// distinct and many), sorted, reversed, all equal, organ pipes and a sawtooth (quickselect's bad
// cases, which must still give the rank), with every rank of the short ones; and that s is left
// partitioned about the rank (so that summary may select a higher one in s[k:]).
func TestSelectRank(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	shapes := map[string]func(n int) []int32{
		"random": func(n int) []int32 {
			s := make([]int32, n)
			for i := range s {
				s[i] = rng.Int31n(1_000_000) - 1000
			}
			return s
		},
		"few": func(n int) []int32 {
			s := make([]int32, n)
			for i := range s {
				s[i] = rng.Int31n(3)
			}
			return s
		},
		"sorted": func(n int) []int32 {
			s := make([]int32, n)
			for i := range s {
				s[i] = int32(i)
			}
			return s
		},
		"reversed": func(n int) []int32 {
			s := make([]int32, n)
			for i := range s {
				s[i] = int32(n - i)
			}
			return s
		},
		"equal": func(n int) []int32 { return make([]int32, n) },
		"organ": func(n int) []int32 {
			s := make([]int32, n)
			for i := range s {
				s[i] = int32(min(i, n-1-i))
			}
			return s
		},
		"saw": func(n int) []int32 {
			s := make([]int32, n)
			for i := range s {
				s[i] = int32(i % 17)
			}
			return s
		},
		"extremes": func(n int) []int32 {
			s := make([]int32, n)
			for i := range s {
				s[i] = []int32{math.MinInt32, math.MaxInt32, 0}[rng.Intn(3)]
			}
			return s
		},
	}
	check := func(name string, in []int32, k int) {
		t.Helper()
		want := append([]int32(nil), in...)
		sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
		s := append([]int32(nil), in...)
		if got := selectRank(s, k); got != want[k] || s[k] != want[k] {
			t.Fatalf("%s n=%d k=%d: got %d (s[k] %d), want %d", name, len(in), k, got, s[k], want[k])
		}
		for i, v := range s {
			if (i < k && v > s[k]) || (i > k && v < s[k]) {
				t.Fatalf("%s n=%d k=%d: s[%d] = %d on the wrong side of %d", name, len(in), k, i, v, s[k])
			}
		}
		back := append([]int32(nil), s...)
		sort.Slice(back, func(i, j int) bool { return back[i] < back[j] })
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("%s n=%d k=%d: the values changed", name, len(in), k)
		}
	}
	summary := func(name string, in []int32) {
		t.Helper()
		n := len(in)
		var a latAcc
		for _, v := range in {
			a.add(int64(v))
		}
		got := a.summary()
		want := append([]int32(nil), in...)
		sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
		q := func(p float64) int64 { return int64(want[rank(p, n)]) }
		if got.N != n || got.P50 != q(0.5) || got.P90 != q(0.9) || got.P99 != q(0.99) ||
			got.Min != int64(want[0]) || got.Max != int64(want[n-1]) {
			t.Fatalf("%s n=%d: summary %+v, want P50 %d P90 %d P99 %d", name, n, got, q(0.5), q(0.9), q(0.99))
		}
		if again := a.summary(); again != got {
			t.Fatalf("%s n=%d: summary again %+v, first %+v", name, n, again, got)
		}
	}
	for name, mk := range shapes {
		for n := 1; n <= 70; n++ {
			in := mk(n)
			for k := range n {
				check(name, in, k)
			}
			summary(name, in)
		}
		for _, n := range []int{99, 100, 101, 1000, 4095, 4096} {
			in := mk(n)
			for _, k := range []int{0, 1, n / 2, n * 9 / 10, n*99/100 - 1, n - 2, n - 1} {
				check(name, in, k)
			}
			summary(name, in)
		}
	}
}

// A histogram whose range lies wholly below the usual values (a segment's first 4,096 latencies all
// under 64 ns or negative, as a clock stepped and drifting but not taken off leaves them) takes a
// usual value after them as add does: usualEvery's window of the histogram is then empty, not cut
// past its end (a panic on generated captures with a 50 ppm drift and a 4 ms step).
func TestLatAccAddEveryHistBelowUsual(t *testing.T) {
	for _, base := range []int64{-1 << 20, -100_000, -4_000, 0} {
		var want, got latAcc
		vs := make([]int64, exactSamples+8)
		for i := range vs {
			vs[i] = base + int64(i%50)
		}
		vs = append(vs, 5_000_000, 64, 1<<40, 100, -3)
		for _, v := range vs {
			want.add(v)
		}
		got.addEvery(vs[:exactSamples+8], 1, 0)
		got.addEvery(vs[exactSamples+8:], 1, 0)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("values from %d: %+v, want %+v", base, got.summary(), want.summary())
		}
	}
}
