package decode

import (
	"encoding/binary"
	"math/bits"
	"math/rand"
	"testing"
)

// oldSum16 is sum16 as it was before it loaded little-endian words: big-endian 64-bit words, the tail
// summed in a 32-byte window of its own. TestSum16LikeOld holds the new one to it.
func oldSum16(s uint64, b []byte) uint64 {
	n := len(b)
	if n < 32 {
		return sum16Short(s, b)
	}
	last := b[n-32:]
	var c, carries uint64
	i := 0
	for ; i <= n-32; i += 32 {
		w := b[i : i+32 : i+32]
		s, c = bits.Add64(s, binary.BigEndian.Uint64(w), 0)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(w[8:]), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(w[16:]), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(w[24:]), c)
		carries += c
	}
	s, c = bits.Add64(s, oldWindowSum(last, n-i, n&1), 0)
	carries += c
	s = s>>32 + s&0xffffffff + carries
	return s>>32 + s&0xffffffff
}

func oldWindowSum(w []byte, r, odd int) uint64 {
	var m [4]uint64
	for k := range m {
		m[k] = keep(32 - r - 8*k)
	}
	var s, c uint64
	s, c = bits.Add64(s, binary.BigEndian.Uint64(w)&m[0], c)
	s, c = bits.Add64(s, binary.BigEndian.Uint64(w[8:])&m[1], c)
	s, c = bits.Add64(s, binary.BigEndian.Uint64(w[16:])&m[2], c)
	s, c = bits.Add64(s, binary.BigEndian.Uint64(w[24:])&m[3], c)
	s += c
	s = s>>32 + s&0xffffffff
	return s << (8 * uint(odd&1))
}

// likeOld fails unless sum16(s, b) and sum16Go(s, b) give every verdict oldSum16(s, b) gave: the
// same folded value, also with a word added to the unfolded sum as lcoArtefact adds them (so zero
// exactly when the old one is zero), and a result below 2^33.
func likeOld(t testing.TB, s uint64, b []byte, extra uint64) {
	t.Helper()
	for _, impl := range sum16s {
		got, want := impl.f(s, b), oldSum16(s, b)
		if fold(got) != fold(want) || (got == 0) != (want == 0) || got >= 1<<33 {
			t.Fatalf("%s(%#x, % x) = %#x (folds to %#04x), the old one %#x (%#04x)", impl.name, s, b, got,
				fold(got), want, fold(want))
		}
		if fold(got+extra) != fold(want+extra) {
			t.Fatalf("%s(%#x, % x) + %#x folds to %#04x, the old one to %#04x", impl.name, s, b, extra,
				fold(got+extra), fold(want+extra))
		}
	}
}

// TestSum16LikeOld compares sum16 with the implementation it replaced on every length up to 2,100
// bytes at each of 8 alignments: random bytes, all ones, all zeros, a single non-zero byte at an odd
// or even offset (the odd trailing byte and the byte-swapped halves), and starting sums up to 2^64-1
// (those close to it carry out when b's sum is added).
func TestSum16LikeOld(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	buf := make([]byte, 2100+8)
	for n := 0; n <= 2100; n++ {
		for off := 0; off < 8; off++ {
			b := buf[off : off+n]
			rng.Read(b)
			s := rng.Uint64() >> uint(rng.Intn(65))
			extra := uint64(rng.Intn(1 << 17))
			likeOld(t, s, b, extra)
			likeOld(t, ^uint64(0)-uint64(rng.Int63n(1<<42)), b, extra)
			likeOld(t, 0, b, extra)
			for i := range b {
				b[i] = 0xff
			}
			likeOld(t, s, b, extra)
			clear(b)
			likeOld(t, 0, b, 0)
			likeOld(t, s, b, extra)
			if n > 0 {
				at := rng.Intn(n)
				b[at] = byte(1 + rng.Intn(255))
				likeOld(t, 0, b, 0)
				b[n-1] = byte(1 + rng.Intn(255)) // the last byte: odd or even
				likeOld(t, 0, b, extra)
			}
		}
	}
}

// FuzzSum16LikeOld is TestSum16LikeOld on any bytes, alignment and starting sum.
func FuzzSum16LikeOld(f *testing.F) {
	f.Add(uint64(0), uint64(0), uint8(0), []byte{})
	f.Add(uint64(1<<64-1), uint64(0xffff), uint8(3), make([]byte, 63))
	f.Add(uint64(0x1234), uint64(7), uint8(1), []byte("an odd number of bytes, more than thirty-two of them"))
	f.Fuzz(func(t *testing.T, s, extra uint64, off uint8, b []byte) {
		a := make([]byte, int(off%8)+len(b))
		copy(a[off%8:], b)
		likeOld(t, s, a[off%8:], extra&(1<<40-1))
	})
}
