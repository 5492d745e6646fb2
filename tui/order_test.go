package tui

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// manyFlowsTestResult is a small capture of the many-flow mix with loss, retransmissions and DNAT:
// 2,000 flows, many of them tying on every column.
func manyFlowsTestResult(t *testing.T) *correlate.Result {
	t.Helper()
	cfg := gen.DefaultConfig()
	cfg.Mix = gen.MixManyFlows
	cfg.Nodes, cfg.PodsPerNode = 2, 4
	cfg.Flows, cfg.Packets = 2000, 7000
	cfg.LossPerHop, cfg.RetransRate, cfg.DNAT = 0.02, 0.02, 0.3
	cfg.ClockOffset = map[string]time.Duration{"node-2": 3 * time.Millisecond}
	cfg.Dir, cfg.KeepTruth = t.TempDir(), false
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return correlate.Correlate(decode.Load(g.Files, decode.Options{}, decode.PointConfig{}), correlate.Options{})
}

// refLess is each column's order as the flow list defined it by comparing two flows' texts and
// numbers (before the orders were computed once): the reference the computed orders must equal.
var refLess = map[string]func(c *common, a, b *correlate.Flow) int{
	"flow":     func(c *common, a, b *correlate.Flow) int { return cmp.Compare(flowNum(a.ID), flowNum(b.ID)) },
	"proto":    func(c *common, a, b *correlate.Flow) int { return cmp.Compare(a.Proto, b.Proto) },
	"client":   func(c *common, a, b *correlate.Flow) int { return cmp.Compare(endpoint(c, a.Src), endpoint(c, b.Src)) },
	"server":   func(c *common, a, b *correlate.Flow) int { return cmp.Compare(endpoint(c, a.Dst), endpoint(c, b.Dst)) },
	"post-NAT": func(c *common, a, b *correlate.Flow) int { return cmp.Compare(natTarget(c, a), natTarget(c, b)) },
	"pkts":     func(c *common, a, b *correlate.Flow) int { return cmp.Compare(a.Packets, b.Packets) },
	"deliv":    func(c *common, a, b *correlate.Flow) int { return cmp.Compare(a.Delivered, b.Delivered) },
	"lost":     func(c *common, a, b *correlate.Flow) int { return cmp.Compare(a.Lost, b.Lost) },
	"lost at":  func(c *common, a, b *correlate.Flow) int { return cmp.Compare(lostWhere(a), lostWhere(b)) },
	"p50":      func(c *common, a, b *correlate.Flow) int { return cmp.Compare(a.LatencyNs.P50, b.LatencyNs.P50) },
	"retx":     func(c *common, a, b *correlate.Flow) int { return cmp.Compare(a.Retransmissions, b.Retransmissions) },
	"worst": func(c *common, a, b *correlate.Flow) int {
		return cmp.Or(-cmp.Compare(a.Lost, b.Lost), -cmp.Compare(a.Resets, b.Resets),
			-cmp.Compare(a.Retransmissions, b.Retransmissions), -cmp.Compare(a.NotCaptured, b.NotCaptured),
			-cmp.Compare(a.Packets, b.Packets), cmp.Compare(flowNum(a.ID), flowNum(b.ID)))
	},
}

