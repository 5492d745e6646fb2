// Command calipath follows packets across the capture points of a Calico datapath.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// Exit codes.
const (
	exitOK      = 0
	exitSkipped = 1 // output produced, but some input was skipped
	exitUsage   = 2
)

// errUsage marks usage errors (exit 2); the message has been printed, with a line pointing to -h.
var errUsage = errors.New("usage error")

// exitCode is an error that ends the run with that exit code, all said already (the guarded TUI
// child's).
type exitCode int

func (c exitCode) Error() string { return "exit status " + strconv.Itoa(int(c)) }

// errSkipped reports that output was produced but some input was skipped.
var errSkipped = errors.New("some input was skipped")

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"points", "list every input file's capture points: node, interface, role and why", runPoints},
		{"packets", "decode every frame: outer and inner headers, ARP, checksums, problems", runPackets},
		{"report", "correlate every packet across the capture points: journeys, loss, latency, anomalies", runReport},
		{"plan", "print the commands that capture the next incident between two pods, from cluster metadata", runPlan},
		{"demo", "show a report (or the TUI) of embedded sample captures; --extract writes them out", runDemo},
		{"tui", "browse the correlation interactively (the text report when stdout is not a terminal)", runTUI},
		{"version", "print calipath's version, the commit it was built from and the build date", runVersion},
		{"completion", "print a shell completion script: calipath completion bash|zsh|fish", runCompletion},
		{"help", "list the subcommands, or show one's flags: calipath help SUBCOMMAND", nil},
	}
}

func main() {
	stopHeapSampling(os.Getenv("GODEBUG")) // no heap profile without --memprofile
	// calipath's memory is mostly pointer-free Observations, so collections are cheap while the
	// default target (heap up to twice the live data) doubles the peak on large captures. A tighter
	// target measured both leaner and faster (scripts/bench.sh). GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(10)
	}
	restored := guardedChild()
	ctx, stop := stopOnSignals(context.Background(), os.Stderr)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if restored != nil {
		restored()
	}
	os.Exit(code)
}

// forcedExit holds what must be done when the process exits at once (see stopOnSignals).
var forcedExit struct {
	sync.Mutex
	hooks []func()
}

// atForcedExit adds f to what a forced exit does, after removing the temporary files.
func atForcedExit(f func()) {
	forcedExit.Lock()
	defer forcedExit.Unlock()
	forcedExit.hooks = append(forcedExit.hooks, f)
}

// stopSignals are the signals that stop calipath: SIGINT, SIGTERM and SIGHUP.
var stopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// stopGrace is how long a run may take to stop after a signal before it is cut short.
const stopGrace = 2 * time.Second

// signalled is the cause of a run's context ending on a signal. It is a context.Canceled.
type signalled struct{ sig syscall.Signal }

func (s signalled) Error() string        { return "stopped by " + sigName(s.sig) }
func (s signalled) Is(target error) bool { return target == context.Canceled }

// exitCode is 128 plus the signal number, as a shell reports a process the signal ended.
func (s signalled) exitCode() int { return 128 + int(s.sig) }

func sigName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case syscall.SIGABRT:
		return "SIGABRT"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	}
	return "signal " + strconv.Itoa(int(s)) + " (" + s.String() + ")"
}

// stopOnSignals returns a context that ends, with a signalled cause, on the first of stopSignals.
// The run then stops at its next check (every 64 Ki frames while loading, between the phases of
// correlation, on every write of the output) and cleans up: a temporary output file is removed and
// the old output kept. A run that has not returned stopGrace after the signal, or a second signal,
// is cut short: the temporary files are removed and the process exits at once with the signal's exit
// code. stop releases the signals.
func stopOnSignals(parent context.Context, stderr io.Writer) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, stopSignals...)
	done := make(chan struct{})
	go func() {
		var s signalled
		select {
		case sig := <-ch:
			s = signalled{sig.(syscall.Signal)}
			cancel(s)
		case <-done:
			return
		}
		t := time.NewTimer(stopGrace)
		select {
		case <-done:
			return
		case <-ch:
		case <-t.C:
		}
		temps.removeAll()
		forcedExit.Lock()
		for _, f := range forcedExit.hooks {
			f()
		}
		fmt.Fprintf(stderr, "calipath: %s: stopped at once\n", sigName(s.sig))
		os.Exit(s.exitCode())
	}()
	return ctx, func() {
		close(done)
		signal.Stop(ch)
		cancel(nil)
	}
}

