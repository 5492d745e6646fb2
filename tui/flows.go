package tui

import (
	"fmt"
	"math"
	"strings"

	"github.com/calipath/calipath/correlate"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// flowColumn is one column of the flow table.
type flowColumn struct {
	name  string
	key   string // the key that picks it in the sort menu
	width int    // minimum width; the endpoint columns share what is left
	right bool   // a number: right-aligned, never cut, sorted largest first when picked
	text  func(c *common, f *correlate.Flow) string
	// The sort key: num for a number (and the flow ID's number), else a text compared as strings,
	// str's or the one appendStr appends to b (without making a string a flow).
	num       func(f *correlate.Flow) int64
	str       func(c *common, f *correlate.Flow) string
	appendStr func(b []byte, c *common, f *correlate.Flow) []byte
	// widest returns what measures the widest text of the flows, for the number and endpoint columns
	// (nil: measured from each flow's text).
	widest func() widthMeter
	byName bool // its texts name addresses when names are shown
	// side is the endpoint an endpoint column shows, sorted by its address (sortEndpoints) when
	// names are not shown.
	side func(f *correlate.Flow) *correlate.Endpoint
}

// endpoint formats an endpoint, made safe for the terminal, by its name when names are shown.
func endpoint(c *common, e correlate.Endpoint) string { return c.short(e.String()) }

// natTarget returns where the flow's destination was rewritten to, or "": by the mappings of its
// client's packets (their tuple before is the flow's own, client to server) when it has any. A reply's
// reverse mapping is no rewrite of the destination: a masqueraded flow's answers are DNATed back to the
// client (snat-external's -i any files: its mappings are listed by place, the answers' first), which
// read as the flow's destination rewritten to the client itself.
func natTarget(c *common, f *correlate.Flow) string {
	client := false
	for _, n := range f.NAT {
		client = client || f.ClientMapping(n)
	}
	for _, n := range f.NAT {
		if client && !f.ClientMapping(n) {
			continue
		}
		if n.Kind == "dnat" || n.Kind == "nat" {
			if _, to, ok := strings.Cut(n.To, "→"); ok {
				return c.short(strings.TrimSpace(to))
			}
			return c.short(n.To)
		}
	}
	return ""
}

// clientCell is the flow list's client cell: the flow's source, marked "?" when it is a UDP flow
// or TCP flow without NAT whose opening no capture could have shown (correlate.Result.OpenerNotShown: its client
// and server may be the other way round; the status line and the timeline say so). A NAT flow whose
// opener is not known is marked in its post-NAT cell (natCell).
func clientCell(c *common, f *correlate.Flow) string {
	if openerNotShown(c, f) != "" {
		return "? " + endpoint(c, f.Src)
	}
	return endpoint(c, f.Src)
}

// openerNotShown is c.res.OpenerNotShown for flow f when f is a UDP or TCP flow without NAT (no other flow
// is asked); "" otherwise.
func openerNotShown(c *common, f *correlate.Flow) string {
	if (f.Proto != "udp" && f.Proto != "tcp") || len(f.NAT) != 0 {
		return ""
	}
	if f.OpenerUnknown != "" { // correlate says it of a flow without NAT too (the same text)
		return f.OpenerUnknown
	}
	return c.res.OpenerNotShown(f.ID)
}

// natCell is the flow list's post-NAT cell: natTarget, marked "?" when which side opened the flow is
// not known (correlate.Flow.OpenerUnknown: its client and server may be the other way round, and its
// NAT a SNAT or a DNAT; the status line and the timeline say so).
func natCell(c *common, f *correlate.Flow) string {
	if f.OpenerUnknown != "" && len(f.NAT) != 0 {
		return "? " + natTarget(c, f)
	}
	return natTarget(c, f)
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
	if len(best.Uncaptured) > 0 { // lost past From, maybe past an underlay not captured (LostAt.Uncaptured)
		s = clean(shortPoint(best.From, "")) + "→?"
	}
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
	{name: "flow", key: "f", width: 4, text: func(c *common, f *correlate.Flow) string { return clean(f.ID) },
		num: func(f *correlate.Flow) int64 { return int64(flowNum(f.ID)) }},
	{name: "proto", key: "p", width: 5, text: func(c *common, f *correlate.Flow) string { return clean(f.Proto) },
		str: func(c *common, f *correlate.Flow) string { return f.Proto }},
	{name: "client", key: "c", width: 17, text: clientCell,
		appendStr: func(b []byte, c *common, f *correlate.Flow) []byte { return appendEndpoint(b, c, &f.Src) },
		widest:    widestClient, byName: true, side: srcOf},
	{name: "server", key: "e", width: 17, text: func(c *common, f *correlate.Flow) string { return endpoint(c, f.Dst) },
		appendStr: func(b []byte, c *common, f *correlate.Flow) []byte { return appendEndpoint(b, c, &f.Dst) },
		widest:    widestEndpoint(dstOf), byName: true, side: dstOf},
	{name: "post-NAT", key: "n", width: 8, text: natCell, str: natTarget, byName: true},
	{name: "pkts", key: "k", width: 6, right: true, text: func(c *common, f *correlate.Flow) string { return fmtCount(f.Packets) },
		num: func(f *correlate.Flow) int64 { return int64(f.Packets) }, widest: widestCount(func(f *correlate.Flow) int { return f.Packets })},
	{name: "deliv", key: "d", width: 6, right: true, text: func(c *common, f *correlate.Flow) string { return fmtCount(f.Delivered) },
		num: func(f *correlate.Flow) int64 { return int64(f.Delivered) }, widest: widestCount(func(f *correlate.Flow) int { return f.Delivered })},
	{name: "lost", key: "l", width: 5, right: true, text: func(c *common, f *correlate.Flow) string { return fmtCount(f.Lost) },
		num: func(f *correlate.Flow) int64 { return int64(f.Lost) }, widest: widestCount(func(f *correlate.Flow) int { return f.Lost })},
	{name: "lost at", key: "a", width: 10, text: func(_ *common, f *correlate.Flow) string { return lostWhere(f) },
		str: func(_ *common, f *correlate.Flow) string { return lostWhere(f) }},
	{name: "p50", key: "5", width: 7, right: true, text: func(c *common, f *correlate.Flow) string { return f.Mark(fmtDur(f.LatencyNs.P50)) },
		num: func(f *correlate.Flow) int64 { return f.LatencyNs.P50 }, widest: widestFlowLat(func(f *correlate.Flow) int64 { return f.LatencyNs.P50 })},
	{name: "retx", key: "x", width: 4, right: true, text: func(c *common, f *correlate.Flow) string { return fmtCount(f.Retransmissions) },
		num:    func(f *correlate.Flow) int64 { return int64(f.Retransmissions) },
		widest: widestCount(func(f *correlate.Flow) int { return f.Retransmissions })},
}

// srcOf and dstOf are a flow's client and server.
func srcOf(f *correlate.Flow) *correlate.Endpoint { return &f.Src }
func dstOf(f *correlate.Flow) *correlate.Endpoint { return &f.Dst }

// maxFlowNum bounds flowNum's digits: 2^40, or less where an int is 32 bits (no overflow there).
const maxFlowNum = min(1<<40, math.MaxInt/10-1)

// flowNum orders flow IDs "f2" before "f10".
func flowNum(id string) int {
	n := 0
	for _, r := range strings.TrimPrefix(id, "f") {
		if r < '0' || r > '9' || n > maxFlowNum {
			return -1
		}
		n = n*10 + int(r-'0')
	}
	return n
}

// sortWorst is the flow list's first order: worst first, as the report lists flows (most lost, then
// resets, retransmissions, packets not captured, packets; then by ID).
const sortWorst = -1

// flowList is the flow table: filtered, sorted, virtualised (only visible rows are drawn). Its sort
// column is sortWorst or an index into flowColumns.
type flowList struct {
	list
	menu bool        // the sort menu is open
	ord  *flowOrders // the orders, filter verdicts and widths computed so far (shared by copies)
	// built is set once the rows are laid out for the Result (reset); until then the list is empty.
	built bool
	// On many flows an order not sorted yet is sorted off the UI loop: wantCol and wantDesc are the
	// order a key asked for (wanting) while the list keeps showing sortCol and desc, until it lands
	// (landed). waiting: the list has no rows yet, its first order (and the widths) being computed.
	wantCol          int
	wantDesc         bool
	wanting, waiting bool
}

// newFlowList returns the flow list as it opens: worst first, its rows laid out when first needed
// (build).
func newFlowList() flowList { return flowList{list: list{sortCol: sortWorst}, ord: &flowOrders{}} }

// build lays the rows out unless they are: the list's order is sorted then if it was not yet, on
// many flows off the UI loop (the returned Cmd), the list waiting for it meanwhile.
func (l *flowList) build(c *common) tea.Cmd {
	if l.built {
		return nil
	}
	l.built = true
	l.waiting = len(c.res.Flows) > syncSortFlows
	return l.want(c, l.sortCol, l.desc)
}

// worstFlow returns the index of the first flow worst first (the flow list's first row with no
// filter), without sorting the flows.
func worstFlow(flows []correlate.Flow) int {
	best := 0
	var bk worstKey
	for i := range flows {
		f := &flows[i]
		k := worstKey{f.Lost, f.Resets, f.Retransmissions, f.NotCaptured, f.Packets, flowNum(f.ID), int32(i)}
		if i == 0 || worstCompare(k, bk) < 0 {
			best, bk = i, k
		}
	}
	return best
}

// sortName names the sort order shown.
func (l *flowList) sortName() string { return orderName(l.sortCol, l.desc) }

// orderName names order col (sortWorst or a column), descending or not.
func orderName(col int, desc bool) string {
	if col == sortWorst {
		if desc {
			return "best first"
		}
		return "worst first"
	}
	dir := "ascending"
	if desc {
		dir = "descending"
	}
	return flowColumns[clamp(col, 0, len(flowColumns)-1)].name + " " + dir
}

// reset refilters and resorts the flows (after a new Result, filter or sort order), keeping the
// cursor on the flow it was on. The order is sorted the first time it is used (flowOrders).
func (l *flowList) reset(c *common) {
	l.built = true
	perm, ties := l.ord.order(c, clamp(l.sortCol, sortWorst, len(flowColumns)-1))
	was, had := l.selected()
	if cap(l.idx) < len(perm) {
		l.idx = make([]int, 0, len(perm))
	}
	l.idx = l.idx[:0]
	walk(perm, ties, l.ord.keep, l.desc, func(i int) { l.idx = append(l.idx, i) })
	l.follow(was, had)
}

// sortBy sorts by column col (sortWorst: worst first); picking the sort column again reverses it.
// A number column sorts largest first when picked. The column is the last one asked for, sorted or
// not yet (target).
func (l *flowList) sortBy(c *common, col int) tea.Cmd {
	cur, desc := l.target()
	if col == cur {
		desc = !desc
	} else {
		desc = col != sortWorst && flowColumns[col].right
	}
	return l.want(c, col, desc)
}

// menuKeys is the sort menu's line: each order's key and name.
func menuKeys() string {
	parts := []string{"w worst"}
	for _, col := range flowColumns {
		parts = append(parts, col.key+" "+col.name)
	}
	return "sort by: " + strings.Join(parts, " · ") + " · esc cancel"
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
	if l.menu {
		return []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))}
	}
	return []key.Binding{km.Enter, km.SortMenu, km.Reverse}
}

