package main

// Checksums, computed here from the bytes (not by calipath's decoder). Linux with checksum offload
// (every veth here) leaves a transport checksum that is still the pseudo-header sum, the
// "placeholder" the device would complete; with VXLAN UDP checksums on, the outer UDP checksum is
// computed by local checksum offload as if the inner placeholder were already complete ("lco").
// Neither is corruption. A checksum that fits none of these is "bad", and the truth then expects
// checksum-bad at that point.

import (
	"encoding/binary"
	"strings"
)

// vxlanPort is the lab's VXLAN UDP port.
const vxlanPort = 4789

// checksums classifies one IP packet's checksums (network starts at its outermost IP header) and
// counts the class at the point.
func (l *lab) checksums(where string, network []byte) {
	class := csumClass(network)
	if l.csums[where] == nil {
		l.csums[where] = map[string]int{}
	}
	l.csums[where][class]++
	if strings.Contains(class, "bad") {
		l.add("checksum-bad", where)
	}
}

// csumClass describes a packet's checksums, outer first: "ip:bad" for a wrong IPv4 header,
// else the transport's "<proto>:<state>" (ok, none, placeholder, lco, bad, or gso for a
// super-packet larger than any MTU here, which cannot be checked as captured), and for VXLAN and
// IP-in-IP the inner packet's after a "/".
func csumClass(p []byte) string {
	if len(p) >= 40 && p[0]>>4 == 6 {
		return csumClass6(p)
	}
	if len(p) < 20 || p[0]>>4 != 4 {
		return "not-ipv4"
	}
	ihl := int(p[0]&15) * 4
	total := int(binary.BigEndian.Uint16(p[2:4]))
	if ihl < 20 || total < ihl || total > len(p) {
		return "truncated"
	}
	p = p[:total]
	if fold(sum(p[:ihl])) != 0xffff {
		return "ip:bad"
	}
	gso := total > 1500
	l4 := p[ihl:]
	proto := p[9]
	switch proto {
	case 4: // IP-in-IP: the outer header has no transport checksum
		return "ipip/" + csumClass(l4)
	case 1:
		if fold(sum(l4)) == 0xffff {
			return "icmp:ok"
		}
		return "icmp:bad"
	case 6, 17:
	default:
		return "other"
	}
	return l4Class(p[12:20], proto, l4, gso)
}

// csumClass6 is csumClass for an IPv6 packet (no header checksum; its transport checksums cover a
// pseudo-header with its 16-byte addresses, and ICMPv6's does too). Extension headers are not read:
// the packet is "other" then.
func csumClass6(p []byte) string {
	plen := int(binary.BigEndian.Uint16(p[4:6]))
	if 40+plen > len(p) {
		return "truncated"
	}
	p = p[:40+plen]
	gso := len(p) > 1500
	l4, proto := p[40:], p[6]
	switch proto {
	case 58:
		switch {
		case fold(sum(p[8:40])+58+uint32(len(l4))+sum(l4)) == 0xffff:
			return "icmp6:ok"
		case gso:
			return "icmp6:gso"
		}
		return "icmp6:bad"
	case 6, 17:
		return l4Class(p[8:40], proto, l4, gso)
	}
	return "other"
}

// l4Class classifies a TCP or UDP checksum (addrs: the IP header's source and destination, 4 or 16
// bytes each), and a VXLAN packet's inner packet's after a "/".
func l4Class(addrs []byte, proto byte, l4 []byte, gso bool) string {
	name, off := "tcp", 16
	if proto == 17 {
		name, off = "udp", 6
	}
	if len(l4) < off+2 {
		return name + ":truncated"
	}
	field := binary.BigEndian.Uint16(l4[off:])
	state := l4State(addrs, proto, l4, field)
	inner := ""
	if proto == 17 && len(l4) >= 8+8+14+20 && binary.BigEndian.Uint16(l4[2:4]) == vxlanPort {
		in := l4[8+8+14:] // UDP, VXLAN and inner Ethernet headers
		inner = "/" + csumClass(in)
		if state == "bad" && completes(addrs, l4, in) {
			state = "lco"
		}
	}
	if state == "bad" && gso {
		state = "gso"
	}
	return name + ":" + state + inner
}

// l4State checks a TCP or UDP checksum: ok, none (UDP 0), placeholder or bad. addrs is the IP
// header's source and destination (IPv4 or IPv6: the pseudo-header sums alike).
func l4State(addrs []byte, proto byte, l4 []byte, field uint16) string {
	pseudo := sum(addrs) + uint32(proto) + uint32(len(l4))
	switch {
	case proto == 17 && field == 0:
		return "none"
	case fold(pseudo+sum(l4)) == 0xffff:
		return "ok"
	case field == fold(pseudo):
		return "placeholder"
	}
	return "bad"
}

// completes reports whether a VXLAN packet's outer UDP checksum verifies once the inner TCP or
// UDP checksum placeholder is replaced by the checksum it stands for (local checksum offload).
func completes(outerAddrs, udp, in []byte) bool {
	if len(in) < 20 {
		return false
	}
	var addrs, l4 []byte
	var proto byte
	switch in[0] >> 4 {
	case 4:
		ihl := int(in[0]&15) * 4
		total := int(binary.BigEndian.Uint16(in[2:4]))
		if ihl < 20 || total < ihl || total > len(in) {
			return false
		}
		addrs, proto, l4 = in[12:20], in[9], in[ihl:total]
	case 6:
		if len(in) < 40 || 40+int(binary.BigEndian.Uint16(in[4:6])) > len(in) {
			return false
		}
		addrs, proto, l4 = in[8:40], in[6], in[40:40+int(binary.BigEndian.Uint16(in[4:6]))]
	default:
		return false
	}
	if proto != 6 && proto != 17 {
		return false
	}
	off := 16
	if proto == 17 {
		off = 6
	}
	if len(l4) < off+2 || l4State(addrs, proto, l4, binary.BigEndian.Uint16(l4[off:])) != "placeholder" {
		return false
	}
	pseudo := sum(addrs) + uint32(proto) + uint32(len(l4))
	c := make([]byte, len(l4))
	copy(c, l4)
	c[off], c[off+1] = 0, 0
	binary.BigEndian.PutUint16(c[off:], ^fold(pseudo+sum(c)))
	// The outer sum changes by the difference between the completed and the placeholder field.
	outer := sum(outerAddrs) + 17 + uint32(len(udp)) + sum(udp) +
		uint32(binary.BigEndian.Uint16(c[off:])) + uint32(^binary.BigEndian.Uint16(l4[off:]))
	return fold(outer) == 0xffff
}

// sum is the one's-complement sum of b as big-endian 16-bit words (an odd byte padded with 0),
// not yet folded.
func sum(b []byte) uint32 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}