// run executes calipath with args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "--help":
		usage(stdout)
		return exitOK
	case "--version":
		name, args = "version", append([]string{"version"}, args[1:]...)
	case "help":
		if len(args) > 1 {
			return run(ctx, []string{args[1], "-h"}, stdout, stderr)
		}
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name && c.run != nil {
			err := c.run(ctx, args[1:], stdout, stderr)
			var sig signalled
			var code exitCode
			switch {
			case errors.As(err, &code):
				return int(code)
			case errors.As(err, &sig):
				fmt.Fprintf(stderr, "calipath %s: %v\n", name, sig)
				return sig.exitCode()
			case err == nil:
				return exitOK
			case errors.Is(err, pflag.ErrHelp):
				return exitOK
			case errors.Is(err, errUsage):
				return exitUsage
			case errors.Is(err, errSkipped):
				return exitSkipped
			case errors.Is(err, errFound):
				return exitFound
			default:
				fmt.Fprintf(stderr, "calipath %s: %s\n", name, sanitize(err.Error()))
				return exitSkipped
			}
		}
	}
	// A bare `calipath FILE...` opens the TUI (or prints the text report when stdout is not a terminal).
	if st, err := os.Stat(name); name == "-" || err == nil && !st.IsDir() {
		return run(ctx, append([]string{"tui"}, args...), stdout, stderr)
	} else if looksLikeCapture(name) {
		fmt.Fprintf(stderr, "calipath: %s: no such capture file (%s)\n", sanitize(name), sanitize(fmt.Sprint(err)))
		return exitUsage
	}
	if strings.HasPrefix(name, "-") {
		fmt.Fprintf(stderr, "calipath: unknown flag %s before the subcommand (flags follow it: calipath SUBCOMMAND [flags] FILE...)\n", sanitize(name))
	} else if near := nearestCommand(name); near != "" {
		fmt.Fprintf(stderr, "calipath: unknown subcommand %q (did you mean %s?)\n", name, near)
	} else {
		fmt.Fprintf(stderr, "calipath: unknown subcommand %q\n", name)
	}
	fmt.Fprintln(stderr, "Try 'calipath -h' for the subcommands.")
	return exitUsage
}

// nearestCommand returns the subcommand a mistyped word was most likely meant as: one that starts
// with it, or one at most two edits away (a typo, two letters swapped); "" when none is.
func nearestCommand(word string) string {
	word = strings.ToLower(word)
	best, bestD := "", 3
	for _, c := range commands() {
		if len(word) >= 3 && strings.HasPrefix(c.name, word) {
			return c.name
		}
		if d := editDistance(word, c.name); d < bestD {
			best, bestD = c.name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "calipath: where did my packet go on the Calico datapath, and how long did each hop take?")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: calipath SUBCOMMAND [flags] FILE...")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Subcommands:")
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Each subcommand takes -h; calipath --version prints the version. Files: pcap or pcapng,")
	fmt.Fprintln(w, "optionally gzip-compressed, named <node>-<iface>.pcap (e.g. node-a-tunl0.pcap) or identified")
	fmt.Fprintln(w, "with --point NODE:IFACE=FILE; or directories and capture bundles (Retina tarballs, Calico")
	fmt.Fprintln(w, "PacketCapture trees, Inspektor Gadget pcapng), read as the tools leave them.")
}

// newFlagSet returns a flag set for subcommand name, which takes args after its flags ("FILE...").
// -h prints its help to stdout; parse and usageErr print errors to stderr.
func newFlagSet(name, args string, stdout, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		if d, ok := stdout.(*flagsOf); ok { // not a user's -h: flagSetOf asks for the flags
			d.fs, d.args = fs, args
			return
		}
		fmt.Fprintf(stdout, "Usage: calipath %s [flags]", name)
		if args != "" {
			fmt.Fprintf(stdout, " %s", args)
		}
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout)
		for _, c := range commands() {
			if c.name == name {
				fmt.Fprintf(stdout, "%s.\n\n", strings.ToUpper(c.summary[:1])+c.summary[1:])
			}
		}
		fmt.Fprintln(stdout, "Flags:")
		fmt.Fprint(stdout, flagUsages(fs, helpWidth))
	}
	return fs
}

// parse parses args. On a usage error it prints the error and where to find the flags, and returns
// errUsage; on -h it returns pflag.ErrHelp, the help printed.
func parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usageErr(fs, fs.Output(), "%s", err.Error())
	}
	return nil
}

// usageErr prints a usage error, and a line that says where the flags are described, and returns
// errUsage.
func usageErr(fs *pflag.FlagSet, stderr io.Writer, format string, args ...any) error {
	fmt.Fprintf(stderr, "calipath %s: %s\n", fs.Name(), sanitize(fmt.Sprintf(format, args...)))
	fmt.Fprintf(stderr, "Try 'calipath %s -h' for its flags.\n", fs.Name())
	return errUsage
}

// looksLikeCapture says whether a command-line word that is not a subcommand was meant as a capture
// file: it names a path or has a capture file's extension.
func looksLikeCapture(name string) bool {
	if strings.ContainsRune(name, os.PathSeparator) {
		return true
	}
	lower := strings.ToLower(name)
	switch filepath.Ext(strings.TrimSuffix(lower, ".gz")) {
	case ".pcap", ".pcapng", ".cap", ".ntar", ".dmp":
		return true
	}
	return strings.HasSuffix(lower, ".gz")
}
