package decode

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

func udpSeg(sport, dport uint16, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:2], sport)
	binary.BigEndian.PutUint16(b[2:4], dport)
	binary.BigEndian.PutUint16(b[4:6], uint16(8+len(payload)))
	return append(b, payload...) // checksum 0: none, allowed over IPv4
}

// fpObs is an Observation with its fingerprint.
type fpObs struct {
	Observation
	Loose uint64
}

func observe(t *testing.T, lt LinkType, frame []byte) fpObs {
	t.Helper()
	d := NewDecoder(Options{}, NewTables(), 0)
	var p Packet
	var o Observation
	d.Decode(&Record{Frame: 1, LinkType: lt, Data: frame, CapLen: len(frame), OrigLen: len(frame)}, &p, &o)
	return fpObs{o, p.Loose}
}

// The same inner packet seen at cali (Ethernet), tunl0 (raw IP, TTL decremented), eth0 (IP-in-IP) and
// VXLAN has one exact fingerprint; NAT keeps the loose one; a different payload changes both.
func TestFingerprintAlongThePath(t *testing.T) {
	podA := netip.MustParseAddr("10.244.1.5").As4()
	podB := netip.MustParseAddr("10.244.2.7").As4()
	svc := netip.MustParseAddr("10.96.0.10").As4()
	nodeA := netip.MustParseAddr("192.168.10.2").As4()
	nodeB := netip.MustParseAddr("192.168.20.2").As4()
	mac1, mac2 := [6]byte{2, 0, 0, 0, 0, 1}, [6]byte{2, 0, 0, 0, 0, 2}
	payload := []byte("dns query 0001 example.com")

	inner := func(ttl uint8, dst [4]byte, dport uint16, pl []byte) []byte {
		b := ipv4Frame(podA, dst, ttl, 17, udpSeg(40000, dport, pl))
		binary.BigEndian.PutUint16(b[4:6], 0) // IP id 0 with DF, as Linux sends
		binary.BigEndian.PutUint16(b[10:12], 0)
		binary.BigEndian.PutUint16(b[10:12], ^fold(sum16(0, b[:20])))
		return b
	}
	cali := observe(t, LinkEthernet, ethFrame(CalicoMAC, mac1, 0x0800, inner(64, podB, 53, payload)))
	tunl := observe(t, LinkRaw, inner(63, podB, 53, payload))
	eth := observe(t, LinkEthernet, ethFrame(mac2, mac1, 0x0800, ipv4Frame(nodeA, nodeB, 63, 4, inner(63, podB, 53, payload))))
	vx := make([]byte, 8)
	vx[0] = 0x08
	binary.BigEndian.PutUint32(vx[4:8], 4096<<8)
	vxl := append(vx, ethFrame(mac2, mac1, 0x0800, inner(63, podB, 53, payload))...)
	vxlan := observe(t, LinkEthernet, ethFrame(mac2, mac1, 0x0800, ipv4Frame(nodeA, nodeB, 64, 17, udpSeg(51234, 4789, vxl))))
	dnat := observe(t, LinkEthernet, ethFrame(CalicoMAC, mac1, 0x0800, inner(64, svc, 5353, payload)))
	other := observe(t, LinkRaw, inner(63, podB, 53, []byte("dns query 0002 example.com")))

	if eth.Encap() != EncapIPIP || vxlan.Encap() != EncapVXLAN || cali.Encap() != EncapNone {
		t.Fatalf("encap kinds: cali %v eth %v vxlan %v", cali.Encap(), eth.Encap(), vxlan.Encap())
	}
	for name, o := range map[string]fpObs{"tunl0": tunl, "eth0": eth, "vxlan": vxlan} {
		if o.Exact(o.Loose) != cali.Exact(cali.Loose) || o.Loose != cali.Loose {
			t.Errorf("%s: fingerprint differs from cali's", name)
		}
		if o.Src != cali.Src || o.Dst != cali.Dst || o.Sport != 40000 || o.Dport != 53 {
			t.Errorf("%s: inner addresses/ports not taken from the inner packet: %+v", name, o)
		}
	}
	if dnat.Loose != cali.Loose {
		t.Error("DNAT changed the loose fingerprint")
	}
	if dnat.Exact(dnat.Loose) == cali.Exact(cali.Loose) {
		t.Error("DNAT kept the exact fingerprint")
	}
	if other.Loose == cali.Loose || other.Exact(other.Loose) == cali.Exact(cali.Loose) {
		t.Error("a different payload (same IP id 0, ports, length) has the same fingerprint")
	}
	if tunl.TTL != 63 || cali.TTL != 64 || cali.Flags&FlagDF == 0 {
		t.Errorf("TTL/DF: cali %d tunl %d flags %x", cali.TTL, tunl.TTL, cali.Flags)
	}
}

// A capture cut by snaplen inside the payload leaves the payload out of the fingerprint and says so.
func TestFingerprintSnapped(t *testing.T) {
	a, b := [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}
	full := ipv4Frame(a, b, 64, 17, udpSeg(1, 2, []byte("0123456789abcdefXYZ")))
	d := NewDecoder(Options{}, NewTables(), 0)
	var p Packet
	var o Observation
	d.Decode(&Record{LinkType: LinkRaw, Data: full[:34], CapLen: 34, OrigLen: len(full)}, &p, &o)
	if o.Flags&FlagNoPayloadHash == 0 {
		t.Fatal("snapped payload: FlagNoPayloadHash not set")
	}
	if p.Errs&ErrSnapped == 0 || p.Errs&ErrBadLength != 0 {
		t.Fatalf("snapped frame errs = %v", p.Errs.Strings())
	}
	if p.Checksum != CsumUnverifiable {
		t.Fatalf("snapped frame checksum = %v", p.Checksum)
	}
}

