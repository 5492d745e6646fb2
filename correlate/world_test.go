package correlate

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// filesWith and oneNode read a file's capture sources: file 0 has two interfaces on two nodes, file 1
// one source, file 2 none.
func TestFileSources(t *testing.T) {
	w := &world{
		c: &decode.Capture{
			Obs:     make([][]decode.Observation, 3),
			Sources: []decode.Source{{File: 0, Iface: 0}, {File: 1}, {File: 0, Iface: 1}},
		},
		srcPoint:  []int{0, 1, 2},
		pointNode: []int{0, 0, 1},
		pointRole: []decode.Role{decode.RoleUnderlay, decode.RolePodVeth, decode.RoleUnderlay},
	}
	pods := w.filesWith(func(p int) bool { return w.pointRole[p] == decode.RolePodVeth })
	if pods[0] || !pods[1] || pods[2] {
		t.Errorf("files with pod-veth sources: %v, want [false true false]", pods)
	}
	node1 := w.filesWith(func(p int) bool { return w.pointNode[p] == 1 })
	if !node1[0] || node1[1] || node1[2] {
		t.Errorf("files with node-1 sources: %v, want [true false false]", node1)
	}
	if w.oneNode(0) || !w.oneNode(1) || !w.oneNode(2) {
		t.Errorf("one node: %v %v %v, want false true true", w.oneNode(0), w.oneNode(1), w.oneNode(2))
	}
}

// tcpStep counts a resent segment (also one ending exactly where the data sent so far ends), a
// repeated SYN and a reset; new data, a FIN and a pure ACK are not resends, nor is the later half of a
// packet a too small --window split and left unjoined (lateOrphans: its first half carried it).
func TestTCPStep(t *testing.T) {
	orphan := int32(11)
	a := &placement{analysis: &analysis{lateOut: lateOut{lateOrphans: map[int32]bool{orphan: true}}},
		placementOut: &placementOut{retransJ: map[int32]bool{}, offloadNew: map[int32]bool{}}}
	fl := &flowAcc{}
	fl.client.proto = 6
	seg := func(seq uint32, payload uint16, flags uint8) *decode.Observation {
		return &decode.Observation{Proto: 6, Seq: seq, Len: 40 + payload, HdrLen: 40, TCPFlags: flags}
	}
	steps := []struct {
		o      *decode.Observation
		resent bool
	}{
		{seg(1000, 0, decode.TCPSyn), false},
		{seg(1001, 100, decode.TCPAck), false}, // 1001..1100
		{seg(1101, 100, decode.TCPAck), false}, // 1101..1200
		{seg(1101, 100, decode.TCPAck), true},  // the last segment again: ends where the data ends
		{seg(1001, 100, decode.TCPAck), true},  // an earlier one
		{seg(1201, 0, decode.TCPAck), false},   // a pure ACK
		{seg(1000, 0, decode.TCPSyn), true},    // a second SYN
		{seg(1201, 50, decode.TCPAck), false},  // new data: 1201..1250
		{seg(1251, 0, decode.TCPFin|decode.TCPAck), false},
		{seg(1251, 0, decode.TCPFin|decode.TCPAck), true}, // the FIN again
		{seg(1252, 0, decode.TCPRst), false},
		{seg(1201, 50, decode.TCPAck), false}, // step 11, orphan: the segment of step 7 again, its later half
	}
	want := int32(0)
	for i, s := range steps {
		a.tcpStep(fl, c2s, int32(i), s.o)
		if s.resent {
			want++
		}
		if a.retransJ[int32(i)] != s.resent {
			t.Errorf("step %d: resent %v, want %v", i, a.retransJ[int32(i)], s.resent)
		}
	}
	if fl.retrans != want || fl.resets != 1 {
		t.Errorf("retransmissions %d, resets %d; want %d and 1", fl.retrans, fl.resets, want)
	}
}

