package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/report"
	"github.com/spf13/pflag"
)

// exitFound is the exit code when --fail-on matched an anomaly.
const exitFound = 3

// errFound reports that --fail-on matched; the report was written.
var errFound = errors.New("anomalies named by --fail-on were found")

// offsetFlag collects --offset NODE=DURATION.
type offsetFlag struct{ m map[string]time.Duration }

func (o *offsetFlag) String() string {
	var s []string
	for n, d := range o.m {
		s = append(s, n+"="+d.String())
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}
func (o *offsetFlag) Type() string { return "NODE=DURATION" }
func (o *offsetFlag) Set(s string) error {
	var kv kvFlag
	if err := kv.Set(s); err != nil {
		return err
	}
	d, err := time.ParseDuration(kv.kv[0][1])
	if err != nil {
		return fmt.Errorf("--offset %s: %w", s, err)
	}
	if o.m == nil {
		o.m = map[string]time.Duration{}
	}
	o.m[kv.kv[0][0]] = d
	return nil
}

// reportArgs are the parsed arguments of calipath report (and demo).
type reportArgs struct {
	format   report.Format
	out      string
	filter   *correlate.Filter
	failOn   []string
	quiet    bool
	journeys bool
	window   time.Duration
	offsets  map[string]time.Duration
	width    int           // text: cut lines to this many columns; 0: the terminal's width on a terminal, no cut otherwise
	cluster  *cluster.Meta // --k8s, nil without it
	prefix   string        // --iface-prefix
	memory   int64         // --memory: past it (by the inputs' sizes) the frames are kept in files; 0: no limit
	stages   *stageLog     // --log-file: a line as each stage ends; nil: none
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "FILE...", stdout, stderr)
	var in inputFlags
	in.register(fs)
	var offsets offsetFlag
	fs.Var(&offsets, "offset", "set a node's clock offset against the reference node instead of estimating it (repeatable)")
	format := fs.String("format", "text", "output `FORMAT`: text, markdown, html or json")
	out := fs.StringP("output", "o", "", "write the report to `FILE` instead of stdout (a regular file is replaced atomically, a device or FIFO written through; - is stdout)")
	flow := fs.String("flow", "", "show only the flows, anomalies and journeys matching the filter `EXPR`, e.g. 'host 10.0.0.5 and port 443'")
	failOn := fs.String("fail-on", "", "exit 3 if an anomaly of these `KINDS` (comma-separated), or of this severity or worse (error, warning, info), was found")
	quiet := fs.BoolP("quiet", "q", false, "no progress bar")
	width := fs.Int("width", 0, "text: fit lines to N columns, cutting with … (default: the terminal's width on a terminal; no cut in files and pipes)")
	journeys := fs.Bool("journeys", false, "json: include every packet's journey")
	window := fs.Duration("window", time.Second, "how far apart (after clock correction) two sightings of one packet may be, a `DURATION`")
	var memory memoryFlag
	fs.Var(&memory, "memory", "the memory the inputs may take: when their sizes say they would take more, keep the frames in temporary files in $TMPDIR (bounded-memory mode, the same report), e.g. 2G (default: half the machine's memory)")
	logFile := fs.String("log-file", "", "append a line to `FILE` as each stage of the run ends (reading, the correlation's stages, writing): its time on the clock, the CPU time the process used in it, its system time and minor page faults")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to `FILE`")
	memprofile := fs.String("memprofile", "", "write a heap profile to `FILE` at the end")
	_ = fs.MarkHidden("cpuprofile")
	_ = fs.MarkHidden("memprofile")
	if err := parse(fs, args); err != nil {
		return err
	}
	ra := reportArgs{out: *out, quiet: *quiet, journeys: *journeys, window: *window, offsets: offsets.m, width: *width,
		memory: memory.limit("/proc/meminfo")}
	if *width < 0 {
		return usageErr(fs, stderr, "--width must be a number of columns, not %d", *width)
	}
	if err := checkWindow(fs, stderr, *window); err != nil {
		return err
	}
	var err error
	if ra.format, err = report.ParseFormat(*format); err != nil {
		return usageErr(fs, stderr, "--format: %v", err)
	}
	if ra.filter, err = correlate.ParseFilter(*flow); err != nil {
		return usageErr(fs, stderr, "--flow: %v", err)
	}
	if *failOn != "" {
		known := map[string]bool{}
		for _, k := range append(correlate.AnomalyKinds(), correlate.Severities()...) {
			known[k] = true
		}
		for _, k := range strings.Split(*failOn, ",") {
			if k = strings.ToLower(strings.TrimSpace(k)); k != "" { // as the report prints them: ERROR
				if !known[k] {
					return usageErr(fs, stderr, "--fail-on: %q is neither an anomaly kind nor a severity (kinds: %s)",
						k, strings.Join(correlate.AnomalyKinds(), ", "))
				}
				ra.failOn = append(ra.failOn, k)
			}
		}
	}
	paths := in.files(fs.Args())
	if len(paths) == 0 {
		return usageErr(fs, stderr, "no capture files given")
	}
	if err := in.checkOutputs(fs, stderr, paths, "-o", ra.out, "--log-file", *logFile, "--cpuprofile", *cpuprofile,
		"--memprofile", *memprofile); err != nil {
		return err
	}
	if err := checkOutput(ra.out); err != nil {
		return err
	}
	stop, err := startProfiles(*cpuprofile, *memprofile, stderr)
	if err != nil {
		return err
	}
	defer stop()
	stages, logf, err := openStageLog(*logFile)
	if err != nil {
		return err
	}
	if logf != nil {
		defer logf.Close()
	}
	ra.stages = stages
	cfg, err := in.config(paths)
	if err != nil {
		return err
	}
	in.cluster.printProblems(stderr)
	in.printBundle(stderr)
	ra.cluster, ra.prefix = in.cluster.meta, in.cluster.prefix
	return bundleErr(reportFiles(ctx, paths, in.decodeOptions(), cfg, ra, stdout, stderr), &in)
}

