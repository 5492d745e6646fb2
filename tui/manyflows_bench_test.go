package tui

import (
	"os"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	tea "github.com/charmbracelet/bubbletea"
)

var (
	manyOnce   sync.Once
	manyRes    *correlate.Result
	manyFrames int
	manyErr    error
	manyCap    *decode.Capture // what manyRes was correlated from, for manyFlowsStreamed

	streamedOnce sync.Once
	manyStreamed *correlate.Result
)

// manyFlowsResult generates and correlates, once per run, a capture of the many-flow mix (as
// scripts/bench.sh's many-flows set: DNS-like UDP pairs and short TCP connections from 30 client pods
// to 2 servers, 0.1% loss, 1% duplicates, node-2's clock 3 s off) with CALIPATH_BENCH_FLOWS flows
// (default 200,000) over three packets a flow, and reports the frames it holds.
func manyFlowsResult(b *testing.B) (*correlate.Result, int) {
	manyOnce.Do(func() {
		flows := 200000
		if v, err := strconv.Atoi(os.Getenv("CALIPATH_BENCH_FLOWS")); err == nil && v > 0 {
			flows = v
		}
		dir, err := os.MkdirTemp("", "calipath-tui-many-")
		if err != nil {
			manyErr = err
			return
		}
		defer os.RemoveAll(dir)
		cfg := gen.DefaultConfig()
		cfg.Mix = gen.MixManyFlows
		cfg.Nodes, cfg.PodsPerNode = 2, 16
		cfg.Flows, cfg.Packets = flows, 3*flows
		cfg.Rate, cfg.LossPerHop, cfg.DupRate = 200000, 0.001, 0.01
		cfg.ClockOffset = map[string]time.Duration{"node-2": 3 * time.Second}
		cfg.Dir, cfg.KeepTruth = dir, false
		g, err := gen.Generate(cfg)
		if err != nil {
			manyErr = err
			return
		}
		c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
		for _, obs := range c.Obs {
			manyFrames += len(obs)
		}
		manyRes, manyCap = correlate.Correlate(c, correlate.Options{}), c
	})
	if manyErr != nil {
		b.Fatal(manyErr)
	}
	return manyRes, manyFrames
}

// manyFlowsStreamed is manyFlowsResult's capture correlated, once per run, as loadCmd correlates
// many flows: the flows left to be listed after the overview shows (StreamFlows).
func manyFlowsStreamed(b *testing.B) *correlate.Result {
	listed, _ := manyFlowsResult(b)
	streamedOnce.Do(func() { manyStreamed = correlate.Correlate(manyCap, correlate.Options{StreamFlows: true}) })
	if !manyStreamed.FlowsStreamed() || !reflect.DeepEqual(manyStreamed.Summary, listed.Summary) {
		b.Fatal("the capture correlated again with its flows streamed is not the listed Result")
	}
	return manyStreamed
}

