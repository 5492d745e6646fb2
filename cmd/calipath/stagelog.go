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
// since the run started. With the CPU time beside the clock's, one run says how many cores each stage
// kept busy, and where a run on more cores waits for one: what docs/scale-out.md measures. A nil
// stageLog logs nothing.
type stageLog struct {
	l             *slog.Logger
	start, last   time.Time
	cpu0, lastCPU time.Duration
	cpuOK         bool
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
	s.cpu0, s.cpuOK = cputime.Process()
	s.lastCPU = s.cpu0
	return s
}

// done logs the end of stage: how long it took on the clock and in CPU time, and the totals.
func (s *stageLog) done(stage string) {
	if s == nil {
		return
	}
	now := time.Now()
	kv := []any{"stage", stage, "took", now.Sub(s.last).Round(time.Millisecond)}
	cpu, ok := cputime.Process()
	if ok && s.cpuOK {
		kv = append(kv, "cpu", (cpu - s.lastCPU).Round(time.Millisecond))
	}
	kv = append(kv, "total", now.Sub(s.start).Round(time.Millisecond))
	if ok && s.cpuOK {
		kv = append(kv, "total_cpu", (cpu - s.cpu0).Round(time.Millisecond))
		s.lastCPU = cpu
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