// checkWindow rejects a --window that cannot hold a single hop (zero or negative).
func checkWindow(fs *pflag.FlagSet, stderr io.Writer, window time.Duration) error {
	if window <= 0 {
		return usageErr(fs, stderr, "--window must be positive (how far apart two sightings of one packet may be; default 1s), not %s", window)
	}
	return nil
}

// reportFiles loads, correlates and reports paths as ra asks, returning errSkipped or errFound when
// the exit code should say so.
func reportFiles(ctx context.Context, paths []string, dopts decode.Options, cfg decode.PointConfig, ra reportArgs,
	stdout, stderr io.Writer) error {
	var prog *report.Progress
	var progress decode.Progress
	if !ra.quiet && report.IsTerminal(stderr) {
		prog = report.NewProgress(stderr, len(paths))
		progress = prog.Update
	}
	dopts.Done = ctx.Done()
	c, spill := load(paths, dopts, cfg, progress, ra.memory, stderr)
	defer spill.Close() // once the report is written: the Result reads the frames until then
	if prog != nil {
		prog.Done()
	}
	ra.stages.done("read")
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	// --journeys: the printer renders each journey as it writes it (Result.EachJourney), so the Result
	// does not list them; JSON without a filter likewise each flow (Result.EachFlow).
	copts := correlate.Options{Offsets: ra.offsets, Window: ra.window, Lean: true, Cluster: ra.cluster,
		IfacePrefix: ra.prefix, StreamFlows: ra.format == report.JSON && ra.filter.String() == "",
		Acks:      decode.AckReader(c, dopts), // the ACKs that clear a segment, read again
		StageDone: ra.stages.hook()}
	if spill != nil { // bounded-memory mode: the journeys' large arrays go to temporary files too
		copts.Mapper = spill
	}
	if err := checkFit(c, copts, stderr); err != nil {
		return err
	}
	printProblems(c.Files, stderr)
	res, err := correlate.CorrelateContext(ctx, c, copts)
	if err != nil {
		return err
	}
	warnMapped(spill, stderr)
	warnFit(res, stderr)
	opts := []report.Option{report.WithFormat(ra.format), report.WithJourneys(ra.journeys)}
	if ra.filter.String() != "" {
		opts = append(opts, report.WithFilter(ra.filter))
	}
	width := ra.width
	if ra.out == "" || ra.out == "-" {
		opts = append(opts, report.WithColor(ra.format == report.Text && report.ColorFor(stdout)))
		if width == 0 {
			width = report.TerminalWidth(stdout)
		}
	}
	opts = append(opts, report.WithWidth(width))
	out := ra.out
	if out == "" {
		out = "-"
	}
	if err := writeOutput(ctx, out, stdout, func(w io.Writer) error { return report.New(w, opts...).Print(res) }); err != nil {
		return err
	}
	ra.stages.done("written")
	warnPeak("/proc/self/status", ra.memory, spill != nil, stderr)
	if len(ra.failOn) > 0 {
		shown := res.Anomalies
		if ra.filter.String() != "" {
			shown = nil
			for i := range res.Anomalies {
				if ra.filter.MatchAnomaly(res, &res.Anomalies[i]) {
					shown = append(shown, res.Anomalies[i])
				}
			}
		}
		if found := report.FailOn(shown, ra.failOn); len(found) > 0 {
			fmt.Fprintf(stderr, "calipath: --fail-on: found %s\n", strings.Join(found, ", "))
			return errFound
		}
	}
	if anyProblem(c.Files) {
		return errSkipped
	}
	return nil
}

// samePath reports whether a and b name the same file: the same cleaned absolute path, or, when both
// exist, the same inode. "-" is stdin, the file or pipe it is.
func samePath(a, b string) bool {
	if a == "-" && b == "-" {
		return true
	}
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if a != "-" && b != "-" && err1 == nil && err2 == nil && aa == bb {
		return true
	}
	sa, err1 := statPath(a)
	sb, err2 := statPath(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// statPath stats a path, "-" being stdin.
func statPath(p string) (os.FileInfo, error) {
	if p == "-" {
		return os.Stdin.Stat()
	}
	return os.Stat(p)
}
