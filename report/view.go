package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"path/filepath"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/internal/safetext"
	"github.com/calipath/calipath/internal/units"
)

// The view is the one model the text, Markdown and HTML formats lay out: the Result filtered,
// ordered worst first, sanitised once (every string from a capture or the command line is safe to
// show, so the renderers only escape for their own syntax) and cut to each list's limit with the
// number left out, so that every format says "and N more" where it shows less than there is.

// limits is how much of each list a report shows; 0 shows all. formatLimits decides them for every
// format in one place.
type limits struct {
	inputs    int // inputs named in the header
	paths     int // path diagrams drawn
	pathFlows int // flow IDs named over a path diagram
	anomFlows int // flow IDs listed under an anomaly
	evidence  int // frames listed under an anomaly
	icmp      int // ICMP errors listed
}

var formatLimits = map[Format]limits{
	Text:     {paths: 4, pathFlows: 8, anomFlows: 12, evidence: 8, icmp: 20},
	Markdown: {paths: 4, pathFlows: 8, anomFlows: 20, evidence: 10, icmp: 50},
	HTML:     {inputs: 12, paths: 4, pathFlows: 12, anomFlows: 100, evidence: 40, icmp: 200},
}

// cutList returns the first n of s (all when n is 0) and how many it left out.
func cutList[T any](s []T, n int) ([]T, int) {
	if n <= 0 || len(s) <= n {
		return s, 0
	}
	return s[:n], len(s) - n
}

// view is the Result as shown: filtered, ordered and cut for display, with lookups.
type view struct {
	res        *correlate.Result // sanitised
	filter     Filter
	filterText string           // the filter as the user wrote it, sanitised
	flows      []flowView       // matching flows, worst first, at most MaxFlows
	nFlows     int              // matching flows before MaxFlows
	allFlows   []correlate.Flow // matching flows, worst first
	anomalies  []anomView       // matching anomalies, most severe first
	icmp       []correlate.ICMPError
	moreICMP   int
	journeys   map[string][]correlate.Journey // by flow, matching only
	segs       map[[2]string]*correlate.Segment
	flowByID   map[string]*correlate.Flow
	segSev     map[[2]string]string // most severe anomaly on a segment
	points     map[string]*correlate.Point
	paths      []pathView // drawn
	morePaths  int        // paths not drawn
	offPath    []*correlate.Segment
	timeFrom   int64    // corrected time of the first frame at any point, 0 when none
	timeTo     int64    // of the last
	inputs     []string // in the header
	moreInputs int
	fileLabel  map[string]string // an input's path → the name frame lists give it
	fileIndex  map[string]int    // an input's path → its row in the inputs table
	ladders    int               // flows drawn as ladders (HTML)
	rungs      int               // packets per ladder
}

// clientNATKind is the kind of the first of a flow's mappings that rewrote the client's packets
// (correlate.Flow.ClientMapping), else of its first mapping, else "". The mappings
// are ordered by where they were seen, by name, so the answers' reverse mapping can come first: a
// connection to a Service whose endpoint is on the client's node is DNATed from the client's cali to
// the endpoint's and un-NATed on the way back, and with the endpoint's cali named before the client's
// (clusterip-two-nodes: cali3754… and cali5e1…) the first mapping was the answers' SNAT, so the flows
// table called the connection "(snat)" where those to the other node's endpoint said "(dnat)".
func clientNATKind(f *correlate.Flow) string {
	if len(f.NAT) == 0 {
		return ""
	}
	for _, n := range f.NAT {
		if f.ClientMapping(n) {
			return n.Kind
		}
	}
	return f.NAT[0].Kind
}

// flowView is a flow with its NAT mappings written out.
type flowView struct {
	correlate.Flow
	natKind  string // the kind of the client's packets' mapping (clientNATKind)
	nat      string // every mapping: "dnat A → B; snat C → D"
	src, dst string // the ends as shown: "10.244.1.5:41234", named with cluster metadata
	// firstSeen is, for a UDP or TCP flow without NAT whose opening no capture could have shown,
	// correlate.Result.OpenerNotShown: the tables with client and server columns (Markdown, HTML)
	// mark its client as they mark a NAT flow's whose opener is not known; "" otherwise.
	firstSeen string
}