// BenchmarkManyFlows measures the TUI's own work on a Result of 200,000 flows (correlation is done
// once, before the timer): the overview as it first opens (the Model built from the Result and the
// first View, first flow's timeline laid out; the flow list is ordered off the UI loop), the flows
// key before any order is sorted, every sort key (each order, both directions: the first press of a
// column, from a Model with no order sorted, as when a key comes before the sorting off the UI loop;
// that order's sort off the UI loop and its landing on it; and the presses after), measuring the
// columns' widths, scrolling, a key typed into the filter bar, applying and clearing a filter, and
// opening a flow's timeline. Each key is timed with the redraw that follows it.
func BenchmarkManyFlows(b *testing.B) {
	res, frames := manyFlowsResult(b)
	b.Logf("%d flows, %d frames", len(res.Flows), frames)
	km := DefaultKeyMap()
	b.Run("overview", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m := newTest(b, res, 160, 48)
			_ = m.View()
		}
	})
	b.Run("flows-first", func(b *testing.B) { // the flows key before any order is sorted
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			m := newTest(b, res, 160, 48)
			b.StartTimer()
			m = sendKeys(m, "2")
			_ = m.View()
		}
	})
	base := runAll(keyCmd(newTest(b, res, 160, 48), "2")) // the first order and the widths landed
	orders := append([]string{"w"}, columnKeys()...)
	for _, k := range orders {
		col := sortWorst
		for i, fc := range flowColumns {
			if fc.key == k {
				col = i
			}
		}
		// The first press of an order: the key, which answers with the order shown kept; its order
		// sorted off the UI loop (sortFlows); the order landing on the UI loop, shown.
		b.Run("sort-first/"+k, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m := base
				m.fl = m.fl.fresh(m.c)
				m = sendKeys(m, "s", k)
				_ = m.View()
			}
		})
		b.Run("sortFlows/"+k, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = sortFlows(base.c, col)
			}
		})
		b.Run("sort-land/"+k, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				m := base
				m.fl = m.fl.fresh(m.c)
				m, cmd := keyCmd(m, "s", k)
				msgs := msgsOf(cmd)
				b.StartTimer()
				for _, msg := range msgs {
					m = send(m, msg)
				}
				_ = m.View()
			}
		})
		for _, dir := range []string{"default", "reversed"} {
			// The column's first direction (largest first for a number) and the other; each press
			// of the key times one of them, the press that flips back is not timed.
			b.Run("sort/"+k+"/"+dir, func(b *testing.B) {
				b.ReportAllocs()
				m := runAll(keyCmd(base, "s", k)) // the order sorted
				for b.Loop() {
					b.StopTimer()
					if first := m.fl.desc == defaultDesc(k); first == (dir == "default") {
						m = sendKeys(m, "s", k)
					}
					b.StartTimer()
					m = sendKeys(m, "s", k)
					_ = m.View()
				}
			})
		}
	}
	b.Run("widths", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = measureFlows(base.c)
		}
	})
	b.Run("scroll", func(b *testing.B) {
		b.ReportAllocs()
		m := base
		for i := 0; b.Loop(); i++ {
			k := []string{"down", "pgdown", "up", "pgup"}[i%4]
			m = sendKeys(m, k)
			_ = m.View()
		}
	})
	b.Run("filter-type", func(b *testing.B) {
		b.ReportAllocs()
		m := sendKeys(base, "/")
		for i := 0; b.Loop(); i++ {
			if i%20 == 19 {
				m = send(m, tea.KeyMsg{Type: tea.KeyCtrlU}) // textinput: delete to the start
			} else {
				m = sendKeys(m, string("port 53 and host 10."[i%20]))
			}
			_ = m.View()
		}
	})
	// Applying a filter (and clearing it, every other time): the key, and the matching that follows
	// off the UI loop with the lists rebuilt when its verdicts arrive.
	for _, part := range []string{"key", "matched"} {
		b.Run("filter-apply/"+part, func(b *testing.B) {
			b.ReportAllocs()
			m := base
			for i := 0; b.Loop(); i++ {
				if part == "matched" {
					b.StopTimer()
				}
				m = send(sendKeys(m, "/", "end"), tea.KeyMsg{Type: tea.KeyCtrlU})
				if i%2 == 0 {
					m = send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("udp and port 53")})
				}
				nm, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
				m = nm.(Model)
				_ = m.View()
				if part == "key" {
					b.StopTimer()
				} else {
					b.StartTimer()
				}
				if cmd != nil {
					m = send(m, cmd())
					_ = m.View()
				}
				if part == "key" {
					b.StartTimer()
				}
			}
		})
	}
	b.Run("filter-land", func(b *testing.B) { // the filter's verdicts arriving: every list rebuilt
		b.ReportAllocs()
		m := base
		for b.Loop() {
			b.StopTimer()
			m = send(sendKeys(m, "/", "end"), tea.KeyMsg{Type: tea.KeyCtrlU}, tea.KeyMsg{Type: tea.KeyEnter})
			m = send(sendKeys(m, "/", "end"), tea.KeyMsg{Type: tea.KeyCtrlU},
				tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("udp and port 53")})
			nm, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
			msg := cmd()
			b.StartTimer()
			m = send(nm.(Model), msg)
			_ = m.View()
		}
	})
	b.Run("names", func(b *testing.B) { // the names key, the list sorted by client
		b.ReportAllocs()
		m := runAll(keyCmd(newTest(b, namedRes(res), 160, 48), "2"))
		m = runAll(keyCmd(m, "s", "c"))
		for b.Loop() {
			m = sendKeys(m, "i")
			_ = m.View()
		}
	})
	b.Run("open-flow", func(b *testing.B) {
		b.ReportAllocs()
		m := base
		for b.Loop() {
			m = press(m, km.Enter)
			_ = m.View()
			m = press(m, km.Back)
		}
	})
	// Switching screens: each screen's key (and tab, shift+tab) from the flow list, with the redraw
	// that follows; the key back to the flow list is not timed. The packet screen's frames are read
	// off the UI loop (the key's Cmd, not run here).
	for _, k := range []string{"1", "2", "3", "4", "5", "6", "tab", "shift+tab"} {
		b.Run("screen/"+k, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				m := base
				b.StartTimer()
				m = sendKeys(m, k)
				_ = m.View()
			}
		})
	}
	// Moving on each screen with a list: down, page down, up, page up in turn, each with its redraw.
	for _, k := range []string{"3", "5", "6"} {
		b.Run("move/"+screen(k[0]-'0').String(), func(b *testing.B) {
			b.ReportAllocs()
			m := sendKeys(base, k)
			for i := 0; b.Loop(); i++ {
				m = sendKeys(m, []string{"down", "pgdown", "up", "pgup"}[i%4])
				_ = m.View()
			}
		})
	}
}

