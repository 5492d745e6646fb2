package gen

import "encoding/binary"

// fold folds a plain sum of 16-bit words into a one's-complement 16-bit sum.
func fold(s uint64) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// pseudoSum is the plain word sum of the IPv4 pseudo-header.
func pseudoSum(src, dst [4]byte, proto uint8, l4len int) uint64 {
	return uint64(binary.BigEndian.Uint16(src[0:])) + uint64(binary.BigEndian.Uint16(src[2:])) +
		uint64(binary.BigEndian.Uint16(dst[0:])) + uint64(binary.BigEndian.Uint16(dst[2:])) +
		uint64(proto) + uint64(l4len)
}

func appendEth(b []byte, dst, src [6]byte, etype uint16) []byte {
	b = append(b, dst[:]...)
	b = append(b, src[:]...)
	return binary.BigEndian.AppendUint16(b, etype)
}

// appendIPv4 appends a 20-byte IPv4 header with its checksum.
func appendIPv4(b []byte, total int, id uint16, df bool, ttl int, proto uint8, src, dst [4]byte) []byte {
	var flags byte
	if df {
		flags = 0x40
	}
	o := len(b)
	b = append(b, 0x45, 0, byte(total>>8), byte(total), byte(id>>8), byte(id), flags, 0, byte(ttl), proto, 0, 0)
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	var s uint64
	for i := o; i < o+20; i += 2 {
		s += uint64(binary.BigEndian.Uint16(b[i:]))
	}
	binary.BigEndian.PutUint16(b[o+10:], ^fold(s))
	return b
}

// appendARP appends an Ethernet/IPv4 ARP body.
func appendARP(b []byte, op uint16, sha [6]byte, spa [4]byte, tha [6]byte, tpa [4]byte) []byte {
	b = append(b, 0, 1, 8, 0, 6, 4, 0, byte(op))
	b = append(b, sha[:]...)
	b = append(b, spa[:]...)
	b = append(b, tha[:]...)
	return append(b, tpa[:]...)
}
