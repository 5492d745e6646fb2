package tui

import (
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
)

// TestSegClockLines: below the segments, the overview says why a latency the clocks leave unknown is
// "?" (with the fix), and what ≥ and ≤ mean; nothing for segments whose clocks are bounded both ways.
func TestSegClockLines(t *testing.T) {
	res := &correlate.Result{Segments: []correlate.Segment{
		{From: "node-a/eth0", To: "router-1/eth2", ClockBound: correlate.BoundLower, ClockNote: "lower bounds: …"},
		{From: "router-1/eth2", To: "ext-1/eth0", ClockBound: correlate.BoundNone,
			ClockNote: "not known: the clocks of router-1 and ext-1 are each bounded on one side only. Give --node-ip NODE=IP"},
		{From: "node-a/cali1", To: "node-a/eth0"},
	}}
	got := strings.Join(segClockLines(res, 200), "\n")
	for _, want := range []string{"≥ lower bound, ≤ upper bound", "? router-1/eth2 → ext-1/eth0: latency not known", "--node-ip"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
	if s := res.Segments[1].Mark(fmtDur(-892)); s != "?" {
		t.Errorf("unknown latency printed as %q", s)
	}
	if lines := segClockLines(&correlate.Result{Segments: res.Segments[2:]}, 200); len(lines) != 0 {
		t.Errorf("lines for clocks bounded both ways: %q", lines)
	}
}
