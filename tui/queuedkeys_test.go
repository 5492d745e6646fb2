package tui

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// Keys that act on the flows (the filter, sorts, moving through the flow list, opening a flow from
// the anomalies, the packet screen), pressed while the flows are listed after the overview showed,
// wait for them and are applied in order once they are in: every screen then is the one the same
// keys give when pressed after the flows are listed, byte for byte. Before, they were answered
// "still loading" and dropped (and the filter's text typed after `/` was taken as keys).
func TestKeysWhileFlowsListed(t *testing.T) {
	listAfter(t)
	km := DefaultKeyMap()
	const w, h = 160, 48
	runes := func(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }
	k := keyMsgOf
	wheel := func(b tea.MouseButton) tea.MouseMsg { return tea.MouseMsg{Action: tea.MouseActionPress, Button: b} }
	seqs := map[string][]tea.Msg{
		// the flow list: moves, the sort menu and a reverse, a flow opened, its packet's next hop
		"flows": {k(km.Flows), k(km.Down), k(km.Down), k(km.SortMenu), runes("l"), k(km.Reverse), k(km.Down),
			k(km.Enter), k(km.Down), k(km.Packet), k(km.Right), k(km.Hex)},
		// a flow opened from the anomalies, its next loss, the packet screen by tab, back, next row
		"anomaly": {k(km.Anomalies), k(km.Down), k(km.Enter), k(km.NextLoss), k(km.Down), k(km.NextTab),
			k(km.Right), k(km.Back), k(km.Down), k(km.Packet)},
		// the filter typed (its text has keys of screens: t, c, p), then the lists it filters; q is its text too
		"filter": {k(km.Filter), runes("t"), runes("c"), runes("p"), runes(" or "), runes("udp"), k(km.Enter),
			k(km.Flows), k(km.End), k(km.Timeline), k(km.Down), k(km.Anomalies), k(km.Filter), runes("q"),
			k(km.Back), k(km.Down)},
		// screens switched first (at once), then keys that wait, then the overview again
		"switch": {k(km.Timeline), k(km.Down), k(km.Down), k(km.ARP), k(km.Flows), k(km.End), k(km.Overview),
			k(km.Down)},
		// the mouse wheel on the flow list (it waits: no rows yet), a flow opened, the wheel on its timeline
		"wheel": {k(km.Flows), wheel(tea.MouseButtonWheelDown), wheel(tea.MouseButtonWheelDown),
			wheel(tea.MouseButtonWheelDown), wheel(tea.MouseButtonWheelUp), k(km.Enter),
			wheel(tea.MouseButtonWheelDown), wheel(tea.MouseButtonWheelDown)},
	}
	ran := 0
	for _, name := range []string{"tcp-retransmission", "clusterip-dnat", "mtu-blackhole", "underlay-loss"} {
		files := labFiles(t, filepath.Join("../testdata/lab/scenarios", name))
		if len(files) == 0 {
			continue
		}
		opts := labOptions()
		ref := listedResult(files, opts)
		for seqName, seq := range seqs {
			t.Run(name+"/"+seqName, func(t *testing.T) {
				m := steady(send(New(files, opts), tea.WindowSizeMsg{Width: w, Height: h}))
				msg, ok := loadCmd(files, m.opts, m.load)().(loadedMsg)
				if !ok {
					t.Fatal("the captures did not load")
				}
				if !msg.res.FlowsStreamed() || msg.res.Summary.Flows == 0 {
					t.Skipf("%d flows, streamed %v: nothing listed after the overview", msg.res.Summary.Flows,
						msg.res.FlowsStreamed())
				}
				ran++
				nm, list := m.Update(msg)
				m = nm.(Model)
				var cmds []tea.Cmd
				for _, k := range seq { // every key while the flows are listed
					nm, cmd := m.Update(k)
					m, cmds = nm.(Model), append(cmds, cmd)
				}
				if v := ansi.Strip(m.View()); !strings.Contains(v, "wait for the flows") {
					t.Errorf("keys pressed while the flows are listed, and the screen does not say they wait:\n%s", v)
				}
				m = runAll(m, tea.Batch(append(cmds, list)...)) // the keys' work, then the flows listed
				if v := ansi.Strip(m.View()); strings.Contains(v, "still loading") || strings.Contains(v, "wait for") {
					t.Errorf("the flows are in, and the screen still says they or keys wait:\n%s", v)
				}

				want := steady(newTest(t, ref, w, h)) // the same keys pressed once the flows are listed
				for _, k := range seq {
					nm, cmd := want.Update(k)
					want = runAll(nm.(Model), cmd)
				}
				if m.Screen() != want.Screen() {
					t.Errorf("screen %s after the keys, want %s", m.Screen(), want.Screen())
				}
				if got, wantV := ansi.Strip(m.View()), ansi.Strip(want.View()); got != wantV {
					t.Errorf("%s after keys pressed while the flows were listed:\n%s\nwant (pressed after):\n%s",
						m.Screen(), got, wantV)
				}
				for _, b := range []key.Binding{km.Overview, km.Flows, km.Timeline, km.Packet, km.Anomalies} {
					m, want = press(m, b), press(want, b)
					if got, wantV := ansi.Strip(m.View()), ansi.Strip(want.View()); got != wantV {
						t.Errorf("%s then:\n%s\nwant:\n%s", m.Screen(), got, wantV)
					}
				}
			})
		}
	}
	if ran < 10 {
		t.Errorf("only %d runs of the keys while the flows were listed", ran)
	}
}

// steady has the filter bar's cursor not blink, so that running a Model's Cmds to the end ends.
func steady(m Model) Model {
	m.filterInput.Cursor.SetMode(cursor.CursorStatic)
	return m
}
