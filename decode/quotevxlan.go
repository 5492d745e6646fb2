package decode

import "encoding/binary"

// quoteVXLAN follows the UDP datagram an ICMP error quotes (udp: its UDP header on, as captured) into
// the packet it carries when it is VXLAN: to vxlanPort (--vxlan-port, as for the frames' own VXLAN; a
// quote to another port stays a UDP quote), its VXLAN header with the I flag, an inner Ethernet header
// without tags and a complete inner IPv4 or IPv6 header. It sets
// ic.QuotedInner, QVXLAN, QOuterSport, QOuterDport and QVNI, and returns what follows the inner IP
// header; otherwise it changes nothing (a plain UDP quote). A router's error about a tunnel datagram
// (ICMPv6 Packet Too Big over an IPv6 underlay) then names the pods' packet it stopped. The quoted
// datagram is not a fragment (decodeQuote checks).
func quoteVXLAN(udp []byte, vxlanPort uint16, ic *ICMP) ([]byte, bool) {
	const off = 8 + 8 + 14 // UDP, VXLAN, inner Ethernet
	if len(udp) < off || binary.BigEndian.Uint16(udp[2:4]) != vxlanPort || udp[8]&0x08 == 0 {
		return nil, false
	}
	var inner IPHdr
	var rest []byte
	ok := false
	switch binary.BigEndian.Uint16(udp[off-2 : off]) {
	case 0x0800:
		rest, _, ok = parseIPv4(udp[off:], &inner, true)
	case 0x86dd:
		rest, _, ok = parseIPv6(udp[off:], &inner, true)
	}
	if !ok {
		return nil, false
	}
	ic.QuotedInner, ic.QVXLAN = inner, true
	ic.QOuterSport, ic.QOuterDport = binary.BigEndian.Uint16(udp[0:2]), binary.BigEndian.Uint16(udp[2:4])
	ic.QVNI = binary.BigEndian.Uint32(udp[12:16]) >> 8
	return rest, true
}
