package decode

import "encoding/binary"

// DefaultVXLANPort is the UDP port Calico's vxlan.calico device uses.
const DefaultVXLANPort = 4789

// gsoThreshold is the IP packet size above which a frame is taken to be a GSO/TSO/GRO super-frame:
// larger than a standard 1500-byte MTU. (On jumbo-frame underlays big frames are flagged too.)
const gsoThreshold = 1500

// DecodeFast decodes one frame into p with fixed-offset parsing of every header calipath knows. It is
// the hot path; DecodeSlow decodes the same frames with gopacket's layers and must agree with it.
// p is reset first. Nothing is retained from data except p.Payload. WireGuard is recognised on the
// default port (Decoder takes Options.WireGuardPort).
func DecodeFast(linkType LinkType, data []byte, origLen int, vxlanPort uint16, p *Packet) {
	decodeFast(linkType, data, origLen, vxlanPort, DefaultWireGuardPort, p)
}

// decodeFast is DecodeFast with the WireGuard port.
func decodeFast(linkType LinkType, data []byte, origLen int, vxlanPort, wgPort uint16, p *Packet) {
	*p = Packet{}
	decodeFrame(linkType, data, origLen, vxlanPort, p)
	// What decodeWireGuard looks at first, here where it costs no call.
	if p.HasUDP && (p.Sport == wgPort || p.Dport == wgPort || wgPort == 0) {
		decodeWireGuard(p, wgPort)
	}
}

// decodeFrame is DecodeFast without WireGuard, into a Packet that is zero already.
func decodeFrame(linkType LinkType, data []byte, origLen int, vxlanPort uint16, p *Packet) {
	p.LinkType = linkType
	p.CapLen = len(data)
	p.OrigLen = origLen
	p.Checksum = CsumNone
	if vxlanPort == 0 {
		vxlanPort = DefaultVXLANPort
	}
	if len(data) < origLen {
		p.Errs |= ErrSnapped
	}
	var etype uint16
	var b []byte
	switch linkType {
	case LinkEthernet:
		if len(data) < 14 {
			p.Errs |= ErrTruncated
			return
		}
		p.HasEth = true
		p.DstMAC = [6]byte(data[0:6]) // a plain move (copy checks whether source and destination are one)
		p.SrcMAC = [6]byte(data[6:12])
		var ok bool
		etype, b, ok = vlans(data[12:], p)
		if !ok {
			p.Errs |= ErrTruncated
			return
		}
	case LinkRaw:
		if len(data) == 0 {
			p.Errs |= ErrTruncated
			return
		}
		switch data[0] >> 4 {
		case 4:
			etype = 0x0800
		case 6:
			etype = 0x86dd
		default:
			p.Errs |= ErrBadVersion
			return
		}
		b = data
	case LinkIPv4:
		etype, b = 0x0800, data
	case LinkIPv6:
		etype, b = 0x86dd, data
	case LinkLinuxSLL:
		if len(data) < 16 {
			p.Errs |= ErrTruncated
			return
		}
		p.HasSLL = true
		p.PktType = data[1]
		p.SLLAlen = uint8(min(binary.BigEndian.Uint16(data[4:6]), 8))
		copy(p.SLLAddr[:], data[6:6+int(p.SLLAlen)])
		etype = binary.BigEndian.Uint16(data[14:16])
		b = data[16:]
	case LinkSLL2:
		if len(data) < 20 {
			p.Errs |= ErrTruncated
			return
		}
		p.HasSLL = true
		etype = binary.BigEndian.Uint16(data[0:2])
		p.IfIndex = int32(binary.BigEndian.Uint32(data[4:8]))
		p.PktType = data[10]
		p.SLLAlen = min(data[11], 8)
		copy(p.SLLAddr[:], data[12:12+int(p.SLLAlen)])
		b = data[20:]
	default:
		p.Errs |= ErrUnknownLink
		return
	}
	switch etype {
	case 0x0800, 0x86dd:
		decodeIP(b, etype == 0x86dd, vxlanPort, p)
	case 0x0806:
		decodeARP(b, p)
	default:
		if p.HasSLL && (etype == 0x8100 || etype == 0x88a8 || etype == 0x9100) {
			decodeCookedTagged(etype, b, vxlanPort, p) // after the cases above: their calls keep their lines (default.pgo)
			return
		}
		p.Errs |= ErrNotIP
	}
}

