package tui

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/calipath/calipath/correlate"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// flowColumn is one column of the flow table.
type flowColumn struct {
	name  string
	width int // minimum width; the endpoint columns share what is left
	right bool
	text  func(f *correlate.Flow) string
	less  func(a, b *correlate.Flow) int
}

// endpoint formats an endpoint, made safe for the terminal.
func endpoint(e correlate.Endpoint) string { return clean(e.String()) }

// natTarget returns where the flow's destination was rewritten to, or "".
func natTarget(f *correlate.Flow) string {
	for _, n := range f.NAT {
		if n.Kind == "dnat" || n.Kind == "nat" {
			if _, to, ok := strings.Cut(n.To, "→"); ok {
				return clean(strings.TrimSpace(to))
			}
			return clean(n.To)
		}
	}
	return ""
}

func lostWhere(f *correlate.Flow) string {
	if len(f.LostAt) == 0 {
		return ""
	}
	best := f.LostAt[0]
	for _, l := range f.LostAt {
		if l.Count > best.Count {
			best = l
		}
	}
	s := clean(shortPoint(best.From, "")) + "→" + clean(shortPoint(best.To, nodeOfID(best.From)))
	if len(f.LostAt) > 1 {
		s += fmt.Sprintf(" +%d", len(f.LostAt)-1)
	}
	return s
}

func nodeOfID(id string) string {
	n, _, _ := strings.Cut(id, "/")
	return n
}

var flowColumns = []flowColumn{
	{"flow", 4, false, func(f *correlate.Flow) string { return clean(f.ID) },
		func(a, b *correlate.Flow) int { return cmp.Compare(flowNum(a.ID), flowNum(b.ID)) }},
	{"proto", 5, false, func(f *correlate.Flow) string { return clean(f.Proto) },
		func(a, b *correlate.Flow) int { return cmp.Compare(a.Proto, b.Proto) }},
	{"client", 17, false, func(f *correlate.Flow) string { return endpoint(f.Src) },
		func(a, b *correlate.Flow) int { return cmp.Compare(endpoint(a.Src), endpoint(b.Src)) }},
	{"server", 17, false, func(f *correlate.Flow) string { return endpoint(f.Dst) },
		func(a, b *correlate.Flow) int { return cmp.Compare(endpoint(a.Dst), endpoint(b.Dst)) }},
	{"post-NAT", 8, false, natTarget,
		func(a, b *correlate.Flow) int { return cmp.Compare(natTarget(a), natTarget(b)) }},
	{"pkts", 6, true, func(f *correlate.Flow) string { return fmtCount(f.Packets) },
		func(a, b *correlate.Flow) int { return cmp.Compare(a.Packets, b.Packets) }},
	{"deliv", 6, true, func(f *correlate.Flow) string { return fmtCount(f.Delivered) },
		func(a, b *correlate.Flow) int { return cmp.Compare(a.Delivered, b.Delivered) }},
	{"lost", 5, true, func(f *correlate.Flow) string { return fmtCount(f.Lost) },
		func(a, b *correlate.Flow) int { return cmp.Compare(a.Lost, b.Lost) }},
	{"lost at", 10, false, lostWhere,
		func(a, b *correlate.Flow) int { return cmp.Compare(lostWhere(a), lostWhere(b)) }},
	{"p50", 7, true, func(f *correlate.Flow) string { return fmtDur(f.LatencyNs.P50) },
		func(a, b *correlate.Flow) int { return cmp.Compare(a.LatencyNs.P50, b.LatencyNs.P50) }},
	{"retx", 4, true, func(f *correlate.Flow) string { return fmtCount(f.Retransmissions) },
		func(a, b *correlate.Flow) int { return cmp.Compare(a.Retransmissions, b.Retransmissions) }},
}

// flowNum orders flow IDs "f2" before "f10".
func flowNum(id string) int {
	n := 0
	for _, r := range strings.TrimPrefix(id, "f") {
		if r < '0' || r > '9' || n > 1<<40 {
			return -1
		}
		n = n*10 + int(r-'0')
	}
	return n
}

// flowList is the flow table: filtered, sorted, virtualised (only visible rows are drawn).
type flowList struct {
	list
}

// reset refilters and resorts the flows (after a new Result, filter or sort order), keeping the
// cursor on the flow it was on.
func (l *flowList) reset(c *common) {
	flows := c.res.Flows
	col := flowColumns[clamp(l.sortCol, 0, len(flowColumns)-1)]
	var keep func(int) bool
	if c.filter != nil {
		keep = func(i int) bool { return c.filter.MatchFlow(c.res, &flows[i]) }
	}
	l.rebuild(len(flows), keep, func(a, b int) int { return col.less(&flows[a], &flows[b]) })
}

