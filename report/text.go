package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/calipath/calipath/correlate"
)

// ANSI styles of the text format.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiGreen  = "\x1b[32m"
	ansiDim    = "\x1b[2m"
)

// text writes the text format.
type text struct {
	w     io.Writer
	color bool
	width int // lines are cut to it; 0 cuts nothing
}

// proseWidth is the width prose is wrapped to when lines are not cut: wrapping loses nothing.
const proseWidth = 100

// wrapWidth is the width prose is wrapped to.
func (t *text) wrapWidth() int {
	if t.width == 0 {
		return proseWidth
	}
	return t.width
}

func (t *text) style(code, s string) string {
	if !t.color || code == "" {
		return s
	}
	return code + s + ansiReset
}

func (t *text) heading(s string) {
	fmt.Fprintln(t.w)
	fmt.Fprintln(t.w, t.style(ansiBold, s))
}

// line writes one line, cut to the width (if any). Its text comes from the view, sanitised already.
func (t *text) line(s string) {
	out := s
	if t.width > 0 {
		out = cut(s, t.width)
	}
	if t.color && strings.Contains(out, "\x1b[") && !strings.HasSuffix(out, ansiReset) {
		out += ansiReset // the cut may have dropped the style's reset: never let colour bleed on
	}
	fmt.Fprintln(t.w, out)
}

// wrap writes s word-wrapped to the width, each line starting with indent (the first with first).
func (t *text) wrap(first, indent, s string) {
	in := max(utf8.RuneCountInString(first), utf8.RuneCountInString(indent))
	for _, l := range wrapWords(s, t.wrapWidth()-in, t.width > 0) {
		fmt.Fprintln(t.w, first+l)
		first = indent
	}
}

