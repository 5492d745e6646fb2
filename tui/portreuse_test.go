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

// TestPortReuseNATNoted: port-reuse-nat's TCP flow, through node-a's NAT, carried three connections on
// its tuple, two opened by pod-a (masqueraded) and one by ext-1 (through a port forward): the flow
// list's status line says both ends opened them, not that the captures began in its middle (it did,
// from the NAT flow's OpenerUnknown); its post-NAT cell is marked "?" as for any NAT flow whose opener
// is not one; and its timeline's notes say both ends did, through its NAT.
func TestPortReuseNATNoted(t *testing.T) {
	res := correlate.Correlate(decode.Load(labFiles(t, "../testdata/lab/scenarios/port-reuse-nat"), decode.Options{},
		decode.PointConfig{}), correlate.Options{})
	m := press(newTest(t, res, 320, 48), DefaultKeyMap().Flows)
	i, ok := m.fl.selected()
	if !ok || res.Flows[i].Proto != "tcp" {
		t.Fatalf("selected flow %d (%v), want the TCP flow (worst first)", i, ok)
	}
	f := &res.Flows[i]
	if v := ansi.Strip(m.View()); !strings.Contains(v, "3 TCP connections on this 5-tuple, opened by both ends") ||
		strings.Contains(v, "captures began in its middle") {
		t.Errorf("the status line does not say both ends opened the flow's connections (or says the captures began in its middle):\n%s", v)
	}
	if c := natCell(m.c, f); !strings.HasPrefix(c, "? ") {
		t.Errorf("post-NAT cell %q, want it marked ?", c)
	}
	var tl timeline
	tl.open(m.c, f.ID, nil)
	if notes := strings.Join(tl.orderNotes, "\n"); !strings.Contains(notes, "Opener not known: both ends opened its TCP connections on this 5-tuple through its NAT") {
		t.Errorf("timeline notes %q", tl.orderNotes)
	}
}
