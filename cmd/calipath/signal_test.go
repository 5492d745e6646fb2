//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calipath/calipath/internal/gen"
)

var stopSigs = []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// started is a calipath process the test signals.
type started struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan struct{}
	ended  time.Time
}

func start(t *testing.T, bin string, args ...string) *started {
	t.Helper()
	p := &started{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		p.ended = time.Now()
		close(p.done)
	}()
	return p
}

// wait waits for the process to end, at most limit, and returns how it ended: "exit N" or "killed
// by SIG".
func (p *started) wait(t *testing.T, limit time.Duration) string {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("still running %v after the signal; stderr:\n%s", limit, p.stderr.String())
	}
	ws := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return "killed by " + sigName(ws.Signal())
	}
	return fmt.Sprintf("exit %d", ws.ExitStatus())
}

// readAtLeast waits until the process has read n bytes (so it is running calipath's code, not still
// starting: a signal before calipath's handlers exist takes the default action), at most limit.
func (p *started) readAtLeast(t *testing.T, n int64, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", p.cmd.Process.Pid))
		if err != nil {
			t.Skipf("no /proc/PID/io: %v", err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "rchar: "); ok {
				if r, _ := strconv.ParseInt(v, 10, 64); r >= n {
					return
				}
			}
		}
		select {
		case <-p.done:
			t.Fatalf("ended before reading %d bytes: %s", n, p.stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("did not read %d bytes in %v", n, limit)
}

// inputSize is the bytes of files together.
func inputSize(files []string) int64 {
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}

// oldOutput writes the output a run must leave alone when stopped.
func oldOutput(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "out.txt")
	if err := os.WriteFile(out, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

func checkOld(t *testing.T, out string) {
	t.Helper()
	b, err := os.ReadFile(out)
	st, _ := os.Stat(out)
	if err != nil || string(b) != "old\n" || st.Mode().Perm() != 0o600 {
		t.Errorf("the old output is now %.40q (%v, %v)", b, err, st.Mode())
	}
	noTemps(t, filepath.Dir(out))
}

// pcapHeader is a pcap file header (µs, Ethernet) and one 60-byte record.
func pcapHeader() []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0xa1b2c3d4)
	b = le.AppendUint16(le.AppendUint16(b, 2), 4)
	b = append(b, make([]byte, 8)...)
	b = le.AppendUint32(le.AppendUint32(b, 262144), 1)
	b = le.AppendUint32(le.AppendUint32(b, 1_700_000_000), 0)
	b = le.AppendUint32(le.AppendUint32(b, 60), 60)
	return append(b, make([]byte, 60)...)
}

// A signal while an input is still being read (a FIFO that has stopped sending) stops the run: the
// exit code says which signal, and the output is left as it was.
func TestSignalWhileLoading(t *testing.T) {
	bin := calipathBinary(t)
	for _, sig := range stopSigs {
		t.Run(sigName(sig), func(t *testing.T) {
			dir := t.TempDir()
			out := oldOutput(t, dir)
			fifo := filepath.Join(dir, "node-a-eth0.pcap")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			p := start(t, bin, "report", "-q", "-o", out, fifo)
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // blocks until calipath opens it
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			w.Write(pcapHeader()) // and then nothing more, the writer still there
			time.Sleep(300 * time.Millisecond)
			p.cmd.Process.Signal(sig)
			if got, want := p.wait(t, 10*time.Second), fmt.Sprintf("exit %d", 128+int(sig)); got != want {
				t.Errorf("%s while loading: %s, want %s; stderr:\n%s", sigName(sig), got, want, p.stderr.String())
			}
			if !strings.Contains(p.stderr.String(), sigName(sig)) {
				t.Errorf("stderr does not name the signal:\n%s", p.stderr.String())
			}
			checkOld(t, out)
		})
	}
}

// A signal while the output is being written (to a FIFO nobody reads yet) stops the run too.
func TestSignalWhileWriting(t *testing.T) {
	bin := calipathBinary(t)
	caps := demoFiles(t, "healthy-ipip")
	for _, sig := range stopSigs {
		t.Run(sigName(sig), func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "out.fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			p := start(t, bin, append([]string{"report", "-q", "-o", fifo}, caps...)...)
			p.readAtLeast(t, inputSize(caps), time.Minute)
			time.Sleep(500 * time.Millisecond) // correlated, and waiting for a reader
			p.cmd.Process.Signal(sig)
			if got, want := p.wait(t, 10*time.Second), fmt.Sprintf("exit %d", 128+int(sig)); got != want {
				t.Errorf("%s while writing: %s, want %s; stderr:\n%s", sigName(sig), got, want, p.stderr.String())
			}
			if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
				t.Errorf("the FIFO is now %v (%v)", st.Mode(), err)
			}
			noTemps(t, filepath.Dir(fifo))
		})
	}
}

