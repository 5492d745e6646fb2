// Package decimal appends integers to byte slices in decimal, as strconv.AppendUint and AppendInt do,
// but writing the digits in place, eight at a time in one 64-bit word (below 10^8, as most fields
// are), where strconv formats them into a buffer of its own and copies them over: the JSON writers'
// numbers.
package decimal

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unsafe"
)

// AppendInt appends v in decimal, as strconv.AppendInt(b, v, 10) does. From 0 to 10^8-1 (most
// fields) the digits are worked out side by side in one word (eight) and stored with one 8-byte store,
// whatever their count: b's spare capacity past the digits, up to 8 bytes from b's length, may be
// written (it is not b's: append may write it too).
func AppendInt(b []byte, v int64) []byte {
	if uint64(v) >= 1e8 {
		if v < 0 {
			return AppendUint(append(b, '-'), uint64(-v)) // -MinInt64 wraps to itself: 1<<63 as a uint64
		}
		return appendLong(b, uint64(v))
	}
	if v < 10 {
		return append(b, byte('0'+v))
	}
	i := len(b)
	if cap(b)-i < 8 {
		b = slices.Grow(b, 8)
	}
	w := eight(uint32(v))
	// the leading zero digits' bits, 8 a digit (the least significant bytes are the first digits; v has
	// two digits or more, so w is not 0): masked, the shift below takes no test of its count
	z := uint(bits.TrailingZeros64(w)) & 56
	// b has room for 8 bytes from i: stored through a pointer to them, without a bounds check
	binary.LittleEndian.PutUint64((*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))[:], (w+zeros)>>z)
	return b[:i+8-int(z>>3)]
}

// AppendUint appends n in decimal, as strconv.AppendUint does (AppendInt below 10^8).
func AppendUint(b []byte, n uint64) []byte {
	if n >= 1e8 {
		return appendLong(b, n)
	}
	return AppendInt(b, int64(n))
}

// zeros is '0' in each byte of a word.
const zeros = 0x3030303030303030

// eight returns the eight decimal digits of n (n < 10^8, leading zeros included) as the values 0-9 in
// a word's bytes, the first digit in the least significant byte (the first byte stored little-endian):
// n split in two halves of four digits (n/10^4 by a multiplication and shift), each half in two pairs
// (÷100) and each pair in two digits (÷10), the halves, then the pairs, side by side in the word's
// lanes, each quotient small enough not to reach the next lane.
func eight(n uint32) uint64 {
	x := uint64(n)
	hi := x * 109951163 >> 40 // n / 10^4 for n < 10^8
	w := hi | (x-hi*10000)<<32
	q := w * 10486 >> 20 & 0x0000007f_0000007f // each lane ÷ 100 (lanes below 10^4)
	w = q | (w-q*100)<<16
	q = w * 103 >> 10 & 0x000f_000f_000f_000f // each lane ÷ 10 (lanes below 100)
	return q | (w-q*10)<<8
}

// appendLong appends n ≥ 10^8: its digits above the last eight, then those eight in full.
func appendLong(b []byte, n uint64) []byte {
	q := n / 1e8
	if q >= 1e8 {
		b = appendLong(b, q)
	} else {
		b = AppendInt(b, int64(q))
	}
	i := len(b)
	b = slices.Grow(b, 8)
	binary.LittleEndian.PutUint64(b[i:i+8], eight(uint32(n-q*1e8))+zeros)
	return b[:i+8]
}
