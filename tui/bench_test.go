package tui

import (
	"os"

	"github.com/calipath/calipath/correlate"
	"strconv"
	"sync"
	"testing"
)

var (
	benchOnce sync.Once
	benchRes  *correlate.Result
	benchErr  error
)

// benchResult generates and correlates CALIPATH_BENCH_PACKETS packets (default 100000; the issue's
// figure is for 1000000) across 100 flows, once per run.
func benchResult(b *testing.B) *correlate.Result {
	benchOnce.Do(func() {
		n := 100000
		if s := os.Getenv("CALIPATH_BENCH_PACKETS"); s != "" {
			if v, err := strconv.Atoi(s); err == nil && v > 0 {
				n = v
			}
		}
		dir, err := os.MkdirTemp("", "calipath-bench-")
		if err != nil {
			benchErr = err
			return
		}
		defer os.RemoveAll(dir)
		benchRes, benchErr = generate(dir, n, 100)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchRes
}

// BenchmarkView measures one key press (Update) and the redraw (View) on each screen.
func BenchmarkView(b *testing.B) {
	res := benchResult(b)
	km := DefaultKeyMap()
	base := newTest(b, res, 160, 48)
	for _, sc := range []struct {
		name  string
		setup func(Model) Model
	}{
		{"overview", func(m Model) Model { return m }},
		{"flows", func(m Model) Model { return press(m, km.Flows) }},
		{"timeline", func(m Model) Model { return press(m, km.Flows, km.End, km.Enter) }},
		{"packet", func(m Model) Model { return press(m, km.Flows, km.Enter, km.NextLoss, km.Enter) }},
		{"arp", func(m Model) Model { return press(m, km.ARP) }},
		{"anomalies", func(m Model) Model { return press(m, km.Anomalies) }},
	} {
		m := sc.setup(base)
		b.Run(sc.name, func(b *testing.B) {
			down, up := keyMsgOf(km.Down), keyMsgOf(km.Up)
			for i := 0; b.Loop(); i++ {
				k := down
				if i%2 == 1 {
					k = up
				}
				nm, _ := m.Update(k)
				m = nm.(Model)
				_ = m.View()
			}
		})
	}
	b.Run("flows-sort", func(b *testing.B) {
		m := press(base, km.Flows)
		for b.Loop() {
			m = press(m, km.SortNext)
			_ = m.View()
		}
	})
	b.Run("open-timeline", func(b *testing.B) {
		m := press(base, km.Flows)
		for b.Loop() {
			m = press(m, km.Enter)
			_ = m.View()
			m = press(m, km.Back)
		}
	})
}
