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

// checksums classifies one IPv4 packet's checksums (network starts at its IPv4 header) and counts
// the class at the point.
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
	name, off := "tcp", 16
	if proto == 17 {
		name, off = "udp", 6
	}
	if len(l4) < off+2 {
		return name + ":truncated"
	}
	field := binary.BigEndian.Uint16(l4[off:])
	state := l4State(p[12:20], proto, l4, field)
	inner := ""
	if proto == 17 && len(l4) >= 8+8+14+20 && binary.BigEndian.Uint16(l4[2:4]) == vxlanPort {
		in := l4[8+8+14:] // UDP, VXLAN and inner Ethernet headers
		inner = "/" + csumClass(in)
		if state == "bad" && completes(p[12:20], l4, in) {
			state = "lco"
		}
	}
	if state == "bad" && gso {
		state = "gso"
	}
	return name + ":" + state + inner
}

// l4State checks a TCP or UDP checksum: ok, none (UDP 0), placeholder or bad.
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
	ihl := int(in[0]&15) * 4
	total := int(binary.BigEndian.Uint16(in[2:4]))
	if in[0]>>4 != 4 || ihl < 20 || total < ihl || total > len(in) || (in[9] != 6 && in[9] != 17) {
		return false
	}
	off := 16
	if in[9] == 17 {
		off = 6
	}
	l4 := in[ihl:total]
	if len(l4) < off+2 || l4State(in[12:20], in[9], l4, binary.BigEndian.Uint16(l4[off:])) != "placeholder" {
		return false
	}
	pseudo := sum(in[12:20]) + uint32(in[9]) + uint32(len(l4))
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
