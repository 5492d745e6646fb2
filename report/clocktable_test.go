package report

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/calipath/calipath/correlate"
)

// oneSidedMethod is state-neigh-failed's node-b's method (calipath 0456378), a clock bounded on one
// side only.
const oneSidedMethod = "one-way (a→b only): offset ≤ 23.385µs at the first sampled packet, ≤ 95.111µs at the " +
	"last (5.478s later); taken at the tightest limit at each moment for a drift up to 500 ppm (no drift is " +
	"measured): latencies into it are lower bounds, out of it upper bounds (the segment table marks them)"

// oneSided is small() with b's clock bounded on one side only (its slope 13.094 ppm no measurement)
// and a third node, c, fitted both ways.
func oneSided() *correlate.Result {
	r := small()
	r.Clocks = []correlate.Clock{{Node: "a", Method: "reference"},
		{Node: "b", OffsetNs: 23_385, BoundNs: -1, DriftPPM: 13.094, Method: oneSidedMethod, Samples: 7, Via: "a"},
		{Node: "c", OffsetNs: 3_000_000, BoundNs: 102_000, DriftPPM: 1.5,
			Method: "minimum delays both ways, fitted against every neighbour, with drift", Samples: 559}}
	return r
}

// TestClockTableReadable: a one-sided clock's method, a paragraph, made the clock table of the text
// report 300 columns wide at width 100 (SAMPLES cut off, the method cut on the left) and printed its
// slope between limits as a drift. The table names the method short and says it whole below; its
// lines fit in 100 columns, the SAMPLES column whole; the drift of the one-sided clock is "—" in every
// format, with why; the measured one is still given.
func TestClockTableReadable(t *testing.T) {
	txt := string(render(t, oneSided(), Text, WithWidth(100)))
	sec := txt[strings.Index(txt, "Clock offsets"):]
	sec = sec[:strings.Index(sec, "\n\n")]
	lines := strings.Split(sec, "\n")
	if !strings.HasSuffix(lines[1], "SAMPLES") {
		t.Errorf("header %q does not end in SAMPLES", lines[1])
	}
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("%d columns: %q", n, l)
		}
	}
	for _, want := range []string{"one-way ≤", "two-way fit + drift", "1.5 ppm", "b: one-way (a→b only): offset ≤ 23.385µs",
		"two-way fit + drift: minimum delays both ways, fitted against every neighbour, with drift.", "— no drift measured"} {
		if !strings.Contains(sec, want) {
			t.Errorf("text: no %q in\n%s", want, sec)
		}
	}
	row := lines[3] // a, then b
	if !strings.HasPrefix(strings.TrimSpace(row), "b ") || strings.Contains(row, "13.094") || !strings.Contains(row, "—") ||
		!strings.HasSuffix(row, " 7") {
		t.Errorf("b's row %q: want a drift of — and 7 samples", row)
	}
	for _, f := range []Format{Markdown, HTML} {
		got := string(render(t, oneSided(), f))
		if strings.Contains(got, "13.094") || !strings.Contains(got, "—") || !strings.Contains(got, "no drift measured") ||
			!strings.Contains(got, "1.5") || !strings.Contains(got, "b: one-way (a→b only)") {
			t.Errorf("%v: b's slope shown as a drift, or no — with why, or no whole method:\n%s", f, got)
		}
	}
}
