package correlate

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
)

// The same-node lab scenario: pod-a (cali5e1c4d6c68c) talks to pod-c (cali3754a2f57f6) on its own node,
// then node-a's own stack talks to pod-a; every packet arrived (truth.json). Whatever of node-a's
// captures are given, nothing is lost: with pod-c's cali the packets are delivered; without it, those
// pod-c answered are delivered and the others left the captures at pod-a's cali, said by a
// path-incomplete warning that names the missing cali and -i any. The node's traffic with its own pod
// is delivered whenever pod-a's cali (or the -i any capture) is given. On 2c3f41a every shape with
// node-a's eth0 gave ERROR host-drop at node-a/cali5e1c4d6c68c → node-a/eth0 (18 of 18 packets without
// pod-c's cali, the node's 9 replies from pod-a with it), and the -i any and pcapng shapes counted the
// node's 24 packets with pod-a not captured.
func TestSameNodeUncapturedVeth(t *testing.T) {
	dir := "../testdata/lab/scenarios/same-node"
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Skip("no same-node lab scenario: ", err)
	}
	var tr labTruth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	sent, delivered := 0, 0
	for _, f := range tr.Flows {
		sent += f.Sent
		delivered += f.Delivered
	}
	if sent != 48 || delivered != sent {
		t.Fatalf("truth: %d of %d delivered, want 48 of 48", delivered, sent)
	}
	const caliA, caliC = "node-a-cali5e1c4d6c68c.pcap", "node-a-cali3754a2f57f6.pcap"
	perIf, _ := filepath.Glob(filepath.Join(dir, "*-*.pcap"))
	var noC []string
	for _, f := range perIf {
		if !strings.HasSuffix(f, "-any.pcap") && filepath.Base(f) != caliC {
			noC = append(noC, f)
		}
	}
	in := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, filepath.Join(dir, n))
		}
		return out
	}
	for _, c := range []struct {
		name  string
		files []string
		// all: every packet delivered (pod-c's cali, or all of node-a, captured); else pod-a's packets
		// to pod-c that nothing answered left the captures at leftAt.
		all    bool
		leftAt string
		// nodeDelivered: the node's 24 packets with pod-a are delivered.
		nodeDelivered bool
	}{
		{"every file", append(append([]string{}, noC...), filepath.Join(dir, caliC)), true, "", true},
		{"no pod-c cali", noC, false, "node-a/cali5e1c4d6c68c", true},
		{"pod-a cali, eth0, tunl0", in(caliA, "node-a-eth0.pcap", "node-a-tunl0.pcap"), false, "node-a/cali5e1c4d6c68c", true},
		{"node-a -i any", in("node-a-any.pcap"), true, "", true},
		{"node-a pcapng", in("node-a.pcapng"), true, "", true},
		{"pod-c cali, eth0", in(caliC, "node-a-eth0.pcap"), false, "node-a/cali3754a2f57f6", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := Correlate(decode.Load(c.files, decode.Options{}, decode.PointConfig{}), Options{})
			for _, an := range r.Anomalies {
				if an.Severity == "error" || an.Kind == "host-drop" || an.Kind == "capture-dropped" {
					t.Errorf("%s %s at %v: %s", an.Severity, an.Kind, an.Where, an.Message)
				}
			}
			s := r.Summary
			if s.Lost != 0 {
				t.Errorf("%d lost, want none: %+v", s.Lost, s)
			}
			if c.all && (s.Delivered != 48 || s.Journeys != 48) {
				t.Errorf("%d of %d delivered, want 48 of 48", s.Delivered, s.Journeys)
			}
			var left *Anomaly
			for i, an := range r.Anomalies {
				if an.Kind == "path-incomplete" {
					left = &r.Anomalies[i]
				}
			}
			if c.all {
				if left != nil {
					t.Errorf("path-incomplete with every point captured: %+v", left)
				}
			} else {
				if s.NotCaptured == 0 || s.Delivered+s.NotCaptured != s.Journeys {
					t.Errorf("summary %+v: want some left the captures, the rest delivered", s)
				}
				if left == nil || left.Severity != "warning" || left.Where.Point != c.leftAt || left.Count != s.NotCaptured ||
					!strings.Contains(left.Message, "lives on node-a") || !strings.Contains(left.Next, "cali interface on node-a") ||
					!strings.Contains(left.Next, "-i any") {
					t.Errorf("path-incomplete: %+v", left)
				}
			}
			node := 0
			for _, f := range r.Flows {
				if f.Src.IP == "192.168.10.2" {
					node += f.Delivered
					if f.Delivered != f.Packets || len(f.Path) != 1 {
						t.Errorf("flow %s %v → %v: %d of %d delivered on %v, want all on pod-a's cali", f.ID, f.Src, f.Dst, f.Delivered, f.Packets, f.Path)
					}
				}
			}
			if want := map[bool]int{true: 24}[c.nodeDelivered]; node != want {
				t.Errorf("the node's packets with pod-a: %d delivered, want %d", node, want)
			}
		})
	}
}

