package tui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/calipath/calipath/correlate"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
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
	flowID  string
	flow    *correlate.Flow
	all     []correlate.Journey
	rows    []tlRow
	cols    []string // point IDs
	cursor  int
	offset  int
	loading bool                 // the journeys are being rendered off the UI loop
	seekTo  []correlate.Evidence // where to put the cursor once they arrive
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
	for i := range c.res.Flows {
		if c.res.Flows[i].ID == flowID {
			t.flow = &c.res.Flows[i]
		}
	}
	if t.flow == nil {
		return nil
	}
	t.loading = true
	res := c.res
	return func() tea.Msg { return journeysMsg{flowID: flowID, all: flowJourneys(res, flowID)} }
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
	t.refilter(c)
	if len(t.seekTo) > 0 {
		t.seek(t.seekTo)
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

// refilter rebuilds the rows under the current filter, keeping the selected journey if it remains.
func (t *timeline) refilter(c *common) {
	if t.flow == nil {
		return
	}
	keep := -1
	if t.cursor < len(t.rows) && t.rows[t.cursor].kind == rowJourney {
		keep = t.rows[t.cursor].j
	}
	t.rows = t.rows[:0]
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
		if c.filter != nil && !c.filter.MatchJourney(c.res, j) {
			continue
		}
		t.rows = append(t.rows, tlRow{kind: rowJourney, ts: ts, j: i})
	}
	inCols := map[string]bool{}
	for _, p := range t.cols {
		inCols[p] = true
	}
	// ARP exchanges at the flow's points up to its last packet; ICMP errors quoting the flow.
	for ai := range c.res.ARP {
		ap := &c.res.ARP[ai]
		if !inCols[ap.Point] {
			continue
		}
		for ei := range ap.Exchanges {
			e := &ap.Exchanges[ei]
			if e.Ts >= first-1e9 && e.Ts <= last {
				t.rows = append(t.rows, tlRow{kind: rowARP, ts: e.Ts, point: ap.Point, arp: e})
			}
		}
	}
	for ii := range c.res.ICMP {
		e := &c.res.ICMP[ii]
		if e.Flow == t.flowID {
			t.rows = append(t.rows, tlRow{kind: rowICMP, ts: e.Ts, point: e.Point, icmp: e})
		}
	}
	sort.SliceStable(t.rows, func(a, b int) bool { return t.rows[a].ts < t.rows[b].ts })
	t.cursor = 0
	for i, r := range t.rows {
		if r.kind == rowJourney && r.j == keep {
			t.cursor = i
		}
	}
}

func (t *timeline) selectedJourney() (*correlate.Journey, bool) {
	if t.cursor < len(t.rows) && t.rows[t.cursor].kind == rowJourney {
		return &t.all[t.rows[t.cursor].j], true
	}
	return nil, false
}

// seek moves the cursor to the first row holding one of the evidence frames.
func (t *timeline) seek(ev []correlate.Evidence) {
	want := map[correlate.Evidence]bool{}
	for _, e := range ev {
		want[e] = true
	}
	for i, r := range t.rows {
		switch r.kind {
		case rowJourney:
			for _, h := range t.all[r.j].Hops {
				if want[correlate.Evidence{File: h.File, Frame: h.Frame}] {
					t.cursor = i
					return
				}
			}
		case rowARP:
			if want[r.arp.Evidence] {
				t.cursor = i
				return
			}
		case rowICMP:
			if want[r.icmp.Evidence] {
				t.cursor = i
				return
			}
		}
	}
}

func (t *timeline) isRetx(c *common, r tlRow) bool {
	return r.kind == rowJourney && t.all[r.j].Retrans
}

// next moves to the next (d = 1) or previous (d = -1) row for which match holds.
func (t *timeline) next(d int, match func(tlRow) bool) bool {
	for i := t.cursor + d; i >= 0 && i < len(t.rows); i += d {
		if match(t.rows[i]) {
			t.cursor = i
			return true
		}
	}
	return false
}

func (t *timeline) key(c *common, msg tea.KeyMsg, h int) {
	km := c.km
	lost := func(r tlRow) bool { return r.kind == rowJourney && t.all[r.j].Status == "lost" }
	switch {
	case key.Matches(msg, km.NextLoss):
		t.next(1, lost)
	case key.Matches(msg, km.PrevLoss):
		t.next(-1, lost)
	case key.Matches(msg, km.NextRetx):
		if !t.next(1, func(r tlRow) bool { return t.isRetx(c, r) }) {
			t.next(1, func(r tlRow) bool { return r.kind == rowICMP })
		}
	default:
		scrollKey(msg, km, &t.cursor, len(t.rows), t.listHeight(h))
	}
	t.offset = window(t.offset, t.cursor, len(t.rows), t.listHeight(h))
}

func (t *timeline) listHeight(h int) int { return max(1, h-4) }

