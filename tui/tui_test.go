package tui

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/report"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// labRes is the Result of a small generated two-node IP-in-IP capture with loss, retransmissions,
// DNAT and a clock offset (deterministic for its seed).
var labRes *correlate.Result

func TestMain(m *testing.M) {
	flag.Parse()
	// Pin the colour profile: lipgloss output otherwise depends on whether stdout is a terminal.
	lipgloss.SetColorProfile(termenv.Ascii)
	dir, err := os.MkdirTemp("", "calipath-tui-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	labRes, err = generate(dir, 600, 8)
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func generate(dir string, packets, flows int) (*correlate.Result, error) {
	cfg := gen.DefaultConfig()
	cfg.Dir = dir
	cfg.Packets = packets
	cfg.Flows = flows
	cfg.LossPerHop = 0.02
	cfg.RetransRate = 0.02
	cfg.DNAT = 0.3
	cfg.ClockOffset = map[string]time.Duration{"node-2": 3 * time.Millisecond}
	cfg.KeepTruth = false
	g, err := gen.Generate(cfg)
	if err != nil {
		return nil, err
	}
	c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
	return correlate.Correlate(c, correlate.Options{}), nil
}

func testOptions() Options {
	return Options{Out: io.Discard, Getenv: func(k string) string {
		if k == "NO_COLOR" {
			return "1"
		}
		return ""
	}}
}

func newTest(t testing.TB, res *correlate.Result, w, h int) Model {
	t.Helper()
	m := NewWithResult(res, testOptions())
	return send(m, tea.WindowSizeMsg{Width: w, Height: h})
}

// send feeds msgs to Update, running the Cmds that read frames (the packet screen) synchronously.
func send(m Model, msgs ...tea.Msg) Model {
	for _, msg := range msgs {
		nm, cmd := m.Update(msg)
		m = nm.(Model)
		if cmd != nil && m.pk.loading {
			if out, ok := runQuick(cmd).(framesMsg); ok {
				nm, _ = m.Update(out)
				m = nm.(Model)
			}
		}
		if cmd != nil && m.tl.loading {
			if out, ok := runQuick(cmd).(journeysMsg); ok {
				nm, _ = m.Update(out)
				m = nm.(Model)
			}
		}
	}
	return m
}

// runQuick runs a Cmd unless it is a timer or a textinput blink.
func runQuick(cmd tea.Cmd) (msg tea.Msg) {
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg = <-done:
		return msg
	case <-time.After(2 * time.Second):
		return nil
	}
}

// press sends the first key of each binding.
func press(m Model, bs ...key.Binding) Model {
	for _, b := range bs {
		m = send(m, keyMsgOf(b))
	}
	return m
}

func typeText(m Model, s string) Model {
	for _, r := range s {
		m = send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	return m
}

func TestNavigation(t *testing.T) {
	km := DefaultKeyMap()
	m := newTest(t, labRes, 80, 24)
	if m.Screen() != screenOverview {
		t.Fatalf("start screen %v", m.Screen())
	}
	for _, tc := range []struct {
		b    key.Binding
		want screen
	}{
		{km.Flows, screenFlows}, {km.Timeline, screenTimeline}, {km.ARP, screenARP},
		{km.Anomalies, screenAnomalies}, {km.Overview, screenOverview}, {km.NextTab, screenFlows},
		{km.PrevTab, screenOverview}, {km.PrevTab, screenAnomalies}, {km.NextTab, screenOverview},
	} {
		m = press(m, tc.b)
		if m.Screen() != tc.want {
			t.Fatalf("after %s: screen %v, want %v", tc.b.Keys()[0], m.Screen(), tc.want)
		}
	}
	m = press(m, km.Help)
	if v := ansi.Strip(m.View()); !m.showHelp || !strings.Contains(v, "next loss") {
		t.Fatalf("help not shown:\n%s", v)
	}
	m = press(m, km.Down)
	if m.showHelp {
		t.Fatalf("help still shown after a key")
	}
	if _, cmd := m.Update(keyMsgOf(km.Quit)); !isQuit(cmd) {
		t.Fatalf("q does not quit")
	}
}

func TestFlowsSortAndOpen(t *testing.T) {
	km := DefaultKeyMap()
	m := press(newTest(t, labRes, 160, 48), km.Flows)
	if len(m.fl.idx) != len(labRes.Flows) {
		t.Fatalf("%d flows listed, want %d", len(m.fl.idx), len(labRes.Flows))
	}
	// Sort by packets through the sort menu: largest first.
	m = press(m, km.SortMenu)
	m = typeText(m, "k")
	if flowColumns[m.fl.sortCol].name != "pkts" || !m.fl.desc || m.fl.menu {
		t.Fatalf("sorted by %s desc=%v menu=%v", flowColumns[m.fl.sortCol].name, m.fl.desc, m.fl.menu)
	}
	for i := 1; i < len(m.fl.idx); i++ {
		if labRes.Flows[m.fl.idx[i-1]].Packets < labRes.Flows[m.fl.idx[i]].Packets {
			t.Fatalf("not sorted by packets descending at row %d", i)
		}
	}
	// Picked again, it reverses; > and < step through the orders.
	m = press(m, km.SortMenu)
	m = typeText(m, "k")
	if m.fl.desc {
		t.Fatal("picking the sort column again did not reverse it")
	}
	m = press(m, km.SortNext)
	if flowColumns[m.fl.sortCol].name != "deliv" {
		t.Fatalf("> after pkts sorts by %s", flowColumns[m.fl.sortCol].name)
	}
	m = press(m, km.End)
	if m.fl.cursor != len(m.fl.idx)-1 {
		t.Fatalf("end: cursor %d", m.fl.cursor)
	}
	want := labRes.Flows[m.fl.idx[m.fl.cursor]].ID
	m = press(m, km.Enter)
	if m.Screen() != screenTimeline || m.tl.flowID != want {
		t.Fatalf("enter: screen %v flow %q, want timeline of %q", m.Screen(), m.tl.flowID, want)
	}
	m = press(m, km.Back)
	if m.Screen() != screenFlows {
		t.Fatalf("esc from timeline: %v", m.Screen())
	}
}

// lossyFlow returns a flow with losses.
func lossyFlow(t *testing.T, res *correlate.Result) int {
	for i, f := range res.Flows {
		if f.Lost > 0 {
			return i
		}
	}
	t.Fatal("the lab scenario has no flow with losses: the tests that need one would check nothing")
	return 0
}

func TestTimelineJumpsAndPacket(t *testing.T) {
	km := DefaultKeyMap()
	m := press(newTest(t, labRes, 160, 48), km.Flows)
	fi := lossyFlow(t, labRes)
	for m.fl.idx[m.fl.cursor] != fi {
		m = press(m, km.Down)
	}
	m = press(m, km.Enter, km.NextLoss)
	j, ok := m.tl.selectedJourney()
	if !ok || j.Status != "lost" {
		t.Fatalf("n did not land on a lost journey: %+v", j)
	}
	first := m.tl.cursor
	m = press(m, km.NextLoss)
	if labRes.Flows[fi].Lost > 1 && m.tl.cursor <= first {
		t.Fatalf("second n did not move forward: %d → %d", first, m.tl.cursor)
	}
	m = press(m, km.PrevLoss)
	if m.tl.cursor != first {
		t.Fatalf("N went to %d, want %d", m.tl.cursor, first)
	}
	m = press(m, km.Enter)
	if m.Screen() != screenPacket || m.pk.loading || len(m.pk.frames) != len(j.Hops) {
		t.Fatalf("packet screen: screen %v loading %v frames %d", m.Screen(), m.pk.loading, len(m.pk.frames))
	}
	for i, f := range m.pk.frames {
		if f.err != nil || f.rec.Frame != j.Hops[i].Frame {
			t.Fatalf("hop %d: frame %d err %v", i, f.rec.Frame, f.err)
		}
	}
	v := ansi.Strip(m.View())
	if !strings.Contains(v, "hex:") || !strings.Contains(v, "0000  ") {
		t.Fatalf("no hex view:\n%s", v)
	}
	m = press(m, km.Hex)
	if strings.Contains(ansi.Strip(m.View()), "hex:") {
		t.Fatalf("hex view still shown after toggling")
	}
	m = press(m, km.Back)
	if m.Screen() != screenTimeline {
		t.Fatalf("esc from packet: %v", m.Screen())
	}
}

func TestFilter(t *testing.T) {
	km := DefaultKeyMap()
	m := press(newTest(t, labRes, 80, 24), km.Flows, km.Filter)
	if !m.filtering {
		t.Fatal("/ did not open the filter bar")
	}
	m = typeText(m, "proto udp")
	m = send(m, tea.KeyMsg{Type: tea.KeyEnter})
	if m.filtering || m.c.filter == nil {
		t.Fatalf("filter not applied: filtering %v err %q", m.filtering, m.filterErr)
	}
	n := 0
	for _, f := range labRes.Flows {
		if f.Proto == "udp" {
			n++
		}
	}
	if len(m.fl.idx) != n {
		t.Fatalf("%d flows after proto udp, want %d", len(m.fl.idx), n)
	}
	for _, i := range m.fl.idx {
		if labRes.Flows[i].Proto != "udp" {
			t.Fatalf("flow %s is %s", labRes.Flows[i].ID, labRes.Flows[i].Proto)
		}
	}
	// A bad expression keeps the bar open with the error and the old filter.
	m = press(m, km.Filter)
	m = send(m, tea.KeyMsg{Type: tea.KeyCtrlU})
	m = typeText(m, "port banana")
	m = send(m, tea.KeyMsg{Type: tea.KeyEnter})
	if !m.filtering || m.filterErr == "" || len(m.fl.idx) != n {
		t.Fatalf("bad filter: filtering %v err %q flows %d", m.filtering, m.filterErr, len(m.fl.idx))
	}
	// Esc leaves the bar for the filter in force: its text, and no stale error.
	m = send(m, tea.KeyMsg{Type: tea.KeyEsc})
	if bar := ansi.Strip(m.View()); m.filtering || m.filterErr != "" || !strings.Contains(bar, "filter: proto udp") ||
		strings.Contains(bar, "banana") {
		t.Fatalf("after esc: filtering %v err %q\n%s", m.filtering, m.filterErr, bar)
	}
	// Clearing the expression shows everything again.
	m = press(m, km.Filter)
	m = send(m, tea.KeyMsg{Type: tea.KeyCtrlU}, tea.KeyMsg{Type: tea.KeyEnter})
	if m.c.filter != nil || len(m.fl.idx) != len(labRes.Flows) {
		t.Fatalf("cleared filter: %d flows", len(m.fl.idx))
	}
}

func TestAnomalyJumpsToEvidence(t *testing.T) {
	km := DefaultKeyMap()
	m := press(newTest(t, labRes, 160, 48), km.Anomalies)
	for i := 0; i < len(m.anom.idx); i++ {
		a := labRes.Anomalies[m.anom.idx[m.anom.cursor]]
		if a.Kind == "loss" && len(a.Flows) > 0 && len(a.Evidence) > 0 {
			m = press(m, km.Enter)
			if m.Screen() != screenTimeline || m.tl.flowID != a.Flows[0] {
				t.Fatalf("enter: screen %v flow %s, want timeline of %s", m.Screen(), m.tl.flowID, a.Flows[0])
			}
			j, ok := m.tl.selectedJourney()
			if !ok {
				t.Fatal("no journey selected")
			}
			found := false
			for _, h := range j.Hops {
				for _, e := range a.Evidence {
					if h.File == e.File && h.Frame == e.Frame {
						found = true
					}
				}
			}
			if !found {
				t.Fatalf("selected journey %d holds none of the evidence %v", j.ID, a.Evidence)
			}
			return
		}
		m = press(m, km.Down)
	}
	t.Fatal("the lab scenario has no loss anomaly with a flow and evidence: nothing to jump to")
}

func TestMouseWheelAndResize(t *testing.T) {
	km := DefaultKeyMap()
	m := press(newTest(t, labRes, 80, 24), km.Flows)
	m = send(m, tea.MouseMsg{Action: tea.MouseActionPress, Button: tea.MouseButtonWheelDown})
	if m.fl.cursor != min(3, len(m.fl.idx)-1) {
		t.Fatalf("wheel down: cursor %d", m.fl.cursor)
	}
	m = send(m, tea.MouseMsg{Action: tea.MouseActionPress, Button: tea.MouseButtonWheelUp})
	if m.fl.cursor != 0 {
		t.Fatalf("wheel up: cursor %d", m.fl.cursor)
	}
	for _, sz := range [][2]int{{40, 10}, {200, 60}, {80, 24}, {10, 3}} {
		m = send(m, tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		for s := screenOverview; s <= screenAnomalies; s++ {
			m.screen = s
			checkSize(t, m.View(), sz[0], sz[1])
		}
	}
}

// checkSize fails when the view does not fit the terminal.
func checkSize(t *testing.T, v string, w, h int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if len(lines) > h {
		t.Fatalf("%dx%d: %d lines", w, h, len(lines))
	}
	for _, l := range lines {
		if lipgloss.Width(l) > w {
			t.Fatalf("%dx%d: line wider than the terminal: %q", w, h, l)
		}
	}
}

func TestLoadingAndCancel(t *testing.T) {
	dir := t.TempDir()
	if _, err := gen.Generate(func() gen.Config {
		c := gen.DefaultConfig()
		c.Dir, c.Packets, c.KeepTruth = dir, 200, false
		return c
	}()); err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	m := New(paths, testOptions())
	m = send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	if m.Screen() != screenLoading || !strings.Contains(m.View(), "Loading captures") {
		t.Fatalf("not loading:\n%s", m.View())
	}
	// Run the load Cmd as bubbletea would, then deliver its result.
	msg := loadCmd(m.paths, m.opts, m.load)()
	m = send(m, tickMsg{}, msg)
	if m.Screen() != screenOverview || m.c.res == nil || m.c.res.Summary.Frames == 0 {
		t.Fatalf("after loading: screen %v", m.Screen())
	}
	fp, _ := m.load.snapshot()
	for i, p := range fp {
		if !p.done || p.frames == 0 || p.bytes == 0 {
			t.Errorf("file %d progress %+v", i, p)
		}
	}
	// q cancels while loading.
	m2 := New(paths, testOptions())
	if _, cmd := m2.Update(tea.KeyMsg{Type: tea.KeyCtrlC}); !isQuit(cmd) {
		t.Fatal("ctrl+c does not quit while loading")
	}
}

// The loading screen is redrawn every tick while the files are read, and not after: while correlating
// nothing on it changes until the overview shows, and each redraw would take the one core that
// correlation has (GOMAXPROCS=1).
func TestLoadingTicksWhileReading(t *testing.T) {
	m := New([]string{"node-1-eth0.pcap", "node-2-eth0.pcap"}, testOptions())
	m = send(m, tea.WindowSizeMsg{Width: 160, Height: 24})
	m.load.files[0] = fileProgress{bytes: 100, size: 200, frames: 3}
	nm, cmd := m.Update(tickMsg{})
	m = nm.(Model)
	if cmd == nil || m.progress[0].frames != 3 {
		t.Fatalf("a tick while reading: next tick %v, progress %+v", cmd != nil, m.progress)
	}
	m.load.mu.Lock()
	m.load.files[0], m.load.files[1] = fileProgress{bytes: 200, size: 200, frames: 5, done: true}, fileProgress{done: true}
	m.load.correlating = true
	m.load.mu.Unlock()
	nm, cmd = m.Update(tickMsg{})
	m = nm.(Model)
	if cmd != nil {
		t.Error("a tick while correlating asks for another")
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "correlating…") || !strings.Contains(v, "done") {
		t.Errorf("the loading screen once the files are read:\n%s", v)
	}
}

// The loading screen formats again only the lines of files whose progress changed, and shows what a
// Model drawing it for the first time shows, at each width.
func TestLoadingLinesFollowProgress(t *testing.T) {
	paths := []string{"node-1-eth0.pcap", "node-1-tunl0.pcap", "node-2-eth0.pcap"}
	steps := [][]fileProgress{
		{{}, {}, {}},
		{{bytes: 1 << 20, size: 4 << 20, frames: 12345}, {}, {}},
		{{bytes: 4 << 20, size: 4 << 20, frames: 50000, done: true}, {bytes: 10, size: 100, frames: 1, skipped: 2}, {}},
		{{bytes: 4 << 20, size: 4 << 20, frames: 50000, done: true}, {bytes: 100, size: 100, frames: 9, skipped: 2, done: true}, {done: true}},
	}
	m := New(paths, testOptions())
	for _, w := range []int{160, 80, 160} {
		m = send(m, tea.WindowSizeMsg{Width: w, Height: 24})
		for i, fp := range steps {
			m.progress = fp
			fresh := send(New(paths, testOptions()), tea.WindowSizeMsg{Width: w, Height: 24})
			fresh.progress = fp
			if got, want := m.View(), fresh.View(); got != want {
				t.Errorf("width %d, step %d: the loading screen\n%s\nwant\n%s", w, i, got, want)
			}
		}
	}
}

// goldenScreens drives the model to each screen.
func goldenScreens(t *testing.T, w, h int) map[string]string {
	km := DefaultKeyMap()
	out := map[string]string{}
	m := newTest(t, labRes, w, h)
	out["overview"] = m.View()
	m = press(m, km.Flows)
	out["flows"] = m.View()
	fi := lossyFlow(t, labRes)
	for m.fl.idx[m.fl.cursor] != fi {
		m = press(m, km.Down)
	}
	m = press(m, km.Enter, km.NextLoss)
	out["timeline"] = m.View()
	m = press(m, km.Up, km.Enter)
	out["packet"] = m.View()
	m = press(m, km.ARP)
	out["arp"] = m.View()
	m = press(m, km.Anomalies)
	out["anomalies"] = m.View()
	m = press(m, km.Help)
	out["help"] = m.View()
	m = press(m, km.Down, km.Flows, km.Filter)
	m = typeText(m, "proto tcp and not status delivered")
	out["filter"] = m.View()
	lm := New([]string{"node-1-eth0.pcap", "node-2-eth0.pcap.gz"}, testOptions())
	lm = send(lm, tea.WindowSizeMsg{Width: w, Height: h})
	lm.progress = []fileProgress{{bytes: 1 << 20, size: 4 << 20, frames: 12345, skipped: 2}, {}}
	out["loading"] = lm.View()
	pendingScreens(t, w, h, km, out)
	return out
}

func TestGolden(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		for name, v := range goldenScreens(t, sz[0], sz[1]) {
			checkSize(t, v, sz[0], sz[1])
			got := ansi.Strip(v)
			path := filepath.Join("testdata", "TestGolden", fmt.Sprintf("%s-%dx%d.golden", name, sz[0], sz[1]))
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./tui -run TestGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the golden file (-update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		}
	}
}

// Opening a flow renders its journeys off the UI loop: Update returns at once with a loading
// timeline and a Cmd; the rows appear when its message comes back, and a late message for another
// flow changes nothing.
func TestTimelineOpensOffTheLoop(t *testing.T) {
	km := DefaultKeyMap()
	m := newTest(t, labRes, 80, 24)
	m = press(m, km.Flows)
	nm, cmd := m.Update(keyMsgOf(km.Enter))
	m = nm.(Model)
	if m.Screen() != screenTimeline || !m.tl.loading || cmd == nil || m.tl.len() != 0 {
		t.Fatalf("after enter: screen %v loading %v cmd %v rows %d", m.Screen(), m.tl.loading, cmd != nil, m.tl.len())
	}
	if v := m.View(); !strings.Contains(v, "rendering the") {
		t.Errorf("loading timeline view:\n%s", v)
	}
	msg, ok := runQuick(cmd).(journeysMsg)
	if !ok {
		t.Fatal("the Cmd did not return the journeys")
	}
	stale := msg
	stale.flowID = "f-other"
	nm, _ = m.Update(stale)
	m = nm.(Model)
	if !m.tl.loading {
		t.Fatal("a message for another flow finished the timeline")
	}
	nm, _ = m.Update(msg)
	m = nm.(Model)
	if m.tl.loading || m.tl.len() == 0 || len(m.tl.all) != len(msg.all) {
		t.Fatalf("after the journeys: loading %v rows %d journeys %d", m.tl.loading, m.tl.len(), len(m.tl.all))
	}
}

// The hex dump scrolls to its last line at every width (8 or 16 bytes a line), and a key past the end
// does not have to be undone before Up moves the dump again.
func TestHexScrollReachesEnd(t *testing.T) {
	km := DefaultKeyMap()
	for _, size := range [][2]int{{70, 24}, {160, 48}} {
		m := press(newTest(t, labRes, size[0], size[1]), km.Flows, km.Enter, km.NextLoss, km.Enter)
		if m.Screen() != screenPacket || len(m.pk.frames) == 0 {
			t.Fatalf("%v: no packet screen (screen %v, %d frames)", size, m.Screen(), len(m.pk.frames))
		}
		data := m.pk.frames[m.pk.sel].rec.Data
		per := 16
		if size[0] < 76 {
			per = 8
		}
		last := fmt.Sprintf("%04x  ", (len(data)-1)/per*per)
		m = press(m, km.End)
		end := ansi.Strip(m.View())
		if !strings.Contains(end, last) {
			t.Fatalf("%v: End does not show the last hex line %q (%d bytes):\n%s", size, last, len(data), end)
		}
		for i := 0; i < 5; i++ {
			m = press(m, km.Down)
		}
		if ansi.Strip(m.View()) != end {
			t.Errorf("%v: Down past the end changed the view", size)
		}
		if lines := (len(data) + per - 1) / per; lines > m.pk.layout(m.pk.fieldValues(m.c), size[0], m.bodyHeight()).hexRows {
			if ansi.Strip(press(m, km.Up).View()) == end {
				t.Errorf("%v: Up after pressing past the end did not scroll", size)
			}
		}
	}
}

// The packet screen follows the timeline: another journey selected there is the one it opens.
func TestPacketFollowsTimeline(t *testing.T) {
	km := DefaultKeyMap()
	m := press(newTest(t, labRes, 160, 48), km.Flows, km.Enter)
	// toJourney moves the timeline's cursor down to the next journey row that is not skip.
	toJourney := func(skip int) *correlate.Journey {
		for i := 0; i < 50; i++ {
			m = press(m, km.Down)
			if j, ok := m.tl.selectedJourney(); ok && j.ID != skip {
				return j
			}
		}
		t.Fatalf("no journey row on the timeline below the cursor (skip %d)", skip)
		return nil
	}
	first := toJourney(-1)
	m = press(m, km.Packet)
	if m.Screen() != screenPacket || m.pk.j.ID != first.ID {
		t.Fatalf("packet screen shows journey %d, timeline selects %d", m.pk.j.ID, first.ID)
	}
	m = press(m, km.Timeline)
	next := toJourney(first.ID)
	m = press(m, km.Packet)
	if m.pk.j.ID != next.ID || len(m.pk.frames) != len(next.Hops) {
		t.Fatalf("packet screen shows journey %d (%d frames), timeline selects %d", m.pk.j.ID, len(m.pk.frames), next.ID)
	}
}

// isQuit says whether cmd quits the program (tea.Quit's message; other empty messages print alike).
func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

// An anomaly that names no flow gives a notice, not a filter error, and the next key clears it.
func TestAnomalyWithoutFlowNotice(t *testing.T) {
	km := DefaultKeyMap()
	res := *labRes
	res.Anomalies = []correlate.Anomaly{{Kind: "clock-skew", Severity: "info", Where: correlate.Where{Node: "node-2"},
		Flows: []string{}, Message: "node-2's clock differs."}}
	m := press(newTest(t, &res, 100, 30), km.Anomalies, km.Enter)
	if m.Screen() != screenAnomalies || m.filterErr != "" || !strings.Contains(ansi.Strip(m.View()), "names no flow") {
		t.Fatalf("screen %v, filter error %q, view:\n%s", m.Screen(), m.filterErr, ansi.Strip(m.View()))
	}
	m = press(m, km.Down)
	if strings.Contains(ansi.Strip(m.View()), "names no flow") {
		t.Fatal("the notice outlived the next key")
	}
}

// An inferred point (no frame; a -i any capture of its node covered it) says so in the overview's node
// box instead of a frame count.
func TestOverviewInferredPoint(t *testing.T) {
	res := *labRes
	res.Points = append(append([]correlate.Point(nil), res.Points...), correlate.Point{ID: "node-2/any:tunnel",
		Node: "node-2", Iface: "any:tunnel", Role: "tunnel", Reason: "inferred", Inferred: true})
	view := ansi.Strip(newTest(t, &res, 160, 48).View())
	if !strings.Contains(view, "any:tunnel inferred") {
		t.Fatalf("the overview does not mark the inferred point:\n%s", view)
	}
}

// Keys typed together arrive as one message of several runes: each counts. "jj" moves two rows, "jjk"
// one; a batch that opens the filter bar types the rest into it; a paste is not split.
func TestBatchedKeys(t *testing.T) {
	km := DefaultKeyMap()
	m := press(newTest(t, labRes, 80, 24), km.Flows)
	m = send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jj")})
	if m.fl.cursor != 2 {
		t.Fatalf("jj at once: cursor %d, want 2", m.fl.cursor)
	}
	m = send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jjk")})
	if m.fl.cursor != 3 {
		t.Fatalf("jjk at once: cursor %d, want 3", m.fl.cursor)
	}
	m = send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("k/proto udp")})
	if m.fl.cursor != 2 || !m.filtering || m.filterInput.Value() != "proto udp" {
		t.Fatalf("k/proto udp at once: cursor %d filtering %v text %q", m.fl.cursor, m.filtering, m.filterInput.Value())
	}
	m = send(m, tea.KeyMsg{Type: tea.KeyEsc})
	m = send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jj"), Paste: true})
	if m.fl.cursor != 2 {
		t.Fatalf("a pasted jj moved the cursor to %d", m.fl.cursor)
	}
}

// The anomaly detail carries the next step the report prints.
func TestAnomalyDetailNext(t *testing.T) {
	km := DefaultKeyMap()
	res := *labRes
	res.Anomalies = []correlate.Anomaly{{Kind: "loss", Severity: "warning", Where: correlate.Where{Point: "node-1/eth0"},
		Message: "Some packets were lost.", Next: "Check the link's error counters."}}
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		v := ansi.Strip(press(newTest(t, &res, sz[0], sz[1]), km.Anomalies).View())
		if !strings.Contains(v, "next: Check the link's error counters.") {
			t.Fatalf("%v: no next step in the anomaly detail:\n%s", sz, v)
		}
	}
}

