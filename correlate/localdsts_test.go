package correlate

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// editFrames copies classic pcap file src (Ethernet or raw IPv4 frames) to dst, passing each frame's
// innermost IPv4 header (through one IP-in-IP header; nil for a frame without one) to edit, which may
// change it in place: the frame is dropped when edit returns false.
func editFrames(t *testing.T, src, dst string, edit func(ip []byte) bool) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil || len(b) < 24 {
		t.Fatal(src, err)
	}
	link := binary.LittleEndian.Uint32(b[20:])
	out := append([]byte{}, b[:24]...)
	for off := 24; off+16 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		if off+16+n > len(b) {
			t.Fatalf("%s: record at %d runs past the end", src, off)
		}
		rec := append([]byte{}, b[off:off+16+n]...)
		off += 16 + n
		var ip []byte
		switch f := rec[16:]; {
		case link == 1 && len(f) >= 34 && f[12] == 0x08 && f[13] == 0x00:
			ip = f[14:]
		case link == 101 && len(f) >= 20 && f[0]>>4 == 4:
			ip = f
		}
		if ip != nil && ip[9] == 4 && len(ip) >= int(ip[0]&15)*4+20 {
			ip = ip[int(ip[0]&15)*4:]
		}
		if ip != nil && ip[0]>>4 != 4 {
			ip = nil
		}
		if edit(ip) {
			out = append(out, rec...)
		}
	}
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// udpPorts returns an IPv4 UDP packet's ports; ok is false for any other packet.
func udpPorts(ip []byte) (sp, dp uint16, ok bool) {
	if ip == nil || ip[9] != 17 || len(ip) < int(ip[0]&15)*4+8 {
		return 0, 0, false
	}
	u := ip[int(ip[0]&15)*4:]
	return binary.BigEndian.Uint16(u), binary.BigEndian.Uint16(u[2:]), true
}

// setDst gives IPv4 packet ip the destination address a, with its header and UDP/TCP checksums
// updated (RFC 1624; a UDP checksum of zero, none, stays zero).
func setDst(ip []byte, a [4]byte) {
	fix := func(sum []byte, old, new []byte) {
		s := uint32(^binary.BigEndian.Uint16(sum))
		for i := 0; i < len(old); i += 2 {
			s += uint32(^binary.BigEndian.Uint16(old[i:])) + uint32(binary.BigEndian.Uint16(new[i:]))
		}
		for s>>16 != 0 {
			s = s&0xffff + s>>16
		}
		binary.BigEndian.PutUint16(sum, ^uint16(s))
	}
	old := append([]byte{}, ip[16:20]...)
	fix(ip[10:12], old, a[:])
	hl := int(ip[0]&15) * 4
	switch {
	case ip[9] == 17 && len(ip) >= hl+8 && binary.BigEndian.Uint16(ip[hl+6:]) != 0:
		fix(ip[hl+6:hl+8], old, a[:])
	case ip[9] == 6 && len(ip) >= hl+18:
		fix(ip[hl+16:hl+18], old, a[:])
	}
	copy(ip[16:20], a[:])
}