const tlPrefix = 1 + 12 + 1 + 4 // cursor, time, space, direction and status

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
	head := fmt.Sprintf("flow %s %s %s → %s", clean(f.ID), clean(f.Proto), endpoint(f.Src), endpoint(f.Dst))
	if nt := natTarget(f); nt != "" {
		head += " (→ " + nt + ")"
	}
	b.WriteString(st.header.Render(fit(head, w)) + "\n")
	if t.loading {
		b.WriteString(st.dim.Render(fit(fmt.Sprintf("rendering the %d packets of this flow…", f.Packets), w)))
		return b.String()
	}
	n := max(1, len(t.cols))
	cw := max(6, (w-tlPrefix)/n)
	// Column headers: node, then interface.
	var h1, h2 strings.Builder
	h1.WriteString(strings.Repeat(" ", tlPrefix))
	h2.WriteString(fit(" time", 14) + "dir ")
	for _, p := range t.cols {
		node, iface, _ := strings.Cut(p, "/")
		h1.WriteString(fit(clean(node), cw))
		h2.WriteString(fit(clean(iface), cw))
	}
	b.WriteString(st.dim.Render(h1.String()) + "\n" + st.header.Render(h2.String()) + "\n")
	lh := t.listHeight(h)
	off := window(t.offset, t.cursor, len(t.rows), lh)
	end := min(len(t.rows), off+lh)
	var t0 int64
	if len(t.rows) > 0 {
		t0 = t.rows[0].ts
	}
	for i := off; i < end; i++ {
		r := t.rows[i]
		line := cursorMark(i == t.cursor) + fitRight("+"+fmtDur(r.ts-t0), 12) + " "
		var style = st.r.NewStyle()
		switch r.kind {
		case rowJourney:
			j := &t.all[r.j]
			line += t.journeyCells(c, j, r, cw)
			switch {
			case j.Status == "lost":
				style = st.bad
			case j.Status != "delivered":
				style = st.warn
			}
		case rowARP:
			line += "ARP " + t.eventCell(r.point, fmt.Sprintf("who-has %s tell %s: %s", clean(r.arp.Who),
				clean(r.arp.Tell), clean(r.arp.Verdict)), cw)
			style = st.dim
			if r.arp.Verdict == "unanswered" || r.arp.Verdict == "unexpected-mac" {
				style = st.warn
			}
		case rowICMP:
			desc := fmt.Sprintf("ICMP %d/%d %s→%s", r.icmp.Type, r.icmp.Code, clean(r.icmp.Src), clean(r.icmp.Dst))
			if r.icmp.MTU > 0 {
				desc += fmt.Sprintf(" mtu %d", r.icmp.MTU)
			}
			line += "ICMP" + t.eventCell(r.point, desc, cw)
			style = st.bad
		}
		line = fit(line, w)
		if i == t.cursor {
			style = st.selected
		}
		b.WriteString(style.Render(line) + "\n")
	}
	if len(t.rows) == 0 {
		b.WriteString(st.dim.Render("  no packets match") + "\n")
	}
	for i := end - off; i < lh; i++ {
		b.WriteString("\n")
	}
	status := fmt.Sprintf(" row %d/%d · %s packets · %s lost · %d retx", min(t.cursor+1, len(t.rows)), len(t.rows),
		fmtCount(f.Packets), fmtCount(f.Lost), f.Retransmissions)
	b.WriteString(st.status.Render(fit(status, w)))
	return b.String()
}

// eventCell writes an ARP or ICMP description starting at its point's column.
func (t *timeline) eventCell(point, desc string, cw int) string {
	i := t.colIndex(point)
	if i < 0 {
		return clean(point) + " " + desc
	}
	return strings.Repeat(" ", i*cw) + "◆ " + desc
}

// journeyCells draws a journey across the point columns: each point it crossed with the delta from
// the hop before, the line it took between them, and where it vanished.
func (t *timeline) journeyCells(c *common, j *correlate.Journey, r tlRow, cw int) string {
	dir := "→"
	if j.Dir == "s2c" {
		dir = "←"
	}
	mark := " "
	switch {
	case t.isRetx(c, r):
		mark = "R"
	case j.Status == "lost":
		mark = "✕"
	case j.Status != "delivered":
		mark = "?"
	}
	cells := make([]string, len(t.cols))
	lo, hi := len(t.cols), -1
	for k, hp := range j.Hops {
		i := t.colIndex(hp.Point)
		if i < 0 {
			continue
		}
		txt := "●"
		if k > 0 {
			txt += "+" + fmtDur(hp.DeltaNs)
		}
		if hp.Dup > 0 {
			txt += fmt.Sprintf("×%d", hp.Dup+1)
		}
		cells[i] = txt
		lo, hi = min(lo, i), max(hi, i)
	}
	if j.Status == "lost" && j.NextExpected != "" {
		if i := t.colIndex(j.NextExpected); i >= 0 {
			cells[i] = "✕ lost"
			lo, hi = min(lo, i), max(hi, i)
		}
	}
	var b strings.Builder
	b.WriteString(dir + mark + "  ")
	for i := range t.cols {
		cell := cells[i]
		fill := " "
		if i >= lo && i < hi {
			fill = "─"
		}
		if cell == "" && i > lo && i < hi {
			cell = "┄"
			if j.Status == "lost" || j.Status == "delivered" {
				cell = "─"
			}
		}
		sw := len([]rune(cell))
		if sw >= cw {
			b.WriteString(fit(cell, cw))
			continue
		}
		b.WriteString(cell + strings.Repeat(fill, cw-sw))
	}
	return b.String()
}
