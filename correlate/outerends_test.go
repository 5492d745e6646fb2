package correlate

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// ipip-input-drop without node-b's cali capture (and the -i any files): node-b's eth0 and tunl0 were
// captured, and node-b dropped every IP-in-IP packet between them (truth.json). The pod's veth gave
// the path its end before; without it the path stopped at router-1/eth1 and the 9 packets were said to
// have left the captures there, "encapsulated to 192.168.20.2, a node no capture was given of". Their
// outer destination is node-b's address: the path goes on over node-b's eth0 and tunl0, and the loss
// is found where the truth has it.
func TestEncapsulatedToCapturedNode(t *testing.T) {
	tr, r := labSubset(t, "ipip-input-drop", []string{"node-a-any.pcap", "node-b-any.pcap", "node-b-cali2f5353dd8c5.pcap"}, nil)
	for _, tf := range tr.Flows {
		f, dir := findFlow(r, tf.Proto, tf.Src, tf.Dst, tf.Sport, tf.Dport)
		if f == nil {
			t.Errorf("no flow %s %s → %s", tf.Proto, tf.Src, tf.Dst)
			continue
		}
		got := map[string]int{}
		for _, l := range f.LostAt {
			got[l.From+"→"+l.To] += l.Count
		}
		for _, l := range tf.Lost {
			if got[l.Segment] != l.Packets {
				t.Errorf("flow %s %s: lost %v, want %d at %s", f.ID, dir, f.LostAt, l.Packets, l.Segment)
			}
		}
		if f.Delivered != tf.Delivered || f.NotCaptured != 0 {
			t.Errorf("flow %s: %d delivered, %d not captured; want %d delivered, none not captured", f.ID, f.Delivered, f.NotCaptured, tf.Delivered)
		}
	}
	found := false
	for _, a := range r.Anomalies {
		if a.Kind == "path-incomplete" {
			t.Errorf("%s %s at %+v: %s", a.Severity, a.Kind, a.Where, a.Message)
		}
		found = found || a.Kind == "decap-drop" && a.Where.From == "node-b/eth0" && a.Where.To == "node-b/tunl0" && a.Severity == sevError
	}
	if !found {
		t.Errorf("no decap-drop error at node-b/eth0 → node-b/tunl0: %v", r.Anomalies)
	}
}

// The same without node-b's tunl0 capture too: node-b shows the packets only at its eth0, and nothing
// says whether it took them in. They are not captured, and the report must not call node-b a node no
// capture was given of: with node-b's address given it names node-b as where they were encapsulated
// to; without it, it says the address is no node's calipath knows.
func TestOpenEndOnEncapsulatedNode(t *testing.T) {
	drop := []string{"node-a-any.pcap", "node-b-any.pcap", "node-b-cali2f5353dd8c5.pcap", "node-b-tunl0.pcap"}
	for _, ip := range []string{"", "192.168.20.2"} {
		cfg := decode.PointConfig{}
		if ip != "" {
			cfg.NodeIPs = map[string][]netip.Addr{"node-b": {netip.MustParseAddr(ip)}}
		}
		r := labSubsetConfig(t, "ipip-input-drop", drop, cfg)
		n := 0
		for _, a := range r.Anomalies {
			if a.Kind != "path-incomplete" {
				continue
			}
			n += a.Count
			if strings.Contains(a.Message, "no capture was given of") {
				t.Errorf("node IP %q: %s", ip, a.Message)
			}
			if ip != "" && (a.Where.Point != "node-b/eth0" || !strings.Contains(a.Message, "headed for 10.244.2.7 on node-b (the destination's node") ||
				!strings.Contains(a.Next, "on node-b")) {
				t.Errorf("node IP %q: at %+v: %s (%s)", ip, a.Where, a.Message, a.Next)
			}
		}
		if s := r.Summary; n != 9 || s.NotCaptured != 9 || s.Lost != 0 {
			t.Errorf("node IP %q: path-incomplete for %d packets, summary %+v; want 9 not captured", ip, n, s)
		}
	}
}

// healthy-ipip without node-b's cali capture, node-b's tunl0 capture cut short (inside a record, a
// third of the way in): the requests reach node-b's eth0 and, while its capture ran, its tunl0. Those
// seen at tunl0 left the captures on node-b (the node they were encapsulated to); those after the cut
// were not captured there, not lost (truth: all delivered). Replies first seen at node-b's tunl0
// entered the captures there.
func TestEncapsulatedNodeTunnelCut(t *testing.T) {
	b := readLab(t, "healthy-ipip", "node-b-tunl0.pcap")
	cut := len(b) / 3
	_, r := labSubset(t, "healthy-ipip", []string{"node-a-any.pcap", "node-b-any.pcap", "node-b-cali2f5353dd8c5.pcap"},
		map[string][]byte{"node-b-tunl0.pcap": b[:cut]})
	left, entered := 0, 0
	for _, a := range r.Anomalies {
		if a.Severity == sevError || a.Kind == "loss" || strings.HasSuffix(a.Kind, "-drop") {
			t.Errorf("%s %s at %+v: %s", a.Severity, a.Kind, a.Where, a.Message)
		}
		if a.Kind == "path-incomplete" && a.Where.Point == "node-b/tunl0" {
			switch {
			case strings.Contains(a.Message, "last seen at node-b/tunl0, headed for 10.244.2.7 on node-b"):
				left += a.Count
			case strings.Contains(a.Message, "first seen at node-b/tunl0, coming from 10.244.2.7 on node-b"):
				entered += a.Count
			}
		}
	}
	if s := r.Summary; s.Lost != 0 || left == 0 || entered == 0 || s.Delivered+s.NotCaptured != s.Journeys {
		t.Errorf("summary %+v; %d said to leave the captures at node-b/tunl0, %d to enter there", s, left, entered)
	}
}

// labSubsetConfig correlates a lab scenario's pcap files less those in drop, loaded with cfg.
func labSubsetConfig(t *testing.T, sc string, drop []string, cfg decode.PointConfig) *Result {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join("../testdata/lab/scenarios", sc, "*.pcap"))
	var files []string
	for _, p := range all {
		if !slices.Contains(drop, filepath.Base(p)) {
			files = append(files, p)
		}
	}
	return Correlate(decode.Load(files, decode.Options{}, cfg), Options{})
}

// readLab reads a lab scenario's file.
func readLab(t *testing.T, sc, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../testdata/lab/scenarios", sc, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// df-ping-refused without node-b's cali capture: node-a refused one DF ping too big for its tunnel
// (truth: lost at node-a/cali5e1c4d6c68c → node-a/tunl0). Its flow has no other packet and none of it
// was encapsulated, so nothing of its own names node-b; the other packets to pod-b were encapsulated
// to node-b, and it is judged on their path (allEnds): an encap-drop before the tunnel, not a
// host-drop on a path without one.
func TestRefusedBeforeEncapsulationSamePath(t *testing.T) {
	tr, r := labSubset(t, "df-ping-refused", []string{"node-a-any.pcap", "node-b-any.pcap", "node-b-cali2f5353dd8c5.pcap"}, nil)
	want := map[string]bool{}
	for _, e := range tr.Expected {
		if strings.HasSuffix(e.Kind, "-drop") {
			want[e.Kind+" "+e.Where] = true
		}
	}
	got := map[string]bool{}
	for _, a := range r.Anomalies {
		if strings.HasSuffix(a.Kind, "-drop") && a.Severity == sevError {
			got[a.Kind+" "+a.Where.From+"→"+a.Where.To] = true
		}
	}
	if len(want) == 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("drop errors %v, want %v", got, want)
	}
}
