package decode

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Shared frame builders for the decoder tests. Every frame is serialised by gopacket with FixLengths
// and ComputeChecksums unless a fixture says it patches bytes afterwards (and why).

// Addresses of a two-node Calico cluster.
var (
	fxPodMAC   = net.HardwareAddr{0x0a, 0x58, 0x0a, 0xf4, 0x01, 0x05}
	fxCaliMAC  = net.HardwareAddr{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}
	fxNodeAMAC = net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	fxNodeBMAC = net.HardwareAddr{0x52, 0x54, 0x00, 0x65, 0x43, 0x21}
	fxVTEPA    = net.HardwareAddr{0x66, 0xb3, 0x68, 0x28, 0x39, 0x8e}
	fxVTEPB    = net.HardwareAddr{0x66, 0x0c, 0x9d, 0x31, 0x77, 0x02}
	fxBcast    = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

	fxPodA   = net.IP{10, 244, 1, 5}
	fxPodB   = net.IP{10, 244, 2, 7}
	fxNodeA  = net.IP{192, 168, 1, 10}
	fxNodeB  = net.IP{192, 168, 1, 11}
	fxGW     = net.IP{169, 254, 1, 1}
	fxTunlA  = net.IP{10, 244, 1, 0}
	fxPod6A  = net.ParseIP("fd00:10:244:1::5")
	fxPod6B  = net.ParseIP("fd00:10:244:2::7")
	fxPayldA = fxBytes(100, 'a')
)

// fxBytes returns n bytes counting up from first.
func fxBytes(n int, first byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = first + byte(i)
	}
	return b
}

// fxSerialize serialises layers with FixLengths and ComputeChecksums.
func fxSerialize(tb testing.TB, ls ...gopacket.SerializableLayer) []byte {
	tb.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		tb.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func fxEth(src, dst net.HardwareAddr, et layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: et}
}

// fxIPv4 returns an IPv4 header with DF set, TTL ttl and identification id.
func fxIPv4(src, dst net.IP, proto layers.IPProtocol, ttl uint8, id uint16) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: ttl, Id: id, Flags: layers.IPv4DontFragment,
		Protocol: proto, SrcIP: src, DstIP: dst}
}

// fxSYN returns a SYN with Linux's option layout: MSS, SACK permitted, timestamps, NOP, window scale.
func fxSYN(ip gopacket.NetworkLayer) *layers.TCP {
	t := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 1000, SYN: true, Window: 64800,
		Options: []layers.TCPOption{
			{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xa0}},
			{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10,
				OptionData: []byte{0, 0, 0x30, 0x39, 0, 0, 0, 0}},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
		}}
	t.SetNetworkLayerForChecksum(ip)
	return t
}

// fxData returns an ACK/PSH data segment with NOP NOP timestamps (12 bytes) and NOP NOP SACK with two
// blocks (20 bytes): a 52-byte TCP header.
func fxData(ip gopacket.NetworkLayer) *layers.TCP {
	t := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 1001, Ack: 5001, ACK: true, PSH: true, Window: 502,
		Options: []layers.TCPOption{
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10,
				OptionData: []byte{0, 0, 0x30, 0x3a, 0, 0, 0x10, 0x00}},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindSACK, OptionLength: 18,
				OptionData: []byte{0, 0, 0x13, 0x89, 0, 0, 0x13, 0x8a, 0, 0, 0x14, 0x00, 0, 0, 0x15, 0x00}},
		}}
	t.SetNetworkLayerForChecksum(ip)
	return t
}

// fxPlainACK returns a bare ACK with no options.
func fxPlainACK(ip gopacket.NetworkLayer) *layers.TCP {
	t := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 1001, Ack: 5001, ACK: true, Window: 502}
	t.SetNetworkLayerForChecksum(ip)
	return t
}

// fxTCPPacket returns IPv4 pod A → pod B with a data segment and payload (no link layer).
func fxTCPPacket(tb testing.TB, ttl uint8, payload []byte) []byte {
	ip := fxIPv4(fxPodA, fxPodB, layers.IPProtocolTCP, ttl, 0x1234)
	return fxSerialize(tb, ip, fxData(ip), gopacket.Payload(payload))
}

