package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
)

// TestPortReuseNoted: port-reuse's TCP flow carried four connections on its 5-tuple
// (correlate.Flow.Connections), three opened by pod-a and one by pod-b: the flow list's status line
// says so when it is selected (and not that the captures began in its middle), and its timeline's
// notes say who opened them, each one's counts, and that both ends did; the pings' flows say nothing
// of it.
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
	if v := ansi.Strip(m.View()); !strings.Contains(v, "4 TCP connections on this 5-tuple, opened by both ends") ||
		strings.Contains(v, "captures began in its middle") {
		t.Errorf("the status line does not say the flow's connections, both ends their openers (or says the captures began in its middle):\n%s", v)
	}
	for k := range res.Flows {
		f := &res.Flows[k]
		var tl timeline
		tl.open(m.c, f.ID, nil)
		notes := strings.Join(tl.orderNotes, "\n")
		noted := strings.Contains(notes,
			"Port reused: 4 TCP connections on one 5-tuple (a port reused): 3 opened by 10.244.1.5:20000, 1 opened by 10.244.2.7:8080") &&
			strings.Contains(notes, "#4 by 10.244.2.7:8080: 12 packets") && strings.Contains(notes, "Opener not known: both ends opened")
		if noted != (f.Proto == "tcp") {
			t.Errorf("%s %s: timeline notes %q", f.ID, f.Proto, tl.orderNotes)
		}
	}
}
