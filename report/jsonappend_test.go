package report

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/calipath/calipath/internal/safetext"
)

// TestAppendDecimal holds appendInt and appendUint to strconv's bytes: at every power of ten and
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
		if got, want := string(appendUint([]byte("x:"), u)), "x:"+strconv.FormatUint(u, 10); got != want {
			t.Fatalf("appendUint(%d) = %q, want %q", u, got, want)
		}
		for _, v := range []int64{int64(u), -int64(u), int64(u >> 1), -int64(u >> 1)} {
			if got, want := string(appendInt([]byte("x:"), v)), "x:"+strconv.FormatInt(v, 10); got != want {
				t.Fatalf("appendInt(%d) = %q, want %q", v, got, want)
			}
		}
	}
	if got := string(appendInt(nil, math.MinInt64)); got != strconv.FormatInt(math.MinInt64, 10) {
		t.Fatalf("appendInt(MinInt64) = %q", got)
	}
}

// BenchmarkAppendDecimal is appendInt against strconv.AppendInt on the numbers a flow holds:
// counts, byte totals and nanosecond latencies.
func BenchmarkAppendDecimal(b *testing.B) {
	vals := []int64{0, 3, 12, 96, 1480, 31337, 250000, 4817223, 1500000000}
	buf := make([]byte, 0, 256)
	b.Run("appendInt", func(b *testing.B) {
		for range b.N {
			buf = buf[:0]
			for _, v := range vals {
				buf = appendInt(buf, v)
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

// TestJSONNameCache holds jsonEnc.name to AppendJSONString's bytes over names written again and
// again: the same string, substrings that share its address (one with a length that maps to the
// same slot), names that need escapes, the empty name, and more names than the cache has slots.
func TestJSONNameCache(t *testing.T) {
	long := strings.Repeat("node-1/cali0123456789", 20) // 420 bytes
	names := []string{long[:5], long[:5+nameSlots], long, long[:5], "", `a"b\c<d>`, "pöd/\u2028x", long[:5+nameSlots]}
	for i := range 3 * nameSlots {
		names = append(names, fmt.Sprintf("node-%d/eth%d", i%7, i))
	}
	e := newJSONEnc(io.Discard)
	for round := range 3 {
		for _, s := range names {
			e.buf = e.buf[:0]
			e.name(s)
			if want := string(safetext.AppendJSONString(nil, s)); string(e.buf) != want {
				t.Fatalf("round %d: name(%q) wrote %s, want %s", round, s, e.buf, want)
			}
		}
	}
}
