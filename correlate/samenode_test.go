package correlate

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/decode"
)

// writePcap writes Ethernet frames as a microsecond pcap, one every step µs from start.
func writePcap(t *testing.T, path string, ts []int64, frames [][]byte) {
	t.Helper()
	b := make([]byte, 24)
	binary.LittleEndian.PutUint32(b[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(b[4:], 2)
	binary.LittleEndian.PutUint16(b[6:], 4)
	binary.LittleEndian.PutUint32(b[16:], 262144)
	binary.LittleEndian.PutUint32(b[20:], 1)
	for i, f := range frames {
		r := make([]byte, 16)
		binary.LittleEndian.PutUint32(r[0:], uint32(ts[i]/1e9))
		binary.LittleEndian.PutUint32(r[4:], uint32(ts[i]%1e9/1e3))
		binary.LittleEndian.PutUint32(r[8:], uint32(len(f)))
		binary.LittleEndian.PutUint32(r[12:], uint32(len(f)))
		b = append(append(b, r...), f...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func csum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// udpFrame builds Ethernet/IPv4/UDP with correct checksums (UDP checksum 0: none).
func udpFrame(dst, src [6]byte, sip, dip [4]byte, ttl uint8, id uint16, payload string) []byte {
	ip := make([]byte, 28+len(payload))
	ip[0], ip[8], ip[9] = 0x45, ttl, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	binary.BigEndian.PutUint16(ip[4:], id)
	copy(ip[12:], sip[:])
	copy(ip[16:], dip[:])
	binary.BigEndian.PutUint16(ip[20:], 5353)
	binary.BigEndian.PutUint16(ip[22:], 53)
	binary.BigEndian.PutUint16(ip[24:], uint16(8+len(payload)))
	copy(ip[28:], payload)
	binary.BigEndian.PutUint16(ip[10:], csum(ip[:20]))
	return append(append(append(dst[:], src[:]...), 0x08, 0x00), ip...)
}

// Two pods on one node: packets go cali → cali without a tunnel or the underlay. The mode is
// same-node, the path is the two veths, and a packet that never reaches the second veth is a
// host-drop there.
func TestSameNode(t *testing.T) {
	dir := t.TempDir()
	cali := [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}
	macA, macC := [6]byte{0x0a, 0x58, 0, 0, 0, 1}, [6]byte{0x0a, 0x58, 0, 0, 0, 3}
	podA, podC := [4]byte{10, 244, 1, 5}, [4]byte{10, 244, 1, 9}
	const t0 = int64(1_700_000_000_000_000_000)
	var tsA, tsC []int64
	var fA, fC [][]byte
	for i := 0; i < 10; i++ {
		at := t0 + int64(i)*1_000_000
		q := "query " + string(rune('a'+i))
		fA = append(fA, udpFrame(cali, macA, podA, podC, 64, uint16(100+i), q))
		tsA = append(tsA, at)
		if i == 3 {
			continue // dropped between the veths
		}
		fC = append(fC, udpFrame(macC, cali, podA, podC, 63, uint16(100+i), q))
		tsC = append(tsC, at+20_000)
	}
	writePcap(t, filepath.Join(dir, "node-a-cali1111111111a.pcap"), tsA, fA)
	writePcap(t, filepath.Join(dir, "node-a-cali3333333333c.pcap"), tsC, fC)
	c := decode.Load([]string{filepath.Join(dir, "node-a-cali1111111111a.pcap"), filepath.Join(dir, "node-a-cali3333333333c.pcap")},
		decode.Options{}, decode.PointConfig{})
	r := Correlate(c, Options{})
	if r.Mode != "same-node" {
		t.Errorf("mode %q, want same-node", r.Mode)
	}
	if len(r.Flows) != 1 {
		t.Fatalf("%d flows, want 1", len(r.Flows))
	}
	f := r.Flows[0]
	if got := f.Path; len(got) != 2 || got[0] != "node-a/cali1111111111a" || got[1] != "node-a/cali3333333333c" {
		t.Errorf("path %v", got)
	}
	if f.Packets != 10 || f.Delivered != 9 || f.Lost != 1 {
		t.Errorf("packets %d delivered %d lost %d, want 10, 9, 1", f.Packets, f.Delivered, f.Lost)
	}
	found := false
	for _, a := range r.Anomalies {
		if a.Kind == "loss" && a.Where.From == "node-a/cali1111111111a" && a.Where.To == "node-a/cali3333333333c" {
			found = true
			if len(a.Evidence) != 1 || a.Evidence[0].Frame != 4 {
				t.Errorf("evidence %v, want the lost frame 4", a.Evidence)
			}
		}
	}
	if !found {
		t.Errorf("no loss at cali → cali: %+v", r.Anomalies)
	}
	for _, s := range r.Segments {
		if s.Kind != "host" || s.LatencyNs.Min != 20_000 {
			t.Errorf("segment %+v, want host with 20 µs", s)
		}
	}
}

// ipipEth wraps an inner IPv4 packet in IP-in-IP and Ethernet.
func ipipEth(inner []byte, src, dst [4]byte, id uint16) []byte {
	ip := make([]byte, 20, 20+len(inner))
	ip[0], ip[8], ip[9] = 0x45, 63, 4
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(inner)))
	binary.BigEndian.PutUint16(ip[4:], id)
	copy(ip[12:], src[:])
	copy(ip[16:], dst[:])
	binary.BigEndian.PutUint16(ip[10:], csum(ip[:20]))
	return append(append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00}, ip...), inner...)
}

// fragment splits a UDP datagram (from udpFrame, Ethernet stripped) into two IPv4 fragments.
func fragment(pkt []byte, ttl uint8) (first, second []byte) {
	body := pkt[20:]
	cut := 16 // bytes of the UDP datagram in the first fragment (a multiple of 8)
	mk := func(part []byte, off int, more bool) []byte {
		h := append([]byte(nil), pkt[:20]...)
		h[8] = ttl
		binary.BigEndian.PutUint16(h[2:], uint16(20+len(part)))
		ff := uint16(off / 8)
		if more {
			ff |= 0x2000
		}
		binary.BigEndian.PutUint16(h[6:], ff)
		binary.BigEndian.PutUint16(h[10:], 0)
		binary.BigEndian.PutUint16(h[10:], csum(h[:20]))
		return append(h, part...)
	}
	return mk(body[:cut], 0, true), mk(body[cut:], cut, false)
}

// IP fragments are followed one by one: each fragment is its own journey (matched by id, offset and
// bytes), so a lost second fragment shows where it vanished while the first was delivered.
func TestFragments(t *testing.T) {
	dir := t.TempDir()
	cali := [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}
	macA := [6]byte{0x0a, 0x58, 0, 0, 0, 1}
	podA, podB := [4]byte{10, 244, 1, 5}, [4]byte{10, 244, 2, 7}
	nodeA, nodeB := [4]byte{192, 168, 10, 2}, [4]byte{192, 168, 20, 2}
	const t0 = int64(1_700_000_000_000_000_000)
	var tsC, tsE, tsB []int64
	var fC, fE, fB [][]byte
	for i := 0; i < 20; i++ {
		at := t0 + int64(i)*1_000_000
		dgram := udpFrame(podB2mac(), macA, podA, podB, 64, uint16(500+i), "a datagram long enough to fragment "+string(rune('a'+i)))[14:]
		f1, f2 := fragment(dgram, 64)
		g1, g2 := fragment(dgram, 63)
		fC = append(fC, append(append(cali[:], macA[:]...), append([]byte{8, 0}, f1...)...),
			append(append(cali[:], macA[:]...), append([]byte{8, 0}, f2...)...))
		tsC = append(tsC, at, at+1000)
		fE = append(fE, ipipEth(g1, nodeA, nodeB, uint16(900+2*i)), ipipEth(g2, nodeA, nodeB, uint16(901+2*i)))
		tsE = append(tsE, at+50_000, at+51_000)
		fB = append(fB, ipipEth(g1, nodeA, nodeB, uint16(900+2*i)))
		tsB = append(tsB, at+300_000)
		if i != 7 { // the second fragment of datagram 7 is lost on the wire
			fB = append(fB, ipipEth(g2, nodeA, nodeB, uint16(901+2*i)))
			tsB = append(tsB, at+301_000)
		}
	}
	paths := []string{filepath.Join(dir, "node-a-cali1111111111a.pcap"), filepath.Join(dir, "node-a-eth0.pcap"),
		filepath.Join(dir, "node-b-eth0.pcap")}
	writePcap(t, paths[0], tsC, fC)
	writePcap(t, paths[1], tsE, fE)
	writePcap(t, paths[2], tsB, fB)
	r := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{NodeIPs: nil}), Options{Journeys: true})
	if len(r.Flows) != 1 {
		t.Fatalf("%d flows, want 1: %+v", len(r.Flows), r.Flows)
	}
	f := r.Flows[0]
	// node-b's tunnel and pod were not captured: the fragments that reached its eth0 left the captures
	// there (not delivered, not lost).
	if f.Packets != 40 || f.Lost != 1 || f.Delivered != 0 || f.NotCaptured != 39 {
		t.Errorf("packets %d delivered %d lost %d not captured %d, want 40, 0, 1, 39", f.Packets, f.Delivered, f.Lost,
			f.NotCaptured)
	}
	if len(f.LostAt) != 1 || f.LostAt[0].From != "node-a/eth0" || f.LostAt[0].To != "node-b/eth0" {
		t.Errorf("lost at %+v, want node-a/eth0 → node-b/eth0", f.LostAt)
	}
	for _, j := range r.Journeys {
		if len(j.Hops) < 2 && j.Status != statusLost {
			t.Errorf("journey %d: %d hops, status %s", j.ID, len(j.Hops), j.Status)
		}
	}
}