// anomView is an anomaly with its place written out and its lists cut.
type anomView struct {
	correlate.Anomaly
	place        string
	flows        []string
	moreFlows    int
	evidence     []correlate.Evidence
	moreEvidence int
}

// pathView is one distinct client→server path and the flows that take it. Its counts are those of
// its flows only, never of other traffic on the same segments (the segment table has that): a
// diagram counts only what it draws.
type pathView struct {
	points    []string
	allFlows  []string
	flows     []string // named over the diagram
	moreFlows int
	packets   int // packets as sent by its flows
	delivered int
	lost      int
	notCapt   int
	seen      map[string]int // frames of its flows at each point
	steps     []pathStep     // between points[i] and points[i+1]
}

// pathStep is a segment of a drawn path in both directions: → from points[i] to points[i+1], ←
// back, with the packets the path's flows lost on each.
type pathStep struct {
	from, to          string
	fwdLost, backLost int
	fwd, back         *correlate.Segment // the segment's counts when they are the path's flows' alone, else nil
	fwdOwn, backOwn   bool               // no other flow crosses the segment
	fwdSev, backSev   string             // most severe anomaly on each direction, where the path's flows lost packets
	kind              string
	// unordered: nothing told which of the two points the packets crossed first (Flow.PathUnordered,
	// of some flow of the path): the diagram draws them in an order nothing confirms.
	unordered bool
}

// sev is the more severe of the step's two directions.
func (s pathStep) sev() string {
	if s.backSev != "" && (s.fwdSev == "" || sevRank(s.backSev) < sevRank(s.fwdSev)) {
		return s.backSev
	}
	return s.fwdSev
}

// summary counts a path's flows: "4 packets as sent, 3 delivered, 1 lost, 0 not captured".
func (pv *pathView) summary() string {
	return fmt.Sprintf("%d packets as sent, %d delivered, %d lost, %d not captured", pv.packets, pv.delivered, pv.lost, pv.notCapt)
}

// lossLine says what a path's flows lost on one direction of a step.
func lossLine(n int) string {
	if n == 0 {
		return "no loss"
	}
	return itoa(n) + " lost"
}

// stepLine summarises one direction of a step: the segment's packets, losses and latency when they
// are the path's flows' alone, else what the path's flows lost there.
func stepLine(own bool, seg *correlate.Segment, lost int) string {
	if own {
		return segLine(seg)
	}
	return lossLine(lost) + " of these flows (the segment is shared: see the segment table)"
}

// fwdLine and backLine summarise the step's two directions (stepLine).
func (s pathStep) fwdLine() string  { return stepLine(s.fwdOwn, s.fwd, s.fwdLost) }
func (s pathStep) backLine() string { return stepLine(s.backOwn, s.back, s.backLost) }

