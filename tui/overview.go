package tui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/calipath/calipath/correlate"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// overview shows the path diagram, the mode, the clocks, per-segment counts and the anomaly count.
// Its text depends only on the Result and the width: it is built once for each and kept in cache
// (a pointer, so that every copy of the Model shares it); keys only scroll it.
type overview struct {
	offset int
	cache  *overviewCache
}

// overviewCache is the overview's text for one Result at one width.
type overviewCache struct {
	res   *correlate.Result
	w     int
	named bool // names were shown
	lines []string
	// builds counts how often the text was built (tests check that keys do not rebuild it).
	builds int
}

// lines returns the overview's lines at width w, building them when the Result or the width changed.
func (o *overview) lines(c *common, w int) []string {
	if oc := o.cache; oc.res != c.res || oc.w != w || oc.named != c.named() || oc.lines == nil {
		oc.res, oc.w, oc.named, oc.lines = c.res, w, c.named(), o.build(c, w)
		oc.builds++
	}
	return o.cache.lines
}

// shortHelp is the footer's keys for the overview.
func (o *overview) shortHelp(km KeyMap) []key.Binding { return []key.Binding{km.Anomalies, km.Flows} }

func (o *overview) update(c *common, msg tea.KeyMsg, w, h int) tea.Msg {
	off := o.offset
	if scrollKey(msg, c.km, &off, max(1, len(o.lines(c, w))-h+1), h) {
		o.offset = off
	}
	return nil
}

var roleOrder = map[string]int{"pod-veth": 0, "tunnel": 1, "underlay": 2, "any": 3}

func roleGlyph(role string) string {
	switch role {
	case "pod-veth":
		return "◉"
	case "tunnel":
		return "◎"
	case "underlay":
		return "═"
	}
	return "○"
}

// nodeBox renders one node with its capture points in path order.
func nodeBox(c *common, node string) string {
	res := c.res
	st := c.st
	var pts []correlate.Point
	for _, p := range res.Points {
		if p.Node == node {
			pts = append(pts, p)
		}
	}
	sort.SliceStable(pts, func(i, j int) bool {
		ri, ok := roleOrder[pts[i].Role]
		if !ok {
			ri = 9
		}
		rj, ok := roleOrder[pts[j].Role]
		if !ok {
			rj = 9
		}
		return ri < rj
	})
	var b strings.Builder
	b.WriteString(st.header.Render(clean(node)))
	for _, ck := range res.Clocks {
		if ck.Node == node {
			if ck.Method == "reference" {
				b.WriteString(st.dim.Render(" clock ref"))
			} else {
				bound := "±" + fmtDur(ck.BoundNs)
				if ck.BoundNs < 0 {
					bound = " one side" // bounded on one side only: no ± (said in Clocks)
				}
				b.WriteString(st.dim.Render(fmt.Sprintf(" clock %+s%s", fmtDur(ck.OffsetNs), bound)))
			}
		}
	}
	for _, p := range pts {
		count := fmtCount(p.Frames)
		if p.Inferred {
			count = "inferred" // no frame: a -i any capture of the node covered it
		}
		b.WriteString("\n" + roleGlyph(p.Role) + " " + clean(p.Iface) + " " + st.dim.Render(count))
		if p.PodIP != "" {
			pod := c.short(p.PodIP)
			if p.Pod != "" && c.named() {
				pod = clean(p.Pod)
			}
			b.WriteString("\n  " + st.dim.Render("pod "+pod))
		}
	}
	return st.box.Render(b.String())
}

// underlayLinks summarises the underlay segments between two nodes, both directions.
func underlayLinks(c *common, a, b string) string {
	var out []string
	for _, s := range c.res.Segments {
		if s.Kind != "underlay" {
			continue
		}
		fn, tn := nodeOf(c, s.From), nodeOf(c, s.To)
		arrow := ""
		switch {
		case fn == a && tn == b:
			arrow = "──▶"
		case fn == b && tn == a:
			arrow = "◀──"
		default:
			continue
		}
		lost := fmt.Sprintf("%s lost", fmtCount(s.Lost))
		if s.Lost > 0 {
			lost = c.st.bad.Render(lost)
		}
		out = append(out, fmt.Sprintf("%s %s pk ", arrow, fmtCount(s.Packets))+lost, "    p50 "+s.Mark(fmtDur(s.LatencyNs.P50)))
	}
	mode := c.res.Mode
	for _, pm := range c.res.Modes {
		if (pm.From == a && pm.To == b) || (pm.From == b && pm.To == a) {
			mode = pm.Mode
		}
	}
	head := fmt.Sprintf("═ underlay %s ═", clean(mode))
	return "\n\n" + head + "\n" + strings.Join(out, "\n")
}

