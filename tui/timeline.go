package tui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/internal/units"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// rowKind tells what a timeline row shows.
type rowKind uint8

const (
	rowJourney rowKind = iota
	rowARP
	rowICMP
)

// tlRow is one timeline row: a journey, an ARP exchange or an ICMP error, in corrected time.
type tlRow struct {
	kind  rowKind
	ts    int64
	j     int // index into timeline.all (journeys)
	point string
	arp   *correlate.ARPExch
	icmp  *correlate.ICMPError
}

// timeline is the ladder of one flow: a column per capture point in path order, a row per packet.
type timeline struct {
	flowID string
	flow   *correlate.Flow
	all    []correlate.Journey
	items  []tlRow  // every row of the flow, in time order; list shows those the filter keeps
	cols   []string // point IDs
	list
	loading bool                 // the journeys are being rendered off the UI loop
	seekTo  []correlate.Evidence // where to put the cursor once they arrive
	// orderNotes say, under the header, which nodes of the flow's path have times off by up to some
	// amount beyond their clocks' bounds (correlate.OrderNotes): the rows' order across them is uncertain;
	// and which two adjacent points of it nothing ordered (correlate.PathOrderNotes): their columns' order.
	orderNotes []string
}

// journeysMsg carries a flow's journeys, rendered by the Cmd that open returns.
type journeysMsg struct {
	flowID string
	all    []correlate.Journey
}

// open starts showing a flow. Its journeys are rendered (by the Result, on demand) in the returned
// Cmd, off the UI loop, and laid out by finish when they arrive; seek, if not empty, is the evidence
// to put the cursor on then.
func (t *timeline) open(c *common, flowID string, seek []correlate.Evidence) tea.Cmd {
	*t = timeline{flowID: flowID, seekTo: seek}
	t.flow = findFlow(c.res, flowID)
	if t.flow == nil {
		return nil
	}
	t.orderNotes = append(correlate.OrderNotes(c.res.Clocks, t.flow.Path), correlate.PathOrderNotes(t.flow)...)
	if t.flow.OpenerUnknown != "" {
		t.orderNotes = append(t.orderNotes, "Opener not known: "+t.flow.OpenerUnknown+".")
	} else if n := openerNotShown(c, t.flow); n != "" {
		t.orderNotes = append(t.orderNotes, "Opener not known: "+n+".")
	}
	if n := correlate.ConnectionsNote(t.flow, t.flow.Src.String(), t.flow.Dst.String()); n != "" {
		t.orderNotes = append(t.orderNotes, "Port reused: "+n+".")
	}
	t.loading = true
	res := c.res
	return func() tea.Msg { return journeysMsg{flowID: flowID, all: flowJourneys(res, flowID)} }
}

// findFlow returns the flow of res with the ID, or nil. Correlate numbers its flows f1, f2, … in
// order: the flow at the ID's number is tried first, so that a flow of many opens at once.
func findFlow(res *correlate.Result, id string) *correlate.Flow {
	if n := flowNum(id); n >= 1 && n <= len(res.Flows) && res.Flows[n-1].ID == id {
		return &res.Flows[n-1]
	}
	for i := range res.Flows {
		if res.Flows[i].ID == id {
			return &res.Flows[i]
		}
	}
	return nil
}

// finish lays out the journeys of the flow being opened (a stale message for another flow is ignored).
func (t *timeline) finish(c *common, msg journeysMsg) {
	if !t.loading || msg.flowID != t.flowID {
		return
	}
	t.loading = false
	t.all = msg.all
	t.cols = append([]string(nil), t.flow.Path...)
	have := map[string]bool{}
	for _, p := range t.cols {
		have[p] = true
	}
	for _, j := range t.all {
		for _, h := range j.Hops {
			if !have[h.Point] {
				have[h.Point] = true
				t.cols = append(t.cols, h.Point)
			}
		}
	}
	t.build(c)
	t.refilter(c)
	if len(t.seekTo) > 0 {
		t.seekEvidence(t.seekTo)
		t.seekTo = nil
	}
}

// flowJourneys returns a flow's journeys: from Result.Journeys when correlation kept them, else
// rendered on demand.
func flowJourneys(res *correlate.Result, flowID string) []correlate.Journey {
	if js := res.FlowJourneys(flowID); js != nil {
		return js
	}
	var out []correlate.Journey
	for _, j := range res.Journeys {
		if j.Flow == flowID {
			out = append(out, j)
		}
	}
	return out
}