// Every order of the flow list, both directions, with and without a filter, lists the flows as
// sorting them by the column's comparison does (ties in flow order, reversed orders keeping ties in
// flow order); each order is sorted once however often its key is pressed, and a filter is applied
// to the flows once.
func TestFlowOrdersAsComparisons(t *testing.T) {
	res := manyFlowsTestResult(t)
	m := newTest(t, res, 160, 48)
	m = press(m, m.c.km.Flows)
	filter, err := correlate.ParseFilter("udp and not status lost or host 10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []*correlate.Filter{nil, filter} {
		m.c.filter = f
		for col := sortWorst; col < len(flowColumns); col++ {
			name := "worst"
			if col != sortWorst {
				name = flowColumns[col].name
			}
			for _, desc := range []bool{false, true} {
				m.fl.sortCol, m.fl.desc = col, desc
				m.fl.reset(m.c)
				var ref list
				ref.desc = desc
				var keep func(int) bool
				if f != nil {
					keep = func(i int) bool { return f.MatchFlow(res, &res.Flows[i]) }
				}
				less := refLess[name]
				ref.rebuild(len(res.Flows), keep, func(a, b int) int { return less(m.c, &res.Flows[a], &res.Flows[b]) })
				if !equalInts(m.fl.idx, ref.idx) {
					t.Fatalf("filter %v, %s desc=%v: %d flows listed, first %v; sorting by comparison gives %d, first %v",
						f, name, desc, len(m.fl.idx), m.fl.idx[:min(8, len(m.fl.idx))], len(ref.idx), ref.idx[:min(8, len(ref.idx))])
				}
			}
		}
	}
	if n := len(flowColumns) + 1; m.fl.ord.sorts != n || m.fl.ord.matches != 1 {
		t.Errorf("%d orders sorted and the filter applied %d times, want %d and 1", m.fl.ord.sorts, m.fl.ord.matches, n)
	}
	m.c.filter = nil
	m = press(m, m.c.km.SortMenu)
	m = typeText(m, "c")
	m = press(m, m.c.km.Reverse, m.c.km.SortNext, m.c.km.SortPrev)
	if n := len(flowColumns) + 1; m.fl.ord.sorts != n {
		t.Errorf("pressing the sort keys again sorted %d orders, want still %d", m.fl.ord.sorts, n)
	}
}

// refWidths measures each column's width as the flow list did, by the text of every flow.
func refWidths(c *common) []int {
	need := make([]int, len(flowColumns))
	for i, col := range flowColumns {
		w := max(col.width, ansi.StringWidth(col.name)+1)
		for fi := range c.res.Flows {
			w = max(w, ansi.StringWidth(col.text(c, &c.res.Flows[fi])))
		}
		if !col.right {
			w = min(w, max(40, col.width))
		}
		need[i] = w
	}
	return need
}

// The columns' widths, numbers measured by their widest values, are those of the widest text of
// every flow: on a generated capture and on flows whose numbers reach every unit and sign of the
// latency and the ends of the counts.
func TestFlowWidthsAsTexts(t *testing.T) {
	res := manyFlowsTestResult(t)
	c := &common{res: res}
	if got, want := measureFlows(c), refWidths(c); !equalInts(got, want) {
		t.Errorf("generated capture: widths %v, measured from the texts %v", got, want)
	}
	durs := []int64{0, 7, 999, 1000, 9994, 9995, 9999, 10_000, 999_949, 999_950, 999_999, 1_000_000,
		999_994_999, 999_995_000, 1_000_000_000, 999_999_999_999, math.MaxInt64, math.MinInt64}
	counts := []int{0, 9, 999, 1000, 999_999, 1_000_000, math.MaxInt32}
	for _, d := range durs {
		for _, neg := range []bool{false, true} {
			v := d
			if neg {
				v = -d
			}
			for _, n := range counts {
				one := &correlate.Result{Flows: []correlate.Flow{{ID: "f1", Proto: "tcp", Packets: n,
					Delivered: -n, Lost: n / 3, Retransmissions: -n / 7}}}
				one.Flows[0].LatencyNs.P50 = v
				c := &common{res: one}
				if got, want := measureFlows(c), refWidths(c); !equalInts(got, want) {
					t.Fatalf("p50 %d, counts %d: widths %v, measured from the texts %v", v, n, got, want)
				}
			}
		}
	}
	mixed := &correlate.Result{}
	eps := []correlate.Endpoint{{IP: "10.0.0.1", Port: 53}, {IP: "fd00::1", Port: 65535}, {IP: "fd00::1"},
		{IP: "10.0.0.2"}, {IP: "2001:db8:1234:5678:9abc:def0:1234:5678", Port: 443}, {IP: "10.0.0.1\x1b[31m", Port: 1},
		{IP: "10.0.0.10", Port: 8}, {IP: "ünï", Port: 7}, {IP: "fd00:1234:5678::1", Port: 8080},
		{IP: "fd00:1234:5678:9abc::1"}, {IP: "192.168.100.200", Port: 65535}}
	for _, e := range eps {
		c := &common{res: &correlate.Result{Flows: []correlate.Flow{{ID: "f1", Src: e, Dst: e}}}}
		if got, want := measureFlows(c), refWidths(c); !equalInts(got, want) {
			t.Errorf("endpoint %q: widths %v, measured from the texts %v", e, got, want)
		}
	}
	for i, d := range durs {
		f := correlate.Flow{ID: fmt.Sprintf("f%d", i+1), Proto: "udp", Packets: counts[i%len(counts)],
			Src: eps[i%len(eps)], Dst: eps[(i*3+1)%len(eps)]}
		f.LatencyNs.P50 = d
		if i%3 == 0 {
			f.LatencyNs.P50 = -d
		}
		mixed.Flows = append(mixed.Flows, f)
	}
	c = &common{res: mixed}
	if got, want := measureFlows(c), refWidths(c); !equalInts(got, want) {
		t.Errorf("mixed flows: widths %v, measured from the texts %v", got, want)
	}
	// The endpoints' keys, written without their strings, order them as their texts do.
	for _, col := range []int{2, 3} {
		perm, _ := sortFlows(c, col)
		for r := 1; r < len(perm); r++ {
			a, b := &mixed.Flows[perm[r-1]], &mixed.Flows[perm[r]]
			if refLess[flowColumns[col].name](c, a, b) > 0 {
				t.Fatalf("%s: %s before %s", flowColumns[col].name, flowColumns[col].text(c, a), flowColumns[col].text(c, b))
			}
		}
	}
}

