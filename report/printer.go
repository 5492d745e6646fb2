package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/internal/safetext"
	"github.com/charmbracelet/x/term"
)

// Format is an output format.
type Format int

// The output formats.
const (
	Text Format = iota
	Markdown
	HTML
	JSON
)

var formatNames = []string{"text", "markdown", "html", "json"}

// String returns the format's name as --format takes it.
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "format(" + strconv.Itoa(int(f)) + ")"
}

// ParseFormat parses a format name: text, markdown (or md), html or json.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "text", "txt":
		return Text, nil
	case "markdown", "md":
		return Markdown, nil
	case "html":
		return HTML, nil
	case "json":
		return JSON, nil
	}
	return Text, fmt.Errorf("unknown format %q (want text, markdown, html or json)", s)
}

// Filter selects the flows, anomalies and journeys a report shows. *correlate.Filter implements it.
type Filter interface {
	MatchFlow(r *correlate.Result, f *correlate.Flow) bool
	MatchAnomaly(r *correlate.Result, a *correlate.Anomaly) bool
	MatchJourney(r *correlate.Result, j *correlate.Journey) bool
}

// Options configure a Printer.
type Options struct {
	Format   Format
	Color    bool   // ANSI colour in the text format
	Width    int    // columns of the text format (default 100)
	Filter   Filter // nil shows everything
	MaxFlows int    // flows listed in text, Markdown and HTML (default 25; JSON lists all)
	Ladders  int    // flows drawn as ladder diagrams in HTML (default 3)
	MaxRungs int    // packets per ladder diagram (default 48)
}

// Option changes the Options.
type Option func(*Options)

// WithFormat selects the output format.
func WithFormat(f Format) Option { return func(o *Options) { o.Format = f } }

// WithColor turns ANSI colour in the text format on or off. Use ColorFor to decide.
func WithColor(on bool) Option { return func(o *Options) { o.Color = on } }

// WithWidth sets the text format's width in columns (at least 60).
func WithWidth(n int) Option { return func(o *Options) { o.Width = max(n, 60) } }

// WithFilter shows only the flows, anomalies and journeys f matches. Segments, clocks and the
// summary always describe the whole capture.
func WithFilter(f Filter) Option { return func(o *Options) { o.Filter = f } }

// WithMaxFlows limits the flows listed by the text, Markdown and HTML formats.
func WithMaxFlows(n int) Option { return func(o *Options) { o.MaxFlows = max(n, 1) } }

// WithLadders sets how many of the worst flows the HTML report draws as ladder diagrams, and how
// many packets each shows.
func WithLadders(flows, packets int) Option {
	return func(o *Options) { o.Ladders, o.MaxRungs = max(flows, 0), max(packets, 1) }
}

// Printer writes reports of Results to an io.Writer.
type Printer struct {
	w    io.Writer
	opts Options
}

// New returns a Printer writing to w.
func New(w io.Writer, opts ...Option) *Printer {
	p := &Printer{w: w, opts: Options{Format: Text, Width: 100, MaxFlows: 25, Ladders: 3, MaxRungs: 48}}
	for _, o := range opts {
		o(&p.opts)
	}
	return p
}

// Print writes the report of res. Only a write error is returned.
func (p *Printer) Print(res *correlate.Result) error {
	bw := bufio.NewWriterSize(p.w, 64<<10)
	ew := &errWriter{w: bw}
	if p.opts.Format != JSON {
		// Strings from captures (file and interface names, reasons, messages) must not carry
		// terminal escapes or bidirectional overrides into the report: only the printer's own
		// styling may. JSON keeps them, escaped (safetext.JSON).
		res = sanitized(res)
	}
	v := newView(res, p.opts)
	switch p.opts.Format {
	case JSON:
		enc := json.NewEncoder(safetext.JSONWriter(ew))
		enc.SetIndent("", "  ")
		if err := enc.Encode(v.result()); err != nil && ew.err == nil {
			return err
		}
	case Markdown:
		writeMarkdown(ew, v)
	case HTML:
		writeHTML(ew, v)
	default:
		writeText(ew, v, p.opts)
	}
	if ew.err != nil {
		return ew.err
	}
	return bw.Flush()
}

