package tui

import (
	"fmt"
	"strings"

	"github.com/calipath/calipath/correlate"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// arpRow is one line of the ARP screen: a point's summary or one of its exchanges.
type arpRow struct {
	point int
	exch  int // -1 for the summary line
}

// arpView lists ARP per pod veth: the counts with proxy-ARP verdicts, then each exchange.
type arpView struct {
	items []arpRow
	list
}

func (a *arpView) reset(c *common) {
	a.items = a.items[:0]
	for pi := range c.res.ARP {
		a.items = append(a.items, arpRow{point: pi, exch: -1})
		for ei := range c.res.ARP[pi].Exchanges {
			a.items = append(a.items, arpRow{point: pi, exch: ei})
		}
	}
	a.list = list{}
	a.rebuild(len(a.items), nil, nil)
}

// shortHelp is the footer's keys for the ARP screen (navigation only).
func (a *arpView) shortHelp(KeyMap) []key.Binding { return nil }

func (a *arpView) update(c *common, msg tea.KeyMsg, h int) tea.Msg {
	a.key(msg, c.km, h-2)
	return nil
}

func (a *arpView) view(c *common, w, h int) string {
	st := c.st
	var b strings.Builder
	// The summary columns, laid out over every point so that they line up and no number is cut.
	n := len(c.res.ARP)
	cols := []tcol{{head: "point / exchange", text: true, min: 12}, {head: "requests", right: true},
		{head: "replies", right: true}, {head: "proxy", right: true}, {head: "unanswered", right: true},
		{head: "bad-mac", right: true}, {head: "grat", right: true}, {head: "p50", right: true}}
	for i := range cols {
		cols[i].cells = make([]string, 0, n)
	}
	for pi := range c.res.ARP {
		ap := &c.res.ARP[pi]
		for k, v := range []string{clean(ap.Point), fmtCount(ap.Requests), fmtCount(ap.Replies),
			fmtCount(ap.ProxyReplies), fmtCount(ap.Unanswered), fmtCount(ap.UnexpectedMAC), fmtCount(ap.Gratuitous),
			fmtDur(ap.LatencyNs.P50)} {
			cols[k].cells = append(cols[k].cells, v)
		}
	}
	head, sums := layoutTable(cols, w-2)
	b.WriteString(st.header.Render(fit("  "+head, w)) + "\n")
	if a.len() == 0 {
		return b.String() + st.dim.Render("  no ARP seen on any capture point")
	}
	off, end := a.rows(h - 2)
	for i := off; i < end; i++ {
		r := a.items[a.idx[i]]
		ap := &c.res.ARP[r.point]
		var line string
		var style lipgloss.Style
		if r.exch < 0 {
			line = cursorMark(i == a.cursor) + " " + sums[r.point]
			style = st.header
			if ap.Unanswered > 0 || ap.UnexpectedMAC > 0 {
				style = st.warn
			}
		} else {
			line = cursorMark(i == a.cursor) + arpExchange(c, &ap.Exchanges[r.exch], w-1)
			switch ap.Exchanges[r.exch].Verdict {
			case "proxy-ok", "answered":
				style = st.good
			default:
				style = st.bad
			}
		}
		if i == a.cursor {
			style = st.selected
		}
		b.WriteString(style.Render(fit(line, w)) + "\n")
	}
	return b.String()
}

// arpExchange describes one exchange in w cells: its parts that fit, the MAC address and then the
// evidence frame left out first, so that no address or number is cut.
func arpExchange(c *common, e *correlate.ARPExch, w int) string {
	type part struct {
		s    string
		drop int // 0: kept; else left out, highest first, while the line is too long
	}
	parts := []part{{"   " + fmtClock(e.Ts), 0}, {" who-has " + c.short(e.Who), 0}, {" tell " + c.short(e.Tell), 0}}
	if e.IsAt != "" {
		parts = append(parts, part{" is-at " + clean(e.IsAt), 2}, part{" in " + fmtDur(e.LatencyNs), 0})
	}
	parts = append(parts, part{" · " + clean(e.Verdict), 0},
		part{fmt.Sprintf(" · %s:%d", clean(baseName(e.Evidence.File)), e.Evidence.Frame), 3})
	for drop := 3; drop > 0; drop-- {
		n := 0
		for _, p := range parts {
			n += ansi.StringWidth(p.s)
		}
		if n <= w {
			break
		}
		for i := range parts {
			if parts[i].drop == drop {
				parts[i].s = ""
			}
		}
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.s)
	}
	return b.String()
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// anomalyList lists the anomalies with the selected one's explanation below.
type anomalyList struct {
	list
}

func (l *anomalyList) reset(c *common) { l.show(c, matchAnomalies(c.res, c.filter)) }

// show lists the anomalies whose verdict (matchAnomalies) is true, every one with no verdicts.
func (l *anomalyList) show(c *common, verdicts []bool) {
	var keep func(int) bool
	if verdicts != nil {
		keep = func(i int) bool { return verdicts[i] }
	}
	l.rebuild(len(c.res.Anomalies), keep, nil)
}

// matchAnomalies returns f's verdict on each anomaly of res (nil with no filter). The first anomaly
// naming a flow indexes the flows by ID (Filter.MatchAnomaly): on many flows this runs off the UI
// loop with the flows' matching (setFilter).
func matchAnomalies(res *correlate.Result, f *correlate.Filter) []bool {
	if f == nil {
		return nil
	}
	verdicts := make([]bool, len(res.Anomalies))
	for i := range res.Anomalies {
		verdicts[i] = f.MatchAnomaly(res, &res.Anomalies[i])
	}
	return verdicts
}

func (l *anomalyList) selectedAnomaly(c *common) (correlate.Anomaly, bool) {
	if i, ok := l.selected(); ok {
		return c.res.Anomalies[i], true
	}
	return correlate.Anomaly{}, false
}

func (l *anomalyList) listHeight(h int) int { return max(1, h-h*2/5-1) }

// shortHelp is the footer's keys for the anomaly list.
func (l *anomalyList) shortHelp(km KeyMap) []key.Binding { return []key.Binding{km.Enter} }

// update handles a key on the anomaly list; enter asks the root to show the evidence.
func (l *anomalyList) update(c *common, msg tea.KeyMsg, h int) tea.Msg {
	if key.Matches(msg, c.km.Enter) {
		if a, ok := l.selectedAnomaly(c); ok {
			return evidenceMsg(c, a)
		}
		return nil
	}
	l.key(msg, c.km, l.listHeight(h))
	return nil
}

// evidenceMsg asks for the timeline of the anomaly's first flow at its first evidence frame, or says
// that it names no flow.
func evidenceMsg(c *common, a correlate.Anomaly) tea.Msg {
	flow := ""
	if len(a.Flows) > 0 {
		flow = a.Flows[0]
	}
	if flow == "" {
		for _, e := range c.res.ICMP {
			for _, ev := range a.Evidence {
				if e.Evidence == ev && e.Flow != "" {
					flow = e.Flow
				}
			}
		}
	}
	if flow == "" {
		return statusMsg("this anomaly names no flow to show")
	}
	return openFlowMsg{flowID: flow, seek: a.Evidence}
}

func whereString(w correlate.Where) string {
	switch {
	case w.From != "" || w.To != "":
		return clean(w.From) + "→" + clean(shortPoint(w.To, nodeOfID(w.From)))
	case w.Point != "":
		return clean(w.Point)
	}
	return clean(w.Node)
}

// explanation is one line of a node's `ip` dump that explains an anomaly, as the report cites it
// (file:line, the line, why) but with the file's base name, as the evidence shows its captures.
func explanation(e correlate.Explanation) string {
	e.File = baseName(e.File)
	return clean(e.String())
}

func (l *anomalyList) view(c *common, w, h int) string {
	st := c.st
	var b strings.Builder
	if l.len() == 0 {
		return st.good.Render("No anomalies.")
	}
	lh := l.listHeight(h)
	kindW := 18
	whereW := clamp(w-kindW-8-8-4, 10, 60)
	b.WriteString(st.header.Render(fit(fmt.Sprintf("  %-7s %s %s %6s", "sev", fit("kind", kindW), fit("where", whereW), "count"), w)) + "\n")
	off, end := l.rows(lh - 1)
	for i := off; i < end; i++ {
		a := &c.res.Anomalies[l.idx[i]]
		line := fmt.Sprintf("%s %-7s %s %s %6s", cursorMark(i == l.cursor), clean(a.Severity), fit(clean(a.Kind), kindW),
			fit(whereString(a.Where), whereW), fmtCount(a.Count))
		style := st.r.NewStyle()
		switch a.Severity {
		case "error":
			style = st.bad
		case "warning":
			style = st.warn
		}
		if i == l.cursor {
			style = st.selected
		}
		b.WriteString(style.Render(fit(line, w)) + "\n")
	}
	for i := end - off; i < lh-1; i++ {
		b.WriteString("\n")
	}
	a, _ := l.selectedAnomaly(c)
	var d strings.Builder
	d.WriteString(c.long(a.Message))
	for _, e := range a.ExplainedBy {
		d.WriteString("\nexplained by: " + explanation(e))
	}
	if a.Next != "" {
		d.WriteString("\nnext: " + c.long(a.Next))
	}
	if len(a.Flows) > 0 {
		fl := a.Flows
		more := ""
		if len(fl) > 8 {
			fl, more = fl[:8], fmt.Sprintf(" +%d more", len(a.Flows)-8)
		}
		d.WriteString("\nflows: " + clean(strings.Join(fl, " ")) + more)
	}
	if len(a.Evidence) > 0 {
		var ev []string
		for _, e := range a.Evidence[:min(4, len(a.Evidence))] {
			ev = append(ev, fmt.Sprintf("%s:%d", clean(baseName(e.File)), e.Frame))
		}
		d.WriteString("\nevidence: " + strings.Join(ev, " "))
		if len(a.Evidence) > 4 {
			d.WriteString(fmt.Sprintf(" +%d", len(a.Evidence)-4))
		}
		d.WriteString(" · enter: show in the timeline")
	}
	detail := lipgloss.NewStyle().Width(w - 2).Render(d.String())
	b.WriteString(st.dim.Render(strings.Repeat("─", w)) + "\n" + detail)
	return b.String()
}
