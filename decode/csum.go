package decode

import "encoding/binary"

// sum16 adds b to the ones'-complement accumulator s (RFC 1071) and returns the unfolded sum.
// It reads 8 bytes at a time; an odd trailing byte is padded with zero.
func sum16(s uint64, b []byte) uint64 {
	for len(b) >= 8 {
		x := binary.BigEndian.Uint64(b)
		s += x >> 32
		s += x & 0xffffffff
		b = b[8:]
	}
	if len(b) >= 4 {
		s += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}

// fold folds a sum16 accumulator into 16 bits.
func fold(s uint64) uint16 {
	for s>>16 != 0 {
		s = (s & 0xffff) + (s >> 16)
	}
	return uint16(s)
}

// pseudoSum returns the unfolded pseudo-header sum for a transport checksum.
func pseudoSum(h *IPHdr, proto uint8, length int) uint64 {
	var s uint64
	if h.Version == 4 {
		s = sum16(0, h.Src[:4])
		s = sum16(s, h.Dst[:4])
	} else {
		s = sum16(0, h.Src[:])
		s = sum16(s, h.Dst[:])
	}
	return s + uint64(proto) + uint64(length)
}

// l4Verdict is the outcome of checking a transport checksum.
type l4Verdict uint8

const (
	l4NotApplicable l4Verdict = iota // no checksum for this protocol
	l4Unverifiable                   // not all bytes captured, fragment, GSO, or TX-offload placeholder
	l4OK
	l4Bad
)

// checkL4 verifies a transport checksum over seg (the whole transport segment, captured in full) with
// the checksum field at offset off. A checksum equal to the folded pseudo-header sum (or its
// complement) is what the kernel leaves for the NIC to finish (CHECKSUM_PARTIAL, TX offload): it is
// unverifiable, never bad.
func checkL4(h *IPHdr, proto uint8, seg []byte, off int, pseudo bool) l4Verdict {
	var s uint64
	if pseudo {
		s = pseudoSum(h, proto, len(seg))
	}
	if fold(sum16(s, seg)) == 0xffff {
		return l4OK
	}
	if pseudo {
		field := binary.BigEndian.Uint16(seg[off:])
		ps := fold(s) // s is still the pseudo-header sum alone
		if field == ps || field == ^ps {
			return l4Unverifiable
		}
	}
	return l4Bad
}