// fxIPv4Csum recomputes the IPv4 header checksum of the header at b (after a fixture patched it).
func fxIPv4Csum(b []byte) {
	hl := int(b[0]&0xf) * 4
	b[10], b[11] = 0, 0
	var s uint32
	for i := 0; i < hl; i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	binary.BigEndian.PutUint16(b[10:12], ^uint16(s))
}

// fxFrame is one test frame.
type fxFrame struct {
	name string
	link LinkType
	data []byte
	orig int // length on the wire; 0 means len(data)
}

func (f fxFrame) origLen() int {
	if f.orig == 0 {
		return len(f.data)
	}
	return f.orig
}

// fxFrames builds every fixture frame, keyed by name.
func fxFrames(tb testing.TB) map[string]fxFrame {
	tb.Helper()
	m := map[string]fxFrame{}
	add := func(name string, link LinkType, data []byte, orig int) {
		m[name] = fxFrame{name: name, link: link, data: data, orig: orig}
	}

	// Pod A's SYN on caliA: pod MAC → ee:ee:ee:ee:ee:ee.
	{
		ip := fxIPv4(fxPodA, fxPodB, layers.IPProtocolTCP, 64, 0x1234)
		add("eth-tcp-syn", LinkEthernet, fxSerialize(tb, fxEth(fxPodMAC, fxCaliMAC, layers.EthernetTypeIPv4), ip, fxSYN(ip)), 0)
	}
	// A data segment with timestamps and SACK blocks.
	{
		ip := fxIPv4(fxPodA, fxPodB, layers.IPProtocolTCP, 64, 0x1235)
		add("eth-tcp-data", LinkEthernet, fxSerialize(tb, fxEth(fxPodMAC, fxCaliMAC, layers.EthernetTypeIPv4), ip, fxData(ip), gopacket.Payload(fxPayldA)), 0)
	}
	// DNS-like UDP, no DF.
	{
		ip := fxIPv4(fxPodA, net.IP{10, 96, 0, 10}, layers.IPProtocolUDP, 64, 0x2000)
		ip.Flags = 0
		u := &layers.UDP{SrcPort: 53000, DstPort: 53}
		u.SetNetworkLayerForChecksum(ip)
		add("eth-udp", LinkEthernet, fxSerialize(tb, fxEth(fxPodMAC, fxCaliMAC, layers.EthernetTypeIPv4), ip, u, gopacket.Payload("hello calipath")), 0)
	}
	// ICMP echo request, 56 data bytes as ping sends.
	{
		ip := fxIPv4(fxPodA, fxPodB, layers.IPProtocolICMPv4, 64, 0x3000)
		ic := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 0x77, Seq: 3}
		add("eth-icmp-echo", LinkEthernet, fxSerialize(tb, fxEth(fxPodMAC, fxCaliMAC, layers.EthernetTypeIPv4), ip, ic, gopacket.Payload(fxBytes(56, 0))), 0)
	}
	// 802.1Q VLAN 100.
	{
		ip := fxIPv4(fxNodeA, fxNodeB, layers.IPProtocolTCP, 64, 0x4000)
		add("vlan-tcp", LinkEthernet, fxSerialize(tb, fxEth(fxNodeAMAC, fxNodeBMAC, layers.EthernetTypeDot1Q),
			&layers.Dot1Q{Priority: 3, VLANIdentifier: 100, Type: layers.EthernetTypeIPv4}, ip, fxPlainACK(ip)), 0)
	}
	// QinQ: 802.1ad S-tag 200, then C-tag 100.
	{
		ip := fxIPv4(fxNodeA, fxNodeB, layers.IPProtocolTCP, 64, 0x4001)
		add("qinq-tcp", LinkEthernet, fxSerialize(tb, fxEth(fxNodeAMAC, fxNodeBMAC, layers.EthernetTypeQinQ),
			&layers.Dot1Q{VLANIdentifier: 200, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeIPv4}, ip, fxPlainACK(ip)), 0)
	}
	// tunl0 (LINKTYPE_RAW): the inner packet after routing, TTL 63.
	add("raw-tcp", LinkRaw, fxTCPPacket(tb, 63, fxPayldA), 0)
	// tcpdump -i any before 4.99: Linux cooked v1, packet type 4 (outgoing) on eth0.
	//
	//	0000  00 04 00 01 00 06 52 54  00 12 34 56 00 00 08 00  ......RT..4V....
	//	0010  45 ...                                            (IPv4 packet)
	{
		hdr := []byte{0x00, 0x04, 0x00, 0x01, 0x00, 0x06, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x00, 0x00, 0x08, 0x00}
		add("sll-tcp", LinkLinuxSLL, append(hdr, fxTCPPacket(tb, 63, fxPayldA)...), 0)
	}
	// tcpdump -i any since 4.99: Linux cooked v2, interface index 7 (tunl0: ARPHRD_TUNNEL 768), packet
	// type 4, no address.
	//
	//	0000  08 00 00 00 00 00 00 07  03 00 04 00 00 00 00 00  ................
	//	0010  00 00 00 00 45 ...                                (IPv4 packet)
	{
		hdr := []byte{0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x03, 0x00, 0x04, 0x00,
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}
		add("sll2-tcp", LinkSLL2, append(hdr, fxTCPPacket(tb, 63, fxPayldA)...), 0)
	}
	// Linux cooked v2 on a cali interface (index 12, ARPHRD_ETHER), incoming from the pod (type 0),
	// carrying the pod's ARP request.
	//
	//	0000  08 06 00 00 00 00 00 0c  00 01 00 06 0a 58 0a f4  .............X..
	//	0010  01 05 00 00 00 01 08 00  06 04 00 01 ...          (ARP request)
	{
		hdr := []byte{0x08, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x06,
			0x0a, 0x58, 0x0a, 0xf4, 0x01, 0x05, 0x00, 0x00}
		arp := fxSerialize(tb, fxARP(1, fxPodMAC, fxPodA, net.HardwareAddr{0, 0, 0, 0, 0, 0}, fxGW))
		add("sll2-arp", LinkSLL2, append(hdr, arp...), 0)
	}
	// IP-in-IP on eth0: outer node A → node B, protocol 4, TTL and DF copied from the inner packet.
	{
		outer := fxIPv4(fxNodeA, fxNodeB, layers.IPProtocolIPv4, 63, 0x5000)
		inner := fxIPv4(fxPodA, fxPodB, layers.IPProtocolTCP, 63, 0x1234)
		add("ipip-tcp", LinkEthernet, fxSerialize(tb, fxEth(fxNodeAMAC, fxNodeBMAC, layers.EthernetTypeIPv4),
			outer, inner, fxData(inner), gopacket.Payload(fxPayldA)), 0)
	}
	// VXLAN on eth0: outer UDP 4789 with checksum 0 (as Calico sends it), VNI 4096, VTEP MACs.
	// gopacket computes the outer UDP checksum; the fixture zeroes it afterwards.
	{
		add("vxlan-tcp", LinkEthernet, fxVXLAN(tb, 4789, 0), 0)
		add("vxlan-badcsum", LinkEthernet, fxVXLAN(tb, 4789, 0xbeef), 0)
		add("vxlan-port8472", LinkEthernet, fxVXLAN(tb, 8472, 0), 0)
	}
	// Proxy ARP: the pod asks for 169.254.1.1, the host answers from ee:ee:ee:ee:ee:ee. gopacket's
	// Ethernet pads both to 60 bytes.
	add("arp-request", LinkEthernet, fxSerialize(tb, fxEth(fxPodMAC, fxBcast, layers.EthernetTypeARP),
		fxARP(1, fxPodMAC, fxPodA, net.HardwareAddr{0, 0, 0, 0, 0, 0}, fxGW)), 0)
	add("arp-reply", LinkEthernet, fxSerialize(tb, fxEth(fxCaliMAC, fxPodMAC, layers.EthernetTypeARP),
		fxARP(2, fxCaliMAC, fxGW, fxPodMAC, fxPodA)), 0)
	// ICMP fragmentation needed (3/4, MTU 1480) from node A's tunl0 address to pod A, quoting the
	// first 28 bytes of the 1500-byte DF segment that did not fit.
	{
		big := fxTCPPacket(tb, 64, fxBytes(1500-20-52, 0))
		ip := fxIPv4(fxTunlA, fxPodA, layers.IPProtocolICMPv4, 64, 0x6000)
		ip.Flags = 0
		ip.TOS = 0xc0
		ic := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 4), Seq: 1480}
		add("icmp-fragneeded-tcp", LinkEthernet, fxSerialize(tb, fxEth(fxCaliMAC, fxPodMAC, layers.EthernetTypeIPv4),
			ip, ic, gopacket.Payload(big[:28])), 0)
	}
	// ICMP fragmentation needed from a router on the underlay to node A, quoting the IP-in-IP outer
	// header, the inner header and 8 bytes of the inner TCP header (48 bytes, as Linux quotes more).
	{
		outer := fxIPv4(fxNodeA, fxNodeB, layers.IPProtocolIPv4, 63, 0x5001)
		inner := fxIPv4(fxPodA, fxPodB, layers.IPProtocolTCP, 63, 0x1236)
		quoted := fxSerialize(tb, outer, inner, fxData(inner), gopacket.Payload(fxBytes(1400, 0)))
		ip := fxIPv4(net.IP{192, 168, 1, 1}, fxNodeA, layers.IPProtocolICMPv4, 255, 0x6001)
		ip.Flags = 0
		ic := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 4), Seq: 1400}
		add("icmp-fragneeded-ipip", LinkEthernet, fxSerialize(tb, fxEth(fxNodeBMAC, fxNodeAMAC, layers.EthernetTypeIPv4),
			ip, ic, gopacket.Payload(quoted[:48])), 0)
	}
	// IPv6 TCP SYN and ICMPv6 echo request between pods.
	{
		ip6 := &layers.IPv6{Version: 6, TrafficClass: 0x28, FlowLabel: 0xabcde, NextHeader: layers.IPProtocolTCP,
			HopLimit: 64, SrcIP: fxPod6A, DstIP: fxPod6B}
		add("eth-ipv6-tcp", LinkEthernet, fxSerialize(tb, fxEth(fxPodMAC, fxCaliMAC, layers.EthernetTypeIPv6), ip6, fxSYN(ip6)), 0)
	}
	{
		ip6 := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolICMPv6, HopLimit: 64, SrcIP: fxPod6A, DstIP: fxPod6B}
		ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}
		ic.SetNetworkLayerForChecksum(ip6)
		add("eth-icmpv6-echo", LinkEthernet, fxSerialize(tb, fxEth(fxPodMAC, fxCaliMAC, layers.EthernetTypeIPv6),
			ip6, ic, &layers.ICMPv6Echo{Identifier: 0x99, SeqNumber: 4}, gopacket.Payload(fxBytes(16, 0))), 0)
	}
	// The first fragment of an IPv6 UDP datagram behind a hop-by-hop header (PadN), built by hand:
	// gopacket cannot serialise the fragment header. Payload length 32 = 8 (hop-by-hop) + 8 (fragment,
	// M set, id 0xdeadbeef) + 8 (UDP 5353 → 5353, length 1008) + 8 data bytes.
	//
	//	0000  60 00 00 00 00 20 00 40  fd 00 00 10 02 44 00 01  `.... .@.....D..
	//	0010  00 00 00 00 00 00 00 05  fd 00 00 10 02 44 00 02  .............D..
	//	0020  00 00 00 00 00 00 00 07  2c 00 01 04 00 00 00 00  ........,.......
	//	0030  11 00 00 01 de ad be ef  14 e9 14 e9 03 f0 12 34  ...............4
	//	0040  00 01 02 03 04 05 06 07                           ........
	{
		v6 := []byte{
			0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x40, 0xfd, 0x00, 0x00, 0x10, 0x02, 0x44, 0x00, 0x01,
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0xfd, 0x00, 0x00, 0x10, 0x02, 0x44, 0x00, 0x02,
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x2c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
			0x11, 0x00, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef, 0x14, 0xe9, 0x14, 0xe9, 0x03, 0xf0, 0x12, 0x34,
			0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
		}
		eth := fxSerialize(tb, fxEth(fxPodMAC, fxCaliMAC, layers.EthernetTypeIPv6))
		add("ipv6-hbh-frag-udp", LinkEthernet, append(eth[:14:14], v6...), 0)
	}
	// ICMPv6 packet too big (MTU 1280) from a router to pod A, quoting the first 48 bytes of a
	// 1492-byte IPv6 TCP segment.
	{
		q6 := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolTCP, HopLimit: 64, SrcIP: fxPod6A, DstIP: fxPod6B}
		quoted := fxSerialize(tb, q6, fxData(q6), gopacket.Payload(fxBytes(1400, 0)))
		ip6 := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolICMPv6, HopLimit: 64,
			SrcIP: net.ParseIP("fd00:10:244:1::1"), DstIP: fxPod6A}
		ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(2, 0)}
		ic.SetNetworkLayerForChecksum(ip6)
		add("icmpv6-toobig", LinkEthernet, fxSerialize(tb, fxEth(fxCaliMAC, fxPodMAC, layers.EthernetTypeIPv6),
			ip6, ic, gopacket.Payload(append([]byte{0, 0, 0x05, 0x00}, quoted[:48]...))), 0)
	}
	// VXLAN over IPv6 (vxlan-v6.calico): outer UDP 4789 with a correct checksum, inner IPv6 TCP.
	{
		outer := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolUDP, HopLimit: 64,
			SrcIP: net.ParseIP("fd00:192:168:1::a"), DstIP: net.ParseIP("fd00:192:168:1::b")}
		u := &layers.UDP{SrcPort: 40001, DstPort: 4789}
		u.SetNetworkLayerForChecksum(outer)
		inner := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolTCP, HopLimit: 63, SrcIP: fxPod6A, DstIP: fxPod6B}
		add("vxlan6-tcp", LinkEthernet, fxSerialize(tb, fxEth(fxNodeAMAC, fxNodeBMAC, layers.EthernetTypeIPv6), outer, u,
			&layers.VXLAN{ValidIDFlag: true, VNI: 4096}, fxEth(fxVTEPA, fxVTEPB, layers.EthernetTypeIPv6),
			inner, fxData(inner), gopacket.Payload(fxPayldA)), 0)
	}
	// IPv4 fragments of a 2000-byte UDP datagram: the first (MF, offset 0, UDP header present) and the
	// second (offset 1480). gopacket cannot fragment: the first is serialised whole and cut, its total
	// length and checksum patched; the second is built by hand from the remaining bytes.
	{
		ip := fxIPv4(fxPodA, fxPodB, layers.IPProtocolUDP, 64, 0x7000)
		ip.Flags = 0
		u := &layers.UDP{SrcPort: 5000, DstPort: 6000}
		u.SetNetworkLayerForChecksum(ip)
		whole := fxSerialize(tb, fxEth(fxPodMAC, fxCaliMAC, layers.EthernetTypeIPv4), ip, u, gopacket.Payload(fxBytes(1992, 0)))
		first := append([]byte(nil), whole[:14+1500]...)
		binary.BigEndian.PutUint16(first[14+2:], 1500)
		binary.BigEndian.PutUint16(first[14+6:], 0x2000) // MF, offset 0
		fxIPv4Csum(first[14:])
		add("ipv4-frag-first", LinkEthernet, first, 0)
		second := append([]byte(nil), whole[:14+20]...)
		second = append(second, whole[14+1500:]...)
		binary.BigEndian.PutUint16(second[14+2:], uint16(20+len(whole)-14-1500))
		binary.BigEndian.PutUint16(second[14+6:], 1480/8) // offset 1480, last fragment
		fxIPv4Csum(second[14:])
		add("ipv4-frag-second", LinkEthernet, second, 0)
	}
	// A 1166-byte frame cut by a 96-byte snaplen.
	{
		ip := fxIPv4(fxPodA, fxPodB, layers.IPProtocolTCP, 64, 0x1237)
		whole := fxSerialize(tb, fxEth(fxPodMAC, fxCaliMAC, layers.EthernetTypeIPv4), ip, fxData(ip), gopacket.Payload(fxBytes(1080, 0)))
		add("snapped", LinkEthernet, whole[:96], len(whole))
	}
	// GSO super-frames: 3000 bytes of TCP payload in one frame, first with a correct IPv4 total length,
	// then with total length 0 (the IPv4 checksum recomputed over the zero).
	{
		ip := fxIPv4(fxPodA, fxPodB, layers.IPProtocolTCP, 64, 0x1238)
		big := fxSerialize(tb, fxEth(fxPodMAC, fxCaliMAC, layers.EthernetTypeIPv4), ip, fxData(ip), gopacket.Payload(fxBytes(3000, 0)))
		add("gso-oversized", LinkEthernet, big, 0)
		zero := append([]byte(nil), big...)
		binary.BigEndian.PutUint16(zero[14+2:], 0)
		fxIPv4Csum(zero[14:])
		add("gso-totallen0", LinkEthernet, zero, 0)
	}
	// A wrong IPv4 header checksum, and a wrong TCP checksum (each flipped after serialising).
	{
		f := append([]byte(nil), m["eth-tcp-data"].data...)
		f[14+10] ^= 0x5a
		add("bad-ip-csum", LinkEthernet, f, 0)
		g := append([]byte(nil), m["eth-tcp-data"].data...)
		g[14+20+16] ^= 0x5a
		add("bad-tcp-csum", LinkEthernet, g, 0)
	}
	// TX offload: the TCP checksum field holds the folded pseudo-header sum (CHECKSUM_PARTIAL).
	{
		f := append([]byte(nil), m["eth-tcp-data"].data...)
		seg := len(f) - 34
		binary.BigEndian.PutUint16(f[14+20+16:], fxPseudo(f[14+12:14+16], f[14+16:14+20], 6, seg))
		add("tx-offload", LinkEthernet, f, 0)
	}
	return m
}