// decodeCookedTagged decodes the rest of a Linux cooked (v1 or v2) frame whose protocol etype is an
// 802.1Q / 802.1ad tag's, b being the bytes after the header, as decodeFrame decodes an untagged one.
func decodeCookedTagged(etype uint16, b []byte, vxlanPort uint16, p *Packet) {
	etype, b, ok := cookedVLANs(etype, b, p)
	switch {
	case !ok:
		p.Errs |= ErrTruncated
	case etype == 0x0800 || etype == 0x86dd:
		decodeIP(b, etype == 0x86dd, vxlanPort, p)
	case etype == 0x0806:
		decodeARP(b, p)
	default:
		p.Errs |= ErrNotIP
	}
}

// cookedVLANs skips the 802.1Q / 802.1ad tags after a Linux cooked (v1 or v2) header whose protocol
// etype is a tag's: tcpdump -i any -y LINUX_SLL puts a tag the kernel took out of a frame of a VLAN's
// parent back there, each tag's ID then the next protocol (what tshark reads). It records up to two
// VLAN IDs in p as vlans does (an ID counts once its 2 bytes are captured); b starts after the header.
// It returns the final protocol and the bytes after it, false when a tag is cut short.
func cookedVLANs(etype uint16, b []byte, p *Packet) (uint16, []byte, bool) {
	for etype == 0x8100 || etype == 0x88a8 || etype == 0x9100 {
		if len(b) < 2 {
			return 0, nil, false
		}
		if p.NVLAN < 2 {
			p.VLANs[p.NVLAN] = binary.BigEndian.Uint16(b) & 0x0fff
			p.NVLAN++
		}
		if len(b) < 4 {
			return 0, nil, false
		}
		etype, b = binary.BigEndian.Uint16(b[2:]), b[4:]
	}
	return etype, b, true
}

// vlans skips 802.1Q / 802.1ad tags after the MAC addresses (b starts at the first EtherType) and
// records up to two VLAN IDs and the EtherType in p (nil: records nothing). It returns the final
// EtherType and the bytes after it.
func vlans(b []byte, p *Packet) (uint16, []byte, bool) {
	for {
		if len(b) < 2 {
			return 0, nil, false
		}
		et := binary.BigEndian.Uint16(b)
		if et != 0x8100 && et != 0x88a8 && et != 0x9100 {
			if p != nil {
				p.EtherType = et
			}
			return et, b[2:], true
		}
		if len(b) < 4 {
			return 0, nil, false
		}
		if p != nil && p.NVLAN < 2 {
			p.VLANs[p.NVLAN] = binary.BigEndian.Uint16(b[2:]) & 0x0fff
			p.NVLAN++
		}
		b = b[4:]
	}
}

func decodeARP(b []byte, p *Packet) {
	// Ethernet/IPv4 ARP only: htype 1, ptype 0x0800, hlen 6, plen 4.
	if len(b) < 28 {
		p.Errs |= ErrTruncated
		return
	}
	if binary.BigEndian.Uint16(b[0:2]) != 1 || binary.BigEndian.Uint16(b[2:4]) != 0x0800 || b[4] != 6 || b[5] != 4 {
		p.Errs |= ErrNotIP
		return
	}
	p.HasARP = true
	p.ARP.Op = binary.BigEndian.Uint16(b[6:8])
	p.ARP.SHA = [6]byte(b[8:14])
	p.ARP.SPA = [4]byte(b[14:18])
	p.ARP.THA = [6]byte(b[18:24])
	p.ARP.TPA = [4]byte(b[24:28])
}

