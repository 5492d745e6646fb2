package tui

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// The flows are listed (listFlowsCmd) on a goroutine of their own while the overview shows and the
// user moves through the screens that do not need them: the overview, ARP and anomaly screens, a
// flow opened from the anomalies, the filter; keys that need the flows wait for them. Here that listing runs while keys are pressed and
// screens drawn, as bubbletea runs them, on the lab scenarios with the most anomalies; under `go test
// -race` any state the two share without a lock fails the test. After the flows are in (and the keys
// that waited are applied), the screens are those of the Result correlated with its flows listed.
func TestFlowsListedBesideKeys(t *testing.T) {
	listAfter(t)
	km := DefaultKeyMap()
	const w, h = 120, 40
	keys := []key.Binding{km.Overview, km.Down, km.ARP, km.Down, km.Anomalies, km.Down, km.Enter,
		km.Flows, km.Timeline, km.Packet, km.Filter, km.NextTab, km.Help, km.Back}
	ran := 0
	for _, name := range []string{"mtu-blackhole", "clusterip-dnat", "tcp-retransmission", "proxy-arp-off",
		"underlay-loss", "healthy-vxlan", "any-ipip-input-drop"} {
		dir := filepath.Join("../testdata/lab/scenarios", name)
		files := labFiles(t, dir)
		if len(files) == 0 {
			continue
		}
		ran++
		t.Run(name, func(t *testing.T) {
			opts := labOptions()
			m := steady(send(New(files, opts), tea.WindowSizeMsg{Width: w, Height: h}))
			msg, ok := loadCmd(files, m.opts, m.load)().(loadedMsg)
			if !ok {
				t.Fatal("the captures did not load")
			}
			if !msg.res.FlowsStreamed() || msg.res.Summary.Flows == 0 {
				t.Skipf("%d flows, streamed %v: nothing listed after the overview", msg.res.Summary.Flows,
					msg.res.FlowsStreamed())
			}
			nm, list := m.Update(msg)
			m = nm.(Model)
			done := make(chan []tea.Msg)
			go func() { done <- msgsOf(list) }()
			for _, k := range keys { // every key, before the listing is known to be done
				m = press(m, k)
				_ = m.View()
				if m.filtering {
					m = press(m, km.Back)
				}
			}
			msgs := <-done
			var flows tea.Msg
			for _, msg := range msgs {
				if _, ok := msg.(flowsMsg); ok {
					flows = msg
				}
			}
			if flows == nil {
				t.Fatal("the flows were not listed after the overview showed")
			}
			nm, cmd := m.Update(flows)
			m = runAll(nm.(Model), cmd) // the keys that waited, and what they opened
			if v := ansi.Strip(m.View()); strings.Contains(v, "still loading") {
				t.Errorf("the flows are in, and the screen still says they are loading:\n%s", v)
			}
			full := newTest(t, listedResult(files, opts), w, h)
			for _, b := range []key.Binding{km.Overview, km.Flows} {
				m, full = press(m, km.Back, b), press(full, b)
				if got, want := ansi.Strip(m.View()), ansi.Strip(full.View()); got != want {
					t.Errorf("%s with the flows in, after keys pressed while they were listed:\n%s\nwant:\n%s",
						m.Screen(), got, want)
				}
			}
		})
	}
	if ran < 4 {
		t.Errorf("only %d of the chosen lab scenarios were found", ran)
	}
}