// build makes the flow's rows: every journey, the ARP exchanges at its points from a second before
// its first packet to its last, and the ICMP errors quoting it, in time order.
func (t *timeline) build(c *common) {
	t.items = t.items[:0]
	var first, last int64
	for i := range t.all {
		j := &t.all[i]
		if len(j.Hops) == 0 {
			continue
		}
		ts := j.Hops[0].Ts
		if first == 0 || ts < first {
			first = ts
		}
		if l := j.Hops[len(j.Hops)-1].Ts; l > last {
			last = l
		}
		t.items = append(t.items, tlRow{kind: rowJourney, ts: ts, j: i, point: j.Hops[0].Point})
	}
	inCols := map[string]bool{}
	for _, p := range t.cols {
		inCols[p] = true
	}
	for ai := range c.res.ARP {
		ap := &c.res.ARP[ai]
		if !inCols[ap.Point] {
			continue
		}
		for ei := range ap.Exchanges {
			e := &ap.Exchanges[ei]
			if e.Ts >= first-1e9 && e.Ts <= last {
				t.items = append(t.items, tlRow{kind: rowARP, ts: e.Ts, point: ap.Point, arp: e})
			}
		}
	}
	for ii := range c.res.ICMP {
		e := &c.res.ICMP[ii]
		if e.Flow == t.flowID {
			t.items = append(t.items, tlRow{kind: rowICMP, ts: e.Ts, point: e.Point, icmp: e})
		}
	}
	sort.SliceStable(t.items, func(a, b int) bool { return t.items[a].ts < t.items[b].ts })
}

// refilter shows the rows the current filter keeps (it filters journeys; ARP and ICMP rows stay),
// keeping the selected row if it remains.
func (t *timeline) refilter(c *common) {
	if t.flow == nil {
		return
	}
	var keep func(int) bool
	if c.filter != nil {
		keep = func(i int) bool {
			r := t.items[i]
			return r.kind != rowJourney || c.filter.MatchJourney(c.res, &t.all[r.j])
		}
	}
	t.rebuild(len(t.items), keep, nil)
}

// row returns the r-th row shown.
func (t *timeline) row(r int) tlRow { return t.items[t.idx[r]] }

func (t *timeline) selectedJourney() (*correlate.Journey, bool) {
	if i, ok := t.selected(); ok && t.items[i].kind == rowJourney {
		return &t.all[t.items[i].j], true
	}
	return nil, false
}

// seekEvidence moves the cursor to the first row holding one of the evidence frames.
func (t *timeline) seekEvidence(ev []correlate.Evidence) {
	want := map[correlate.Evidence]bool{}
	for _, e := range ev {
		want[e] = true
	}
	t.seek(func(i int) bool {
		r := t.items[i]
		switch r.kind {
		case rowJourney:
			for _, h := range t.all[r.j].Hops {
				if want[correlate.Evidence{File: h.File, Frame: h.Frame}] {
					return true
				}
			}
		case rowARP:
			return want[r.arp.Evidence]
		case rowICMP:
			return want[r.icmp.Evidence]
		}
		return false
	})
}

func (t *timeline) isRetx(r tlRow) bool {
	return r.kind == rowJourney && t.all[r.j].Retrans
}

// noneLeft says why a jump found nothing: the flow shows no such row at all, or none beyond the cursor.
func (t *timeline) noneLeft(match func(item int) bool, what, where string) string {
	for _, i := range t.idx {
		if match(i) {
			return fmt.Sprintf("no %s %s this row", what, where)
		}
	}
	return fmt.Sprintf("no %s in this flow", what)
}

// shortHelp is the footer's keys for the timeline.
func (t *timeline) shortHelp(km KeyMap) []key.Binding {
	return []key.Binding{km.Enter, km.NextLoss, km.NextRetx, km.Back}
}

// update handles a key on the timeline: enter asks the root to open the packet, esc to go back.
func (t *timeline) update(c *common, msg tea.KeyMsg, w, h int) tea.Msg {
	km := c.km
	lost := func(i int) bool { r := t.items[i]; return r.kind == rowJourney && t.all[r.j].Status == "lost" }
	switch {
	case key.Matches(msg, km.Enter):
		if j, ok := t.selectedJourney(); ok {
			return openJourneyMsg{j: j}
		}
		return nil
	case key.Matches(msg, km.Back):
		return showMsg(screenFlows)
	case key.Matches(msg, km.NextLoss):
		if !t.next(1, lost) {
			return statusMsg(t.noneLeft(lost, "lost packet", "below"))
		}
	case key.Matches(msg, km.PrevLoss):
		if !t.next(-1, lost) {
			return statusMsg(t.noneLeft(lost, "lost packet", "above"))
		}
	case key.Matches(msg, km.NextRetx):
		retx := func(i int) bool { return t.isRetx(t.items[i]) }
		icmp := func(i int) bool { return t.items[i].kind == rowICMP }
		if !t.next(1, retx) && !t.next(1, icmp) {
			return statusMsg(t.noneLeft(func(i int) bool { return retx(i) || icmp(i) },
				"retransmission or ICMP error", "below"))
		}
	default:
		t.key(msg, km, t.listHeight(w, h))
		return nil
	}
	t.scroll(t.listHeight(w, h))
	return nil
}

