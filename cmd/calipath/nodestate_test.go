package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// calipath report --k8s reads a node's `ip` dumps, by name (NODE from <node>-routes.txt) or with a
// NODE=FILE prefix, and the drop anomaly cites the dump's line in JSON and in text; without them
// nothing is cited.
func TestReportNodeState(t *testing.T) {
	dir := lab + "/state-blackhole-route"
	caps, _ := filepath.Glob(dir + "/*.pcap")
	explained := func(args ...string) []string {
		t.Helper()
		code, out, errs := runCLI(append(append([]string{"report", "--format", "json"}, args...), caps...)...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var res struct {
			Anomalies []struct {
				Kind        string
				ExplainedBy []struct{ Kind, File, Text string } `json:"explained_by"`
			}
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, an := range res.Anomalies {
			for _, e := range an.ExplainedBy {
				got = append(got, an.Kind+": "+e.Kind+" "+e.File+" "+e.Text)
			}
		}
		return got
	}
	routes := dir + "/node-b-routes.txt"
	want := "encap-drop: blackhole-route " + routes + " blackhole 10.244.1.0/26"
	if got := explained("--k8s", routes); strings.Join(got, "\n") != want {
		t.Errorf("--k8s %s: %q, want %q", routes, got, want)
	}
	if got := explained("--k8s", "node-b="+routes); strings.Join(got, "\n") != want {
		t.Errorf("--k8s node-b=…: %q, want %q", got, want)
	}
	if got := explained("--k8s", "node-a="+routes); len(got) != 0 {
		t.Errorf("node-b's routes given as node-a's explain %q", got)
	}
	if got := explained(); len(got) != 0 {
		t.Errorf("without --k8s: %q", got)
	}
	code, out, errs := runCLI(append([]string{"report", "--k8s", routes}, caps...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "explained by: "+routes+":2: blackhole") { // the line goes on wrapped
		t.Errorf("text report lacks the citation:\n%s", out)
	}
}