// parseIPv4 decodes an IPv4 header from b into h and returns the bytes of its payload (trimmed to the
// total length when it is captured in full) and whether the header was complete.
// snapped tells whether a shortfall against the total length is explained by the snaplen.
func parseIPv4(b []byte, h *IPHdr, snapped bool) (payload []byte, errs Err, ok bool) {
	h.CapLen = len(b)
	if len(b) < 20 {
		return nil, ErrTruncated, false
	}
	if b[0]>>4 != 4 {
		return nil, ErrBadVersion, false
	}
	h.Version = 4
	ihl := int(b[0]&0x0f) * 4
	h.TOS = b[1]
	h.TotalLen = binary.BigEndian.Uint16(b[2:4])
	h.ID = uint32(binary.BigEndian.Uint16(b[4:6]))
	ff := binary.BigEndian.Uint16(b[6:8])
	h.DF = ff&0x4000 != 0
	h.MF = ff&0x2000 != 0
	h.FragOff = (ff & 0x1fff) * 8
	h.TTL = b[8]
	h.Proto = b[9]
	h.Checksum = binary.BigEndian.Uint16(b[10:12])
	*(*[4]byte)(h.Src[:4]) = [4]byte(b[12:16]) // plain moves (see decodeFrame)
	*(*[4]byte)(h.Dst[:4]) = [4]byte(b[16:20])
	if ihl < 20 {
		h.HdrLen = 20
		return nil, ErrBadLength, false
	}
	h.HdrLen = uint8(ihl)
	if len(b) < ihl {
		return nil, ErrTruncated, false
	}
	var hs uint64
	if ihl == 20 {
		hs = sum20(b)
	} else {
		hs = sum16(0, b[:ihl])
	}
	if sumOK(hs) {
		h.CsumOK = true
	}
	tl := int(h.TotalLen)
	switch {
	case tl == 0: // GSO with a large packet (BIG TCP) or a zeroed length: take what was captured
		payload = b[ihl:]
	case tl < ihl:
		errs |= ErrBadLength
		payload = b[ihl:]
	case tl > len(b):
		if !snapped {
			errs |= ErrBadLength
		}
		payload = b[ihl:]
	default:
		payload = b[ihl:tl]
	}
	return payload, errs, true
}

// parseIPv6 decodes an IPv6 header and the extension headers calipath understands (hop-by-hop,
// routing, destination options, fragment). Proto is the first other next-header value.
func parseIPv6(b []byte, h *IPHdr, snapped bool) (payload []byte, errs Err, ok bool) {
	h.CapLen = len(b)
	if len(b) < 40 {
		return nil, ErrTruncated, false
	}
	if b[0]>>4 != 6 {
		return nil, ErrBadVersion, false
	}
	h.Version = 6
	vtf := binary.BigEndian.Uint32(b[0:4])
	h.TOS = uint8(vtf >> 20)
	h.FlowLbl = vtf & 0xfffff
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	h.TotalLen = uint16(min(40+plen, 0xffff))
	nh := b[6]
	h.TTL = b[7]
	h.Src = [16]byte(b[8:24])
	h.Dst = [16]byte(b[24:40])
	off := 40
	end := len(b)
	switch {
	case plen == 0: // jumbogram or GSO: take what was captured
	case 40+plen > len(b):
		if !snapped {
			errs |= ErrBadLength
		}
	default:
		end = 40 + plen
	}
ext:
	for {
		switch nh {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if end-off < 8 {
				h.Proto = nh
				h.HdrLen = uint8(min(off, 255))
				return nil, errs | ErrTruncated, false
			}
			n := (int(b[off+1]) + 1) * 8
			if off+n > end {
				h.Proto = nh
				h.HdrLen = uint8(min(off, 255))
				return nil, errs | ErrTruncated, false
			}
			nh = b[off]
			off += n
		case 44: // fragment
			if end-off < 8 {
				h.Proto = nh
				h.HdrLen = uint8(min(off, 255))
				return nil, errs | ErrTruncated, false
			}
			fo := binary.BigEndian.Uint16(b[off+2 : off+4])
			h.FragOff = fo &^ 7
			h.MF = fo&1 != 0
			h.ID = binary.BigEndian.Uint32(b[off+4 : off+8])
			nh = b[off]
			off += 8
		default:
			break ext
		}
	}
	h.Proto = nh
	h.HdrLen = uint8(min(off, 255))
	return b[off:end], errs, true
}

