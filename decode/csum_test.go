package decode

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"math/rand"
	"strconv"
	"testing"
)

// refSum16 is the plain RFC 1071 sum: big-endian 16-bit words, an odd last byte padded with zero.
func refSum16(s uint64, b []byte) uint64 {
	for ; len(b) >= 2; b = b[2:] {
		s += uint64(b[0])<<8 | uint64(b[1])
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}

// sum16s are the implementations of sum16 that tests hold to the reference: sum16 (in assembly on
// amd64) and sum16Go (sum16 on other architectures).
var sum16s = []struct {
	name string
	f    func(s uint64, b []byte) uint64
}{{"sum16", sum16}, {"sum16Go", sum16Go}}

// checkSum16 holds sum16 and sum16Go to the reference: the same folded value (fold keeps 0 apart
// from 0xffff, so this also asserts zero-iff-all-zero), and a result small enough to add to.
func checkSum16(t testing.TB, s uint64, b []byte) {
	t.Helper()
	for _, impl := range sum16s {
		got, want := impl.f(s, b), refSum16(s, b)
		if fold(got) != fold(want) {
			t.Fatalf("%s(%#x, % x): folds to %#04x, want %#04x", impl.name, s, b, fold(got), fold(want))
		}
		if got >= 1<<33 {
			t.Fatalf("%s(%#x, % x) = %#x: not below 2^33", impl.name, s, b, got)
		}
	}
	// A checksum computed over b verifies.
	if len(b) >= 2 && len(b)%2 == 0 {
		c := append([]byte(nil), b...)
		c[0], c[1] = 0, 0
		ck := ^fold(refSum16(s, c))
		c[0], c[1] = byte(ck>>8), byte(ck)
		if fold(sum16(s, c)) != 0xffff && !(s == 0 && bytes.Count(c, []byte{0}) == len(c)) {
			t.Fatalf("sum16(%#x, % x) does not verify its own checksum", s, c)
		}
	}
}

// TestSumOK holds sumOK to fold: true exactly where fold gives 0xffff, on every value a sum can take
// near the multiples of 0xffff, near the powers of two and the top, and at random.
func TestSumOK(t *testing.T) {
	check := func(s uint64) {
		if got, want := sumOK(s), fold(s) == 0xffff; got != want {
			t.Fatalf("sumOK(%#x) = %v, fold gives %#04x", s, got, fold(s))
		}
	}
	for s := uint64(0); s < 1<<20; s++ {
		check(s)
	}
	for _, base := range []uint64{0xffff, 0x1fffe, 1 << 32, 1<<33 - 1, 1 << 41, 0xffff * (1 << 40), 1<<63 - 1, ^uint64(0) - 0xffff} {
		for d := uint64(0); d < 3*0xffff; d++ {
			check(base + d)
			check(base - d)
		}
	}
	rng := rand.New(rand.NewSource(2))
	for range 1 << 20 {
		v := rng.Uint64() >> uint(rng.Intn(64))
		check(v)
		check(v / 0xffff * 0xffff)
	}
}

// fillSums is how many ways fillSum fills a checksum test's bytes.
const fillSums = 5

// fillSum fills b for a checksum summed from s, the fill'th way: zeros (0), ones (1), random bytes (2),
// random bytes with a checksum over the rest from s in the first word, which verifies (3), or zeros
// with a first word that makes the words, with s, a multiple of 0xffff (4).
func fillSum(rng *rand.Rand, b []byte, s uint64, fill int) {
	switch fill {
	case 0:
		clear(b)
	case 1:
		for i := range b {
			b[i] = 0xff
		}
	case 2, 3:
		rng.Read(b)
		if fill == 3 && len(b) >= 2 {
			b[0], b[1] = 0, 0
			ck := ^fold(refSum16(s, b))
			b[0], b[1] = byte(ck>>8), byte(ck)
		}
	case 4:
		clear(b)
		if len(b) >= 2 {
			ck := 0xffff - fold(s)
			b[0], b[1] = byte(ck>>8), byte(ck)
		}
	}
}

// TestSumOKFrom holds fastUsual's transport verdict, sumOKFrom of a sum16 sum started from a value
// other than 0 (TCP's and UDP's protocol and length), to sumOK's and the reference's: the sum is never
// 0 (sumOKFrom leaves that test out), on every length to 300 bytes at every alignment, of zeros (where
// only the start is not 0), ones, words that sum to a multiple of 0xffff, a checksum that verifies,
// and random bytes, from starts of 1 to sum16's 2^33.
func TestSumOKFrom(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	buf := make([]byte, 320)
	starts := []uint64{1, 6 + 20, 17 + 8, 0xfffe, 0xffff, 0x10000, 0x1fffe, 0xffffffff, 1<<33 - 1}
	for n := 0; n <= 300; n++ {
		for off := 0; off < 8; off++ {
			for _, s := range starts {
				for fill := 0; fill < fillSums; fill++ {
					b := buf[off : off+n]
					fillSum(rng, b, s, fill)
					want := fold(refSum16(s, b)) == 0xffff
					for _, impl := range sum16s {
						got := impl.f(s, b)
						if got == 0 {
							t.Fatalf("%s(%#x, % x) = 0, from a start not 0", impl.name, s, b)
						}
						if sumOKFrom(got) != want || sumOK(got) != want {
							t.Fatalf("%s(%#x, % x) = %#x: sumOKFrom %v, sumOK %v, want %v", impl.name, s, b, got, sumOKFrom(got), sumOK(got), want)
						}
					}
				}
			}
		}
	}
}

func TestSum16Reference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	buf := make([]byte, 2100)
	ones := bytes.Repeat([]byte{0xff}, 2100)
	zeros := make([]byte, 2100)
	starts := []uint64{0, 1, 0xffff, 0x1fffe, 0xffffffff, 1<<33 - 1, 0x4_0000_0000 + 6}
	for n := 0; n <= 2000; n++ {
		rng.Read(buf)
		off := rng.Intn(8)
		for _, s := range starts {
			checkSum16(t, s, buf[off:off+n])
			checkSum16(t, s, ones[off:off+n])
			checkSum16(t, s, zeros[off:off+n])
		}
		checkSum16(t, rng.Uint64()>>uint(rng.Intn(64)), buf[off:off+n])
		// Words that sum to a multiple of 0xffff: the 0 / 0xffff distinction.
		for i := range buf[:n] {
			buf[i] = 0
		}
		if n >= 4 {
			buf[off], buf[off+1], buf[off+2], buf[off+3] = 0x80, 0x00, 0x7f, 0xff
		}
		checkSum16(t, 0, buf[off:off+n])
	}
}