func podB2mac() [6]byte { return [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee} }

// UDP requests pair with the first response that follows within a second; a request without one and
// a response too late for any request stay unpaired.
func TestUDPPairs(t *testing.T) {
	dir := t.TempDir()
	cali := [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}
	macA, macC := [6]byte{0x0a, 0x58, 0, 0, 0, 1}, [6]byte{0x0a, 0x58, 0, 0, 0, 3}
	podA, podC := [4]byte{10, 244, 1, 5}, [4]byte{10, 244, 1, 9}
	const t0 = int64(1_700_000_000_000_000_000)
	type pkt struct {
		at  int64
		req bool
		tag string
	}
	pkts := []pkt{{0, true, "q0"}, {10e6, false, "r0"}, {100e6, true, "q1"}, {200e6, true, "q2"}, {1500e6, false, "r2"}}
	var tsA, tsC []int64
	var fA, fC [][]byte
	for i, p := range pkts {
		if p.req {
			fA = append(fA, udpFrame(cali, macA, podA, podC, 64, uint16(i), p.tag))
			fC = append(fC, udpFrame(macC, cali, podA, podC, 63, uint16(i), p.tag))
			tsA, tsC = append(tsA, t0+p.at), append(tsC, t0+p.at+20_000)
		} else {
			r := udpFrame(cali, macC, podC, podA, 64, uint16(i), p.tag)
			binary.BigEndian.PutUint16(r[34:], 53) // ports swapped: 53 → 5353
			binary.BigEndian.PutUint16(r[36:], 5353)
			d := udpFrame(macA, cali, podC, podA, 63, uint16(i), p.tag)
			binary.BigEndian.PutUint16(d[34:], 53)
			binary.BigEndian.PutUint16(d[36:], 5353)
			fC = append(fC, r)
			fA = append(fA, d)
			tsC, tsA = append(tsC, t0+p.at), append(tsA, t0+p.at+20_000)
		}
	}
	a, c := filepath.Join(dir, "node-a-cali1111111111a.pcap"), filepath.Join(dir, "node-a-cali3333333333c.pcap")
	writePcap(t, a, tsA, fA)
	writePcap(t, c, tsC, fC)
	r := Correlate(decode.Load([]string{a, c}, decode.Options{}, decode.PointConfig{}), Options{})
	if len(r.Flows) != 1 {
		t.Fatalf("%d flows: %+v", len(r.Flows), r.Flows)
	}
	if got := r.Flows[0].UDPPairs; got != 1 {
		t.Errorf("UDP pairs %d, want 1 (q0/r0; q1 and q2 unanswered, r2 too late)", got)
	}
}