// decodeIP decodes the IP packet in b, its encapsulation if any, and the innermost transport header.
func decodeIP(b []byte, v6 bool, vxlanPort uint16, p *Packet) {
	snapped := p.Errs&ErrSnapped != 0
	h := &p.Inner
	var pl []byte
	var errs Err
	var ok bool
	if v6 {
		pl, errs, ok = parseIPv6(b, h, snapped)
	} else {
		pl, errs, ok = parseIPv4(b, h, snapped)
	}
	p.Errs |= errs
	if !ok {
		p.Checksum = CsumUnverifiable
		return
	}
	// The outermost IP packet's size decides GSO.
	if tl := h.TotalLen; tl > gsoThreshold || (tl == 0 || tl == 40 && h.Version == 6) && (h.Version == 4 || len(b) > gsoThreshold) {
		p.GSO = true // IPv4 total length 0, or ipLen(h, b) > gsoThreshold (the usual sizes tested first)
	}
	badIP := !h.CsumOK && h.Version == 4 // CsumOK: the usual IPv4 header's
	// A VXLAN outer UDP checksum that is an offload placeholder, or that failed the plain check (the
	// datagram is kept to try the inner checksum's completion once the inner packet is decoded).
	var outerPartial bool
	var vxBad []byte
	switch {
	case h.Version == 4 && h.Proto == 4 && h.FragOff == 0 && !h.MF:
		// IP-in-IP: this header is the outer one.
		p.Encap = EncapIPIP
		p.Outer = *h
		*h = IPHdr{}
		pl, errs, ok = parseIPv4(pl, h, snapped)
		p.Errs |= errs
		if !ok {
			p.Checksum = verdict(badIP, l4Unverifiable, p)
			return
		}
	case h.Proto == 17 && h.FragOff == 0 && !h.MF && len(pl) >= 16 &&
		binary.BigEndian.Uint16(pl[2:4]) == vxlanPort:
		if pl[8]&0x08 == 0 {
			p.Errs |= ErrBadVXLAN
			break
		}
		// VXLAN: this header is the outer one; UDP(8) VXLAN(8) Ethernet(14) follow.
		outer := *h
		udp := pl[:8]
		if len(pl) < 30 {
			p.Errs |= ErrTruncated
			break
		}
		p.Encap = EncapVXLAN
		p.Outer = outer
		p.OuterSprt = binary.BigEndian.Uint16(udp[0:2])
		p.OuterDprt = binary.BigEndian.Uint16(udp[2:4])
		p.OuterUCsm = binary.BigEndian.Uint16(udp[6:8])
		if p.OuterUCsm != 0 && !p.GSO && int(binary.BigEndian.Uint16(udp[4:6])) == len(pl) {
			switch checkL4(&outer, 17, pl, 6, true) {
			case l4Bad:
				p.Errs |= ErrBadOuterUDPChecksum
				vxBad = pl
			case l4Unverifiable:
				outerPartial = true
			}
		}
		p.VNI = binary.BigEndian.Uint32(pl[12:16]) >> 8
		p.InnerDstMAC = [6]byte(pl[16:22])
		p.InnerSrcMAC = [6]byte(pl[22:28])
		*h = IPHdr{}
		et, rest, ok2 := vlans(pl[28:], nil) // inner VLAN tags are skipped, not kept
		if !ok2 {
			p.Errs |= ErrTruncated
			p.Checksum = verdict(badIP, l4Unverifiable, p)
			return
		}
		switch et {
		case 0x0800:
			pl, errs, ok = parseIPv4(rest, h, snapped)
		case 0x86dd:
			pl, errs, ok = parseIPv6(rest, h, snapped)
		case 0x0806:
			decodeARP(rest, p)
			p.Checksum = verdict(badIP, l4NotApplicable, p)
			return
		default:
			p.Errs |= ErrNotIP
			p.Checksum = verdict(badIP, l4NotApplicable, p)
			return
		}
		p.Errs |= errs
		if !ok {
			p.Checksum = verdict(badIP, l4Unverifiable, p)
			return
		}
	case snapped && h.Proto == 17 && h.FragOff == 0 && !h.MF && len(pl) >= 8 && len(pl) < 16 &&
		binary.BigEndian.Uint16(pl[2:4]) == vxlanPort && int(binary.BigEndian.Uint16(pl[4:6])) > len(pl):
		// A VXLAN datagram the snaplen cut inside its VXLAN header: its inner packet is unread, as
		// when the cut falls in the inner Ethernet header (snapClass: SnapHeaders), not a UDP
		// datagram of its own whose payload was cut.
		p.Errs |= ErrTruncated
	case snapped && h.Proto == 17 && h.FragOff == 0 && !h.MF && len(pl) >= 4 && len(pl) < 8 &&
		binary.BigEndian.Uint16(pl[2:4]) == vxlanPort && declaredLen(h, pl) >= 16:
		// Cut inside the UDP header of a datagram to the VXLAN port that is long enough to be VXLAN:
		// a tunnel packet whose inner packet is unread (snapClass: SnapHeaders), not a UDP packet
		// to follow on its ports.
		p.TunnelCut = true
	}
	if !h.CsumOK && h.Version == 4 {
		badIP = true
	}
	if vxBad == nil && !outerPartial { // the usual packet: nothing to weigh after its transport header
		p.Checksum = verdict(badIP, decodeL4(pl, h, snapped, vxlanPort, p), p) // fewer values kept across the call
		return
	}
	l4 := decodeL4(pl, h, snapped, vxlanPort, p)
	if vxBad != nil && l4 == l4Unverifiable && lcoArtefact(&p.Outer, vxBad, h, pl) {
		p.Errs &^= ErrBadOuterUDPChecksum
		outerPartial = true
	}
	if outerPartial && l4 != l4Bad {
		l4 = l4Unverifiable // the inner checksum does not cover the outer headers
	}
	p.Checksum = verdict(badIP, l4, p)
}