// Every field the fingerprint covers changes it, one at a time, and 200,000 packets that differ only
// in their sequence numbers and payload give as many distinct fingerprints (and exact ones).
func TestFingerprintFields(t *testing.T) {
	base := func() Packet {
		p := Packet{HasTCP: true, PayloadLen: 100, Payload: make([]byte, 100)}
		p.Inner = IPHdr{Version: 4, Proto: 6, ID: 7}
		p.TCP = TCP{Seq: 1000, Ack: 2000, Flags: TCPAck}
		copy(p.Payload, "0123456789abcdefghij")
		return p
	}
	b := base()
	fp0, hashed := Fingerprint(&b)
	if !hashed {
		t.Fatal("a full payload was not hashed")
	}
	changes := map[string]func(p *Packet){
		"version": func(p *Packet) { p.Inner.Version = 6 },
		"proto":   func(p *Packet) { p.Inner.Proto = 17 },
		"ip id":   func(p *Packet) { p.Inner.ID = 8 },
		"frag":    func(p *Packet) { p.Inner.FragOff = 1 },
		"mf":      func(p *Packet) { p.Inner.MF = true },
		"length":  func(p *Packet) { p.PayloadLen = 99; p.Payload = p.Payload[:99] },
		"seq":     func(p *Packet) { p.TCP.Seq++ },
		"ack":     func(p *Packet) { p.TCP.Ack++ },
		"flags":   func(p *Packet) { p.TCP.Flags |= TCPPsh },
		"byte 0":  func(p *Packet) { p.Payload[0] ^= 1 },
		"byte 15": func(p *Packet) { p.Payload[15] ^= 0x80 },
	}
	for name, change := range changes {
		p := base()
		change(&p)
		if fp, _ := Fingerprint(&p); fp == fp0 {
			t.Errorf("changing the %s kept the fingerprint", name)
		}
	}
	p := base()
	p.Payload[16] ^= 1 // past the hashed bytes
	if fp, _ := Fingerprint(&p); fp != fp0 {
		t.Error("byte 16 of the payload changed the fingerprint")
	}
	seen := map[uint64]bool{}
	exact := map[uint64]bool{}
	o := Observation{Proto: 6, Src: 0x0af40105, Dst: 0x0af40207, Sport: 40000, Dport: 80}
	for i := 0; i < 200000; i++ {
		p := base()
		p.TCP.Seq = uint32(i) * 1448
		binary.LittleEndian.PutUint32(p.Payload, uint32(i))
		fp, _ := Fingerprint(&p)
		seen[fp] = true
		exact[o.Exact(fp)] = true
	}
	if len(seen) != 200000 || len(exact) != 200000 {
		t.Errorf("%d distinct fingerprints and %d exact ones among 200000 packets", len(seen), len(exact))
	}
	// The exact fingerprint adds what NAT rewrites.
	for name, change := range map[string]func(o *Observation){
		"src": func(o *Observation) { o.Src++ }, "dst": func(o *Observation) { o.Dst++ },
		"sport": func(o *Observation) { o.Sport++ }, "dport": func(o *Observation) { o.Dport++ },
	} {
		x := o
		change(&x)
		if x.Exact(fp0) == o.Exact(fp0) {
			t.Errorf("changing the %s kept the exact fingerprint", name)
		}
	}
}

// The fingerprint's values are pinned: a faster way of computing it must give the same (correlation
// and its output depend on them). Payloads of 0 to 40 bytes, some cut short by the capture, over UDP,
// TCP and ICMP.
func TestFingerprintPinned(t *testing.T) {
	var sum uint64
	hashed := 0
	for _, proto := range []uint8{6, 17, 1} {
		for n := 0; n <= 40; n++ {
			for _, capt := range []int{n, n / 2} {
				payload := make([]byte, capt)
				for i := range payload {
					payload[i] = byte(i*7 + n)
				}
				p := Packet{PayloadLen: n, Payload: payload}
				p.Inner = IPHdr{Version: 4, Proto: proto, ID: uint32(n)}
				switch proto {
				case 6:
					p.HasTCP, p.TCP = true, TCP{Seq: uint32(n) * 1000, Ack: 77, Flags: TCPAck}
				case 17:
					p.HasUDP, p.UDPLen = true, uint16(8+n)
				default:
					p.HasICMP, p.ICMP = true, ICMP{Type: 8, Seq: uint16(n)}
				}
				fp, h := Fingerprint(&p)
				sum = sum*31 + fp
				if h {
					hashed++
				}
			}
		}
	}
	if sum != pinnedFingerprints || hashed != 153 {
		t.Errorf("fingerprints sum to %#x (%d hashed), want %#x (153)", sum, hashed, uint64(pinnedFingerprints))
	}
}

const pinnedFingerprints = 0x5d1744cf3eca0056
