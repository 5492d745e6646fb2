package tui

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/charmbracelet/x/ansi"
)

// TestOneSidedClockMarks reads router-three-ifaces, where ext-1's clock is bounded above from node-a's
// side only: the flows to 203.0.113.10 have latencies lower bounds one way and upper bounds the other,
// so not known. The flow list prints their p50 as "?" (pod-a → pod-b's stay measurements) and the
// status line says why when one is selected; its timeline marks each hop's time between node-a's or
// router-1's and ext-1's clocks as a bound (≥, ≤), and the packet screen likewise. Before, the list
// printed their p50 and the timeline and packet screen each hop's time as measurements.
func TestOneSidedClockMarks(t *testing.T) {
	pcaps, _ := filepath.Glob("../testdata/lab/scenarios/router-three-ifaces/*.pcap")
	var files []string
	for _, p := range pcaps {
		if !strings.HasSuffix(p, "-any.pcap") {
			files = append(files, p)
		}
	}
	if len(files) == 0 {
		t.Skip("no router-three-ifaces lab scenario")
	}
	res := correlate.Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), correlate.Options{})
	km := DefaultKeyMap()
	m := press(newTest(t, res, 200, 48), km.Flows)
	list := ansi.Strip(m.fl.view(m.c, 200, m.bodyHeight()))
	ext, pod := 0, 0
	for _, l := range strings.Split(list, "\n") {
		f := strings.Fields(l)
		switch {
		case strings.Contains(l, "203.0.113.10"):
			ext++
			if !strings.Contains(l, " ? ") || strings.Contains(l, "µs") {
				t.Errorf("a flow to ext-1 without ? for its p50, or with a latency: %q", l)
			}
		case strings.Contains(l, "10.244.2.7") && len(f) > 0:
			pod++
			if !strings.Contains(l, "µs") || strings.Contains(l, "?") || strings.Contains(l, "≥") {
				t.Errorf("a flow between clocks bounded both ways not given as a measurement: %q", l)
			}
		}
	}
	if ext == 0 || pod == 0 {
		t.Fatalf("%d flows to ext-1, %d to pod-b in the list:\n%s", ext, pod, list)
	}
	for i := 0; i < len(res.Flows) && res.Flows[m.fl.selectedFlow()].Dst.IP != "203.0.113.10"; i++ {
		m = press(m, km.Down)
	}
	if st := ansi.Strip(m.fl.view(m.c, 200, m.bodyHeight())); !strings.Contains(st, "p50 ?: not known") {
		t.Errorf("the status line does not say why the selected flow's p50 is ?:\n%s", st)
	}
	m = press(m, km.Enter)
	tl := ansi.Strip(m.tl.view(m.c, 200, m.bodyHeight()))
	if !strings.Contains(tl, "●≥") || !strings.Contains(tl, "●≤") {
		t.Errorf("the timeline of a flow to ext-1 marks no hop's time as a bound:\n%s", tl)
	}
	m = press(m, km.Enter)
	pk := ansi.Strip(m.pk.view(m.c, 200, m.bodyHeight()))
	if !strings.Contains(pk, "≥+") && !strings.Contains(pk, "≤+") {
		t.Errorf("the packet screen marks no hop's time as a bound:\n%s", pk)
	}
}

// TestHopDelta: the packet screen's time since the hop before, marked by its ClockBound.
func TestHopDelta(t *testing.T) {
	for _, tc := range []struct{ bound, want string }{
		{"", "+1.50µs"}, {correlate.BoundLower, "≥+1.50µs"}, {correlate.BoundUpper, "≤+1.50µs"},
		{correlate.BoundNone, "? (clocks bounded on one side only)"},
	} {
		if got := hopDelta(&correlate.Hop{DeltaNs: 1500, ClockBound: tc.bound}); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.bound, got, tc.want)
		}
	}
}
