package correlate

import (
	"strings"
	"testing"
)

// healthy-vxlan with the -i any captures only: each node's capture dropped frames (the per-interface
// files of the run hold them; truth.json: nothing was lost). Pod-b's first echo reply is seen at
// node-a's eth0 only (node-a-any.pcap frame 8), pod-a's first ACK at node-b's eth0 and vxlan.calico
// only (node-b-any.pcap 28): no ACK or later sighting proves either arrived, so they stay lost, but
// both vanished between two points of one -i any capture that missed other packets in the run
// (node-a's: pod-a's FIN, seen before and after its eth0; node-b's: pod-b's FIN, acknowledged). Each
// loss must say that capture may have dropped it, and how to tell.
func TestSharedCaptureLossNoted(t *testing.T) {
	files := labFiles(t, "healthy-vxlan", func(n string) bool { return strings.HasSuffix(n, "-any.pcap") })
	r := correlateAcks(files)
	want := map[string]string{"node-a/any#4": "node-a-any.pcap", "node-b/any#3": "node-b-any.pcap"}
	for _, a := range r.Anomalies {
		if a.Kind != "loss" {
			continue
		}
		file, ok := want[a.Where.To]
		if !ok {
			t.Errorf("unexpected loss at %v: %s", a.Where, a.Message)
			continue
		}
		delete(want, a.Where.To)
		if !strings.Contains(a.Message, file+", one capture of 3 interfaces (-i any)") ||
			!strings.Contains(a.Message, "may have crossed "+a.Where.To+" unseen") || !strings.Contains(a.Message, "-B 32768") {
			t.Errorf("loss at %v does not say %s may have dropped it: %s", a.Where, file, a.Message)
		}
	}
	if len(want) > 0 {
		t.Errorf("no loss before %v", want)
	}
	// A loss across two captures is not the shared capture's to explain: tcp-retransmission's true
	// drop at the router (truth.json) stays a loss between the nodes' captures, said plainly.
	files = labFiles(t, "tcp-retransmission", func(n string) bool { return strings.HasSuffix(n, "-any.pcap") })
	r = correlateAcks(files)
	if r.Summary.Lost != 1 {
		t.Errorf("tcp-retransmission: %d lost, want the router's 1 (truth.json)", r.Summary.Lost)
	}
	for _, a := range r.Anomalies {
		if a.Kind == "loss" && (a.Where.From != "node-b/any#2" || a.Where.To != "node-a/any#2" || strings.Contains(a.Message, "unseen")) {
			t.Errorf("tcp-retransmission: loss at %v: %s", a.Where, a.Message)
		}
	}
}