// ipLen is the size of IP packet b: its declared length, or what was captured when it declares none
// (IPv4 total length 0, IPv6 payload length 0: GSO/BIG TCP super-frames and jumbograms).
func ipLen(h *IPHdr, b []byte) int {
	if h.TotalLen == 0 || (h.Version == 6 && h.TotalLen == 40) {
		return len(b)
	}
	return int(h.TotalLen)
}

// verdict combines IP header and transport checksum results into the packet's Checksum and sets the
// matching error bits.
func verdict(badIP bool, l4 l4Verdict, p *Packet) Checksum {
	if badIP {
		p.Errs |= ErrBadIPChecksum
	}
	if l4 == l4Bad {
		p.Errs |= ErrBadL4Checksum
	}
	switch {
	case badIP || l4 == l4Bad || p.Errs&ErrBadOuterUDPChecksum != 0:
		return CsumBad
	case l4 == l4Unverifiable || p.GSO:
		return CsumUnverifiable
	case l4 == l4NotApplicable && p.Inner.Version != 4:
		return CsumUnverifiable
	}
	return CsumOK
}

// decodeL4 decodes the transport header of the innermost packet and checks its checksum (vxlanPort: for
// an ICMP error's quote, decodeQuote).
func decodeL4(pl []byte, h *IPHdr, snapped bool, vxlanPort uint16, p *Packet) l4Verdict {
	if h.FragOff != 0 {
		p.PayloadLen = declaredLen(h, pl)
		p.Payload = pl
		return l4Unverifiable
	}
	declared := declaredLen(h, pl)
	full := len(pl) == declared && !p.GSO && !h.MF
	switch h.Proto {
	case 6:
		if len(pl) >= 4 {
			p.Sport = binary.BigEndian.Uint16(pl[0:2])
			p.Dport = binary.BigEndian.Uint16(pl[2:4])
		}
		if len(pl) < 20 {
			p.Errs |= ErrTruncated
			return l4Unverifiable
		}
		t := &p.TCP
		p.HasTCP = true
		t.Seq = binary.BigEndian.Uint32(pl[4:8])
		t.Ack = binary.BigEndian.Uint32(pl[8:12])
		hl := int(pl[12]>>4) * 4
		t.Flags = pl[13]
		t.Window = binary.BigEndian.Uint16(pl[14:16])
		t.Checksum = binary.BigEndian.Uint16(pl[16:18])
		t.WScale = 0xff
		if hl < 20 {
			p.Errs |= ErrBadLength
			hl = 20
		}
		t.HdrLen = uint8(hl)
		if hl > len(pl) {
			p.Errs |= ErrTruncated
			tcpOptions(pl[20:], p, true)
			p.PayloadLen = max(declared-hl, 0)
			return l4Unverifiable
		}
		tcpOptions(pl[20:hl], p, false)
		p.Payload = pl[hl:]
		p.PayloadLen = max(declared-hl, 0)
		if !full {
			return l4Unverifiable
		}
		return checkL4(h, 6, pl, 16, true)
	case 17:
		if len(pl) >= 4 {
			p.Sport = binary.BigEndian.Uint16(pl[0:2])
			p.Dport = binary.BigEndian.Uint16(pl[2:4])
		}
		if len(pl) < 8 {
			p.Errs |= ErrTruncated
			return l4Unverifiable
		}
		p.HasUDP = true
		p.UDPLen = binary.BigEndian.Uint16(pl[4:6])
		p.UDPChecksum = binary.BigEndian.Uint16(pl[6:8])
		p.Payload = pl[8:]
		p.PayloadLen = max(declared-8, 0)
		if !full {
			return l4Unverifiable
		}
		if p.UDPChecksum == 0 && h.Version == 4 {
			return l4NotApplicable // no checksum sent (allowed over IPv4)
		}
		return checkL4(h, 17, pl, 6, true)
	case 1, 58:
		v6 := h.Proto == 58
		if len(pl) < 8 {
			if len(pl) >= 2 {
				p.ICMP.Type, p.ICMP.Code = pl[0], pl[1]
			}
			if len(pl) >= 6 && (!v6 && (pl[0] == 0 || pl[0] == 8) || v6 && (pl[0] == 128 || pl[0] == 129)) {
				p.ICMP.ID, p.ICMPEchoCut = binary.BigEndian.Uint16(pl[4:6]), true
			}
			p.Errs |= ErrTruncated
			return l4Unverifiable
		}
		p.HasICMP = true
		ic := &p.ICMP
		ic.Type, ic.Code = pl[0], pl[1]
		ic.Checksum = binary.BigEndian.Uint16(pl[2:4])
		p.Payload = pl[8:]
		p.PayloadLen = max(declared-8, 0)
		switch {
		case !v6 && (ic.Type == 0 || ic.Type == 8), v6 && (ic.Type == 128 || ic.Type == 129):
			ic.ID = binary.BigEndian.Uint16(pl[4:6])
			ic.Seq = binary.BigEndian.Uint16(pl[6:8])
		case !v6 && ic.Type == 3 && ic.Code == 4:
			ic.MTU = binary.BigEndian.Uint16(pl[6:8])
		case v6 && ic.Type == 2:
			ic.MTU = uint16(min(binary.BigEndian.Uint32(pl[4:8]), 0xffff))
		}
		if ic.IsError(v6) {
			decodeQuote(pl[8:], v6, vxlanPort, ic)
		}
		if !full {
			return l4Unverifiable
		}
		return checkL4(h, h.Proto, pl, 2, v6)
	}
	p.Payload = pl
	p.PayloadLen = declared
	return l4NotApplicable
}