// The healthy-ipip lab scenario's UDP flow (pod-a 10.244.1.5:37505 on node-a → pod-b 10.244.2.7:9000
// on node-b, 3 datagrams, all answered) made one way and sent elsewhere: its datagrams sent to dst at
// pod-a's cali, and nothing of the flow anywhere else (no answer, nothing on node-a's tunl0 and eth0,
// the router or node-b). Its ping and HTTP flows, untouched, show pod-b at node-b's cali. Where dst
// lives decides, as the captures show it:
//   - 10.244.2.9, in pod-b's /26: on node-b, so node-a dropped them: ERROR host-drop (as on main; the
//     third datagram came after node-a's eth0 capture's last frame: not captured);
//   - 10.99.0.9, outside the /16 of node-a's pods: no pod of node-a: ERROR host-drop (as on main);
//   - 10.244.1.9, in pod-a's /26: on node-a, left the captures at pod-a's cali: path-incomplete that says
//     so; on main: ERROR host-drop at node-a/cali5e1c4d6c68c → node-a/eth0 (2 of 2 lost);
//   - 10.244.3.9, in no captured pod's /26 but in node-a's pods' /16: it may be on node-a: path-incomplete
//     that says so and names --k8s, not a drop; on main the same ERROR host-drop.
func TestLocalDstsByBlock(t *testing.T) {
	dir := "../testdata/lab/scenarios/healthy-ipip"
	files, _ := filepath.Glob(filepath.Join(dir, "*-*.pcap"))
	if len(files) == 0 {
		t.Skip("no healthy-ipip lab scenario")
	}
	const caliA = "node-a-cali5e1c4d6c68c.pcap"
	for _, c := range []struct {
		name string
		dst  [4]byte
		err  bool   // ERROR host-drop at pod-a's cali → node-a's eth0 (2: the third came after eth0's last frame)
		says string // else: the path-incomplete warning at pod-a's cali says this, of the 3
		k8s  bool   // and its next step names --k8s
	}{
		{"another node's block", [4]byte{10, 244, 2, 9}, true, "", false},
		{"outside the node's pods' /16", [4]byte{10, 99, 0, 9}, true, "", false},
		{"the node's block", [4]byte{10, 244, 1, 9}, false, "lives on node-a itself by its address", false},
		{"no block known", [4]byte{10, 244, 3, 9}, false, "may be a pod of node-a itself", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			tmp := t.TempDir()
			var in []string
			for _, f := range files {
				if strings.HasSuffix(f, "-any.pcap") {
					continue
				}
				out := filepath.Join(tmp, filepath.Base(f))
				atA := filepath.Base(f) == caliA
				editFrames(t, f, out, func(ip []byte) bool {
					sp, dp, ok := udpPorts(ip)
					if !ok || sp != 37505 && dp != 37505 {
						return true
					}
					if atA && sp == 37505 {
						setDst(ip, c.dst)
						return true
					}
					return false
				})
				in = append(in, out)
			}
			r := Correlate(decode.Load(in, decode.Options{}, decode.PointConfig{}), Options{})
			var drop, left *Anomaly
			for i, an := range r.Anomalies {
				switch {
				case an.Kind == "host-drop" && an.Where.From == "node-a/cali5e1c4d6c68c" && an.Where.To == "node-a/eth0":
					drop = &r.Anomalies[i]
				case an.Kind == "path-incomplete" && an.Where.Point == "node-a/cali5e1c4d6c68c":
					left = &r.Anomalies[i]
				case an.Severity == "error":
					t.Errorf("%s %s at %v: %s", an.Severity, an.Kind, an.Where, an.Message)
				}
			}
			if c.err {
				if drop == nil || drop.Severity != "error" || drop.Count != 2 {
					t.Errorf("host-drop: %+v, want an error of 2", drop)
				}
				if left != nil {
					t.Errorf("path-incomplete at pod-a's cali: %+v", left)
				}
				return
			}
			if drop != nil {
				t.Errorf("%s host-drop at %v (%d): want none", drop.Severity, drop.Where, drop.Count)
			}
			if left == nil || left.Severity != "warning" || left.Count != 3 || !strings.Contains(left.Message, c.says) ||
				!strings.Contains(left.Message, addrOf(uint32(c.dst[0])<<24|uint32(c.dst[1])<<16|uint32(c.dst[2])<<8|uint32(c.dst[3])).String()) ||
				!strings.Contains(left.Next, "cali interface on node-a") || strings.Contains(left.Next, "--k8s") != c.k8s {
				t.Errorf("path-incomplete at pod-a's cali: %+v", left)
			}
			for _, f := range r.Flows {
				if f.Dst.Port == 9000 && (f.Packets != 3 || f.NotCaptured != 3 || f.Lost != 0) {
					t.Errorf("flow %s → %v: %d packets, %d lost, %d not captured; want 3, 0, 3", f.ID, f.Dst, f.Packets, f.Lost, f.NotCaptured)
				}
			}
		})
	}
}

