package correlate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/calipath/calipath/decode"
)

// v1AndV2 correlates a lab scenario's -i any captures as recorded (cooked v2) and rewritten as an
// older tcpdump writes them (cooked v1, no interface index).
func v1AndV2(t *testing.T, scenario string) (v1, v2 *Result) {
	t.Helper()
	orig, _ := filepath.Glob("../testdata/lab/scenarios/" + scenario + "/*-any.pcap")
	if len(orig) != 2 {
		t.Fatalf("%s: want two -i any captures, found %v", scenario, orig)
	}
	dir := t.TempDir()
	var conv []string
	for _, p := range orig {
		out := filepath.Join(dir, filepath.Base(p))
		sllV1(t, p, out)
		conv = append(conv, out)
	}
	v1 = Correlate(decode.Load(conv, decode.Options{}, decode.PointConfig{}), Options{})
	v2 = Correlate(decode.Load(orig, decode.Options{}, decode.PointConfig{}), Options{})
	return v1, v2
}

// verdicts lists a result's anomalies by kind, severity and count (the point names differ between
// cooked v1 and v2), and its packet totals.
func verdicts(r *Result) []string {
	var out []string
	for _, a := range r.Anomalies {
		out = append(out, fmt.Sprintf("%s %s %d", a.Severity, a.Kind, a.Count))
	}
	slices.Sort(out)
	s := r.Summary
	return append(out, fmt.Sprintf("sent %d delivered %d lost %d not captured %d", s.Journeys, s.Delivered, s.Lost, s.NotCaptured))
}

// A cooked v1 -i any capture records only each frame's direction and source link address: in BGP mode
// the frames the node routes between a pod and the wire carry no encapsulation on either side, and
// frames coming in from a pod look like frames coming in from the wire. Each file's own frames tell
// its pods apart (what the host sent from ee:ee:ee:ee:ee:ee, the pods' ARP for 169.254.1.1), so the
// verdicts are those of the cooked v2 capture of the same packets: any-bgp-forward-drop's drop is on
// node-b, not inside node-a; healthy-bgp has no host-drop; the pods' ARP replies in IP-in-IP, VXLAN
// and WireGuard mode are on the pod side (no arp-unanswered). With WireGuard on, any:pod holds every
// pod of its node (wireguard-bypass: the second pod's packets, which left in clear, start at any:pod,
// not at the underlay) and any:tunnel is the WireGuard device (wireguard-blocked: wireguard-no-session,
// not encap-drop).
func TestSLLv1SameVerdictsAsV2(t *testing.T) {
	for _, sc := range []string{"any-bgp-forward-drop", "healthy-bgp", "healthy-ipip", "healthy-vxlan", "healthy-wireguard",
		"wireguard-bypass", "wireguard-blocked"} {
		v1, v2 := v1AndV2(t, sc)
		if a, b := verdicts(v1), verdicts(v2); !slices.Equal(a, b) {
			t.Errorf("%s: cooked v1 gives %q, cooked v2 %q", sc, a, b)
		}
		if want := truthMode(t, sc); v1.Mode != want && (sc != "wireguard-blocked" || v1.Mode != v2.Mode) {
			// wireguard-blocked: no pod packet reached the other node, so the -i any files alone give
			// no mode, cooked v1 or v2
			t.Errorf("%s: cooked v1 mode %q, truth %q", sc, v1.Mode, want)
		}
	}
}

// any-bgp-forward-drop in cooked v1: every point holds the frames truth.json counts on its interfaces
// (the pod side of a node: its cali veths; the underlay: eth0), node-b's pod side is node-b's pod, and
// the packets are lost where the truth says, between node-b's underlay and its pod.
func TestSLLv1BGPForwardDrop(t *testing.T) {
	sc := "any-bgp-forward-drop"
	tr, pods := truthPods(t, sc)
	v1, _ := v1AndV2(t, sc)
	want := map[string]int{}
	for _, p := range tr.Points {
		switch p.Role {
		case "workload":
			want[p.Node+"/any:pod"] += p.Packets
		case "underlay":
			want[p.Node+"/any:underlay"] += p.Packets
		}
	}
	for _, p := range v1.Points {
		if p.Frames != want[p.ID] {
			t.Errorf("%s: %d frames, truth %d", p.ID, p.Frames, want[p.ID])
		}
		if p.PodIP != "" && !slices.Contains(pods[p.Node], p.PodIP) {
			t.Errorf("%s: pod %s, not one of %s's pods %v", p.ID, p.PodIP, p.Node, pods[p.Node])
		}
	}
	for _, f := range v1.Flows {
		for _, l := range f.LostAt {
			if l.From != "node-b/any:underlay" || l.To != "node-b/any:pod" {
				t.Errorf("flow %s: lost at %s→%s, truth node-b/eth0→cali", f.ID, l.From, l.To)
			}
		}
	}
	if v1.Mode != tr.Mode {
		t.Errorf("mode %q, truth %q", v1.Mode, tr.Mode)
	}
}

// truthMode returns the datapath mode of a lab scenario's truth.json.
func truthMode(t *testing.T, scenario string) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/lab/scenarios/" + scenario + "/truth.json")
	if err != nil {
		t.Fatal(err)
	}
	var tr labTruth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	return tr.Mode
}