// errWriter remembers the first write error and drops later writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

// IsTerminal reports whether w is a terminal (a character device such as /dev/null is not).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && f != nil && term.IsTerminal(f.Fd())
}

// ColorFor reports whether output to w should be coloured: w is a terminal and NO_COLOR is unset or empty
// (https://no-color.org: a NO_COLOR set to any non-empty value turns colour off).
func ColorFor(w io.Writer) bool { return colorFor(w, os.Getenv, IsTerminal) }

func colorFor(w io.Writer, getenv func(string) string, isTerminal func(io.Writer) bool) bool {
	if getenv("NO_COLOR") != "" { // https://no-color.org: set and not empty
		return false
	}
	return isTerminal(w)
}

// FailOn reports which of the anomalies match kinds: each entry of kinds is an anomaly kind, or a
// severity (error, warning, info) that matches anomalies of that severity or a more severe one.
// It returns the matched kinds, sorted, without repeats.
func FailOn(anoms []correlate.Anomaly, kinds []string) []string {
	found := map[string]bool{}
	for _, a := range anoms {
		for _, k := range kinds {
			k = strings.TrimSpace(k)
			r, isSev := severityRank[k]
			if a.Kind == k || (isSev && sevRank(a.Severity) <= r) {
				found[a.Kind] = true
			}
		}
	}
	out := make([]string, 0, len(found))
	for k := range found {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var severityRank = map[string]int{"error": 0, "warning": 1, "info": 2}

func sevRank(s string) int {
	if r, ok := severityRank[s]; ok {
		return r
	}
	return len(severityRank)
}

// view is the Result as shown: filtered and ordered for display, with lookups.
type view struct {
	res       *correlate.Result
	filter    Filter
	flows     []correlate.Flow // matching flows, worst first
	nFlows    int              // matching flows before MaxFlows
	anomalies []correlate.Anomaly
	icmp      []correlate.ICMPError
	journeys  map[string][]correlate.Journey // by flow, matching only
	segs      map[[2]string]*correlate.Segment
	segSev    map[[2]string]string // most severe anomaly on a segment
	points    map[string]*correlate.Point
	paths     []pathView
	ladders   int // flows drawn as ladders (HTML)
	rungs     int // packets per ladder
}

// pathView is one distinct client→server path and the flows that take it.
type pathView struct {
	points  []string
	flows   []string
	packets int
}

func newView(res *correlate.Result, o Options) *view {
	v := &view{res: res, filter: o.Filter, journeys: map[string][]correlate.Journey{},
		segs: map[[2]string]*correlate.Segment{}, segSev: map[[2]string]string{}, points: map[string]*correlate.Point{},
		ladders: o.Ladders, rungs: o.MaxRungs}
	for i := range res.Flows {
		if v.filter == nil || v.filter.MatchFlow(res, &res.Flows[i]) {
			v.flows = append(v.flows, res.Flows[i])
		}
	}
	sort.SliceStable(v.flows, func(i, j int) bool { return worse(&v.flows[i], &v.flows[j]) })
	v.nFlows = len(v.flows)
	shown := map[string]bool{}
	for _, f := range v.flows {
		shown[f.ID] = true
	}
	for i := range res.Anomalies {
		if v.filter == nil || v.filter.MatchAnomaly(res, &res.Anomalies[i]) {
			v.anomalies = append(v.anomalies, res.Anomalies[i])
		}
	}
	sort.SliceStable(v.anomalies, func(i, j int) bool {
		a, b := &v.anomalies[i], &v.anomalies[j]
		if ra, rb := sevRank(a.Severity), sevRank(b.Severity); ra != rb {
			return ra < rb
		}
		return a.Count > b.Count
	})
	for _, ic := range res.ICMP {
		if v.filter == nil || ic.Flow == "" || shown[ic.Flow] {
			v.icmp = append(v.icmp, ic)
		}
	}
	for i := range res.Journeys {
		j := &res.Journeys[i]
		if shown[j.Flow] && (v.filter == nil || v.filter.MatchJourney(res, j)) {
			v.journeys[j.Flow] = append(v.journeys[j.Flow], *j)
		}
	}
	for i := range res.Segments {
		s := &res.Segments[i]
		v.segs[[2]string{s.From, s.To}] = s
	}
	for _, a := range res.Anomalies {
		if a.Where.From == "" {
			continue
		}
		k := [2]string{a.Where.From, a.Where.To}
		if old, ok := v.segSev[k]; !ok || sevRank(a.Severity) < sevRank(old) {
			v.segSev[k] = a.Severity
		}
	}
	for i := range res.Points {
		v.points[res.Points[i].ID] = &res.Points[i]
	}
	byPath := map[string]int{}
	for _, f := range v.flows {
		if len(f.Path) < 2 {
			continue
		}
		k := strings.Join(f.Path, "\x00")
		i, ok := byPath[k]
		if !ok {
			// The reverse of a known path is the same diagram read the other way.
			rev := make([]string, len(f.Path))
			for x, p := range f.Path {
				rev[len(rev)-1-x] = p
			}
			i, ok = byPath[strings.Join(rev, "\x00")]
		}
		if !ok {
			i = len(v.paths)
			byPath[k] = i
			v.paths = append(v.paths, pathView{points: f.Path})
		}
		v.paths[i].flows = append(v.paths[i].flows, f.ID)
		v.paths[i].packets += f.Packets
	}
	sort.SliceStable(v.paths, func(i, j int) bool { return v.paths[i].packets > v.paths[j].packets })
	if len(v.flows) > o.MaxFlows && o.Format != JSON {
		v.flows = v.flows[:o.MaxFlows]
	}
	return v
}

// offPath returns the segments with losses that no drawn path (the first max) shows, in either
// direction.
func (v *view) offPath(max int) []*correlate.Segment {
	drawn := map[[2]string]bool{}
	for i, pv := range v.paths {
		if i == max {
			break
		}
		for k := 0; k+1 < len(pv.points); k++ {
			drawn[[2]string{pv.points[k], pv.points[k+1]}] = true
			drawn[[2]string{pv.points[k+1], pv.points[k]}] = true
		}
	}
	var out []*correlate.Segment
	for i := range v.res.Segments {
		s := &v.res.Segments[i]
		if s.Lost > 0 && !drawn[[2]string{s.From, s.To}] {
			out = append(out, s)
		}
	}
	return out
}

// flowJourneys returns the journeys of a shown flow that the filter matches: from the Result's
// journeys when it lists them, otherwise rendered on demand.
func (v *view) flowJourneys(id string) []correlate.Journey {
	if v.res.Journeys != nil {
		return v.journeys[id]
	}
	var out []correlate.Journey
	for _, j := range v.res.FlowJourneys(id) {
		if v.filter == nil || v.filter.MatchJourney(v.res, &j) {
			out = append(out, j)
		}
	}
	return out
}

// result returns the Result restricted by the filter (JSON output).
func (v *view) result() *correlate.Result {
	if v.filter == nil {
		return v.res
	}
	r := *v.res
	r.Flows = []correlate.Flow{}
	keep := map[string]bool{}
	for _, f := range v.flows {
		keep[f.ID] = true
	}
	for _, f := range v.res.Flows {
		if keep[f.ID] {
			r.Flows = append(r.Flows, f)
		}
	}
	r.Anomalies = []correlate.Anomaly{}
	for i := range v.res.Anomalies {
		if v.filter.MatchAnomaly(v.res, &v.res.Anomalies[i]) {
			r.Anomalies = append(r.Anomalies, v.res.Anomalies[i])
		}
	}
	r.ICMP = append([]correlate.ICMPError{}, v.icmp...)
	if v.res.Journeys != nil {
		r.Journeys = []correlate.Journey{}
		for i := range v.res.Journeys {
			if keep[v.res.Journeys[i].Flow] && v.filter.MatchJourney(v.res, &v.res.Journeys[i]) {
				r.Journeys = append(r.Journeys, v.res.Journeys[i])
			}
		}
	}
	return &r
}

// worse orders flows worst first: lost, then not captured, retransmitted, reset, then larger.
func worse(a, b *correlate.Flow) bool {
	switch {
	case a.Lost != b.Lost:
		return a.Lost > b.Lost
	case a.Resets != b.Resets:
		return a.Resets > b.Resets
	case a.Retransmissions != b.Retransmissions:
		return a.Retransmissions > b.Retransmissions
	case a.NotCaptured != b.NotCaptured:
		return a.NotCaptured > b.NotCaptured
	case a.Packets != b.Packets:
		return a.Packets > b.Packets
	}
	return flowNum(a.ID) < flowNum(b.ID)
}

func flowNum(id string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "f"))
	if err != nil {
		return 1 << 30
	}
	return n
}

