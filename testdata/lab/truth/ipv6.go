package main

// IPv6 (healthy-vxlan6): pods with IPv6 addresses, VXLAN over an IPv6 underlay (vxlan-v6.calico),
// neighbour discovery instead of ARP. Read with gopacket's layers, as the IPv4 packets are.
//
// IPv6 has no IP identification, so a packet is followed by its payload length and the same transport
// fingerprint as an IPv4 one (the hop limit, like the TTL, is left out). Routers never fragment IPv6:
// every IPv6 packet counts as sent with DF (for the PMTU rule). Neighbour solicitations and
// advertisements are the ARP of IPv6: a solicitation asks for its target, an advertisement answers for
// its target, with the MAC its target link-layer address option gives (else the frame's source). The
// other messages of the link (router solicitations and advertisements, multicast listener reports,
// redirects) are never forwarded and are not followed.

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// gateway6 is the IPv6 pods' gateway: the link-local address of the host end of their veth, made
// from its MAC ee:ee:ee:ee:ee:ee (EUI-64).
var gateway6 = netip.MustParseAddr("fe80::ecee:eeff:feee:eeee")

// innermost returns a packet's last IP header of either family (the inner one of a tunnelled
// packet), as an IPv4 or an IPv6 layer (the other nil), and the layer after it.
func innermost(pkt gopacket.Packet) (v4 *layers.IPv4, v6 *layers.IPv6, next gopacket.Layer) {
	ls := pkt.Layers()
	for i, ly := range ls {
		switch x := ly.(type) {
		case *layers.IPv4:
			v4, v6, next = x, nil, nil
		case *layers.IPv6:
			v4, v6, next = nil, x, nil
		default:
			continue
		}
		if i+1 < len(ls) {
			next = ls[i+1]
		}
	}
	return v4, v6, next
}

// packet6 follows one IPv6 packet seen at a point (network starts at its outermost IP header):
// neighbour discovery goes to the ARP list, the link's other control messages are left, the rest is
// followed as follow does for IPv4.
func (l *lab) packet6(p *Point, where string, ts int64, network []byte, ip *layers.IPv6, next gopacket.Layer, all map[string][]obs, segs *[]obs, arps *[]arpSeen, icmps *[]icmpObs) {
	if l.wg != nil {
		l.errs = append(l.errs, fmt.Errorf("%s frame %d: IPv6 in a WireGuard scenario: this truth computer follows WireGuard over IPv4 only", where, p.Packets))
		return
	}
	if ip.NextHeader == layers.IPProtocolIPv6Fragment || ip.NextHeader == layers.IPProtocolIPv6HopByHop ||
		ip.NextHeader == layers.IPProtocolIPv6Routing || ip.NextHeader == layers.IPProtocolIPv6Destination {
		l.errs = append(l.errs, fmt.Errorf("%s frame %d: an IPv6 extension header (%v): this truth computer follows IPv6 packets without them only", where, p.Packets, ip.NextHeader))
		return
	}
	l.checksums(where, network)
	src, _ := netip.AddrFromSlice(ip.SrcIP.To16())
	dst, _ := netip.AddrFromSlice(ip.DstIP.To16())
	o := obs{point: where, ts: l.unskew(p.Node, ts), src: src, dst: dst, size: 40 + int(ip.Length), df: true, frame: p.Packets}
	h := fnv.New64a()
	var fp string
	switch l4 := next.(type) {
	case *layers.TCP:
		o.proto, o.sport, o.dport = "tcp", int(l4.SrcPort), int(l4.DstPort)
		o.seq, o.ack, o.plen, o.syn, o.fin = l4.Seq, l4.Ack, len(l4.Payload), l4.SYN, l4.FIN
		o.synAck = l4.SYN && l4.ACK
		fp = fmt.Sprintf("tcp/%d/%d/%d/%v%v%v%v", l4.Seq, l4.Ack, len(l4.Payload), l4.SYN, l4.ACK, l4.FIN, l4.RST)
	case *layers.UDP:
		o.proto, o.sport, o.dport = "udp", int(l4.SrcPort), int(l4.DstPort)
		h.Write(l4.Payload)
		fp = fmt.Sprintf("udp/%x", h.Sum64())
	case *layers.ICMPv6:
		typ, code := int(l4.TypeCode.Type()), int(l4.TypeCode.Code())
		rest := l4.Payload // the message after type, code and checksum
		switch {
		case typ == 135 || typ == 136: // neighbour solicitation, advertisement
			l.nd(where, typ, src, rest, arps)
			return
		case typ >= 130 && typ <= 143: // the link's other messages: not forwarded, not followed
			return
		case typ >= 1 && typ <= 4: // destination unreachable, packet too big, time exceeded, parameter problem
			io := icmpObs{point: where, ts: o.ts, typ: typ, code: code, src: src, dst: dst, v6: true}
			if typ == 2 && len(rest) >= 4 {
				io.mtu = int(binary.BigEndian.Uint32(rest[:4]))
				io.quoted = quotedFlow6(rest[4:])
			}
			*icmps = append(*icmps, io)
			return
		case typ == 128 || typ == 129: // echo request, reply
			if len(rest) < 4 {
				return
			}
			o.proto, o.sport = "icmpv6", int(binary.BigEndian.Uint16(rest[0:2]))
			h.Write(rest[4:])
			fp = fmt.Sprintf("icmpv6/%d/%d/%x", typ, binary.BigEndian.Uint16(rest[2:4]), h.Sum64())
		default:
			return
		}
	default:
		return
	}
	if o.proto == "tcp" && o.plen > 0 {
		*segs = append(*segs, o)
		return
	}
	key := fmt.Sprintf("v6/%d/%s", ip.Length, fp)
	all[key] = append(all[key], o)
}

