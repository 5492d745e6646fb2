package tui

import (
	"log/slog"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/internal/cputime"
)

// The load's timings, logged when the overview first shows (calipath tui --log-file): how long
// reading the captures, correlating them and the flow list's first order (prepareFirst) took, and
// the time from the start of loading to the overview. They say where the wait before the overview
// goes without watching the terminal for it: a script that polls the screen takes a good part of a
// shared machine's cores and slows the load it times.
//
// When the flows are listed after the overview shows (listFlowsCmd), first_order is 0 in that line,
// and a second line says when they are in: how long the collection before them, listing them and
// their first order took.
//
// Each line also gives cpu, the CPU time the process has used by then (every thread, user and
// system): on a machine that other work shares the times on the clock stretch with its load, while
// cpu stays near what one core of an idle machine takes (GOMAXPROCS=1).

// loadTimes is what loadCmd measured.
type loadTimes struct {
	start                  time.Time // loading began
	read, correlate, first time.Duration
	// after the overview showed (listFlowsCmd): collecting what correlation dropped, listing the flows
	collect, list time.Duration
}

// log writes the timings to l (nil: slog.Default()) as the overview of res shows.
func (t loadTimes) log(l *slog.Logger, res *correlate.Result) {
	if t.start.IsZero() || res == nil {
		return
	}
	if l == nil {
		l = slog.Default()
	}
	l.Info("overview shown", append([]any{"total", time.Since(t.start).Round(time.Millisecond),
		"read", t.read.Round(time.Millisecond), "correlate", t.correlate.Round(time.Millisecond),
		"first_order", t.first.Round(time.Millisecond)}, withCPU("files", len(res.Inputs), "flows", res.Summary.Flows)...)...)
}

// withCPU returns kv after the process's CPU time so far ("cpu"), when it can be read.
func withCPU(kv ...any) []any {
	if cpu, ok := cputime.Process(); ok {
		return append([]any{"cpu", cpu.Round(time.Millisecond)}, kv...)
	}
	return kv
}

// logFlows writes, as the flows of res listed after its overview showed come in, the time from the
// start of loading, how long listing them and their first order took, and how many they are.
func (t loadTimes) logFlows(l *slog.Logger, res *correlate.Result) {
	if t.start.IsZero() || res == nil {
		return
	}
	if l == nil {
		l = slog.Default()
	}
	l.Info("flows listed", append([]any{"total", time.Since(t.start).Round(time.Millisecond),
		"collect", t.collect.Round(time.Millisecond), "list", t.list.Round(time.Millisecond),
		"first_order", t.first.Round(time.Millisecond)}, withCPU("flows", len(res.Flows))...)...)
}