// takesAll reports whether the flow list wants every key (the sort menu is open).
func (l *flowList) takesAll() bool { return l.menu }

// update handles a key on the flow list; enter asks the root to open the flow's timeline. A sort key
// returns the Cmd that sorts its order off the UI loop when it is not sorted yet (want).
func (l *flowList) update(c *common, msg tea.KeyMsg, h int) (tea.Msg, tea.Cmd) {
	km := c.km
	var cmd tea.Cmd
	if l.menu {
		l.menu = false
		k := msg.String()
		if k == "w" {
			cmd = l.sortBy(c, sortWorst)
		}
		for i, col := range flowColumns {
			if k == col.key {
				cmd = l.sortBy(c, i)
			}
		}
		l.scroll(h - 2)
		return nil, cmd
	}
	n := len(flowColumns) + 1 // the orders: worst, then each column
	cur, desc := l.target()
	switch {
	case key.Matches(msg, km.Enter):
		if id, ok := l.selectedID(c); ok {
			return openFlowMsg{flowID: id}, nil
		}
		return nil, nil
	case key.Matches(msg, km.SortMenu):
		l.menu = true
		return nil, nil
	case key.Matches(msg, km.SortNext), key.Matches(msg, km.Right):
		cmd = l.sortBy(c, (cur+1+1)%n-1)
	case key.Matches(msg, km.SortPrev), key.Matches(msg, km.Left):
		cmd = l.sortBy(c, (cur+1+n-1)%n-1)
	case key.Matches(msg, km.Reverse):
		cmd = l.want(c, cur, !desc)
	default:
		l.key(msg, km, h-2)
		return nil, nil
	}
	l.scroll(h - 2)
	return nil, cmd
}