// joinWrap joins parts with sep, starting a new line where the next part would pass w cells.
func joinWrap(parts []string, sep string, w int) string {
	var b strings.Builder
	lineW := 0
	for i, p := range parts {
		pw := lipgloss.Width(p)
		switch {
		case i == 0:
		case lineW+lipgloss.Width(sep)+pw > w:
			b.WriteString("\n")
			lineW = 0
		default:
			b.WriteString(sep)
			lineW += lipgloss.Width(sep)
		}
		b.WriteString(p)
		lineW += pw
	}
	return b.String()
}

// nodeOf returns the node of a point ID.
func nodeOf(c *common, id string) string {
	for _, p := range c.res.Points {
		if p.ID == id {
			return p.Node
		}
	}
	if n, _, ok := strings.Cut(id, "/"); ok {
		return n
	}
	return ""
}

// nodes lists the nodes in the order of their first point.
func nodes(res *correlate.Result) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range res.Points {
		if !seen[p.Node] {
			seen[p.Node] = true
			out = append(out, p.Node)
		}
	}
	return out
}

// diagram draws the nodes side by side with the underlay between each adjacent pair, wrapping rows
// when the width runs out.
func diagram(c *common, w int) string {
	ns := nodes(c.res)
	var rows []string
	var row []string
	rowW := 0
	for i, n := range ns {
		box := nodeBox(c, n)
		var link string
		if i > 0 {
			link = lipgloss.NewStyle().Padding(0, 1).Render(underlayLinks(c, ns[i-1], n))
		}
		bw := lipgloss.Width(box)
		lw := lipgloss.Width(link)
		if len(row) > 0 && rowW+lw+bw > w {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
			row, rowW = nil, 0
			link = lipgloss.NewStyle().Padding(0, 1).Render(strings.TrimLeft(underlayLinks(c, ns[i-1], n), "\n"))
			rows = append(rows, link)
			lw = 0
			link = ""
		}
		if link != "" {
			row = append(row, link)
			rowW += lw
		}
		row = append(row, box)
		rowW += bw
	}
	if len(row) > 0 {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	return strings.Join(rows, "\n")
}

func (o *overview) view(c *common, w, h int) string {
	lines := o.lines(c, w)
	off := clamp(o.offset, 0, max(0, len(lines)-h))
	return strings.Join(lines[off:], "\n")
}

// summaryText is the overview's summary lines at width w: its parts wrap onto another line rather
// than run off the terminal.
func summaryText(c *common, w int) string {
	res := c.res
	st := c.st
	sum := res.Summary
	var b strings.Builder
	lost := fmt.Sprintf("lost %s", fmtCount(sum.Lost))
	if sum.Lost > 0 {
		lost = st.bad.Render(lost)
	}
	parts := []string{st.header.Render("Mode") + " " + clean(res.Mode) + " ", "frames " + fmtCount(sum.Frames),
		"sent " + fmtCount(sum.Journeys), "delivered " + fmtCount(sum.Delivered), lost,
		"not captured " + fmtCount(sum.NotCaptured), "flows " + fmtCount(sum.Flows)}
	if sum.Skipped > 0 {
		parts = append(parts, st.warn.Render(fmt.Sprintf("skipped %s", fmtCount(sum.Skipped))))
	}
	b.WriteString(joinWrap(parts, "  ", w) + "\n")
	// Counts the matcher could not keep (--window too small) are said to be unreliable, in the report's
	// words, wrapped rather than cut: the line says what to re-run with.
	if sum.Unreliable != "" {
		for _, line := range strings.Split(lipgloss.NewStyle().Width(max(1, w)).Render("UNRELIABLE: "+
			clean(sum.Unreliable)), "\n") {
			b.WriteString(st.bad.Render(strings.TrimRight(line, " ")) + "\n")
		}
	}
	return b.String()
}

// build writes the overview's lines at width w.
func (o *overview) build(c *common, w int) []string {
	res := c.res
	st := c.st
	var b strings.Builder
	sum := res.Summary
	b.WriteString(summaryText(c, w))
	an := fmt.Sprintf("Anomalies: %d (%d error, %d warning, %d info)", len(res.Anomalies),
		sum.Anomalies["error"], sum.Anomalies["warning"], sum.Anomalies["info"])
	switch {
	case sum.Anomalies["error"] > 0:
		an = st.bad.Render(an)
	case sum.Anomalies["warning"] > 0:
		an = st.warn.Render(an)
	}
	b.WriteString(joinWrap([]string{an, st.dim.Render("press a to list them")}, "  ", w) + "\n")
	b.WriteString(diagram(c, w) + "\n")

	if len(res.Clocks) > 0 {
		b.WriteString(st.header.Render("Clocks") + "\n")
		for _, ck := range res.Clocks {
			bound := "±" + fmtDur(ck.BoundNs)
			if ck.BoundNs < 0 {
				bound = "unbounded"
			}
			drift := fmt.Sprintf("%.2fppm", ck.DriftPPM)
			if !ck.DriftMeasured() {
				drift = "—" // none measured: said below
			}
			// The numbers first, then the method's short name; the whole method is said below.
			name, _, _ := ck.MethodName()
			line := fmt.Sprintf("  %s offset %s %s drift %s  %s samples  %s", fit(clean(ck.Node), 12),
				fitRight(fmtDur(ck.OffsetNs), 9), bound, drift, fmtCount(ck.Samples), clean(name))
			b.WriteString(fit(line, w) + "\n")
		}
		for _, n := range correlate.ClockNotes(res.Clocks) {
			for _, l := range strings.Split(joinWrap(strings.Fields(clean(n)), " ", max(w-4, 20)), "\n") {
				b.WriteString(st.dim.Render(fit("    "+l, w)) + "\n")
			}
		}
	}
	b.WriteString(st.header.Render("Segments") + st.dim.Render(" (packets as sent)") + "\n")
	n := len(res.Segments)
	cols := []tcol{{head: " ", cells: make([]string, n)},
		{head: "from", text: true, min: 12}, {head: " ", cells: make([]string, n)}, {head: "to", text: true, min: 10},
		{head: "kind", drop: 2}, {head: "pkts", right: true}, {head: "deliv", right: true, drop: 1},
		{head: "lost", right: true}, {head: "p50", right: true}, {head: "p99", right: true}}
	for i, s := range res.Segments {
		cols[2].cells[i] = "→"
		for k, v := range []string{clean(s.From), clean(shortPoint(s.To, nodeOfID(s.From))), clean(s.Kind),
			fmtCount(s.Packets), fmtCount(s.Delivered), fmtCount(s.Lost), s.Mark(fmtDur(s.LatencyNs.P50)),
			s.Mark(fmtDur(s.LatencyNs.P99))} {
			cols[[]int{1, 3, 4, 5, 6, 7, 8, 9}[k]].cells = append(cols[[]int{1, 3, 4, 5, 6, 7, 8, 9}[k]].cells, v)
		}
	}
	head, rows := layoutTable(cols, w)
	b.WriteString(st.dim.Render(head) + "\n")
	for i, line := range rows {
		if res.Segments[i].Lost > 0 {
			line = st.warn.Render(line)
		}
		b.WriteString(line + "\n")
	}
	for _, l := range segClockLines(res, w) {
		b.WriteString(st.dim.Render(l) + "\n")
	}
	var bad []string
	for _, in := range res.Inputs {
		if in.Skipped > 0 || len(in.Errors) > 0 {
			bad = append(bad, fit(fmt.Sprintf("  %d skipped, %d damaged: %s", in.Skipped, in.Damaged, clean(in.File)), w))
			for _, e := range in.Errors {
				bad = append(bad, strings.Split(lipgloss.NewStyle().Width(max(1, w-4)).Render(clean(e)), "\n")...)
			}
		}
	}
	if len(bad) > 0 {
		b.WriteString(st.header.Render("Input problems") + "\n" + strings.Join(bad, "\n") + "\n")
	}
	return strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
}

// segClockLines say, below the segments, which latencies are bounds (≥, ≤), why those marked ? are
// not known (clocks bounded on one side only; correlate.Segment.ClockBound) and how uncertain those
// marked ~ are (loose clocks; correlate.Segment.ClockUncertainNs), wrapped to width w.
func segClockLines(res *correlate.Result, w int) []string {
	var out []string
	legend := false
	for i := range res.Segments {
		s := &res.Segments[i]
		switch s.ClockBound {
		case correlate.BoundLower, correlate.BoundUpper:
			legend = true
		case correlate.BoundNone:
			n := "? " + clean(s.From) + " → " + clean(s.To) + ": latency " + clean(s.ClockNote) + "."
			out = append(out, strings.Split(lipgloss.NewStyle().Width(max(1, w-2)).Render(n), "\n")...)
		case "":
			if s.ClockUncertainNs > 0 { // loose clocks: ~, the uncertainty, the clocks and the fix
				n := correlate.MarkUncertain + " " + clean(s.From) + " → " + clean(s.To) + ": latency " + clean(s.ClockNote) + "."
				out = append(out, strings.Split(lipgloss.NewStyle().Width(max(1, w-2)).Render(n), "\n")...)
			}
		}
	}
	if legend {
		out = append([]string{fit("≥ lower bound, ≤ upper bound: a clock at the segment's end is bounded on one side only", w)}, out...)
	}
	for i := range res.Segments { // losses the captures cannot place on their segment (Segment.LostUncaptured)
		if s := &res.Segments[i]; len(s.LostUncaptured) > 0 {
			n := fmt.Sprintf("! %s → %s: the %d lost were %s.", clean(s.From), clean(s.To), s.Lost,
				clean(correlate.LostSpanNote(s.From, s.To, s.LostUncaptured)))
			out = append(out, strings.Split(lipgloss.NewStyle().Width(max(1, w-2)).Render(n), "\n")...)
		}
	}
	return out
}
