package decode

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"
)

// The lab's Ethernet frames, transformed into the other shapes the fast path takes (fastpath_other.go)
// and the ones next to them it leaves to the usual path: a VLAN tag (or two), Linux cooked v1 and v2
// headers of every packet type and address length, and a VXLAN encapsulation with its outer UDP
// checksum zero, right, wrong, or with its I flag or inner EtherType changed.

// toVLAN returns Ethernet frame e with n VLAN tags (TPID tpid, VLAN id vid) after its MAC addresses.
func toVLAN(e []byte, n int, tpid, vid uint16) []byte {
	out := append([]byte(nil), e[:12]...)
	for range n {
		out = binary.BigEndian.AppendUint16(out, tpid)
		out = binary.BigEndian.AppendUint16(out, 0x2000|vid) // priority 1
	}
	return append(out, e[12:]...)
}

// toSLL returns Ethernet frame e as a Linux cooked v1 frame of packet type pt whose link address is
// alen bytes long (the frame's source MAC, then padding).
func toSLL(e []byte, pt uint8, alen uint16) []byte {
	h := make([]byte, 16)
	h[1] = pt
	binary.BigEndian.PutUint16(h[2:4], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:6], alen)
	copy(h[6:14], append(append([]byte(nil), e[6:12]...), 0xa1, 0xa2))
	copy(h[14:16], e[12:14])
	return append(h, e[14:]...)
}

// toSLL2 returns Ethernet frame e as a Linux cooked v2 frame of interface index ifIndex and packet
// type pt whose link address is alen bytes long.
func toSLL2(e []byte, ifIndex int32, pt, alen uint8) []byte {
	h := make([]byte, 20)
	copy(h[0:2], e[12:14])
	binary.BigEndian.PutUint32(h[4:8], uint32(ifIndex))
	binary.BigEndian.PutUint16(h[8:10], 1)
	h[10], h[11] = pt, alen
	copy(h[12:20], append(append([]byte(nil), e[6:12]...), 0xb1, 0xb2))
	return append(h, e[14:]...)
}

// vxlanOpts are the ways toVXLAN builds a VXLAN packet.
type vxlanOpts struct {
	csum    int    // outer UDP checksum: 0 none, 1 right, 2 wrong
	noI     bool   // the VXLAN header's I flag clear
	vni     uint32 // VNI
	ttl, id uint8  // outer TTL; outer IP id's low byte
	sport   uint16 // outer UDP source port
}

// toVXLAN returns Ethernet frame e (its padding cut to its IPv4 total length) inside a VXLAN packet
// between 192.168.1.10 and 192.168.1.20, in an Ethernet frame.
func toVXLAN(e []byte, o vxlanOpts) []byte {
	inner := e
	if binary.BigEndian.Uint16(e[12:14]) == 0x0800 && len(e) >= 34 {
		if tl := int(binary.BigEndian.Uint16(e[16:18])); tl >= 20 && 14+tl <= len(e) {
			inner = e[:14+tl]
		}
	}
	udpLen := 8 + 8 + len(inner)
	out := []byte{0x52, 0x54, 0, 0, 0, 2, 0x52, 0x54, 0, 0, 0, 1, 0x08, 0x00}
	ip := []byte{0x45, 0, 0, 0, 0x12, o.id, 0, 0, o.ttl, 17, 0, 0, 192, 168, 1, 10, 192, 168, 1, 20}
	binary.BigEndian.PutUint16(ip[2:4], uint16(20+udpLen))
	binary.BigEndian.PutUint16(ip[10:12], ^fold(sum16(0, ip)))
	udp := make([]byte, 16, udpLen)
	binary.BigEndian.PutUint16(udp[0:2], o.sport)
	binary.BigEndian.PutUint16(udp[2:4], DefaultVXLANPort)
	binary.BigEndian.PutUint16(udp[4:6], uint16(udpLen))
	if !o.noI {
		udp[8] = 0x08
	}
	binary.BigEndian.PutUint32(udp[12:16], o.vni<<8)
	udp = append(udp, inner...)
	if o.csum != 0 {
		s := uint64(binary.BigEndian.Uint32(ip[12:16])) + uint64(binary.BigEndian.Uint32(ip[16:20])) + 17 + uint64(len(udp))
		c := ^fold(sum16(s, udp))
		if c == 0 {
			c = 0xffff
		}
		if o.csum == 2 {
			c ^= 0x0101
		}
		binary.BigEndian.PutUint16(udp[6:8], c)
	}
	return append(append(out, ip...), udp...)
}

