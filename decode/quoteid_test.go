package decode

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// l4Sum returns seg with its transport checksum (at off) filled in: over an IPv4 or IPv6 pseudo-header
// of src, dst and proto, or none (ICMPv4: src nil).
func l4Sum(src, dst []byte, proto uint8, seg []byte, off int) []byte {
	binary.BigEndian.PutUint16(seg[off:], 0)
	var s uint64
	if src != nil {
		s = sum16(sum16(0, src), dst) + uint64(proto) + uint64(len(seg))
	}
	binary.BigEndian.PutUint16(seg[off:], ^fold(sum16(s, seg)))
	return seg
}

// ipv6Lbl is ipv6Frame with a flow label.
func ipv6Lbl(src, dst [16]byte, hops, proto uint8, lbl uint32, payload []byte) []byte {
	b := ipv6Frame(src, dst, hops, proto, payload)
	binary.BigEndian.PutUint32(b[0:4], 6<<28|lbl)
	return b
}

// icmp6Error is the IPv6 packet of an ICMPv6 error of type typ and code from src to dst quoting q.
func icmp6Error(src, dst [16]byte, typ, code uint8, q []byte) []byte {
	m := append([]byte{typ, code, 0, 0, 0, 0, 0, 0}, q...)
	return ipv6Frame(src, dst, 64, 58, l4Sum(src[:], dst[:], 58, m, 2))
}

// quoteFixture6 is the lab's state-neigh-failed6 in frames: node-b's VTEP address answers pod-b's
// packets to pod-a, queued for a next hop that never answered, with ICMPv6 address-unreachable.
type quoteFixture6 struct{ podA, podB, vtepB, nodeA, nodeB [16]byte }

func newQuoteFixture6() quoteFixture6 {
	a := func(s string) [16]byte { return netip.MustParseAddr(s).As16() }
	return quoteFixture6{a("fd00:244::5"), a("fd00:244::47"), a("fd00:244::40"), a("fd00:10::2"), a("fd00:20::2")}
}

// udpAnswer is pod-b's UDP answer to pod-a carrying payload, as node-b quotes it.
func (f quoteFixture6) udpAnswer(sport, dport uint16, payload string) []byte {
	seg := udpSeg(sport, dport, []byte(payload))
	return ipv6Lbl(f.podB, f.podA, 64, 17, 0x5a5a5, l4Sum(f.podB[:], f.podA[:], 17, seg, 6))
}

// echoReply is pod-b's echo reply to pod-a (identifier id, sequence seq, 56 bytes of data).
func (f quoteFixture6) echoReply(id, seq uint16) []byte {
	m := make([]byte, 8+56)
	m[0] = 129
	binary.BigEndian.PutUint16(m[4:6], id)
	binary.BigEndian.PutUint16(m[6:8], seq)
	for i := range m[8:] {
		m[8+i] = byte(i)
	}
	return ipv6Lbl(f.podB, f.podA, 64, 58, 0x12345, l4Sum(f.podB[:], f.podA[:], 58, m, 2))
}

// tcpAnswer is pod-b's TCP segment to pod-a with sequence number seq and 100 bytes of payload.
func (f quoteFixture6) tcpAnswer(seq uint32) []byte {
	seg := make([]byte, 20+100)
	binary.BigEndian.PutUint16(seg[0:2], 8080)
	binary.BigEndian.PutUint16(seg[2:4], 40000)
	binary.BigEndian.PutUint32(seg[4:8], seq)
	seg[12], seg[13] = 5<<4, TCPAck|TCPPsh
	for i := range seg[20:] {
		seg[20+i] = byte(i * 3)
	}
	return ipv6Lbl(f.podB, f.podA, 64, 6, 0x777, l4Sum(f.podB[:], f.podA[:], 6, seg, 16))
}

// errAt is node-b's address-unreachable error quoting q as pod-b's veth captures it.
func (f quoteFixture6) errAt(t *testing.T, q []byte) fpObs {
	return observe(t, LinkEthernet, ethFrame([6]byte{2, 0, 0, 0, 0, 0x47}, CalicoMAC, 0x86dd, icmp6Error(f.vtepB, f.podB, 1, 3, q)))
}