// place names where an anomaly is.
func place(w correlate.Where) string {
	switch {
	case w.From != "":
		return w.From + " → " + w.To
	case w.Point != "":
		return w.Point
	}
	return w.Node
}

// dur formats ns for people: 850ns, 21µs, 1.25ms, 3.2s.
// latDur formats one statistic of a latency summary, "-" when there were no samples.
func latDur(l correlate.Latency, ns int64) string {
	if l.N == 0 {
		return "-"
	}
	return dur(ns)
}

func dur(ns int64) string {
	neg := ""
	if ns < 0 {
		neg, ns = "-", -ns
	}
	var s string
	switch {
	case ns < 1000:
		s = strconv.FormatInt(ns, 10) + "ns"
	case ns < 1_000_000:
		s = trim3(float64(ns)/1e3) + "µs"
	case ns < 1_000_000_000:
		s = trim3(float64(ns)/1e6) + "ms"
	default:
		s = trim3(float64(ns)/1e9) + "s"
	}
	return neg + s
}

// trim3 formats x with three significant digits for x in [1, 1000).
func trim3(x float64) string {
	switch {
	case x >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case x >= 10:
		return strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(x, 'f', 1, 64), "0"), ".")
	}
	return strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(x, 'f', 2, 64), "0"), ".")
}