// newView builds the view of res for the text, Markdown and HTML formats (JSON writes the Result as it
// is: writeJSON).
func newView(res *correlate.Result, o Options) *view {
	// Strings from captures (file and interface names, reasons, messages) must not carry terminal
	// escapes or bidirectional overrides into the report: only the printer's own styling may. JSON
	// keeps them, escaped (safetext.AppendJSONString).
	res = sanitized(res)
	lim := formatLimits[o.Format]
	v := &view{res: res, filter: o.Filter, journeys: map[string][]correlate.Journey{},
		segs: map[[2]string]*correlate.Segment{}, segSev: map[[2]string]string{}, points: map[string]*correlate.Point{},
		ladders: o.Ladders, rungs: o.MaxRungs}
	if o.Filter != nil {
		v.filterText = safetext.Clean(fmt.Sprint(o.Filter))
	}
	for i := range res.Flows {
		if v.filter == nil || v.filter.MatchFlow(res, &res.Flows[i]) {
			v.allFlows = append(v.allFlows, res.Flows[i])
		}
	}
	sort.SliceStable(v.allFlows, func(i, j int) bool { return worse(&v.allFlows[i], &v.allFlows[j]) })
	v.nFlows = len(v.allFlows)
	shown := map[string]bool{}
	for _, f := range v.allFlows {
		shown[f.ID] = true
	}
	v.anomalies = v.anomalyViews(lim)
	v.icmp, v.moreICMP = v.icmpViews(shown, lim.icmp)
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
	for i := range res.Journeys {
		j := &res.Journeys[i]
		if shown[j.Flow] && (v.filter == nil || v.filter.MatchJourney(res, j)) {
			v.journeys[j.Flow] = append(v.journeys[j.Flow], *j)
		}
	}
	v.flowByID = map[string]*correlate.Flow{}
	for i := range v.allFlows {
		v.flowByID[v.allFlows[i].ID] = &v.allFlows[i]
	}
	v.paths, v.morePaths = cutList(v.pathViews(), lim.paths)
	for i := range v.paths {
		v.paths[i].flows, v.paths[i].moreFlows = cutList(v.paths[i].allFlows, lim.pathFlows)
	}
	v.ownSteps()
	v.inputFiles(lim)
	v.offPath = v.offPathSegments()
	v.flows = v.flowViews(o.MaxFlows)
	return v
}

// icmpViews returns the ICMP errors of the flows shown (and those of no flow), at most n, with the
// names of their addresses, and how many more there were.
func (v *view) icmpViews(shown map[string]bool, n int) ([]correlate.ICMPError, int) {
	var icmp []correlate.ICMPError
	for _, ic := range v.res.ICMP {
		if v.filter == nil || ic.Flow == "" || shown[ic.Flow] {
			icmp = append(icmp, ic)
		}
	}
	icmp, more := cutList(icmp, n)
	for i := range icmp {
		ic := &icmp[i]
		ic.Src, ic.Dst, ic.Quoted = v.named(ic.Src), v.named(ic.Dst), v.named(ic.Quoted)
	}
	return icmp, more
}

// flowViews returns the first n flows, worst first, with their ends and NAT rewrites named.
func (v *view) flowViews(n int) []flowView {
	shownFlows, _ := cutList(v.allFlows, n)
	var out []flowView
	for _, f := range shownFlows {
		fv := flowView{Flow: f, src: v.named(f.Src.String()), dst: v.named(f.Dst.String())}
		var nat []string
		for _, n := range f.NAT {
			nat = append(nat, n.Kind+" "+v.named(n.From)+" → "+v.named(n.To))
		}
		fv.natKind = clientNATKind(&f)
		if (f.Proto == "udp" || f.Proto == "tcp") && len(f.NAT) == 0 {
			// A flow without NAT: its OpenerUnknown (correlate's firstSeenFlows) is the tables' firstSeen,
			// which the text table, whose CONVERSATION is the first packet's direction, does not mark.
			fv.firstSeen, fv.OpenerUnknown = f.OpenerUnknown, ""
			if fv.firstSeen == "" {
				fv.firstSeen = v.res.OpenerNotShown(f.ID)
			}
		}
		fv.nat = strings.Join(nat, "; ")
		out = append(out, fv)
	}
	return out
}

// anomalyViews returns the anomalies the filter matches, most severe first, then most frequent.
func (v *view) anomalyViews(lim limits) []anomView {
	var out []anomView
	for i := range v.res.Anomalies {
		a := &v.res.Anomalies[i]
		if v.filter != nil && !v.filter.MatchAnomaly(v.res, a) {
			continue
		}
		av := anomView{Anomaly: *a, place: place(a.Where)}
		av.Message, av.Next = v.named(a.Message), v.named(a.Next) // addresses in the explanation get their names
		av.flows, av.moreFlows = cutList(a.Flows, lim.anomFlows)
		av.evidence, av.moreEvidence = cutList(a.Evidence, lim.evidence)
		out = append(out, av)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if ra, rb := sevRank(a.Severity), sevRank(b.Severity); ra != rb {
			return ra < rb
		}
		return a.Count > b.Count
	})
	return out
}

