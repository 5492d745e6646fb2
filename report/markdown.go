package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/calipath/calipath/correlate"
)

// mdCell escapes a table cell: pipes, newlines and the characters Markdown would format. s comes
// from the view, sanitised already.
func mdCell(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "*", `\*`, "_", `\_`, "`", "'", "<", "&lt;", ">", "&gt;",
		"[", `\[`, "]", `\]`, `\`, `\\`) // no [text](link) or ![image](url) from a capture
	return r.Replace(s)
}

// mdTable writes a pipe table; headers starting with '>' are right-aligned.
func mdTable(w io.Writer, headers []string, rows [][]string) {
	var h, sep []string
	for _, c := range headers {
		if strings.HasPrefix(c, ">") {
			h = append(h, mdCell(c[1:]))
			sep = append(sep, "---:")
		} else {
			h = append(h, mdCell(c))
			sep = append(sep, "---")
		}
	}
	fmt.Fprintf(w, "| %s |\n|%s|\n", strings.Join(h, " | "), strings.Join(sep, "|"))
	for _, r := range rows {
		cs := make([]string, len(headers))
		for i := range cs {
			if i < len(r) {
				cs[i] = mdCell(r[i])
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cs, " | "))
	}
	fmt.Fprintln(w)
}

// writeMarkdown lays out the view as Markdown, one section after another.
func writeMarkdown(w io.Writer, v *view) {
	mdSummary(w, v)
	mdAnomalies(w, v)
	mdPaths(w, v)
	mdSegments(w, v)
	mdFlows(w, v)
	mdInputs(w, v)
	mdPoints(w, v)
	mdModes(w, v)
	mdClocks(w, v)
	mdARP(w, v)
	mdND(w, v)
	mdICMP(w, v)
}

// mdSummary is the report's title and its summary list.
func mdSummary(w io.Writer, v *view) {
	r := v.res
	s := r.Summary
	fmt.Fprintf(w, "# calipath report\n\n")
	fmt.Fprintf(w, "- **Mode:** %s\n", mdCell(orDash(r.Mode)))
	fmt.Fprintf(w, "- **Packets (as sent):** %d (%d frames, %d skipped): %d delivered, %d lost, %d not captured\n",
		s.Journeys, s.Frames, s.Skipped, s.Delivered, s.Lost, s.NotCaptured)
	if s.Unreliable != "" {
		fmt.Fprintf(w, "- **Unreliable:** %s\n", s.Unreliable)
	}
	fmt.Fprintf(w, "- **Flows:** %d\n", s.Flows)
	fmt.Fprintf(w, "- **Anomalies:** %d errors, %d warnings, %d info\n", s.Anomalies["error"], s.Anomalies["warning"], s.Anomalies["info"])
	if len(s.Unreadable) > 0 {
		fmt.Fprintf(w, "- **Not read:** %s, left out of this report:\n", unreadCount(r))
		for _, u := range s.Unreadable {
			fmt.Fprintf(w, "  - %s: %s\n", mdCell(u.File), mdCell(u.Error))
		}
	}
	if v.filter != nil {
		fmt.Fprintf(w, "- **Filter:** `%s` (%d of %d flows match; segments and clocks cover all traffic)\n",
			strings.ReplaceAll(v.filterText, "`", "'"), v.nFlows, len(r.Flows))
	}
	fmt.Fprintln(w)
}

// mdAnomalies lists the anomalies, most severe first, each with its flows and frames.
func mdAnomalies(w io.Writer, v *view) {
	fmt.Fprintf(w, "## Anomalies\n\n")
	if len(v.anomalies) == 0 {
		fmt.Fprintf(w, "None.\n\n")
	}
	for _, a := range v.anomalies {
		fmt.Fprintf(w, "### %s: %s at %s\n\n", strings.ToUpper(a.Severity), mdCell(a.Kind), mdCell(a.place))
		explain, next := a.Message, a.Next
		fmt.Fprintf(w, "%s\n\n", mdCell(explain))
		for _, e := range a.ExplainedBy {
			fmt.Fprintf(w, "**Explained by:** `%s` %s\n\n", strings.ReplaceAll(citation(e), "`", "'"), mdCell(e.Why))
		}
		if next != "" {
			fmt.Fprintf(w, "**Next:** %s\n\n", mdCell(next))
		}
		if len(a.flows) > 0 {
			more := ""
			if a.moreFlows > 0 {
				more = fmt.Sprintf(" and %d more", a.moreFlows)
			}
			fmt.Fprintf(w, "- Flows: %s%s\n", mdCell(strings.Join(a.flows, ", ")), more)
		}
		if len(a.evidence) > 0 {
			var ev []string
			for _, e := range a.evidence {
				ev = append(ev, "`"+strings.ReplaceAll(evidence(e), "`", "'")+"`")
			}
			if a.moreEvidence > 0 {
				ev = append(ev, fmt.Sprintf("and %d more", a.moreEvidence))
			}
			fmt.Fprintf(w, "- Frames: %s\n", strings.Join(ev, ", "))
		}
		if len(a.Flows) > 0 || len(a.Evidence) > 0 {
			fmt.Fprintln(w)
		}
	}
}

