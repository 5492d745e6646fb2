package report

import (
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
)

// TestSegmentClockBounds prints the segment of small() as one whose clocks leave its latency unknown
// (correlate.BoundNone, as router-1 → ext-1 of the oneway lab scenario with --k8s), and as a lower and
// an upper bound, in every format with a segment table: an unknown latency is "?" with its note (the
// reason and the fix), never a value; a bound is marked ≥ or ≤, with the legend. Before, the table
// printed router-1/eth2 → ext-1/eth0's corrected MIN of -892ns as a measurement.
func TestSegmentClockBounds(t *testing.T) {
	note := "not known: the clocks of a and b are each bounded on one side only (…). Give --node-ip NODE=IP or --offset"
	for _, f := range []Format{Text, Markdown, HTML} {
		r := small()
		r.Segments[0].ClockBound, r.Segments[0].ClockNote = correlate.BoundNone, note
		r.Segments[0].LatencyNs = correlate.Latency{}
		got := string(render(t, r, f))
		if !strings.Contains(got, "? a/eth0 → b/eth0: latency not known") || strings.Contains(got, "p50 21µs") {
			t.Errorf("%v: no note for the unknown latency, or a latency shown:\n%s", f, got)
		}
		for _, b := range []struct{ bound, mark string }{{correlate.BoundLower, "≥21µs"}, {correlate.BoundUpper, "≤21µs"}} {
			r := small()
			r.Segments[0].ClockBound, r.Segments[0].ClockNote = b.bound, b.bound+" bounds: b's offset ≤ 1µs, from a's packets"
			got := string(render(t, r, f))
			if !strings.Contains(got, b.mark) || !strings.Contains(got, "≥ lower bound, ≤ upper bound") {
				t.Errorf("%v %s: no %s or no legend:\n%s", f, b.bound, b.mark, got)
			}
		}
	}
}
