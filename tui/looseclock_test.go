package tui

import (
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
)

// TestLooseClockLines: a segment, flow or hop whose latency loose clocks leave uncertain
// (correlate's ClockUncertainNs: nodeport-local without node-a's eth0, node-a's clock ± 127µs) is
// marked ~ in the overview's segments (with a line below giving the uncertainty, the clocks and the
// fix) and in the packet view's hop times; others are not.
func TestLooseClockLines(t *testing.T) {
	note := "uncertain by ±129µs (node-a's clock ±127µs, router-1's clock ±2.13µs; see Clock offsets), at least its " +
		"smallest latency (-80.1µs): … Capture node-a's eth0 (…) or give --offset node-a=DURATION"
	res := &correlate.Result{Segments: []correlate.Segment{
		{From: "node-a/cali1", To: "router-1/eth0", ClockUncertainNs: 129400, ClockNote: note,
			LatencyNs: correlate.Latency{N: 8, Min: -80100, P50: -64400}},
		{From: "router-1/eth1", To: "node-b/eth0", LatencyNs: correlate.Latency{N: 4, Min: 2130, P50: 2360}},
	}}
	got := strings.Join(segClockLines(res, 400), "\n")
	if !strings.Contains(got, "~ node-a/cali1 → router-1/eth0: latency uncertain by ±129µs") || !strings.Contains(got, "--offset node-a=DURATION") {
		t.Errorf("no line for the uncertain segment in:\n%s", got)
	}
	if s := res.Segments[0].Mark(fmtDur(res.Segments[0].LatencyNs.P50)); s != "~-64.4µs" {
		t.Errorf("uncertain p50 printed as %q, want ~-64.4µs", s)
	}
	if s := res.Segments[1].Mark(fmtDur(res.Segments[1].LatencyNs.P50)); s != "2.36µs" {
		t.Errorf("tight p50 printed as %q", s)
	}
	if lines := segClockLines(&correlate.Result{Segments: res.Segments[1:]}, 400); len(lines) != 0 {
		t.Errorf("lines for tight clocks: %q", lines)
	}
	if s := hopDelta(&correlate.Hop{DeltaNs: -80100, ClockUncertainNs: 129400}); s != "~+-80.1µs (clocks ±129.4µs)" {
		t.Errorf("uncertain hop printed as %q", s)
	}
	if s := hopDelta(&correlate.Hop{DeltaNs: 2130}); s != "+2.13µs" {
		t.Errorf("tight hop printed as %q", s)
	}
}