// pathViews groups the matching flows by path (a path and its reverse are one), most packets first.
func (v *view) pathViews() []pathView {
	var paths []pathView
	byPath := map[string]int{}
	for _, f := range v.allFlows {
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
			i = len(paths)
			byPath[k] = i
			paths = append(paths, pathView{points: f.Path})
		}
		pv := &paths[i]
		pv.allFlows = append(pv.allFlows, f.ID)
		pv.packets += f.Packets
		pv.delivered += f.Delivered
		pv.lost += f.Lost
		pv.notCapt += f.NotCaptured
		if pv.seen == nil {
			pv.seen = map[string]int{}
			pv.steps = v.steps(pv.points)
		}
		for _, pc := range f.PerPoint {
			pv.seen[pc.Point] += pc.Packets
		}
		for _, i := range f.PathUnordered {
			for k := range pv.steps {
				if st := &pv.steps[k]; i+1 < len(f.Path) && undirected(st.from, st.to) == undirected(f.Path[i], f.Path[i+1]) {
					st.unordered = true
				}
			}
		}
		for _, l := range f.LostAt {
			for k := range pv.steps {
				st := &pv.steps[k]
				switch {
				case l.From == st.from && l.To == st.to:
					st.fwdLost += l.Count
				case l.From == st.to && l.To == st.from:
					st.backLost += l.Count
				}
			}
		}
	}
	for i := range paths {
		for k := range paths[i].steps {
			st := &paths[i].steps[k]
			if st.fwdLost == 0 {
				st.fwdSev = ""
			}
			if st.backLost == 0 {
				st.backSev = ""
			}
		}
	}
	sort.SliceStable(paths, func(i, j int) bool { return paths[i].packets > paths[j].packets })
	return paths
}

// ownSteps gives the steps of the drawn paths that no other flow crosses the segment's counts: a
// segment only a path's flows cross counts them alone, so its packets, losses and latency can be
// shown whole. Only the drawn paths' segments are looked for in each flow.
func (v *view) ownSteps() {
	drawn := map[[2]string]int{} // flows crossing a drawn segment, either way
	for _, pv := range v.paths {
		for _, st := range pv.steps {
			drawn[undirected(st.from, st.to)] = 0
		}
	}
	for i := range v.res.Flows {
		for _, k := range crossed(&v.res.Flows[i], drawn) {
			drawn[k]++
		}
	}
	for i := range v.paths {
		pv := &v.paths[i]
		mine := map[[2]string]int{}
		for _, id := range pv.allFlows {
			for _, k := range crossed(v.flowByID[id], drawn) {
				mine[k]++
			}
		}
		for k := range pv.steps {
			st := &pv.steps[k]
			if key := undirected(st.from, st.to); mine[key] == drawn[key] {
				st.fwdOwn, st.backOwn = true, true
				st.fwd, st.back = v.segs[[2]string{st.from, st.to}], v.segs[[2]string{st.to, st.from}]
			}
		}
	}
}

// undirected is the key of a segment whichever way it is crossed.
func undirected(a, b string) [2]string {
	if b < a {
		a, b = b, a
	}
	return [2]string{a, b}
}

// crossed returns which of the segments in keys a flow may have packets on: consecutive points of
// its path, or two points it was seen at (its replies may take another way).
func crossed(f *correlate.Flow, keys map[[2]string]int) [][2]string {
	var out [][2]string
	seen := func(p string) bool {
		for _, pc := range f.PerPoint {
			if pc.Point == p {
				return true
			}
		}
		return false
	}
	for k := range keys {
		on := seen(k[0]) && seen(k[1])
		for i := 0; !on && i+1 < len(f.Path); i++ {
			on = undirected(f.Path[i], f.Path[i+1]) == k
		}
		if on {
			out = append(out, k)
		}
	}
	return out
}

