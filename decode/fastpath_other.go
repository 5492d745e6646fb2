package decode

import "encoding/binary"

// The fast path's other common shapes: frames of `tcpdump -i any` (Linux cooked v1 and v2), Ethernet
// frames with one VLAN tag, and VXLAN packets (an outer IPv4/UDP header to the VXLAN port, the VXLAN
// header, an inner Ethernet header without a VLAN tag), around an IPv4 packet of the usual shape.
// fastFrame takes them with these helpers; a frame of any other shape (two VLAN tags, an inner VLAN
// tag, a VXLAN header without its I flag, a wrong or unfinished outer UDP checksum, an outer UDP
// length that disagrees) takes the usual path.

// fastLink returns the length of the link header of frame data of link type lt when it is a Linux
// cooked v1 or v2 one, or an Ethernet header with one VLAN tag, followed by IPv4; 0 otherwise (also
// when data is shorter than any such frame of the fast path's). It is short enough to be inlined:
// a call there would make fastFrame keep its values in memory for every frame.
func fastLink(lt LinkType, data []byte) int {
	if len(data) < 40 { // 20 bytes of link header, 20 of IPv4
		return 0
	}
	var h, et int // the header's length (0: another link type), where its protocol type is
	switch lt {
	case LinkLinuxSLL:
		h, et = 16, 14
	case LinkEthernet:
		h, et = 18, 16
		if data[12]|0x10 != 0x91 || data[13] != 0x00 { // a VLAN tag: 0x8100 or 0x9100 (0x88a8, rare alone: the usual path)
			return 0
		}
	case LinkSLL2:
		h = 20
	}
	if data[et] != 0x08 || data[et+1] != 0x00 {
		return 0
	}
	return h
}

// fastVXLAN returns the inner IP packet of the VXLAN packet b (its outer IPv4 header, 20 bytes, and
// datagram to the VXLAN port, b being of the usual shape up to its total length), as decodeIP reads
// it, when nothing in its outer UDP or VXLAN header or its inner Ethernet header would be recorded
// (no finding, no inner VLAN tag) and the inner packet is IPv4; nil otherwise.
func fastVXLAN(b []byte) []byte {
	u := b[20:] // UDP(8) VXLAN(8) Ethernet(14)
	if len(u) < 30 || u[8]&0x08 == 0 || u[28] != 0x08 || u[29] != 0x00 {
		return nil // short, no VNI (ErrBadVXLAN), or not IPv4
	}
	if u[6] != 0 || u[7] != 0 { // a checksum: it must be right (the usual path checks it so)
		ps := uint64(binary.BigEndian.Uint32(b[12:16])) + uint64(binary.BigEndian.Uint32(b[16:20])) +
			17 + uint64(len(u)) // pseudoSum4
		if int(binary.BigEndian.Uint16(u[4:6])) != len(u) || !sumOK(sum16(ps, u)) {
			return nil
		}
	}
	return u[30:]
}

// fastOther writes into p what decodeFrame and decodeIP record of frame data's cooked header or VLAN
// tag and of its VXLAN encapsulation (encap), b being the frame's IP packet, when the frame is of one
// of the shapes above. Each field of those parts is written, as the fast path may not reset p between
// frames of one shape.
func fastOther(p *Packet, data, b []byte, encap Encap) {
	switch p.LinkType {
	case LinkEthernet:
		if len(data)-len(b) == 18 {
			p.VLANs[0] = binary.BigEndian.Uint16(data[14:16]) & 0x0fff
			p.NVLAN = 1
		}
	case LinkLinuxSLL:
		p.HasSLL = true
		p.PktType = data[1]
		p.SLLAlen = uint8(min(binary.BigEndian.Uint16(data[4:6]), 8))
		p.SLLAddr = sllAddr(data[6:14], p.SLLAlen)
	case LinkSLL2:
		p.HasSLL = true
		p.IfIndex = int32(binary.BigEndian.Uint32(data[4:8]))
		p.PktType = data[10]
		p.SLLAlen = min(data[11], 8)
		p.SLLAddr = sllAddr(data[12:20], p.SLLAlen)
	}
	if encap == EncapVXLAN {
		u := b[20:]
		p.OuterSprt = binary.BigEndian.Uint16(u[0:2])
		p.OuterDprt = binary.BigEndian.Uint16(u[2:4])
		p.OuterUCsm = binary.BigEndian.Uint16(u[6:8])
		p.VNI = binary.BigEndian.Uint32(u[12:16]) >> 8
		p.InnerDstMAC = [6]byte(u[16:22])
		p.InnerSrcMAC = [6]byte(u[22:28])
	}
}

// sllAddr returns the first n (at most 8) bytes of a, the rest zero.
func sllAddr(a []byte, n uint8) [8]byte {
	v := binary.BigEndian.Uint64(a[:8])
	if n < 8 {
		v &^= 1<<(64-8*uint(n)) - 1
	}
	var out [8]byte
	binary.BigEndian.PutUint64(out[:], v)
	return out
}
