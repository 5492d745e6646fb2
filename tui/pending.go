package tui

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
)

// A sort key on many flows. Sorting 200,000 flows by a column takes tens of milliseconds, too long
// for a key: above syncSortFlows flows an order that is not sorted yet (by a key before, or by the
// sorts off the UI loop once the overview shows) is sorted in a Cmd of its own, beside them. The key
// answers at once: the list keeps the order it shows, and its status line says "sorting by …" until
// the order lands (merge), when the list shows it, the cursor on the flow it was on. Keys pressed
// meanwhile act on the order asked for last: a second press reverses it, another picks another
// order (the first still lands, for later). The list's first view waits the same way for its first
// order and the columns' widths, with no rows until they land.

// syncSortFlows is the most flows an order is sorted for on the UI loop.
var syncSortFlows = 20000

// target is the order asked for last: the one being sorted, or else the one shown.
func (l *flowList) target() (int, bool) {
	if l.wanting {
		return l.wantCol, l.wantDesc
	}
	return l.sortCol, l.desc
}

// want shows the flows in order col (descending with desc): at once when the order is sorted (and,
// the list waiting for its first rows, the widths measured) or the flows are few, else once the
// returned Cmd has sorted it off the UI loop.
func (l *flowList) want(c *common, col int, desc bool) tea.Cmd {
	o := l.ord
	o.sync(c)
	if len(c.res.Flows) <= syncSortFlows || (o.perm[col+1] != nil && (!l.waiting || o.need != nil)) {
		l.wanting, l.waiting = false, false
		l.sortCol, l.desc = col, desc
		l.reset(c)
		return nil
	}
	l.wanting, l.wantCol, l.wantDesc = true, col, desc
	cmd := l.sortOne(c, col)
	if l.waiting && !o.done(1) && o.busy&(1<<1) == 0 { // the widths, for the first rows
		cmd = tea.Batch(cmd, o.start(c, 1, false))
	}
	return cmd
}

// landed shows the order asked for if it is sorted now (merge), or asks for it again.
func (l *flowList) landed(c *common) tea.Cmd {
	if !l.wanting {
		return nil
	}
	return l.want(c, l.wantCol, l.wantDesc)
}

// renamed asks again, after the names key, for the order asked for, or for the order shown when its
// texts name addresses: what was under way for the names shown before is stale.
func (l *flowList) renamed(c *common) tea.Cmd {
	switch {
	case !l.built:
		return nil
	case l.wanting:
		return l.want(c, l.wantCol, l.wantDesc)
	case l.sortCol != sortWorst && flowColumns[l.sortCol].byName && len(c.res.Flows) > syncSortFlows:
		return l.want(c, l.sortCol, l.desc)
	}
	return nil
}

// refilter rebuilds the rows for the filter in force, once they are laid out: a list waiting for its
// first order takes the filter when the order lands.
func (l *flowList) refilter(c *common) {
	if l.built && !l.waiting {
		l.reset(c)
	}
}

// widths returns the columns' widths; a list waiting for its first rows does not measure them on the
// UI loop: until they land, its header has each column's least width.
func (l *flowList) widths(c *common) []int {
	if !l.waiting || l.ord.need != nil {
		return l.ord.widths(c)
	}
	ws := make([]int, len(flowColumns))
	for i, col := range flowColumns {
		ws[i] = col.width
	}
	return ws
}

// statusLine is the list's status: the row, the rows, the order shown and the one being sorted.
func (l *flowList) statusLine() string {
	if l.waiting {
		return fmt.Sprintf(" sorting %s…", orderName(l.wantCol, l.wantDesc))
	}
	s := fmt.Sprintf(" %d/%d flows · packets as sent · sorted %s", min(l.cursor+1, len(l.idx)), len(l.idx), l.sortName())
	if l.wanting {
		s += fmt.Sprintf(" · sorting by %s…", orderName(l.wantCol, l.wantDesc))
	}
	return s
}
