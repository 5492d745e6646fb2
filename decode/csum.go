package decode

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// sum16 (csum_amd64.s on amd64, sum16Go elsewhere) adds b to the ones'-complement accumulator s
// (RFC 1071) and returns the unfolded sum: a value below 2^33 that fold reduces to the 16-bit
// ones'-complement sum of s and b's big-endian 16-bit words (an odd trailing byte padded with zero).
// It is zero only when s and every byte of b are zero.

// sum16Go is sum16 in Go: the implementation on architectures without one in assembly, and the
// assembly's model (TestSum16Reference and TestSum16LikeOld hold both to the same references).
//
// It adds 64-bit little-endian words with end-around carry (ones'-complement addition modulo 2^64-1),
// then turns the sum of b into big-endian terms by a rotation. As 2^64-1 is a multiple of 2^16-1 and
// every 16-bit word of b starts at an even offset, b's sum is congruent modulo 2^16-1 to the sum of
// its byte-swapped 16-bit words; a byte swap multiplies by 2^8 modulo 2^16-1, and as 2^8 * 2^8 = 2^16
// is 1 modulo 2^16-1, rotating that sum by 8 bits (which multiplies by 2^8 modulo 2^64-1) swaps it
// back (RFC 1071's byte order independence). Loading little-endian words saves a byte swap per
// word. A sum of such terms is zero only when all of them are, and a rotation keeps a sum nonzero:
// the sum stays modulo 2^64-1, folded to 33 bits only once, at the end.
//
// The bytes after the last whole 32-byte block are summed without branching on their number (which
// varies from frame to frame, so that such branches are often mispredicted): the last 32 bytes are
// summed with the ones before those bytes masked off, in the function rather than in a call.
func sum16Go(s uint64, b []byte) uint64 {
	n := len(b)
	if n < 32 {
		return sum16Short(s, b)
	}
	// Each block's carry out is counted apart (carries, below 2^59) rather than carried into the next
	// block: the next block's additions need not wait for it.
	var t, c, carries uint64
	i := 0
	for ; i <= n-32; i += 32 {
		w := b[i : i+32 : i+32]
		t, c = bits.Add64(t, binary.LittleEndian.Uint64(w), 0)
		t, c = bits.Add64(t, binary.LittleEndian.Uint64(w[8:]), c)
		t, c = bits.Add64(t, binary.LittleEndian.Uint64(w[16:]), c)
		t, c = bits.Add64(t, binary.LittleEndian.Uint64(w[24:]), c)
		carries += c
	}
	// The last 32 bytes with the r = n-i (0-31) not yet summed kept, the others masked off. The
	// window starts at an odd offset when r (as n) is odd: every byte was then summed in the wrong
	// half of its word, and rotating the window's sum by 8 bits puts it right (a rotation by 8 bits
	// multiplies by 2^8 modulo 2^64-1, a multiple of 2^16-1: see above).
	w, r := b[n-32:], n-i
	m := &tailMasks[32-r]
	var u, d uint64
	u, d = bits.Add64(binary.LittleEndian.Uint64(w)&m[0], binary.LittleEndian.Uint64(w[8:])&m[1], 0)
	u, d = bits.Add64(u, binary.LittleEndian.Uint64(w[16:])&m[2], d)
	u, d = bits.Add64(u, binary.LittleEndian.Uint64(w[24:])&m[3], d)
	u += d // cannot carry: after a carry out u ≤ 2^64-2
	u = bits.RotateLeft64(u, 8*(r&1))
	t, c = bits.Add64(t, u, 0)
	carries += c
	// Each carry out of bit 63 is worth 2^64 ≡ 1 (modulo 2^64-1): add them back, with end-around
	// carry (after a carry out t < 2^59, so adding it cannot carry again). Then back to big-endian
	// terms by a rotation (×2^8 modulo 2^64-1, as above), and s added with end-around carry. Every
	// step keeps the sum modulo 2^64-1 and keeps it nonzero when it was, so the fold below is zero
	// only when s and every byte of b are.
	t, c = bits.Add64(t, carries, 0)
	t += c
	t = bits.RotateLeft64(t, 8)
	t, c = bits.Add64(t, s, 0)
	t += c
	return t>>32 + t&0xffffffff
}

