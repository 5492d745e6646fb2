package correlate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/google/go-cmp/cmp"
)

// A capture in pod-a's network namespace (given as --point node-a:pod-eth0=FILE; here a copy of its
// veth's capture, which carries the same frames) is the point before the cali veth on the way out,
// after it on the way in; a Gadget capture of both pods (pod-eth0:NS/POD) likewise at both ends.
func TestPodEth0Path(t *testing.T) {
	lab := "../testdata/lab/scenarios/healthy-ipip/"
	base := []string{lab + "node-a-cali5e1c4d6c68c.pcap", lab + "node-a-tunl0.pcap", lab + "node-a-eth0.pcap",
		lab + "router-1-eth0.pcap", lab + "router-1-eth1.pcap", lab + "node-b-eth0.pcap", lab + "node-b-tunl0.pcap",
		lab + "node-b-cali2f5353dd8c5.pcap"}
	data, err := os.ReadFile(lab + "node-a-cali5e1c4d6c68c.pcap")
	if err != nil {
		t.Fatal(err)
	}
	eth0 := filepath.Join(t.TempDir(), "ksniff.pcap")
	if err := os.WriteFile(eth0, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := decode.PointConfig{Explicit: map[string]decode.Identity{eth0: {Node: "node-a", Iface: "pod-eth0"}}}
	plain := Correlate(decode.Load(base, decode.Options{}, decode.PointConfig{}), Options{})
	r := Correlate(decode.Load(append(base, eth0), decode.Options{}, cfg), Options{})
	want := []string{"node-a/pod-eth0", "node-a/cali5e1c4d6c68c", "node-a/tunl0", "node-a/eth0", "router-1/eth0",
		"router-1/eth1", "node-b/eth0", "node-b/tunl0", "node-b/cali2f5353dd8c5"}
	for _, fl := range r.Flows {
		if d := cmp.Diff(want, fl.Path); d != "" {
			t.Errorf("%s path (-want +got):\n%s", fl.ID, d)
		}
	}
	if r.Summary.Delivered != plain.Summary.Delivered || r.Summary.Lost != 0 || r.Summary.NotCaptured != 0 {
		t.Errorf("with pod-eth0: %+v; without: %+v", r.Summary, plain.Summary)
	}
	// Gadget: both pods' eth0.
	r = Correlate(decode.Load(append(base, "../testdata/bundles/gadget/incident.pcapng"), decode.Options{}, decode.PointConfig{}), Options{})
	want = append([]string{"node-a/pod-eth0:default/pod-a"}, append(want[1:], "node-b/pod-eth0:default/pod-b")...)
	for _, fl := range r.Flows {
		if d := cmp.Diff(want, fl.Path); d != "" {
			t.Errorf("gadget: %s path (-want +got):\n%s", fl.ID, d)
		}
	}
	if r.Summary.Delivered != plain.Summary.Delivered || r.Summary.Lost != 0 {
		t.Errorf("with the gadget capture: %+v", r.Summary)
	}
}