// ICMPv6 errors of one kind between the same two hosts differ only in their quotes, past the quoted
// IPv6 header (the first 16 payload bytes the fingerprint hashed before): node-b's address-unreachable
// errors for pod-b's UDP answers that differ in their payload only, for its echo replies that differ in
// their sequence, and for TCP segments that differ in their sequence number are distinct packets. Before,
// each kind shared one fingerprint, loose and exact: the lab's state-neigh-failed6 warned
// ambiguous-packets and paired them by order.
func TestFingerprintICMPv6ErrorQuotes(t *testing.T) {
	f := newQuoteFixture6()
	kinds := map[string][][]byte{
		"udp answers":  {f.udpAnswer(9000, 52056, "re:req-0000"), f.udpAnswer(9000, 52056, "re:req-0001"), f.udpAnswer(9000, 52056, "re:req-0002")},
		"echo replies": {f.echoReply(25618, 1), f.echoReply(25618, 2), f.echoReply(25618, 3)},
		"tcp segments": {f.tcpAnswer(1000), f.tcpAnswer(1100), f.tcpAnswer(1200)},
	}
	for name, quotes := range kinds {
		loose, exact := map[uint64]bool{}, map[uint64]bool{}
		for _, q := range quotes {
			o := f.errAt(t, q)
			if o.Flags&FlagICMPError == 0 || o.Flags&FlagNoPayloadHash != 0 {
				t.Fatalf("%s: flags %#x, want an ICMP error whose quote took part", name, o.Flags)
			}
			loose[o.Loose], exact[o.Exact(o.Loose)] = true, true
		}
		if len(loose) != len(quotes) || len(exact) != len(quotes) {
			t.Errorf("%s: %d errors have %d loose and %d exact fingerprints", name, len(quotes), len(loose), len(exact))
		}
	}
	// Another quoted flow label (another flow of the same two pods) is another packet too.
	a, b := f.errAt(t, f.udpAnswer(9000, 52056, "x")), f.errAt(t, f.udpAnswer(9000, 52056, "x"))
	if a.Loose != b.Loose {
		t.Fatal("one error decoded twice has two fingerprints")
	}
	q := f.udpAnswer(9000, 52056, "x")
	q[3] ^= 1
	if c := f.errAt(t, q); c.Loose == a.Loose {
		t.Error("another quoted flow label kept the fingerprint")
	}
}

// The same ICMP error is one packet wherever it is seen: on a veth, on the tunnel device (raw IP), and
// VXLAN-encapsulated over IPv6 on the underlay (the error's own packet inside), with one loose and one
// exact fingerprint; and NAT that rewrites the error's addresses and, as Linux does, its quote's
// addresses, ports and checksums keeps the loose one. Before, an ICMP error was fingerprinted by the
// first 16 bytes of its quote, which hold the quoted source address (and, over IPv4, the quoted
// header checksum): an error un-SNATed on its way to the pod had another loose fingerprint after NAT.
func TestFingerprintICMPErrorAlongThePath(t *testing.T) {
	f := newQuoteFixture6()
	e := icmp6Error(f.vtepB, f.podB, 1, 3, f.udpAnswer(9000, 52056, "re:req-0001"))
	cali := observe(t, LinkEthernet, ethFrame([6]byte{2, 0, 0, 0, 0, 0x47}, CalicoMAC, 0x86dd, e))
	raw := observe(t, LinkRaw, e)
	vx := make([]byte, 8)
	vx[0] = 0x08
	binary.BigEndian.PutUint32(vx[4:8], 4096<<8)
	vxl := append(vx, ethFrame([6]byte{0x66, 2, 2, 2, 2, 2}, [6]byte{0x66, 1, 1, 1, 1, 1}, 0x86dd, e)...)
	eth := observe(t, LinkEthernet, ethFrame([6]byte{2, 0, 0, 0, 0, 2}, [6]byte{2, 0, 0, 0, 0, 1}, 0x86dd,
		ipv6Frame(f.nodeB, f.nodeA, 64, 17, udpSeg(51234, 4789, vxl))))
	if eth.Encap() != EncapVXLAN {
		t.Fatalf("underlay frame: encap %v", eth.Encap())
	}
	for name, o := range map[string]fpObs{"tunnel": raw, "underlay": eth} {
		if o.Loose != cali.Loose || o.Exact(o.Loose) != cali.Exact(cali.Loose) {
			t.Errorf("%s: the error's fingerprint differs from the veth's", name)
		}
	}

	// IPv4: router-1 tells node-a (SNAT: pod-a's packet left as node-a's, port 61000) that pod-a's
	// segment needs fragmenting; node-a un-SNATs the error to pod-a, quote included.
	router, nodeA := [4]byte{192, 168, 10, 1}, [4]byte{192, 168, 10, 2}
	podA, ext := [4]byte{10, 244, 1, 5}, [4]byte{203, 0, 113, 10}
	seg := func(src [4]byte, sport uint16, seq uint32) []byte {
		s := make([]byte, 20)
		binary.BigEndian.PutUint16(s[0:2], sport)
		binary.BigEndian.PutUint16(s[2:4], 80)
		binary.BigEndian.PutUint32(s[4:8], seq)
		s[12], s[13] = 5<<4, TCPAck
		return ipv4Frame(src, ext, 63, 6, l4Sum(src[:], ext[:], 6, append(s, make([]byte, 1400)...), 16))
	}
	frag := func(to [4]byte, quote []byte) fpObs {
		m := append([]byte{3, 4, 0, 0, 0, 0, 0x05, 0xa0}, quote[:20+8+64]...) // as much as 576 bytes hold, less
		return observe(t, LinkEthernet, ethFrame([6]byte{2, 0, 0, 0, 0, 2}, [6]byte{2, 0, 0, 0, 0, 1}, 0x0800,
			ipv4Frame(router, to, 64, 1, l4Sum(nil, nil, 0, m, 2))))
	}
	before := frag(nodeA, seg(nodeA, 61000, 5000))
	after := frag(podA, seg(podA, 40000, 5000))
	if before.Flags&FlagICMPError == 0 || before.Flags&FlagNoPayloadHash != 0 {
		t.Fatalf("flags %#x, want an ICMP error whose quote took part", before.Flags)
	}
	if after.Loose != before.Loose {
		t.Error("NAT of the error and its quote changed the loose fingerprint")
	}
	if after.Exact(after.Loose) == before.Exact(before.Loose) {
		t.Error("NAT of the error's addresses kept the exact fingerprint")
	}
	if other := frag(nodeA, seg(nodeA, 61000, 6400)); other.Loose == before.Loose {
		t.Error("an error quoting another TCP sequence number has the same loose fingerprint")
	}
}