// sumSwap (csum_amd64.s on amd64, sumSwapGo elsewhere) returns a value congruent modulo 2^16-1 to
// s + 2^8·sum16(0, b), b the n bytes at p: the sum of b's little-endian words, each a big-endian 16-bit
// word byte-swapped, which is its value times 2^8 modulo 2^16-1 (see sum16Go), neither rotated back
// nor folded, plus s. Since 2^8·2^8 is 1 modulo 2^16-1, sumSwap(s<<8, b) is congruent to
// 2^8·sum16(s, b), and as 2^8 and 2^16-1 are coprime, one is a multiple of 2^16-1 exactly when the
// other is: sumSwap(s<<8, b)%0xffff == 0 is sumOKFrom(sum16(s, b)), about five instructions fewer a
// call (no rotation, no fold, one argument word fewer). It may be 0; only its divisibility is read.
// s is below 2^62.

// sumSwapGo is sumSwap in Go (the sum of b).
func sumSwapGo(s uint64, b []byte) uint64 {
	return s + sum16Go(0, b)<<8
}

// sumSwapShort is sumSwapGo of the n bytes at p: csum_amd64.s jumps to it for fewer than 8 bytes.
func sumSwapShort(s uint64, p *byte, n int) uint64 {
	return sumSwapGo(s, unsafe.Slice(p, n))
}

// tailMasks[d] are the masks of a 32-byte window's four little-endian words that clear its first d
// bytes (one lookup, where computing them took more than the sum).
var tailMasks = func() (m [33][4]uint64) {
	for d := range m {
		for k := range m[d] {
			m[d][k] = keepLE(d - 8*k)
		}
	}
	return m
}()

// keepLE returns the mask that clears the first d bytes of a little-endian 64-bit word (d ≤ 0: none
// of them; d ≥ 8: all).
func keepLE(d int) uint64 {
	return ^uint64(0) << (8 * uint(min(max(d, 0), 8)))
}

// keep returns the mask that clears the first d bytes of a big-endian 64-bit word (d ≤ 0: none of
// them; d ≥ 8: all).
func keep(d int) uint64 {
	return ^uint64(0) >> (8 * uint(min(max(d, 0), 8)))
}

// sum16Short is sum16 for fewer than 32 bytes.
func sum16Short(s uint64, b []byte) uint64 {
	n := len(b)
	var c, t uint64
	if n >= 8 {
		// Whole 8-byte words, then the last n%8 bytes as the end of the last 8 (see sum16).
		last := binary.BigEndian.Uint64(b[n-8:]) & keep(8-n&7)
		for len(b) >= 8 {
			s, c = bits.Add64(s, binary.BigEndian.Uint64(b), c)
			b = b[8:]
		}
		t = last << (8 * uint(n&1)) // below 2^64: last has at most 7 bytes
	} else {
		if len(b) >= 4 {
			t = uint64(binary.BigEndian.Uint32(b))
			b = b[4:]
		}
		if len(b) >= 2 {
			t += uint64(binary.BigEndian.Uint16(b))
			b = b[2:]
		}
		if len(b) == 1 {
			t += uint64(b[0]) << 8
		}
	}
	s, c = bits.Add64(s, t, c)
	s += c // end-around carry: t < 2^64-255, so after a carry out s < 2^64-255 and this cannot carry
	return s>>32 + s&0xffffffff
}

// sum20 is sum16(0, b) for a 20-byte IPv4 header (no options) byte-swapped, small enough to inline:
// five 32-bit little-endian words, each congruent to the sum of its 16-bit halves modulo 2^16-1.
// Read little-endian, each 16-bit half is its big-endian word byte-swapped, that is multiplied by 2^8
// modulo 2^16-1 (see sum16), so the sum is congruent to sum16(0, b) times 2^8: fold gives the
// big-endian sum's fold byte-swapped (bits.ReverseBytes16), and sumOK, whose test is whether the sum
// is a nonzero multiple of 2^16-1, gives the same answer as for sum16(0, b) (2^8 and 2^16-1 are
// coprime, and the sum is zero only when every byte is). Loading little-endian saves a byte swap a
// word; its only use is sumOK.
func sum20(b []byte) uint64 {
	_ = b[19]
	return uint64(binary.LittleEndian.Uint32(b)) + uint64(binary.LittleEndian.Uint32(b[4:])) +
		uint64(binary.LittleEndian.Uint32(b[8:])) + uint64(binary.LittleEndian.Uint32(b[12:])) +
		uint64(binary.LittleEndian.Uint32(b[16:]))
}

// fold folds a sum16 accumulator into 16 bits: 0 only for 0, else the value in 1..0xffff congruent to s
// modulo 0xffff (what adding the high half to the low half until it fits gives). It takes four steps
// whatever s is, without a loop whose number of turns (and so its last branch) depends on s.
func fold(s uint64) uint16 {
	s = s&0xffffffff + s>>32 // < 2^33
	s = s&0xffff + s>>16     // < 0x30000
	s = s&0xffff + s>>16     // ≤ 0x10001
	s = s&0xffff + s>>16     // ≤ 0xffff
	return uint16(s)
}