func (t *timeline) listHeight(w, h int) int { return max(1, h-4-len(t.noteLines(w, h))) }

// noteLines are the lines of orderNotes under the head of a timeline w cells wide and h lines high:
// each note "! "-led and wrapped at spaces (its next lines indented two cells), so that what it says
// (which node, by how much, why) is not cut at 80 columns; all of them but on a terminal too short to
// keep a row of packets besides.
func (t *timeline) noteLines(w, h int) []string {
	var lines []string
	for _, o := range t.orderNotes {
		for i, l := range strings.Split(ansi.Wrap(clean(o), max(1, w-2), " "), "\n") {
			lead := "! "
			if i > 0 {
				lead = "  "
			}
			lines = append(lines, lead+strings.TrimRight(l, " "))
		}
	}
	return lines[:min(len(lines), max(0, h-5))]
}

// The timeline's line: the cursor, the time since the first row, the direction and status, the
// packet's TCP flags and size as sent (dropped first when the width runs short), then a column per
// capture point, each at least tlCellW cells so that a hop's delta is never cut.
const (
	tlTimeW  = 10
	tlPrefix = 1 + tlTimeW + 1 + 4 // cursor, time, space, direction and status
	tlPktW   = 3 + 1 + 5 + 1       // flags, space, IP length, space
	tlCellW  = 9                   // "●+12.3µs" and a space
)

// tlLayout is how the timeline uses the width: whether the flags and size show, and the point
// columns' width.
type tlLayout struct {
	pkt bool
	cw  int
}

func (t *timeline) layout(w int) tlLayout {
	n := max(1, len(t.cols))
	lo := tlLayout{pkt: true, cw: (w - tlPrefix - tlPktW) / n}
	if lo.cw < tlCellW {
		lo = tlLayout{cw: (w - tlPrefix) / n}
	}
	lo.cw = max(2, lo.cw)
	return lo
}

// fmtRel formats the time since the timeline's first row in tlTimeW cells.
func fmtRel(ns int64) string {
	s := "+" + fmtDur(ns)
	if len([]rune(s)) > tlTimeW {
		s = fmt.Sprintf("+%.0fs", float64(ns)/1e9)
	}
	return s
}

// pktCell is a journey's TCP flags and IP length as sent (its first hop).
func pktCell(j *correlate.Journey) string {
	if len(j.Hops) == 0 {
		return strings.Repeat(" ", tlPktW)
	}
	h := j.Hops[0]
	size := ""
	if h.Len > 0 {
		size = fmt.Sprint(h.Len)
	}
	return fit(clean(h.TCPFlags), 3) + " " + fitRight(size, 5) + " "
}

func (t *timeline) colIndex(point string) int {
	for i, p := range t.cols {
		if p == point {
			return i
		}
	}
	return -1
}

func (t *timeline) view(c *common, w, h int) string {
	st := c.st
	if t.flow == nil {
		return st.dim.Render("No flow selected: pick one on the Flows screen (2) and press enter.")
	}
	var b strings.Builder
	f := t.flow
	head := fmt.Sprintf("flow %s %s %s → %s", clean(f.ID), clean(f.Proto), endpoint(c, f.Src), endpoint(c, f.Dst))
	if nt := natTarget(c, f); nt != "" {
		head += " (→ " + nt + ")"
	}
	if d := dirLatencies(f.Dirs); d != "" { // its p50 over both directions is not known (flowList.clockNote)
		head += " · p50 " + d
	}
	b.WriteString(st.header.Render(fit(head, w)) + "\n")
	for _, l := range t.noteLines(w, h) {
		b.WriteString(st.warn.Render(fit(l, w)) + "\n")
	}
	if t.loading {
		b.WriteString(st.dim.Render(fit(fmt.Sprintf("rendering the %d packets of this flow…", f.Packets), w)))
		return b.String()
	}
	lo := t.layout(w)
	b.WriteString(t.columnHeads(c, lo))
	lh := t.listHeight(w, h)
	off, end := t.rows(lh)
	var t0 int64
	t0At := ""
	if t.len() > 0 {
		t0, t0At = t.row(0).ts, t.row(0).point
	}
	for i := off; i < end; i++ {
		b.WriteString(t.rowLine(c, i, t0, t0At, lo, w) + "\n")
	}
	if t.len() == 0 {
		b.WriteString(st.dim.Render("  no packets match") + "\n")
	}
	for i := end - off; i < lh; i++ {
		b.WriteString("\n")
	}
	if tag := unreliableTag(c); tag != "" {
		b.WriteString(withTag(c, t.statusLine(), tag, w))
	} else {
		b.WriteString(st.status.Render(fit(t.statusLine(), w)))
	}
	return b.String()
}