// A signal at any moment of a run (reading, correlating, writing) either stops it at once, leaving
// the old output and no temporary file, with the signal's exit code; or comes too late, when the new
// output is in place already and the run is ending.
func TestSignalAnyMoment(t *testing.T) {
	bin := calipathBinary(t)
	cfg := gen.DefaultConfig()
	cfg.Dir, cfg.Packets, cfg.KeepTruth, cfg.LossPerHop = t.TempDir(), 60000, false, 0.01
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// How long an undisturbed run takes, and what it writes.
	// (Times count from when it has begun to read, to leave out the start of the process.)
	dir := t.TempDir()
	full := filepath.Join(dir, "full.txt")
	p := start(t, bin, append([]string{"report", "-q", "-o", full}, g.Files...)...)
	p.readAtLeast(t, 1<<16, time.Minute)
	t0 := time.Now()
	if got := p.wait(t, time.Minute); got != "exit 0" {
		t.Fatalf("undisturbed run: %s\n%s", got, p.stderr.String())
	}
	took := p.ended.Sub(t0)
	want, _ := os.ReadFile(full)
	for i, frac := range []float64{0.05, 0.25, 0.45, 0.65, 0.8, 0.95} {
		sig := stopSigs[i%len(stopSigs)]
		delay := time.Duration(frac * float64(took))
		// A run that exits 0 later than 100 ms after the signal may only have been slowed by a busy
		// machine: that case is tried once more, and fails only if it happens again.
		problem := signalAt(t, bin, g.Files, sig, delay, took, want)
		if problem != "" && strings.HasPrefix(problem, "late exit 0") {
			problem = signalAt(t, bin, g.Files, sig, delay, took, want)
		}
		if problem != "" {
			t.Errorf("%s at %v of %v: %s", sigName(sig), delay, took, problem)
		}
	}
}

// signalAt runs report over files, sends sig delay after it has begun to read, and says what was
// wrong with how the run ended ("" when nothing was): stopped with the signal's exit code and the
// old output left, or ended by itself within 100 ms of the signal with the full report (want).
func signalAt(t *testing.T, bin string, files []string, sig syscall.Signal, delay, took time.Duration, want []byte) string {
	out := oldOutput(t, t.TempDir())
	p := start(t, bin, append([]string{"report", "-q", "-o", out}, files...)...)
	p.readAtLeast(t, 1<<16, time.Minute)
	time.Sleep(delay)
	sent := time.Now()
	p.cmd.Process.Signal(sig)
	got := p.wait(t, 10*time.Second)
	switch {
	case got == fmt.Sprintf("exit %d", 128+int(sig)):
		checkOld(t, out)
		if d := p.ended.Sub(sent); d > stopGrace+time.Second {
			return fmt.Sprintf("stopped only %v after the signal", d)
		}
	case got == "exit 0" && p.ended.Sub(sent) < 100*time.Millisecond:
		// Too late: the report was complete.
		if b, _ := os.ReadFile(out); !bytes.Equal(b, want) {
			return "exit 0 but the output is not the report"
		}
	case got == "exit 0":
		return fmt.Sprintf("late exit 0, %v after the signal; stderr:\n%s", p.ended.Sub(sent), p.stderr.String())
	default:
		return fmt.Sprintf("%s, %v after the signal; stderr:\n%s", got, p.ended.Sub(sent), p.stderr.String())
	}
	return ""
}

// writeOutput stops when ctx ends mid-write: the temporary file goes, the old file stays.
func TestWriteOutputStops(t *testing.T) {
	dir := t.TempDir()
	out := oldOutput(t, dir)
	ctx, cancel := context.WithCancelCause(context.Background())
	err := writeOutput(ctx, out, io.Discard, func(w io.Writer) error {
		io.WriteString(w, "new, part one\n")
		cancel(signalled{syscall.SIGTERM})
		_, err := io.WriteString(w, "part two\n")
		return err
	})
	var s signalled
	if !errors.As(err, &s) || s.sig != syscall.SIGTERM {
		t.Errorf("writeOutput returned %v, want the signal", err)
	}
	checkOld(t, out)
	if len(temps.names) != 0 {
		t.Errorf("temporary files still registered: %v", temps.names)
	}
}
