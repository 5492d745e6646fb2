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
	// Its p50 is given by direction, each with its mark (before: "not known" and no figure).
	if st := ansi.Strip(m.fl.view(m.c, 200, m.bodyHeight())); !strings.Contains(st, "p50 ?: lower bounds one way, upper the other; by direction → ≥") ||
		!strings.Contains(st, " ← ≤") {
		t.Errorf("the status line does not give the selected flow's p50 by direction:\n%s", st)
	}
	m = press(m, km.Enter)
	tl := ansi.Strip(m.tl.view(m.c, 200, m.bodyHeight()))
	if !strings.Contains(tl, "●≥") || !strings.Contains(tl, "●≤") {
		t.Errorf("the timeline of a flow to ext-1 marks no hop's time as a bound:\n%s", tl)
	}
	if !strings.Contains(strings.SplitN(tl, "\n", 2)[0], "· p50 → ≥") {
		t.Errorf("the timeline's head does not give the flow's p50 by direction:\n%s", tl)
	}
	// The time column: a packet first seen on ext-1 (a reply) is timed from the first packet, seen on
	// node-a, across ext-1's one-sided clock: a lower bound (before: unmarked).
	marked := false
	for _, l := range strings.Split(tl, "\n") {
		if f := strings.Fields(strings.TrimLeft(l, "▸> ")); len(f) > 0 && strings.HasPrefix(f[0], "≥+") {
			marked = true
		}
	}
	if !marked {
		t.Errorf("the timeline's time column marks no time as a bound:\n%s", tl)
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
