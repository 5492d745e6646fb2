package decode

import "encoding/binary"

// The scan's fast path. Almost every frame of a real capture has one shape: Ethernet (no VLAN tag),
// raw IP or an IPv4 link type; IPv4 without options, not a fragment, not a GSO super-frame, captured
// whole; at most one IP-in-IP header; TCP, UDP or an ICMP echo, with right checksums. For such a frame
// fastFrame reads the header bytes once and writes the Packet, the Observation and the fingerprint
// from the same values, instead of decoding the Packet (decodeFrame) and reading it back twice
// (Observe and Fingerprint). Any frame of another shape, and any frame for which a check fails or a
// finding could arise (a bad or unfinished checksum, a length that disagrees, a malformed TCP option,
// VXLAN, WireGuard, ARP, IPv6, a snapped frame), takes the usual path: the fast path leaves it
// before it writes anything (TCP options: before it returns), so the usual path decodes it as ever.
// TestFastPathLikeSlow and FuzzFastPath check that both paths give the same Packet, Observation and
// fingerprint.

// fastIPv4 is what fastFrame reads from one IPv4 header (20 bytes, no options, not a fragment, its
// checksum right) and the packet's payload.
type fastIPv4 struct {
	hdr      [20]byte
	totalLen uint16
	pl       []byte // the payload: b[20:totalLen]
	capLen   int    // bytes captured from the header on
}

// fastHeader reads the IPv4 header at the start of b into h when it is one of the usual shape (see
// above), and reports whether it was.
func fastHeader(b []byte, h *fastIPv4) bool {
	if len(b) < 20 || b[0] != 0x45 {
		return false
	}
	tl := binary.BigEndian.Uint16(b[2:4])
	// Not a fragment (MF and offset zero); not shorter than its header, nor longer than what was
	// captured; not above the GSO threshold (it is only the outermost header's, but an inner packet
	// is no longer than its outer one).
	if binary.BigEndian.Uint16(b[6:8])&0x3fff != 0 || tl < 20 || int(tl) > len(b) || tl > gsoThreshold {
		return false
	}
	if fold(sum20(b)) != 0xffff {
		return false
	}
	h.hdr = [20]byte(b[:20])
	h.totalLen = tl
	h.pl = b[20:tl]
	h.capLen = len(b)
	return true
}

// put writes h into the IPHdr ip as parseIPv4 does (ip is zero).
func (h *fastIPv4) put(ip *IPHdr) {
	b := &h.hdr
	ip.Version = 4
	ip.TOS = b[1]
	ip.TotalLen = h.totalLen
	ip.ID = uint32(binary.BigEndian.Uint16(b[4:6]))
	ip.DF = b[6]&0x40 != 0
	ip.TTL = b[8]
	ip.Proto = b[9]
	ip.Checksum = binary.BigEndian.Uint16(b[10:12])
	*(*[4]byte)(ip.Src[:4]) = [4]byte(b[12:16])
	*(*[4]byte)(ip.Dst[:4]) = [4]byte(b[16:20])
	ip.HdrLen = 20
	ip.CsumOK = true
	ip.CapLen = h.capLen
}

// pseudo returns the unfolded pseudo-header sum of h's transport segment (pseudoSum4).
func (h *fastIPv4) pseudo() uint64 {
	b := &h.hdr
	return uint64(binary.BigEndian.Uint32(b[12:16])) + uint64(binary.BigEndian.Uint32(b[16:20])) +
		uint64(b[9]) + uint64(len(h.pl))
}

