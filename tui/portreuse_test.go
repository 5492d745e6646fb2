package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
)

// TestPortReuseNoted: port-reuse's TCP flow carried four connections on its 5-tuple
// (correlate.Flow.Connections): the flow list's status line says so when it is selected, and its
// timeline's notes say who opened them; the pings' flows say nothing of it.
func TestPortReuseNoted(t *testing.T) {
	res := correlate.Correlate(decode.Load(labFiles(t, "../testdata/lab/scenarios/port-reuse"), decode.Options{},
		decode.PointConfig{}), correlate.Options{})
	m := press(newTest(t, res, 160, 48), DefaultKeyMap().Flows)
	if m.Screen() != screenFlows {
		t.Fatalf("screen %v, want the flows", m.Screen())
	}
	i, ok := m.fl.selected()
	if !ok || res.Flows[i].Proto != "tcp" {
		t.Fatalf("selected flow %d (%v), want the TCP flow (worst first)", i, ok)
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "4 TCP connections on this 5-tuple") {
		t.Errorf("the status line does not say the flow's connections:\n%s", v)
	}
	for k := range res.Flows {
		f := &res.Flows[k]
		var tl timeline
		tl.open(m.c, f.ID, nil)
		noted := strings.Contains(strings.Join(tl.orderNotes, "\n"),
			"Port reused: 4 TCP connections on one 5-tuple (a port reused): 3 opened by 10.244.1.5:20000, 1 opened by 10.244.2.7:8080")
		if noted != (f.Proto == "tcp") {
			t.Errorf("%s %s: timeline notes %q", f.ID, f.Proto, tl.orderNotes)
		}
	}
}
