package decode

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// slowCmp compares Packets field by field. Payload aliases the frame and is checked by length; the
// raw checksum fields are checked against the frame bytes in TestDecodeSlowRawChecksums.
var slowCmp = []cmp.Option{
	cmpopts.IgnoreFields(Packet{}, "Payload", "OuterUCsm", "UDPChecksum"),
	cmpopts.IgnoreFields(IPHdr{}, "Checksum"),
	cmpopts.IgnoreFields(TCP{}, "Checksum"),
	cmpopts.IgnoreFields(ICMP{}, "Checksum"),
}

func a4(ip net.IP) (a [16]byte) {
	copy(a[:4], ip.To4())
	return a
}

func a16(ip net.IP) (a [16]byte) {
	copy(a[:], ip.To16())
	return a
}

func m6(hw net.HardwareAddr) (m [6]byte) {
	copy(m[:], hw)
	return m
}

// hdr4 is an IPv4 header with a 20-byte header and a correct checksum.
func hdr4(src, dst net.IP, proto, ttl uint8, id uint16, df bool, total uint16, capLen int) IPHdr {
	return IPHdr{Version: 4, Src: a4(src), Dst: a4(dst), Proto: proto, TTL: ttl, HdrLen: 20, TotalLen: total,
		ID: uint32(id), DF: df, CsumOK: true, CapLen: capLen}
}

// dataTCP is what fxData decodes to.
var dataTCP = TCP{Seq: 1001, Ack: 5001, Flags: TCPAck | TCPPsh, HdrLen: 52, Window: 502, WScale: 0xff,
	SACKBlocks: 2, HasTS: true, TSVal: 12346, TSEcr: 4096}

// synTCP is what fxSYN decodes to.
var synTCP = TCP{Seq: 1000, Flags: TCPSyn, HdrLen: 40, Window: 64800, MSS: 1440, WScale: 7, SACKPerm: true,
	HasTS: true, TSVal: 12345}

// ackTCP is what fxPlainACK decodes to.
var ackTCP = TCP{Seq: 1001, Ack: 5001, Flags: TCPAck, HdrLen: 20, Window: 502, WScale: 0xff}

// ethData is eth-tcp-data: 14 + 20 + 52 + 100 bytes.
func ethData() Packet {
	return Packet{LinkType: LinkEthernet, CapLen: 186, OrigLen: 186, HasEth: true,
		SrcMAC: m6(fxPodMAC), DstMAC: m6(fxCaliMAC), EtherType: 0x0800,
		Inner: hdr4(fxPodA, fxPodB, 6, 64, 0x1235, true, 172, 172),
		Sport: 40000, Dport: 80, HasTCP: true, TCP: dataTCP, PayloadLen: 100, Checksum: CsumOK}
}

type slowCase struct {
	name    string
	port    uint16
	want    Packet
	payload int // captured payload bytes
}