// An error whose frame a snaplen cut inside the bytes of its quote the fingerprint reads leaves the
// quote out (FlagNoPayloadHash), and makes the run's level SnapPayload (every fingerprint on its
// headers, as for any payload cut); cut after them, it is fingerprinted as whole.
func TestFingerprintICMPErrorQuoteSnapped(t *testing.T) {
	f := newQuoteFixture6()
	frame := ethFrame([6]byte{2, 0, 0, 0, 0, 0x47}, CalicoMAC, 0x86dd, icmp6Error(f.vtepB, f.podB, 1, 3, f.tcpAnswer(1000)))
	whole := f.errAt(t, f.tcpAnswer(1000))
	const quoted = 14 + 40 + 8 + 40 + 20 // the quoted TCP payload starts here
	for _, c := range []struct {
		capLen int
		cut    bool
	}{{quoted + 16, false}, {quoted + 40, false}, {quoted + 15, true}, {quoted - 10, true}, {14 + 40 + 8 + 30, true}} {
		d := NewDecoder(Options{}, NewTables(), 0)
		var p Packet
		var o Observation
		d.Decode(&Record{Frame: 1, LinkType: LinkEthernet, Data: frame[:c.capLen], CapLen: c.capLen, OrigLen: len(frame)}, &p, &o)
		level := snapClass(&p)
		switch {
		case c.cut && (o.Flags&FlagNoPayloadHash == 0 || level != SnapPayload):
			t.Errorf("cut to %d bytes: flags %#x, snap level %d; want the quote left out, SnapPayload", c.capLen, o.Flags, level)
		case !c.cut && (o.Flags&FlagNoPayloadHash != 0 || level != SnapWhole || p.Loose != whole.Loose):
			t.Errorf("cut to %d bytes: flags %#x, snap level %d, same fingerprint as whole %v; want it as whole",
				c.capLen, o.Flags, level, p.Loose == whole.Loose)
		}
	}
	// A quoted UDP datagram is read to its 16th payload byte, unless it may be VXLAN (its first payload
	// byte has the I flag), which decodeQuote follows only when the inner IP header is there: then to that.
	for _, c := range []struct {
		payload string
		capLen  int
		cut     bool
	}{
		{"re:req-0000 and more bytes than the sixteen that are read", 14 + 40 + 8 + 40 + 8 + 16, false},
		{"re:req-0000 and more bytes than the sixteen that are read", 14 + 40 + 8 + 40 + 8 + 15, true},
		{"\x08e:req-0000 and more bytes than the sixteen that are read", 14 + 40 + 8 + 40 + 8 + 16, true},
	} {
		q := f.udpAnswer(9000, 52056, c.payload)
		frame := ethFrame([6]byte{2, 0, 0, 0, 0, 0x47}, CalicoMAC, 0x86dd, icmp6Error(f.vtepB, f.podB, 1, 3, q))
		whole := f.errAt(t, q)
		d := NewDecoder(Options{}, NewTables(), 0)
		var p Packet
		var o Observation
		d.Decode(&Record{Frame: 1, LinkType: LinkEthernet, Data: frame[:c.capLen], CapLen: c.capLen, OrigLen: len(frame)}, &p, &o)
		if got := snapClass(&p) == SnapPayload && o.Flags&FlagNoPayloadHash != 0; got != c.cut || !c.cut && p.Loose != whole.Loose {
			t.Errorf("UDP quote %q cut to %d bytes: left out %v, want %v (fingerprint as whole: %v)", c.payload, c.capLen, got, c.cut, p.Loose == whole.Loose)
		}
	}
}