// otherShapes returns the transformations of an Ethernet frame tried, each with its name, and, for
// the shapes the fast path is to take, its shape's name (empty: the usual path's).
func otherShapes() []struct {
	name, fast string
	link       LinkType
	f          func(e []byte, k int) []byte
} {
	type shape = struct {
		name, fast string
		link       LinkType
		f          func(e []byte, k int) []byte
	}
	return []shape{
		{"vlan", "vlan", LinkEthernet, func(e []byte, k int) []byte { return toVLAN(e, 1, 0x8100, uint16(100+k%3)) }},
		{"qinq-one", "vlan", LinkEthernet, func(e []byte, k int) []byte { return toVLAN(e, 1, 0x88a8, 7) }},
		{"vlan-two", "", LinkEthernet, func(e []byte, k int) []byte { return toVLAN(e, 2, 0x8100, 5) }},
		// Packet types 0 to 4 and address lengths 0, 6 and 8 (and a longer one, cut to 8) in turn:
		// frames of one shape follow each other into a Packet the fast path does not reset.
		{"sll", "sll", LinkLinuxSLL, func(e []byte, k int) []byte { return toSLL(e, uint8(k%5), []uint16{6, 0, 8, 12}[k%4]) }},
		{"sll2", "sll2", LinkSLL2, func(e []byte, k int) []byte {
			return toSLL2(e, int32(2+k%3), uint8(k%5), []uint8{6, 0, 8, 3}[k%4])
		}},
		{"vxlan", "vxlan", LinkEthernet, func(e []byte, k int) []byte {
			return toVXLAN(e, vxlanOpts{vni: 4096 + uint32(k%2), ttl: 64, id: uint8(k), sport: uint16(40000 + k%7)})
		}},
		{"vxlan-csum", "vxlan", LinkEthernet, func(e []byte, k int) []byte {
			return toVXLAN(e, vxlanOpts{csum: 1, vni: 4096, ttl: uint8(63 + k%2), sport: 40001})
		}},
		{"vxlan-badcsum", "", LinkEthernet, func(e []byte, k int) []byte {
			return toVXLAN(e, vxlanOpts{csum: 2, vni: 4096, ttl: 64, sport: 40001})
		}},
		{"vxlan-noI", "", LinkEthernet, func(e []byte, k int) []byte {
			return toVXLAN(e, vxlanOpts{noI: true, vni: 4096, ttl: 64, sport: 40001})
		}},
		{"vxlan-vlan", "", LinkEthernet, func(e []byte, k int) []byte {
			return toVXLAN(toVLAN(e, 1, 0x8100, 9), vxlanOpts{vni: 4096, ttl: 64, sport: 40002})
		}},
		{"sll2-vxlan", "sll2", LinkSLL2, func(e []byte, k int) []byte {
			return toSLL2(toVXLAN(e, vxlanOpts{vni: 4096, ttl: 64, sport: 40003}), 7, 4, 6)
		}},
		{"vlan-vxlan", "vlan", LinkEthernet, func(e []byte, k int) []byte {
			return toVLAN(toVXLAN(e, vxlanOpts{csum: k % 2, vni: 4096, ttl: 64, sport: 40004}), 1, 0x8100, 30)
		}},
	}
}

// TestFastPathOtherShapes decodes the lab's Ethernet frames, each transformed into the shapes above,
// both ways (one pair of Decoders per file and shape, as the scan would): the fast path must give what
// the usual one gives, and take frames of each shape it is to take.
func TestFastPathOtherShapes(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/lab/scenarios/*/*.pcap*")
	took := map[string]int{}
	for _, sh := range otherShapes() {
		nFast := 0
		for _, path := range paths {
			fp := newFastPair(Options{})
			k := 0
			labRecords(t, path, func(rec *Record) {
				if rec.LinkType != LinkEthernet || len(rec.Data) < 14 || len(rec.Data) < rec.OrigLen {
					return
				}
				k++
				data := sh.f(rec.Data, k)
				r := Record{Frame: rec.Frame, Ts: rec.Ts, Iface: rec.Iface, LinkType: sh.link, Data: data,
					CapLen: len(data), OrigLen: len(data)}
				if fp.step(t, fmt.Sprintf("%s (%s)", path, sh.name), &r) {
					nFast++
				}
			})
			fp.check(t, fmt.Sprintf("%s (%s)", path, sh.name))
		}
		t.Logf("%s: %d frames took the fast path", sh.name, nFast)
		if sh.fast == "" && nFast != 0 {
			t.Errorf("%s: %d frames took the fast path, want none", sh.name, nFast)
		}
		took[sh.fast] += nFast
	}
	for _, sh := range []string{"vlan", "sll", "sll2", "vxlan"} {
		if took[sh] < 1000 {
			t.Errorf("%d lab frames made into %s frames took the fast path, want 1000 or more", took[sh], sh)
		}
	}
}
