package tui

import (
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
)

// TestNATMidstreamOpenerMarked: nat-midstream's captures all begin in the middle of its two NAT
// conversations, so which side opened them is not known (correlate.Flow.OpenerUnknown): the flow
// list's post-NAT cell is marked "?" and the flow's timeline says why; the ping's flow is not marked.
// Without the marks the list showed ext-1 as the client of pod-a's masqueraded conversation.
func TestNATMidstreamOpenerMarked(t *testing.T) {
	files := labFiles(t, "../testdata/lab/scenarios/nat-midstream")
	if len(files) == 0 {
		t.Fatal("no nat-midstream captures")
	}
	res := correlate.Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), correlate.Options{})
	m := newTest(t, res, 160, 48)
	marked := 0
	for i := range res.Flows {
		f := &res.Flows[i]
		cell := natCell(m.c, f)
		if f.OpenerUnknown == "" {
			if strings.HasPrefix(cell, "?") {
				t.Errorf("%s %s → %s: post-NAT %q marked, but its opener is known", f.ID, f.Src, f.Dst, cell)
			}
			continue
		}
		marked++
		if !strings.HasPrefix(cell, "? ") {
			t.Errorf("%s %s → %s: post-NAT %q, want it marked ? (opener not known)", f.ID, f.Src, f.Dst, cell)
		}
		var tl timeline
		tl.open(m.c, f.ID, nil)
		if !strings.Contains(strings.Join(tl.orderNotes, "\n"), "Opener not known: which side opened the conversation") {
			t.Errorf("%s: the timeline's notes do not say its opener is not known: %q", f.ID, tl.orderNotes)
		}
	}
	if marked != 2 {
		t.Errorf("%d flows marked, want 2 (pod-a's masqueraded conversation and the node port's)", marked)
	}
}