// declaredLen is the transport length the IP header declares (what was captured when it declares
// none).
func declaredLen(h *IPHdr, pl []byte) int {
	if h.TotalLen == 0 || (h.Version == 6 && h.TotalLen == 40 && len(pl) > 0) {
		return len(pl)
	}
	n := int(h.TotalLen) - int(h.HdrLen)
	if n < 0 {
		return len(pl)
	}
	return n
}

// tcpOptions decodes MSS, window scale, SACK-permitted, SACK blocks and timestamps. cut tells that
// the capture ends inside the options: an option running past the end is then not malformed.
func tcpOptions(o []byte, p *Packet, cut bool) {
	t := &p.TCP
	for len(o) > 0 {
		kind := o[0]
		if kind == 0 {
			return
		}
		if kind == 1 {
			o = o[1:]
			continue
		}
		if len(o) < 2 || int(o[1]) > len(o) {
			if !cut {
				p.Errs |= ErrBadOption
			}
			return
		}
		if o[1] < 2 {
			p.Errs |= ErrBadOption
			return
		}
		n := int(o[1])
		switch kind {
		case 2:
			if n == 4 {
				t.MSS = binary.BigEndian.Uint16(o[2:4])
			}
		case 3:
			if n == 3 {
				t.WScale = o[2]
			}
		case 4:
			t.SACKPerm = true
		case 5:
			t.SACKBlocks = uint8((n - 2) / 8)
		case 8:
			if n == 10 {
				t.HasTS = true
				t.TSVal = binary.BigEndian.Uint32(o[2:6])
				t.TSEcr = binary.BigEndian.Uint32(o[6:10])
			}
		}
		o = o[n:]
	}
}