// steps returns the segments between consecutive points of a path, both directions, with the
// severity of the anomalies on each and no losses counted yet.
func (v *view) steps(points []string) []pathStep {
	var out []pathStep
	for i := 0; i+1 < len(points); i++ {
		a, b := points[i], points[i+1]
		s := pathStep{from: a, to: b, fwdSev: v.segSev[[2]string{a, b}], backSev: v.segSev[[2]string{b, a}]}
		if sg := v.segs[[2]string{a, b}]; sg != nil {
			s.kind = sg.Kind
		} else if sg := v.segs[[2]string{b, a}]; sg != nil {
			s.kind = sg.Kind
		}
		out = append(out, s)
	}
	return out
}

// inputFiles decides how the inputs are named: the header lists the first few, and frame lists
// name a file by its base name (its path when two inputs share one), linked to its row in the
// inputs table, where its path is given once. The capture's time range spans every point's frames.
func (v *view) inputFiles(lim limits) {
	v.fileLabel, v.fileIndex = map[string]string{}, map[string]int{}
	bases := map[string]int{}
	var names []string
	for i, in := range v.res.Inputs {
		v.fileIndex[in.File] = i
		bases[filepath.Base(in.File)]++
		names = append(names, in.File)
	}
	for _, in := range v.res.Inputs {
		v.fileLabel[in.File] = in.File
		if b := filepath.Base(in.File); bases[b] == 1 {
			v.fileLabel[in.File] = b
		}
	}
	v.inputs, v.moreInputs = cutList(names, lim.inputs)
	for _, p := range v.res.Points {
		if p.Frames == 0 {
			continue
		}
		if v.timeFrom == 0 || p.First < v.timeFrom {
			v.timeFrom = p.First
		}
		v.timeTo = max(v.timeTo, p.Last)
	}
}

// label is the name frame lists give a file.
func (v *view) label(file string) string {
	if l, ok := v.fileLabel[file]; ok {
		return l
	}
	return file
}

