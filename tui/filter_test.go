package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// applyKeys opens the filter bar, deletes its text, types expr and presses enter; it returns the
// Model and the Cmd enter returned.
func applyKeys(m Model, expr string) (Model, tea.Cmd) {
	m = send(press(m, m.c.km.Filter), tea.KeyMsg{Type: tea.KeyEnd}, tea.KeyMsg{Type: tea.KeyCtrlU})
	m = typeText(m, expr)
	nm, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	return nm.(Model), cmd
}

// Above syncFilterFlows flows a filter is matched off the UI loop: enter returns at once with the
// lists as they were and the filter line saying so; the verdicts of a filter replaced in the
// meantime are dropped; the last filter's verdicts filter every list as a filter on few flows does.
func TestFilterOffTheLoop(t *testing.T) {
	km := DefaultKeyMap()
	want, cmd := applyKeys(press(newTest(t, labRes, 160, 48), km.Flows), "flow f1 or flow f3")
	if cmd != nil || len(want.fl.idx) != 2 {
		t.Fatalf("on few flows: %d flows listed, Cmd %v; want 2 at once", len(want.fl.idx), cmd != nil)
	}
	defer func(n int) { syncFilterFlows = n }(syncFilterFlows)
	syncFilterFlows = 1
	m, first := applyKeys(press(newTest(t, labRes, 160, 48), km.Flows), "flow f2")
	if first == nil || len(m.fl.idx) != len(labRes.Flows) || m.c.filter != nil {
		t.Fatalf("on many flows: %d flows listed at once, Cmd %v", len(m.fl.idx), first != nil)
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "filtering 8 flows: flow f2…") {
		t.Fatalf("the filter line does not say the filter is being applied:\n%s", v)
	}
	m, second := applyKeys(m, "flow f1 or flow f3")
	m = send(m, first())
	if len(m.fl.idx) != len(labRes.Flows) || m.c.filter != nil {
		t.Fatalf("the replaced filter's verdicts were used: %d flows listed", len(m.fl.idx))
	}
	m = send(m, second())
	if !equalInts(m.fl.idx, want.fl.idx) || !equalInts(m.anom.idx, want.anom.idx) || m.pending != nil {
		t.Fatalf("filtered off the loop: flows %v anomalies %v; on the loop: flows %v anomalies %v",
			m.fl.idx, m.anom.idx, want.fl.idx, want.anom.idx)
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "filter: flow f1 or flow f3") {
		t.Fatalf("the filter line does not show the filter in force:\n%s", v)
	}
	m, cmd = applyKeys(m, "")
	if cmd != nil || len(m.fl.idx) != len(labRes.Flows) || m.c.filter != nil {
		t.Fatalf("clearing the filter: %d flows listed", len(m.fl.idx))
	}
}