// sumOK reports whether fold(s) == 0xffff, the test of a checksum that verifies: s is not 0 and is a
// multiple of 0xffff (fold keeps s's residue modulo 0xffff, and gives 0 only for 0). The compiler
// makes the divisibility test a multiplication and a comparison, fewer steps than fold's.
func sumOK(s uint64) bool {
	return s != 0 && s%0xffff == 0
}

// pseudoSum returns the unfolded pseudo-header sum for a transport checksum.
func pseudoSum(h *IPHdr, proto uint8, length int) uint64 {
	if h.Version == 4 {
		return pseudoSum4(h, proto, length)
	}
	s := sum16(0, h.Src[:])
	s = sum16(s, h.Dst[:])
	return s + uint64(proto) + uint64(length)
}

// pseudoSum4 is pseudoSum for an IPv4 header, small enough to inline.
func pseudoSum4(h *IPHdr, proto uint8, length int) uint64 {
	// Each 32-bit word is congruent to the sum of its 16-bit halves modulo 2^16-1 (see sum16).
	return uint64(binary.BigEndian.Uint32(h.Src[:4])) + uint64(binary.BigEndian.Uint32(h.Dst[:4])) +
		uint64(proto) + uint64(length)
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
// unverifiable, never bad, wherever it is captured (veths and virtual NICs pass it on unfinished).
func checkL4(h *IPHdr, proto uint8, seg []byte, off int, pseudo bool) l4Verdict {
	var s uint64
	switch {
	case pseudo && h.Version == 4:
		s = pseudoSum4(h, proto, len(seg)) // the common case, without a call
	case pseudo:
		s = pseudoSum(h, proto, len(seg))
	}
	if sumOK(sum16(s, seg)) {
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

// lcoArtefact reports whether the VXLAN datagram dgram (UDP header on, under IP header outer), whose
// outer UDP checksum failed the plain check, verifies once the checksum of the inner transport segment
// seg (under inner IP header in, a subslice of dgram) is completed: the inner checksum is still an
// offload placeholder, and the outer one was computed by local checksum offload as if it were done.
//
// Linux computes an outer UDP checksum over an inner packet whose own checksum is left for later
// (CHECKSUM_PARTIAL) by local checksum offload (Documentation/networking/checksum-offloads.rst,
// lco_csum): it counts the inner segment as summing to what it will once its checksum is filled in.
// A veth, a virtio NIC or a bridge passes the frame on unfinished, so captures anywhere along the
// path, the receiving node's too, hold an outer checksum that is right for the packet as it will be
// and wrong for the bytes captured. Completing the inner checksum tells the two apart: an outer
// checksum that fits the completed packet is an artefact (unverifiable: the inner transport bytes
// are covered by no finished checksum); one that does not (a rewritten outer address, calico#3145,
// a flipped bit outside the inner segment, or any inner checksum that is not a placeholder) is bad.
func lcoArtefact(outer *IPHdr, dgram []byte, in *IPHdr, seg []byte) bool {
	if in.FragOff != 0 || in.MF {
		return false // a fragment's checksum is finished before it is fragmented
	}
	var off int // the inner checksum field's offset in seg
	switch in.Proto {
	case 6:
		off = 16
	case 17:
		off = 6
	case 58:
		off = 2
	default:
		return false // ICMPv4 has no pseudo-header and is never offloaded
	}
	at := cap(dgram) - cap(seg) // where seg starts in dgram (a subslice of it)
	if len(seg) < off+2 || at < 0 || at+len(seg) > len(dgram) {
		return false
	}
	field := binary.BigEndian.Uint16(seg[off:])
	if in.Proto == 17 && field == 0 && in.Version == 4 {
		return false // no inner checksum at all
	}
	ps := pseudoSum(in, in.Proto, len(seg))
	if f := fold(ps); field != f && field != ^f {
		return false // not a placeholder
	}
	// The completed checksum: the complement of the segment's sum without its checksum field.
	done := ^fold(sum16(ps, seg) + uint64(^field))
	// The outer sum with the field's captured value replaced by the completed one. A word at an odd
	// offset in dgram counts byte-swapped (see sum16); at the offsets Linux builds it is even.
	minus, plus := ^field, done // subtracting a word is adding its complement
	if (at+off)&1 != 0 {
		minus, plus = minus<<8|minus>>8, plus<<8|plus>>8
	}
	s := sum16(pseudoSum(outer, 17, len(dgram)), dgram) + uint64(minus) + uint64(plus)
	return sumOK(s)
}