// nd records a neighbour solicitation (135) or advertisement (136) seen at a point: rest is the
// message after its first four bytes (reserved or flags, the target, options).
func (l *lab) nd(where string, typ int, src netip.Addr, rest []byte, arps *[]arpSeen) {
	if len(rest) < 20 {
		l.errs = append(l.errs, fmt.Errorf("%s: a neighbour discovery message of %d bytes", where, 4+len(rest)))
		return
	}
	target := netip.AddrFrom16([16]byte(rest[4:20]))
	var mac string
	want := byte(1) // source link-layer address option (solicitation)
	if typ == 136 {
		want = 2 // target link-layer address option (advertisement)
	}
	for opts := rest[20:]; len(opts) >= 8 && opts[1] != 0 && int(opts[1])*8 <= len(opts); opts = opts[int(opts[1])*8:] {
		if opts[0] == want && opts[1] == 1 {
			mac = fmtMAC(opts[2:8])
		}
	}
	if typ == 135 {
		*arps = append(*arps, arpSeen{point: where, request: true, senderIP: src, targetIP: target, senderMAC: mac, v6: true})
		return
	}
	if mac == "" && rest[0]&0x40 != 0 { // solicited, without the option (an answer to a unicast solicitation)
		mac = l.frameMAC
	}
	*arps = append(*arps, arpSeen{point: where, senderIP: target, senderMAC: mac, v6: true})
}

// quotedFlow6 is the flow of the packet an ICMPv6 error quotes (q: the invoking packet, as much as the
// error holds), read with gopacket's own layers down to the innermost IP packet (through VXLAN, whose
// port gopacket knows): "proto src sport dst dport", as a Flow's fields print; "" when it names none.
func quotedFlow6(q []byte) string {
	pkt := gopacket.NewPacket(q, layers.LayerTypeIPv6, gopacket.Default)
	var src, dst netip.Addr
	flow := ""
	for _, ly := range pkt.Layers() { // outermost first: the last IP header and transport header win
		switch x := ly.(type) {
		case *layers.IPv6:
			src, _ = netip.AddrFromSlice(x.SrcIP.To16())
			dst, _ = netip.AddrFromSlice(x.DstIP.To16())
		case *layers.IPv4:
			src, _ = netip.AddrFromSlice(x.SrcIP.To4())
			dst, _ = netip.AddrFromSlice(x.DstIP.To4())
		case *layers.TCP:
			flow = fmt.Sprintf("tcp %s %d %s %d", src, x.SrcPort, dst, x.DstPort)
		case *layers.UDP:
			flow = fmt.Sprintf("udp %s %d %s %d", src, x.SrcPort, dst, x.DstPort)
		}
	}
	return flow
}