// udp6Frame builds Ethernet/IPv6/UDP with a correct checksum (mandatory over IPv6).
func udp6Frame(dst, src [6]byte, sip, dip [16]byte, hops uint8, sport, dport uint16, payload string) []byte {
	udp := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(udp[0:], sport)
	binary.BigEndian.PutUint16(udp[2:], dport)
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	copy(udp[8:], payload)
	pseudo := append(append(append([]byte{}, sip[:]...), dip[:]...), 0, 0, byte(len(udp)>>8), byte(len(udp)), 0, 0, 0, 17)
	binary.BigEndian.PutUint16(udp[6:], csum(append(pseudo, udp...)))
	ip := make([]byte, 40)
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(len(udp)))
	ip[6], ip[7] = 17, hops
	copy(ip[8:], sip[:])
	copy(ip[24:], dip[:])
	return append(append(append(dst[:], src[:]...), 0x86, 0xdd), append(ip, udp...)...)
}

// IPv6 pods on two nodes, routed on the underlay (BGP mode): the pods behind the veths, the path,
// the mode and a loss between the nodes are all worked out as for IPv4.
func TestIPv6AcrossNodes(t *testing.T) {
	dir := t.TempDir()
	cali := [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}
	macA, macB := [6]byte{0x0a, 0x58, 0, 0, 0, 1}, [6]byte{0x0a, 0x58, 0, 0, 0, 2}
	nicA, nicB := [6]byte{2, 0, 0, 0, 0, 0xa}, [6]byte{2, 0, 0, 0, 0, 0xb}
	podA := netip.MustParseAddr("fd00:10:244:1::5").As16()
	podB := netip.MustParseAddr("fd00:10:244:2::7").As16()
	const t0 = int64(1_700_000_000_000_000_000)
	var ts [4][]int64
	var fr [4][][]byte
	add := func(k int, at int64, f []byte) { ts[k], fr[k] = append(ts[k], at), append(fr[k], f) }
	for i := 0; i < 10; i++ {
		at := t0 + int64(i)*2_000_000
		q, r := "request "+string(rune('a'+i)), "response "+string(rune('a'+i))
		add(0, at, udp6Frame(cali, macA, podA, podB, 64, 40000, 53, q))
		add(1, at+10_000, udp6Frame(nicB, nicA, podA, podB, 63, 40000, 53, q))
		if i == 6 {
			continue // lost between the nodes
		}
		add(2, at+110_000, udp6Frame(nicB, nicA, podA, podB, 62, 40000, 53, q))
		add(3, at+120_000, udp6Frame(macB, cali, podA, podB, 61, 40000, 53, q))
		add(3, at+500_000, udp6Frame(cali, macB, podB, podA, 64, 53, 40000, r))
		add(2, at+510_000, udp6Frame(nicA, nicB, podB, podA, 63, 53, 40000, r))
		add(1, at+610_000, udp6Frame(nicA, nicB, podB, podA, 62, 53, 40000, r))
		add(0, at+620_000, udp6Frame(macA, cali, podB, podA, 61, 53, 40000, r))
	}
	names := []string{"node-a-cali1111111111a.pcap", "node-a-eth0.pcap", "node-b-eth0.pcap", "node-b-cali2222222222b.pcap"}
	var paths []string
	for k, n := range names {
		paths = append(paths, filepath.Join(dir, n))
		writePcap(t, paths[k], ts[k], fr[k])
	}
	r := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{})
	if r.Mode != "bgp" {
		t.Errorf("mode %q, want bgp", r.Mode)
	}
	pods := map[string]string{}
	for _, p := range r.Points {
		pods[p.ID] = p.PodIP
	}
	if pods["node-a/cali1111111111a"] != "fd00:10:244:1::5" || pods["node-b/cali2222222222b"] != "fd00:10:244:2::7" {
		t.Errorf("pods behind the veths: %v", pods)
	}
	if len(r.Flows) != 1 {
		t.Fatalf("%d flows", len(r.Flows))
	}
	f := r.Flows[0]
	if want := []string{"node-a/cali1111111111a", "node-a/eth0", "node-b/eth0", "node-b/cali2222222222b"}; fmt.Sprint(f.Path) != fmt.Sprint(want) {
		t.Errorf("path %v, want %v", f.Path, want)
	}
	if f.Packets != 19 || f.Delivered != 18 || f.Lost != 1 || len(f.LostAt) != 1 || f.LostAt[0].From != "node-a/eth0" ||
		f.LostAt[0].To != "node-b/eth0" {
		t.Errorf("packets %d delivered %d lost %d at %+v; want 19, 18, 1 at node-a/eth0 → node-b/eth0", f.Packets, f.Delivered, f.Lost, f.LostAt)
	}
	if f.UDPPairs != 9 {
		t.Errorf("UDP pairs %d, want 9", f.UDPPairs)
	}
}
