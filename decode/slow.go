package decode

import (
	"encoding/binary"
	"math"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// DecodeSlow fills p from one frame using gopacket's layer decoders. It is the reference the fast
// Decoder is tested against: slower, but built from independent code. vxlanPort is the UDP
// destination port that marks VXLAN (0 means 4789). Payload aliases data; nothing else does.
//
// The layers are chained by hand rather than by a gopacket.DecodingLayerParser because a tunnel
// repeats layer types (IPv4 in IPv4, Ethernet in VXLAN) and a parser holds one layer per type, and
// because calipath keeps the fields of a layer that gopacket rejects (a short IPv4 total length still
// has addresses). Every gopacket decoder is called only on input it cannot panic on: LinuxSLL (slices
// its address by an unchecked length) and ARP (computes its length in uint8) are guarded or replaced.
//
// Readings of the Packet contract that the fast Decoder must share:
//   - Link layer: at most two 802.1Q/802.1ad tags (0x8100, 0x88a8) are parsed, after Ethernet and after
//     Linux cooked headers alike; a third tag leaves EtherType at the tag type and sets ErrNotIP. Raw,
//     IPv4 and IPv6 link types leave EtherType 0. SLL v1 PktType and SLLAlen are the low bytes of their
//     16-bit fields; SLLAddr always holds the 8 address bytes as captured, whatever SLLAlen says.
//   - An IP header is decoded only when its fixed part is captured (IPv4 20 bytes, IPv6 40); a shorter
//     one leaves the IPHdr zero and sets ErrTruncated. Ethertype 0x0800 and the IPv4 link type need
//     version 4, 0x86dd and the IPv6 link type need 6, RAW takes either; otherwise ErrBadVersion.
//   - IPHdr.CapLen counts the frame bytes from the header's start to the end of the capture.
//     IPv6 TotalLen saturates at 65535; IPv6 HdrLen saturates at 255.
//   - IPv4 IHL < 5, or a non-zero total length shorter than the header: ErrBadLength, the fixed fields
//     are kept, nothing after the header is decoded. Total length 0 marks GSO and the captured bytes
//     stand in for it; so does an IPv6 payload length 0 in a GSO (oversized) frame.
//   - Declared lengths (IP total length, UDP length) bound everything inside them; bytes past them
//     (Ethernet padding) are ignored. A header cut by the capture sets ErrTruncated; a header cut by a
//     declared length sets ErrBadLength. Transport headers are decoded only when their fixed part
//     (TCP 20, UDP 8, ICMP 8 bytes) is present; TCP options only when the whole TCP header is.
//   - IPv6 extension headers walked: hop-by-hop, routing, destination options, fragment. A fragment
//     with a non-zero offset carries no transport header: Payload is the IP payload.
//   - One level of encapsulation is unwrapped: IPv4 protocol 4 (not a non-first fragment) is IP-in-IP,
//     UDP (IPv4 or IPv6) to vxlanPort is VXLAN when the 8-byte VXLAN header is present with the I flag;
//     otherwise it is plain UDP with ErrBadVXLAN (ErrTruncated when the capture ends inside it). The
//     inner Ethernet of VXLAN carries IPv4, IPv6 or ARP, with no VLAN tags. A tunnel inside the inner
//     packet is left undecoded (its protocol is the inner transport).
//   - GSO: an IPv4 total length 0 anywhere, or OrigLen > 1500 + link header bytes (Ethernet 14 + 4 per
//     VLAN tag, SLL 16, SLL2 20, raw 0), evaluated only for frames the link layer marks as IP.
//   - Checksum verdict: CsumNone unless the link layer marks the frame as IP (a VXLAN frame carrying
//     ARP is IP). CsumBad when an IPv4 header checksum (outer or inner) or the innermost TCP/UDP/ICMP
//     checksum is wrong. CsumOK when the innermost L4 checksum was verified right. Otherwise
//     CsumUnverifiable: L4 not captured whole, GSO, fragment, UDP checksum 0, IPv6 routing header,
//     other protocols, or a TCP/UDP checksum that equals the pseudo-header sum or its complement (TX offload,
//     CHECKSUM_PARTIAL). ICMP quotes and the VXLAN outer UDP checksum do not count in the verdict:
//     the latter sets only ErrBadOuterUDPChecksum (non-zero, verifiable, wrong, not a partial sum).
//   - ICMP: ID/Seq for echo (v4 0/8, v6 128/129); MTU for v4 3/4 and v6 type 2 (low 16 bits). The
//     quote of an error (v4 types 3, 4, 5, 11, 12; v6 types below 128) is decoded field by field as far
//     as captured; HasQuote when the quoted IP header (IPv4 IHL*4, IPv6 40 bytes; extension headers
//     not walked) is complete. Then a quoted protocol 4 header is decoded into QuotedInner, and the
//     ports (TCP/UDP) or id/seq (ICMP, any type) and the TCP sequence of the innermost quoted packet
//     fill QSport/QDport/QSeq, each when its bytes are captured and the quote is not a non-first
//     fragment.
//   - ARP is decoded only for hardware type 1, protocol 0x0800, lengths 6 and 4 (28 bytes);
//     other ARP sets ErrNotIP, a short one ErrTruncated.
func DecodeSlow(linkType LinkType, data []byte, origLen int, vxlanPort uint16, p *Packet) {
	p.Reset()
	p.LinkType = linkType
	p.CapLen = len(data)
	p.OrigLen = origLen
	if vxlanPort == 0 {
		vxlanPort = 4789
	}
	s := slowState{p: p, vxlanPort: vxlanPort, snapped: len(data) < origLen}
	if s.snapped {
		p.Errs |= ErrSnapped
	}
	s.link(linkType, data)
	s.finish()
}

// slowState carries one DecodeSlow call.
type slowState struct {
	p         *Packet
	vxlanPort uint16
	snapped   bool
	frame     []byte
	isIP      bool // the link layer says the frame is IP
	gso       bool
	frag      bool // the innermost packet is a fragment
	noL4Csum  bool // the innermost L4 checksum cannot be verified (routing header)
	l4OK      bool // the innermost L4 checksum was verified right
	linkHdr   int

	eth   layers.Ethernet
	dot1q layers.Dot1Q
	ip4   layers.IPv4
	ip6   layers.IPv6
	ext   layers.IPv6ExtensionSkipper
	tcp   layers.TCP
	udp   layers.UDP
	icmp4 layers.ICMPv4
	icmp6 layers.ICMPv6
	arp   layers.ARP
	vx    layers.VXLAN
}

var slowNF = gopacket.NilDecodeFeedback

func (s *slowState) link(lt LinkType, data []byte) {
	p := s.p
	s.frame = data
	switch lt {
	case LinkEthernet:
		if len(data) < 14 {
			p.Errs |= ErrTruncated
			return
		}
		if s.eth.DecodeFromBytes(data, slowNF) != nil {
			p.Errs |= ErrTruncated
			return
		}
		p.HasEth = true
		copy(p.DstMAC[:], s.eth.DstMAC)
		copy(p.SrcMAC[:], s.eth.SrcMAC)
		s.linkHdr = 14
		// gopacket turns an 802.3 length into EthernetTypeLLC; the contract keeps the field as captured.
		s.ethertype(binary.BigEndian.Uint16(data[12:14]), data[14:])
	case LinkLinuxSLL:
		// Parsed by hand: layers.LinuxSLL slices its address by an unchecked 16-bit length.
		if len(data) < 16 {
			p.Errs |= ErrTruncated
			return
		}
		p.HasSLL = true
		p.PktType = data[1]
		p.SLLAlen = data[5]
		copy(p.SLLAddr[:], data[6:14])
		s.linkHdr = 16
		s.ethertype(binary.BigEndian.Uint16(data[14:16]), data[16:])
	case LinkSLL2:
		// gopacket has no LINUX_SLL2 decoder: protocol 2, reserved 2, ifindex 4, ARPHRD 2, packet type 1,
		// address length 1, address 8.
		if len(data) < 20 {
			p.Errs |= ErrTruncated
			return
		}
		p.HasSLL = true
		p.IfIndex = int32(binary.BigEndian.Uint32(data[4:8]))
		p.PktType = data[10]
		p.SLLAlen = data[11]
		copy(p.SLLAddr[:], data[12:20])
		s.linkHdr = 20
		s.ethertype(binary.BigEndian.Uint16(data[0:2]), data[20:])
	case LinkRaw:
		s.startIP(data, 0)
	case LinkIPv4:
		s.startIP(data, 4)
	case LinkIPv6:
		s.startIP(data, 6)
	default:
		p.Errs |= ErrUnknownLink
	}
}

// ethertype follows up to two VLAN tags and dispatches on the resulting EtherType.
func (s *slowState) ethertype(et uint16, rest []byte) {
	p := s.p
	for p.NVLAN < 2 && (et == uint16(layers.EthernetTypeDot1Q) || et == uint16(layers.EthernetTypeQinQ)) {
		if len(rest) < 4 {
			p.EtherType = et
			p.Errs |= ErrTruncated
			return
		}
		if s.dot1q.DecodeFromBytes(rest, slowNF) != nil {
			p.EtherType = et
			p.Errs |= ErrTruncated
			return
		}
		p.VLANs[p.NVLAN] = s.dot1q.VLANIdentifier
		p.NVLAN++
		et = uint16(s.dot1q.Type)
		rest = rest[4:]
		s.linkHdr += 4
	}
	p.EtherType = et
	switch et {
	case uint16(layers.EthernetTypeIPv4):
		s.startIP(rest, 4)
	case uint16(layers.EthernetTypeIPv6):
		s.startIP(rest, 6)
	case uint16(layers.EthernetTypeARP):
		s.decodeARP(rest)
	default:
		p.Errs |= ErrNotIP
	}
}

func (s *slowState) decodeARP(b []byte) {
	p := s.p
	if len(b) < 8 {
		p.Errs |= ErrTruncated
		return
	}
	if binary.BigEndian.Uint16(b[0:2]) != 1 || binary.BigEndian.Uint16(b[2:4]) != 0x0800 || b[4] != 6 || b[5] != 4 {
		p.Errs |= ErrNotIP
		return
	}
	if len(b) < 28 || s.arp.DecodeFromBytes(b, slowNF) != nil {
		p.Errs |= ErrTruncated
		return
	}
	p.HasARP = true
	p.ARP.Op = s.arp.Operation
	copy(p.ARP.SHA[:], s.arp.SourceHwAddress)
	copy(p.ARP.SPA[:], s.arp.SourceProtAddress)
	copy(p.ARP.THA[:], s.arp.DstHwAddress)
	copy(p.ARP.TPA[:], s.arp.DstProtAddress)
}

// startIP decodes the first IP header of the frame (want: required version, 0 for either).
func (s *slowState) startIP(b []byte, want uint8) {
	p := s.p
	s.isIP = true
	if p.OrigLen > 1500+s.linkHdr {
		s.gso = true
	}
	var h IPHdr
	l4, declared, ok := s.ipHeader(b, math.MaxInt, want, &h)
	if h.Version == 0 {
		return
	}
	if !ok {
		p.Inner = h
		return
	}
	if h.Version == 4 && h.Proto == 4 {
		p.Encap = EncapIPIP
		p.Outer = h
		var in IPHdr
		l4, declared, ok = s.ipHeader(l4, declared, 4, &in)
		p.Inner = in
		if ok {
			s.transport(&p.Inner, l4, declared)
		}
		return
	}
	if h.Proto == 17 && s.vxlan(&h, l4, declared) {
		return
	}
	p.Inner = h
	s.transport(&p.Inner, l4, declared)
}

// short records why fewer than need bytes are available: the capture (ErrTruncated) or a declared
// length (ErrBadLength).
func (s *slowState) short(have []byte, declared, need int) bool {
	if len(have) >= need {
		return false
	}
	if declared < need {
		s.p.Errs |= ErrBadLength
	} else {
		s.p.Errs |= ErrTruncated
	}
	return true
}

// ipHeader decodes one IP header from b, of which the enclosing layer declares limit bytes
// (math.MaxInt when nothing encloses it). It returns the transport bytes (bounded by the declared length and
// the capture), the declared transport length, and whether the transport may be decoded.
func (s *slowState) ipHeader(b []byte, limit int, want uint8, h *IPHdr) (l4 []byte, declared int, ok bool) {
	p := s.p
	if s.short(b, limit, 1) {
		return nil, 0, false
	}
	v := b[0] >> 4
	if (v != 4 && v != 6) || (want != 0 && v != want) {
		p.Errs |= ErrBadVersion
		return nil, 0, false
	}
	s.frag = false
	if v == 4 {
		return s.ipv4(b, limit, h)
	}
	return s.ipv6(b, limit, h)
}

// capFrom returns the number of frame bytes from the start of b to the end of the capture. b is
// always a two-index subslice of the frame, so cap(frame)-cap(b) is its offset.
func (s *slowState) capFrom(b []byte) int {
	return len(s.frame) - (cap(s.frame) - cap(b))
}

func (s *slowState) ipv4(b []byte, limit int, h *IPHdr) ([]byte, int, bool) {
	p := s.p
	if s.short(b, limit, 20) {
		return nil, 0, false
	}
	s.ip4.DecodeFromBytes(b, slowNF) // fills the fixed fields whenever 20 bytes are present; checked below
	h.Version = 4
	copy(h.Src[:4], s.ip4.SrcIP)
	copy(h.Dst[:4], s.ip4.DstIP)
	h.Proto = uint8(s.ip4.Protocol)
	h.TTL = s.ip4.TTL
	h.TOS = s.ip4.TOS
	h.HdrLen = s.ip4.IHL * 4
	h.TotalLen = binary.BigEndian.Uint16(b[2:4]) // gopacket replaces 0 by the captured length
	h.ID = uint32(s.ip4.Id)
	h.DF = s.ip4.Flags&layers.IPv4DontFragment != 0
	h.MF = s.ip4.Flags&layers.IPv4MoreFragments != 0
	h.FragOff = s.ip4.FragOffset * 8
	h.Checksum = s.ip4.Checksum
	h.CapLen = s.capFrom(b)
	if s.ip4.IHL < 5 {
		p.Errs |= ErrBadLength
		return nil, 0, false
	}
	hl := int(h.HdrLen)
	if s.short(b, limit, hl) {
		return nil, 0, false
	}
	h.CsumOK = slowFold(slowSum(0, b[:hl])) == 0xffff
	if !h.CsumOK {
		p.Errs |= ErrBadIPChecksum
	}
	total := int(h.TotalLen)
	if total == 0 {
		s.gso = true
		total = min(len(b), limit)
	} else if total < hl {
		p.Errs |= ErrBadLength
		return nil, 0, false
	}
	s.checkTotal(b, limit, total)
	end := min(total, len(b), limit)
	s.frag = h.MF || h.FragOff != 0
	if h.FragOff != 0 {
		s.setPayload(b[hl:end], total-hl)
		return nil, 0, false
	}
	return b[hl:end], total - hl, true
}

// checkTotal flags a declared length longer than the bytes that hold it, unless the snaplen cut them.
func (s *slowState) checkTotal(b []byte, limit, total int) {
	if total > min(len(b), limit) && !(s.snapped && total <= limit) {
		s.p.Errs |= ErrBadLength
	}
}

func (s *slowState) ipv6(b []byte, limit int, h *IPHdr) ([]byte, int, bool) {
	if s.short(b, limit, 40) {
		return nil, 0, false
	}
	s.ip6.DecodeFromBytes(b, slowNF) // fills the fixed fields whenever 40 bytes are present
	h.Version = 6
	h.TOS = s.ip6.TrafficClass
	h.FlowLbl = s.ip6.FlowLabel
	h.TTL = s.ip6.HopLimit
	copy(h.Src[:], s.ip6.SrcIP)
	copy(h.Dst[:], s.ip6.DstIP)
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	h.TotalLen = uint16(min(40+plen, 0xffff))
	h.CapLen = s.capFrom(b)
	total := 40 + plen
	if plen == 0 && s.gso {
		total = min(len(b), limit)
	}
	s.checkTotal(b, limit, total)
	bb := b[:min(total, len(b), limit)]
	nh := b[6]
	off := 40
	var fragOff uint16
walk:
	for {
		switch nh {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			need := 8
			if len(bb)-off >= 2 {
				need = 8*int(bb[off+1]) + 8
			}
			if len(bb)-off < need || s.ext.DecodeFromBytes(bb[off:], slowNF) != nil {
				s.extShort(total, off+need)
				break walk
			}
			if nh == 43 {
				s.noL4Csum = true
			}
			nh = uint8(s.ext.NextHeader)
			off += len(s.ext.Contents)
		case 44: // fragment (no gopacket DecodingLayer exists for it)
			if len(bb)-off < 8 {
				s.extShort(total, off+8)
				break walk
			}
			f := bb[off : off+8]
			fragOff = binary.BigEndian.Uint16(f[2:4]) &^ 7
			h.MF = f[3]&1 != 0
			h.ID = binary.BigEndian.Uint32(f[4:8])
			nh = f[0]
			off += 8
		default:
			break walk
		}
	}
	h.Proto = nh
	h.HdrLen = uint8(min(off, 0xff))
	h.FragOff = fragOff
	s.frag = h.MF || fragOff != 0
	if nh == 0 || nh == 43 || nh == 60 || nh == 44 {
		return nil, 0, false // the walk stopped inside an extension header
	}
	if fragOff != 0 {
		s.setPayload(bb[off:], total-off)
		return nil, 0, false
	}
	return bb[off:], total - off, true
}

// extShort records an IPv6 extension header that needs the bytes up to end and does not get them:
// cut by the capture when the payload length covers end, otherwise a malformed header.
func (s *slowState) extShort(total, end int) {
	if end <= total {
		s.p.Errs |= ErrTruncated
		return
	}
	s.p.Errs |= ErrBadOption
}

func (s *slowState) setPayload(b []byte, declared int) {
	s.p.Payload = b
	s.p.PayloadLen = max(declared, len(b))
}

// vxlan decodes UDP to the VXLAN port as VXLAN; it reports false when the datagram is not VXLAN (then
// the caller decodes it as plain UDP).
func (s *slowState) vxlan(h *IPHdr, l4 []byte, declared int) bool {
	p := s.p
	if len(l4) < 8 || binary.BigEndian.Uint16(l4[2:4]) != s.vxlanPort {
		return false
	}
	if s.udp.DecodeFromBytes(l4, slowNF) != nil {
		return false // a UDP length below 8: plain UDP reports it
	}
	ulen := int(s.udp.Length)
	if ulen < 8 || ulen > declared {
		return false
	}
	body := l4[8:min(ulen, len(l4))]
	if len(body) < 8 {
		if ulen-8 >= 8 {
			p.Errs |= ErrTruncated
		} else {
			p.Errs |= ErrBadVXLAN
		}
		return false
	}
	if s.vx.DecodeFromBytes(body, slowNF) != nil || !s.vx.ValidIDFlag {
		p.Errs |= ErrBadVXLAN
		return false
	}
	p.Encap = EncapVXLAN
	p.Outer = *h
	p.OuterSprt = uint16(s.udp.SrcPort)
	p.OuterDprt = uint16(s.udp.DstPort)
	p.OuterUCsm = s.udp.Checksum
	p.VNI = s.vx.VNI
	if c := s.udp.Checksum; c != 0 && ulen <= len(l4) && !s.gso && !s.frag && !s.noL4Csum {
		ps := slowPseudo(h, 17, ulen)
		if slowFold(slowSum(ps, l4[:ulen])) != 0xffff && c != slowFold(ps) {
			p.Errs |= ErrBadOuterUDPChecksum
		}
	}
	s.frag, s.noL4Csum = false, false
	eth := body[8:]
	innerDeclared := ulen - 16
	if s.short(eth, innerDeclared, 14) {
		return true
	}
	if s.eth.DecodeFromBytes(eth, slowNF) != nil {
		p.Errs |= ErrTruncated
		return true
	}
	copy(p.InnerDstMAC[:], s.eth.DstMAC)
	copy(p.InnerSrcMAC[:], s.eth.SrcMAC)
	rest, limit := eth[14:], innerDeclared-14
	var want uint8
	switch binary.BigEndian.Uint16(eth[12:14]) {
	case uint16(layers.EthernetTypeIPv4):
		want = 4
	case uint16(layers.EthernetTypeIPv6):
		want = 6
	case uint16(layers.EthernetTypeARP):
		s.decodeARP(rest)
		return true
	default:
		p.Errs |= ErrNotIP
		return true
	}
	var in IPHdr
	l4, declared, ok := s.ipHeader(rest, limit, want, &in)
	p.Inner = in
	if ok {
		s.transport(&p.Inner, l4, declared)
	}
	return true
}

// transport decodes the transport header of the innermost packet h from b, of which declared bytes
// are declared by the IP header.
func (s *slowState) transport(h *IPHdr, b []byte, declared int) {
	switch h.Proto {
	case 6:
		s.decodeTCP(h, b, declared)
	case 17:
		s.decodeUDP(h, b, declared)
	case 1, 58:
		s.decodeICMP(h, b, declared)
	default:
		s.setPayload(b, declared)
	}
}

// l4Verifiable reports whether the innermost transport checksum over n bytes of b can be checked.
func (s *slowState) l4Verifiable(b []byte, n int) bool {
	return n <= len(b) && !s.gso && !s.frag && !s.noL4Csum
}

// checkL4 verifies a transport checksum over b[:n] starting from the pseudo-header sum ps; partial
// says a stored value equal to the pseudo-header sum is a TX-offload placeholder, not an error.
func (s *slowState) checkL4(b []byte, n int, ps uint32, stored uint16, partial bool) {
	if !s.l4Verifiable(b, n) {
		return
	}
	if slowFold(slowSum(ps, b[:n])) == 0xffff {
		s.l4OK = true
		return
	}
	if partial && (stored == slowFold(ps) || stored == ^slowFold(ps)) {
		return
	}
	s.p.Errs |= ErrBadL4Checksum
}

func (s *slowState) decodeTCP(h *IPHdr, b []byte, declared int) {
	p := s.p
	if s.short(b, declared, 20) {
		return
	}
	err := s.tcp.DecodeFromBytes(b, slowNF)
	p.HasTCP = true
	p.Sport, p.Dport = uint16(s.tcp.SrcPort), uint16(s.tcp.DstPort)
	t := &p.TCP
	t.Seq, t.Ack = s.tcp.Seq, s.tcp.Ack
	t.Flags = b[13]
	t.HdrLen = s.tcp.DataOffset * 4
	t.Window = s.tcp.Window
	t.Checksum = s.tcp.Checksum
	t.WScale = 0xff
	hl := int(t.HdrLen)
	if hl < 20 || hl > declared {
		p.Errs |= ErrBadLength
		return
	}
	if hl > len(b) {
		p.Errs |= ErrTruncated
		s.setPayload(nil, declared-hl)
		return
	}
	if err != nil {
		p.Errs |= ErrBadOption // data offset and length were checked above: only an option can fail
	}
	for _, o := range s.tcp.Options {
		d := o.OptionData
		switch o.OptionType {
		case layers.TCPOptionKindMSS:
			if len(d) != 2 {
				p.Errs |= ErrBadOption
				continue
			}
			t.MSS = binary.BigEndian.Uint16(d)
		case layers.TCPOptionKindWindowScale:
			if len(d) != 1 {
				p.Errs |= ErrBadOption
				continue
			}
			t.WScale = d[0]
		case layers.TCPOptionKindSACKPermitted:
			if len(d) != 0 {
				p.Errs |= ErrBadOption
				continue
			}
			t.SACKPerm = true
		case layers.TCPOptionKindSACK:
			if len(d) == 0 || len(d)%8 != 0 {
				p.Errs |= ErrBadOption
				continue
			}
			t.SACKBlocks = uint8(len(d) / 8)
		case layers.TCPOptionKindTimestamps:
			if len(d) != 8 {
				p.Errs |= ErrBadOption
				continue
			}
			t.HasTS = true
			t.TSVal = binary.BigEndian.Uint32(d[0:4])
			t.TSEcr = binary.BigEndian.Uint32(d[4:8])
		}
	}
	s.setPayload(b[hl:], declared-hl)
	s.checkL4(b, declared, slowPseudo(h, 6, declared), t.Checksum, true)
}

func (s *slowState) decodeUDP(h *IPHdr, b []byte, declared int) {
	p := s.p
	if s.short(b, declared, 8) {
		return
	}
	s.udp.DecodeFromBytes(b, slowNF) // fills the header whenever 8 bytes are present
	p.HasUDP = true
	p.Sport, p.Dport = uint16(s.udp.SrcPort), uint16(s.udp.DstPort)
	p.UDPLen = s.udp.Length
	p.UDPChecksum = s.udp.Checksum
	ulen := int(p.UDPLen)
	if ulen >= 8 && s.frag {
		// The first fragment of a datagram: the UDP length covers fragments not in this frame.
		s.setPayload(b[8:], ulen-8)
		return
	}
	if ulen < 8 || ulen > declared {
		if !(ulen == 0 && s.gso) {
			p.Errs |= ErrBadLength
		}
		s.setPayload(b[8:], declared-8)
		return
	}
	s.setPayload(b[8:min(ulen, len(b))], ulen-8)
	if p.UDPChecksum != 0 {
		s.checkL4(b, ulen, slowPseudo(h, 17, ulen), p.UDPChecksum, true)
	}
}

func (s *slowState) decodeICMP(h *IPHdr, b []byte, declared int) {
	p := s.p
	if s.short(b, declared, 8) {
		return
	}
	p.HasICMP = true
	c := &p.ICMP
	v6 := h.Proto == 58
	if v6 {
		s.icmp6.DecodeFromBytes(b, slowNF)
		c.Type, c.Code = s.icmp6.TypeCode.Type(), s.icmp6.TypeCode.Code()
		c.Checksum = s.icmp6.Checksum
		switch c.Type {
		case 128, 129:
			c.ID = binary.BigEndian.Uint16(b[4:6])
			c.Seq = binary.BigEndian.Uint16(b[6:8])
		case 2:
			c.MTU = uint16(binary.BigEndian.Uint32(b[4:8]))
		}
	} else {
		s.icmp4.DecodeFromBytes(b, slowNF)
		c.Type, c.Code = s.icmp4.TypeCode.Type(), s.icmp4.TypeCode.Code()
		c.Checksum = s.icmp4.Checksum
		switch {
		case c.Type == 0 || c.Type == 8:
			c.ID, c.Seq = s.icmp4.Id, s.icmp4.Seq
		case c.Type == 3 && c.Code == 4:
			c.MTU = s.icmp4.Seq // next-hop MTU sits where echo keeps its sequence number
		}
	}
	if c.IsError(v6) {
		slowQuote(c, b[8:])
	}
	s.setPayload(b[8:], declared-8)
	var ps uint32
	if v6 {
		ps = slowPseudo(h, 58, declared)
	}
	s.checkL4(b, declared, ps, c.Checksum, false)
}

// slowQuote decodes the packet quoted by an ICMP error, as far as q holds it.
func slowQuote(c *ICMP, q []byte) {
	hl, complete := slowPartialIP(q, &c.Quoted)
	if !complete {
		return
	}
	c.HasQuote = true
	t, proto, frag := q[hl:], c.Quoted.Proto, c.Quoted.FragOff != 0
	if frag {
		return
	}
	if c.Quoted.Version == 4 && proto == 4 {
		hl, complete = slowPartialIP(t, &c.QuotedInner)
		if !complete || c.QuotedInner.FragOff != 0 {
			return
		}
		t, proto = t[hl:], c.QuotedInner.Proto
	}
	switch proto {
	case 6, 17:
		if len(t) >= 2 {
			c.QSport = binary.BigEndian.Uint16(t[0:2])
		}
		if len(t) >= 4 {
			c.QDport = binary.BigEndian.Uint16(t[2:4])
		}
		if proto == 6 && len(t) >= 8 {
			c.QSeq = binary.BigEndian.Uint32(t[4:8])
		}
	case 1, 58:
		if len(t) >= 6 {
			c.QSport = binary.BigEndian.Uint16(t[4:6])
		}
		if len(t) >= 8 {
			c.QDport = binary.BigEndian.Uint16(t[6:8])
		}
	}
}

// slowPartialIP decodes the IP header at the start of a quote field by field, as far as q holds it. It
// returns the header length and whether the header is complete. gopacket's decoders are not used here:
// they decode nothing from a partial header.
func slowPartialIP(q []byte, h *IPHdr) (int, bool) {
	h.CapLen = len(q)
	if len(q) < 1 {
		return 0, false
	}
	switch q[0] >> 4 {
	case 4:
		h.Version = 4
		h.HdrLen = (q[0] & 0xf) * 4
		if len(q) >= 2 {
			h.TOS = q[1]
		}
		if len(q) >= 4 {
			h.TotalLen = binary.BigEndian.Uint16(q[2:4])
		}
		if len(q) >= 6 {
			h.ID = uint32(binary.BigEndian.Uint16(q[4:6]))
		}
		if len(q) >= 8 {
			ff := binary.BigEndian.Uint16(q[6:8])
			h.DF = ff&0x4000 != 0
			h.MF = ff&0x2000 != 0
			h.FragOff = ff & 0x1fff * 8
		}
		if len(q) >= 9 {
			h.TTL = q[8]
		}
		if len(q) >= 10 {
			h.Proto = q[9]
		}
		if len(q) >= 12 {
			h.Checksum = binary.BigEndian.Uint16(q[10:12])
		}
		if len(q) >= 16 {
			copy(h.Src[:4], q[12:16])
		}
		if len(q) >= 20 {
			copy(h.Dst[:4], q[16:20])
		}
		hl := int(h.HdrLen)
		if hl < 20 || len(q) < hl {
			return 0, false
		}
		h.CsumOK = slowFold(slowSum(0, q[:hl])) == 0xffff
		return hl, true
	case 6:
		h.Version = 6
		h.HdrLen = 40
		if len(q) >= 2 {
			h.TOS = q[0]<<4 | q[1]>>4
		}
		if len(q) >= 4 {
			h.FlowLbl = binary.BigEndian.Uint32(q[0:4]) & 0xfffff
		}
		if len(q) >= 6 {
			h.TotalLen = uint16(min(40+int(binary.BigEndian.Uint16(q[4:6])), 0xffff))
		}
		if len(q) >= 7 {
			h.Proto = q[6]
		}
		if len(q) >= 8 {
			h.TTL = q[7]
		}
		if len(q) >= 24 {
			copy(h.Src[:], q[8:24])
		}
		if len(q) >= 40 {
			copy(h.Dst[:], q[24:40])
			return 40, true
		}
	}
	return 0, false
}

// slowPseudo returns the unfolded one's-complement sum of the TCP/UDP/ICMPv6 pseudo-header.
func slowPseudo(h *IPHdr, proto uint8, n int) uint32 {
	var s uint32
	if h.Version == 4 {
		s = slowSum(0, h.Src[:4])
		s = slowSum(s, h.Dst[:4])
	} else {
		s = slowSum(0, h.Src[:])
		s = slowSum(s, h.Dst[:])
	}
	return s + uint32(proto) + uint32(n>>16) + uint32(n&0xffff)
}

// slowSum adds b to the one's-complement accumulator s (big-endian 16-bit words, odd byte padded).
func slowSum(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
		if s >= 0x80000000 {
			s = s&0xffff + s>>16
		}
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

// slowFold folds a one's-complement accumulator to 16 bits; a correct checksum folds to 0xffff.
func slowFold(s uint32) uint16 {
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// finish sets the frame-level verdicts.
func (s *slowState) finish() {
	p := s.p
	p.GSO = s.isIP && s.gso
	switch {
	case !s.isIP:
		p.Checksum = CsumNone
	case p.Errs&(ErrBadIPChecksum|ErrBadL4Checksum) != 0:
		p.Checksum = CsumBad
	case s.l4OK:
		p.Checksum = CsumOK
	default:
		p.Checksum = CsumUnverifiable
	}
}
