package decimal

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendDecimal holds AppendInt and AppendUint to strconv's bytes: at every power of ten and
// its neighbours, the extremes, and random values of every length, after a prefix already there.
func TestAppendDecimal(t *testing.T) {
	us := []uint64{0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64,
		math.MaxInt64 + 1, math.MaxUint64 - 1, math.MaxUint64}
	for p := uint64(1); p <= 1e19; p *= 10 {
		us = append(us, p-1, p, p+1)
		if p == 1e19 {
			break
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		us = append(us, r.Uint64()>>r.UintN(64))
	}
	for _, u := range us {
		if got, want := string(AppendUint([]byte("x:"), u)), "x:"+strconv.FormatUint(u, 10); got != want {
			t.Fatalf("AppendUint(%d) = %q, want %q", u, got, want)
		}
		for _, v := range []int64{int64(u), -int64(u), int64(u >> 1), -int64(u >> 1)} {
			if got, want := string(AppendInt([]byte("x:"), v)), "x:"+strconv.FormatInt(v, 10); got != want {
				t.Fatalf("AppendInt(%d) = %q, want %q", v, got, want)
			}
		}
	}
	if got := string(AppendInt(nil, math.MinInt64)); got != strconv.FormatInt(math.MinInt64, 10) {
		t.Fatalf("AppendInt(MinInt64) = %q", got)
	}
}

// BenchmarkAppendDecimal is AppendInt against strconv.AppendInt on the numbers a flow holds:
// counts, byte totals and nanosecond latencies.
func BenchmarkAppendDecimal(b *testing.B) {
	vals := []int64{0, 3, 12, 96, 1480, 31337, 250000, 4817223, 1500000000}
	buf := make([]byte, 0, 256)
	b.Run("AppendInt", func(b *testing.B) {
		for range b.N {
			buf = buf[:0]
			for _, v := range vals {
				buf = AppendInt(buf, v)
			}
		}
	})
	b.Run("strconv", func(b *testing.B) {
		for range b.N {
			buf = buf[:0]
			for _, v := range vals {
				buf = strconv.AppendInt(buf, v, 10)
			}
		}
	})
}

// TestAppendUintStrconv holds AppendUint to strconv on every number below 100,000, both sides of 2^32
// (where it leaves 32-bit arithmetic), every power of ten and its neighbours, and a spread of long ones.
func TestAppendUintStrconv(t *testing.T) {
	ns := []uint64{0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 65535, 1<<32 - 1, 1 << 32, 1<<32 + 99, 1<<32 + 100, 1<<63 - 1, 1 << 63, 1e19 - 1, 1e19, 1<<64 - 1}
	for n := uint64(0); n < 100000; n++ {
		ns = append(ns, n)
	}
	for n := uint64(1); n < 1<<61; n = n*7 + 3 {
		ns = append(ns, n, n*3+1)
	}
	for n := uint64(1); n < 1e19; n *= 10 {
		ns = append(ns, n-1, n, n+1)
	}
	for _, n := range ns {
		if got, want := string(AppendUint([]byte("x"), n)), "x"+strconv.FormatUint(n, 10); got != want {
			t.Errorf("AppendUint(%d) = %s, want %s", n, got, want)
		}
	}
}

// TestEightAll holds AppendUint to strconv on every number below 10^8 (eight's whole range: each of
// its divisions by multiplication is exact only so far), in a buffer with no spare capacity and in
// one with room.
func TestEightAll(t *testing.T) {
	if testing.Short() {
		t.Skip("10^8 numbers")
	}
	room := make([]byte, 0, 64)
	var want []byte
	for n := uint64(0); n < 1e8; n++ {
		want = strconv.AppendUint(want[:0], n, 10)
		if got := AppendUint(room[:0], n); string(got) != string(want) {
			t.Fatalf("AppendUint(%d) = %q, want %q", n, got, want)
		}
		if n%9973 == 0 {
			if got := AppendUint(nil, n); string(got) != string(want) {
				t.Fatalf("AppendUint(nil, %d) = %q, want %q", n, got, want)
			}
		}
	}
}