// keepFramesFrom copies classic pcap file src (Ethernet) to dst without the IPv4 frames whose source
// address is drop.
func keepFramesFrom(t *testing.T, src, dst string, drop [4]byte) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil || len(b) < 24 {
		t.Fatal(src, err)
	}
	out := append([]byte{}, b[:24]...)
	for off := 24; off+16 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		if off+16+n > len(b) {
			t.Fatalf("%s: record at %d runs past the end", src, off)
		}
		f := b[off+16 : off+16+n]
		if !(n >= 34 && f[12] == 0x08 && f[13] == 0x00 && [4]byte(f[26:30]) == drop) {
			out = append(out, b[off:off+16+n]...)
		}
		off += 16 + n
	}
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Traffic to a pod of the same node that never answers shows no TTL that says where the pod lives; the
// cluster's metadata (--k8s) does: pod-c is on node-a. The same-node scenario's pod-a cali without
// pod-c's answers, with eth0 and tunl0 and its k8s/: pod-a's 12 packets to pod-c left the captures at
// pod-a's cali (path-incomplete), none lost, and the next step names pod-c and its interface from the
// metadata. On 2c3f41a: ERROR host-drop node-a/cali → node-a/eth0, 24 of
// 24 (these 12 and the node's 12 replies from pod-a).
func TestSameNodeOneWayK8s(t *testing.T) {
	dir := "../testdata/lab/scenarios/same-node"
	m, probs, err := cluster.Load([]string{filepath.Join(dir, "k8s")})
	if err != nil || len(probs) > 0 {
		t.Skip("no same-node lab scenario: ", err, probs)
	}
	tmp := t.TempDir()
	caliA := filepath.Join(tmp, "node-a-cali5e1c4d6c68c.pcap")
	keepFramesFrom(t, filepath.Join(dir, "node-a-cali5e1c4d6c68c.pcap"), caliA, [4]byte{10, 244, 1, 9})
	files := []string{caliA, filepath.Join(dir, "node-a-eth0.pcap"), filepath.Join(dir, "node-a-tunl0.pcap")}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{Cluster: m})
	for _, an := range r.Anomalies {
		if an.Severity == "error" {
			t.Errorf("%s %s at %v: %s", an.Severity, an.Kind, an.Where, an.Message)
		}
	}
	toC, left := 0, 0
	for _, f := range r.Flows {
		if f.Dst.IP == "10.244.1.9" {
			toC += f.Packets
			left += f.NotCaptured
		}
		if f.Lost != 0 {
			t.Errorf("flow %s %v → %v: %d lost", f.ID, f.Src, f.Dst, f.Lost)
		}
	}
	if toC != 12 || left != 12 {
		t.Errorf("pod-a → pod-c: %d packets, %d left the captures; want 12 and 12", toC, left)
	}
	var an *Anomaly
	for i := range r.Anomalies {
		if r.Anomalies[i].Kind == "path-incomplete" {
			an = &r.Anomalies[i]
		}
	}
	if an == nil || an.Where.Point != "node-a/cali5e1c4d6c68c" || an.Count != 12 || !strings.Contains(an.Message, "10.244.1.9") ||
		!strings.Contains(an.Next, "default/pod-c's interface cali3754a2f57f6 on node-a") {
		t.Errorf("path-incomplete: %+v", an)
	}
}
