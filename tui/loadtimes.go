package tui

import (
	"log/slog"
	"time"

	"github.com/calipath/calipath/correlate"
)

// The load's timings, logged when the overview first shows (calipath tui --log-file): how long
// reading the captures, correlating them and the flow list's first order (prepareFirst) took, and
// the time from the start of loading to the overview. They say where the wait before the overview
// goes without watching the terminal for it: a script that polls the screen takes a good part of a
// shared machine's cores and slows the load it times.

// loadTimes is what loadCmd measured.
type loadTimes struct {
	start                  time.Time // loading began
	read, correlate, first time.Duration
}

// log writes the timings to l (nil: slog.Default()) as the overview of res shows.
func (t loadTimes) log(l *slog.Logger, res *correlate.Result) {
	if t.start.IsZero() || res == nil {
		return
	}
	if l == nil {
		l = slog.Default()
	}
	l.Info("overview shown", "total", time.Since(t.start).Round(time.Millisecond),
		"read", t.read.Round(time.Millisecond), "correlate", t.correlate.Round(time.Millisecond),
		"first_order", t.first.Round(time.Millisecond), "files", len(res.Inputs), "flows", len(res.Flows))
}
