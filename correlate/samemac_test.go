package correlate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/pcapmerge"
)

// TestSharedPodVethOneMAC: TestSharedPodVeth's merged capture of two pods' veths (healthy-ipip's
// pod-a on node-a, pod-b on node-b), with pod-b's MAC rewritten to pod-a's in every frame (Ethernet
// headers and ARP bodies): pods on one bridge given one MAC, or a capture whose MACs were rewritten.
// Every frame besides the host end's then comes from one MAC, which egw19's rule took for one pod
// (onePodMAC): no pod-veth-shared warning, the point "pod 10.244.1.5", and every packet, seen at that
// one point twice (at pod-a's veth and at pod-b's), "delivered" (0 not captured). Both addresses sent
// frames of their own there (initial TTLs, ARP requests from the pod MAC), which a pod that forwards
// others' packets (an egress gateway) does from its own address alone: two pods, whatever the MACs
// say (podOwnMany). The result is the distinct-MAC capture's: the warning, nothing delivered.
func TestSharedPodVethOneMAC(t *testing.T) {
	dir := "../testdata/lab/scenarios/healthy-ipip"
	podA, podB := []byte{0xee, 0xe1, 0x0d, 0x3f, 0x35, 0x08}, []byte{0x3e, 0x7d, 0x05, 0x36, 0x1d, 0x89}
	b, err := os.ReadFile(filepath.Join(dir, "node-b-cali2f5353dd8c5.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, podB); n < 10 {
		t.Fatalf("pod-b's MAC in %d places, want its frames'", n)
	}
	tmp := t.TempDir()
	same := filepath.Join(tmp, "podb-samemac.pcap")
	if err := os.WriteFile(same, bytes.ReplaceAll(b, podB, podA), 0o644); err != nil {
		t.Fatal(err)
	}
	merged := filepath.Join(tmp, "node-a-cali0.pcap")
	if err := pcapmerge.Merge(merged, filepath.Join(dir, "node-a-cali5e1c4d6c68c.pcap"), same); err != nil {
		t.Fatal(err)
	}
	r := Correlate(decode.Load([]string{merged}, decode.Options{}, decode.PointConfig{}), Options{})
	var shared *Anomaly
	for i := range r.Anomalies {
		if r.Anomalies[i].Kind == "pod-veth-shared" {
			shared = &r.Anomalies[i]
		}
	}
	if shared == nil || shared.Where.Point != "node-a/cali0" || !strings.Contains(shared.Message, "2 pods (10.244.1.5, 10.244.2.7)") {
		t.Errorf("pod-veth-shared: %+v (anomalies %v)", shared, kinds(r))
	}
	if s := r.Summary; s.Journeys == 0 || s.Delivered != 0 || s.NotCaptured != s.Journeys {
		t.Errorf("seen at one point only, yet: %+v", s)
	}
}
