package tui

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// On every lab scenario the loaded captures' overview shows before their flows are listed, and says
// how many are still loading; but for that line it is the overview of the Result correlated with its
// flows listed, byte for byte. Meanwhile the flows screen says they are still loading rather than
// showing none, and the filter key waits for them (the filter bar opens once they are in). Once they are in, the overview, flows, timeline and
// anomaly screens are those of the Result correlated with its flows listed, byte for byte.
func TestOverviewBeforeFlows(t *testing.T) {
	dirs, err := filepath.Glob("../testdata/lab/scenarios/*")
	if err != nil || len(dirs) < 30 {
		t.Fatalf("%d lab scenarios found (%v)", len(dirs), err)
	}
	listAfter(t)
	km := DefaultKeyMap()
	const w, h = 160, 48
	listed := 0
	for _, dir := range dirs {
		files := labFiles(t, dir)
		if len(files) == 0 {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			opts := labOptions()
			ref := listedResult(files, opts)
			n := ref.Summary.Flows
			if len(ref.Flows) != n {
				t.Fatalf("the Result lists %d of %d flows", len(ref.Flows), n)
			}
			m := steady(send(New(files, opts), tea.WindowSizeMsg{Width: w, Height: h}))
			msg, ok := loadCmd(files, m.opts, m.load)().(loadedMsg)
			if !ok {
				t.Fatal("the captures did not load")
			}
			nm, list := m.Update(msg)
			m = nm.(Model)
			if n == 0 { // nothing to list: the overview as the listed Result's
				if got, want := ansi.Strip(m.View()), ansi.Strip(newTest(t, ref, w, h).View()); got != want {
					t.Errorf("the overview with no flows:\n%s\nwant:\n%s", got, want)
				}
				return
			}
			listed++
			loading := "still loading " + fmtCount(n) + " flows…"
			v := ansi.Strip(m.View())
			if m.Screen() != screenOverview || !strings.Contains(v, loading) {
				t.Fatalf("the overview does not say %q:\n%s", loading, v)
			}
			// The overview without that line, one line shorter, is the listed Result's.
			want := ansi.Strip(newTest(t, ref, w, h-1).View())
			if got := strings.Replace(v, loading+"\n", "", 1); got != want {
				t.Errorf("the overview before the flows are in is not the listed Result's:\n%s\nwant:\n%s", got, want)
			}
			m = press(m, km.Flows)
			if v := ansi.Strip(m.View()); !strings.Contains(v, "  "+loading) || strings.Contains(v, " f1 ") {
				t.Errorf("the flows screen before the flows are in:\n%s", v)
			}
			m = press(m, km.Filter)
			if v := ansi.Strip(m.View()); m.filtering || !strings.Contains(v, "still loading "+fmtCount(n)+" flows: 1 key waits for the flows") {
				t.Errorf("the filter key before the flows are in:\n%s", v)
			}
			var flows tea.Msg
			for _, msg := range msgsOf(list) {
				if _, ok := msg.(flowsMsg); ok {
					flows = msg
				}
			}
			if flows == nil {
				t.Fatal("the flows were not listed after the overview showed")
			}
			nm, cmd := m.Update(flows)
			m = nm.(Model)
			if v := ansi.Strip(m.View()); strings.Contains(v, "still loading") {
				t.Errorf("the flows are in, and the screen still says they are loading:\n%s", v)
			}
			for _, msg := range msgsOf(cmd) { // the first flow's timeline, rendered
				if _, ok := msg.(journeysMsg); ok {
					m = send(m, msg)
				}
			}
			if !m.filtering { // the filter key waited for the flows (and the timeline they open)
				t.Errorf("the filter key pressed while the flows were listed did not open the filter bar once they were in:\n%s",
					ansi.Strip(m.View()))
			}
			m = press(m, km.Back)
			full := newTest(t, ref, w, h)
			for _, b := range []key.Binding{km.Flows, km.Overview, km.Timeline, km.Anomalies} {
				m, full = press(m, b), press(full, b)
				if got, want := ansi.Strip(m.View()), ansi.Strip(full.View()); got != want {
					t.Errorf("%s with the flows in:\n%s\nwant (the listed Result's):\n%s", m.Screen(), got, want)
				}
			}
		})
	}
	if listed < 25 {
		t.Errorf("the flows of %d scenarios were listed after their overview: too few", listed)
	}
}

// listAfter has every load list its flows after the overview shows (none before: syncListFlows),
// until the test ends.
func listAfter(t *testing.T) {
	old := syncListFlows
	syncListFlows = -1
	t.Cleanup(func() { syncListFlows = old })
}

// labOptions are the TUI's options for the lab's captures (VXLAN on its port, a window of 1 s, lean).
func labOptions() Options {
	opts := testOptions()
	opts.Decode = decode.Options{VXLANPort: decode.DefaultVXLANPort}
	opts.Correlate = correlate.Options{Window: time.Second, Lean: true}
	return opts
}

// listedResult correlates files as loadCmd does with opts, but with its flows listed while correlating
// (no StreamFlows): the Result the screens must show once the flows are in.
func listedResult(files []string, opts Options) *correlate.Result {
	c := decode.Load(files, opts.Decode, opts.Points)
	copts := opts.Correlate
	copts.Acks = decode.AckReader(c, opts.Decode)
	return correlate.Correlate(c, copts)
}
