package correlate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// TestServiceEndpointLocalUncaptured: clusterip-two-nodes without pod-c's cali. Node-a DNATs the Service
// 10.96.0.10 to pod-b (node-b) and pod-c (node-a) in turn; the connections to pod-c are seen only at
// pod-a's cali, where their answers come in from an interface none of the captures covers. calipath
// puts their destination on node-a (rightly: pod-c is there) and says its cali was not captured, but
// said "10.96.0.10, which lives on node-a itself", where the same captures show 10.96.0.10 DNATed to
// pod-b on node-b (and with --k8s, default/pod-b-pod-c-svc, which has an endpoint on each node). Now
// it says the address is a Service's, DNATed to 10.244.2.7 on other connections, that the endpoint
// these were sent to is on node-a (with --k8s: which endpoints it has there), and that it lives on no
// node. The counts stay: nothing lost.
func TestServiceEndpointLocalUncaptured(t *testing.T) {
	dir := filepath.Join("../testdata/lab/scenarios", "clusterip-two-nodes")
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	var files []string
	for _, f := range all {
		if !strings.HasSuffix(f, "-any.pcap") && !strings.HasSuffix(f, "-cali3754a2f57f6.pcap") {
			files = append(files, f)
		}
	}
	if len(files) != 8 {
		t.Fatalf("%d files in %s, want 8", len(files), dir)
	}
	kcfg, m := labK8sConfig(t, dir, decode.PointConfig{})
	for _, run := range []struct {
		name string
		r    *Result
		want []string
	}{
		{"captures", Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{}),
			[]string{"10.96.0.10 is a Service address (DNATed to 10.244.2.7 on other connections of these captures)"}},
		{"k8s", Correlate(decode.Load(files, decode.Options{}, kcfg), Options{Cluster: m}),
			[]string{"10.96.0.10 is a Service address (DNATed to 10.244.2.7 on other connections of these captures), with endpoints on node-a: 10.244.1.9"}},
	} {
		n := 0
		for _, an := range run.r.Anomalies {
			if an.Kind != "path-incomplete" || an.Where.Point != "node-a/cali5e1c4d6c68c" {
				continue
			}
			n++
			msg := strings.Join(strings.Fields(an.Message), " ")
			if strings.Contains(msg, "which lives on node-a itself") {
				t.Errorf("%s: %s: says the Service address lives on node-a", run.name, msg)
			}
			for _, w := range append(run.want, "it lives on no node, and the endpoint these packets were sent to is on node-a") {
				if !strings.Contains(msg, w) {
					t.Errorf("%s: %s\nwant %q", run.name, msg, w)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: %d path-incomplete at pod-a's cali, want 1: %+v", run.name, n, run.r.Anomalies)
		}
		if s := run.r.Summary; s.Lost != 0 {
			t.Errorf("%s: %d lost, want none", run.name, s.Lost)
		}
	}
}

// The same with --k8s: the metadata knows the endpoint on node-a, pod-c, and its interface (Calico's
// rule, and its workload endpoint's interfaceName), yet the text said "with endpoints on node-a
// (10.244.1.9)", an address in parentheses that Result.Named leaves alone (and 10.244.1.9 was in no
// flow, so Names had no name for it), and the next step "Capture the destination pod's cali interface
// on node-a too (ip route get <pod IP> there names it)". Now the endpoint is named and the next step
// names the pod and its interface.
func TestServiceEndpointLocalNamed(t *testing.T) {
	dir := filepath.Join("../testdata/lab/scenarios", "clusterip-two-nodes")
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	var files []string
	for _, f := range all {
		if !strings.HasSuffix(f, "-any.pcap") && !strings.HasSuffix(f, "-cali3754a2f57f6.pcap") {
			files = append(files, f)
		}
	}
	kcfg, m := labK8sConfig(t, dir, decode.PointConfig{})
	r := Correlate(decode.Load(files, decode.Options{}, kcfg), Options{Cluster: m})
	n := 0
	for _, an := range r.Anomalies {
		if an.Kind != "path-incomplete" || an.Where.Point != "node-a/cali5e1c4d6c68c" {
			continue
		}
		n++
		msg := strings.Join(strings.Fields(r.Named(an.Message)), " ")
		if w := "with endpoints on node-a: default/pod-c (10.244.1.9)"; !strings.Contains(msg, w) {
			t.Errorf("%s\nwant %q", msg, w)
		}
		next := r.Named(an.Next)
		if w := "Capture default/pod-c's interface cali3754a2f57f6 on node-a too"; !strings.Contains(next, w) {
			t.Errorf("next: %s\nwant %q", next, w)
		}
	}
	if n != 1 {
		t.Errorf("%d path-incomplete at pod-a's cali, want 1: %+v", n, r.Anomalies)
	}
}