func slowCases() []slowCase {
	dataAt := func(p Packet) Packet { return p }
	var cs []slowCase
	add := func(name string, payload int, want Packet) {
		cs = append(cs, slowCase{name: name, want: want, payload: payload})
	}

	add("eth-tcp-syn", 0, Packet{LinkType: LinkEthernet, CapLen: 74, OrigLen: 74, HasEth: true,
		SrcMAC: m6(fxPodMAC), DstMAC: m6(fxCaliMAC), EtherType: 0x0800,
		Inner: hdr4(fxPodA, fxPodB, 6, 64, 0x1234, true, 60, 60),
		Sport: 40000, Dport: 80, HasTCP: true, TCP: synTCP, Checksum: CsumOK})
	add("eth-tcp-data", 100, ethData())
	add("eth-udp", 14, Packet{LinkType: LinkEthernet, CapLen: 60, OrigLen: 60, HasEth: true,
		SrcMAC: m6(fxPodMAC), DstMAC: m6(fxCaliMAC), EtherType: 0x0800,
		Inner: hdr4(fxPodA, net.IP{10, 96, 0, 10}, 17, 64, 0x2000, false, 42, 46),
		Sport: 53000, Dport: 53, HasUDP: true, UDPLen: 22, PayloadLen: 14, Checksum: CsumOK})
	add("eth-icmp-echo", 56, Packet{LinkType: LinkEthernet, CapLen: 98, OrigLen: 98, HasEth: true,
		SrcMAC: m6(fxPodMAC), DstMAC: m6(fxCaliMAC), EtherType: 0x0800,
		Inner:   hdr4(fxPodA, fxPodB, 1, 64, 0x3000, true, 84, 84),
		HasICMP: true, ICMP: ICMP{Type: 8, ID: 0x77, Seq: 3}, PayloadLen: 56, Checksum: CsumOK})
	add("vlan-tcp", 0, Packet{LinkType: LinkEthernet, CapLen: 60, OrigLen: 60, HasEth: true,
		SrcMAC: m6(fxNodeAMAC), DstMAC: m6(fxNodeBMAC), EtherType: 0x0800, VLANs: [2]uint16{100}, NVLAN: 1,
		Inner: hdr4(fxNodeA, fxNodeB, 6, 64, 0x4000, true, 40, 42),
		Sport: 40000, Dport: 80, HasTCP: true, TCP: ackTCP, Checksum: CsumOK})
	add("qinq-tcp", 0, Packet{LinkType: LinkEthernet, CapLen: 62, OrigLen: 62, HasEth: true,
		SrcMAC: m6(fxNodeAMAC), DstMAC: m6(fxNodeBMAC), EtherType: 0x0800, VLANs: [2]uint16{200, 100}, NVLAN: 2,
		Inner: hdr4(fxNodeA, fxNodeB, 6, 64, 0x4001, true, 40, 40),
		Sport: 40000, Dport: 80, HasTCP: true, TCP: ackTCP, Checksum: CsumOK})
	raw := Packet{LinkType: LinkRaw, CapLen: 172, OrigLen: 172,
		Inner: hdr4(fxPodA, fxPodB, 6, 63, 0x1234, true, 172, 172),
		Sport: 40000, Dport: 80, HasTCP: true, TCP: dataTCP, PayloadLen: 100, Checksum: CsumOK}
	add("raw-tcp", 100, raw)
	sll := dataAt(raw)
	sll.LinkType, sll.CapLen, sll.OrigLen = LinkLinuxSLL, 188, 188
	sll.HasSLL, sll.PktType, sll.SLLAlen = true, 4, 6
	sll.SLLAddr = [8]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	add("sll-tcp", 100, sll)
	sll2 := dataAt(raw)
	sll2.LinkType, sll2.CapLen, sll2.OrigLen = LinkSLL2, 192, 192
	sll2.HasSLL, sll2.PktType, sll2.IfIndex = true, 4, 7
	add("sll2-tcp", 100, sll2)
	add("sll2-arp", 0, Packet{LinkType: LinkSLL2, CapLen: 48, OrigLen: 48, HasSLL: true, IfIndex: 12,
		SLLAlen: 6, SLLAddr: [8]byte{0x0a, 0x58, 0x0a, 0xf4, 0x01, 0x05},
		HasARP: true, ARP: ARP{Op: 1, SHA: m6(fxPodMAC), SPA: [4]byte{10, 244, 1, 5}, TPA: [4]byte{169, 254, 1, 1}},
		Checksum: CsumNone})
	add("ipip-tcp", 100, Packet{LinkType: LinkEthernet, CapLen: 206, OrigLen: 206, HasEth: true,
		SrcMAC: m6(fxNodeAMAC), DstMAC: m6(fxNodeBMAC), EtherType: 0x0800,
		Encap: EncapIPIP, Outer: hdr4(fxNodeA, fxNodeB, 4, 63, 0x5000, true, 192, 192),
		Inner: hdr4(fxPodA, fxPodB, 6, 63, 0x1234, true, 172, 172),
		Sport: 40000, Dport: 80, HasTCP: true, TCP: dataTCP, PayloadLen: 100, Checksum: CsumOK})
	vx := Packet{LinkType: LinkEthernet, CapLen: 236, OrigLen: 236, HasEth: true,
		SrcMAC: m6(fxNodeAMAC), DstMAC: m6(fxNodeBMAC), EtherType: 0x0800,
		Encap: EncapVXLAN, Outer: hdr4(fxNodeA, fxNodeB, 17, 64, 0x5100, false, 222, 222),
		OuterSprt: 54321, OuterDprt: 4789, VNI: 4096, InnerSrcMAC: m6(fxVTEPA), InnerDstMAC: m6(fxVTEPB),
		Inner: hdr4(fxPodA, fxPodB, 6, 63, 0x1234, true, 172, 172),
		Sport: 40000, Dport: 80, HasTCP: true, TCP: dataTCP, PayloadLen: 100, Checksum: CsumOK}
	add("vxlan-tcp", 100, vx)
	bad := vx
	bad.Errs, bad.Checksum = ErrBadOuterUDPChecksum, CsumBad
	add("vxlan-badcsum", 100, bad)
	// UDP 8472 (flannel's port) is VXLAN only when asked for.
	p8472 := vx
	p8472.OuterDprt = 8472
	cs = append(cs, slowCase{name: "vxlan-port8472", port: 8472, want: p8472, payload: 100})
	add("vxlan-port8472", 194, Packet{LinkType: LinkEthernet, CapLen: 236, OrigLen: 236, HasEth: true,
		SrcMAC: m6(fxNodeAMAC), DstMAC: m6(fxNodeBMAC), EtherType: 0x0800,
		Inner: hdr4(fxNodeA, fxNodeB, 17, 64, 0x5100, false, 222, 222),
		Sport: 54321, Dport: 8472, HasUDP: true, UDPLen: 202, PayloadLen: 194, Checksum: CsumOK})
	add("arp-request", 0, Packet{LinkType: LinkEthernet, CapLen: 60, OrigLen: 60, HasEth: true,
		SrcMAC: m6(fxPodMAC), DstMAC: m6(fxBcast), EtherType: 0x0806,
		HasARP: true, ARP: ARP{Op: 1, SHA: m6(fxPodMAC), SPA: [4]byte{10, 244, 1, 5}, TPA: [4]byte{169, 254, 1, 1}},
		Checksum: CsumNone})
	add("arp-reply", 0, Packet{LinkType: LinkEthernet, CapLen: 60, OrigLen: 60, HasEth: true,
		SrcMAC: m6(fxCaliMAC), DstMAC: m6(fxPodMAC), EtherType: 0x0806,
		HasARP: true, ARP: ARP{Op: 2, SHA: m6(fxCaliMAC), SPA: [4]byte{169, 254, 1, 1}, THA: m6(fxPodMAC),
			TPA: [4]byte{10, 244, 1, 5}},
		Checksum: CsumNone})
	icmpIn := hdr4(fxTunlA, fxPodA, 1, 64, 0x6000, false, 56, 56)
	icmpIn.TOS = 0xc0
	q := hdr4(fxPodA, fxPodB, 6, 64, 0x1234, true, 1500, 28)
	add("icmp-fragneeded-tcp", 28, Packet{LinkType: LinkEthernet, CapLen: 70, OrigLen: 70, HasEth: true,
		SrcMAC: m6(fxCaliMAC), DstMAC: m6(fxPodMAC), EtherType: 0x0800, Inner: icmpIn,
		HasICMP: true, ICMP: ICMP{Type: 3, Code: 4, MTU: 1480, Quoted: q, QSport: 40000, QDport: 80, QSeq: 1001,
			QOff: 20, HasQuote: true},
		PayloadLen: 28, Checksum: CsumOK})
	add("icmp-fragneeded-ipip", 48, Packet{LinkType: LinkEthernet, CapLen: 90, OrigLen: 90, HasEth: true,
		SrcMAC: m6(fxNodeBMAC), DstMAC: m6(fxNodeAMAC), EtherType: 0x0800,
		Inner:   hdr4(net.IP{192, 168, 1, 1}, fxNodeA, 1, 255, 0x6001, false, 76, 76),
		HasICMP: true, ICMP: ICMP{Type: 3, Code: 4, MTU: 1400,
			Quoted:      hdr4(fxNodeA, fxNodeB, 4, 63, 0x5001, true, 1492, 48),
			QuotedInner: hdr4(fxPodA, fxPodB, 6, 63, 0x1236, true, 1472, 28),
			QSport:      40000, QDport: 80, QSeq: 1001, QOff: 40, HasQuote: true},
		PayloadLen: 48, Checksum: CsumOK})
	add("eth-ipv6-tcp", 0, Packet{LinkType: LinkEthernet, CapLen: 94, OrigLen: 94, HasEth: true,
		SrcMAC: m6(fxPodMAC), DstMAC: m6(fxCaliMAC), EtherType: 0x86dd,
		Inner: IPHdr{Version: 6, Src: a16(fxPod6A), Dst: a16(fxPod6B), Proto: 6, TTL: 64, TOS: 0x28, HdrLen: 40,
			TotalLen: 80, FlowLbl: 0xabcde, CapLen: 80},
		Sport: 40000, Dport: 80, HasTCP: true, TCP: synTCP, Checksum: CsumOK})
	add("eth-icmpv6-echo", 16, Packet{LinkType: LinkEthernet, CapLen: 78, OrigLen: 78, HasEth: true,
		SrcMAC: m6(fxPodMAC), DstMAC: m6(fxCaliMAC), EtherType: 0x86dd,
		Inner: IPHdr{Version: 6, Src: a16(fxPod6A), Dst: a16(fxPod6B), Proto: 58, TTL: 64, HdrLen: 40,
			TotalLen: 64, CapLen: 64},
		HasICMP: true, ICMP: ICMP{Type: 128, ID: 0x99, Seq: 4}, PayloadLen: 16, Checksum: CsumOK})
	add("ipv6-hbh-frag-udp", 8, Packet{LinkType: LinkEthernet, CapLen: 86, OrigLen: 86, HasEth: true,
		SrcMAC: m6(fxPodMAC), DstMAC: m6(fxCaliMAC), EtherType: 0x86dd,
		Inner: IPHdr{Version: 6, Src: a16(fxPod6A), Dst: a16(fxPod6B), Proto: 17, TTL: 64, HdrLen: 56,
			TotalLen: 72, ID: 0xdeadbeef, MF: true, CapLen: 72},
		Sport: 5353, Dport: 5353, HasUDP: true, UDPLen: 1008, PayloadLen: 8, Checksum: CsumUnverifiable})
	add("icmpv6-toobig", 48, Packet{LinkType: LinkEthernet, CapLen: 110, OrigLen: 110, HasEth: true,
		SrcMAC: m6(fxCaliMAC), DstMAC: m6(fxPodMAC), EtherType: 0x86dd,
		Inner: IPHdr{Version: 6, Src: a16(net.ParseIP("fd00:10:244:1::1")), Dst: a16(fxPod6A), Proto: 58, TTL: 64,
			HdrLen: 40, TotalLen: 96, CapLen: 96},
		HasICMP: true, ICMP: ICMP{Type: 2, MTU: 1280,
			Quoted: IPHdr{Version: 6, Src: a16(fxPod6A), Dst: a16(fxPod6B), Proto: 6, TTL: 64, HdrLen: 40,
				TotalLen: 1492, CapLen: 48},
			QSport: 40000, QDport: 80, QSeq: 1001, QOff: 40, HasQuote: true},
		PayloadLen: 48, Checksum: CsumOK})
	add("vxlan6-tcp", 100, Packet{LinkType: LinkEthernet, CapLen: 276, OrigLen: 276, HasEth: true,
		SrcMAC: m6(fxNodeAMAC), DstMAC: m6(fxNodeBMAC), EtherType: 0x86dd,
		Encap: EncapVXLAN, Outer: IPHdr{Version: 6, Src: a16(net.ParseIP("fd00:192:168:1::a")),
			Dst: a16(net.ParseIP("fd00:192:168:1::b")), Proto: 17, TTL: 64, HdrLen: 40, TotalLen: 262, CapLen: 262},
		OuterSprt: 40001, OuterDprt: 4789, VNI: 4096, InnerSrcMAC: m6(fxVTEPA), InnerDstMAC: m6(fxVTEPB),
		Inner: IPHdr{Version: 6, Src: a16(fxPod6A), Dst: a16(fxPod6B), Proto: 6, TTL: 63, HdrLen: 40,
			TotalLen: 192, CapLen: 192},
		Sport: 40000, Dport: 80, HasTCP: true, TCP: dataTCP, PayloadLen: 100, Checksum: CsumOK})
	f1 := hdr4(fxPodA, fxPodB, 17, 64, 0x7000, false, 1500, 1500)
	f1.MF = true
	add("ipv4-frag-first", 1472, Packet{LinkType: LinkEthernet, CapLen: 1514, OrigLen: 1514, HasEth: true,
		SrcMAC: m6(fxPodMAC), DstMAC: m6(fxCaliMAC), EtherType: 0x0800, Inner: f1,
		Sport: 5000, Dport: 6000, HasUDP: true, UDPLen: 2000, PayloadLen: 1472, Checksum: CsumUnverifiable})
	f2 := hdr4(fxPodA, fxPodB, 17, 64, 0x7000, false, 540, 540)
	f2.FragOff = 1480
	add("ipv4-frag-second", 520, Packet{LinkType: LinkEthernet, CapLen: 554, OrigLen: 554, HasEth: true,
		SrcMAC: m6(fxPodMAC), DstMAC: m6(fxCaliMAC), EtherType: 0x0800, Inner: f2,
		PayloadLen: 520, Checksum: CsumUnverifiable})
	snap := ethData()
	snap.CapLen, snap.OrigLen = 96, 1166
	snap.Inner = hdr4(fxPodA, fxPodB, 6, 64, 0x1237, true, 1152, 82)
	snap.PayloadLen, snap.Checksum, snap.Errs = 1080, CsumUnverifiable, ErrSnapped
	add("snapped", 10, snap)
	gso := ethData()
	gso.CapLen, gso.OrigLen = 3086, 3086
	gso.Inner = hdr4(fxPodA, fxPodB, 6, 64, 0x1238, true, 3072, 3072)
	gso.PayloadLen, gso.Checksum, gso.GSO = 3000, CsumUnverifiable, true
	add("gso-oversized", 3000, gso)
	gso0 := gso
	gso0.Inner.TotalLen = 0
	add("gso-totallen0", 3000, gso0)
	badIP := ethData()
	badIP.Inner.CsumOK, badIP.Errs, badIP.Checksum = false, ErrBadIPChecksum, CsumBad
	add("bad-ip-csum", 100, badIP)
	badTCP := ethData()
	badTCP.Errs, badTCP.Checksum = ErrBadL4Checksum, CsumBad
	add("bad-tcp-csum", 100, badTCP)
	off := ethData()
	off.Checksum = CsumUnverifiable
	add("tx-offload", 100, off)
	return cs
}

