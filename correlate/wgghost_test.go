package correlate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// wgScenarioFiles returns a lab scenario's per-interface captures (no -i any file) but those whose
// name starts with one of leave.
func wgScenarioFiles(t *testing.T, scenario string, leave ...string) []string {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join("../testdata/lab/scenarios", scenario, "*.pcap"))
	if len(all) == 0 {
		t.Skip("no " + scenario + " scenario")
	}
	var files []string
next:
	for _, f := range all {
		b := filepath.Base(f)
		if strings.HasSuffix(b, "-any.pcap") {
			continue
		}
		for _, l := range leave {
			if strings.HasPrefix(b, l) {
				continue next
			}
		}
		files = append(files, f)
	}
	return files
}

// WireGuard with one node's captures absent: the other node's messages to and from it (an address no
// capture names) are still its sessions, so its pods' packets are tied to them and followed out, and
// no packet of a healthy capture is lost, nor said to have died for want of a session (review5 #3).
// In every WireGuard scenario but the blocked one, sessions exist: no wireguard-no-session.
func TestWireGuardPeerUncaptured(t *testing.T) {
	for _, sc := range []string{"healthy-wireguard", "wireguard-bypass", "wireguard-fragmented",
		"wireguard-mtu-blackhole", "wireguard-underlay-loss"} {
		for _, leave := range []string{"node-a", "node-b"} {
			t.Run(sc+"/no-"+leave, func(t *testing.T) {
				files := wgScenarioFiles(t, sc, leave)
				if _, err := os.Stat(files[0]); err != nil {
					t.Skip(err)
				}
				r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
				for _, a := range r.Anomalies {
					if a.Kind == "wireguard-no-session" || strings.HasSuffix(a.Where.From, "/wireguard.cali") && a.Where.To != "" &&
						!strings.Contains(a.Where.To, "/cali") {
						t.Errorf("%s %s at %s → %s (%d): %s", a.Severity, a.Kind, a.Where.From, a.Where.To, a.Count, a.Message)
					}
				}
				if sc != "healthy-wireguard" {
					return
				}
				if r.Summary.Lost != 0 || r.Summary.Anomalies["error"] != 0 {
					t.Errorf("healthy capture without %s: %d lost, %d errors", leave, r.Summary.Lost, r.Summary.Anomalies["error"])
				}
			})
		}
	}
}

// A node whose transport messages no underlay capture shows, though its handshake was answered (a
// session existed): its packets' loss between its device and its eth0 is not wireguard-no-session,
// which needs evidence (an unanswered initiation around them), not the absence of any recorded
// session. Built from healthy-wireguard: node-a's captures only, its own transport messages (type 4
// from 192.168.10.2) removed from its eth0's; the handshake's response is there.
func TestWireGuardNoSessionNeedsEvidence(t *testing.T) {
	files := wgScenarioFiles(t, "healthy-wireguard", "node-b", "router-1")
	dir := t.TempDir()
	for i, f := range files {
		if !strings.Contains(f, "eth") {
			continue
		}
		files[i] = filterPcap(t, f, dir, func(_ int, _ int64, data []byte) bool {
			// Ethernet, IPv4 (20 bytes) from 192.168.10.2, UDP, WireGuard type 4 (transport).
			return !(len(data) > 14+20+8 && string(data[14+12:14+16]) == "\xc0\xa8\x0a\x02" && data[14+9] == 17 &&
				data[14+20+8] == 4)
		})
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	found := false
	for _, a := range r.Anomalies {
		if a.Where.From == "node-a/wireguard.cali" && a.Where.To == "node-a/eth0" {
			found = true
			if a.Kind == "wireguard-no-session" {
				t.Errorf("%s (%d): %s", a.Kind, a.Count, a.Message)
			}
		}
	}
	if !found {
		t.Errorf("no finding on node-a/wireguard.cali → node-a/eth0: %v", r.Anomalies)
	}
}
