package correlate

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// generic is the "loss" kind's own text, which a node's own drops must not get.
const generic = "Congestion, a lossy link or rate limiting"

// TestOwnDropRefused: in pmtu-discovery6 node-b refused pod-b's 1430-byte resend itself (its Packet Too
// Big, MTU 1330, to pod-b): the loss on pod-b's cali → vxlan-v6.calico says what that error says, not
// congestion. On main it ended with the generic text.
func TestOwnDropRefused(t *testing.T) {
	an := labAnomaly(t, "pmtu-discovery6", "loss", "node-b/cali2f5353dd8c5→node-b/vxlan-v6.calico")
	wantAll(t, "the refused loss", an.Message, []string{"node-b refused 1 of them itself", "by the node itself",
		"ICMPv6 Packet Too Big, MTU 1330"}, []string{generic, "scattered"})
	wantAll(t, "its next", an.Next, []string{"node's ICMP error"}, []string{"drop counters"})
}

// TestOwnDropLearnedMTU: in pmtu-discovery6 node-b's 1430-byte packet passed vxlan-v6.calico 116 µs
// after router-1's Packet Too Big (MTU 1400) reached node-b/eth0, and died before eth0: 1500 bytes
// with VXLAN over IPv6, more than the path MTU node-b had learned. The loss says so, cites the error's
// frame at node-b and asks for vxlan-v6.calico's MTU at most 1330, with every file and with the
// per-interface captures alone (no `any` capture, which holds node-b's error to itself on lo). On main
// it was the generic text.
func TestOwnDropLearnedMTU(t *testing.T) {
	check := func(what string, an Anomaly) {
		t.Helper()
		wantAll(t, what, an.Message, []string{"node-b had learned a path MTU of 1400 towards node-a (fd00:10::2)",
			"from the ICMPv6 Packet Too Big fd00:20::1 sent", "at node-b/eth0", "1430 bytes at node-b/vxlan-v6.calico, 1500 with its 70 bytes",
			"116µs before", "larger than the path MTU it had just learned"}, []string{generic, "scattered"})
		wantAll(t, what+"'s next", an.Next, []string{"vxlan-v6.calico's MTU", "at most 1330", "`ip -6 route get fd00:10::2` on node-b"}, nil)
		if len(an.Evidence) == 0 || !strings.Contains(an.Evidence[0].File, "node-b") {
			t.Errorf("%s: evidence %v, want node-b's frame of the Packet Too Big first", what, an.Evidence)
		}
	}
	check("every file", labAnomaly(t, "pmtu-discovery6", "loss", "node-b/vxlan-v6.calico→node-b/eth0"))
	dir := filepath.Join("..", "testdata", "lab", "scenarios", "pmtu-discovery6")
	files, _ := filepath.Glob(filepath.Join(dir, "*-*.pcap"))
	var per []string
	for _, f := range files {
		if !strings.HasSuffix(f, "-any.pcap") {
			per = append(per, f)
		}
	}
	r := Correlate(decode.Load(per, decode.Options{}, decode.PointConfig{}), Options{})
	for _, an := range r.Anomalies {
		if an.Kind == "loss" && an.Where.From == "node-b/vxlan-v6.calico" && an.Where.To == "node-b/eth0" {
			check("per-interface files", an)
			if !strings.HasSuffix(an.Evidence[0].File, "node-b-eth0.pcap") {
				t.Errorf("evidence %v, want node-b-eth0.pcap's frame first", an.Evidence)
			}
			return
		}
	}
	t.Fatalf("per-interface files: no loss on node-b/vxlan-v6.calico→node-b/eth0")
}

// TestOwnDropNotClaimed: pmtu-discovery (IPv4, IP-in-IP) lost two packets between node-b's tunl0 and
// eth0: one node-b refused (fragmentation-needed, 1380, to pod-b), one before any error reached it. Not
// every drop is the node's own, so the loss keeps the generic text and claims no learned MTU.
func TestOwnDropNotClaimed(t *testing.T) {
	an := labAnomaly(t, "pmtu-discovery", "loss", "node-b/tunl0→node-b/eth0")
	wantAll(t, "the mixed loss", an.Message, []string{"node-b refused 1 of them itself", generic}, []string{"had learned", "by the node itself"})
}

// TestLatestPTB: the error a lost packet is held to is the latest of its flow, seen before it and
// within the learned MTU's lifetime (600 s), whose MTU the packet exceeds.
func TestLatestPTB(t *testing.T) {
	sec := int64(time.Second)
	fi := func(flow int32, mtu uint16) *icmpFinding {
		return &icmpFinding{kind: "icmp-frag-needed", flow: flow, mtu: mtu}
	}
	ptbs := []learnedPTB{{fi: fi(1, 1400), t: 10 * sec}, {fi: fi(1, 1300), t: 20 * sec}, {fi: fi(2, 1200), t: 25 * sec}}
	for _, c := range []struct {
		name string
		flow int32
		t    int64
		size int
		want int // index in ptbs, -1 for none
	}{
		{"latest of the flow", 1, 30 * sec, 1500, 1},
		{"only the later one is exceeded", 1, 30 * sec, 1350, 1},
		{"exceeds neither", 1, 30 * sec, 1300, -1},
		{"before the later one", 1, 15 * sec, 1420, 0},
		{"fits the MTU", 1, 15 * sec, 1400, -1},
		{"before any error", 1, 5 * sec, 1500, -1},
		{"expired", 1, 621 * sec, 1500, -1},
		{"within 600 s", 1, 620 * sec, 1500, 1},
		{"another flow's", 2, 30 * sec, 1250, 2},
		{"no error of the flow", 3, 30 * sec, 1500, -1},
	} {
		got := latestPTB(ptbs, c.flow, c.t, c.size)
		if (c.want < 0) != (got == nil) || (got != nil && got != &ptbs[c.want]) {
			t.Errorf("%s: got %v, want index %d", c.name, got, c.want)
		}
	}
}

// TestICMPSays: the words a refused loss gives each error, IPv4 and IPv6.
func TestICMPSays(t *testing.T) {
	for _, c := range []struct {
		fi   icmpFinding
		want string
	}{
		{icmpFinding{kind: "icmp-frag-needed", v6: true, mtu: 1330}, "ICMPv6 Packet Too Big, MTU 1330"},
		{icmpFinding{kind: "icmp-frag-needed", mtu: 1380}, "ICMP fragmentation-needed, next-hop MTU 1380"},
		{icmpFinding{kind: "icmp-unreachable", hostUnreach: true}, "host unreachable"},
		{icmpFinding{kind: "icmp-unreachable"}, "destination unreachable"},
		{icmpFinding{kind: "ttl-expired"}, "time exceeded"},
	} {
		if got := icmpSays(&c.fi); !strings.HasPrefix(got, c.want) {
			t.Errorf("%+v: %q, want it to begin %q", c.fi, got, c.want)
		}
	}
}