// fastFrame decodes rec into p, as resetDecoded(p, d.parts), decodeFrame and decodeWireGuard do, when
// rec is a frame of the usual shape (see above), and keeps its Observation (all but TsLo, as Observe
// would make it) in d.fastObs for Observe, with fingerprint in p.Loose. It returns false for any other
// frame; p and d are then as they were, but that p may be changed and d.parts unknown (0).
func (d *Decoder) fastFrame(rec *Record, p *Packet) bool {
	if d.opts.SnapMatch != SnapWhole {
		return false
	}
	data := rec.Data
	if len(data) < rec.OrigLen {
		return false // snapped
	}
	var b []byte
	switch rec.LinkType {
	case LinkEthernet:
		if len(data) < 14 || data[12] != 0x08 || data[13] != 0x00 {
			return false
		}
		b = data[14:]
	case LinkRaw, LinkIPv4:
		b = data
	default:
		return false
	}
	var outer, in fastIPv4
	if !fastHeader(b, &in) {
		return false
	}
	encap := EncapNone
	if in.hdr[9] == 4 { // IP-in-IP: this header is the outer one
		outer = in
		if !fastHeader(outer.pl, &in) {
			return false
		}
		encap = EncapIPIP
	}
	vxlanPort := d.opts.VXLANPort
	if vxlanPort == 0 {
		vxlanPort = DefaultVXLANPort
	}
	wgPort := d.opts.WireGuardPort
	pl := in.pl
	proto := in.hdr[9]
	// The transport header: complete, its checksum right (a TCP/UDP placeholder left for offload is
	// not: it takes the usual path).
	hl := 8
	switch proto {
	case 6:
		if len(pl) < 20 {
			return false
		}
		hl = int(pl[12]>>4) * 4
		if hl < 20 || hl > len(pl) {
			return false
		}
		if fold(sum16(in.pseudo(), pl)) != 0xffff {
			return false
		}
	case 17:
		if len(pl) < 8 {
			return false
		}
		sp, dp := binary.BigEndian.Uint16(pl[0:2]), binary.BigEndian.Uint16(pl[2:4])
		if dp == vxlanPort || sp == wgPort || dp == wgPort || wgPort == 0 {
			return false
		}
		if (pl[6] != 0 || pl[7] != 0) && fold(sum16(in.pseudo(), pl)) != 0xffff {
			return false
		}
	case 1:
		if len(pl) < 8 || (pl[0] != 0 && pl[0] != 8) { // echo reply or request only
			return false
		}
		if fold(sum16(0, pl)) != 0xffff {
			return false
		}
	default:
		return false
	}

	// The frame is of the usual shape: write the Packet as decodeFrame does.
	resetDecoded(p, d.parts)
	d.parts = 0 // until the frame is done
	p.LinkType = rec.LinkType
	p.CapLen = len(data)
	p.OrigLen = rec.OrigLen
	p.Checksum = CsumOK
	if rec.LinkType == LinkEthernet {
		p.HasEth = true
		p.DstMAC = [6]byte(data[0:6])
		p.SrcMAC = [6]byte(data[6:12])
		p.EtherType = 0x0800
	}
	parts := partsKnown
	if encap == EncapIPIP {
		p.Encap = EncapIPIP
		outer.put(&p.Outer)
		parts |= partOuter
	}
	ih := &p.Inner
	in.put(ih)
	p.Sport = binary.BigEndian.Uint16(pl[0:2])
	p.Dport = binary.BigEndian.Uint16(pl[2:4])
	p.Payload = pl[hl:]
	p.PayloadLen = len(pl) - hl
	var tw, tf uint64 // the fingerprint's transport fields (see Fingerprint)
	switch proto {
	case 6:
		t := &p.TCP
		p.HasTCP = true
		t.Seq = binary.BigEndian.Uint32(pl[4:8])
		t.Ack = binary.BigEndian.Uint32(pl[8:12])
		t.Flags = pl[13]
		t.Window = binary.BigEndian.Uint16(pl[14:16])
		t.Checksum = binary.BigEndian.Uint16(pl[16:18])
		t.WScale = 0xff
		t.HdrLen = uint8(hl)
		if hl > 20 {
			tcpOptions(pl[20:hl], p, false)
			if p.Errs != 0 { // a malformed option: the usual path records it
				return false
			}
		}
		tw, tf = uint64(t.Seq)<<32|uint64(t.Ack), uint64(t.Flags)
	case 17:
		p.HasUDP = true
		p.UDPLen = binary.BigEndian.Uint16(pl[4:6])
		p.UDPChecksum = binary.BigEndian.Uint16(pl[6:8])
		tf = uint64(p.UDPLen)
	case 1:
		p.Sport, p.Dport = 0, 0 // decodeL4 sets no ports for ICMP
		p.HasICMP = true
		ic := &p.ICMP
		ic.Type, ic.Code = pl[0], pl[1]
		ic.Checksum = binary.BigEndian.Uint16(pl[2:4])
		ic.ID = binary.BigEndian.Uint16(pl[4:6])
		ic.Seq = binary.BigEndian.Uint16(pl[6:8])
		parts |= partICMP
		tf = uint64(ic.Type)<<40 ^ uint64(ic.Code)<<32 ^ uint64(ic.Seq)
	}
	d.parts = parts
	p.Loose = fastFingerprint(uint64(4)<<56|uint64(proto)<<48|uint64(ih.ID), p.PayloadLen, tw, tf, p.Payload)

	// The Observation, as Observe makes it.
	o := &d.fastObs
	*o = Observation{}
	o.Source = d.sourceOf(rec, p)
	f := Flags(encap) | Flags(CsumOK)<<FlagCsumShift
	if ih.DF {
		f |= FlagDF
	}
	o.Flags = f
	o.Src = binary.BigEndian.Uint32(in.hdr[12:16])
	o.Dst = binary.BigEndian.Uint32(in.hdr[16:20])
	o.Proto = proto
	o.TTL = ih.TTL
	o.Len = in.totalLen
	o.HdrLen = uint8(20 + hl)
	o.Sport, o.Dport = p.Sport, p.Dport
	switch proto {
	case 6:
		o.Seq = p.TCP.Seq
		o.TCPFlags = p.TCP.Flags
	case 1:
		o.Sport, o.Dport = uint16(p.ICMP.Type), uint16(p.ICMP.Code)
		o.Seq = uint32(p.ICMP.ID)<<16 | uint32(p.ICMP.Seq)
	}
	if encap != EncapNone || ih.TOS != 0 {
		if !d.haveCtx || !ctxOf(&d.lastCtx, p) {
			d.switchCtx(p)
		}
		o.Ctx = d.ctxIdx
	}
	d.fastDone = true
	return true
}

// fastFingerprint is Fingerprint of an IP packet that is neither ARP nor WireGuard, whose payload
// was captured in full: hdr is its header word, payloadLen its payload length (len(payload)), tw and
// tf its transport word and fields.
func fastFingerprint(hdr uint64, payloadLen int, tw, tf uint64, payload []byte) uint64 {
	h := mum(hdr^fpK[0], uint64(uint32(payloadLen))^fpK[1]) ^ mum(tw^fpK[2], tf^fpK[3])
	n := min(payloadHashBytes, payloadLen)
	var lo, hi uint64
	if n == payloadHashBytes {
		lo, hi = binary.LittleEndian.Uint64(payload[0:8]), binary.LittleEndian.Uint64(payload[8:16])
	} else {
		var buf [payloadHashBytes]byte
		copy(buf[:], payload[:n])
		lo, hi = binary.LittleEndian.Uint64(buf[0:8]), binary.LittleEndian.Uint64(buf[8:16])
	}
	h ^= mum(lo^fpK[4], hi^uint64(n)^fpK[5])
	return mix64(h)
}