// The same-node lab scenario made one way: pod-a's cali without a packet from pod-c (10.244.1.9, on
// node-a too), with node-a's eth0 and tunl0, and no --k8s. Nothing came back into the node's pods, so
// no TTL says pod-c is on node-a; its address does: in the /26 of pod-a. pod-a's 12 packets to pod-c
// left the captures at pod-a's cali (path-incomplete, naming the cali to capture), none lost; the
// node's traffic with pod-a is delivered. On main: ERROR host-drop at node-a/cali5e1c4d6c68c →
// node-a/eth0, 12 of 12 lost.
func TestSameNodeOneWayNoK8s(t *testing.T) {
	dir := "../testdata/lab/scenarios/same-node"
	if _, err := os.Stat(filepath.Join(dir, "truth.json")); err != nil {
		t.Skip("no same-node lab scenario: ", err)
	}
	caliA := filepath.Join(t.TempDir(), "node-a-cali5e1c4d6c68c.pcap")
	keepFramesFrom(t, filepath.Join(dir, "node-a-cali5e1c4d6c68c.pcap"), caliA, [4]byte{10, 244, 1, 9})
	files := []string{caliA, filepath.Join(dir, "node-a-eth0.pcap"), filepath.Join(dir, "node-a-tunl0.pcap")}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	for _, an := range r.Anomalies {
		if an.Severity == "error" || an.Kind == "host-drop" {
			t.Errorf("%s %s at %v: %s", an.Severity, an.Kind, an.Where, an.Message)
		}
	}
	toC, left, node := 0, 0, 0
	for _, f := range r.Flows {
		switch {
		case f.Dst.IP == "10.244.1.9":
			toC += f.Packets
			left += f.NotCaptured
		case f.Src.IP == "192.168.10.2":
			node += f.Delivered
		}
		if f.Lost != 0 {
			t.Errorf("flow %s %v → %v: %d lost", f.ID, f.Src, f.Dst, f.Lost)
		}
	}
	if toC != 12 || left != 12 || node != 24 {
		t.Errorf("pod-a → pod-c: %d packets, %d left the captures; the node's with pod-a: %d delivered; want 12, 12, 24",
			toC, left, node)
	}
	var an *Anomaly
	for i := range r.Anomalies {
		if r.Anomalies[i].Kind == "path-incomplete" {
			an = &r.Anomalies[i]
		}
	}
	if an == nil || an.Severity != "warning" || an.Where.Point != "node-a/cali5e1c4d6c68c" || an.Count != 12 ||
		!strings.Contains(an.Message, "10.244.1.9, which lives on node-a itself by its address") ||
		!strings.Contains(an.Next, "cali interface on node-a") || !strings.Contains(an.Next, "-i any") {
		t.Errorf("path-incomplete: %+v", an)
	}
}

// True drops whose destination's node no capture shows still read as drops when the flow's own packets
// show the destination is elsewhere:
//   - state-blackhole-route with node-b's captures only: pod-b's answers to pod-a (10.244.1.5, on node-a,
//     which nothing captured) die in node-b's blackhole route. pod-a's packets came in over node-b's
//     underlay, so pod-a lives on another node: ERROR host-drop at node-b/cali2f5353dd8c5 →
//     node-b/eth0 (6).
//   - healthy-ipip with node-a's captures only, its UDP flow made one way (no answers) and its last two
//     datagrams taken off node-a's tunl0 and eth0: the first went through the tunnel, so pod-b
//     (10.244.2.7, which no capture places) is on another node: the second is lost between pod-a's
//     cali and node-a's tunl0 (a loss warning: the pod pair's other flows went through; the third came
//     after eth0's last frame).
//   - the same without the first datagram at tunl0 and eth0: the ping and HTTP flows to pod-b went through
//     node-a's tunnel, so pod-b is not on node-a: 2 lost there.
//
// All read as on main; without that evidence they would read as "may be a pod of" the node
// (localDsts), not as drops.
func TestLocalDstsRemoteByFlow(t *testing.T) {
	lab := "../testdata/lab/scenarios/"
	if _, err := os.Stat(lab + "state-blackhole-route"); err != nil {
		t.Skip("no lab scenarios: ", err)
	}
	t.Run("reverse direction crossed the underlay", func(t *testing.T) {
		files, _ := filepath.Glob(lab + "state-blackhole-route/node-b-*.pcap")
		var in []string
		for _, f := range files {
			if !strings.HasSuffix(f, "-any.pcap") {
				in = append(in, f)
			}
		}
		r := Correlate(decode.Load(in, decode.Options{}, decode.PointConfig{}), Options{})
		wantDrop(t, r, "host-drop", "node-b/cali2f5353dd8c5", "node-b/eth0", 6)
	})
	// healthy-ipip, node-a's files, the UDP flow one way and kept at node-a's tunl0 and eth0 for its
	// first keep datagrams: lost ones between pod-a's cali and tunl0 (the last came after eth0's last
	// frame: not captured).
	for _, c := range []struct {
		name       string
		keep, lost int
	}{{"earlier packets crossed the tunnel", 1, 1}, {"other flows to it crossed the tunnel", 0, 2}} {
		t.Run(c.name, func(t *testing.T) {
			dir, tmp := lab+"healthy-ipip/", t.TempDir()
			var in []string
			for _, name := range []string{"node-a-cali5e1c4d6c68c.pcap", "node-a-tunl0.pcap", "node-a-eth0.pcap"} {
				seen := 0
				editFrames(t, dir+name, filepath.Join(tmp, name), func(ip []byte) bool {
					sp, _, ok := udpPorts(ip)
					switch {
					case !ok || sp != 37505 && sp != 9000:
						return true
					case sp == 9000:
						return false // the answers
					}
					seen++
					return seen <= c.keep || strings.HasPrefix(name, "node-a-cali")
				})
				in = append(in, filepath.Join(tmp, name))
			}
			r := Correlate(decode.Load(in, decode.Options{}, decode.PointConfig{}), Options{})
			for _, an := range r.Anomalies {
				if an.Kind == "path-incomplete" && an.Where.Point == "node-a/cali5e1c4d6c68c" {
					t.Errorf("path-incomplete at pod-a's cali: %s", an.Message)
				}
			}
			for _, f := range r.Flows {
				if f.Dst.Port == 9000 && (f.Lost != c.lost || len(f.LostAt) != 1 || f.LostAt[0].From != "node-a/cali5e1c4d6c68c" ||
					f.LostAt[0].To != "node-a/tunl0") {
					t.Errorf("flow %s → %v: %d lost at %+v, want %d at pod-a's cali → tunl0", f.ID, f.Dst, f.Lost, f.LostAt, c.lost)
				}
			}
		})
	}
}