// columnHeads returns the two header lines of the point columns: node, then interface.
func (t *timeline) columnHeads(c *common, lo tlLayout) string {
	cw := lo.cw
	var h1, h2 strings.Builder
	h1.WriteString(strings.Repeat(" ", tlPrefix))
	h2.WriteString(fit(" time", tlTimeW+2) + "dir ")
	if lo.pkt {
		h1.WriteString(strings.Repeat(" ", tlPktW))
		h2.WriteString(fit("tcp", 3) + " " + fitRight("len", 5) + " ")
	}
	for _, p := range t.cols {
		node, iface, _ := strings.Cut(p, "/")
		h1.WriteString(fit(fit(clean(node), cw-1), cw))
		h2.WriteString(fit(fit(clean(iface), cw-1), cw))
	}
	return c.st.dim.Render(h1.String()) + "\n" + c.st.header.Render(h2.String()) + "\n"
}

// rowLine renders row i (a packet, an ARP exchange or an ICMP error), its time from t0 (of a sighting
// at point t0At), styled by what happened to it. The time is marked as a bound (≥, ≤), or "?", when
// a clock of the two points' nodes is bounded on one side only (correlate.Result.ClockBound).
func (t *timeline) rowLine(c *common, i int, t0 int64, t0At string, lo tlLayout, w int) string {
	st := c.st
	cw := lo.cw
	cells := cw * max(1, len(t.cols)) // the width of the point columns
	r := t.row(i)
	rel := fmtRel(r.ts - t0)
	if c.res != nil {
		b := c.res.ClockBound(t0At, r.point)
		if rel = correlate.MarkBound(b, rel); len([]rune(rel)) > tlTimeW {
			rel = correlate.MarkBound(b, fmt.Sprintf("+%.0fs", float64(r.ts-t0)/1e9))
		}
	}
	line := cursorMark(i == t.cursor) + fitRight(rel, tlTimeW) + " "
	var style = st.r.NewStyle()
	pad := ""
	if lo.pkt {
		pad = strings.Repeat(" ", tlPktW)
	}
	switch r.kind {
	case rowJourney:
		j := &t.all[r.j]
		line += t.journeyCells(j, r, lo)
		switch {
		case j.Status == "lost":
			style = st.bad
		case j.Status != "delivered":
			style = st.warn
		}
	case rowARP:
		line += "ARP " + pad + t.eventCell(r.point, fmt.Sprintf("who-has %s tell %s: %s", c.short(r.arp.Who),
			c.short(r.arp.Tell), clean(r.arp.Verdict)), cw, cells)
		style = st.dim
		if r.arp.Verdict == "unanswered" || r.arp.Verdict == "unexpected-mac" {
			style = st.warn
		}
	case rowICMP:
		desc := fmt.Sprintf("ICMP %d/%d %s→%s", r.icmp.Type, r.icmp.Code, c.short(r.icmp.Src), c.short(r.icmp.Dst))
		if r.icmp.MTU > 0 {
			desc += fmt.Sprintf(" mtu %d", r.icmp.MTU)
		}
		line += "ICMP" + pad + t.eventCell(r.point, desc, cw, cells)
		style = st.bad
	}
	line = fit(line, w)
	if i == t.cursor {
		style = st.selected
	}
	return style.Render(line)
}

// statusLine is the bottom line: the row, the selected packet's flags and size, the flow's counts.
func (t *timeline) statusLine() string {
	f := t.flow
	sel := ""
	if j, ok := t.selectedJourney(); ok && len(j.Hops) > 0 { // the selected packet as sent
		if fl := clean(j.Hops[0].TCPFlags); fl != "" {
			sel = " · flags [" + fl + "]"
		}
		if j.Hops[0].Len > 0 {
			sel += fmt.Sprintf(" · %d bytes", j.Hops[0].Len)
		}
	}
	why := ""
	if j, ok := t.selectedJourney(); ok && j.Uncertain != "" { // why it is neither delivered nor lost (in full on the packet screen)
		why = " · " + clean(j.Uncertain)
	} else if ok && j.Status == "lost" && len(j.LostUncaptured) > 0 { // where it may have been lost
		why = " · " + clean(correlate.LostSpanNote(j.LastSeen, j.NextExpected, j.LostUncaptured))
	}
	return fmt.Sprintf(" row %d/%d%s · %s packets · %s lost · %d retx%s", min(t.cursor+1, t.len()), t.len(), sel,
		fmtCount(f.Packets), fmtCount(f.Lost), f.Retransmissions, why)
}