// defaultDesc is the direction the sort key k picks first: largest first for a number column.
func defaultDesc(k string) bool {
	for _, col := range flowColumns {
		if col.key == k {
			return col.right
		}
	}
	return false
}

// columnKeys lists the sort menu's key of every column.
func columnKeys() []string {
	var ks []string
	for _, col := range flowColumns {
		ks = append(ks, col.key)
	}
	return ks
}

// sendKeys sends keys by name ("down", "s", "/").
func sendKeys(m Model, keys ...string) Model {
	for _, k := range keys {
		msg := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
		if t, ok := specialKeys[k]; ok {
			msg = tea.KeyMsg{Type: t}
		}
		m = send(m, msg)
	}
	return m
}

// fresh returns the list with no order sorted yet (its widths kept: they are measured once, off the
// UI loop) and a list of its own.
func (l flowList) fresh(c *common) flowList {
	need := l.ord.widths(c)
	l.ord = &flowOrders{}
	l.ord.sync(c)
	l.ord.need = need
	l.idx = slices.Clone(l.idx)
	return l
}

// BenchmarkLoadToOverview measures the TUI from its start to the overview on the many-flow mix (as
// manyFlowsResult generates it, CALIPATH_BENCH_FLOWS flows, default 20,000 here): the captures read
// and correlated as the loading Cmd does (Lean), the Model taking the Result, and the overview drawn.
// It reports frames a second and the bytes allocated a frame (what the TUI adds to the report's
// load shows in the difference between the two, which a load without the Model measures beside it).
func BenchmarkLoadToOverview(b *testing.B) {
	flows := 20000
	if v, err := strconv.Atoi(os.Getenv("CALIPATH_BENCH_FLOWS")); err == nil && v > 0 {
		flows = v
	}
	cfg := gen.DefaultConfig()
	cfg.Mix = gen.MixManyFlows
	cfg.Nodes, cfg.PodsPerNode = 2, 16
	cfg.Flows, cfg.Packets = flows, 3*flows
	cfg.Rate, cfg.LossPerHop, cfg.DupRate = 200000, 0.001, 0.01
	cfg.ClockOffset = map[string]time.Duration{"node-2": 3 * time.Second}
	cfg.Dir, cfg.KeepTruth = b.TempDir(), false
	g, err := gen.Generate(cfg)
	if err != nil {
		b.Fatal(err)
	}
	frames := 0
	for _, obs := range decode.Load(g.Files, decode.Options{}, decode.PointConfig{}).Obs {
		frames += len(obs)
	}
	opts := testOptions()
	opts.Correlate = correlate.Options{Window: time.Second, Lean: true}
	for _, withModel := range []bool{false, true} {
		name := "load"
		if withModel {
			name = "load+overview"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ls := &loadState{files: make([]fileProgress, len(g.Files))}
				msg, ok := loadCmd(g.Files, opts, ls)().(loadedMsg)
				if !ok {
					b.Fatal("the captures did not load")
				}
				if withModel {
					m := New(g.Files, opts)
					m = send(m, tea.WindowSizeMsg{Width: 160, Height: 48}, msg)
					if m.screen != screenOverview || m.View() == "" {
						b.Fatal("no overview")
					}
				}
			}
			b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
