package correlate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// hostToPodDir is host-to-pod: a host-networked client on node-a (node-a's own stack, no cali) talks
// to pod-b on node-b; the route to node-b's block gives it tunl0's address, 10.244.1.0, as source.
var hostToPodDir = "../testdata/lab/scenarios/host-to-pod"

// TestHostClientTunnel follows host-to-pod's packets: node-a's own begin at its tunl0 with TTL 64 (no
// hop before them decremented it) and pod-b's answers end there, taken in by node-a's stack, so every one
// is delivered and no path-incomplete is said of them, with every capture, with the -i any files only,
// and without pod-a's cali. Before, calipath took 10.244.1.0 for a pod of node-a's block whose cali was
// not captured: WARNING path-incomplete at node-a/tunl0 twice ("capture the source pod's cali
// interface", "the destination pod's cali interface"; also with --k8s, which names 10.244.1.0 node-a),
// and pod-b's 12 answers not captured. pod-a's pings, which reach tunl0 routed (TTL 63), still begin
// and end there when pod-a's cali is not given: those are open ends.
func TestHostClientTunnel(t *testing.T) {
	for _, shape := range []struct {
		name string
		glob []string
		pods bool // pod-a's cali given: its pings are followed whole
	}{
		{"all", []string{"*.pcap", "*.pcapng"}, true},
		{"any", []string{"*-any.pcap"}, true},
		{"no-pod-a-cali", []string{"node-a-tunl0.pcap", "node-a-eth0.pcap", "node-b-*.pcap", "router-1-*.pcap"}, false},
	} {
		t.Run(shape.name, func(t *testing.T) {
			var files []string
			for _, g := range shape.glob {
				m, _ := filepath.Glob(filepath.Join(hostToPodDir, g))
				files = append(files, m...)
			}
			if len(files) == 0 {
				t.Skipf("no captures in %s", hostToPodDir)
			}
			r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
			n := 0
			for _, f := range r.Flows {
				if f.Src.IP != "10.244.1.0" {
					continue
				}
				for _, j := range r.FlowJourneys(f.ID) {
					if isPiece(r, &j) {
						continue // a piece of pod-b's 4096-byte answer, split by segmentation offload
					}
					n++
					if j.Status != statusDelivered && j.Status != statusSplit {
						t.Errorf("journey %d (%s %s) %s at %s: %s", j.ID, j.Flow, j.Dir, j.Status, j.LastSeen, hopList(&j))
					}
				}
			}
			if n != 26 {
				t.Errorf("%d journeys between node-a's tunnel address and pod-b, want 26 (14 from node-a, 12 back)", n)
			}
			incomplete := 0
			for _, a := range r.Anomalies {
				if a.Kind == "path-incomplete" && strings.Contains(a.Message, "10.244.1.0") {
					t.Errorf("%s %s at %+v: %s", a.Severity, a.Kind, a.Where, a.Message)
				}
				if a.Kind == "path-incomplete" && strings.Contains(a.Message, "10.244.1.5") {
					incomplete++
				}
			}
			if !shape.pods && incomplete != 2 {
				t.Errorf("%d path-incomplete of pod-a's pings without its cali, want 2 (they came from it and went to it)", incomplete)
			}
			if shape.pods && r.Summary.NotCaptured != 0 {
				t.Errorf("%d packets not captured, want none", r.Summary.NotCaptured)
			}
		})
	}
}
