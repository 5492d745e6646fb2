package tui

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
)

// TestNATTargetClientMapping: a flow's destination after NAT is read from its client's mappings. In
// snat-external's -i any files the masqueraded flows' mappings are listed by place, the answers' first:
// their un-SNAT, a DNAT back to pod-a, read as the flow's destination rewritten to pod-a itself
// ("10.244.1.5:… → 203.0.113.10:8080 (→ 10.244.1.5:…)", and the pings' "(→ 10.244.1.5:<id>)"). The
// TCP and UDP flows' destination was never rewritten. In
// clusterip-two-nodes every connection to the Service is, to pod-b or to pod-c, whatever the order.
func TestNATTargetClientMapping(t *testing.T) {
	load := func(glob string) *correlate.Result {
		files, _ := filepath.Glob(filepath.Join("../testdata/lab/scenarios", glob))
		if len(files) == 0 {
			t.Fatalf("no %s", glob)
		}
		return correlate.Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), correlate.Options{})
	}
	res := load("snat-external/*-any.pcap")
	m := newTest(t, res, 160, 48)
	n := 0
	for i := range res.Flows {
		f := &res.Flows[i]
		if f.Dst.IP != "203.0.113.10" || len(f.NAT) == 0 {
			continue
		}
		n++
		// TCP and UDP: none (only the source was rewritten); the pings: ext-1 with the echo identifier
		// the masquerade gave them, as the per-interface files' mappings (the client's first) say.
		if got := natTarget(m.c, f); f.Proto != "icmp" && got != "" || f.Proto == "icmp" && !strings.HasPrefix(got, "203.0.113.10:") {
			t.Errorf("%s %s %s → %s: destination rewritten to %q, want none (only its source was), or ext-1 for the pings",
				f.ID, f.Proto, f.Src, f.Dst, got)
		}
	}
	if n != 3 {
		t.Errorf("%d masqueraded flows to ext-1, want 3 (ICMP, TCP and UDP)", n)
	}
	res = load("clusterip-two-nodes/*.pcap")
	m = newTest(t, res, 160, 48)
	n = 0
	for i := range res.Flows {
		f := &res.Flows[i]
		if f.Dst.IP != "10.96.0.10" {
			continue
		}
		n++
		if got := natTarget(m.c, f); got != "10.244.2.7:"+map[string]string{"tcp": "8080", "udp": "9000"}[f.Proto] &&
			got != "10.244.1.9:"+map[string]string{"tcp": "8080", "udp": "9000"}[f.Proto] {
			t.Errorf("%s %s → %s: destination rewritten to %q, want pod-b's or pod-c's", f.ID, f.Src, f.Dst, got)
		}
	}
	if n != 8 {
		t.Errorf("%d flows to the Service, want 8", n)
	}
}
