package tui

import (
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// keyCmd sends the keys by name ("s", "c", "down") and returns the Model and the Cmds they returned,
// not run (the work off the UI loop).
func keyCmd(m Model, keys ...string) (Model, tea.Cmd) {
	var cmds []tea.Cmd
	for _, k := range keys {
		msg := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
		if t, ok := specialKeys[k]; ok {
			msg = tea.KeyMsg{Type: t}
		}
		nm, cmd := m.Update(msg)
		m, cmds = nm.(Model), append(cmds, cmd)
	}
	return m, tea.Batch(cmds...)
}

// msgsOf runs cmd (a batch: each of its Cmds) and returns the messages.
func msgsOf(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, msgsOf(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

// runAll runs cmd and every Cmd its messages return, delivering the messages in turn.
func runAll(m Model, cmd tea.Cmd) Model {
	for q := msgsOf(cmd); len(q) > 0; q = q[1:] {
		nm, next := m.Update(q[0])
		m = nm.(Model)
		q = append(q, msgsOf(next)...)
	}
	return m
}

// refOrder is the flows (those keep accepts, nil: all) in the order of the flow list's column name
// ("worst" or a column's), descending with desc: the order the list must show.
func refOrder(c *common, res *correlate.Result, name string, desc bool, keep func(i int) bool) []int {
	var ref list
	ref.desc = desc
	less := refLess[name]
	ref.rebuild(len(res.Flows), keep, func(a, b int) int { return less(c, &res.Flows[a], &res.Flows[b]) })
	return ref.idx
}

// asyncSorts has every order sorted off the UI loop, as on many flows, for the test's duration.
func asyncSorts(t *testing.T) {
	n := syncSortFlows
	syncSortFlows = 1
	t.Cleanup(func() { syncSortFlows = n })
}

// On many flows the flow list's first view and a sort key answer at once, with nothing sorted on the
// UI loop: the list waits with no rows for its first order and widths, then a key keeps the order
// shown and says which it is sorting, and when it lands shows it with the cursor on the same flow.
func TestSortKeyOffTheLoop(t *testing.T) {
	asyncSorts(t)
	res := manyFlowsTestResult(t)
	m, cmd := keyCmd(newTest(t, res, 160, 48), "2")
	v := ansi.Strip(m.View())
	if !m.fl.waiting || len(m.fl.idx) != 0 || cmd == nil || !strings.Contains(v, "sorting "+fmtCount(len(res.Flows))+" flows worst first…") {
		t.Fatalf("the flow list's first view does not wait for its order:\n%s", v)
	}
	m = runAll(m, cmd)
	if m.fl.waiting || !equalInts(m.fl.idx, refOrder(m.c, res, "worst", false, nil)) {
		t.Fatal("the flow list's first order did not land")
	}
	m = sendKeys(m, "down", "down", "down")
	sel, shown := m.fl.selectedFlow(), m.fl.idx
	m, cmd = keyCmd(m, "s", "c")
	v = ansi.Strip(m.View())
	if cmd == nil || m.fl.sortCol != sortWorst || !equalInts(m.fl.idx, shown) ||
		!strings.Contains(v, "sorted worst first · sorting by client ascending…") {
		t.Fatalf("the key did not keep the order shown while sorting:\n%s", v)
	}
	m = runAll(m, cmd)
	if m.fl.sortCol != 2 || m.fl.wanting || !equalInts(m.fl.idx, refOrder(m.c, res, "client", false, nil)) {
		t.Fatalf("the order asked for did not land: %s", m.fl.sortName())
	}
	if m.fl.selectedFlow() != sel || strings.Contains(ansi.Strip(m.View()), "sorting") {
		t.Error("the cursor left its flow, or the list still says it is sorting")
	}
	if m.fl.ord.sorts != 0 {
		t.Errorf("%d orders were sorted on the UI loop", m.fl.ord.sorts)
	}
}

// Keys pressed while an order is sorted act on the order asked for last; an order that lands after
// another was asked for is kept for later, not shown.
func TestSortKeysQuickly(t *testing.T) {
	asyncSorts(t)
	res := manyFlowsTestResult(t)
	m := runAll(keyCmd(newTest(t, res, 160, 48), "2"))
	m, cmd := keyCmd(m, "s", "c", "s", "c") // client, then reversed
	m = runAll(m, cmd)
	if m.fl.sortName() != "client descending" || !equalInts(m.fl.idx, refOrder(m.c, res, "client", true, nil)) {
		t.Fatalf("two presses of client quickly show %s", m.fl.sortName())
	}
	m, cmd = keyCmd(m, "s", "e", "s", "k", "r") // server, then packets, reversed
	msgs := msgsOf(cmd)
	if len(msgs) != 2 {
		t.Fatalf("%d orders sorted off the UI loop, want 2", len(msgs))
	}
	for _, i := range []int{1, 0} { // packets lands first, then server
		nm, next := m.Update(msgs[i])
		m = runAll(nm.(Model), next)
	}
	if m.fl.sortName() != "pkts ascending" || !equalInts(m.fl.idx, refOrder(m.c, res, "pkts", false, nil)) {
		t.Fatalf("the order asked for last is not shown: %s", m.fl.sortName())
	}
	if m, cmd = keyCmd(m, "s", "e"); cmd != nil || m.fl.sortName() != "server ascending" {
		t.Error("the order that landed first was not kept")
	}
}

// Quitting while an order is sorted quits. A filter that lands while the list waits for its first
// order sorts nothing on the UI loop, and the order shows the flows it keeps; one that lands while a
// key's order is sorted filters the order shown, and the order that lands then shows the flows the
// filter keeps.
func TestQuitOrFilterWhileSorting(t *testing.T) {
	asyncSorts(t)
	defer func(n int) { syncFilterFlows = n }(syncFilterFlows)
	syncFilterFlows = 1
	res := manyFlowsTestResult(t)
	filter := func(m Model, expr string) Model {
		m, _ = keyCmd(m, "/")
		m = typeText(send(m, tea.KeyMsg{Type: tea.KeyCtrlU}), expr)
		m, cmd := keyCmd(m, "enter")
		return runAll(m, cmd)
	}
	keepOf := func(expr string) func(i int) bool {
		f, err := correlate.ParseFilter(expr)
		if err != nil {
			t.Fatal(err)
		}
		return func(i int) bool { return f.MatchFlow(res, &res.Flows[i]) }
	}
	m, first := keyCmd(newTest(t, res, 160, 48), "2")
	m = filter(m, "proto udp")
	if !m.fl.waiting || m.fl.ord.sorts != 0 {
		t.Fatal("a filter sorted the list's first order on the UI loop")
	}
	m = runAll(m, first)
	if !equalInts(m.fl.idx, refOrder(m.c, res, "worst", false, keepOf("proto udp"))) {
		t.Fatal("the list's first order does not show the flows the filter keeps")
	}
	m, sorting := keyCmd(m, "s", "n")
	if _, cmd := keyCmd(m, "q"); !isQuit(cmd) {
		t.Fatal("q does not quit while sorting")
	}
	m = filter(m, "proto tcp")
	keep := keepOf("proto tcp")
	if !m.fl.wanting || !equalInts(m.fl.idx, refOrder(m.c, res, "worst", false, keep)) {
		t.Fatal("the filter did not filter the order shown")
	}
	m = runAll(m, sorting)
	if !equalInts(m.fl.idx, refOrder(m.c, res, "post-NAT", false, keep)) || len(m.fl.idx) == len(res.Flows) {
		t.Fatalf("sorted by %s: not the flows the filter keeps in that order", m.fl.sortName())
	}
}

// The names key while an order naming addresses is sorted: the order under way is stale (dropped) and
// sorted again for the names as now shown, ahead of the other orders sorted off the UI loop; the
// list shows the addresses' order when it lands.
func TestNamesKeyWhileSorting(t *testing.T) {
	asyncSorts(t)
	res := namedRes(manyFlowsTestResult(t))
	m := runAll(keyCmd(newTest(t, res, 160, 48), "2"))
	m, stale := keyCmd(m, "s", "c")
	nm, cmd := m.Update(keyMsgOf(DefaultKeyMap().Names))
	m = nm.(Model)
	for _, msg := range msgsOf(stale) {
		nm, next := m.Update(msg)
		if m = nm.(Model); next != nil || m.fl.sortCol != sortWorst {
			t.Fatal("an order sorted for the names shown before landed")
		}
	}
	for _, msg := range msgsOf(cmd) { // the names key's own Cmds, not the chain's steps they ask for
		nm, _ := m.Update(msg)
		m = nm.(Model)
	}
	if m.c.named() || m.fl.sortName() != "client ascending" ||
		!equalInts(m.fl.idx, refOrder(m.c, res, "client", false, nil)) {
		t.Fatalf("after the names key: %s, not the addresses' order", m.fl.sortName())
	}
	// Shown, the order is sorted again for the names as now shown, kept meanwhile.
	nm, cmd = m.Update(keyMsgOf(DefaultKeyMap().Names))
	if m = nm.(Model); !m.c.named() || !m.fl.wanting || !strings.Contains(ansi.Strip(m.View()), "sorting by client") {
		t.Fatal("the order shown, naming addresses, is not sorted again after the names key")
	}
	for _, msg := range msgsOf(cmd) {
		nm, _ := m.Update(msg)
		m = nm.(Model)
	}
	if m.fl.wanting || !equalInts(m.fl.idx, refOrder(m.c, res, "client", false, nil)) {
		t.Fatal("with names shown: not the names' order")
	}
	if m.fl.ord.sorts != 0 {
		t.Errorf("%d orders were sorted on the UI loop", m.fl.ord.sorts)
	}
}

// pendingScreens is the flow list waiting for its first order, and sorting by a column, as on many
// flows.
func pendingScreens(t *testing.T, w, h int, km KeyMap, out map[string]string) {
	n := syncSortFlows
	defer func() { syncSortFlows = n }()
	syncSortFlows = 1
	m, cmd := keyCmd(newTest(t, labRes, w, h), "2")
	out["flows-waiting"] = m.View()
	m = runAll(m, cmd)
	m = press(m, km.Down, km.SortMenu, key.NewBinding(key.WithKeys("e")))
	out["flows-sorting"] = m.View()
}

// While a key waits for its order, the sorts off the UI loop pause after the step under way, and go
// on once the order lands, until every order is sorted.
func TestChainPausesForKey(t *testing.T) {
	asyncSorts(t)
	res := manyFlowsTestResult(t)
	m := runAll(keyCmd(newTest(t, res, 160, 48), "2"))
	chain := m.fl.sortNext(m.c, 0) // its first step: the flow column's order
	m, sorting := keyCmd(m, "s", "c")
	nm, next := m.Update(chain())
	if m = nm.(Model); next != nil {
		t.Fatal("the sorts off the UI loop went on while a key waits for its order")
	}
	nm, next = m.Update(sorting())
	if m = nm.(Model); next == nil || m.fl.sortName() != "client ascending" {
		t.Fatalf("the sorts off the UI loop did not go on once the order landed (%s)", m.fl.sortName())
	}
	m = runAll(m, next)
	for k, p := range m.fl.ord.perm {
		if p == nil {
			t.Errorf("order %d was never sorted", k-1)
		}
	}
	if m.fl.ord.chain || m.fl.ord.paused || m.fl.ord.busy != 0 {
		t.Error("the sorts off the UI loop did not end")
	}
}

// Once loaded, the work off the UI loop sorts the flow list's first order and measures the widths
// before it collects the garbage correlation left (a key right after the overview does not wait for
// the collection), then sorts every column's order, each step once.
func TestCollectAfterFirstOrder(t *testing.T) {
	asyncSorts(t)
	res := manyFlowsTestResult(t)
	nm, cmd := newTest(t, res, 160, 48).Update(loadedMsg{res: res})
	m := nm.(Model)
	var steps []string
	for q := msgsOf(cmd); len(q) > 0; q = q[1:] {
		switch msg := q[0].(type) {
		case ordersMsg:
			steps = append(steps, strconv.Itoa(msg.step))
		case collectedMsg:
			steps = append(steps, "collect")
		}
		nm, next := m.Update(q[0])
		m = nm.(Model)
		q = append(q, msgsOf(next)...)
	}
	want := []string{"0", "1", "collect"}
	for s := 2; s <= len(flowColumns)+1; s++ {
		want = append(want, strconv.Itoa(s))
	}
	if strings.Join(steps, " ") != strings.Join(want, " ") {
		t.Errorf("steps off the UI loop once loaded: %v, want %v", steps, want)
	}
}

// A step of the chain off the UI loop waits at its yields while a step a key asked for runs, and goes
// on, with the same result, once it is done.
func TestChainWaitsForKey(t *testing.T) {
	res := manyFlowsTestResult(t)
	c := &common{res: res}
	o := &flowOrders{}
	o.sync(c)
	g := o.gate
	g.begin() // a key's step under way
	out := make(chan tea.Msg, 1)
	cmd := o.start(c, 0, true) // the chain's worst first
	go func() { out <- cmd() }()
	waited := func() int {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.waited
	}
	for i := 0; i < 1_000_000 && waited() == 0; i++ {
		runtime.Gosched()
	}
	select {
	case <-out:
		t.Fatal("the chain's step ran to its end while a key's step ran")
	default:
	}
	if waited() != 1 {
		t.Fatalf("the chain's step waited %d times, want 1", waited())
	}
	g.end()
	msg, ok := (<-out).(ordersMsg)
	want, _ := sortFlows(c, sortWorst)
	if !ok || !slices.Equal(msg.perm, want) {
		t.Fatal("the chain's step, once on, did not sort worst first")
	}
}

// The collection after loading runs even when, by the time the chain comes to it, keys have sorted
// (or are sorting) every order left, and the chain ends after it.
func TestCollectWhenOrdersTaken(t *testing.T) {
	res := manyFlowsTestResult(t)
	c := &common{res: res}
	l := newFlowList()
	o := l.ord
	o.sync(c)
	for s := 2; s <= len(o.perm); s++ {
		o.busy |= 1 << s // a key's sort under way
	}
	o.collect = true
	cmd := l.sortNext(c, 2)
	if cmd == nil {
		t.Fatal("no collection once every order left is under way")
	}
	msg, ok := cmd().(collectedMsg)
	if !ok || o.collect {
		t.Fatalf("the chain's step: %T, collect still set: %v", msg, o.collect)
	}
	if next := l.collected(c, msg); next != nil || o.chain {
		t.Errorf("the chain goes on after the collection with every order under way (chain %v)", o.chain)
	}
}