// eventCell writes an ARP or ICMP description starting at its point's column, or further left so that
// it ends within the cells columns' width.
func (t *timeline) eventCell(point, desc string, cw, cells int) string {
	i := t.colIndex(point)
	if i < 0 {
		return clean(point) + " " + desc
	}
	start := i * cw
	if n := 2 + ansi.StringWidth(desc); start+n > cells {
		start = max(0, cells-n)
	}
	return strings.Repeat(" ", start) + "◆ " + desc
}

// unarrivedCell is the cell a lost, uncertain or not captured journey shows at the point it was
// expected next: "✕ lost" ("✕ lost?" when it may have been lost past a point not captured instead:
// Journey.LostUncaptured, which the status line says), "? uncertain" (it may have gone on there:
// Journey.Uncertain, the status line says why) or "? not captured" (lost or not, the captures cannot tell).
func unarrivedCell(j *correlate.Journey) string {
	switch {
	case j.Status == "lost" && len(j.LostUncaptured) > 0:
		return "✕ lost?"
	case j.Status == "lost":
		return "✕ lost"
	case j.Status == "uncertain":
		return "? uncertain"
	}
	return "? not captured"
}

// journeyCells draws a journey across the point columns: each point it crossed with the delta from
// the hop before, the line it took between them, and where it vanished. A cell too narrow for its
// text shows its mark alone: a delta is left out, never cut.
func (t *timeline) journeyCells(j *correlate.Journey, r tlRow, lo tlLayout) string {
	cw := lo.cw
	dir := "→"
	if j.Dir == "s2c" {
		dir = "←"
	}
	mark := " "
	switch {
	case t.isRetx(r):
		mark = "R"
	case j.Status == "lost":
		mark = "✕"
	case j.Status != "delivered":
		mark = "?"
	}
	cells := make([]string, len(t.cols))
	lo2, hi := len(t.cols), -1
	for k, hp := range j.Hops {
		i := t.colIndex(hp.Point)
		if i < 0 {
			continue
		}
		dup := ""
		if hp.Dup > 0 {
			dup = fmt.Sprintf("×%d", hp.Dup+1)
		}
		txt := "●" + dup
		switch {
		case k > 0 && hp.ClockBound == correlate.BoundNone: // not known: a clock bounded on one side only
			txt = "●?" + dup
		case k > 0 && hp.ClockBound != "": // ≥12.3µs, ≤12.3µs: a bound
			txt = "●" + correlate.MarkBound(hp.ClockBound, units.Dur(hp.DeltaNs)) + dup
		case k > 0: // +12.3µs, or 12.3µs where the + does not fit (the ● that follows parts the cells)
			d := units.Dur(hp.DeltaNs)
			txt = "●+" + d + dup
			if hp.DeltaNs < 0 || ansi.StringWidth(txt) > cw {
				txt = "●" + d + dup
			}
		}
		cells[i] = txt
		lo2, hi = min(lo2, i), max(hi, i)
	}
	if (j.Status == "lost" || j.Status == "uncertain" || j.Status == "not-captured") && j.NextExpected != "" {
		if i := t.colIndex(j.NextExpected); i >= 0 {
			cells[i] = unarrivedCell(j)
			lo2, hi = min(lo2, i), max(hi, i)
		}
	}
	var b strings.Builder
	b.WriteString(dir + mark + "  ")
	if lo.pkt {
		b.WriteString(pktCell(j))
	}
	for i := range t.cols {
		cell := cells[i]
		fill := " "
		if i >= lo2 && i < hi {
			fill = "─"
		}
		if cell == "" && i > lo2 && i < hi {
			cell = "┄"
			if j.Status == "lost" || j.Status == "delivered" {
				cell = "─"
			}
		}
		if ansi.StringWidth(cell) > cw { // no room for the text: the mark alone
			cell = string([]rune(cell)[:1])
		}
		b.WriteString(cell + strings.Repeat(fill, max(0, cw-ansi.StringWidth(cell))))
	}
	return b.String()
}