// findFlow finds a flow by its ID whether or not the Result lists it at the ID's number.
func TestFindFlow(t *testing.T) {
	res := &correlate.Result{Flows: []correlate.Flow{{ID: "f2"}, {ID: "f1"}, {ID: "x"}, {ID: "f4"}}}
	for id, want := range map[string]int{"f1": 1, "f2": 0, "x": 2, "f4": 3, "f3": -1, "f9": -1, "": -1} {
		got, f := -1, findFlow(res, id)
		for i := range res.Flows {
			if f == &res.Flows[i] {
				got = i
			}
		}
		if got != want {
			t.Errorf("findFlow(%q) = flow %d, want %d", id, got, want)
		}
	}
}

// The orders and widths sorted off the UI loop after loading are those a key computes, and once they
// arrive no key sorts or measures again; those for another Result are dropped.
func TestFlowOrdersOffTheLoop(t *testing.T) {
	res := manyFlowsTestResult(t)
	km := DefaultKeyMap()
	m := press(newTest(t, res, 160, 48), km.Flows)
	want := press(newTest(t, res, 160, 48), km.Flows)
	if stale := m.fl.sortNext(&common{res: labRes}, 0)(); m.fl.merge(m.c, stale.(ordersMsg)) != nil ||
		m.fl.ord.perm[1] != nil || m.fl.ord.need != nil {
		t.Fatal("the widths of another Result were taken")
	}
	for cmd := m.fl.sortNext(m.c, 0); cmd != nil; {
		nm, next := m.Update(cmd())
		m, cmd = nm.(Model), next
	}
	sorts := m.fl.ord.sorts
	for _, k := range columnKeys() {
		for range 2 {
			m = press(m, km.SortMenu)
			m = typeText(m, k)
			want = press(want, km.SortMenu)
			want = typeText(want, k)
			if !equalInts(m.fl.idx, want.fl.idx) || ansi.Strip(m.View()) != ansi.Strip(want.View()) {
				t.Fatalf("sorted by %s: the order sorted off the loop differs from the one a key sorts", m.fl.sortName())
			}
		}
	}
	if m.fl.ord.sorts != sorts {
		t.Errorf("keys sorted %d orders after every order arrived", m.fl.ord.sorts-sorts)
	}
}

// runCmds runs cmd and the Cmds its messages return, in turn, on m.
func runCmds(m Model, cmd tea.Cmd) Model {
	for cmd != nil {
		nm, next := m.Update(cmd())
		m, cmd = nm.(Model), next
	}
	return m
}