// wrapWords breaks s into lines of at most width columns at spaces. A word longer than a line is
// broken inside when hard is set (the report has a width to keep), and left whole otherwise (a
// file's path stays one piece to copy).
func wrapWords(s string, width int, hard bool) []string {
	width = max(width, 20)
	var out []string
	var cur strings.Builder
	n := 0
	var words []string
	for _, w := range strings.Fields(s) {
		for r := []rune(w); hard && len(r) > width; r = r[width:] {
			words = append(words, string(r[:width]))
			w = string(r[width:])
		}
		words = append(words, w)
	}
	for _, w := range words {
		wl := utf8.RuneCountInString(w)
		if n > 0 && n+1+wl > width {
			out = append(out, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte(' ')
			n++
		}
		cur.WriteString(w)
		n += wl
	}
	if n > 0 {
		out = append(out, cur.String())
	}
	return out
}

// cut shortens s to width columns, ending in "…" when cut.
func cut(s string, width int) string {
	if visibleLen(s) <= width {
		return s
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		if j := sgrEnd(s, i); j > i { // colour codes take no column
			b.WriteString(s[i:j])
			i = j
			continue
		}
		if n == max(width-1, 0) {
			break
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		b.WriteString(s[i : i+size])
		i += size
		n++
	}
	return b.String() + "…"
}

// sgrEnd returns the end of the colour sequence (ESC [ digits/semicolons m) starting at s[i], or i.
func sgrEnd(s string, i int) int {
	if i+1 >= len(s) || s[i] != 0x1b || s[i+1] != '[' {
		return i
	}
	j := i + 2
	for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';') {
		j++
	}
	if j < len(s) && s[j] == 'm' {
		return j + 1
	}
	return i
}

// visibleLen counts the runes of s outside colour sequences: its width in columns.
func visibleLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if j := sgrEnd(s, i); j > i {
			i = j
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}

// cutLeft shortens s to width columns from the left, starting with "…" when cut, so that the end of
// a path or segment stays readable.
func cutLeft(s string, width int) string {
	n := utf8.RuneCountInString(s)
	if n <= width {
		return s
	}
	r := []rune(s)
	return "…" + string(r[n-max(width-1, 0):])
}

// table writes rows under headers, indented by two spaces. Columns whose header starts with '>'
// are right-aligned. The column flex is shortened (cut on the left) so that lines fit the width. rowStyle (may be
// nil) gives an ANSI style per row.
func (t *text) table(headers []string, rows [][]string, flex int, rowStyle func(int) string) {
	right := make([]bool, len(headers))
	hs := make([]string, len(headers))
	for i, h := range headers {
		right[i] = strings.HasPrefix(h, ">")
		hs[i] = strings.TrimPrefix(h, ">")
	}
	widths := make([]int, len(hs))
	for i, h := range hs {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range rows {
		for i := range r {
			if i < len(widths) {
				widths[i] = max(widths[i], utf8.RuneCountInString(r[i]))
			}
		}
	}
	total := 2
	for _, w := range widths {
		total += w + 2
	}
	total -= 2
	if t.width == 0 { // nothing is cut
		total = 0
	}
	if flex >= 0 && flex < len(widths) && total > t.width {
		cutBy := min(total-t.width, max(widths[flex]-8, 0))
		widths[flex] -= cutBy
		total -= cutBy
	}
	// Still too wide: narrow the widest left-aligned column, one column at a time, to no less than 6.
	for total > t.width {
		wi := -1
		for i, w := range widths {
			if !right[i] && w > 6 && (wi < 0 || w > widths[wi]) {
				wi = i
			}
		}
		if wi < 0 {
			break
		}
		widths[wi]--
		total--
	}
	format := func(r []string) string {
		var b strings.Builder
		b.WriteString("  ")
		for i, w := range widths {
			c := ""
			if i < len(r) {
				c = cut(r[i], w)
				if i == flex {
					c = cutLeft(r[i], w)
				}
			}
			pad := strings.Repeat(" ", w-utf8.RuneCountInString(c))
			if right[i] {
				b.WriteString(pad + c)
			} else if i < len(widths)-1 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(c)
			}
			if i < len(widths)-1 {
				b.WriteString("  ")
			}
		}
		return strings.TrimRight(b.String(), " ")
	}
	fmt.Fprintln(t.w, t.style(ansiDim, format(hs)))
	for i, r := range rows {
		st := ""
		if rowStyle != nil {
			st = rowStyle(i)
		}
		fmt.Fprintln(t.w, t.style(st, format(r)))
	}
}

func sevStyle(sev string) string {
	switch sev {
	case "error":
		return ansiRed
	case "warning":
		return ansiYellow
	case "info":
		return ansiCyan
	}
	return ""
}

// writeText lays out the view as text, one section after another.
func writeText(w io.Writer, v *view, o Options) {
	t := &text{w: w, color: o.Color, width: o.Width}
	t.summary(v)
	t.inputs(v)
	t.points(v)
	t.modes(v)
	t.clocks(v)
	t.paths(v)
	t.segments(v)
	t.flows(v)
	t.arp(v)
	t.nd(v)
	t.icmp(v)
	t.anomalies(v)
}

// summary is the report's title and its summary lines.
func (t *text) summary(v *view) {
	r := v.res
	s := r.Summary
	t.line(t.style(ansiBold, "calipath report") + fmt.Sprintf("  %s, mode %s", r.Schema, orDash(r.Mode)))
	t.line(fmt.Sprintf("%d frames, %d skipped; %d packets as sent: %d delivered, %d lost, %d not captured; %d flows",
		s.Frames, s.Skipped, s.Journeys, s.Delivered, s.Lost, s.NotCaptured, s.Flows))
	t.line(fmt.Sprintf("anomalies: %d errors, %d warnings, %d info", s.Anomalies["error"], s.Anomalies["warning"],
		s.Anomalies["info"]))
	if s.Unreliable != "" {
		t.line(t.style(ansiYellow, "UNRELIABLE: "+s.Unreliable))
	}
	if len(s.Unreadable) > 0 {
		t.line(t.style(ansiYellow, fmt.Sprintf("not read: %s, left out of this report:", unreadCount(r))))
		for _, u := range s.Unreadable {
			t.line(t.style(ansiYellow, "  "+u.File+": "+u.Error))
		}
	}
	if v.filter != nil {
		t.line(fmt.Sprintf("filter: %s (%d of %d flows match; segments and clocks cover all traffic)",
			v.filterText, v.nFlows, len(r.Flows)))
	}
}

// inputs is the table of the capture files, with their problems.
func (t *text) inputs(v *view) {
	r := v.res
	t.heading("Inputs")
	var rows [][]string
	for _, in := range r.Inputs {
		f := in.Format
		if in.Compressed {
			f += "+gzip"
		}
		rows = append(rows, []string{in.File, f, strings.Join(in.LinkTypes, ","), itoa(in.Records), itoa(in.Skipped), itoa(in.Damaged)})
	}
	t.table([]string{"FILE", "FORMAT", "LINK", ">RECORDS", ">SKIPPED", ">DAMAGED"}, rows, 0, func(i int) string {
		if r.Inputs[i].Skipped > 0 || len(r.Inputs[i].Errors) > 0 {
			return ansiYellow
		}
		return ""
	})
	for _, in := range r.Inputs {
		for _, e := range in.Errors {
			t.wrap("  ! ", "    ", e)
		}
	}
}

// moreReasons is what a points table's WHY column says after a point's reason of the reasons of its
// other captures (Point.MoreReasons, which the JSON carries in full): how many, and where they are.
func moreReasons(p *correlate.Point) string {
	if len(p.MoreReasons) == 0 {
		return ""
	}
	return fmt.Sprintf(" (+%d more, from its other captures: `calipath points`, or more_reasons in the JSON)", len(p.MoreReasons))
}

// points is the table of the capture points.
func (t *text) points(v *view) {
	r := v.res
	t.heading("Capture points")
	var rows [][]string
	for _, p := range r.Points {
		detail := p.Reason + moreReasons(&p)
		if p.PodIP != "" {
			detail = "pod " + v.pod(&p) + "; " + detail
		}
		rows = append(rows, []string{p.Node, p.Iface, roleLabel(&p), itoa(p.Frames), detail})
	}
	t.table([]string{"NODE", "INTERFACE", "ROLE", ">FRAMES", "WHY"}, rows, 4, nil)
}

// modes gives the datapath mode of each node pair and the node addresses.
func (t *text) modes(v *view) {
	r := v.res
	t.heading("Mode and nodes")
	for _, m := range r.Modes {
		t.line(fmt.Sprintf("  %s → %s: %s", m.From, m.To, m.Mode))
	}
	if r.ModeWhy != "" {
		t.wrap("  ", "    ", fmt.Sprintf("mode %s: %s", orDash(r.Mode), r.ModeWhy))
	}
	for _, n := range r.NodeIPs {
		t.line(fmt.Sprintf("  %s is %s (%s)", n.Node, n.IP, v.named(n.Reason)))
	}
}

// clocks is the table of the nodes' clock offsets.
func (t *text) clocks(v *view) {
	r := v.res
	t.heading("Clock offsets (against the reference node)")
	var rows [][]string
	for _, c := range r.Clocks {
		drift := ""
		switch {
		case !c.DriftMeasured():
			drift = "—"
		case c.DriftPPM != 0:
			drift = strconv.FormatFloat(c.DriftPPM, 'f', -1, 64) + " ppm"
		}
		name, _, _ := c.MethodName()
		rows = append(rows, []string{c.Node, offset(c), drift, name, itoa(c.Samples)})
	}
	t.table([]string{"NODE", "OFFSET", "DRIFT", "METHOD", ">SAMPLES"}, rows, 3, nil)
	for _, n := range correlate.ClockNotes(r.Clocks) {
		t.wrap("  ", "    ", n)
	}
}

// paths draws the path diagrams and names the lossy segments they leave out.
func (t *text) paths(v *view) {
	t.heading("Path (packets as sent; latency per frame)")
	if len(v.paths) == 0 {
		t.line("  no flow crossed two capture points")
	}
	for _, pv := range v.paths {
		t.diagram(v, pv)
	}
	if v.morePaths > 0 {
		t.line(fmt.Sprintf("  %d more paths; see the segment table", v.morePaths))
	}
	for _, sg := range v.offPath {
		t.wrap("  also lossy: ", "                ", fmt.Sprintf("%s → %s (%s): %s", sg.From, sg.To, sg.Kind, segLine(sg)))
	}
}

// segments is the segment table, coloured by the most severe anomaly on each.
func (t *text) segments(v *view) {
	r := v.res
	t.heading("Segment latency (all traffic, packets as sent; → is client to server)")
	var rows [][]string
	for i := range r.Segments {
		sg := &r.Segments[i]
		l := sg.LatencyNs
		rows = append(rows, []string{sg.From + " → " + sg.To, sg.Kind, itoa(sg.Packets), itoa(sg.Lost), itoa(sg.NotCaptured),
			segLat(sg, l.Min), segLat(sg, l.P50), segLat(sg, l.P90), segLat(sg, l.P99), segLat(sg, l.Max)})
	}
	t.table([]string{"SEGMENT", "KIND", ">PKTS", ">LOST", ">N/C", ">MIN", ">P50", ">P90", ">P99", ">MAX"}, rows, 0,
		func(i int) string { return sevStyle(v.segSev[[2]string{r.Segments[i].From, r.Segments[i].To}]) })
	for _, n := range segNotes(r.Segments) {
		t.wrap("  ", "    ", n)
	}
}

// flows is the table of the worst flows, with where each lost packets.
func (t *text) flows(v *view) {
	title := "Flows (worst first; packets as sent)"
	if v.nFlows > len(v.flows) {
		title = fmt.Sprintf("Flows (worst %d of %d; packets as sent)", len(v.flows), v.nFlows)
	}
	t.heading(title)
	var rows [][]string
	for i := range v.flows {
		f := &v.flows[i]
		nat := ""
		if f.natKind != "" {
			nat = " (" + f.natKind + ")"
		}
		if f.OpenerUnknown != "" {
			nat = " (" + f.natKind + "; " + openerUnknown + ")"
			if correlate.OpenedBothWays(&f.Flow) { // through its NAT (without, no OpenerUnknown here: flowViews),
				nat = " (nat; opened both ways)" // of no one kind
			}
		}
		rows = append(rows, []string{f.ID, f.Proto, f.src + " → " + f.dst + nat, itoa(f.Packets),
			itoa(f.Lost), itoa(f.NotCaptured), itoa(f.Retransmissions), itoa(f.Resets), flowLat(&f.Flow, f.LatencyNs.P50), flowLat(&f.Flow, f.LatencyNs.P99)})
	}
	t.table([]string{"ID", "PROTO", "CONVERSATION", ">PKTS", ">LOST", ">N/C", ">RETX", ">RST", ">P50", ">P99"}, rows, 2,
		func(i int) string {
			if v.flows[i].Lost > 0 {
				return ansiRed
			}
			return ""
		})
	for i := range v.flows {
		if f := &v.flows[i]; len(f.LostAt) > 0 {
			t.wrap("  "+f.ID+" lost: ", "      ", lostAt(&f.Flow))
		}
	}
	for _, n := range flowNotes(v.flows, false) {
		t.wrap("  ", "    ", n)
	}
}

// arp is the ARP table, when a capture saw ARP.
func (t *text) arp(v *view) {
	r := v.res
	if len(r.ARP) > 0 {
		t.heading("ARP")
		var rows [][]string
		for _, a := range r.ARP {
			rows = append(rows, []string{a.Point, itoa(a.Requests), itoa(a.Replies), itoa(a.ProxyReplies), itoa(a.Unanswered),
				itoa(a.UnexpectedMAC), latDur(a.LatencyNs, a.LatencyNs.P50)})
		}
		t.table([]string{"POINT", ">REQUESTS", ">REPLIES", ">PROXY", ">UNANSWERED", ">WRONG MAC", ">P50"}, rows, 0, nil)
	}
}

// nd is the IPv6 neighbour discovery table, when a capture saw neighbour solicitations or
// advertisements: ARP's counterpart (NA FLAGS: the advertisements counted by their router, solicited
// and override flags; GW OK, gateway OK: advertisements of fe80::ecee:eeff:feee:eeee at ee:ee:ee:ee:ee:ee;
// DAD: duplicate address detection, which expects no answer).
func (t *text) nd(v *view) {
	if len(v.res.ND) > 0 {
		t.heading("Neighbour discovery (IPv6)")
		var rows [][]string
		for _, a := range v.res.ND {
			rows = append(rows, []string{a.Point, itoa(a.Solicitations), itoa(a.Advertisements), naFlags(a.AdvertFlags),
				itoa(a.GatewayOK), itoa(a.Unanswered), itoa(a.UnexpectedMAC), itoa(a.DAD), latDur(a.LatencyNs, a.LatencyNs.P50)})
		}
		t.table([]string{"POINT", ">SOLICIT", ">ADVERT", "NA FLAGS", ">GW OK", ">UNANSWERED", ">WRONG MAC", ">DAD", ">P50"}, rows, 0, nil)
	}
}

// naFlags is an ND table's flags cell: the advertisements by flags, or "-" when there were none.
func naFlags(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// icmp lists the ICMP errors, when there are any.
func (t *text) icmp(v *view) {
	if len(v.icmp) > 0 {
		t.heading("ICMP errors")
		for _, ic := range v.icmp {
			head := fmt.Sprintf("%s  type %d code %d", ic.Point, ic.Type, ic.Code)
			if ic.MTU > 0 {
				head += fmt.Sprintf(" mtu %d", ic.MTU)
			}
			head += "  " + ic.Src + " → " + ic.Dst
			if ic.Flow != "" {
				head += "  flow " + ic.Flow
			}
			t.wrap("  ", "    ", head)
			t.wrap("    quotes ", "      ", ic.Quoted+"; frame "+evidence(ic.Evidence))
			if ic.Uncertain != "" {
				t.wrap("    ", "    ", ic.Uncertain)
			}
		}
		if v.moreICMP > 0 {
			t.line(fmt.Sprintf("  … %d more", v.moreICMP))
		}
	}
}

// anomalies lists the anomalies, most severe first, each with its flows and frames.
func (t *text) anomalies(v *view) {
	t.heading("Anomalies (most severe first)")
	if len(v.anomalies) == 0 {
		t.line("  none")
	}
	for _, a := range v.anomalies {
		fmt.Fprintln(t.w)
		head := fmt.Sprintf("  %-7s %s at %s", strings.ToUpper(a.Severity), a.Kind, a.place)
		if a.Count > 0 {
			head += fmt.Sprintf(" (%d)", a.Count)
		}
		t.line(t.style(sevStyle(a.Severity), head))
		explain, next := a.Message, a.Next
		t.wrap("    ", "    ", explain)
		for _, e := range a.ExplainedBy {
			t.wrap("    explained by: ", "                  ", e.String())
		}
		if next != "" {
			t.wrap("    next: ", "          ", next)
		}
		if len(a.flows) > 0 {
			more := ""
			if a.moreFlows > 0 {
				more = fmt.Sprintf(" +%d more", a.moreFlows)
			}
			t.wrap("    flows: ", "           ", strings.Join(a.flows, " ")+more)
		}
		frames := evidenceByFile(a.evidence)
		if a.moreEvidence > 0 {
			frames = append(frames, fmt.Sprintf("and %d more", a.moreEvidence))
		}
		for i, l := range frames {
			first := "    frames: "
			if i > 0 {
				first = "            "
			}
			t.wrap(first, "              ", l)
		}
	}
}

// diagram draws one path top to bottom: each capture point with the frames its flows had there, and
// between two points what the flows lost in each direction (→ client to server, ← back). It counts
// the path's flows only; the segment table counts all traffic.
func (t *text) diagram(v *view, pv pathView) {
	more := ""
	if pv.moreFlows > 0 {
		more = fmt.Sprintf(" +%d", pv.moreFlows)
	}
	fmt.Fprintln(t.w)
	t.line(fmt.Sprintf("  %s → %s   flows %s%s: %s", v.pointLabel(pv.points[0]), v.pointLabel(pv.points[len(pv.points)-1]), strings.Join(pv.flows, " "), more,
		pv.summary()))
	nodes, byNode := nodesOf(pv.points)
	nodeW := 0
	for _, n := range nodes {
		nodeW = max(nodeW, utf8.RuneCountInString(n))
	}
	if t.width > 0 {
		nodeW = min(nodeW, 24)
	}
	pad := strings.Repeat(" ", nodeW+4)
	k := 0
	for ni, n := range nodes {
		for pi, p := range byNode[ni] {
			label := pad
			if pi == 0 {
				label = "  " + cut(n, nodeW) + strings.Repeat(" ", nodeW-utf8.RuneCountInString(cut(n, nodeW))) + "  "
			}
			role := ""
			if pt := v.points[p]; pt != nil {
				role = roleLabel(pt)
				if pt.PodIP != "" {
					role += " " + v.pod(pt)
				}
			}
			t.line(label + t.style(ansiBold, "["+iface(p)+"]") + "  " + role + fmt.Sprintf("  (%d frames)", pv.seen[p]))
			if k == len(pv.steps) {
				break
			}
			st := pv.steps[k]
			k++
			sev := st.sev()
			bar := "|"
			if st.fwdLost > 0 || st.backLost > 0 || (st.fwd != nil && st.fwd.Lost > 0) || (st.back != nil && st.back.Lost > 0) {
				bar = "X"
			}
			if st.unordered && bar == "|" {
				bar = "?"
			}
			t.line(pad + t.style(sevStyle(sev), "  "+bar+"  "+st.kind))
			if st.unordered { // the order drawn is the captures' times' (or files'): nothing confirms it
				t.wrap(pad+"  "+bar+"    ? ", pad+"  "+bar+"      ", "which of these two the packets crossed first is not known: "+
					"their clocks say nothing of each other, nor did packets both ways (the segment's clock note)")
			}
			t.line(pad + t.style(sevStyle(sev), "  "+bar+"    → "+st.fwdLine()))
			t.line(pad + t.style(sevStyle(sev), "  "+bar+"    ← "+st.backLine()))
			t.line(pad + "  v")
		}
	}
}