func TestDecodeSlowFixtures(t *testing.T) {
	frames := fxFrames(t)
	seen := map[string]bool{}
	for _, c := range slowCases() {
		seen[c.name] = true
		f, ok := frames[c.name]
		if !ok {
			t.Fatalf("no fixture %q", c.name)
		}
		var p Packet
		DecodeSlow(f.link, f.data, f.origLen(), c.port, &p)
		if d := cmp.Diff(c.want, p, slowCmp...); d != "" {
			t.Errorf("%s (port %d): packet mismatch (-want +got):\n%s", c.name, c.port, d)
		}
		if len(p.Payload) != c.payload {
			t.Errorf("%s: %d payload bytes, want %d", c.name, len(p.Payload), c.payload)
		}
	}
	for name := range frames {
		if !seen[name] {
			t.Errorf("fixture %q has no expected packet", name)
		}
	}
}

// TestDecodeSlowRawChecksums checks that the checksum fields hold the bytes as captured.
func TestDecodeSlowRawChecksums(t *testing.T) {
	f := fxFrames(t)
	be := func(b []byte, off int) uint16 { return binary.BigEndian.Uint16(b[off:]) }
	var p Packet
	d := f["eth-tcp-data"].data
	DecodeSlow(LinkEthernet, d, len(d), 0, &p)
	if p.Inner.Checksum != be(d, 24) || p.TCP.Checksum != be(d, 50) || p.Inner.Checksum == 0 {
		t.Errorf("tcp: ip %#x tcp %#x, frame has %#x %#x", p.Inner.Checksum, p.TCP.Checksum, be(d, 24), be(d, 50))
	}
	d = f["eth-udp"].data
	DecodeSlow(LinkEthernet, d, len(d), 0, &p)
	if p.UDPChecksum != be(d, 40) || p.UDPChecksum == 0 {
		t.Errorf("udp checksum %#x, frame has %#x", p.UDPChecksum, be(d, 40))
	}
	d = f["eth-icmp-echo"].data
	DecodeSlow(LinkEthernet, d, len(d), 0, &p)
	if p.ICMP.Checksum != be(d, 36) || p.ICMP.Checksum == 0 {
		t.Errorf("icmp checksum %#x, frame has %#x", p.ICMP.Checksum, be(d, 36))
	}
	d = f["vxlan-badcsum"].data
	DecodeSlow(LinkEthernet, d, len(d), 0, &p)
	if p.OuterUCsm != 0xbeef || p.Outer.Checksum != be(d, 24) {
		t.Errorf("vxlan: outer udp %#x ip %#x", p.OuterUCsm, p.Outer.Checksum)
	}
	d = f["icmp-fragneeded-tcp"].data
	DecodeSlow(LinkEthernet, d, len(d), 0, &p)
	if p.ICMP.Quoted.Checksum != be(d, 42+10) {
		t.Errorf("quoted ip checksum %#x, frame has %#x", p.ICMP.Quoted.Checksum, be(d, 52))
	}
}

