package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/report"
	"github.com/calipath/calipath/tui"
)

// runTUI opens the interactive TUI on a terminal, and prints the text report otherwise.
func runTUI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tui", "FILE...", stdout, stderr)
	var in inputFlags
	in.register(fs)
	var offsets offsetFlag
	fs.Var(&offsets, "offset", "set a node's clock offset against the reference node instead of estimating it (repeatable)")
	window := fs.Duration("window", time.Second, "how far apart (after clock correction) two sightings of one packet may be, a `DURATION`")
	logFile := fs.String("log-file", "", "append log messages to `FILE` while the TUI runs (default: discard them)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the TUI to `FILE`")
	memprofile := fs.String("memprofile", "", "write a heap profile to `FILE` when the TUI quits")
	_ = fs.MarkHidden("cpuprofile")
	_ = fs.MarkHidden("memprofile")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkWindow(fs, stderr, *window); err != nil {
		return err
	}
	paths := in.files(fs.Args())
	if len(paths) == 0 {
		return usageErr(fs, stderr, "no capture files given")
	}
	if err := in.checkOutputs(fs, stderr, paths, "--log-file", *logFile, "--cpuprofile", *cpuprofile,
		"--memprofile", *memprofile); err != nil {
		return err
	}
	cfg, err := in.config(paths)
	if err != nil {
		return err
	}
	in.cluster.printProblems(stderr)
	dopts := in.decodeOptions()
	in.printBundle(stderr)
	if !report.IsTerminal(stdout) { // the text report, as calipath report prints it
		return bundleErr(reportFiles(ctx, paths, dopts, cfg,
			reportArgs{format: report.Text, quiet: true, offsets: offsets.m, window: *window,
				cluster: in.cluster.meta, prefix: in.cluster.prefix}, stdout, stderr), &in)
	}
	if code, ok := guardTUI(ctx, stdout, stderr); ok {
		return exitCode(code)
	}
	// The profiles are of the process that shows the TUI (the guarded child), started once.
	stop, err := startProfiles(*cpuprofile, *memprofile, stderr)
	if err != nil {
		return err
	}
	defer stop()
	copts := correlate.Options{Offsets: offsets.m, Window: *window, Lean: true, Cluster: in.cluster.meta,
		IfacePrefix: in.cluster.prefix}
	// Nothing may write to the terminal while the TUI runs: logs go to --log-file or nowhere.
	var logw io.Writer = io.Discard
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("--log-file: %w", err)
		}
		defer f.Close()
		logw = f
	}
	prevSlog, prevLog := slog.Default(), log.Writer()
	slog.SetDefault(slog.New(slog.NewTextHandler(logw, nil)))
	log.SetOutput(logw)
	defer func() {
		slog.SetDefault(prevSlog)
		log.SetOutput(prevLog)
	}()
	err = tui.Run(ctx, paths, tui.Options{Decode: dopts, Points: cfg, Correlate: copts, Out: stdout})
	return bundleErr(tuiErr(ctx, err, stderr), &in)
}

// tuiErr is the error of a TUI run: the signal that stopped it, if one did; errSkipped when it
// showed captures of which some input was skipped; why the input gave nothing to show.
func tuiErr(ctx context.Context, err error, stderr io.Writer) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if errors.Is(err, tui.ErrInputSkipped) {
		return errSkipped
	}
	return printUnfit(err, stderr) // the input gave nothing to show: the TUI quit, say why here
}