// The flow list opens worst first, in the text report's order; the header names the sort column with
// its arrow whole; after a re-sort the cursor stays on its flow, which is drawn; a key per order in the
// sort menu picks it.
func TestFlowsWorstFirstAndSortMenu(t *testing.T) {
	km := DefaultKeyMap()
	var rep strings.Builder
	if err := report.New(&rep, report.WithWidth(200)).Print(labRes); err != nil {
		t.Fatal(err)
	}
	var want []string
	_, flows, ok := strings.Cut(rep.String(), "Flows (worst first")
	if !ok {
		t.Fatalf("no flow table in the report:\n%s", rep.String())
	}
	for _, line := range strings.Split(flows, "\n")[2:] {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], "f") || len(want) == len(labRes.Flows) {
			break
		}
		want = append(want, f[0])
	}
	m := press(newTest(t, labRes, 80, 24), km.Flows)
	var got []string
	for _, i := range m.fl.idx {
		got = append(got, labRes.Flows[i].ID)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") || len(want) != len(labRes.Flows) {
		t.Fatalf("the flow list opens in the order %v, the report's is %v", got, want)
	}
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		m = send(m, tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		lines := strings.Split(ansi.Strip(m.View()), "\n")
		if !strings.Contains(lines[1], "lost▼") || !strings.Contains(ansi.Strip(m.View()), "sorted worst first") {
			t.Fatalf("%v: the header does not show the sort:\n%s", sz, strings.Join(lines, "\n"))
		}
	}
	m = send(m, tea.WindowSizeMsg{Width: 80, Height: 8})
	m = press(m, km.End, km.Up)
	id, _ := m.fl.selectedID(m.c)
	m = press(m, km.SortMenu)
	if v := ansi.Strip(m.View()); !strings.Contains(v, "sort by: w worst") || !strings.Contains(v, "5 p50") {
		t.Fatalf("the sort menu is not shown:\n%s", v)
	}
	m = typeText(m, "f")
	if m.Screen() != screenFlows || flowColumns[m.fl.sortCol].name != "flow" || m.fl.desc {
		t.Fatalf("menu f: screen %v sorted %s", m.Screen(), m.fl.sortName())
	}
	if got, _ := m.fl.selectedID(m.c); got != id {
		t.Fatalf("after the re-sort the cursor is on %s, was on %s", got, id)
	}
	cur := ""
	for _, l := range strings.Split(ansi.Strip(m.View()), "\n") {
		if strings.HasPrefix(l, "›") {
			cur = l
		}
	}
	if f := strings.Fields(strings.TrimPrefix(cur, "›")); len(f) == 0 || f[0] != id {
		t.Fatalf("the row drawn under the cursor is %q, want flow %s", cur, id)
	}
	if !strings.Contains(ansi.Strip(m.View()), "flow▲") {
		t.Fatalf("the header does not mark flow ascending:\n%s", ansi.Strip(m.View()))
	}
}
