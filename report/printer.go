package report

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/internal/errw"
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
	Width    int    // columns the text format cuts its lines to; 0 (the default) cuts nothing
	Filter   Filter // nil shows everything
	MaxFlows int    // flows listed in text, Markdown and HTML (default 25; JSON lists all)
	Ladders  int    // flows drawn as ladder diagrams in HTML (default 3)
	MaxRungs int    // packets per ladder diagram (default 48)
	Journeys bool   // JSON: list every journey, rendered as written when the Result does not list them

	jsonPar jsonPar // JSON: how long lists are formatted on more than one core (zero: parOf's default)
}

// Option changes the Options.
type Option func(*Options)

// WithFormat selects the output format.
func WithFormat(f Format) Option { return func(o *Options) { o.Format = f } }

// WithColor turns ANSI colour in the text format on or off. Use ColorFor to decide.
func WithColor(on bool) Option { return func(o *Options) { o.Color = on } }

// WithWidth sets the width in columns the text format fits its lines to (at least 60), cutting
// names and reasons that do not fit with "…" (numbers are never cut: the segment table needs 73
// columns); 0 or less cuts nothing, as a report for a file or a pipe should not. Use TerminalWidth
// to decide.
func WithWidth(n int) Option {
	return func(o *Options) {
		if n <= 0 {
			o.Width = 0
			return
		}
		o.Width = max(n, 60)
	}
}

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

// WithJourneys makes the JSON format list every journey (`--journeys`): those of Result.Journeys, or,
// when the Result does not list them (correlate.Options.Journeys off), each journey rendered as it is
// written (Result.EachJourney; in chunks on several workers on more than one core), so that they are
// never all in memory.
func WithJourneys(on bool) Option { return func(o *Options) { o.Journeys = on } }

// Printer writes reports of Results to an io.Writer.
type Printer struct {
	w    io.Writer
	opts Options
}

// New returns a Printer writing to w.
func New(w io.Writer, opts ...Option) *Printer {
	p := &Printer{w: w, opts: Options{Format: Text, MaxFlows: 25, Ladders: 3, MaxRungs: 48}}
	for _, o := range opts {
		o(&p.opts)
	}
	return p
}

// Print writes the report of res. Only a write error is returned.
func (p *Printer) Print(res *correlate.Result) error {
	if p.opts.Format == JSON {
		return p.writeJSON(p.w, res) // streams; the view is not built for it
	}
	bw := bufio.NewWriterSize(p.w, 64<<10)
	ew := &errw.Writer{W: bw}
	v := newView(res, p.opts)
	switch p.opts.Format {
	case Markdown:
		writeMarkdown(ew, v)
	case HTML:
		writeHTML(ew, v)
	default:
		writeText(ew, v, p.opts)
	}
	if ew.Err != nil {
		return ew.Err
	}
	return bw.Flush()
}

// IsTerminal reports whether w is a terminal (a character device such as /dev/null is not).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && f != nil && term.IsTerminal(f.Fd())
}

// TerminalWidth returns the width in columns of the terminal w is, or 0 (cut nothing) when w is not a
// terminal or its size cannot be read.
func TerminalWidth(w io.Writer) int {
	if !IsTerminal(w) {
		return 0
	}
	cols, _, err := term.GetSize(w.(*os.File).Fd())
	if err != nil || cols <= 0 {
		return 0
	}
	return cols
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