// A loss anomaly's evidence leaves out, per flow, as many lost journeys as ICMP errors answered, and
// keeps at most 10 frames.
func TestLossEvidence(t *testing.T) {
	s := &segAcc{}
	flows := []int32{1, 1, 2, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}
	for i, f := range flows {
		s.evidence = append(s.evidence, lossEv{f, int32(i), Evidence{File: "x", Frame: uint32(i + 1)}})
	}
	got := lossEvidence(s, map[segFlow]int{{s, 1}: 2, {&segAcc{}, 2}: 1})
	var frames []uint32
	for _, e := range got {
		frames = append(frames, e.Frame)
	}
	want := []uint32{3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	if fmt.Sprint(frames) != fmt.Sprint(want) {
		t.Errorf("evidence frames %v, want %v", frames, want)
	}
}

// The owner cache answers as ownerOf and nodeOf do, for owned and unowned addresses, node IPs and
// others, IPv4 and IPv6 indexes alike, also when addresses share a cache slot.
func TestOwnerCache(t *testing.T) {
	w := &world{podOwner: map[uint32]int{}, podOwner6: map[uint32]int{}, nodeOfIP: map[uint32]int{},
		nodeOfIP6: map[uint32]int{}, pointNode: make([]int, 117)}
	for p := range w.pointNode {
		w.pointNode[p] = p % 5
	}
	for a := uint32(0); a < 2000; a += 3 {
		w.podOwner[0x0af40000+a] = int(a % 17)
		w.podOwner6[a] = int(a%17) + 100
	}
	for a := uint32(1); a < 2000; a += 7 {
		w.nodeOfIP[0x0af40000+a] = int(a % 11)
		w.nodeOfIP6[a] = int(a%13) + 1
	}
	c := ownerCache{w: w}
	for round := 0; round < 3; round++ {
		for a := uint32(0); a < 2000; a++ {
			for _, v6 := range []bool{false, true} {
				addr := a
				if !v6 {
					addr += 0x0af40000
				}
				wp, wok := w.ownerOf(v6, addr)
				gp, gok := c.ownerOf(v6, addr)
				if wok != gok || (wok && wp != gp) {
					t.Fatalf("v6 %v %#x: cache says %d %v, ownerOf %d %v", v6, addr, gp, gok, wp, wok)
				}
				if wn, gn := w.nodeOf(v6, addr), c.nodeOf(v6, addr); wn != gn {
					t.Fatalf("v6 %v %#x: cache says node %d, nodeOf %d", v6, addr, gn, wn)
				}
			}
		}
	}
}

// A connection's journeys stop being offload candidates once closed or offloadWin after they opened;
// the sweep drops connections whose journeys all expired.
func TestTCPOffloadIndex(t *testing.T) {
	m := &matcher{ring: make([]jstate, 1<<12), mask: 1<<12 - 1, tcp: map[uint64][]int32{}}
	ms := int64(time.Millisecond)
	for i := 0; i < 5; i++ {
		m.newJourney(int64(i) * 4 * ms) // opened at 0, 4, 8, 12, 16 ms
	}
	conn := []int32{0, 1, 2, 3, 4}
	if n := m.expired(conn, 16*ms); n != 2 { // 0 and 1 opened 16 and 12 ms before: past offloadWin (10 ms)
		t.Errorf("at 16 ms, %d expired, want 2", n)
	}
	m.base = 3 // 0–2 closed
	if n := m.expired(conn, 16*ms); n != 3 {
		t.Errorf("with 0–2 closed, %d expired, want 3", n)
	}
	// Offload registers every TCP data journey under its connection; a sweep forgets the dead ones.
	m = &matcher{ring: make([]jstate, 1<<12), mask: 1<<12 - 1, tcp: map[uint64][]int32{}, tcpSweep: 3}
	for i := 0; i < 3; i++ {
		o := &decode.Observation{Proto: 6, Src: uint32(i), Dst: 9, Sport: 1000, Dport: 80, Seq: 1, Len: 140, HdrLen: 40}
		j := m.newJourney(int64(i) * 20 * ms)
		m.offload(j, o, uint32(i), int64(i)*20*ms, 0, 0)
	}
	if len(m.tcp) != 1 {
		t.Errorf("after the sweep at 40 ms: %d connections kept, want 1 (the two opened 20 and 40 ms before expired)", len(m.tcp))
	}
}

// labWithFrame copies the healthy-ipip lab's per-interface captures to a temporary folder, changing
// the first frame of file name for which change (given the frame's bytes, from its Ethernet header)
// reports true, and returns the paths and that frame's number.
func labWithFrame(t *testing.T, name string, change func(d []byte) bool) ([]string, uint32) {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	var changed uint32
	for _, f := range []string{"node-a-cali5e1c4d6c68c.pcap", "node-a-tunl0.pcap", "node-a-eth0.pcap",
		"node-b-eth0.pcap", "node-b-tunl0.pcap", "node-b-cali2f5353dd8c5.pcap"} {
		b, err := os.ReadFile("../testdata/lab/scenarios/healthy-ipip/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if f == name { // a little-endian pcap: 24-byte file header, 16-byte record headers
			for off, frame := 24, uint32(1); changed == 0 && off+16 <= len(b); frame++ {
				n := int(binary.LittleEndian.Uint32(b[off+8:]))
				if change(b[off+16 : off+16+n]) {
					changed = frame
				}
				off += 16 + n
			}
			if changed == 0 {
				t.Fatalf("%s: no frame to change", f)
			}
		}
		p := filepath.Join(dir, f)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths, changed
}

// onlyAnomaly checks that r has exactly one anomaly of kind, at point, for one frame: frame.
func onlyAnomaly(t *testing.T, r *Result, kind, point string, frame uint32) {
	t.Helper()
	var found []Anomaly
	for _, an := range r.Anomalies {
		if an.Kind == kind {
			found = append(found, an)
		}
	}
	if len(found) != 1 || found[0].Where.Point != point || found[0].Count != 1 ||
		len(found[0].Evidence) != 1 || found[0].Evidence[0].Frame != frame {
		t.Fatalf("%s anomalies: %+v (frame %d was changed)", kind, found, frame)
	}
}

// labWrongOuter is healthy-ipip's per-interface captures with one IP-in-IP frame of node-a/eth0 from
// 192.168.10.99 instead of node-a's 192.168.10.2 (its header checksum fixed), and that frame's number.
func labWrongOuter(t *testing.T) ([]string, uint32) {
	t.Helper()
	return labWithFrame(t, "node-a-eth0.pcap", func(d []byte) bool {
		// IPv4, protocol 4, from node-a's address: now from 192.168.10.99 (checksum fixed).
		if len(d) < 34 || d[12] != 0x08 || d[13] != 0 || d[14+9] != 4 || [4]byte(d[26:30]) != [4]byte{192, 168, 10, 2} {
			return false
		}
		d[29] = 99
		ip := d[14:34]
		ip[10], ip[11] = 0, 0
		var s uint32
		for i := 0; i < 20; i += 2 {
			s += uint32(ip[i])<<8 | uint32(ip[i+1])
		}
		for s>>16 != 0 {
			s = s&0xffff + s>>16
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(s))
		return true
	})
}

// A frame whose IP-in-IP outer source is not an address of the sending pod's node (the node IPs given,
// as with --node-ip) is reported as wrong-outer-address, at the point that captured it, with that
// frame as evidence.
func TestWrongOuterAddress(t *testing.T) {
	paths, frame := labWrongOuter(t)
	ips := map[string][]netip.Addr{"node-a": {netip.MustParseAddr("192.168.10.2")},
		"node-b": {netip.MustParseAddr("192.168.20.2")}}
	r := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{NodeIPs: ips}), Options{})
	onlyAnomaly(t, r, "wrong-outer-address", "node-a/eth0", frame)
}

