package correlate

import (
	"strings"
	"testing"
	"time"
)

// An --offset for the node that would otherwise be the reference (node-a, the first by name) is meant
// against the other nodes: the reference moves to one without --offset and the given offset is held
// against the traffic like any other. On healthy-ipip the nodes' clocks agree to a few microseconds,
// so node-a=1s contradicts it: said once, not used. Before, node-a stayed the reference with 1 s, every
// estimate moved with it, and three INFO clock-skew said each node was 1 s off the reference, whose
// clock it shared. The latencies are the same either way.
func TestOffsetOnReference(t *testing.T) {
	base := Correlate(labLoad(t, "healthy-ipip", "*.pcap", false), Options{})
	r := Correlate(labLoad(t, "healthy-ipip", "*.pcap", false), Options{Offsets: map[string]time.Duration{"node-a": time.Second}})
	k := kinds(r)
	if k["clock-skew"] != 0 || k["offset-contradicted"] != 1 {
		t.Errorf("node-a=1s: anomalies %v, want one offset-contradicted and no clock-skew", k)
	}
	if c := clockOf(r, "node-b"); c.Method != "reference" {
		t.Errorf("node-b clock %+v, want the reference (node-a was given --offset)", c)
	}
	if c := clockOf(r, "node-a"); !strings.Contains(c.Method, "contradicted, not used") || c.OffsetNs > 5000 || c.OffsetNs < -5000 {
		t.Errorf("node-a clock %+v, want its estimate against node-b (about 1 µs)", c)
	}
	if r.Summary.Delivered != base.Summary.Delivered || r.Summary.Journeys != base.Summary.Journeys {
		t.Errorf("summary %+v, want %+v", r.Summary, base.Summary)
	}
	sameLatencies(t, r, base, 3000)
	// clock-skew: node-b is 2.5 s ahead. Given node-a=-2.5s (the same thing said of node-a), node-b is
	// the reference, nothing is contradicted, and the latencies are those of the estimates.
	skew := Correlate(labLoad(t, "clock-skew", "*.pcap", false), Options{})
	r = Correlate(labLoad(t, "clock-skew", "*.pcap", false), Options{Offsets: map[string]time.Duration{"node-a": -2500 * time.Millisecond}})
	if k := kinds(r); k["offset-contradicted"] != 0 || clockOf(r, "node-b").Method != "reference" ||
		clockOf(r, "node-a").Method != "--offset" {
		t.Errorf("clock-skew node-a=-2.5s: anomalies %v, clocks %+v", k, r.Clocks)
	}
	sameLatencies(t, r, skew, 5000)
}

// sameLatencies fails when a segment's packets or p50 differ from want's by more than tol ns.
func sameLatencies(t *testing.T, got, want *Result, tol int64) {
	t.Helper()
	p50 := map[string]Segment{}
	for _, s := range want.Segments {
		p50[s.From+" "+s.To] = s
	}
	for _, s := range got.Segments {
		w, ok := p50[s.From+" "+s.To]
		if d := s.LatencyNs.P50 - w.LatencyNs.P50; !ok || s.Packets != w.Packets || d > tol || d < -tol {
			t.Errorf("segment %s → %s: %d packets, p50 %d ns; want %d, %d ns", s.From, s.To, s.Packets, s.LatencyNs.P50, w.Packets, w.LatencyNs.P50)
		}
	}
}

// Offsets given to every cluster node are meant against each other (review10 #3): on clock-skew
// (node-b 2.5 s ahead of node-a, router-1 on node-a's clock) node-a=-2.5s with node-b=0s, and
// node-a=-1s with node-b=1.5s (the same up to a common shift), contradict nothing; before, router-1
// (given none) became the reference and both offsets were "contradicted". Latencies are as estimated.
func TestOffsetsOnEveryClusterNode(t *testing.T) {
	skew := Correlate(labLoad(t, "clock-skew", "*.pcap", false), Options{})
	for _, offs := range []map[string]time.Duration{
		{"node-a": -2500 * time.Millisecond, "node-b": 0},
		{"node-a": -time.Second, "node-b": 1500 * time.Millisecond},
	} {
		r := Correlate(labLoad(t, "clock-skew", "*.pcap", false), Options{Offsets: offs})
		if k := kinds(r); k["offset-contradicted"] != 0 || clockOf(r, "node-a").Method != "--offset" || clockOf(r, "node-b").Method != "--offset" {
			t.Errorf("clock-skew %v: anomalies %v, clocks %+v", offs, k, r.Clocks)
		}
		sameLatencies(t, r, skew, 5000)
	}
}