// TestSum20 holds the IPv4 header sum to the reference, for random and extreme headers.
func TestSum20(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	b := make([]byte, 20)
	for i := 0; i < 100000; i++ {
		switch i {
		case 0:
			clear(b)
		case 1:
			copy(b, bytes.Repeat([]byte{0xff}, 20))
		default:
			rng.Read(b)
		}
		// sum20 sums the words byte-swapped: its fold is the reference's swapped, and sumOK agrees.
		if got, want := fold(sum20(b)), bits.ReverseBytes16(fold(refSum16(0, b))); got != want {
			t.Fatalf("sum20(% x) folds to %#04x, want %#04x", b, got, want)
		}
		if got, want := sumOK(sum20(b)), fold(refSum16(0, b)) == 0xffff; got != want {
			t.Fatalf("sumOK(sum20(% x)) = %v, want %v", b, got, want)
		}
		if i > 1 { // the same header with its checksum made right: sumOK must say so
			binary.BigEndian.PutUint16(b[10:], 0)
			binary.BigEndian.PutUint16(b[10:], ^fold(refSum16(0, b)))
			if !sumOK(sum20(b)) || fold(refSum16(0, b)) != 0xffff {
				t.Fatalf("sumOK(sum20(% x)) = false for a right checksum", b)
			}
		}
	}
}

// TestPseudoSum holds the pseudo-header sum to the reference over the pseudo-header's words.
func TestPseudoSum(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 100000; i++ {
		var h IPHdr
		h.Version = 4
		if i%2 == 1 {
			h.Version = 6
		}
		rng.Read(h.Src[:])
		rng.Read(h.Dst[:])
		if i < 4 {
			clear(h.Src[:])
			clear(h.Dst[:])
		}
		proto, length := uint8(rng.Intn(256)), rng.Intn(MaxCapLen+1)
		n := 4
		if h.Version == 6 {
			n = 16
		}
		want := refSum16(refSum16(0, h.Src[:n]), h.Dst[:n]) + uint64(proto) + uint64(length)
		if i < 2 {
			proto, length, want = 0, 0, 0
		}
		if got := pseudoSum(&h, proto, length); fold(got) != fold(want) {
			t.Fatalf("pseudoSum(%+v, %d, %d) folds to %#04x, want %#04x", h, proto, length, fold(got), fold(want))
		}
	}
}

// refFold folds as RFC 1071 describes: add the carries back in until none is left.
func refFold(s uint64) uint16 {
	for s>>16 != 0 {
		s = (s & 0xffff) + (s >> 16)
	}
	return uint16(s)
}