// mdPaths draws the path diagrams as text in a fenced block.
func mdPaths(w io.Writer, v *view) {
	fmt.Fprintf(w, "## Path\n\nPackets as sent, latency per frame.\n\n")
	var diag bytes.Buffer
	t := &text{w: &diag} // a file: nothing is cut
	if len(v.paths) == 0 {
		t.line("no flow crossed two capture points")
	}
	for _, pv := range v.paths {
		t.diagram(v, pv)
	}
	if v.morePaths > 0 {
		t.line(fmt.Sprintf("%d more paths; see the segment table", v.morePaths))
	}
	for _, sg := range v.offPath {
		t.line(fmt.Sprintf("also: %s → %s (%s): %s", sg.From, sg.To, sg.Kind, segLine(sg)))
	}
	d := strings.ReplaceAll(diag.String(), "```", "'''")
	if !strings.HasPrefix(d, "\n") { // the fence's info string ends at the first newline
		d = "\n" + d
	}
	fmt.Fprintf(w, "```text%s```\n\n", d)
}

// mdSegments is the segment table.
func mdSegments(w io.Writer, v *view) {
	r := v.res
	fmt.Fprintf(w, "## Segment latency\n\nAll traffic, per direction; packets as sent, latency per frame.\n\n")
	var rows [][]string
	for i := range r.Segments {
		sg := &r.Segments[i]
		l := sg.LatencyNs
		rows = append(rows, []string{sg.From + " → " + sg.To, sg.Kind, itoa(sg.Packets), itoa(sg.Delivered), itoa(sg.Lost),
			itoa(sg.NotCaptured), segLat(sg, l.Min), segLat(sg, l.P50), segLat(sg, l.P90), segLat(sg, l.P99), segLat(sg, l.Max)})
	}
	mdTable(w, []string{"Segment", "Kind", ">Packets", ">Delivered", ">Lost", ">Not captured", ">Min", ">P50", ">P90", ">P99", ">Max"}, rows)
	if notes := segNotes(r.Segments); len(notes) > 0 {
		for _, n := range notes {
			fmt.Fprintf(w, "- %s\n", mdCell(n))
		}
		fmt.Fprintln(w)
	}
}

// mdFlows is the table of the worst flows.
func mdFlows(w io.Writer, v *view) {
	title := "## Flows, worst first\n\nPackets as sent.\n\n"
	if v.nFlows > len(v.flows) {
		title = fmt.Sprintf("## Flows, worst %d of %d\n\nPackets as sent.\n\n", len(v.flows), v.nFlows)
	}
	fmt.Fprint(w, title)
	var rows [][]string
	for i := range v.flows {
		f := &v.flows[i]
		rows = append(rows, []string{f.ID, f.Proto, clientCell(f), f.dst, itoa(f.Packets), itoa(f.Lost),
			itoa(f.NotCaptured), itoa(f.Retransmissions), itoa(f.Resets), flowLat(&f.Flow, f.LatencyNs.P50), flowLat(&f.Flow, f.LatencyNs.P99),
			lostAt(&f.Flow), f.nat})
	}
	mdTable(w, []string{"Flow", "Proto", "Client", "Server", ">Packets", ">Lost", ">Not captured", ">Retrans", ">Resets",
		">P50", ">P99", "Lost at", "NAT"}, rows)
	if notes := flowNotes(v.flows, true); len(notes) > 0 {
		for _, n := range notes {
			fmt.Fprintf(w, "- %s\n", mdCell(n))
		}
		fmt.Fprintln(w)
	}
}

// mdInputs is the table of the capture files.
func mdInputs(w io.Writer, v *view) {
	r := v.res
	fmt.Fprintf(w, "## Inputs\n\n")
	var rows [][]string
	for _, in := range r.Inputs {
		f := in.Format
		if in.Compressed {
			f += "+gzip"
		}
		rows = append(rows, []string{in.File, f, strings.Join(in.LinkTypes, ", "), itoa(in.Records), itoa(in.Skipped),
			itoa(in.Damaged), strings.Join(in.Errors, "; ")})
	}
	mdTable(w, []string{"File", "Format", "Link types", ">Records", ">Skipped", ">Damaged", "Errors"}, rows)
}

// mdPoints is the table of the capture points.
func mdPoints(w io.Writer, v *view) {
	r := v.res
	fmt.Fprintf(w, "## Capture points\n\n")
	var rows [][]string
	for _, p := range r.Points {
		rows = append(rows, []string{p.Node, p.Iface, roleLabel(&p), v.pod(&p), itoa(p.Frames), p.Reason + moreReasons(&p)})
	}
	mdTable(w, []string{"Node", "Interface", "Role", "Pod", ">Frames", "Why"}, rows)
}

