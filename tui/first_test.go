package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// On many flows the flow list's first order and widths come with the loaded Result (loadCmd), so the
// flows key pressed the moment the overview shows draws the rows at once, with nothing left to sort
// or measure, nor sorted again off the UI loop. The lab's captures, with every order treated as on
// many flows (asyncSorts).
// The same when the flows are listed after the overview shows (listFlowsCmd): the flows key right
// after they are in.
func TestFlowsKeyRightAfterLoad(t *testing.T) {
	t.Run("before the overview", func(t *testing.T) { flowsKeyRightAfterLoad(t) })
	t.Run("after the overview", func(t *testing.T) {
		listAfter(t)
		flowsKeyRightAfterLoad(t)
	})
}

func flowsKeyRightAfterLoad(t *testing.T) {
	asyncSorts(t)
	files := labFiles(t, "../testdata/lab/scenarios/underlay-loss")
	m := New(files, testOptions())
	m = send(m, tea.WindowSizeMsg{Width: 160, Height: 48})
	msg, ok := loadCmd(files, m.opts, m.load)().(loadedMsg)
	if !ok {
		t.Fatal("the captures did not load")
	}
	nm, chain := m.Update(msg)
	m = nm.(Model)
	if msg.res.FlowsStreamed() { // the flows listed after the overview: the chain starts with them
		var flows tea.Msg
		for _, msg := range msgsOf(chain) {
			if _, ok := msg.(flowsMsg); ok {
				flows = msg
			}
		}
		if flows == nil {
			t.Fatal("the flows were not listed after the overview showed")
		}
		nm, chain = m.Update(flows)
		m = nm.(Model)
	}
	res := m.c.res
	if len(res.Flows) < 2 {
		t.Fatalf("%d flows: too few to check an order", len(res.Flows))
	}
	m, cmd := keyCmd(m, "2")
	v := ansi.Strip(m.View())
	if m.fl.waiting || m.fl.wanting || strings.Contains(v, "sorting") {
		t.Fatalf("the flows key right after loading waits for the list's first order:\n%s", v)
	}
	if cmd != nil {
		t.Error("the flows key right after loading started work off the UI loop")
	}
	if !equalInts(m.fl.idx, refOrder(m.c, res, "worst", false, nil)) {
		t.Errorf("the rows are not worst first: %v", m.fl.idx)
	}
	if want := measureFlows(m.c); !equalInts(m.fl.widths(m.c), want) {
		t.Errorf("the columns' widths are %v, measured %v", m.fl.widths(m.c), want)
	}
	if f := res.Flows[m.fl.idx[0]]; !strings.Contains(v, f.ID+" ") {
		t.Errorf("the first row (%s) is not drawn:\n%s", f.ID, v)
	}
	for q := msgsOf(chain); len(q) > 0; q = q[1:] { // the chain off the UI loop: the columns' orders
		if o, ok := q[0].(ordersMsg); ok && stepPerm(o.step) <= 0 {
			t.Errorf("step %d (the first order or the widths) was computed again off the UI loop", o.step)
		}
		nm, next := m.Update(q[0])
		m = nm.(Model)
		q = append(q, msgsOf(next)...)
	}
	if got := m.fl.ord.sorts; got != 1 {
		t.Errorf("%d orders sorted apart from the chain's, want 1 (the first, while loading)", got)
	}
}

// The first order computed while loading is taken only for the Result it was computed for, with the
// names shown as it was computed: a Model showing another Result, or the same with its names hidden,
// sorts and measures its own.
func TestFirstOrderOnlyItsOwn(t *testing.T) {
	asyncSorts(t)
	res := namedRes(manyFlowsTestResult(t))
	first := prepareFirst(res)
	if first == nil || !first.named {
		t.Fatal("no first order computed with the names shown")
	}
	m := newTest(t, res, 160, 48)
	m.c.addrsOnly = true
	m.setResult(res, first)
	if m.fl.ord.perm != nil && m.fl.ord.perm[0] != nil || m.fl.ord.need != nil {
		t.Error("the first order computed with names was taken with names hidden")
	}
	other := manyFlowsTestResult(t)
	m = newTest(t, other, 160, 48)
	m.setResult(other, first)
	if m.fl.ord.perm != nil && m.fl.ord.perm[0] != nil || m.fl.ord.need != nil {
		t.Error("another Result's first order was taken")
	}
	m = newTest(t, res, 160, 48)
	m.setResult(res, first)
	if m.fl.ord.perm[0] == nil || !equalInts(m.fl.ord.need, measureFlows(m.c)) {
		t.Error("the Result's own first order was not taken")
	}
}
