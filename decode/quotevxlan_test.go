package decode

import (
	"net/netip"
	"testing"
)

// TestVXLANQuote reads the ICMPv6 Packet Too Big router-1 sent in the lab's pmtu-discovery6 (its eth0 at
// MTU 1400 on the IPv6 underlay): it quotes node-b's VXLAN datagram to node-a, and its table entry names
// the packet inside it, pod-b's TCP segment from port 8080, as for a quoted IP-in-IP packet; before, it
// named the nodes' UDP datagram to port 4789, a flow of its own no packet belonged to.
func TestVXLANQuote(t *testing.T) {
	c := Load([]string{"../testdata/lab/scenarios/pmtu-discovery6/router-1-eth1.pcap"}, Options{}, PointConfig{})
	n := 0
	for _, o := range c.Obs[0] {
		if o.Flags&FlagICMPError == 0 {
			continue
		}
		n++
		e := c.Tables.ICMPErr(o.Seq)
		if e.Type != 2 || e.MTU != 1400 {
			t.Errorf("type %d mtu %d, want Packet Too Big (2) with MTU 1400", e.Type, e.MTU)
		}
		if q := e.Quoted.DstAddr(); q != netip.MustParseAddr("fd00:10::2") || e.Quoted.Proto != 17 {
			t.Errorf("quoted outer header to %v proto %d, want node-a's fd00:10::2, UDP", q, e.Quoted.Proto)
		}
		in := &e.QuotedInner
		if in.Version != 6 || in.SrcAddr() != netip.MustParseAddr("fd00:244::47") ||
			in.DstAddr() != netip.MustParseAddr("fd00:244::5") || in.Proto != 6 || e.QSport != 8080 || e.QSeq == 0 {
			t.Errorf("quoted inner packet v%d %v → %v proto %d sport %d seq %d, want pod-b's TCP from 8080 to pod-a",
				in.Version, in.SrcAddr(), in.DstAddr(), in.Proto, e.QSport, e.QSeq)
		}
	}
	if n != 1 {
		t.Fatalf("%d ICMP errors, want router-1's one Packet Too Big", n)
	}
}

// TestVXLANQuoteShort gives decodeQuote every cut of a quoted VXLAN datagram, and the whole one to
// another port or without the I flag: no panic, and the packet inside is taken only from a whole
// inner header of a VXLAN datagram, else the quote stays the UDP datagram. A datagram to 8472 is
// VXLAN when that is the VXLAN port (--vxlan-port 8472; before, only 4789 was, whatever the flag).
func TestVXLANQuoteShort(t *testing.T) {
	q := make([]byte, 40+8+8+14+40+20)
	q[0], q[6], q[7] = 0x60, 17, 64 // IPv6, next header UDP
	q[40+2], q[40+3] = 0x12, 0xb5   // UDP to 4789
	q[48] = 0x08                    // VXLAN: VNI valid
	q[48+8+12], q[48+8+13] = 0x86, 0xdd
	q[70], q[70+6] = 0x60, 6 // inner IPv6 carrying TCP
	q[110], q[111] = 0x1f, 0x90
	for i := range q {
		var ic ICMP
		decodeQuote(q[:i], true, DefaultVXLANPort, &ic)
		if whole := i >= 110; ic.QVXLAN != whole || (ic.QuotedInner.Version != 0) != whole {
			t.Errorf("cut at %d: VXLAN %v, inner v%d", i, ic.QVXLAN, ic.QuotedInner.Version)
		}
		if i >= 114 && ic.QSport != 8080 {
			t.Errorf("cut at %d: quoted source port %d, want the inner TCP's 8080", i, ic.QSport)
		}
	}
	var ic ICMP
	q[40+2], q[40+3] = 0x21, 0x18 // to 8472
	if decodeQuote(q, true, DefaultVXLANPort, &ic); ic.QVXLAN || ic.QDport != 8472 {
		t.Errorf("port 8472: VXLAN %v, ports %d → %d, want the UDP datagram to 8472", ic.QVXLAN, ic.QSport, ic.QDport)
	}
	ic = ICMP{}
	if decodeQuote(q, true, 8472, &ic); !ic.QVXLAN || ic.QOuterDport != 8472 || ic.QSport != 8080 {
		t.Errorf("port 8472 with --vxlan-port 8472: VXLAN %v to %d, quoted source port %d, want the VXLAN datagram "+
			"to 8472 carrying TCP from 8080", ic.QVXLAN, ic.QOuterDport, ic.QSport)
	}
	q[40+2], q[40+3] = 0x12, 0xb5
	q[48] = 0
	ic = ICMP{}
	if decodeQuote(q, true, DefaultVXLANPort, &ic); ic.QVXLAN {
		t.Errorf("no I flag: taken for VXLAN")
	}
}