// decodeQuote decodes the packet quoted by an ICMP error, as far as it was captured: its IP header,
// the IP header inside it when it is an IP-in-IP outer header or a VXLAN datagram to vxlanPort
// (quoteVXLAN), and the first transport bytes.
func decodeQuote(q []byte, v6 bool, vxlanPort uint16, ic *ICMP) {
	var rest []byte
	var ok bool
	if v6 {
		rest, _, ok = parseIPv6(q, &ic.Quoted, true)
	} else {
		rest, _, ok = parseIPv4(q, &ic.Quoted, true)
	}
	if !ok {
		return
	}
	ic.HasQuote = true
	h := &ic.Quoted
	if h.Version == 4 && h.Proto == 4 && h.FragOff == 0 {
		rest, _, ok = parseIPv4(rest, &ic.QuotedInner, true)
		if !ok {
			return
		}
		h = &ic.QuotedInner
	}
	if h.FragOff != 0 {
		return
	}
	if h == &ic.Quoted && h.Proto == 17 {
		if in, ok := quoteVXLAN(rest, vxlanPort, ic); ok {
			rest, h = in, &ic.QuotedInner
		}
	}
	// rest is q sliced from the transport header on (and ended at the quoted packet's length): its
	// offset is what its capacity lacks of q's (IPv6 extension headers can make HdrLen saturate).
	ic.QOff = uint16(cap(q) - cap(rest))
	switch h.Proto {
	case 6, 17:
		if len(rest) >= 4 {
			ic.QSport = binary.BigEndian.Uint16(rest[0:2])
			ic.QDport = binary.BigEndian.Uint16(rest[2:4])
		}
		if h.Proto == 6 && len(rest) >= 8 {
			ic.QSeq = binary.BigEndian.Uint32(rest[4:8])
		}
	case 1, 58:
		if len(rest) >= 8 {
			ic.QSport = binary.BigEndian.Uint16(rest[4:6])
			ic.QDport = binary.BigEndian.Uint16(rest[6:8])
		}
	}
}