// offPathSegments returns the segments with losses that no drawn path shows, in either direction.
func (v *view) offPathSegments() []*correlate.Segment {
	drawn := map[[2]string]bool{}
	for _, pv := range v.paths {
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
	if out != nil {
		out = sanitizedJourneys(out)
	}
	return out
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
func dur(ns int64) string { return units.Dur(ns) }

// latDur formats one statistic of a latency summary, "-" when there were no samples.
func latDur(l correlate.Latency, ns int64) string {
	if l.N == 0 {
		return "-"
	}
	return dur(ns)
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

// framesByFile groups frame references by file, files in the order they first appear, frames as
// decimal strings.
func framesByFile(ev []correlate.Evidence) (files []string, frames map[string][]string) {
	frames = map[string][]string{}
	for _, e := range ev {
		if _, ok := frames[e.File]; !ok {
			files = append(files, e.File)
		}
		frames[e.File] = append(frames[e.File], strconv.FormatUint(uint64(e.Frame), 10))
	}
	return files, frames
}

// evidenceByFile groups frame references by file: "file: 12, 18, 35".
func evidenceByFile(ev []correlate.Evidence) []string {
	files, frames := framesByFile(ev)
	out := make([]string, 0, len(files))
	for _, f := range files {
		out = append(out, f+": "+strings.Join(frames[f], ", "))
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
		s = append(s, fmt.Sprintf("%d %s", l.Count, correlate.LostPlace(l.From, l.To, l.Uncaptured)))
	}
	return strings.Join(s, ", ")
}

// segLostNotes are the lines below a segment table for each segment whose losses the captures cannot
// place on it (correlate.Segment.LostUncaptured): where they may have been instead.
func segLostNotes(segs []correlate.Segment) []string {
	var out []string
	for i := range segs {
		if s := &segs[i]; len(s.LostUncaptured) > 0 {
			out = append(out, fmt.Sprintf("! %s → %s: the %d lost were %s.", s.From, s.To, s.Lost,
				correlate.LostSpanNote(s.From, s.To, s.LostUncaptured)))
		}
	}
	return out
}

// segNotes are the lines below a segment table: segClockNotes', then segLostNotes'.
func segNotes(segs []correlate.Segment) []string {
	return append(segClockNotes(segs), segLostNotes(segs)...)
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

// segLine summarises one direction of a segment.
func segLine(s *correlate.Segment) string {
	if s == nil {
		return "no packets"
	}
	out := fmt.Sprintf("%d pkts", s.Packets)
	if s.Lost > 0 {
		out += fmt.Sprintf(", %d lost", s.Lost)
	}
	if len(s.LostUncaptured) > 0 { // here, or past what was not captured (segLostNotes)
		out += " here or past " + strings.Join(s.LostUncaptured, ", ") + " (not captured: see the segment table)"
	}
	if s.NotCaptured > 0 {
		out += fmt.Sprintf(", %d not captured", s.NotCaptured)
	}
	switch {
	case s.Delivered > 0 && s.ClockBound == correlate.BoundNone:
		why := "clocks bounded on one side only"
		if strings.Contains(s.ClockNote, correlate.ClockNotEstimated) {
			why = "a clock not estimated"
		}
		out += "; latency not known (" + why + ": see the segment table)"
	case s.Delivered > 0:
		out += fmt.Sprintf("; p50 %s, p99 %s, max %s", s.Mark(dur(s.LatencyNs.P50)), s.Mark(dur(s.LatencyNs.P99)),
			s.Mark(dur(s.LatencyNs.Max)))
		if s.ClockUncertainNs > 0 {
			out += " (clocks ±" + dur(s.ClockUncertainNs) + ": see the segment table)"
		}
	}
	return out
}

// segLat is a segment's latency statistic as the tables print it: "-" without samples, marked as a
// bound or unknown (correlate.Segment.Mark).
func segLat(s *correlate.Segment, ns int64) string {
	return s.Mark(latDur(s.LatencyNs, ns))
}

// segClockNotes are the lines below a segment table that say what its marked latencies are: a legend
// for the bounds (≥, ≤) and, for each segment whose latencies the clocks leave unknown (?), why and
// the fix.
func segClockNotes(segs []correlate.Segment) []string {
	var out []string
	legend := false
	for i := range segs {
		s := &segs[i]
		switch s.ClockBound {
		case correlate.BoundLower, correlate.BoundUpper:
			legend = true
		case correlate.BoundNone:
			out = append(out, "? "+s.From+" → "+s.To+": latency "+s.ClockNote+".")
		case "":
			if s.ClockUncertainNs > 0 {
				out = append(out, correlate.MarkUncertain+" "+s.From+" → "+s.To+": latency "+s.ClockNote+".")
			}
		}
	}
	if legend {
		out = append([]string{"≥ lower bound, ≤ upper bound: a clock at the segment's end is bounded on one side only (see Clock offsets)."}, out...)
	}
	return out
}

// flowLat is a flow's end-to-end latency statistic as the tables print it: "-" without samples,
// marked as a bound or unknown (correlate.Flow.Mark).
func flowLat(f *correlate.Flow, ns int64) string {
	return f.Mark(latDur(f.LatencyNs, ns))
}

// openerUnknown is what the flow tables add to a flow's client (text: to its NAT kind) when which side
// opened it is not known (correlate.Flow.OpenerUnknown): its ends are those of its first packet seen.
const openerUnknown = "opener not known"

// clientCell is the client cell of a flow table with client and server columns: the flow's source,
// marked when which side opened the flow is not known (a NAT flow's OpenerUnknown, or firstSeen), or
// when both ends opened its TCP connections (a port reused: correlate.OpenedBothWays).
func clientCell(f *flowView) string {
	if correlate.OpenedBothWays(&f.Flow) {
		return f.src + " (opened both ways)"
	}
	if f.OpenerUnknown != "" || f.firstSeen != "" {
		return f.src + " (" + openerUnknown + ")"
	}
	return f.src
}

// flowNotes are the lines below a flow table: flowClockNotes', then, for the flows whose opener is not
// known, why and the fix (correlate.Flow.OpenerUnknown; with firstSeen, the tables with client and
// server columns, also flowView.firstSeen), one line for the flows that share it, then, for each flow
// whose 5-tuple carried several TCP connections, how many and who opened them (correlate.ConnectionsNote).
func flowNotes(flows []flowView, firstSeen bool) []string {
	out := flowClockNotes(flows)
	at := map[string]int{} // note → its line in out
	for i := range flows {
		f := &flows[i]
		note := f.OpenerUnknown
		if note == "" && firstSeen {
			note = f.firstSeen
		}
		if note == "" {
			continue
		}
		if k, ok := at[note]; ok {
			out[k] = strings.Replace(out[k], ": ", " "+f.ID+": ", 1)
			continue
		}
		at[note] = len(out)
		out = append(out, f.ID+": "+note+".")
	}
	for i := range flows {
		if f := &flows[i]; len(f.Connections) > 1 {
			out = append(out, f.ID+": "+correlate.ConnectionsNote(&f.Flow, f.src, f.dst)+".")
		}
	}
	return out
}

// flowClockNotes are the lines below a flow table that say what its marked latencies are: a legend
// for the bounds (≥, ≤) and, for the flows whose latencies the clocks leave unknown (?), why and the
// fix, the flows with one reason on one line.
func flowClockNotes(flows []flowView) []string {
	var out []string
	legend := false
	at := map[string]int{} // note → its line in out
	for i := range flows {
		f := &flows[i]
		switch f.ClockBound {
		case correlate.BoundLower, correlate.BoundUpper:
			legend = true
		case correlate.BoundNone, "":
			mark := "? "
			if f.ClockBound == "" {
				if f.ClockUncertainNs == 0 {
					continue
				}
				mark = correlate.MarkUncertain + " "
			}
			if k, ok := at[mark+f.ClockNote]; ok {
				out[k] = strings.Replace(out[k], ": latency ", " "+f.ID+": latency ", 1)
				continue
			}
			at[mark+f.ClockNote] = len(out)
			out = append(out, mark+f.ID+": latency "+f.ClockNote+".")
		}
	}
	for i := range flows {
		if f := &flows[i]; len(f.Dirs) > 0 {
			legend = true
			out = append(out, f.ID+" by direction: "+dirLatencies(f.Dirs)+".")
		}
	}
	if legend {
		out = append([]string{"≥ lower bound, ≤ upper bound: a clock at the end of the flow's packets' paths is bounded on one side only (see Clock offsets)."}, out...)
	}
	return out
}

// dirLatencies is a flow's latencies by direction (correlate.Flow.Dirs), each marked with what it is:
// "→ p50 ≥16µs, p99 ≥110µs; ← p50 ≤8.44µs, p99 ≤31.1µs" (→ client to server).
func dirLatencies(dirs []correlate.DirLatency) string {
	parts := make([]string, 0, len(dirs))
	for i := range dirs {
		d := &dirs[i]
		arrow := "→"
		if d.Dir == "s2c" {
			arrow = "←"
		}
		parts = append(parts, fmt.Sprintf("%s p50 %s, p99 %s", arrow, d.Mark(latDur(d.LatencyNs, d.LatencyNs.P50)),
			d.Mark(latDur(d.LatencyNs, d.LatencyNs.P99))))
	}
	return strings.Join(parts, "; ")
}

// roleLabel is a point's role as the reports show it: marked when no frame was captured there and the
// point was inferred (a -i any capture of its node covered it).
func roleLabel(p *correlate.Point) string {
	if p.Inferred {
		return p.Role + " (inferred)"
	}
	return p.Role
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// unreadCount says how many of the inputs could not be read: "1 of 3 inputs".
func unreadCount(r *correlate.Result) string {
	return fmt.Sprintf("%d of %d inputs", len(r.Summary.Unreadable), len(r.Inputs))
}

func itoa(n int) string { return strconv.Itoa(n) }
