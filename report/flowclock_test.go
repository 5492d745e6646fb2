package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
)

// TestFlowClockBounds prints flow f1 of small() as one whose end-to-end latencies the clocks leave
// unknown (correlate.BoundNone: oneway's flows to ext-1, lower bounds one way and upper the other), and
// as lower and upper bounds, in every format with a flow table: an unknown latency is "?" with its
// note (the reason and the fix), never a value; a bound is marked ≥ or ≤, with the legend. JSON gives
// clock_bound and clock_note beside latency_ns. Before, the flow tables printed every flow's P50 and
// P99 as measurements.
func TestFlowClockBounds(t *testing.T) {
	note := "not known: its latencies a → b are lower bounds and those b → a upper bounds (…). Give --node-ip NODE=IP or --offset b=DURATION"
	for _, f := range []Format{Text, Markdown, HTML} {
		r := small()
		r.Flows[0].ClockBound, r.Flows[0].ClockNote = correlate.BoundNone, note
		r.Flows[0].LatencyNs = correlate.Latency{}
		got := string(render(t, r, f))
		if !strings.Contains(got, "? f1: latency not known") || !strings.Contains(got, "--offset b=DURATION") {
			t.Errorf("%v: no note for the unknown latency:\n%s", f, got)
		}
		for _, b := range []struct{ bound, mark string }{{correlate.BoundLower, "≥21µs"}, {correlate.BoundUpper, "≤30µs"}} {
			r := small()
			r.Segments[0].LatencyNs = correlate.Latency{} // only the flow shows 21µs and 30µs
			r.Flows[0].ClockBound, r.Flows[0].ClockNote = b.bound, b.bound+" bounds: b's offset ≤ 1µs, from a's packets"
			got := string(render(t, r, f))
			if !strings.Contains(got, b.mark) || !strings.Contains(got, "≥ lower bound, ≤ upper bound: a clock at the end of the flow") {
				t.Errorf("%v %s: no %s or no legend:\n%s", f, b.bound, b.mark, got)
			}
		}
	}
	r := small()
	r.Flows[0].ClockBound, r.Flows[0].ClockNote = correlate.BoundNone, note
	r.Flows[0].LatencyNs = correlate.Latency{}
	var doc struct {
		Flows []map[string]any `json:"flows"`
	}
	if err := json.Unmarshal(render(t, r, JSON), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Flows) == 0 || doc.Flows[0]["clock_bound"] != correlate.BoundNone || doc.Flows[0]["clock_note"] != note {
		t.Errorf("JSON: flow f1 without its clock_bound and clock_note: %v", doc.Flows)
	}
	if len(doc.Flows) > 1 && (doc.Flows[1]["clock_bound"] != nil || doc.Flows[1]["clock_note"] != nil) {
		t.Errorf("JSON: a measured flow marked: %v", doc.Flows[1])
	}
}

// TestHopsBound: the HTML ladder's arrow between two columns may span several hops (points off the
// ladder between): the time across them is a measurement only when each hop's is, a bound when each is
// that bound or a measurement, else not known.
func TestHopsBound(t *testing.T) {
	h := func(bs ...string) []correlate.Hop {
		var out []correlate.Hop
		for _, b := range bs {
			out = append(out, correlate.Hop{ClockBound: b})
		}
		return out
	}
	lo, up, none := correlate.BoundLower, correlate.BoundUpper, correlate.BoundNone
	for _, tc := range []struct {
		hops []correlate.Hop
		want string
	}{
		{h("", ""), ""}, {h("", lo), lo}, {h(lo, "", lo), lo}, {h(up, ""), up},
		{h(lo, up), none}, {h("", none), none}, {h(none, lo), none},
	} {
		if got := hopsBound(tc.hops); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.hops, got, tc.want)
		}
	}
}
