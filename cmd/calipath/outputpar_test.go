//go:build unix

package main

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/report"
)

// cancelAfter cancels ctx once n bytes have gone through it to w.
type cancelAfter struct {
	w      io.Writer
	n      int
	cancel context.CancelCauseFunc
}

func (c *cancelAfter) Write(b []byte) (int, error) {
	if c.n -= len(b); c.n < 0 {
		c.cancel(signalled{syscall.SIGTERM})
	}
	return c.w.Write(b)
}

// The JSON report of a many-flow Result, its flows and journeys formatted by several workers, stops
// at a signal, a closed pipe or a full disk as one goroutine's does: writeOutput returns the signal
// or the write error, the old output stays, and no worker is left running.
func TestWriteOutputStopsParallel(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Mix = gen.MixManyFlows
	cfg.Nodes, cfg.PodsPerNode = 2, 16
	cfg.Flows, cfg.Packets = 2000, 8000
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res := correlate.Correlate(decode.Load(g.Files, decode.Options{}, decode.PointConfig{}), correlate.Options{Lean: true, StreamFlows: true})
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	before := runtime.NumGoroutine()
	writeJSON := func(w io.Writer) error {
		return report.New(w, report.WithFormat(report.JSON), report.WithJourneys(true)).Print(res)
	}
	for _, at := range []int{0, 300_000, 2_000_000} {
		out := oldOutput(t, t.TempDir())
		ctx, cancel := context.WithCancelCause(context.Background())
		err := writeOutput(ctx, out, io.Discard, func(w io.Writer) error { return writeJSON(&cancelAfter{w, at, cancel}) })
		var s signalled
		if !errors.As(err, &s) {
			t.Errorf("a signal after %d bytes: writeOutput returned %v, want the signal", at, err)
		}
		checkOld(t, out)
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() { // read a little, then close the pipe
			io.CopyN(io.Discard, pr, int64(at))
			pr.Close()
		}()
		if err := writeOutput(context.Background(), "-", pw, writeJSON); !errors.Is(err, syscall.EPIPE) {
			t.Errorf("a pipe closed after %d bytes: writeOutput returned %v, want EPIPE", at, err)
		}
		pw.Close()
	}
	if full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0); err == nil {
		if err := writeOutput(context.Background(), "-", full, writeJSON); !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("/dev/full: writeOutput returned %v, want ENOSPC", err)
		}
		full.Close()
	}
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(time.Second); n > before && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	if n > before {
		t.Errorf("%d goroutines after the stopped writes, %d before", n, before)
	}
}
