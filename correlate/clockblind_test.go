package correlate

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// Node-a's address given, but not the one its pods are masqueraded to (a node with two interfaces):
// the packets crossing the nodes come from no address calipath can put down to a node, so no clock
// can be estimated. The clocks say so (not "no packets cross"), and with node-a's clock 100 µs off the
// drop its NAT join shows (packets matched out of order) is a warning that says it is uncertain and
// how to settle it, not an ERROR.
func TestClockBlindUncertain(t *testing.T) {
	cfg := decode.PointConfig{NodeIPs: map[string][]netip.Addr{"node-a": {netip.MustParseAddr("192.168.30.2")}}}
	r := Correlate(labShifted(t, "snat-external", nil, "node-a", 100*time.Microsecond, cfg), Options{})
	for _, node := range []string{"node-a", "router-1", "ext-1"} {
		if c := clockOf(r, node); !strings.Contains(c.Method, "could not be estimated") || strings.Contains(c.Method, "no packets cross") {
			t.Errorf("%s clock %+v: want could not be estimated", node, c)
		}
	}
	if c := clockOf(r, "node-b"); c.Method != methodUncrossed {
		t.Errorf("node-b (no frame) clock %+v", c)
	}
	uncertain := 0
	for _, an := range r.Anomalies {
		if an.Severity == sevError {
			t.Errorf("ERROR %s at %v: %s", an.Kind, an.Where, an.Message)
		}
		if blindKinds[an.Kind] {
			uncertain++
			if !strings.HasPrefix(an.Message, "Uncertain: the clock of node-a could not be estimated") ||
				!strings.Contains(an.Next, "--node-ip") || !strings.Contains(an.Next, "--offset node-a=") {
				t.Errorf("%s %s at %v: %s (next: %s)", an.Severity, an.Kind, an.Where, an.Message, an.Next)
			}
		}
	}
	if uncertain == 0 {
		t.Errorf("no drop said to be uncertain: %v", kinds(r))
	}
}

// The same shape: no clock could be estimated, and node-a's is 100 µs off. A latency between two
// nodes is then not known (shownBound), and none is shown as a measurement: every cross-node segment,
// hop and flow is BoundNone with a note naming the clock and the fix, its latencies not given; a
// segment within one node keeps its latencies. Before, they were shown as measured, 100 µs off.
func TestClockBlindLatenciesNotShown(t *testing.T) {
	cfg := decode.PointConfig{NodeIPs: map[string][]netip.Addr{"node-a": {netip.MustParseAddr("192.168.30.2")}}}
	r := Correlate(labShifted(t, "snat-external", nil, "node-a", 100*time.Microsecond, cfg), Options{Journeys: true})
	node := func(p string) string { n, _, _ := strings.Cut(p, "/"); return n }
	cross, within := 0, 0
	for _, s := range r.Segments {
		if node(s.From) == node(s.To) {
			within++
			if s.ClockBound != "" || (s.Delivered > 0 && s.LatencyNs.N == 0) {
				t.Errorf("segment %s → %s within a node: bound %q, latency %+v", s.From, s.To, s.ClockBound, s.LatencyNs)
			}
			continue
		}
		cross++
		if s.ClockBound != BoundNone || s.LatencyNs.N != 0 || !strings.Contains(s.ClockNote, ClockNotEstimated) ||
			!strings.Contains(s.ClockNote, "--offset ") {
			t.Errorf("segment %s → %s: bound %q, latency %+v, note %q", s.From, s.To, s.ClockBound, s.LatencyNs, s.ClockNote)
		}
	}
	if cross == 0 || within == 0 {
		t.Fatalf("segments: %d across nodes, %d within one", cross, within)
	}
	for _, f := range r.Flows {
		if f.Delivered > 0 && (f.ClockBound != BoundNone || !strings.Contains(f.ClockNote, ClockNotEstimated)) {
			t.Errorf("flow %s: bound %q, note %q", f.ID, f.ClockBound, f.ClockNote)
		}
	}
	hops := 0
	for _, j := range r.Journeys {
		for i := 1; i < len(j.Hops); i++ {
			if node(j.Hops[i-1].Point) != node(j.Hops[i].Point) {
				hops++
				if j.Hops[i].ClockBound != BoundNone {
					t.Errorf("journey %d hop %s → %s: bound %q", j.ID, j.Hops[i-1].Point, j.Hops[i].Point, j.Hops[i].ClockBound)
				}
			}
		}
	}
	if hops == 0 {
		t.Error("no hop across nodes")
	}
}