// The names key has the orders and widths for the names as now shown computed off the UI loop too:
// after it no sort key sorts, and the orders are those of the endpoints' texts as shown.
func TestFlowOrdersAfterNamesKey(t *testing.T) {
	res := namedRes(manyFlowsTestResult(t))
	km := DefaultKeyMap()
	m := press(newTest(t, res, 160, 48), km.Flows)
	m = runCmds(m, m.fl.sortNext(m.c, 0))
	nm, cmd := m.Update(keyMsgOf(km.Names))
	m = runCmds(nm.(Model), cmd)
	if m.c.named() {
		t.Fatal("the names key did not switch to addresses")
	}
	sorts := m.fl.ord.sorts
	for _, k := range []string{"c", "e", "n"} {
		for range 2 {
			m = press(m, km.SortMenu)
			m = typeText(m, k)
			var ref list
			ref.desc = m.fl.desc
			less := refLess[flowColumns[m.fl.sortCol].name]
			ref.rebuild(len(res.Flows), nil, func(a, b int) int { return less(m.c, &res.Flows[a], &res.Flows[b]) })
			if !equalInts(m.fl.idx, ref.idx) {
				t.Fatalf("sorted by %s with addresses shown: not the order of the addresses", m.fl.sortName())
			}
		}
	}
	if m.fl.ord.sorts != sorts {
		t.Errorf("keys sorted %d orders after the names key", m.fl.ord.sorts-sorts)
	}
}

// Texts sort as strings.Compare orders them, whatever their first 16 bytes (held as numbers) share.
func TestTextKeysOrder(t *testing.T) {
	texts := []string{"ab", "ab\x00", "ab\x00c", "", "abcdefghijklmnopq", "abcdefghijklmnopp", "abcdefghijklmnop",
		"abcdefghijklmno", "b", "\xff", "abcdefgh", "abcdefgh\x00", "ab", "192.168.0.10:443", "192.168.0.1:5353"}
	res := &correlate.Result{}
	for i, p := range texts {
		res.Flows = append(res.Flows, correlate.Flow{ID: fmt.Sprintf("f%d", i+1), Proto: p})
	}
	perm, ties := sortFlows(&common{res: res}, 1) // proto
	for r := 1; r < len(perm); r++ {
		a, b := texts[perm[r-1]], texts[perm[r]]
		if c := cmp.Compare(a, b); c > 0 || (c == 0 && perm[r-1] > perm[r]) || (c == 0) != hasBit(ties, r) {
			t.Fatalf("%q (flow %d) before %q (flow %d), tie %v", a, perm[r-1], b, perm[r], hasBit(ties, r))
		}
	}
}

// The overview shows without sorting the flows: the timeline opens on the flow list's first flow,
// found without sorting, and the list is built, sorted worst first, when it is first shown (by its
// key, a tab, or a key typed with it) or by the order sorted off the UI loop; it shows the same rows.
func TestOverviewSortsNothing(t *testing.T) {
	res := manyFlowsTestResult(t)
	km := DefaultKeyMap()
	m := newTest(t, res, 160, 48)
	if m.fl.ord.sorts != 0 || m.fl.built {
		t.Fatalf("the overview sorted %d orders (flow list built: %v)", m.fl.ord.sorts, m.fl.built)
	}
	var ref list
	less := refLess["worst"]
	ref.rebuild(len(res.Flows), nil, func(a, b int) int { return less(m.c, &res.Flows[a], &res.Flows[b]) })
	if m.tl.flowID != res.Flows[ref.idx[0]].ID {
		t.Errorf("the timeline opened flow %s, the flow list's first is %s", m.tl.flowID, res.Flows[ref.idx[0]].ID)
	}
	want := ""
	for _, open := range []func(Model) Model{
		func(m Model) Model { return press(m, km.Flows) },
		func(m Model) Model { return press(m, km.NextTab) },
		func(m Model) Model { return press(m, km.Down, km.Down, km.Flows, km.Down, km.Up) },
		func(m Model) Model { return send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("2jj")}) },
		func(m Model) Model { return press(runCmds(m, m.fl.sortNext(m.c, 0)), km.Flows) },
	} {
		got := open(newTest(t, res, 160, 48))
		if got.screen != screenFlows || !equalInts(got.fl.idx, ref.idx) {
			t.Fatalf("the flow list shown (%v) is not the flows worst first", got.screen)
		}
		if got.fl.cursor == 0 {
			v := ansi.Strip(got.View())
			if want != "" && v != want {
				t.Errorf("the flow list shows\n%s\nwant\n%s", v, want)
			}
			want = v
		}
	}
	if want == "" {
		t.Error("no flow list was compared")
	}
}