// TestDecodeSlowMalformed covers the error bits on frames the fixtures do not reach, and checks that
// the fast decoder agrees on them.
func TestDecodeSlowMalformed(t *testing.T) {
	f := fxFrames(t)
	data := f["eth-tcp-data"].data
	patch := func(off int, b ...byte) []byte {
		d := append([]byte(nil), data...)
		copy(d[off:], b)
		return d
	}
	// The first TCP option (a NOP at byte 54) becomes MSS with length 1: malformed.
	badOpt := patch(54, 2, 1)
	rawV5 := append([]byte(nil), f["raw-tcp"].data...)
	rawV5[0] = 0x55
	vx := f["vxlan-tcp"].data
	vxNoI := append([]byte(nil), vx...)
	vxNoI[14+20+8] = 0 // VXLAN flags without the I bit
	vxIPX := append([]byte(nil), vx...)
	vxIPX[14+20+16+12], vxIPX[14+20+16+13] = 0x81, 0x37 // inner EtherType IPX
	hbh := f["ipv6-hbh-frag-udp"].data
	cases := []struct {
		name     string
		link     LinkType
		data     []byte
		orig     int
		errs     Err
		csum     Checksum
		hasTCP   bool
		innerVer uint8
	}{
		{"unknown link", LinkNull, data, len(data), ErrUnknownLink, CsumNone, false, 0},
		{"short ethernet", LinkEthernet, data[:10], 10, ErrTruncated, CsumNone, false, 0},
		{"ip cut, not snapped", LinkEthernet, data[:30], 30, ErrTruncated, CsumUnverifiable, false, 0},
		{"ip cut by snaplen", LinkEthernet, data[:30], len(data), ErrTruncated | ErrSnapped, CsumUnverifiable, false, 0},
		{"tcp cut, not snapped", LinkEthernet, data[:40], 40, ErrBadLength | ErrTruncated, CsumUnverifiable, false, 4},
		{"total length past the capture", LinkEthernet, data[:120], 120, ErrBadLength, CsumUnverifiable, true, 4},
		{"tcp options cut by snaplen", LinkEthernet, data[:60], len(data), ErrSnapped | ErrTruncated, CsumUnverifiable, true, 4},
		{"raw version 5", LinkRaw, rawV5, len(rawV5), ErrBadVersion, CsumNone, false, 0},
		{"ihl 4", LinkEthernet, patch(14, 0x44), len(data), ErrBadLength, CsumUnverifiable, false, 4},
		{"ethertype ipv4, version 6", LinkEthernet, patch(14, 0x65), len(data), ErrBadVersion, CsumUnverifiable, false, 0},
		{"bad tcp option", LinkEthernet, badOpt, len(badOpt), ErrBadOption | ErrBadL4Checksum, CsumBad, true, 4},
		{"ipx", LinkEthernet, patch(12, 0x81, 0x37), len(data), ErrNotIP, CsumNone, false, 0},
		{"vxlan without I flag", LinkEthernet, vxNoI, len(vxNoI), ErrBadVXLAN, CsumOK, false, 4},
		{"vxlan cut in inner ethernet", LinkEthernet, vx[:60], len(vx), ErrSnapped | ErrTruncated, CsumUnverifiable, false, 4},
		{"vxlan carrying ipx", LinkEthernet, vxIPX, len(vxIPX), ErrNotIP, CsumUnverifiable, false, 0},
		{"ipv6 cut in hop-by-hop", LinkEthernet, hbh[:58], 58, ErrBadLength | ErrTruncated, CsumUnverifiable, false, 6},
		{"ipv6 hop-by-hop snapped", LinkEthernet, hbh[:58], len(hbh), ErrSnapped | ErrTruncated, CsumUnverifiable, false, 6},
	}
	for _, c := range cases {
		var p Packet
		DecodeSlow(c.link, c.data, c.orig, 0, &p)
		if p.Errs != c.errs || p.Checksum != c.csum || p.HasTCP != c.hasTCP || p.Inner.Version != c.innerVer {
			t.Errorf("%s: errs %v checksum %v tcp %v inner v%d; want %v %v %v v%d", c.name, p.Errs.Strings(),
				p.Checksum, p.HasTCP, p.Inner.Version, c.errs.Strings(), c.csum, c.hasTCP, c.innerVer)
		}
		if d := diffOne(c.link, c.data, c.orig, 0); d != "" {
			t.Errorf("%s: the fast decoder disagrees (-slow +fast):\n%s", c.name, d)
		}
	}
}

// BenchmarkDecodeSlow decodes representative frames with DecodeSlow and, for comparison, the fast
// decoder; one op is one frame.
func BenchmarkDecodeSlow(b *testing.B) {
	frames := fxFrames(b)
	for _, name := range []string{"eth-tcp-data", "ipip-tcp", "vxlan-tcp", "sll2-tcp", "icmp-fragneeded-ipip", "eth-ipv6-tcp"} {
		f := frames[name]
		for _, d := range []struct {
			kind string
			fn   func(LinkType, []byte, int, uint16, *Packet)
		}{{"slow", DecodeSlow}, {"fast", DecodeFast}} {
			b.Run(name+"/"+d.kind, func(b *testing.B) {
				var p Packet
				b.ReportAllocs()
				b.SetBytes(int64(len(f.data)))
				for b.Loop() {
					d.fn(f.link, f.data, f.origLen(), 0, &p)
				}
			})
		}
	}
}