// fxPseudo returns the folded (not complemented) IPv4 pseudo-header sum.
func fxPseudo(src, dst []byte, proto uint8, n int) uint16 {
	s := uint32(proto) + uint32(n)
	for i := 0; i < 4; i += 2 {
		s += uint32(src[i])<<8 | uint32(src[i+1])
		s += uint32(dst[i])<<8 | uint32(dst[i+1])
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

func fxARP(op uint16, sha net.HardwareAddr, spa net.IP, tha net.HardwareAddr, tpa net.IP) *layers.ARP {
	return &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: op,
		SourceHwAddress: sha, SourceProtAddress: spa, DstHwAddress: tha, DstProtAddress: tpa}
}

// fxVXLAN builds pod A → pod B TCP inside VXLAN VNI 4096 to UDP port dport, outer UDP checksum
// field set to csum after serialising (0: none, as Calico sends; anything else is wrong).
func fxVXLAN(tb testing.TB, dport layers.UDPPort, csum uint16) []byte {
	outer := fxIPv4(fxNodeA, fxNodeB, layers.IPProtocolUDP, 64, 0x5100)
	outer.Flags = 0
	u := &layers.UDP{SrcPort: 54321, DstPort: dport}
	u.SetNetworkLayerForChecksum(outer)
	inner := fxIPv4(fxPodA, fxPodB, layers.IPProtocolTCP, 63, 0x1234)
	f := fxSerialize(tb, fxEth(fxNodeAMAC, fxNodeBMAC, layers.EthernetTypeIPv4), outer, u,
		&layers.VXLAN{ValidIDFlag: true, VNI: 4096},
		fxEth(fxVTEPA, fxVTEPB, layers.EthernetTypeIPv4), inner, fxData(inner), gopacket.Payload(fxPayldA))
	binary.BigEndian.PutUint16(f[14+20+6:], csum)
	return f
}