// healthy-ipip, node-a's files, every IPv4 frame taken off node-a's eth0 and tunl0 (their ARP kept): all
// of pod-a's packets stop at its cali, and no other flow's packets show pod-b elsewhere. But pod-b's
// answers came into pod-a's cali with TTL 62, routed twice: pod-b is not on node-a, and nothing is put
// there. The result is main's (ERROR host-drop at pod-a's cali → node-a's eth0, 14 lost: eth0 shows none
// of the packets; calipath report, which rereads the ACKs, counts 3 of them acknowledged); without
// routedBack, pod-b "may be a pod of node-a" and its answers made 27 delivered.
func TestLocalDstsRoutedBack(t *testing.T) {
	dir := "../testdata/lab/scenarios/healthy-ipip/"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("no healthy-ipip lab scenario: ", err)
	}
	tmp := t.TempDir()
	in := []string{dir + "node-a-cali5e1c4d6c68c.pcap"}
	for _, name := range []string{"node-a-tunl0.pcap", "node-a-eth0.pcap"} {
		editFrames(t, dir+name, filepath.Join(tmp, name), func(ip []byte) bool { return ip == nil })
		in = append(in, filepath.Join(tmp, name))
	}
	r := Correlate(decode.Load(in, decode.Options{}, decode.PointConfig{}), Options{})
	for _, an := range r.Anomalies {
		if an.Kind == "path-incomplete" {
			t.Errorf("path-incomplete at %s: %s", an.Where.Point, an.Message)
		}
	}
	wantDrop(t, r, "host-drop", "node-a/cali5e1c4d6c68c", "node-a/eth0", 14)
	if s := r.Summary; s.Delivered != 14 || s.Lost != 14 {
		t.Errorf("%d delivered, %d lost; want 14 and 14", s.Delivered, s.Lost)
	}
}

// wantDrop checks that r has an ERROR of kind between points from and to, of n packets.
func wantDrop(t *testing.T, r *Result, kind, from, to string, n int) {
	t.Helper()
	for _, an := range r.Anomalies {
		if an.Kind == kind && an.Where.From == from && an.Where.To == to {
			if an.Severity != "error" || an.Count != n {
				t.Errorf("%s %s (%d), want an error of %d", an.Severity, kind, an.Count, n)
			}
			return
		}
	}
	t.Errorf("no %s at %s → %s: %+v", kind, from, to, r.Anomalies)
}
