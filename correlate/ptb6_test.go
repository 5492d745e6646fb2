package correlate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// labAnomaly correlates a lab scenario's captures (every file, as TestLabScenarios does) and returns its
// anomaly of kind at where ("node/iface" or "from→to").
func labAnomaly(t *testing.T, scenario, kind, where string) Anomaly {
	t.Helper()
	dir := filepath.Join("..", "testdata", "lab", "scenarios", scenario)
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	ngs, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
	r := Correlate(decode.Load(append(files, ngs...), decode.Options{}, decode.PointConfig{}), Options{})
	for _, a := range r.Anomalies {
		at := a.Where.Point
		if a.Where.From != "" {
			at = a.Where.From + "→" + a.Where.To
		}
		if a.Kind == kind && at == where {
			return a
		}
	}
	t.Fatalf("%s: no %s at %s", scenario, kind, where)
	return Anomaly{}
}

// wantAll reports each of want missing from got, and each of never present.
func wantAll(t *testing.T, what, got string, want, never []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
	for _, n := range never {
		if strings.Contains(got, n) {
			t.Errorf("%s says %q:\n%s", what, n, got)
		}
	}
}

// TestPacketTooBigExplained: in pmtu-discovery6 router-1's ICMPv6 Packet Too Big quotes node-b's VXLAN
// datagram; its anomaly gives the MTU as the link's (not a "next-hop MTU"), the datagram and pod-b's
// TCP segment inside it, and the fix for IPv6 VXLAN (vxlan-v6.calico at most 1400 − 70, `ip -6 route
// get` on node-b), not IPv4's "minus 20 or 50". node-b's own Packet Too Big to pod-b quotes pod-b's
// packet and asks for a pod MTU that fits 1330.
func TestPacketTooBigExplained(t *testing.T) {
	an := labAnomaly(t, "pmtu-discovery6", "icmp-frag-needed", "router-1/eth1")
	wantAll(t, "router-1's Packet Too Big", an.Message, []string{"MTU 1400:", "VXLAN datagram fd00:20::2 → fd00:10::2, sent by node-b",
		"carrying tcp [fd00:244::47]:8080 → [fd00:244::5]:", "must fit 1330", "It answered a packet dropped"}, []string{"Next-hop"})
	wantAll(t, "its next", an.Next, []string{"vxlan-v6.calico's MTU", "at most 1330", "`ip -6 route get fd00:10::2` on node-b"},
		[]string{"minus 20 bytes"})
	an = labAnomaly(t, "pmtu-discovery6", "icmp-frag-needed", "node-b/cali2f5353dd8c5")
	wantAll(t, "node-b's Packet Too Big", an.Message, []string{"MTU 1330:", "quotes a tcp packet [fd00:244::47]:8080 → [fd00:244::5]:"}, nil)
	wantAll(t, "its next", an.Next, []string{"pods' MTU fit 1330 bytes", "`ip -6 route get fd00:244::5`"}, []string{"minus 20 bytes"})
}

// TestBlackhole6Advice: in mtu-blackhole6 router-1's Packet Too Big is dropped; the black hole is an
// ERROR that speaks IPv6 (no DF bit, no fragmentation-needed), says the lost 4168-byte packet was a
// segmentation-offload frame, names node-b as the VXLAN sender the error had to reach, and asks for
// Packet Too Big to pass, `ip -6 route get` on node-b, and vxlan-v6.calico's MTU less 70.
func TestBlackhole6Advice(t *testing.T) {
	an := labAnomaly(t, "mtu-blackhole6", "pmtu-blackhole", "router-1/eth1→router-1/eth0")
	if an.Severity != sevError {
		t.Errorf("severity %s, want error", an.Severity)
	}
	wantAll(t, "the black hole", an.Message, []string{"segmentation-offload frame", "none reached node-b, which sent them in VXLAN over IPv6 to fd00:10::2",
		"no ICMPv6 Packet Too Big reached their sender"}, []string{"DF packets", "fragmentation-needed", "sending pod"})
	wantAll(t, "its next", an.Next, []string{"Let ICMPv6 Packet Too Big (type 2) through", "`ip -6 route get fd00:10::2` on node-b",
		"vxlan-v6.calico's MTU", "less 70"}, []string{"type 3 code 4"})
}
