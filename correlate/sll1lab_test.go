package correlate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// vlan-ipip's -i any captures were taken twice at the same moments on each node: in cooked v2 and, by
// tcpdump -y LINUX_SLL, in cooked v1 (sll1/), where node-a's eth0 frames carry their 802.1Q tag after
// the cooked header (cooked v2 records them untagged). Read by a real tcpdump, not rewritten from v2
// in Go, the v1 files with the routers' captures must give cooked v2's verdicts and the truth's
// packets: every flow delivered, the mode, on each node's pseudo interfaces the frames the truth
// counts on its per-interface captures (any:pod its cali, any:tunnel its tunl0, any:underlay its
// eth0.100, or its eth0 on node-b, any:vlan node-a's tagged eth0), and each flow direction's path on
// them. Before the decoder read past a tag after a cooked header, node-a's tagged frames were not IP
// (its any:underlay held both eth0.100's and eth0's frames, and the path skipped eth0); read past the
// tag but filed under any:underlay, each packet was there twice, and this healthy capture showed
// "loss" and "retransmission".
func TestSLLv1RealCapture(t *testing.T) {
	const sc = "vlan-ipip"
	dir := "../testdata/lab/scenarios/" + sc
	tr, _ := truthPods(t, sc)
	routers, _ := filepath.Glob(filepath.Join(dir, "router-*.pcap"))
	v2files, _ := filepath.Glob(filepath.Join(dir, "*-any.pcap"))
	v1files, _ := filepath.Glob(filepath.Join(dir, "sll1", "*-any.pcap"))
	if len(routers) != 2 || len(v2files) != 2 || len(v1files) != 2 {
		t.Fatalf("want two router, two cooked v2 and two cooked v1 captures, found %v %v %v", routers, v2files, v1files)
	}
	v1 := Correlate(decode.Load(append(v1files, routers...), decode.Options{}, decode.PointConfig{}), Options{})
	v2 := Correlate(decode.Load(append(v2files, routers...), decode.Options{}, decode.PointConfig{}), Options{})
	if a, b := verdicts(v1), verdicts(v2); !slices.Equal(a, b) {
		t.Errorf("cooked v1 gives %q, cooked v2 %q", a, b)
	}
	if v1.Mode != tr.Mode {
		t.Errorf("cooked v1 mode %q, truth %q", v1.Mode, tr.Mode)
	}
	sent, delivered := 0, 0
	for _, f := range tr.Flows {
		sent += f.Sent
		delivered += f.Delivered
	}
	if s := v1.Summary; s.Journeys != sent || s.Delivered != delivered || s.Lost != 0 || s.NotCaptured != 0 {
		t.Errorf("cooked v1: sent %d delivered %d lost %d not captured %d, truth sent %d delivered %d",
			s.Journeys, s.Delivered, s.Lost, s.NotCaptured, sent, delivered)
	}
	var vl struct {
		VLANs []struct{ Node, Parent string } `json:"vlans"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vl); err != nil || len(vl.VLANs) == 0 {
		t.Fatalf("truth.json: no vlans (%v)", err)
	}
	parent := map[string]bool{}
	for _, v := range vl.VLANs {
		parent[v.Node+"/"+v.Parent] = true
	}
	want := map[string]int{}
	for _, p := range tr.Points {
		if parent[p.Node+"/"+p.Iface] && p.Role == "underlay" {
			want[p.Node+"/any:vlan"] += p.Packets
			continue
		}
		switch p.Role {
		case "workload":
			want[p.Node+"/any:pod"] += p.Packets
		case "tunnel":
			want[p.Node+"/any:tunnel"] += p.Packets
		case "underlay":
			want[p.Node+"/any:underlay"] += p.Packets
		case "router":
			want[p.Node+"/"+p.Iface] += p.Packets
		}
	}
	for _, p := range v1.Points {
		if p.Frames != want[p.ID] {
			t.Errorf("cooked v1: %s: %d frames, truth %d", p.ID, p.Frames, want[p.ID])
		}
		delete(want, p.ID)
	}
	for id := range want {
		t.Errorf("cooked v1: no point %s", id)
	}
	// Each flow direction the truth lists: its packets, and its path on the pseudo interfaces.
	pseudo := map[string]string{}
	for _, p := range tr.Points {
		if parent[p.Node+"/"+p.Iface] && p.Role == "underlay" {
			pseudo[p.Node+"/"+p.Iface] = p.Node + "/any:vlan"
			continue
		}
		switch p.Role {
		case "workload":
			pseudo[p.Node+"/"+p.Iface] = p.Node + "/any:pod"
		case "tunnel":
			pseudo[p.Node+"/"+p.Iface] = p.Node + "/any:tunnel"
		case "underlay":
			pseudo[p.Node+"/"+p.Iface] = p.Node + "/any:underlay"
		}
	}
	for _, tf := range tr.Flows {
		f, dir := findFlow(v1, tf.Proto, tf.Src, tf.Dst, tf.Sport, tf.Dport)
		if f == nil {
			t.Errorf("cooked v1: flow %s %s:%d → %s:%d not found", tf.Proto, tf.Src, tf.Sport, tf.Dst, tf.Dport)
			continue
		}
		sent, delivered := 0, 0
		for _, j := range v1.FlowJourneys(f.ID) {
			if j.Dir != dir || isPiece(v1, &j) || isICMPError(v1, &j) {
				continue
			}
			sent++
			if j.Status == statusDelivered || j.Status == statusSplit || j.Status == statusMerged {
				delivered++
			}
		}
		if sent != tf.Sent || delivered != tf.Delivered {
			t.Errorf("cooked v1: %s %s: sent %d delivered %d, truth %d and %d", f.ID, dir, sent, delivered, tf.Sent, tf.Delivered)
		}
		var path []string
		for _, p := range tf.Path {
			if q, ok := pseudo[p]; ok {
				p = q
			}
			if len(path) == 0 || path[len(path)-1] != p {
				path = append(path, p)
			}
		}
		if got := flowPath(v1, f, dir); strings.Join(got, " ") != strings.Join(path, " ") {
			t.Errorf("cooked v1: %s %s: path\n  %s\nwant\n  %s", f.ID, dir, strings.Join(got, " "), strings.Join(path, " "))
		}
	}
}
