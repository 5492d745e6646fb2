package report

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/calipath/calipath/correlate"
)

const htmlCSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#1d3557;color:#fff;padding:14px 28px}
header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;opacity:.85}
header a{color:#fff}
.ladder-note{color:#555;margin:0 0 4px}
main{padding:8px 28px 40px;max-width:1500px}
h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #d5d9df;padding-bottom:4px}
h3{font-size:15px;margin:14px 0 4px}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:4px 0 10px}
th,td{border:1px solid #dde1e6;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5;cursor:pointer;user-select:none;white-space:nowrap}
th.sorted-asc::after{content:" ▲"}th.sorted-desc::after{content:" ▼"}
td.n{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:12px}
.an{background:#fff;border:1px solid #dde1e6;border-left:6px solid #888;padding:8px 12px;margin:8px 0}
.an.error{border-left-color:#c62828}.an.warning{border-left-color:#ef8f00}.an.info{border-left-color:#1e88e5}
.sev{font-weight:700;text-transform:uppercase;font-size:12px;margin-right:6px}
.error .sev{color:#c62828}.warning .sev{color:#b36b00}.info .sev{color:#1565c0}
.next{margin:4px 0}.ev{color:#555}
.lossy td{background:#fdecea}
svg{background:#fff;border:1px solid #dde1e6;margin:6px 0;display:block;max-width:100%;height:auto}
svg text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:14px 0}
.card{background:#fff;border:1px solid #dde1e6;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:20px}
@media print{
body{background:#fff;font-size:11px}
header{background:#fff;color:#000;border-bottom:2px solid #1d3557;padding:0 0 6px}
header a,.ev a{color:inherit;text-decoration:none}
main{padding:0;max-width:none}
section.brk{break-before:page}
h2,h3,.ladder-note{break-after:avoid}
table{width:100%;table-layout:fixed;font-size:9px}
th,td{overflow-wrap:anywhere;padding:2px 4px}
th{cursor:auto;white-space:normal}
th.sorted-asc::after,th.sorted-desc::after{content:none}
thead{display:table-header-group}
tr,.an,.card{break-inside:avoid}
svg{max-width:100%;height:auto;box-sizing:border-box;break-inside:avoid}
}
`

// Sorting: click a header; cells with data-v sort by that number, others by text.
const htmlJS = `
document.querySelectorAll("table.sortable").forEach(function(t){
  t.querySelectorAll("th").forEach(function(th,col){
    th.addEventListener("click",function(){
      var asc=!th.classList.contains("sorted-asc");
      t.querySelectorAll("th").forEach(function(h){h.classList.remove("sorted-asc","sorted-desc")});
      th.classList.add(asc?"sorted-asc":"sorted-desc");
      var body=t.tBodies[0], rows=Array.prototype.slice.call(body.rows);
      function key(r){var c=r.cells[col];if(!c)return "";var v=c.getAttribute("data-v");return v===null?c.textContent:parseFloat(v)}
      rows.sort(function(a,b){var x=key(a),y=key(b);var d=(typeof x==="number"&&typeof y==="number")?x-y:String(x).localeCompare(String(y));return asc?d:-d});
      rows.forEach(function(r){body.appendChild(r)});
    });
  });
});
`

// htmlCSP is the report's Content-Security-Policy: nothing loads from anywhere, and only the report's
// own style sheet and sorting script (by their hashes) apply; no other script, style or markup a
// capture might smuggle in could run. The report reads fully without the script (it only sorts).
var htmlCSP = "default-src 'none'; style-src '" + cspHash(htmlCSS) + "'; script-src '" + cspHash(htmlJS) +
	"'; img-src data:; base-uri 'none'; form-action 'none'"

// cspHash is the CSP source expression of an inline element's contents.
func cspHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(h[:])
}

// esc escapes s for HTML text and attributes. s comes from the view, which showed its control
// characters and bidirectional overrides as visible escapes already (a raw ESC, BEL or C1 byte in the
// file would run on the terminal of whoever cats it, and U+202E would reverse the rest of the
// paragraph in the browser).
func esc(s string) string { return html.EscapeString(s) }

// hcell is an HTML table cell: text, and for numbers the value to sort by.
type hcell struct {
	s   string
	num bool
	v   int64
}

func tc(s string) hcell { return hcell{s: s} }
func nc(n int) hcell    { return hcell{s: strconv.Itoa(n), num: true, v: int64(n)} }
func dc(ns int64) hcell { return hcell{s: dur(ns), num: true, v: ns} }

// slc is a segment's latency statistic cell, marked as a bound or unknown (correlate.Segment.Mark).
func slc(sg *correlate.Segment, ns int64) hcell {
	c := lc(sg.LatencyNs, ns)
	c.s = sg.Mark(c.s)
	return c
}

// flc is a flow's latency statistic cell, marked as a bound or unknown (correlate.Flow.Mark).
func flc(f *correlate.Flow, ns int64) hcell {
	c := lc(f.LatencyNs, ns)
	c.s = f.Mark(c.s)
	return c
}

// lc is a latency statistic cell, "-" (sorting first) without samples.
func lc(l correlate.Latency, ns int64) hcell {
	if l.N == 0 {
		return hcell{s: "-", num: true, v: -1 << 62}
	}
	return dc(ns)
}

// hTable writes a sortable table; rowAttr (may be nil) gives each row's attributes, such as
// ` class="lossy"` or ` id="in-2"`.
func hTable(w io.Writer, headers []string, rows [][]hcell, rowAttr func(int) string) {
	fmt.Fprint(w, "<table class=\"sortable\"><thead><tr>")
	for _, h := range headers {
		fmt.Fprintf(w, "<th>%s</th>", esc(h))
	}
	fmt.Fprint(w, "</tr></thead><tbody>\n")
	for i, r := range rows {
		attr := ""
		if rowAttr != nil {
			attr = rowAttr(i)
		}
		fmt.Fprintf(w, "<tr%s>", attr)
		for _, c := range r {
			if c.num {
				fmt.Fprintf(w, `<td class="n" data-v="%d">%s</td>`, c.v, esc(c.s))
			} else {
				fmt.Fprintf(w, "<td>%s</td>", esc(c.s))
			}
		}
		fmt.Fprint(w, "</tr>\n")
	}
	fmt.Fprint(w, "</tbody></table>\n")
}

// htmlDoc writes the HTML report of a view, one section after another.
type htmlDoc struct {
	w    io.Writer
	v    *view
	open bool // a <section> is open
}

// section closes the open section, if any, and opens the next; printed, the main sections start a
// page (htmlCSS's print rules).
func (h *htmlDoc) section(pageBreak bool) {
	if h.open {
		fmt.Fprint(h.w, "</section>\n")
	}
	if pageBreak {
		fmt.Fprint(h.w, "<section class=\"brk\">\n")
	} else {
		fmt.Fprint(h.w, "<section>\n")
	}
	h.open = true
}

// writeHTML lays out the view as one HTML document.
func writeHTML(w io.Writer, v *view) {
	h := &htmlDoc{w: w, v: v}
	h.header()
	h.paths()
	h.anomalies()
	h.segments()
	h.flows()
	h.ladders()
	h.points()
	h.clocks()
	h.modes()
	h.arp()
	h.nd()
	h.icmp()
	h.inputs()
	fmt.Fprintf(w, "</section>\n</main>\n<script>%s</script>\n</body></html>\n", htmlJS)
}

// header opens the document: the header with the capture's time range and inputs, the summary
// cards, the inputs not read and the filter.
func (h *htmlDoc) header() {
	w, v := h.w, h.v
	r := v.res
	s := r.Summary
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
	fmt.Fprintf(w, "<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">\n", htmlCSP)
	fmt.Fprintf(w, "<meta name=\"viewport\" content=\"width=device-width\">\n<title>calipath report</title>\n")
	fmt.Fprintf(w, "<style>%s</style></head><body>\n", htmlCSS)
	fmt.Fprintf(w, "<header><h1>calipath report</h1><p>%s &middot; mode %s &middot; %d capture points in %d files</p>\n",
		esc(r.Schema), esc(orDash(r.Mode)), len(r.Points), len(r.Inputs))
	if v.timeFrom != 0 {
		to := clock(v.timeTo)
		if to[:10] == clock(v.timeFrom)[:10] {
			to = to[11:] // the same day
		}
		fmt.Fprintf(w, "<p class=\"range\">Captured %s – %s UTC (%s), clock-corrected</p>\n", esc(clock(v.timeFrom)), esc(to),
			esc(dur(v.timeTo-v.timeFrom)))
	}
	if len(v.inputs) > 0 {
		var in []string
		for _, f := range v.inputs {
			in = append(in, fmt.Sprintf(`<a href="#in-%d" title="%s">%s</a>`, v.fileIndex[f], esc(f), esc(v.label(f))))
		}
		more := ""
		if v.moreInputs > 0 {
			more = fmt.Sprintf(" and %d more", v.moreInputs)
		}
		fmt.Fprintf(w, "<p class=\"inputs\">Inputs: %s%s</p>\n", strings.Join(in, ", "), more)
	}
	fmt.Fprint(w, "</header>\n<main>\n")
	fmt.Fprint(w, "<div class=\"cards\">")
	for _, c := range []struct {
		label string
		n     int
	}{{"packets as sent", s.Journeys}, {"delivered", s.Delivered}, {"lost", s.Lost}, {"not captured", s.NotCaptured},
		{"flows", s.Flows}, {"frames", s.Frames}, {"skipped", s.Skipped}, {"errors", s.Anomalies["error"]},
		{"warnings", s.Anomalies["warning"]}} {
		fmt.Fprintf(w, "<div class=\"card\"><b>%d</b>%s</div>", c.n, esc(c.label))
	}
	fmt.Fprint(w, "</div>\n")
	if s.Unreliable != "" {
		fmt.Fprintf(w, "<div class=\"an warning\"><span class=\"sev\">unreliable</span>%s</div>\n", esc(s.Unreliable))
	}
	if len(s.Unreadable) > 0 {
		fmt.Fprintf(w, "<div class=\"an warning\"><span class=\"sev\">not read</span>%s, left out of this report:<ul>\n", esc(unreadCount(r)))
		for _, u := range s.Unreadable {
			fmt.Fprintf(w, "<li><code>%s</code>: %s</li>\n", esc(u.File), esc(u.Error))
		}
		fmt.Fprint(w, "</ul></div>\n")
	}
	if v.filter != nil {
		fmt.Fprintf(w, "<p>Filter <code>%s</code>: %d of %d flows match; segments and clocks cover all traffic.</p>\n",
			esc(v.filterText), v.nFlows, len(r.Flows))
	}
}

// paths draws the path diagrams and lists the lossy segments they leave out.
func (h *htmlDoc) paths() {
	w, v := h.w, h.v
	h.section(false)
	fmt.Fprint(w, "<h2>Path</h2>\n<p>Packets as sent, latency per frame.</p>\n")
	if len(v.paths) == 0 {
		fmt.Fprint(w, "<p>No flow crossed two capture points.</p>\n")
	}
	for i, pv := range v.paths {
		pathSVG(w, v, pv, i)
	}
	if v.morePaths > 0 {
		fmt.Fprintf(w, "<p>%d more paths; see the segment table.</p>\n", v.morePaths)
	}
	if off := v.offPath; len(off) > 0 {
		fmt.Fprint(w, "<p>Losses on segments not drawn above:</p><ul>\n")
		for _, sg := range off {
			fmt.Fprintf(w, "<li><span class=\"mono\">%s → %s</span> (%s): %s</li>\n", esc(sg.From), esc(sg.To), esc(sg.Kind), esc(segLine(sg)))
		}
		fmt.Fprint(w, "</ul>\n")
	}
}

// anomalies lists the anomalies, most severe first, each with its flows and frames.
func (h *htmlDoc) anomalies() {
	w, v := h.w, h.v
	h.section(true)
	fmt.Fprint(w, "<h2>Anomalies, most severe first</h2>\n")
	if len(v.anomalies) == 0 {
		fmt.Fprint(w, "<p>None.</p>\n")
	}
	for _, a := range v.anomalies {
		explain, next := a.Message, a.Next
		fmt.Fprintf(w, "<div class=\"an %s\"><div><span class=\"sev\">%s</span><b>%s</b> at <span class=\"mono\">%s</span>",
			esc(a.Severity), esc(a.Severity), esc(a.Kind), esc(a.place))
		if a.Count > 0 {
			fmt.Fprintf(w, " (%d)", a.Count)
		}
		fmt.Fprintf(w, "</div><div>%s</div>", esc(explain))
		for _, e := range a.ExplainedBy {
			fmt.Fprintf(w, "<div class=\"next\"><b>Explained by:</b> <span class=\"mono\">%s</span> %s</div>",
				esc(citation(e)), esc(e.Why))
		}
		if next != "" {
			fmt.Fprintf(w, "<div class=\"next\"><b>Next:</b> %s</div>", esc(next))
		}
		if len(a.flows) > 0 {
			more := ""
			if a.moreFlows > 0 {
				more = fmt.Sprintf(" and %d more", a.moreFlows)
			}
			fmt.Fprintf(w, "<div class=\"ev\">Flows: %s%s</div>", esc(strings.Join(a.flows, " ")), more)
		}
		if len(a.evidence) > 0 {
			fmt.Fprintf(w, "<div class=\"ev\">Frames: %s", frameList(v, a.evidence))
			if a.moreEvidence > 0 {
				fmt.Fprintf(w, "; and %d more", a.moreEvidence)
			}
			fmt.Fprint(w, "</div>")
		}
		fmt.Fprint(w, "</div>\n")
	}
}

// segments is the segment table.
func (h *htmlDoc) segments() {
	w := h.w
	r := h.v.res
	h.section(true)
	fmt.Fprint(w, "<h2>Segments</h2>\n<p>Packets as sent, latency per frame.</p>\n")
	var rows [][]hcell
	for i := range r.Segments {
		sg := &r.Segments[i]
		l := sg.LatencyNs
		rows = append(rows, []hcell{tc(sg.From + " → " + sg.To), tc(sg.Kind), nc(sg.Packets), nc(sg.Delivered), nc(sg.Lost),
			nc(sg.NotCaptured), slc(sg, l.Min), slc(sg, l.P50), slc(sg, l.P90), slc(sg, l.P99), slc(sg, l.Max)})
	}
	hTable(w, []string{"segment", "kind", "packets", "delivered", "lost", "not captured", "min", "p50", "p90", "p99", "max"}, rows,
		func(i int) string {
			if r.Segments[i].Lost > 0 {
				return ` class="lossy"`
			}
			return ""
		})
	for _, n := range segNotes(r.Segments) {
		fmt.Fprintf(w, "<p class=\"ladder-note\">%s</p>\n", esc(n))
	}
}

// flows is the table of the worst flows.
func (h *htmlDoc) flows() {
	w, v := h.w, h.v
	h.section(true)
	if v.nFlows > len(v.flows) {
		fmt.Fprintf(w, "<h2>Flows, worst %d of %d</h2>\n", len(v.flows), v.nFlows)
	} else {
		fmt.Fprint(w, "<h2>Flows, worst first</h2>\n")
	}
	fmt.Fprint(w, "<p>Packets as sent.</p>\n")
	var rows [][]hcell
	for i := range v.flows {
		f := &v.flows[i]
		rows = append(rows, []hcell{tc(f.ID), tc(f.Proto), tc(clientCell(f)), tc(f.dst), nc(f.Packets), nc(f.Lost),
			nc(f.NotCaptured), nc(f.Retransmissions), nc(f.Resets), flc(&f.Flow, f.LatencyNs.P50), flc(&f.Flow, f.LatencyNs.P99), tc(lostAt(&f.Flow)),
			tc(f.nat)})
	}
	hTable(w, []string{"flow", "proto", "client", "server", "packets", "lost", "not captured", "retrans", "resets", "p50", "p99",
		"lost at", "NAT"}, rows, func(i int) string {
		if v.flows[i].Lost > 0 {
			return ` class="lossy"`
		}
		return ""
	})
	for _, n := range flowNotes(v.flows, true) {
		fmt.Fprintf(w, "<p class=\"ladder-note\">%s</p>\n", esc(n))
	}
}

// ladders draws the ladder diagrams of the worst flows that have journeys to show.
func (h *htmlDoc) ladders() {
	w, v := h.w, h.v
	ladders := 0
	for i := range v.flows {
		if ladders == v.ladders {
			break
		}
		f := &v.flows[i]
		if js := v.flowJourneys(f.ID); len(js) > 0 && len(f.Path) >= 2 {
			if ladders == 0 {
				h.section(true)
				fmt.Fprint(w, "<h2>Ladder diagrams of the worst flows</h2>\n")
			}
			ladderSVG(w, v, &f.Flow, js, v.rungs, ladders)
			ladders++
		}
	}
}

// points is the table of the capture points.
func (h *htmlDoc) points() {
	w, v := h.w, h.v
	r := v.res
	h.section(true)
	fmt.Fprint(w, "<h2>Capture points</h2>\n")
	var rows [][]hcell
	for _, p := range r.Points {
		rows = append(rows, []hcell{tc(p.Node), tc(p.Iface), tc(roleLabel(&p)), tc(v.pod(&p)), nc(p.Frames), tc(strings.Join(append([]string{p.Reason}, p.MoreReasons...), "; also "))})
	}
	hTable(w, []string{"node", "interface", "role", "pod", "frames", "why"}, rows, nil)
}

// clocks is the table of the nodes' clock offsets.
func (h *htmlDoc) clocks() {
	w := h.w
	r := h.v.res
	h.section(false)
	fmt.Fprint(w, "<h2>Clocks</h2>\n")
	var rows [][]hcell
	for _, c := range r.Clocks {
		drift := tc("—")
		if c.DriftMeasured() {
			drift = tc(strconv.FormatFloat(c.DriftPPM, 'f', -1, 64))
		}
		name, _, _ := c.MethodName()
		rows = append(rows, []hcell{tc(c.Node), {s: offset(c), num: true, v: c.OffsetNs}, dc(c.BoundNs),
			drift, tc(name), nc(c.Samples)})
	}
	hTable(w, []string{"node", "offset", "bound", "drift (ppm)", "method", "samples"}, rows, nil)
	for _, n := range correlate.ClockNotes(r.Clocks) {
		fmt.Fprintf(w, "<p class=\"ladder-note\">%s</p>\n", esc(n))
	}
}

// modes gives the datapath mode of each node pair and the node addresses.
func (h *htmlDoc) modes() {
	w, v := h.w, h.v
	r := v.res
	h.section(false)
	fmt.Fprint(w, "<h2>Mode and nodes</h2>\n")
	var rows [][]hcell
	for _, m := range r.Modes {
		rows = append(rows, []hcell{tc(m.From), tc(m.To), tc(m.Mode)})
	}
	hTable(w, []string{"from", "to", "mode"}, rows, nil)
	if r.ModeWhy != "" {
		fmt.Fprintf(w, "<p>Mode %s: %s.</p>\n", esc(orDash(r.Mode)), esc(r.ModeWhy))
	}
	rows = nil
	for _, n := range r.NodeIPs {
		rows = append(rows, []hcell{tc(n.Node), tc(n.IP), tc(v.named(n.Reason))})
	}
	hTable(w, []string{"node", "IP", "why"}, rows, nil)
}

// arp is the ARP table, when a capture saw ARP.
func (h *htmlDoc) arp() {
	w := h.w
	r := h.v.res
	if len(r.ARP) > 0 {
		h.section(false)
		fmt.Fprint(w, "<h2>ARP</h2>\n")
		var rows [][]hcell
		for _, a := range r.ARP {
			rows = append(rows, []hcell{tc(a.Point), nc(a.Requests), nc(a.Replies), nc(a.ProxyReplies), nc(a.Unanswered),
				nc(a.UnexpectedMAC), nc(a.Gratuitous), lc(a.LatencyNs, a.LatencyNs.P50), lc(a.LatencyNs, a.LatencyNs.Max)})
		}
		hTable(w, []string{"point", "requests", "replies", "proxy replies", "unanswered", "wrong MAC", "gratuitous", "p50", "max"}, rows, nil)
	}
}

// nd is the IPv6 neighbour discovery table, when a capture saw it (text.nd).
func (h *htmlDoc) nd() {
	w := h.w
	if nds := h.v.res.ND; len(nds) > 0 {
		h.section(false)
		fmt.Fprint(w, "<h2>Neighbour discovery (IPv6)</h2>\n")
		var rows [][]hcell
		for _, a := range nds {
			rows = append(rows, []hcell{tc(a.Point), nc(a.Solicitations), nc(a.Advertisements), tc(naFlags(a.AdvertFlags)), nc(a.GatewayOK), nc(a.Unanswered),
				nc(a.UnexpectedMAC), nc(a.DAD), lc(a.LatencyNs, a.LatencyNs.P50), lc(a.LatencyNs, a.LatencyNs.Max)})
		}
		hTable(w, []string{"point", "solicitations", "advertisements", "NA flags", "gateway OK", "unanswered", "wrong MAC", "DAD", "p50", "max"}, rows, nil)
	}
}

// icmp lists the ICMP errors, when there are any.
func (h *htmlDoc) icmp() {
	w, v := h.w, h.v
	if len(v.icmp) > 0 {
		h.section(false)
		fmt.Fprint(w, "<h2>ICMP errors</h2>\n")
		var rows [][]hcell
		for _, ic := range v.icmp {
			rows = append(rows, []hcell{tc(ic.Point), tc(fmt.Sprintf("%d/%d", ic.Type, ic.Code)), nc(int(ic.MTU)), tc(ic.Src),
				tc(ic.Dst), tc(ic.Quoted), tc(ic.Flow), tc(v.label(ic.Evidence.File) + ":" + itoa(int(ic.Evidence.Frame)))})
		}
		if v.moreICMP > 0 {
			rows = append(rows, []hcell{tc(fmt.Sprintf("%d more", v.moreICMP))})
		}
		hTable(w, []string{"point", "type/code", "MTU", "from", "to", "quotes", "flow", "frame"}, rows, nil)
		for _, ic := range v.icmp { // an error that may be another one rewritten by NAT (icmp-error-nat-unknown)
			if ic.Uncertain != "" {
				fmt.Fprintf(w, "<p>%s, frame %s: %s</p>\n", esc(ic.Point), esc(v.label(ic.Evidence.File)+":"+itoa(int(ic.Evidence.Frame))),
					esc(ic.Uncertain))
			}
		}
	}
}

// inputs is the table of the capture files, each row the target of the links to its file.
func (h *htmlDoc) inputs() {
	w := h.w
	r := h.v.res
	h.section(false)
	fmt.Fprint(w, "<h2>Inputs</h2>\n")
	var rows [][]hcell
	for _, in := range r.Inputs {
		f := in.Format
		if in.Compressed {
			f += "+gzip"
		}
		rows = append(rows, []hcell{tc(in.File), tc(f), tc(strings.Join(in.LinkTypes, ", ")), nc(in.Records), nc(in.Skipped),
			nc(in.Damaged), tc(strings.Join(in.Errors, "; "))})
	}
	hTable(w, []string{"file", "format", "link types", "records", "skipped", "damaged", "errors"}, rows,
		func(i int) string { return fmt.Sprintf(` id="in-%d"`, i) })
}

// frameList names each file of a frame list once, linked to its row in the inputs table (which
// gives its path), followed by its frames: "node-a-eth0.pcap: 3, 7; node-b-eth0.pcap: 12".
func frameList(v *view, ev []correlate.Evidence) string {
	files, frames := framesByFile(ev)
	var out []string
	for _, f := range files {
		name := "<code>" + esc(v.label(f)) + "</code>"
		if i, ok := v.fileIndex[f]; ok {
			name = fmt.Sprintf(`<a href="#in-%d" title="%s">%s</a>`, i, esc(f), name)
		}
		out = append(out, name+": "+strings.Join(frames[f], ", "))
	}
	return strings.Join(out, "; ")
}

// clock formats corrected ns since the epoch as a UTC date and time with µs.
func clock(ns int64) string { return time.Unix(0, ns).UTC().Format("2006-01-02 15:04:05.000000") }

// sevColor is the stroke colour of a segment by the most severe anomaly on it.
func sevColor(sev string, lost bool) string {
	switch {
	case sev == "error":
		return "#c62828"
	case sev == "warning" || lost:
		return "#ef8f00"
	}
	return "#2e7d32"
}

// pathSVG draws a path left to right: nodes as boxes holding their capture points, each with the
// frames the path's flows had there, and between two points the segment in each direction (→ above,
// ← below), coloured by loss and labelled with what the path's flows lost there. It counts the path's
// flows only; the segment table counts all traffic.
func pathSVG(w io.Writer, v *view, pv pathView, id int) {
	n := len(pv.points)
	g := pathGeom{gap: 118} // room for the segment labels; wider when there are few points
	if n > 1 {
		g.gap = max(g.gap, min(240, (1300-40-n*pathBoxW)/(n-1)))
	}
	width := 40 + n*pathBoxW + (n-1)*g.gap
	height := pathTop + pathBoxH + 70
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`, width, height, width, height)
	fmt.Fprintf(w, `<defs><marker id="ah%d" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="context-stroke"/></marker></defs>`, id)
	more := ""
	if pv.moreFlows > 0 {
		more = fmt.Sprintf(" +%d", pv.moreFlows)
	}
	fmt.Fprintf(w, `<text x="20" y="16" font-weight="bold">%s → %s</text><text x="20" y="30" fill="#555">flows %s%s: %s</text>`,
		esc(v.pointLabel(pv.points[0])), esc(v.pointLabel(pv.points[n-1])), esc(strings.Join(pv.flows, " ")), esc(more), esc(pv.summary()))
	g.nodes(w, pv)
	g.points(w, v, pv)
	for i, st := range pv.steps {
		xa, xb := g.x(i)+pathBoxW, g.x(i+1)
		for d := 0; d < 2; d++ {
			g.arrow(w, st, d, xa, xb, id)
		}
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle" fill="#777" font-style="italic">%s</text>`, (xa+xb)/2, pathTop+pathBoxH+52, esc(st.kind))
	}
	fmt.Fprint(w, "</svg>\n")
}

// A path diagram's boxes, one per capture point, are pathBoxW by pathBoxH, their tops at pathTop.
const pathBoxW, pathBoxH, pathTop = 124, 44, 96

// pathGeom places the boxes of a path diagram, gap apart.
type pathGeom struct{ gap int }

// x is the left edge of point i's box.
func (g pathGeom) x(i int) int { return 20 + i*(pathBoxW+g.gap) }

// nodes draws a dashed frame around the boxes of each node, with the node's name.
func (g pathGeom) nodes(w io.Writer, pv pathView) {
	nodes, byNode := nodesOf(pv.points)
	k := 0
	for ni, node := range nodes {
		x0 := g.x(k) - 8
		x1 := g.x(k+len(byNode[ni])-1) + pathBoxW + 8
		fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" rx="8" fill="#f1f4f8" stroke="#9aa5b1" stroke-dasharray="4 3"/>`,
			x0, pathTop-20, x1-x0, pathBoxH+28)
		fmt.Fprintf(w, `<text x="%d" y="%d" font-weight="bold" fill="#1d3557">%s</text>`, x0+6, pathTop-7, esc(node))
		k += len(byNode[ni])
	}
}

// points draws each capture point's box, coloured by its role, with the frames the path's flows had
// there.
func (g pathGeom) points(w io.Writer, v *view, pv pathView) {
	roleFill := map[string]string{"pod-veth": "#e3f2fd", "tunnel": "#ede7f6", "underlay": "#fff3e0"}
	for i, p := range pv.points {
		role, pod, podLong, label := "", "", "", ""
		if pt := v.points[p]; pt != nil {
			role, pod, podLong, label = pt.Role, v.podShort(pt), v.pod(pt), roleLabel(pt)
		}
		fill := roleFill[role]
		if fill == "" {
			fill = "#eceff1"
		}
		dash := "" // an inferred point (no frame captured there) is drawn dashed
		if label != role {
			dash = ` stroke-dasharray="5 3"`
		}
		fmt.Fprintf(w, `<g><title>%s</title><rect x="%d" y="%d" width="%d" height="%d" rx="5" fill="%s" stroke="#455a64"%s/>`,
			esc(p+" "+label+" "+podLong), g.x(i), pathTop, pathBoxW, pathBoxH, fill, dash)
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle" font-weight="bold">%s</text>`, g.x(i)+pathBoxW/2, pathTop+18, esc(cut(iface(p), 18)))
		sub := label
		if pod != "" {
			sub = pod
		}
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle" fill="#555">%s</text></g>`, g.x(i)+pathBoxW/2, pathTop+34, esc(sub))
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle" fill="#333">%d frames</text>`, g.x(i)+pathBoxW/2, pathTop+pathBoxH+14, pv.seen[p])
	}
}

// arrow draws one direction of a step between the boxes whose facing edges are xa and xb (d 0: →,
// above; 1: ←, below), coloured by the most severe anomaly where the path's flows lost packets, and
// labelled with the segment's counts when they are the path's flows' alone.
func (g pathGeom) arrow(w io.Writer, st pathStep, d, xa, xb, id int) {
	a, b := st.from, st.to
	y := pathTop + 14 + d*18
	key, sev, arrow, lost, own, seg, line := [2]string{a, b}, st.fwdSev, "→ ", st.fwdLost, st.fwdOwn, st.fwd, st.fwdLine()
	if d == 1 {
		key, sev, arrow, lost, own, seg, line = [2]string{b, a}, st.backSev, "← ", st.backLost, st.backOwn, st.back, st.backLine()
	}
	col, dash := sevColor(sev, lost > 0), ""
	label, note := lossLine(lost), "of these flows; the segment is shared"
	if own {
		note = ""
		if seg == nil {
			col, dash, label = "#b0bec5", ` stroke-dasharray="3 3"`, "no packets"
		} else {
			label = fmt.Sprintf("%d pkts, %d lost", seg.Packets, seg.Lost)
			if seg.Delivered > 0 {
				note = "p50 " + seg.Mark(dur(seg.LatencyNs.P50))
			}
		}
	}
	x1, x2 := xa+4, xb-4
	if d == 1 {
		x1, x2 = x2, x1
	}
	fmt.Fprintf(w, `<g><title>%s → %s: %s</title><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"%s marker-end="url(#ah%d)"/></g>`,
		esc(key[0]), esc(key[1]), esc(line), x1, y, x2, y, col, dash, id)
	ly := pathTop - 44
	if d == 1 {
		ly = pathTop + pathBoxH + 22
	}
	fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle" fill="%s">%s</text>`, (xa+xb)/2, ly, col, esc(arrow+label))
	if note != "" {
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle" fill="#333" font-size="10">%s</text>`, (xa+xb)/2, ly+13, esc(note))
	}
}

// ladderSVG draws a flow's packets as a ladder: one column per capture point in path order, one row
// per packet, an arrow per hop; a lost packet's last arrow ends, crossed, between the point it was
// last seen at and the one expected next.
func ladderSVG(w io.Writer, v *view, f *correlate.Flow, js []correlate.Journey, rungs, id int) {
	g := ladderGeom{col: map[string]int{}, id: id}
	for i, p := range f.Path {
		g.col[p] = i
	}
	js = ladderRungs(js, rungs)
	// Each row is labelled with the packet's time (from the first packet shown), TCP flags and IP
	// length, and each arrow with its hop's latency: printed, not only on hover, so that a
	// screenshot or a printout keeps them.
	n := len(f.Path)
	width := ladLabelW + 60 + (n-1)*ladColW + 90
	height := ladTop + len(js)*ladRowH + 20
	if len(js) > 0 && len(js[0].Hops) > 0 {
		g.t0, g.t0At = js[0].Hops[0].Ts, js[0].Hops[0].Point
	}
	fmt.Fprintf(w, `<h3>%s %s %s → %s</h3>`, esc(f.ID), esc(f.Proto), esc(v.named(f.Src.String())), esc(v.named(f.Dst.String())))
	if g.t0 != 0 {
		legend := ""
		if oneSidedClock(v.res) {
			legend = " ≥ lower bound, ≤ upper bound, ? not known: a clock of the two nodes is bounded on one side only (see Clock offsets)."
		}
		fmt.Fprintf(w, `<p class="ladder-note">Times from the first packet shown, %s UTC; latency on each arrow.%s</p>`, esc(clock(g.t0)), esc(legend))
	}
	for _, o := range append(correlate.OrderNotes(v.res.Clocks, f.Path), correlate.PathOrderNotes(f)...) {
		fmt.Fprintf(w, `<p class="ladder-note">Order%s.</p>`, esc(strings.TrimPrefix(o, "order")))
	}
	for _, j := range js { // printed, not only on hover: why a packet marked ? is neither delivered nor lost
		if j.Status == "uncertain" && j.Uncertain != "" {
			fmt.Fprintf(w, `<p class="ladder-note">? #%d: %s</p>`, j.ID, esc(j.Uncertain))
		}
	}
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`, width, height, width, height)
	fmt.Fprintf(w, `<defs><marker id="lh%d" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="context-stroke"/></marker></defs>`, id)
	fmt.Fprint(w, `<text x="4" y="32" fill="#555" font-weight="bold">packet</text><text x="128" y="32" text-anchor="end" fill="#555" font-weight="bold">time</text>`+
		`<text x="140" y="32" fill="#555" font-weight="bold">flags</text><text x="226" y="32" text-anchor="end" fill="#555" font-weight="bold">size</text>`)
	for i, p := range f.Path {
		fmt.Fprintf(w, `<text x="%d" y="18" text-anchor="middle" font-weight="bold">%s</text>`, ladderX(i), esc(cut(iface(p), 18)))
		node, _, _ := strings.Cut(p, "/")
		fmt.Fprintf(w, `<text x="%d" y="32" text-anchor="middle" fill="#555">%s</text>`, ladderX(i), esc(node))
		fmt.Fprintf(w, `<line x1="%d" y1="40" x2="%d" y2="%d" stroke="#90a4ae" stroke-width="2"/>`, ladderX(i), ladderX(i), height-8)
	}
	for r, j := range js {
		g.row(w, v, &j, ladTop+r*ladRowH)
	}
	fmt.Fprint(w, "</svg>\n")
}

// oneSidedClock reports whether some node's clock is bounded on one side only (its times to and from
// other nodes' are bounds, or not known).
func oneSidedClock(res *correlate.Result) bool {
	for _, c := range res.Clocks {
		if c.BoundNs < 0 {
			return true
		}
	}
	return false
}

// ladderRungs keeps at most rungs of js: the packets that did not arrive first, then the earliest,
// in their order.
func ladderRungs(js []correlate.Journey, rungs int) []correlate.Journey {
	if len(js) <= rungs {
		return js
	}
	idx := make([]int, len(js))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		return (js[idx[a]].Status != "delivered") && (js[idx[b]].Status == "delivered")
	})
	idx = idx[:rungs]
	sort.Ints(idx)
	sel := make([]correlate.Journey, 0, rungs)
	for _, i := range idx {
		sel = append(sel, js[i])
	}
	return sel
}

// A ladder's columns are ladColW apart right of ladLabelW of row labels; its rows, ladRowH high,
// start at ladTop.
const ladColW, ladLabelW, ladTop, ladRowH = 150, 236, 56, 24

// ladderX is the x of column i.
func ladderX(i int) int { return ladLabelW + 60 + i*ladColW }

// ladderGeom is what a ladder's rows share: each path point's column, the time rows count from, and
// the diagram's number (its arrow marker's id).
type ladderGeom struct {
	col  map[string]int
	t0   int64
	t0At string // the point of the sighting at t0, whose node's clock the times are from
	id   int
}

// row draws journey j at y: its label (number, time, TCP flags, size), an arrow per hop between two
// columns with its latency, and for a lost or uncaptured packet a crossed end after where it was
// last seen.
func (g *ladderGeom) row(w io.Writer, v *view, j *correlate.Journey, y int) {
	col, id, t0 := g.col, g.id, g.t0
	dirCol := "#1565c0"
	if j.Dir == "s2c" {
		dirCol = "#6a1b9a"
	}
	fmt.Fprintf(w, `<text x="4" y="%d" fill="#555">#%d</text>`, y+8, j.ID)
	if len(j.Hops) > 0 {
		h := j.Hops[0]
		// From a sighting on another node, perhaps: a bound, or not known, when a clock of the two is
		// bounded on one side only.
		at := correlate.MarkBound(v.res.ClockBound(g.t0At, h.Point), "+"+dur(h.Ts-t0))
		fmt.Fprintf(w, `<text x="128" y="%d" text-anchor="end" fill="#333">%s</text>`, y+8, esc(at))
		fmt.Fprintf(w, `<text x="140" y="%d" fill="%s">%s</text>`, y+8, dirCol, esc(h.TCPFlags))
		if h.Len > 0 {
			fmt.Fprintf(w, `<text x="226" y="%d" text-anchor="end" fill="#333">%d B</text>`, y+8, h.Len)
		}
	}
	var placed []int // the hops at the ladder's columns
	for k, h := range j.Hops {
		if _, ok := col[h.Point]; ok {
			placed = append(placed, k)
		}
	}
	for i := 0; i+1 < len(placed); i++ {
		a, b := j.Hops[placed[i]], j.Hops[placed[i+1]]
		ca, cb := col[a.Point], col[b.Point]
		if ca == cb {
			continue
		}
		lat := correlate.MarkBound(hopsBound(j.Hops[placed[i]+1:placed[i+1]+1]), dur(b.Ts-a.Ts))
		if u := v.res.ClockUncertain(a.Point, b.Point, b.Ts-a.Ts); u > 0 && lat == dur(b.Ts-a.Ts) { // loose clocks: ± u
			lat = correlate.MarkLoose(u, lat) + " ±" + dur(u)
		}
		fmt.Fprintf(w, `<g><title>journey %d %s: %s → %s %s (%s:%d)</title><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.6" marker-end="url(#lh%d)"/>`,
			j.ID, esc(j.Dir), esc(a.Point), esc(b.Point), esc(lat), esc(v.label(b.File)), b.Frame, ladderX(ca), y, ladderX(cb), y+ladRowH/2, dirCol, id)
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle" font-size="9" fill="%s">%s</text></g>`,
			(ladderX(ca)+ladderX(cb))/2, y+ladRowH/4-3, dirCol, esc(lat))
	}
	switch j.Status {
	case "lost", "not-captured":
		g.unarrived(w, j, y)
	case "uncertain":
		g.uncertain(w, j, y, placed)
	}
}

// uncertain marks an uncertain journey (an ICMP error that may have crossed a NAT the captures do
// not show: Journey.Uncertain) with an amber "?" and its reason on hover: at the end of a dashed line
// halfway to the point expected next after where it was last seen, or, with none, beside its last
// hop on the ladder.
func (g *ladderGeom) uncertain(w io.Writer, j *correlate.Journey, y int, placed []int) {
	const stroke = "#ef6c00"
	ymid := y + ladRowH/2
	title := fmt.Sprintf("journey %d %s: %s", j.ID, j.Dir, j.Uncertain)
	from, ok1 := g.col[j.LastSeen]
	to, ok2 := g.col[j.NextExpected]
	switch {
	case ok1 && ok2:
		xe := (ladderX(from) + ladderX(to)) / 2
		fmt.Fprintf(w, `<g><title>%s</title><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.6" stroke-dasharray="4 3"/>`,
			esc(title), ladderX(from), y, xe, ymid, stroke)
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle" font-size="14" font-weight="bold" fill="%s">?</text></g>`, xe, ymid+5, stroke)
	case len(placed) > 0:
		x := ladderX(g.col[j.Hops[placed[len(placed)-1]].Point])
		if len(placed) > 1 { // the last arrow ends half a row below
			y = ymid
		}
		fmt.Fprintf(w, `<g><title>%s</title><circle cx="%d" cy="%d" r="3" fill="%s"/>`, esc(title), x, y, stroke)
		fmt.Fprintf(w, `<text x="%d" y="%d" font-size="14" font-weight="bold" fill="%s">?</text></g>`, x+6, y+5, stroke)
	}
}

// hopsBound is what the time across hops is, each hop's DeltaNs being as its ClockBound says: ""
// when each is a measurement, a lower (upper) bound when each is one or a measurement, else not known
// (correlate.BoundNone; a lower bound and an upper one may make a measurement, out and back to one
// node, but calipath does not claim it).
func hopsBound(hops []correlate.Hop) string {
	bound := ""
	for i := range hops {
		switch b := hops[i].ClockBound; {
		case b == "" || b == bound:
		case bound == "" && b != correlate.BoundNone:
			bound = b
		default:
			return correlate.BoundNone
		}
	}
	return bound
}

// unarrived draws the dashed, crossed end of a lost or uncaptured packet, halfway between the column
// it was last seen at and the one expected next.
func (g *ladderGeom) unarrived(w io.Writer, j *correlate.Journey, y int) {
	from, ok1 := g.col[j.LastSeen]
	to, ok2 := g.col[j.NextExpected]
	if !ok1 || !ok2 {
		return
	}
	ymid := y + ladRowH/2
	xe := (ladderX(from) + ladderX(to)) / 2
	stroke, mark := "#c62828", "lost"
	if j.Status == "not-captured" {
		stroke, mark = "#78909c", "not captured"
	}
	what := mark + " after " + j.LastSeen
	if j.Status == "lost" && len(j.LostUncaptured) > 0 { // its place the captures cannot tell
		what = "lost, " + correlate.LostSpanNote(j.LastSeen, j.NextExpected, j.LostUncaptured)
	}
	fmt.Fprintf(w, `<g><title>journey %d %s: %s</title><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.6" stroke-dasharray="4 3"/>`,
		j.ID, esc(j.Dir), esc(what), ladderX(from), y, xe, ymid, stroke)
	fmt.Fprintf(w, `<path d="M%d,%dl8,8m0,-8l-8,8" stroke="%s" stroke-width="2"/></g>`, xe-4, ymid-4, stroke)
}
