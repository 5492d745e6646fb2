package decode

import (
	"encoding/binary"
	"sync"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// DecodeSlow fills p from one frame using gopacket's layer decoders. It is the reference the fast
// decoder (DecodeFast) is tested against: slower, but built from independent code. vxlanPort is the
// UDP destination port that marks VXLAN (0 means 4789). Payload aliases data; nothing else does.
//
// The layers are chained by hand rather than by a gopacket.DecodingLayerParser because a tunnel
// repeats layer types (IPv4 in IPv4, Ethernet in VXLAN) and a parser holds one layer per type, and
// because calipath keeps the fields of a layer that gopacket rejects (an IPv4 header with a short
// total length still has addresses). A gopacket decoder is called only on input it cannot panic on:
// LinuxSLL (slices its address by an unchecked length) and ARP (computes its length in uint8) are
// parsed by hand or guarded.
//
// Readings of the Packet contract that both decoders share:
//   - Ethernet: any number of 802.1Q/802.1ad/0x9100 tags is skipped and the first two VLAN IDs kept;
//     EtherType is the one after the tags. A frame that ends inside the tags sets ErrTruncated (IDs
//     captured whole are kept).
//     Linux cooked headers leave EtherType 0 and take no VLAN tags; SLLAlen is the address length
//     capped at 8 and SLLAddr holds that many bytes.
//   - RAW frames pick IPv4 or IPv6 by the version nibble; an empty frame (ErrTruncated) or another
//     version (ErrBadVersion) is not IP (CsumNone). Everywhere else the link layer has named the
//     version, and a header that is short (ErrTruncated) or of another version (ErrBadVersion) is IP
//     that could not be verified (CsumUnverifiable).
//   - An IP header's CapLen is the number of bytes handed to it: to the end of the capture for the
//     outermost header, bounded by the enclosing header's length for a tunnelled one (when that
//     length was captured). It is set even when the header cannot be decoded.
//   - IPv4: IHL < 5 sets ErrBadLength and HdrLen 20 and stops. A total length of 0 (GSO) or one
//     shorter than the header (ErrBadLength) leaves the captured bytes as the payload; one longer than
//     the capture sets ErrBadLength unless the frame was snapped. IPv6: payload length 0 takes the
//     captured bytes; the hop-by-hop, routing, destination-options and fragment headers are walked,
//     and one that does not fit sets ErrTruncated (Proto is its type, HdrLen where it starts).
//   - GSO: the outermost IP packet has IPv4 total length 0, or is longer than 1500 bytes (its total
//     length, or the captured bytes when that is 0).
//   - IP-in-IP: IPv4 protocol 4, not a fragment. VXLAN: UDP to vxlanPort, not a fragment, with the UDP
//     and VXLAN headers captured; without the I flag it is plain UDP with ErrBadVXLAN, and without a
//     captured inner Ethernet header plain UDP with ErrTruncated. The inner Ethernet may carry VLAN
//     tags (skipped, not recorded), then IPv4, IPv6 or ARP (else ErrNotIP). One level is unwrapped.
//   - Transport: ports are read whenever 4 bytes are captured; TCP needs 20 bytes, UDP and ICMP 8
//     (ICMP type and code are read from 2, an echo's identifier from 6: ICMPEchoCut), else
//     ErrTruncated. A TCP data offset below 5 sets
//     ErrBadLength and counts as 20. A TCP header cut by the capture keeps the options captured
//     whole. The UDP length field is reported, not checked; payload lengths come from the IP header.
//     A non-first fragment carries no transport header: Payload is the IP payload.
//   - TCP options: MSS, window scale and timestamps only with their standard lengths; an option
//     whose length is below 2 or runs past the header sets ErrBadOption and ends the walk.
//   - ICMP: ID/Seq for echo, MTU for IPv4 3/4 and ICMPv6 type 2 (saturated at 65535). The quote of an
//     error is decoded header by header as far as captured (ICMPv4 quotes IPv4, ICMPv6 IPv6):
//     HasQuote once the quoted IP header is complete; a quoted IPv4 protocol 4 header is followed into
//     QuotedInner, and so is a quoted VXLAN datagram (UDP to vxlanPort, with the UDP, VXLAN (I flag) and
//     untagged inner Ethernet headers captured, carrying IPv4 or IPv6 whose header is complete: QVXLAN,
//     its UDP ports and VNI recorded; else it stays a UDP quote); then TCP/UDP ports (4 bytes) or ICMP
//     id/seq (8 bytes), and the TCP sequence, of the innermost quoted packet.
//   - ARP needs 28 bytes (else ErrTruncated) and hardware type 1, protocol 0x0800, lengths 6 and 4
//     (else ErrNotIP).
//   - Checksums: every complete IPv4 header decoded on the way to the innermost packet is verified
//     (ErrBadIPChecksum). The innermost TCP, UDP (non-zero, or any over IPv6), ICMP and ICMPv6
//     checksum is verified when the transport segment is captured whole and the packet is neither
//     GSO nor a fragment (ErrBadL4Checksum); a pseudo-header checksum equal to the folded pseudo-
//     header sum or its complement is a TX-offload placeholder: unverifiable, never bad, wherever it
//     is captured. A non-zero VXLAN outer UDP checksum is verified when the UDP length matches the
//     captured datagram: a placeholder is unverifiable; a wrong one is ErrBadOuterUDPChecksum unless
//     the inner TCP, UDP or ICMPv6 checksum is a placeholder and the outer checksum verifies once that
//     is completed (local checksum offload: unverifiable). Verdict: CsumBad when any of these is
//     wrong; CsumUnverifiable when the transport checksum could not be verified, the outer UDP
//     checksum is a placeholder or an offload artefact, or the frame is GSO; CsumUnverifiable as well
//     when there is no transport checksum at all and the innermost header is not IPv4 (nothing was
//     verified); CsumOK otherwise. Frames that are not IP get CsumNone.
//
// WireGuard (on the default port; Decoder takes Options.WireGuardPort) is decoded by the code the
// fast path shares: it reads a few fixed-offset fields of the UDP payload that gopacket has no layer
// for, and the tshark differential test checks it.
func DecodeSlow(linkType LinkType, data []byte, origLen int, vxlanPort uint16, p *Packet) {
	decodeSlow(linkType, data, origLen, vxlanPort, DefaultWireGuardPort, p)
}

// decodeSlow is DecodeSlow with the WireGuard port.
func decodeSlow(linkType LinkType, data []byte, origLen int, vxlanPort, wgPort uint16, p *Packet) {
	p.Reset()
	p.LinkType = linkType
	p.CapLen = len(data)
	p.OrigLen = origLen
	p.Checksum = CsumNone
	if vxlanPort == 0 {
		vxlanPort = 4789
	}
	s := slowPool.Get().(*slowState)
	*s = slowState{p: p, vxlanPort: vxlanPort, snapped: len(data) < origLen}
	if s.snapped {
		p.Errs |= ErrSnapped
	}
	s.link(linkType, data)
	*s = slowState{} // drop every reference into data before pooling
	slowPool.Put(s)
	decodeWireGuard(p, wgPort)
}

// slowPool recycles the gopacket layers DecodeSlow decodes into (they escape to the heap through
// gopacket's interfaces).
var slowPool = sync.Pool{New: func() any { return new(slowState) }}

// l4 checksum outcomes of DecodeSlow.
const (
	slowL4None = iota // the protocol has no checksum calipath verifies
	slowL4Unverifiable
	slowL4OK
	slowL4Bad
)

// slowState carries one DecodeSlow call.
type slowState struct {
	p         *Packet
	vxlanPort uint16
	snapped   bool
	badIP     bool
	// outerPartial: the VXLAN outer UDP checksum is an offload placeholder, or an artefact of local
	// checksum offload. vxBad: the VXLAN datagram whose outer checksum failed, until that is decided.
	outerPartial bool
	vxBad        []byte

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
	var et uint16
	var rest []byte
	switch lt {
	case LinkEthernet:
		if s.eth.DecodeFromBytes(data, slowNF) != nil {
			p.Errs |= ErrTruncated
			return
		}
		p.HasEth = true
		copy(p.DstMAC[:], s.eth.DstMAC)
		copy(p.SrcMAC[:], s.eth.SrcMAC)
		// gopacket turns an 802.3 length into EthernetTypeLLC; the contract keeps the field as captured.
		var ok bool
		et, rest, ok = s.skipVLANs(binary.BigEndian.Uint16(data[12:14]), data[14:], true)
		if !ok {
			p.Errs |= ErrTruncated
			return
		}
		p.EtherType = et
	case LinkLinuxSLL:
		// Parsed by hand: layers.LinuxSLL slices its address by an unchecked 16-bit length.
		if len(data) < 16 {
			p.Errs |= ErrTruncated
			return
		}
		p.HasSLL = true
		p.PktType = data[1]
		p.SLLAlen = uint8(min(binary.BigEndian.Uint16(data[4:6]), 8))
		copy(p.SLLAddr[:p.SLLAlen], data[6:])
		et, rest = binary.BigEndian.Uint16(data[14:16]), data[16:]
		var ok bool
		if et, rest, ok = s.skipVLANs(et, rest, true); !ok { // tcpdump -y LINUX_SLL keeps a parent's tags
			p.Errs |= ErrTruncated
			return
		}
	case LinkSLL2:
		// gopacket has no LINUX_SLL2 decoder: protocol 2, reserved 2, ifindex 4, ARPHRD 2, packet type 1,
		// address length 1, address 8, all big-endian.
		if len(data) < 20 {
			p.Errs |= ErrTruncated
			return
		}
		p.HasSLL = true
		p.IfIndex = int32(binary.BigEndian.Uint32(data[4:8]))
		p.PktType = data[10]
		p.SLLAlen = min(data[11], 8)
		copy(p.SLLAddr[:p.SLLAlen], data[12:])
		et, rest = binary.BigEndian.Uint16(data[0:2]), data[20:]
		var ok bool
		if et, rest, ok = s.skipVLANs(et, rest, true); !ok {
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
			et = uint16(layers.EthernetTypeIPv4)
		case 6:
			et = uint16(layers.EthernetTypeIPv6)
		default:
			p.Errs |= ErrBadVersion
			return
		}
		rest = data
	case LinkIPv4:
		et, rest = uint16(layers.EthernetTypeIPv4), data
	case LinkIPv6:
		et, rest = uint16(layers.EthernetTypeIPv6), data
	default:
		p.Errs |= ErrUnknownLink
		return
	}
	switch et {
	case uint16(layers.EthernetTypeIPv4), uint16(layers.EthernetTypeIPv6):
		s.ip(rest, et == uint16(layers.EthernetTypeIPv6))
	case uint16(layers.EthernetTypeARP):
		s.decodeARP(rest)
	default:
		p.Errs |= ErrNotIP
	}
}

// skipVLANs follows VLAN tags from EtherType et, recording the first two IDs when record is set.
func (s *slowState) skipVLANs(et uint16, rest []byte, record bool) (uint16, []byte, bool) {
	p := s.p
	for et == uint16(layers.EthernetTypeDot1Q) || et == uint16(layers.EthernetTypeQinQ) || et == 0x9100 {
		err := s.dot1q.DecodeFromBytes(rest, slowNF)
		if err != nil && len(rest) < 2 {
			return 0, nil, false
		}
		if record && p.NVLAN < 2 {
			// The ID counts once its 2 bytes are captured, even when the EtherType after it is not.
			p.VLANs[p.NVLAN] = binary.BigEndian.Uint16(rest[0:2]) & 0x0fff
			p.NVLAN++
		}
		if err != nil {
			return 0, nil, false
		}
		et, rest = uint16(s.dot1q.Type), rest[4:]
	}
	return et, rest, true
}

func (s *slowState) decodeARP(b []byte) {
	p := s.p
	if len(b) < 28 {
		p.Errs |= ErrTruncated
		return
	}
	if binary.BigEndian.Uint16(b[0:2]) != 1 || binary.BigEndian.Uint16(b[2:4]) != 0x0800 || b[4] != 6 || b[5] != 4 {
		p.Errs |= ErrNotIP
		return
	}
	if s.arp.DecodeFromBytes(b, slowNF) != nil {
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

// ip decodes the outermost IP packet, its tunnel if any, and the innermost transport header.
func (s *slowState) ip(b []byte, v6 bool) {
	p := s.p
	p.Checksum = CsumUnverifiable
	var h IPHdr
	pl, ok := s.header(b, v6, &h, s.snapped, true)
	if !ok {
		p.Inner = h
		return
	}
	p.GSO = (h.Version == 4 && h.TotalLen == 0) || ipLen(&h, b) > gsoThreshold
	notFrag := h.FragOff == 0 && !h.MF
	switch {
	case h.Version == 4 && h.Proto == 4 && notFrag:
		p.Encap, p.Outer = EncapIPIP, h
		h = IPHdr{}
		if pl, ok = s.header(pl, false, &h, s.snapped, true); !ok {
			p.Inner = h
			s.verdict(slowL4Unverifiable)
			return
		}
	case h.Proto == 17 && notFrag && len(pl) >= 16 && binary.BigEndian.Uint16(pl[2:4]) == s.vxlanPort:
		inner, innerPl, done, isVX := s.vxlan(&h, pl)
		if done {
			return
		}
		if isVX {
			h, pl = inner, innerPl
		}
	case s.snapped && h.Proto == 17 && notFrag && len(pl) >= 8 && len(pl) < 16 &&
		binary.BigEndian.Uint16(pl[2:4]) == s.vxlanPort && int(binary.BigEndian.Uint16(pl[4:6])) > len(pl):
		p.Errs |= ErrTruncated // cut inside the VXLAN header
	case s.snapped && h.Proto == 17 && notFrag && len(pl) >= 4 && len(pl) < 8 &&
		binary.BigEndian.Uint16(pl[2:4]) == s.vxlanPort && declaredLen(&h, pl) >= 16:
		p.TunnelCut = true // cut inside the UDP header of a VXLAN datagram
	}
	p.Inner = h
	l4 := s.transport(&p.Inner, pl)
	if s.vxBad != nil && l4 == slowL4Unverifiable && slowCompletes(&p.Outer, s.vxBad, &p.Inner, pl) {
		p.Errs &^= ErrBadOuterUDPChecksum
		s.outerPartial = true
	}
	if s.outerPartial && l4 != slowL4Bad {
		l4 = slowL4Unverifiable
	}
	s.verdict(l4)
}

// vxlan decodes the VXLAN encapsulation of the UDP datagram pl inside outer. isVX is false when the
// datagram is plain UDP after all; done is true when decoding ended inside the encapsulation.
func (s *slowState) vxlan(outer *IPHdr, pl []byte) (inner IPHdr, innerPl []byte, done, isVX bool) {
	p := s.p
	if s.vx.DecodeFromBytes(pl[8:], slowNF) != nil || !s.vx.ValidIDFlag {
		p.Errs |= ErrBadVXLAN
		return IPHdr{}, nil, false, false
	}
	if len(pl) < 8+8+14 {
		p.Errs |= ErrTruncated
		return IPHdr{}, nil, false, false
	}
	s.udp.DecodeFromBytes(pl, slowNF) // 8 bytes are present: the header fields are filled
	p.Encap, p.Outer = EncapVXLAN, *outer
	p.OuterSprt, p.OuterDprt = uint16(s.udp.SrcPort), uint16(s.udp.DstPort)
	p.OuterUCsm = s.udp.Checksum
	if p.OuterUCsm != 0 && !p.GSO && int(s.udp.Length) == len(pl) {
		switch slowCheck(outer, 17, pl, p.OuterUCsm, true) {
		case slowL4Bad:
			p.Errs |= ErrBadOuterUDPChecksum
			s.vxBad = pl
		case slowL4Unverifiable:
			s.outerPartial = true
		}
	}
	p.VNI = s.vx.VNI
	eth := pl[16:]
	s.eth.DecodeFromBytes(eth, slowNF) // 14 bytes are present
	copy(p.InnerDstMAC[:], s.eth.DstMAC)
	copy(p.InnerSrcMAC[:], s.eth.SrcMAC)
	et, rest, ok := s.skipVLANs(binary.BigEndian.Uint16(eth[12:14]), eth[14:], false)
	if !ok {
		p.Errs |= ErrTruncated
		s.verdict(slowL4Unverifiable)
		return IPHdr{}, nil, true, true
	}
	switch et {
	case uint16(layers.EthernetTypeIPv4), uint16(layers.EthernetTypeIPv6):
		if innerPl, ok = s.header(rest, et == uint16(layers.EthernetTypeIPv6), &inner, s.snapped, true); !ok {
			p.Inner = inner
			s.verdict(slowL4Unverifiable)
			return IPHdr{}, nil, true, true
		}
		return inner, innerPl, false, true
	case uint16(layers.EthernetTypeARP):
		s.decodeARP(rest)
	default:
		p.Errs |= ErrNotIP
	}
	s.verdict(slowL4None)
	return IPHdr{}, nil, true, true
}

// header decodes the IP header at b into h and returns its payload: bounded by the header's length
// when that was captured, else everything captured after the header. ok is false when the header
// itself could not be decoded. snapped excuses a length beyond the capture; record says whether the
// header's problems count for the frame (not for ICMP quotes).
func (s *slowState) header(b []byte, v6 bool, h *IPHdr, snapped, record bool) ([]byte, bool) {
	var errs Err
	var pl []byte
	var ok bool
	if v6 {
		pl, errs, ok = s.ipv6(b, h, snapped)
	} else {
		pl, errs, ok = s.ipv4(b, h, snapped)
		if ok && !h.CsumOK && record {
			s.badIP = true
		}
	}
	if record {
		s.p.Errs |= errs
	}
	return pl, ok
}

func (s *slowState) ipv4(b []byte, h *IPHdr, snapped bool) ([]byte, Err, bool) {
	h.CapLen = len(b)
	if s.ip4.DecodeFromBytes(b, slowNF) != nil && len(b) < 20 {
		return nil, ErrTruncated, false
	}
	if s.ip4.Version != 4 {
		return nil, ErrBadVersion, false
	}
	// gopacket has filled the fixed fields (it fills them before any of its length checks).
	h.Version = 4
	copy(h.Src[:4], s.ip4.SrcIP)
	copy(h.Dst[:4], s.ip4.DstIP)
	h.Proto = uint8(s.ip4.Protocol)
	h.TTL = s.ip4.TTL
	h.TOS = s.ip4.TOS
	h.TotalLen = binary.BigEndian.Uint16(b[2:4]) // gopacket replaces 0 by the captured length
	h.ID = uint32(s.ip4.Id)
	h.DF = s.ip4.Flags&layers.IPv4DontFragment != 0
	h.MF = s.ip4.Flags&layers.IPv4MoreFragments != 0
	h.FragOff = s.ip4.FragOffset * 8
	h.Checksum = s.ip4.Checksum
	if s.ip4.IHL < 5 {
		h.HdrLen = 20
		return nil, ErrBadLength, false
	}
	hl := int(s.ip4.IHL) * 4
	h.HdrLen = uint8(hl)
	if len(b) < hl {
		return nil, ErrTruncated, false
	}
	h.CsumOK = slowFold(slowSum(0, b[:hl])) == 0xffff
	total := int(h.TotalLen)
	switch {
	case total == 0 || total < hl:
		if total != 0 {
			return b[hl:], ErrBadLength, true
		}
		return b[hl:], 0, true
	case total > len(b):
		if !snapped {
			return b[hl:], ErrBadLength, true
		}
		return b[hl:], 0, true
	}
	return b[hl:total], 0, true
}

func (s *slowState) ipv6(b []byte, h *IPHdr, snapped bool) ([]byte, Err, bool) {
	h.CapLen = len(b)
	if s.ip6.DecodeFromBytes(b, slowNF) != nil && len(b) < 40 {
		return nil, ErrTruncated, false
	}
	if s.ip6.Version != 6 {
		return nil, ErrBadVersion, false
	}
	// gopacket has filled the fixed fields (before looking at extension headers or lengths).
	h.Version = 6
	h.TOS = s.ip6.TrafficClass
	h.FlowLbl = s.ip6.FlowLabel
	h.TTL = s.ip6.HopLimit
	copy(h.Src[:], s.ip6.SrcIP)
	copy(h.Dst[:], s.ip6.DstIP)
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	h.TotalLen = uint16(min(40+plen, 0xffff))
	var errs Err
	bb := b
	switch {
	case plen == 0:
	case 40+plen > len(b):
		if !snapped {
			errs |= ErrBadLength
		}
	default:
		bb = b[:40+plen]
	}
	nh, off := b[6], 40
	for {
		switch nh {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if s.ext.DecodeFromBytes(bb[off:], slowNF) != nil {
				h.Proto, h.HdrLen = nh, uint8(min(off, 0xff))
				return nil, errs | ErrTruncated, false
			}
			nh = uint8(s.ext.NextHeader)
			off += len(s.ext.Contents)
			continue
		case 44: // fragment: gopacket has no DecodingLayer for it
			if len(bb)-off < 8 {
				h.Proto, h.HdrLen = nh, uint8(min(off, 0xff))
				return nil, errs | ErrTruncated, false
			}
			f := bb[off : off+8]
			h.FragOff = binary.BigEndian.Uint16(f[2:4]) &^ 7
			h.MF = f[3]&1 != 0
			h.ID = binary.BigEndian.Uint32(f[4:8])
			nh = f[0]
			off += 8
			continue
		}
		break
	}
	h.Proto, h.HdrLen = nh, uint8(min(off, 0xff))
	return bb[off:], errs, true
}

// transport decodes the transport header of the innermost packet h (payload pl) and returns the
// outcome of its checksum.
func (s *slowState) transport(h *IPHdr, pl []byte) int {
	p := s.p
	declared := len(pl)
	if h.TotalLen != 0 && !(h.Version == 6 && h.TotalLen == 40 && len(pl) > 0) && int(h.TotalLen) >= int(h.HdrLen) {
		declared = int(h.TotalLen) - int(h.HdrLen)
	}
	if h.FragOff != 0 {
		p.Payload, p.PayloadLen = pl, declared
		return slowL4Unverifiable
	}
	whole := len(pl) == declared && !p.GSO && !h.MF
	switch h.Proto {
	case 6:
		return s.decodeTCP(h, pl, declared, whole)
	case 17:
		if len(pl) >= 4 {
			p.Sport, p.Dport = binary.BigEndian.Uint16(pl[0:2]), binary.BigEndian.Uint16(pl[2:4])
		}
		if s.udp.DecodeFromBytes(pl, slowNF) != nil && len(pl) < 8 {
			p.Errs |= ErrTruncated
			return slowL4Unverifiable
		}
		p.HasUDP = true
		p.UDPLen, p.UDPChecksum = s.udp.Length, s.udp.Checksum
		p.Payload, p.PayloadLen = pl[8:], max(declared-8, 0)
		switch {
		case !whole:
			return slowL4Unverifiable
		case p.UDPChecksum == 0 && h.Version == 4:
			return slowL4None
		}
		return slowCheck(h, 17, pl, p.UDPChecksum, true)
	case 1, 58:
		return s.decodeICMP(h, pl, declared, whole)
	}
	p.Payload, p.PayloadLen = pl, declared
	return slowL4None
}

func (s *slowState) decodeTCP(h *IPHdr, pl []byte, declared int, whole bool) int {
	p := s.p
	if len(pl) >= 4 {
		p.Sport, p.Dport = binary.BigEndian.Uint16(pl[0:2]), binary.BigEndian.Uint16(pl[2:4])
	}
	if len(pl) < 20 {
		p.Errs |= ErrTruncated
		return slowL4Unverifiable
	}
	err := s.tcp.DecodeFromBytes(pl, slowNF)
	p.HasTCP = true
	t := &p.TCP
	t.Seq, t.Ack = s.tcp.Seq, s.tcp.Ack
	t.Flags = pl[13]
	t.Window, t.Checksum = s.tcp.Window, s.tcp.Checksum
	t.WScale = 0xff
	hl := int(s.tcp.DataOffset) * 4
	if hl < 20 {
		// gopacket has filled the fixed fields and stops; calipath reads it as a 20-byte header.
		p.Errs |= ErrBadLength
		hl, err = 20, nil
		s.tcp.Options = s.tcp.Options[:0]
	}
	t.HdrLen = uint8(hl)
	p.PayloadLen = max(declared-hl, 0)
	if hl > len(pl) {
		// gopacket decodes no options from a cut header: walk the ones captured whole.
		p.Errs |= ErrTruncated
		s.tcpOptions(s.slowOptions(pl[20:]))
		return slowL4Unverifiable
	}
	opts := s.tcp.Options
	if err != nil {
		// Only an option can fail here; gopacket has appended it before failing: it is the malformed one.
		p.Errs |= ErrBadOption
		opts = opts[:len(opts)-1]
	}
	s.tcpOptions(opts)
	p.Payload = pl[hl:]
	if !whole {
		return slowL4Unverifiable
	}
	return slowCheck(h, 6, pl, t.Checksum, true)
}

// slowOptions splits the TCP options captured whole from b, stopping at the first one the capture
// cuts. A malformed option (length below 2) sets ErrBadOption and ends the walk.
func (s *slowState) slowOptions(b []byte) []layers.TCPOption {
	var out []layers.TCPOption
	for len(b) > 0 {
		switch b[0] {
		case 0:
			return out
		case 1:
			b = b[1:]
			continue
		}
		if len(b) < 2 || int(b[1]) > len(b) {
			return out
		}
		if b[1] < 2 {
			s.p.Errs |= ErrBadOption
			return out
		}
		out = append(out, layers.TCPOption{OptionType: layers.TCPOptionKind(b[0]), OptionLength: b[1],
			OptionData: b[2:b[1]]})
		b = b[b[1]:]
	}
	return out
}

// tcpOptions takes MSS, window scale, SACK-permitted, SACK blocks and timestamps from well-formed
// options.
func (s *slowState) tcpOptions(opts []layers.TCPOption) {
	t := &s.p.TCP
	for _, o := range opts {
		d := o.OptionData
		switch o.OptionType {
		case layers.TCPOptionKindMSS:
			if len(d) == 2 {
				t.MSS = binary.BigEndian.Uint16(d)
			}
		case layers.TCPOptionKindWindowScale:
			if len(d) == 1 {
				t.WScale = d[0]
			}
		case layers.TCPOptionKindSACKPermitted:
			t.SACKPerm = true
		case layers.TCPOptionKindSACK:
			t.SACKBlocks = uint8(len(d) / 8)
		case layers.TCPOptionKindTimestamps:
			if len(d) == 8 {
				t.HasTS = true
				t.TSVal = binary.BigEndian.Uint32(d[0:4])
				t.TSEcr = binary.BigEndian.Uint32(d[4:8])
			}
		}
	}
}

func (s *slowState) decodeICMP(h *IPHdr, pl []byte, declared int, whole bool) int {
	p := s.p
	v6 := h.Proto == 58
	c := &p.ICMP
	if len(pl) < 8 {
		if len(pl) >= 2 {
			c.Type, c.Code = pl[0], pl[1]
		}
		echo := v6 && (c.Type == layers.ICMPv6TypeEchoRequest || c.Type == layers.ICMPv6TypeEchoReply) ||
			!v6 && (c.Type == layers.ICMPv4TypeEchoRequest || c.Type == layers.ICMPv4TypeEchoReply)
		if len(pl) >= 6 && echo {
			c.ID, p.ICMPEchoCut = uint16(pl[4])<<8|uint16(pl[5]), true
		}
		p.Errs |= ErrTruncated
		return slowL4Unverifiable
	}
	p.HasICMP = true
	if v6 {
		s.icmp6.DecodeFromBytes(pl, slowNF)
		c.Type, c.Code = s.icmp6.TypeCode.Type(), s.icmp6.TypeCode.Code()
		c.Checksum = s.icmp6.Checksum
		switch c.Type {
		case layers.ICMPv6TypeEchoRequest, layers.ICMPv6TypeEchoReply:
			c.ID, c.Seq = binary.BigEndian.Uint16(pl[4:6]), binary.BigEndian.Uint16(pl[6:8])
		case layers.ICMPv6TypePacketTooBig:
			c.MTU = uint16(min(binary.BigEndian.Uint32(pl[4:8]), 0xffff))
		}
	} else {
		s.icmp4.DecodeFromBytes(pl, slowNF)
		c.Type, c.Code = s.icmp4.TypeCode.Type(), s.icmp4.TypeCode.Code()
		c.Checksum = s.icmp4.Checksum
		switch {
		case c.Type == layers.ICMPv4TypeEchoReply || c.Type == layers.ICMPv4TypeEchoRequest:
			c.ID, c.Seq = s.icmp4.Id, s.icmp4.Seq
		case c.Type == layers.ICMPv4TypeDestinationUnreachable && c.Code == layers.ICMPv4CodeFragmentationNeeded:
			c.MTU = s.icmp4.Seq // the next-hop MTU sits where echo keeps its sequence number
		}
	}
	p.Payload, p.PayloadLen = pl[8:], max(declared-8, 0)
	if c.IsError(v6) {
		s.quote(pl[8:], v6)
	}
	if !whole {
		return slowL4Unverifiable
	}
	return slowCheck(h, h.Proto, pl, c.Checksum, v6)
}

// quote decodes the packet quoted by an ICMP error as far as q holds it.
func (s *slowState) quote(q []byte, v6 bool) {
	c := &s.p.ICMP
	rest, ok := s.header(q, v6, &c.Quoted, true, false)
	if !ok {
		return
	}
	c.HasQuote = true
	h := &c.Quoted
	if h.Version == 4 && h.Proto == 4 && h.FragOff == 0 {
		if rest, ok = s.header(rest, false, &c.QuotedInner, true, false); !ok {
			return
		}
		h = &c.QuotedInner
	}
	if h.FragOff != 0 {
		return
	}
	// QOff: the quote's bytes before rest, which is q sliced (and ended at the quoted packet's length).
	defer func() { c.QOff = uint16(cap(q) - cap(rest)) }()
	// A quoted VXLAN datagram: UDP to the VXLAN port, the I flag, untagged inner Ethernet, then IPv4 or
	// IPv6 whose header is complete.
	if h.Proto == 17 && h == &c.Quoted && len(rest) >= 30 && binary.BigEndian.Uint16(rest[2:4]) == s.vxlanPort && rest[8]&0x08 != 0 {
		if et := binary.BigEndian.Uint16(rest[28:30]); et == 0x0800 || et == 0x86dd {
			var in IPHdr
			if after, ok := s.header(rest[30:], et == 0x86dd, &in, true, false); ok {
				c.QuotedInner, c.QVXLAN = in, true
				c.QOuterSport, c.QOuterDport = binary.BigEndian.Uint16(rest[0:2]), binary.BigEndian.Uint16(rest[2:4])
				c.QVNI = uint32(rest[12])<<16 | uint32(rest[13])<<8 | uint32(rest[14])
				rest, h = after, &c.QuotedInner
			}
		}
	}
	switch h.Proto {
	case 6, 17:
		if len(rest) >= 4 {
			c.QSport, c.QDport = binary.BigEndian.Uint16(rest[0:2]), binary.BigEndian.Uint16(rest[2:4])
		}
		if h.Proto == 6 && len(rest) >= 8 {
			c.QSeq = binary.BigEndian.Uint32(rest[4:8])
		}
	case 1, 58:
		if len(rest) >= 8 {
			c.QSport, c.QDport = binary.BigEndian.Uint16(rest[4:6]), binary.BigEndian.Uint16(rest[6:8])
		}
	}
}

// verdict sets the frame's checksum verdict from the IPv4 header checks and the transport outcome.
func (s *slowState) verdict(l4 int) {
	p := s.p
	if s.badIP {
		p.Errs |= ErrBadIPChecksum
	}
	if l4 == slowL4Bad {
		p.Errs |= ErrBadL4Checksum
	}
	switch {
	case s.badIP || l4 == slowL4Bad || p.Errs&ErrBadOuterUDPChecksum != 0:
		p.Checksum = CsumBad
	case l4 == slowL4Unverifiable || p.GSO, l4 == slowL4None && p.Inner.Version != 4:
		p.Checksum = CsumUnverifiable
	default:
		p.Checksum = CsumOK
	}
}

// slowCheck verifies the checksum over seg (a whole transport segment) under IP header h; pseudo
// says the checksum covers a pseudo-header, and then a stored value equal to the folded
// pseudo-header sum or its complement is a TX-offload placeholder.
func slowCheck(h *IPHdr, proto uint8, seg []byte, stored uint16, pseudo bool) int {
	var ps uint32
	if pseudo {
		ps = slowPseudo(h, proto, len(seg))
	}
	if slowFold(slowSum(ps, seg)) == 0xffff {
		return slowL4OK
	}
	if pseudo && (stored == slowFold(ps) || stored == ^slowFold(ps)) {
		return slowL4Unverifiable
	}
	return slowL4Bad
}

// slowCompletes reports whether the VXLAN datagram dgram under outer, whose outer UDP checksum is
// wrong, verifies once the inner transport checksum (of seg under in, a subslice of dgram), an
// offload placeholder, is completed: on a copy, the field zeroed, the checksum computed and stored,
// the outer checksum checked again.
func slowCompletes(outer *IPHdr, dgram []byte, in *IPHdr, seg []byte) bool {
	var off int
	switch {
	case in.FragOff != 0 || in.MF:
		return false
	case in.Proto == 6:
		off = 16
	case in.Proto == 17:
		off = 6
	case in.Proto == 58:
		off = 2
	default:
		return false
	}
	at := cap(dgram) - cap(seg)
	if len(seg) < off+2 || at < 0 || at+len(seg) > len(dgram) {
		return false
	}
	stored := binary.BigEndian.Uint16(seg[off:])
	if (in.Proto == 17 && in.Version == 4 && stored == 0) || slowCheck(in, in.Proto, seg, stored, true) != slowL4Unverifiable {
		return false
	}
	c := append([]byte(nil), dgram...)
	f := c[at : at+len(seg)]
	f[off], f[off+1] = 0, 0
	binary.BigEndian.PutUint16(f[off:], ^slowFold(slowSum(slowPseudo(in, in.Proto, len(f)), f)))
	return slowCheck(outer, 17, c, binary.BigEndian.Uint16(c[6:]), true) == slowL4OK
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