// A frame whose inner checksum is bad where it arrives (not at its sender, where offload leaves
// checksums unfinished) is reported as checksum-bad at that point.
func TestChecksumBad(t *testing.T) {
	paths, frame := labWithFrame(t, "node-b-eth0.pcap", func(d []byte) bool {
		// An IP-in-IP ICMP echo of at least 84 bytes: its last byte flipped, past the bytes the
		// fingerprint hashes.
		if len(d) < 34+84 || d[12] != 0x08 || d[13] != 0 || d[14+9] != 4 || d[34+9] != 1 {
			return false
		}
		d[34+84-1] ^= 0xff
		return true
	})
	r := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{})
	onlyAnomaly(t, r, "checksum-bad", "node-b/eth0", frame)
}

// A capture whose records are out of time order (here an early frame of node-b's eth0 moved to the
// end, seconds later) is merged in corrected-time order all the same: the same flows, segments and
// anomalies as the original, lean or not.
func TestUnsortedCapture(t *testing.T) {
	orig, _ := labWithFrame(t, "node-a-eth0.pcap", func([]byte) bool { return true }) // unchanged
	want := Correlate(decode.Load(orig, decode.Options{}, decode.PointConfig{}), Options{})
	dir := t.TempDir()
	var paths []string
	for _, p := range orig {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(p) == "node-b-eth0.pcap" {
			b = moveToEnd(t, b, 4)
		}
		q := filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(q, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, q)
	}
	for _, lean := range []bool{false, true} {
		got := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{Lean: lean})
		type counts struct {
			Flows     []Flow
			Segments  []Segment
			Anomalies []string
		}
		sum := func(r *Result) counts {
			c := counts{Flows: r.Flows, Segments: r.Segments}
			for _, an := range r.Anomalies {
				c.Anomalies = append(c.Anomalies, an.Kind+" "+an.Where.Point+an.Where.From+an.Where.To)
			}
			return c
		}
		if g, w := fmt.Sprintf("%+v", sum(got)), fmt.Sprintf("%+v", sum(want)); g != w {
			t.Errorf("lean %v: with two frames swapped:\n%s\nwant\n%s", lean, g, w)
		}
	}
}

// moveToEnd moves record k (1-based) of a little-endian pcap to its end, checking that the capture
// runs on for more than the matching window after it.
func moveToEnd(t *testing.T, b []byte, k int) []byte {
	t.Helper()
	var recs [][]byte
	for off := 24; off+16 <= len(b); {
		n := 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
		recs = append(recs, b[off:off+n])
		off += n
	}
	sec := func(r []byte) uint32 { return binary.LittleEndian.Uint32(r) }
	if len(recs) <= k || sec(recs[len(recs)-1])-sec(recs[k-1]) < 2 {
		t.Fatal("the capture is too short to move a frame seconds out of order")
	}
	moved := recs[k-1]
	recs = append(recs[:k-1:k-1], recs[k:]...)
	out := append([]byte(nil), b[:24]...)
	for _, r := range append(recs, moved) {
		out = append(out, r...)
	}
	return out
}
