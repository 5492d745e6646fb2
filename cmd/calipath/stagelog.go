package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/calipath/calipath/internal/cputime"
)

// stageLog writes a line as each stage of a report run ends (report --log-file): the stage's name,
// its time on the clock and the process's CPU time in it (every thread, user and system), and both
// since the run started, then the stage's system time alone and the pages the kernel mapped in for
// it (minor faults: first touches and bulk populating). With the CPU time beside the clock's, one run
// says how many cores each stage kept busy, and where a run on more cores waits for one: what
// docs/scale-out.md measures; the system time and the faults say how much of the CPU time was the
// kernel's and why (the fault counts are nearly the same from run to run, times are not). A nil
// stageLog logs nothing.
type stageLog struct {
	l           *slog.Logger
	start, last time.Time
	use0, prev  cputime.Usage
	useOK       bool
}

// openStageLog opens path for appending and starts the clock; "" logs nothing (nil, no error).
func openStageLog(path string) (*stageLog, io.Closer, error) {
	if path == "" {
		return nil, nil, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("--log-file: %w", err)
	}
	return newStageLog(f), f, nil
}

// newStageLog logs to w from now.
func newStageLog(w io.Writer) *stageLog {
	s := &stageLog{l: slog.New(slog.NewTextHandler(w, nil)), start: time.Now()}
	s.last = s.start
	s.use0, s.useOK = cputime.Read()
	s.prev = s.use0
	return s
}

// done logs the end of stage: how long it took on the clock and in CPU time, the totals, and its
// system time and minor faults.
func (s *stageLog) done(stage string) {
	if s == nil {
		return
	}
	now := time.Now()
	kv := []any{"stage", stage, "took", now.Sub(s.last).Round(time.Millisecond)}
	use, ok := cputime.Read()
	ok = ok && s.useOK
	if ok {
		kv = append(kv, "cpu", (use.CPU - s.prev.CPU).Round(time.Millisecond))
	}
	kv = append(kv, "total", now.Sub(s.start).Round(time.Millisecond))
	if ok {
		kv = append(kv, "total_cpu", (use.CPU - s.use0.CPU).Round(time.Millisecond),
			"sys", (use.Sys - s.prev.Sys).Round(time.Millisecond), "minflt", use.MinFlt-s.prev.MinFlt)
		s.prev = use
	}
	s.last = now
	s.l.Info("stage done", kv...)
}

// hook is done as a correlate.Options.StageDone (nil for a nil stageLog).
func (s *stageLog) hook() func(string) {
	if s == nil {
		return nil
	}
	return s.done
}
