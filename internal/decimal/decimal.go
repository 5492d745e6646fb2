// Package decimal appends integers to byte slices in decimal, as strconv.AppendUint and AppendInt do,
// but writing the digits in place, two at a time (32-bit arithmetic below 2^32), where strconv formats
// them into a buffer of its own and copies them over: the JSON writers' numbers.
package decimal

import (
	"math/bits"
	"slices"
)

// AppendInt appends v in decimal, as strconv.AppendInt(b, v, 10) does.
func AppendInt(b []byte, v int64) []byte {
	if v < 0 {
		return AppendUint(append(b, '-'), uint64(-v)) // -MinInt64 wraps to itself: 1<<63 as a uint64
	}
	return AppendUint(b, uint64(v))
}

// AppendUint appends n in decimal, as strconv.AppendUint does, two digits at a time (32-bit
// arithmetic below 2^32, as most fields are), without its cost for the small numbers most fields
// hold, and in place: the digits go straight into b, not into a buffer copied over.
func AppendUint(b []byte, n uint64) []byte {
	if n < 10 {
		return append(b, byte('0'+n))
	}
	if n < 100 {
		return append(b, pairs[2*n], pairs[2*n+1])
	}
	i := len(b) + digits(n)
	b = slices.Grow(b, i-len(b))[:i]
	for n >= 1<<32 {
		q := n / 100
		r := n - q*100
		i -= 2
		b[i], b[i+1] = pairs[2*r], pairs[2*r+1]
		n = q
	}
	m := uint32(n)
	for m >= 100 {
		q := m / 100
		r := m - q*100
		i -= 2
		b[i], b[i+1] = pairs[2*r], pairs[2*r+1]
		m = q
	}
	if m >= 10 {
		b[i-2], b[i-1] = pairs[2*m], pairs[2*m+1]
	} else {
		b[i-1] = byte('0' + m)
	}
	return b
}

// digits returns how many decimal digits n has (n > 0).
func digits(n uint64) int {
	t := bits.Len64(n) * 1233 >> 12 // about log10(2) × bits: the digits, or one fewer
	if n >= pow10[t] {
		t++
	}
	return t
}

// pow10 are 10^0 to 10^19.
var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	1e16, 1e17, 1e18, 1e19}

// pairs holds the two decimal digits of 0 to 99.
const pairs = "00010203040506070809" + "10111213141516171819" + "20212223242526272829" + "30313233343536373839" +
	"40414243444546474849" + "50515253545556575859" + "60616263646566676869" + "70717273747576777879" +
	"80818283848586878889" + "90919293949596979899"
