package correlate

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// --offset fixes a node's clock before the others are estimated, so the nodes between it and the
// reference are fitted against the given offset, not against the estimate it replaces.
func TestOffsetOverrideIsFittedAgainst(t *testing.T) {
	pcaps, _ := filepath.Glob("../testdata/lab/scenarios/clock-skew/*.pcap")
	if len(pcaps) == 0 {
		t.Fatal("no clock-skew lab captures")
	}
	clocks := func(o map[string]time.Duration) map[string]Clock {
		r := Correlate(decode.Load(pcaps, decode.Options{}, decode.PointConfig{}), Options{Offsets: o})
		m := map[string]Clock{}
		for _, c := range r.Clocks {
			m[c.Node] = c
		}
		return m
	}
	est := clocks(nil)
	b, router := est["node-b"], est["router-1"]
	if b.Method == "--offset" || router.Samples == 0 {
		t.Fatalf("baseline clocks: %+v", est)
	}
	// Given its own estimate, node-b changes nothing for router-1.
	same := clocks(map[string]time.Duration{"node-b": time.Duration(b.OffsetNs)})
	if got := same["node-b"]; got.OffsetNs != b.OffsetNs || got.Method != "--offset" {
		t.Errorf("node-b with --offset = its estimate: %+v", got)
	}
	if d := same["router-1"].OffsetNs - router.OffsetNs; d > 1000 || d < -1000 {
		t.Errorf("router-1 moved by %d ns when node-b was given its own estimate", d)
	}
	// Given 40 µs more (within minTightTol of the estimate), router-1 (between node-a, the reference, and
	// node-b) is fitted against it. (Farther off, the offset contradicts the traffic and is not used:
	// TestOffsetContradicted, TestOffsetTightBound.)
	moved := clocks(map[string]time.Duration{"node-b": time.Duration(b.OffsetNs) + 40*time.Microsecond})
	if got := moved["node-b"]; got.OffsetNs != b.OffsetNs+40_000 || got.Method != "--offset" {
		t.Errorf("node-b with --offset: %+v", got)
	}
	if d := moved["router-1"].OffsetNs - router.OffsetNs; d < 10_000 {
		t.Errorf("router-1 moved by %d ns when node-b's offset was set 40 µs off: not fitted against the override", d)
	}
	if moved["node-a"].OffsetNs != 0 {
		t.Errorf("the reference moved: %+v", moved["node-a"])
	}
}

// An --offset a millisecond off an estimate good to about a microsecond (clock-skew: node-b at 2.5 s ±
// 1.08 µs) contradicts the traffic: it is said and not used, rather than moving router-1 a millisecond
// and blaming the negative latencies on node-a/eth0 → router-1/eth0. The estimate itself is used as
// given.
func TestOffsetTightBound(t *testing.T) {
	load := func() *decode.Capture { return labLoad(t, "clock-skew", "*.pcap", false) }
	base := Correlate(load(), Options{})
	est, router := clockOf(base, "node-b"), clockOf(base, "router-1")
	if est.BoundNs <= 0 || est.BoundNs > 5000 || est.Method == "--offset" {
		t.Fatalf("baseline node-b clock %+v: want a two-way estimate within 5 µs", est)
	}
	for _, given := range []time.Duration{2501 * time.Millisecond, time.Duration(est.OffsetNs) - 800*time.Microsecond} {
		r := Correlate(load(), Options{Offsets: map[string]time.Duration{"node-b": given}})
		c, rc := clockOf(r, "node-b"), clockOf(r, "router-1")
		if kinds(r)["offset-contradicted"] != 1 || c.OffsetNs != est.OffsetNs || rc.OffsetNs != router.OffsetNs {
			t.Errorf("--offset node-b=%s: anomalies %v, node-b %+v, router-1 %+v; want offset-contradicted and the estimates",
				given, kinds(r), c, rc)
		}
		if kinds(r)["clock-inconsistent"] > 0 || r.Summary.Delivered != base.Summary.Delivered {
			t.Errorf("--offset node-b=%s: anomalies %v, summary %+v", given, kinds(r), r.Summary)
		}
	}
	exact := time.Duration(est.OffsetNs)
	r := Correlate(load(), Options{Offsets: map[string]time.Duration{"node-b": exact}})
	if c := clockOf(r, "node-b"); kinds(r)["offset-contradicted"] > 0 || c.Method != "--offset" || c.OffsetNs != int64(exact) {
		t.Errorf("--offset node-b=%s (the estimate): anomalies %v, node-b %+v", exact, kinds(r), c)
	}
}