func TestFold(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	check := func(s uint64) {
		if got, want := fold(s), refFold(s); got != want {
			t.Fatalf("fold(%#x) = %#04x, want %#04x", s, got, want)
		}
	}
	for s := uint64(0); s < 1<<20; s++ {
		check(s)
	}
	for _, s := range []uint64{0xffff, 0x10000, 0x10001, 0x1fffe, 0x2fffd, 0xfffeffff, 0xffffffff, 0x100000000,
		0x1fffffffe, 1<<63 - 1, 1 << 63, ^uint64(0), ^uint64(0) - 1, 0xffff_ffff_0000_0000} {
		check(s)
	}
	for i := 0; i < 1000000; i++ {
		check(rng.Uint64() >> uint(rng.Intn(64)))
	}
	// Sums whose halves add up to just over 2^32 (0x1_0000_ffff needs every step).
	for j := uint64(0); j < 512; j++ {
		for k := uint64(0); k < 512; k++ {
			check((0xffffffff - j) | (0x10000+k)<<32)
			check((0xffffffff - j) | (0xffffffff-k)<<32)
		}
	}
	// Multiples of 0xffff fold to 0xffff, never 0.
	for i := uint64(1); i < 100000; i++ {
		check(i * 0xffff)
		check(i * 0xffff * 0x10001)
	}
}

func TestSum16Examples(t *testing.T) {
	// RFC 1071 section 3 example: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2.
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got := fold(sum16(0, b)); got != 0xddf2 {
		t.Errorf("RFC 1071 example: %#04x, want 0xddf2", got)
	}
	if got := sum16(0, make([]byte, 64)); got != 0 {
		t.Errorf("zeros: %#x, want 0", got)
	}
	if got := fold(sum16(0, bytes.Repeat([]byte{0xff}, 64))); got != 0xffff {
		t.Errorf("ones: %#x, want 0xffff", got)
	}
	if got := fold(sum16(0, []byte{0x12})); got != 0x1200 {
		t.Errorf("odd byte: %#x, want 0x1200", got)
	}
}

func FuzzSum16(f *testing.F) {
	f.Add(uint64(0), []byte{})
	f.Add(uint64(0), []byte{0xff, 0xff, 0xff})
	f.Add(uint64(0xffff), bytes.Repeat([]byte{0xff}, 41))
	f.Add(uint64(0), []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7})
	f.Fuzz(func(t *testing.T, s uint64, b []byte) {
		checkSum16(t, s>>30, b) // callers pass sums below 2^34
		checkSum16(t, s>>2, b)  // the reference must not overflow
	})
}

func BenchmarkSum16(b *testing.B) {
	for _, n := range []int{20, 120, 1500} {
		buf := make([]byte, n)
		rand.New(rand.NewSource(1)).Read(buf)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			var s uint64
			for i := 0; i < b.N; i++ {
				s += uint64(fold(sum16(uint64(i), buf)))
			}
			sink = s
		})
	}
	// Lengths that vary from call to call, as transport segments do: 40-199 bytes.
	rng := rand.New(rand.NewSource(1))
	buf := make([]byte, 200)
	rng.Read(buf)
	lens := make([]int, 1<<20)
	for i := range lens {
		lens[i] = 40 + rng.Intn(160)
	}
	b.Run("mixed40-199", func(b *testing.B) {
		var s uint64
		for i := 0; i < b.N; i++ {
			s += uint64(fold(sum16(uint64(i), buf[:lens[i%len(lens)]])))
		}
		sink = s
	})
}

var sink uint64

// TestHead8 holds fastUsual's reading of an IPv4 header's first 8 bytes in two words (the version and
// fragment tests on the words, the sum as w0 + w1 + sum12) to the byte-wise reading it replaced.
func TestHead8(t *testing.T) {
	rng := rand.New(rand.NewSource(820))
	for i := range 200000 {
		var h [20]byte
		for j := range h {
			h[j] = byte(rng.Uint32())
		}
		switch i % 4 { // the bytes the tests look at near their edges
		case 0: // and its checksum right (sumOK: sumOKFrom's verdict below true)
			h[0], h[6], h[7] = 0x45, byte(rng.Uint32())&0xc0, 0
			h[10], h[11] = 0, 0
			ck := ^fold(refSum16(0, h[:]))
			h[10], h[11] = byte(ck>>8), byte(ck)
		case 1:
			h[0], h[6], h[7] = 0x45, byte(rng.Uint32())&0xc0|1<<(rng.Uint32()%6), 0
		case 2:
			h[0], h[6], h[7] = 0x45, 0x40, byte(1<<(rng.Uint32()%8))
		}
		w0, w1 := binary.LittleEndian.Uint32(h[0:4]), binary.LittleEndian.Uint32(h[4:8])
		if (byte(w0) == 0x45) != (h[0] == 0x45) || (w1&0xff3f0000 == 0) != (h[6]&0x3f == 0 && h[7] == 0) {
			t.Fatalf("% x: version and fragment tests %v %v, want %v %v", h, byte(w0) == 0x45, w1&0xff3f0000 == 0,
				h[0] == 0x45, h[6]&0x3f == 0 && h[7] == 0)
		}
		got, want := uint64(w0)+uint64(w1)+sum12(&h), sum20(h[:])
		if got != want {
			t.Fatalf("% x: sum %x, want %x", h, got, want)
		}
		// fastUsual's verdict, of a header whose first byte is 0x45: its sum is not 0, and sumOKFrom
		// (without sumOK's test of 0) is sumOK's.
		if byte(w0) == 0x45 && (got == 0 || sumOKFrom(got) != sumOK(want) || i%4 == 0 && !sumOKFrom(got)) {
			t.Fatalf("% x: sum %x, sumOKFrom %v, sumOK %v", h, got, sumOKFrom(got), sumOK(want))
		}
	}
}

