package correlate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// In pmtu-discovery router-1 (192.168.20.1) answers pod-b's big segment with ICMP fragmentation
// needed, sent out of its eth1 to node-b (192.168.20.2). Without router-1-eth1.pcap the error is first
// seen arriving at node-b/eth0: it must not be taken for node-b's own answer ("answered a packet
// dropped on that node", "node-b refused N of them itself" counting the router's refusal), but said
// to come from a hop past node-b/eth0, by its source address.
func TestICMPSenderBySource(t *testing.T) {
	all, _ := filepath.Glob("../testdata/lab/scenarios/pmtu-discovery/*.pcap")
	var paths []string
	for _, p := range all {
		if filepath.Base(p) != "router-1-eth1.pcap" {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 || len(paths) == len(all) {
		t.Fatalf("pmtu-discovery captures: %v", all)
	}
	r := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{})
	var icmp *Anomaly
	for i, a := range r.Anomalies {
		if a.Kind == "icmp-frag-needed" && a.Where.Point == "node-b/eth0" {
			icmp = &r.Anomalies[i]
		}
	}
	if icmp == nil {
		t.Fatalf("no icmp-frag-needed at node-b/eth0 in %v", r.Anomalies)
	}
	if strings.Contains(icmp.Message, "dropped on that node") || !strings.Contains(icmp.Message, "192.168.20.1, is none of node-b's addresses") {
		t.Errorf("icmp-frag-needed at node-b/eth0 is not said to come from a hop past it: %s", icmp.Message)
	}
	// The truth: 2 lost on node-b/tunl0 → node-b/eth0, one of them refused by node-b itself (its ICMP
	// to pod-b, from 192.168.20.2); router-1's answer explains none of them.
	loss := findKind(r, "loss")
	if loss == nil || loss.Where.From != "node-b/tunl0" || loss.Count != 2 || !strings.Contains(loss.Message, "node-b refused 1 of them itself") {
		t.Errorf("loss: %+v; want 2 on node-b/tunl0 → node-b/eth0, 1 refused by node-b", loss)
	}
	checkSums(t, "pmtu-discovery without router-1-eth1", r)
}