// offset formats a clock offset with its bound.
func offset(c correlate.Clock) string {
	if c.Method == "reference" {
		return "reference"
	}
	s := dur(c.OffsetNs)
	if c.OffsetNs >= 0 {
		s = "+" + s
	}
	switch {
	case c.BoundNs > 0:
		s += " ± " + dur(c.BoundNs)
	case c.BoundNs < 0:
		s += " (unbounded on one side)"
	}
	return s
}

// evidenceByFile groups frame references by file: "file: 12, 18, 35", at most max frames in all.
func evidenceByFile(ev []correlate.Evidence, max int) []string {
	var out []string
	var files []string
	frames := map[string][]string{}
	for i, e := range ev {
		if i == max {
			break
		}
		if _, ok := frames[e.File]; !ok {
			files = append(files, e.File)
		}
		frames[e.File] = append(frames[e.File], strconv.FormatUint(uint64(e.Frame), 10))
	}
	for _, f := range files {
		out = append(out, f+": "+strings.Join(frames[f], ", "))
	}
	if len(ev) > max {
		out = append(out, fmt.Sprintf("and %d more", len(ev)-max))
	}
	return out
}

// evidence formats a frame reference as file:frame, as Wireshark's "Go to packet" takes it.
func evidence(e correlate.Evidence) string {
	return e.File + ":" + strconv.FormatUint(uint64(e.Frame), 10)
}

// lostAt formats where a flow lost packets.
func lostAt(f *correlate.Flow) string {
	var s []string
	for _, l := range f.LostAt {
		s = append(s, fmt.Sprintf("%d %s→%s", l.Count, l.From, l.To))
	}
	return strings.Join(s, ", ")
}

// nodesOf returns the nodes of a path in order, each with its points.
func nodesOf(path []string) (nodes []string, byNode [][]string) {
	for _, p := range path {
		n, _, _ := strings.Cut(p, "/")
		if len(nodes) == 0 || nodes[len(nodes)-1] != n {
			nodes = append(nodes, n)
			byNode = append(byNode, nil)
		}
		byNode[len(byNode)-1] = append(byNode[len(byNode)-1], p)
	}
	return nodes, byNode
}

// iface returns the interface part of a point ID.
func iface(id string) string {
	if _, i, ok := strings.Cut(id, "/"); ok {
		return i
	}
	return id
}
