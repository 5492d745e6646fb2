package correlate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// labSubset loads a lab scenario's truth and correlates its pcap files less those whose base name is
// in drop, with repl replacing files by base name (a file's bytes written anew, e.g. truncated).
func labSubset(t *testing.T, sc string, drop []string, repl map[string][]byte) (*labTruth, *Result) {
	t.Helper()
	dir := filepath.Join("../testdata/lab/scenarios", sc)
	var tr labTruth
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	var files []string
	tmp := t.TempDir()
	for _, p := range all {
		base := filepath.Base(p)
		if strings.Contains(strings.Join(drop, " "), base) {
			continue
		}
		if data, ok := repl[base]; ok {
			p = filepath.Join(tmp, base)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		files = append(files, p)
	}
	return &tr, Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
}

// snat-external without router-1/eth0's capture: router-1 has three interfaces, two of them captured
// (eth1 toward node-b, which none of this traffic crosses, and eth2 toward ext-1). The requests reach
// ext-1, their destination, through eth2; that eth1 saw none of them does not make it their way out.
// Every packet was delivered (truth.json), and each path is the truth's less router-1/eth0.
func TestRouterUncapturedInterface(t *testing.T) {
	tr, r := labSubset(t, "snat-external", []string{"router-1-eth0.pcap"}, nil)
	sent, delivered := 0, 0
	for _, tf := range tr.Flows {
		sent, delivered = sent+tf.Sent, delivered+tf.Delivered
		f, dir := findFlow(r, tf.Proto, tf.Src, tf.Dst, tf.Sport, tf.Dport)
		if f == nil {
			t.Errorf("no flow %s %s → %s", tf.Proto, tf.Src, tf.Dst)
			continue
		}
		var want []string
		for _, p := range tf.Path {
			if p != "router-1/eth0" {
				want = append(want, p)
			}
		}
		if got := strings.Join(flowPath(r, f, dir), " "); got != strings.Join(want, " ") {
			t.Errorf("flow %s %s: path\n  %s\nwant\n  %s", f.ID, dir, got, strings.Join(want, " "))
		}
	}
	if s := r.Summary; s.Journeys != sent || s.Delivered != delivered || s.Lost != 0 {
		t.Errorf("summary %+v, want %d sent, %d delivered, none lost", s, sent, delivered)
	}
	for _, a := range r.Anomalies {
		if a.Severity == sevError || strings.Contains(a.Kind, "drop") || a.Kind == "loss" {
			t.Errorf("anomaly %s %s at %+v: %s", a.Severity, a.Kind, a.Where, a.Message)
		}
	}
}
