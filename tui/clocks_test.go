package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/calipath/calipath/correlate"
)

// TestOverviewOneSidedClock: the overview's clock line of a clock bounded on one side only printed
// its slope between limits as "drift 13.09ppm" and its method, a paragraph, cut at the width; the node
// box printed its bound of -1 as "±-1ns". The line names the method short with no drift ("—"), the
// whole method and why there is no drift are said below, and the box says "one side".
func TestOverviewOneSidedClock(t *testing.T) {
	res := *labRes
	method := "one-way (node-1→node-2 only): offset ≤ 3ms at the first sampled packet, ≤ 3.1ms at the last " +
		"(5s later); taken at the tightest limit at each moment for a drift up to 500 ppm (no drift is measured): " +
		"latencies into it are lower bounds, out of it upper bounds (the segment table marks them)"
	res.Clocks = []correlate.Clock{{Node: "node-1", Method: "reference"},
		{Node: "node-2", OffsetNs: 3_000_000, BoundNs: -1, DriftPPM: 13.094, Method: method, Samples: 559, Via: "node-1"}}
	v := ansi.Strip(newTest(t, &res, 100, 40).View())
	var line string
	for _, l := range strings.Split(v, "\n") {
		if strings.HasPrefix(l, "  node-2") && strings.Contains(l, "offset") {
			line = l
		}
	}
	if !strings.Contains(line, "drift —") || strings.Contains(line, "13.09") || !strings.Contains(line, "one-way ≤") ||
		!strings.Contains(line, "559 samples") {
		t.Errorf("node-2's clock line %q: want drift —, one-way ≤ and 559 samples", line)
	}
	flat := strings.Join(strings.Fields(v), " ")
	for _, want := range []string{"node-2: one-way (node-1→node-2 only): offset ≤ 3ms", "— no drift measured", "clock 3.00ms one side"} {
		if !strings.Contains(flat, want) {
			t.Errorf("overview lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "±-") {
		t.Errorf("a bound of -1 shown:\n%s", v)
	}
}