// mdModes gives the datapath mode of each node pair and the node addresses.
func mdModes(w io.Writer, v *view) {
	r := v.res
	fmt.Fprintf(w, "## Mode and nodes\n\n")
	var rows [][]string
	for _, m := range r.Modes {
		rows = append(rows, []string{m.From, m.To, m.Mode})
	}
	mdTable(w, []string{"From", "To", "Mode"}, rows)
	if r.ModeWhy != "" {
		fmt.Fprintf(w, "Mode %s: %s.\n\n", mdCell(orDash(r.Mode)), mdCell(r.ModeWhy))
	}
	rows = nil
	for _, n := range r.NodeIPs {
		rows = append(rows, []string{n.Node, n.IP, v.named(n.Reason)})
	}
	mdTable(w, []string{"Node", "IP", "Why"}, rows)
}

// mdClocks is the table of the nodes' clock offsets.
func mdClocks(w io.Writer, v *view) {
	r := v.res
	fmt.Fprintf(w, "## Clock offsets\n\n")
	var rows [][]string
	for _, c := range r.Clocks {
		drift := "—"
		if c.DriftMeasured() {
			drift = fmt.Sprint(c.DriftPPM)
		}
		name, _, _ := c.MethodName()
		rows = append(rows, []string{c.Node, offset(c), drift, name, itoa(c.Samples)})
	}
	mdTable(w, []string{"Node", "Offset", ">Drift (ppm)", "Method", ">Samples"}, rows)
	if notes := correlate.ClockNotes(r.Clocks); len(notes) > 0 {
		for _, n := range notes {
			fmt.Fprintf(w, "- %s\n", mdCell(n))
		}
		fmt.Fprintln(w)
	}
}

// mdARP is the ARP table, when a capture saw ARP.
func mdARP(w io.Writer, v *view) {
	r := v.res
	if len(r.ARP) > 0 {
		fmt.Fprintf(w, "## ARP\n\n")
		var rows [][]string
		for _, a := range r.ARP {
			rows = append(rows, []string{a.Point, itoa(a.Requests), itoa(a.Replies), itoa(a.ProxyReplies), itoa(a.Unanswered),
				itoa(a.UnexpectedMAC), itoa(a.Gratuitous), latDur(a.LatencyNs, a.LatencyNs.P50)})
		}
		mdTable(w, []string{"Point", ">Requests", ">Replies", ">Proxy replies", ">Unanswered", ">Wrong MAC", ">Gratuitous", ">P50"}, rows)
	}
}

// mdND is the IPv6 neighbour discovery table, when a capture saw it (text.nd).
func mdND(w io.Writer, v *view) {
	if len(v.res.ND) > 0 {
		fmt.Fprintf(w, "## Neighbour discovery (IPv6)\n\n")
		var rows [][]string
		for _, a := range v.res.ND {
			rows = append(rows, []string{a.Point, itoa(a.Solicitations), itoa(a.Advertisements), naFlags(a.AdvertFlags),
				itoa(a.GatewayOK), itoa(a.Unanswered), itoa(a.UnexpectedMAC), itoa(a.DAD), latDur(a.LatencyNs, a.LatencyNs.P50)})
		}
		mdTable(w, []string{"Point", ">Solicitations", ">Advertisements", "NA flags", ">Gateway OK", ">Unanswered", ">Wrong MAC", ">DAD", ">P50"}, rows)
	}
}

// mdICMP lists the ICMP errors, when there are any.
func mdICMP(w io.Writer, v *view) {
	if len(v.icmp) > 0 {
		fmt.Fprintf(w, "## ICMP errors\n\n")
		var rows [][]string
		for _, ic := range v.icmp {
			mtu := ""
			if ic.MTU > 0 {
				mtu = itoa(int(ic.MTU))
			}
			rows = append(rows, []string{ic.Point, fmt.Sprintf("%d/%d", ic.Type, ic.Code), mtu, ic.Src, ic.Dst, ic.Quoted, ic.Flow, evidence(ic.Evidence)})
		}
		if v.moreICMP > 0 {
			rows = append(rows, []string{fmt.Sprintf("%d more", v.moreICMP)})
		}
		mdTable(w, []string{"Point", "Type/code", ">MTU", "From", "To", "Quotes", "Flow", "Frame"}, rows)
		notes := false
		for _, ic := range v.icmp { // an error that may be another one rewritten by NAT (icmp-error-nat-unknown)
			if ic.Uncertain != "" {
				fmt.Fprintf(w, "- %s, frame %s: %s\n", mdCell(ic.Point), mdCell(evidence(ic.Evidence)), mdCell(ic.Uncertain))
				notes = true
			}
		}
		if notes {
			fmt.Fprintln(w)
		}
	}
}