// worstFlow is the first flow worst first, the earliest of flows that tie.
func TestWorstFlow(t *testing.T) {
	for i, c := range []struct {
		flows []correlate.Flow
		want  int
	}{
		{[]correlate.Flow{{ID: "f1"}}, 0},
		{[]correlate.Flow{{ID: "f1", Packets: 2}, {ID: "f2", Packets: 3}, {ID: "f3", Packets: 3}}, 1},
		{[]correlate.Flow{{ID: "f1", Packets: 9}, {ID: "f2", Lost: 1}, {ID: "f3", Lost: 1, Resets: 1}}, 2},
		{[]correlate.Flow{{ID: "f10", Lost: 1}, {ID: "f9", Lost: 1}}, 1},
		{[]correlate.Flow{{ID: "x", Retransmissions: 1}, {ID: "x", Retransmissions: 1}, {ID: "y", NotCaptured: 5}}, 0},
	} {
		if got := worstFlow(c.flows); got != c.want {
			t.Errorf("case %d: worstFlow = %d, want %d", i, got, c.want)
		}
	}
}

// The first step sorted off the UI loop once the overview shows is the flow list's first order
// (worst first): with it merged, showing the list sorts nothing on the UI loop.
func TestFlowOrdersWorstFirst(t *testing.T) {
	res := manyFlowsTestResult(t)
	m := newTest(t, res, 160, 48)
	msg, ok := m.fl.sortNext(m.c, 0)().(ordersMsg)
	if !ok || msg.perm == nil {
		t.Fatalf("the first step off the UI loop is %+v, not an order", msg.step)
	}
	m.fl.merge(m.c, msg)
	m = press(m, DefaultKeyMap().Flows)
	if m.fl.ord.sorts != 0 {
		t.Errorf("showing the flow list sorted %d orders on the UI loop", m.fl.ord.sorts)
	}
	want, _ := sortFlows(m.c, sortWorst)
	if !slices.Equal(msg.perm, want) {
		t.Error("the first order off the UI loop is not worst first")
	}
}

// Every order reads its sort key from each flow once (a radix sort on keys computed up front, not a
// key computed in each comparison), with names shown or not; a later press of the order, either
// direction, reads none.
func TestSortKeysComputedOnce(t *testing.T) {
	res := manyFlowsTestResult(t)
	for _, named := range []bool{false, true} {
		r := res
		if named {
			r = namedRes(res)
		}
		calls := countKeyCalls(t)
		m := runAll(keyCmd(newTest(t, r, 160, 48), "2"))
		for i, col := range flowColumns {
			clear(calls)
			m = runAll(keyCmd(m, "s", col.key))
			if got, want := calls[i], len(r.Flows); got != want {
				t.Errorf("names %v: sorting by %s read the key %d times on %d flows, want once a flow", named, col.name, got, want)
			}
			clear(calls)
			m = runAll(keyCmd(m, "s", col.key, "s", col.key))
			if calls[i] != 0 {
				t.Errorf("names %v: pressing %s again read the key %d times, want none", named, col.name, calls[i])
			}
			if !equalInts(m.fl.idx, refOrder(m.c, r, col.name, m.fl.desc, nil)) {
				t.Errorf("names %v: the order by %s is not the column's", named, col.name)
			}
		}
	}
}

// countKeyCalls replaces every column's sort key (num, str, appendStr, side) by one that counts its
// calls in calls[column], until the test ends.
func countKeyCalls(t *testing.T) map[int]int {
	calls := map[int]int{}
	saved := slices.Clone(flowColumns)
	t.Cleanup(func() { copy(flowColumns, saved) })
	for i := range flowColumns {
		col := &flowColumns[i]
		if num := col.num; num != nil {
			col.num = func(f *correlate.Flow) int64 { calls[i]++; return num(f) }
		}
		if str := col.str; str != nil {
			col.str = func(c *common, f *correlate.Flow) string { calls[i]++; return str(c, f) }
		}
		if app := col.appendStr; app != nil {
			byApp := col.side == nil // an endpoint column counts its side (its address) when sorted by it
			col.appendStr = func(b []byte, c *common, f *correlate.Flow) []byte {
				if byApp || c.named() {
					calls[i]++
				}
				return app(b, c, f)
			}
		}
		if side := col.side; side != nil {
			col.side = func(f *correlate.Flow) *correlate.Endpoint { calls[i]++; return side(f) }
		}
	}
	return calls
}
