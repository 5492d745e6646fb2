package correlate

import (
	"encoding/binary"
	"github.com/calipath/calipath/decode"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ipSum is the IPv4 header checksum of h (its checksum field zero).
func ipSum(h []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// fragPcap returns little-endian classic pcap file b (Ethernet) with the outer IPv4 datagram of every
// VXLAN (UDP 4789) and IP-in-IP frame whose payload is longer than at bytes split into fragments of
// at bytes (a multiple of 8), as a router with a smaller MTU than the tunnel expects fragments them
// when the outer header does not say DF. lose(n) tells to leave out fragment n (0-based, in the file's
// order of fragments made). It also returns how many datagrams it split.
func fragPcap(t *testing.T, b []byte, at int, lose func(n int) bool) ([]byte, int) {
	t.Helper()
	le := binary.LittleEndian
	if m := le.Uint32(b); m != 0xa1b2c3d4 && m != 0xa1b23c4d || le.Uint32(b[20:]) != 1 {
		t.Fatalf("not a little-endian classic Ethernet pcap file")
	}
	out := append([]byte{}, b[:24]...)
	split, made := 0, 0
	for off := 24; off+16 <= len(b); {
		incl := int(le.Uint32(b[off+8:]))
		rec, data := b[off:off+16], b[off+16:off+16+incl]
		off += 16 + incl
		if len(data) < 34 || binary.BigEndian.Uint16(data[12:]) != 0x0800 || int(le.Uint32(rec[12:])) != incl {
			out = append(append(out, rec...), data...)
			continue
		}
		ip := data[14:]
		ihl, tl := int(ip[0]&15)*4, int(binary.BigEndian.Uint16(ip[2:]))
		tunnel := ip[9] == 4 || ip[9] == 17 && len(ip) >= ihl+4 && binary.BigEndian.Uint16(ip[ihl+2:]) == 4789
		if !tunnel || binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 || tl != len(ip) || tl-ihl <= at {
			out = append(append(out, rec...), data...)
			continue
		}
		split++
		for p := 0; p < tl-ihl; p += at {
			n := min(at, tl-ihl-p)
			if lose != nil && lose(made) {
				made++
				continue
			}
			made++
			f := append(append([]byte{}, data[:14+ihl]...), ip[ihl+p:ihl+p+n]...)
			h := f[14 : 14+ihl]
			binary.BigEndian.PutUint16(h[2:], uint16(ihl+n))
			ff := uint16(p / 8)
			if p+n < tl-ihl {
				ff |= 0x2000
			}
			binary.BigEndian.PutUint16(h[6:], ff) // no DF
			h[10], h[11] = 0, 0
			binary.BigEndian.PutUint16(h[10:], ipSum(h))
			r := append([]byte{}, rec...)
			le.PutUint32(r[8:], uint32(len(f)))
			le.PutUint32(r[12:], uint32(len(f)))
			out = append(append(out, r...), f...)
		}
	}
	return out, split
}

// fragScenario correlates lab scenario sc with the tunnel frames of its eth0 and router captures
// split into outer fragments of at bytes (the -i any files left out: their frames are whole).
func fragScenario(t *testing.T, sc string, at int) (*labTruth, *Result) {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join("../testdata/lab/scenarios", sc, "*.pcap"))
	repl := map[string][]byte{}
	var drop []string
	split := 0
	for _, p := range all {
		base := filepath.Base(p)
		switch {
		case strings.HasSuffix(base, "-any.pcap"):
			drop = append(drop, base)
		case strings.HasSuffix(base, "-eth0.pcap") && strings.HasPrefix(base, "node-"), strings.HasPrefix(base, "router-"):
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			repl[base], n = fragPcap(t, b, at, nil)
			split += n
		}
	}
	if split == 0 {
		t.Fatalf("%s: no frame split at %d bytes", sc, at)
	}
	return labSubset(t, sc, drop, repl)
}

// Outer fragments: healthy-vxlan and healthy-ipip with every tunnel frame of the nodes' eth0 and the
// router split into outer IPv4 fragments (VXLAN: Linux sets no DF on the outer header; at 64 bytes
// even a ping's datagram is split, its first fragment cut inside the inner packet; at 32 bytes the
// first fragment ends inside the inner headers). The tunnel packets are the truth's: healthy-vxlan
// delivered its 24 packets in 3 flows and healthy-ipip its 27, no error, no flow between the nodes'
// addresses. Before the outer datagrams were reassembled, the fragments were decoded as UDP or
// protocol-4 datagrams between the nodes: healthy-vxlan at 64 bytes read as 9 flows, with encap-drop
// and underlay-drop errors for packets that arrived.
func TestOuterFragments(t *testing.T) {
	for _, c := range []struct {
		sc string
		at int
	}{{"healthy-vxlan", 64}, {"healthy-vxlan", 32}, {"healthy-ipip", 64}, {"healthy-ipip", 24}, {"healthy-vxlan", 1400}} {
		t.Run(c.sc+"-"+strconv.Itoa(c.at), func(t *testing.T) {
			tr, r := fragScenario(t, c.sc, c.at)
			checkLab(t, tr, r, nil)
			ids := map[string]bool{} // the truth lists each direction
			for _, tf := range tr.Flows {
				if f, _ := findFlow(r, tf.Proto, tf.Src, tf.Dst, tf.Sport, tf.Dport); f != nil {
					ids[f.ID] = true
				}
			}
			if len(r.Flows) != len(ids) {
				t.Errorf("%d flows, want the truth's %d", len(r.Flows), len(ids))
			}
			for _, a := range r.Anomalies {
				if a.Severity == sevError {
					t.Errorf("error %s at %+v: %s", a.Kind, a.Where, a.Message)
				}
			}
		})
	}
}

// A fragment lost on the underlay: healthy-vxlan's tunnel frames split into 64-byte outer fragments,
// and node-b's eth0 missing the second fragment of its first datagram (the first echo request), its
// own captures after eth0 left out (they saw every packet: the capture is the truth's up to there).
// The datagram never arrived whole at node-b/eth0: the echo request is lost between router-1/eth1
// and node-b/eth0 (an underlay loss) and every other packet reached node-b/eth0; node-b-eth0.pcap's
// errors name the incomplete datagram and its frames. Before, its first fragment counted as a
// sighting at node-b/eth0 (of a UDP datagram between the nodes, one of 9 flows).
func TestOuterFragmentLost(t *testing.T) {
	checkFragmentLost(t, 1, "")
}

// The same with the first fragment of that datagram missing at node-b/eth0 instead: the others cannot
// say by their ports that they are VXLAN, but their node pair carried VXLAN in the same capture, so
// the datagram is the same underlay loss of a tunnel packet, and named. Before, its fragments stayed
// UDP datagrams between the node addresses: a fourth flow, "192.168.10.2 → 192.168.20.2 udp", and the
// echo request counted as not captured, its loss unnamed.
func TestOuterFirstFragmentLost(t *testing.T) {
	checkFragmentLost(t, 0, "its first fragment among the missing")
}

// checkFragmentLost is TestOuterFragmentLost with fragment lose (in node-b-eth0.pcap's order of
// fragments made) missing; node-b-eth0.pcap's errors must say note too.
func checkFragmentLost(t *testing.T, lose int, note string) {
	t.Helper()
	dir := "../testdata/lab/scenarios/healthy-vxlan"
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	var files []string
	tmp := t.TempDir()
	for _, p := range all {
		base := filepath.Base(p)
		if strings.HasSuffix(base, "-any.pcap") || strings.HasPrefix(base, "node-b-") && base != "node-b-eth0.pcap" {
			continue
		}
		if base == "node-b-eth0.pcap" || base == "node-a-eth0.pcap" || strings.HasPrefix(base, "router-") {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var skip func(int) bool
			if base == "node-b-eth0.pcap" {
				skip = func(n int) bool { return n == lose }
			}
			b, _ = fragPcap(t, b, 64, skip)
			p = filepath.Join(tmp, base)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		files = append(files, p)
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	lost := 0
	for _, f := range r.Flows {
		for _, j := range r.FlowJourneys(f.ID) {
			if j.Status != statusLost {
				continue
			}
			lost++
			if f.Proto != "icmp" || j.LastSeen != "router-1/eth1" || j.NextExpected != "node-b/eth0" {
				t.Errorf("journey %d of flow %s %s lost after %s (next %s); want the echo request after router-1/eth1, before node-b/eth0",
					j.ID, f.ID, f.Proto, j.LastSeen, j.NextExpected)
			}
		}
	}
	if lost != 1 || len(r.Flows) != 3 {
		t.Errorf("%d journeys lost in %d flows; want 1 in 3", lost, len(r.Flows))
	}
	named := false
	for _, in := range r.Inputs {
		if strings.HasSuffix(in.File, "node-b-eth0.pcap") {
			e := strings.Join(in.Errors, " ")
			named = strings.Contains(e, "arrived incomplete") && strings.Contains(e, "192.168.10.2 → 192.168.20.2 protocol 17")
			if !named {
				t.Errorf("node-b-eth0.pcap errors %q; want the incomplete datagram named", in.Errors)
			}
		}
	}
	if !named {
		t.Error("no input node-b-eth0.pcap")
	}
}