// TestSumSwap holds sumSwap (the assembly on amd64) and sumSwapGo to sum16: congruent modulo 0xffff
// to s + 2^8·sum16(0, b), and fastUsual's verdict from it, sumSwap(s<<8, b)%0xffff == 0, the same as
// sumOKFrom(sum16(s, b)), on every length to 2,100 bytes (every entry of its rounds) at every
// alignment, of zeros, ones, random bytes, checksums that verify and words summing to a multiple of 0xffff, from starts of TCP's and UDP's
// pseudo-header sums (protocol and length, below 2^17) shifted by 8.
func TestSumSwap(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	buf := make([]byte, 2120)
	for n := 0; n <= 2100; n++ {
		for off := 0; off < 8; off++ {
			for fill := 0; fill < fillSums; fill++ {
				b := buf[off : off+n]
				s := uint64(rng.Intn(1 << 17))
				fillSum(rng, b, s, fill)
				ref := sum16(s, b)
				want := ref % 0xffff * 0x100 % 0xffff // 2^8·sum16(s, b), modulo 0xffff
				var p *byte
				if n > 0 {
					p = &b[0]
				}
				for _, impl := range []struct {
					name string
					f    func() uint64
				}{{"sumSwap", func() uint64 { return sumSwap(s<<8, p, n) }}, {"sumSwapGo", func() uint64 { return sumSwapGo(s<<8, b) }},
					{"sumSwapShort", func() uint64 { return sumSwapShort(s<<8, p, n) }}} {
					got := impl.f()
					if got%0xffff != want {
						t.Fatalf("%s(%#x, % x) = %#x, %#x modulo 0xffff, want %#x (sum16 %#x)", impl.name, s<<8, b, got, got%0xffff, want, ref)
					}
					if ok, wantOK := got%0xffff == 0, fold(refSum16(s, b)) == 0xffff; n > 0 && s > 0 && ok != wantOK {
						t.Fatalf("%s(%#x, % x): verdict %v, want %v", impl.name, s<<8, b, ok, wantOK)
					}
				}
			}
		}
	}
}

// TestSumTransport4 holds sumTransport4 (the assembly on amd64) to sumSwap of the segment and the
// addresses from the pseudo-header's protocol and length, and its verdict to the reference's: on
// every total length from 28 to 2,100 bytes (every entry of its rounds, one round and more, every
// n%8) at every alignment, the header's other bytes random, the bytes after the packet random too
// (not read), the segment filled every fillSum way (one way whose checksum verifies, one whose words
// sum to a multiple of 0xffff).
func TestSumTransport4(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	buf := make([]byte, 2120)
	for tl := 28; tl <= 2100; tl++ {
		for off := 0; off < 8; off++ {
			for fill := 0; fill < fillSums; fill++ {
				rng.Read(buf)
				b := buf[off : off+tl]
				s := uint64(b[9]) + uint64(tl-20) // the pseudo-header's protocol and length
				fillSum(rng, b[12:], s, fill)
				got, want := sumTransport4(&b[0], tl), sumSwap(s<<8, &b[12], tl-12)
				if got%0xffff != want%0xffff {
					t.Fatalf("tl %d at %d, fill %d: sumTransport4 %#x, %#x modulo 0xffff, want %#x", tl, off, fill, got, got%0xffff, want%0xffff)
				}
				if ok, wantOK := got%0xffff == 0, fold(refSum16(s, b[12:])) == 0xffff; ok != wantOK {
					t.Fatalf("tl %d at %d, fill %d: verdict %v, want %v", tl, off, fill, ok, wantOK)
				}
			}
		}
	}
}