func (l *flowList) selectedFlow() int {
	i, _ := l.selected()
	return i
}

func (l *flowList) selectedID(c *common) (string, bool) {
	if i, ok := l.selected(); ok {
		return c.res.Flows[i].ID, true
	}
	return "", false
}

// shortHelp is the footer's keys for the flow list.
func (l *flowList) shortHelp(km KeyMap) []key.Binding {
	return []key.Binding{km.Enter, km.SortNext, km.Reverse}
}

// update handles a key on the flow list; enter asks the root to open the flow's timeline.
func (l *flowList) update(c *common, msg tea.KeyMsg, h int) tea.Msg {
	km := c.km
	switch {
	case key.Matches(msg, km.Enter):
		if id, ok := l.selectedID(c); ok {
			return openFlowMsg{flowID: id}
		}
		return nil
	case key.Matches(msg, km.SortNext), key.Matches(msg, km.Right):
		l.sortCol = (l.sortCol + 1) % len(flowColumns)
		l.reset(c)
	case key.Matches(msg, km.SortPrev), key.Matches(msg, km.Left):
		l.sortCol = (l.sortCol + len(flowColumns) - 1) % len(flowColumns)
		l.reset(c)
	case key.Matches(msg, km.Reverse):
		l.desc = !l.desc
		l.reset(c)
	default:
		l.key(msg, km, h-2)
		return nil
	}
	l.scroll(h - 2)
	return nil
}

// dropOrder is the order in which columns give way on a narrow terminal.
var dropOrder = []int{8, 4, 6, 9}

// visibleColumns picks the columns that fit in w cells and their widths: each gets its minimum and
// the endpoint columns share what is left.
func visibleColumns(w int) (cols []int, ws []int) {
	hidden := map[int]bool{}
	need := func() int {
		t := 1
		for i, c := range flowColumns {
			if !hidden[i] {
				t += c.width + 1
			}
		}
		return t
	}
	for _, d := range dropOrder {
		if need() <= w {
			break
		}
		hidden[d] = true
	}
	extra := w - need()
	for i, c := range flowColumns {
		if hidden[i] {
			continue
		}
		cols = append(cols, i)
		ws = append(ws, c.width)
	}
	grow := []int{}
	for k, i := range cols {
		if i == 2 || i == 3 || i == 4 || i == 8 {
			grow = append(grow, k)
		}
	}
	for extra > 0 && len(grow) > 0 {
		grown := false
		for _, k := range grow {
			if extra > 0 && ws[k] < 40 {
				ws[k]++
				extra--
				grown = true
			}
		}
		if !grown {
			break
		}
	}
	return cols, ws
}

func (l *flowList) view(c *common, w, h int) string {
	st := c.st
	cols, ws := visibleColumns(w)
	var b strings.Builder
	var hdr strings.Builder
	hdr.WriteString(" ")
	for k, i := range cols {
		col := flowColumns[i]
		name := col.name
		if i == l.sortCol {
			if l.desc {
				name += "▼"
			} else {
				name += "▲"
			}
		}
		if col.right {
			hdr.WriteString(fitRight(name, ws[k]))
		} else {
			hdr.WriteString(fit(name, ws[k]))
		}
		hdr.WriteString(" ")
	}
	b.WriteString(st.header.Render(hdr.String()) + "\n")
	rows := h - 2
	off, end := l.rows(rows)
	for r := off; r < end; r++ {
		f := &c.res.Flows[l.idx[r]]
		var line strings.Builder
		line.WriteString(cursorMark(r == l.cursor))
		for k, i := range cols {
			col := flowColumns[i]
			if col.right {
				line.WriteString(fitRight(col.text(f), ws[k]))
			} else {
				line.WriteString(fit(col.text(f), ws[k]))
			}
			line.WriteString(" ")
		}
		s := line.String()
		switch {
		case r == l.cursor:
			s = st.selected.Render(s)
		case f.Lost > 0:
			s = st.warn.Render(s)
		}
		b.WriteString(s + "\n")
	}
	if len(l.idx) == 0 {
		b.WriteString(st.dim.Render("  no flows match") + "\n")
	}
	for i := end - off; i < rows; i++ {
		b.WriteString("\n")
	}
	b.WriteString(st.status.Render(fmt.Sprintf(" %d/%d flows · packets as sent · sorted by %s", min(l.cursor+1, len(l.idx)),
		len(l.idx), flowColumns[l.sortCol].name)))
	return b.String()
}
