package correlate

import (
	"strings"
	"testing"
	"time"
)

// A step its captures cannot place exactly, taken off with a few frames left on either side, can
// leave one packet's sightings as two journeys, the first lost (clusterip-dnat: node-b −300 µs at
// 1.6111 s; node-a −500 µs at 1.6109 s with per-interface files only). Before, "1 of 15 packets lost"
// between node-a's pod veth and tunl0 was said as certain and the summary as reliable: 28 packets,
// 27 delivered, 1 lost (truth: 27 sent, 27 delivered). Now the loss starts "Uncertain:" and names the
// stepped node, and the summary says the counts are unreliable; the unstepped run says neither.
func TestClockStepUnsureLoss(t *testing.T) {
	us := time.Microsecond
	for _, c := range []struct {
		node  string
		step  labStep
		perIf bool
	}{
		{"node-b", labStep{1611100 * us, -300 * us}, false},
		{"node-b", labStep{1611100 * us, -800 * us}, true},
		{"node-a", labStep{1610900 * us, -500 * us}, true},
	} {
		steps := map[string][]labStep{c.node: {c.step}}
		r := Correlate(labClocks(t, "clusterip-dnat", c.perIf, func(node string, first, ts int64) int64 {
			return stepAll(first, ts, steps[node])
		}), Options{})
		if !strings.Contains(r.Summary.Unreliable, "the clock of "+c.node+" stepped at a moment the captures cannot "+
			"place exactly") || !strings.Contains(r.Summary.Unreliable, "counts are unreliable") {
			t.Errorf("%v (per-interface %v): summary %d packets, %d lost, unreliable %q: want the step of %s said",
				steps, c.perIf, r.Summary.Journeys, r.Summary.Lost, r.Summary.Unreliable, c.node)
		}
		said := 0
		for _, an := range r.Anomalies {
			if an.Severity == sevError {
				t.Errorf("%v: %s %s: %s", steps, an.Severity, an.Kind, an.Message)
			}
			if lossWarnings[an.Kind] {
				if !strings.HasPrefix(an.Message, "Uncertain: the clock of "+c.node+" stepped by") ||
					!strings.Contains(an.Next, "--offset "+c.node+"=D") {
					t.Errorf("%v: loss at %v said as certain: %s", steps, an.Where, an.Message)
				}
				said++
			}
		}
		if r.Summary.Lost > 0 && said == 0 {
			t.Errorf("%v: %d lost and no loss finding", steps, r.Summary.Lost)
		}
	}
	r := Correlate(labClocks(t, "clusterip-dnat", true, func(_ string, _, ts int64) int64 { return ts }), Options{})
	if r.Summary.Unreliable != "" {
		t.Errorf("unstepped: unreliable %q", r.Summary.Unreliable)
	}
	for _, an := range r.Anomalies {
		if strings.HasPrefix(an.Message, "Uncertain:") {
			t.Errorf("unstepped: %s %s: %s", an.Severity, an.Kind, an.Message)
		}
	}
}