// dropOrder is the order in which columns give way on a narrow terminal.
var dropOrder = []int{8, 4, 6, 1, 9, 10}

// visibleColumns picks the columns that fit in w cells and their widths, given each column's width
// need: columns are dropped (dropOrder) rather than numbers cut; the text columns share what is left,
// up to 40 cells each. Only when even the essential columns do not fit are the endpoints cut.
func visibleColumns(w int, need []int) (cols []int, ws []int) {
	hidden := map[int]bool{}
	total := func() int {
		t := 1
		for i := range flowColumns {
			if !hidden[i] {
				t += need[i] + 1
			}
		}
		return t
	}
	for _, d := range dropOrder {
		if total() <= w {
			break
		}
		hidden[d] = true
	}
	extra := w - total()
	for i := range flowColumns {
		if hidden[i] {
			continue
		}
		cols = append(cols, i)
		ws = append(ws, need[i])
	}
	grow := []int{}
	for k, i := range cols {
		if i == 2 || i == 3 || i == 4 || i == 8 {
			grow = append(grow, k)
		}
	}
	for extra < 0 && len(grow) > 0 { // the last resort: cut the text columns, down to their minimum
		cut := false
		for _, k := range grow {
			if extra < 0 && ws[k] > flowColumns[cols[k]].width {
				ws[k]--
				extra++
				cut = true
			}
		}
		if !cut {
			break
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
	cols, ws := visibleColumns(w, l.widths(c))
	var b strings.Builder
	var hdr strings.Builder
	hdr.WriteString(" ")
	for k, i := range cols {
		col := flowColumns[i]
		name := col.name
		if i == l.sortCol || (l.sortCol == sortWorst && i == 7) { // worst first is most lost first
			if l.desc != (l.sortCol == sortWorst) {
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
	var menu string
	if l.menu { // the menu takes the status line and the rows it wraps to above it
		menu = lipgloss.NewStyle().Width(max(1, w-1)).Render(menuKeys())
		rows = max(1, rows-(lipgloss.Height(menu)-1))
	}
	off, end := l.rows(rows)
	for r := off; r < end; r++ {
		f := &c.res.Flows[l.idx[r]]
		var line strings.Builder
		line.WriteString(cursorMark(r == l.cursor))
		for k, i := range cols {
			col := flowColumns[i]
			if col.right {
				line.WriteString(fitRight(col.text(c, f), ws[k]))
			} else {
				line.WriteString(fit(col.text(c, f), ws[k]))
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
	switch {
	case l.waiting:
		b.WriteString(st.dim.Render(fmt.Sprintf("  sorting %s flows %s…", fmtCount(len(c.res.Flows)),
			orderName(l.wantCol, l.wantDesc))) + "\n")
	case len(l.idx) == 0:
		b.WriteString(st.dim.Render("  no flows match") + "\n")
	}
	pad := end - off
	if l.waiting { // its line takes a row
		pad++
	}
	for i := pad; i < rows; i++ {
		b.WriteString("\n")
	}
	if l.menu {
		for i, line := range strings.Split(menu, "\n") {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString(st.warn.Render(" " + line))
		}
		return b.String()
	}
	b.WriteString(l.status(c, w))
	return b.String()
}

// status is the styled status line, with the warning that the counts are unreliable when they are.
func (l *flowList) status(c *common, w int) string {
	if tag := unreliableTag(c); tag != "" {
		return withTag(c, l.statusLine()+l.clockNote(c)+l.openerNote(c)+l.connNote(c), tag, w)
	}
	return c.st.status.Render(l.statusLine() + l.clockNote(c) + l.openerNote(c) + l.connNote(c))
}

// openerNote says, in the status line, that which side opened the selected flow is not known
// (correlate.Flow.OpenerUnknown, or for a UDP flow without NAT openerNotShown); "" otherwise.
func (l *flowList) openerNote(c *common) string {
	i, ok := l.selected()
	if !ok || l.waiting {
		return ""
	}
	if f := &c.res.Flows[i]; f.OpenerUnknown == "" || len(f.NAT) == 0 || correlate.OpenedBothWays(f) {
		if openerNotShown(c, f) != "" && !correlate.OpenedBothWays(f) { // (connNote says that)
			return " · opener not known: the captures began in its middle; client and server may be the other way round (see its timeline)"
		}
		return ""
	}
	return " · opener not known: the captures began in its middle; client and server may be the other way round, its NAT a SNAT or a DNAT (see its timeline)"
}

// connNote says, in the status line, how many TCP connections the selected flow's 5-tuple carried,
// when more than one (correlate.Flow.Connections), and whether both ends opened some (its client cell's
// "?"); "" otherwise.
func (l *flowList) connNote(c *common) string {
	i, ok := l.selected()
	if !ok || l.waiting || len(c.res.Flows[i].Connections) < 2 {
		return ""
	}
	if f := &c.res.Flows[i]; correlate.OpenedBothWays(f) {
		return fmt.Sprintf(" · %d TCP connections on this 5-tuple, opened by both ends: a port reused, no one client (see its timeline)",
			len(f.Connections))
	}
	return fmt.Sprintf(" · %d TCP connections on this 5-tuple: a port reused (see its timeline)", len(c.res.Flows[i].Connections))
}

// clockNote says, in the status line, what the selected flow's marked latency is (≥, ≤, ?: a clock at
// an end of its packets' paths bounded on one side only; ~: loose clocks leave it uncertain); "" for a
// measurement.
func (l *flowList) clockNote(c *common) string {
	i, ok := l.selected()
	if !ok || l.waiting {
		return ""
	}
	switch c.res.Flows[i].ClockBound {
	case correlate.BoundLower:
		return " · p50 ≥: a lower bound (a clock bounded on one side only; see the overview)"
	case correlate.BoundUpper:
		return " · p50 ≤: an upper bound (a clock bounded on one side only; see the overview)"
	case correlate.BoundNone:
		if d := dirLatencies(c.res.Flows[i].Dirs); d != "" {
			return " · p50 ?: lower bounds one way, upper the other; by direction " + d
		}
		return " · p50 ?: not known (clocks bounded on one side only; the report says why)"
	}
	if u := c.res.Flows[i].ClockUncertainNs; u > 0 {
		return " · p50 ~: uncertain by ±" + fmtDur(u) + " (loose clocks; the report says which and the fix)"
	}
	return ""
}

// dirLatencies is a flow's p50 by direction, each marked with what it is (correlate.Flow.Dirs): "→
// ≥16µs ← ≤8.44µs" (→ client to server); "" for none.
func dirLatencies(dirs []correlate.DirLatency) string {
	var b strings.Builder
	for i := range dirs {
		d := &dirs[i]
		arrow := "→ "
		if d.Dir == "s2c" {
			arrow = "← "
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(arrow + d.Mark(fmtDur(d.LatencyNs.P50)))
	}
	return b.String()
}