// On the lab's state-neigh-failed6, node-b's six address-unreachable errors to pod-b (three quoting
// pod-b's echo replies, three its UDP answers) are six packets, in pod-b's veth capture and in node-b's
// -i any file alike. Before, the three of each kind had one fingerprint.
func TestLabICMPv6ErrorsDistinct(t *testing.T) {
	const dir = "../testdata/lab/scenarios/state-neigh-failed6/"
	var sets []map[uint64]int
	for _, file := range []string{"node-b-cali2f5353dd8c5.pcap", "node-b-any.pcap"} {
		c := Load([]string{dir + file}, Options{}, PointConfig{})
		if len(c.Obs) != 1 {
			t.Fatalf("%s: %d files read", file, len(c.Obs))
		}
		fps := map[uint64]int{}
		n := 0
		for i, o := range c.Obs[0] {
			if o.Flags&FlagICMPError != 0 && o.Sport == 1 && o.Dport == 3 {
				n++
				fps[c.Loose[0].At(i)]++
			}
		}
		if n != 6 || len(fps) != 6 {
			t.Errorf("%s: %d address-unreachable errors with %d fingerprints, want 6 and 6", file, n, len(fps))
		}
		sets = append(sets, fps)
	}
	for fp := range sets[0] {
		if sets[1][fp] != 1 {
			t.Errorf("an error of the veth's capture is in the -i any file %d times", sets[1][fp])
		}
	}
}

// FuzzQuoteCut builds an ICMP error (ICMPv6 when v6, else ICMPv4 destination-unreachable) quoting
// arbitrary bytes, and cuts its frame at cut as a snaplen would: no panic, and a cut frame whose snap
// level says nothing that matching uses was cut (SnapWhole) has the whole frame's fingerprint. That is
// what lets a run match an error's sightings at points captured with different snaplens.
func FuzzQuoteCut(f *testing.F) {
	q6 := newQuoteFixture6()
	for _, q := range [][]byte{q6.udpAnswer(9000, 52056, "re:req-0000"), q6.echoReply(25618, 1), q6.tcpAnswer(1000)} {
		f.Add(true, q, uint16(100))
		f.Add(true, q, uint16(140))
	}
	tcp4 := ipv4Frame([4]byte{10, 244, 1, 5}, [4]byte{10, 244, 2, 7}, 63, 6, append(make([]byte, 20), []byte("0123456789abcdefghij")...))
	tcp4[20+12] = 5 << 4
	f.Add(false, tcp4, uint16(80))
	f.Add(false, ipv4Frame([4]byte{192, 168, 10, 2}, [4]byte{192, 168, 20, 2}, 63, 4, tcp4), uint16(90))
	vx := append([]byte{0x08, 0, 0, 0, 0, 0x10, 0, 0}, ethFrame([6]byte{0x66, 2}, [6]byte{0x66, 1}, 0x0800, tcp4)...)
	f.Add(false, ipv4Frame([4]byte{192, 168, 10, 2}, [4]byte{192, 168, 20, 2}, 64, 17, udpSeg(40001, 4789, vx)), uint16(120))
	f.Fuzz(func(t *testing.T, v6 bool, quote []byte, cut uint16) {
		if len(quote) > 1400 {
			return
		}
		var frame []byte
		if v6 {
			frame = ethFrame([6]byte{2}, CalicoMAC, 0x86dd, icmp6Error(q6.vtepB, q6.podB, 1, 3, quote))
		} else {
			m := l4Sum(nil, nil, 0, append([]byte{3, 1, 0, 0, 0, 0, 0, 0}, quote...), 2)
			frame = ethFrame([6]byte{2}, CalicoMAC, 0x0800, ipv4Frame([4]byte{192, 168, 20, 2}, [4]byte{10, 244, 2, 7}, 64, 1, m))
		}
		decode := func(n int) (Packet, Observation) {
			d := NewDecoder(Options{}, NewTables(), 0)
			var p Packet
			var o Observation
			d.Decode(&Record{Frame: 1, LinkType: LinkEthernet, Data: frame[:n], CapLen: n, OrigLen: len(frame)}, &p, &o)
			return p, o
		}
		whole, _ := decode(len(frame))
		n := min(int(cut), len(frame))
		p, _ := decode(n)
		if p.Errs&ErrTruncated == 0 && snapClass(&p) == SnapWhole && p.Loose != whole.Loose {
			t.Errorf("cut to %d of %d bytes: SnapWhole, but the fingerprint is not the whole frame's", n, len(frame))
		}
	})
}
