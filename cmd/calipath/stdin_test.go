//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
)

// runBin runs the binary with stdin from in (a file, or bytes through a pipe), at most 30 s.
func runBin(t *testing.T, stdin any, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, calipathBinary(t), args...)
	switch in := stdin.(type) {
	case *os.File:
		cmd.Stdin = in
	case []byte:
		cmd.Stdin = bytes.NewReader(in) // through a pipe
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("calipath %v hangs; stderr:\n%s", args, e.String())
	}
	return cmd.ProcessState.ExitCode(), o.String(), e.String()
}

// Every subcommand reads a non-seekable input once ("-" is stdin), or says it needs a file: packets
// reads its inputs twice, so it refuses a pipe or a FIFO before reading anything; stdin that is a
// file it reads twice.
func TestStdinAndPipes(t *testing.T) {
	capPath := demoFiles(t, "healthy-ipip")[0]
	capBytes, _ := os.ReadFile(capPath)
	_, fromFile, _ := runBin(t, nil, "packets", capPath)
	frames := strings.Count(fromFile, "\n") - 1
	if frames < 10 {
		t.Fatalf("packets %s: %d frames", capPath, frames)
	}

	for _, name := range []string{"-", "/dev/stdin"} {
		code, out, stderr := runBin(t, capBytes, "packets", name)
		if code != exitUsage || !strings.Contains(stderr, "which can be read only once") || out != "" {
			t.Errorf("packets %s from a pipe: exit %d, stdout %q, stderr %s", name, code, out, stderr)
		}
	}
	fifo := filepath.Join(t.TempDir(), "x.pcap")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runBin(t, nil, "packets", fifo); code != exitUsage || !strings.Contains(stderr, "pipe (FIFO)") {
		t.Errorf("packets FIFO: exit %d, stderr %s", code, stderr)
	}

	f, err := os.Open(capPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	code, out, stderr := runBin(t, f, "packets", "-")
	if code != 0 || strings.Count(out, "\n")-1 != frames || !strings.HasPrefix(out, "-:1 ") {
		t.Errorf("packets - from a file: exit %d, %d lines (want %d); stderr %s\n%.200s", code,
			strings.Count(out, "\n")-1, frames, stderr, out)
	}

	// The others read stdin once, from a pipe too.
	_, wantJSON, _ := runBin(t, nil, "report", "-q", "--format", "json", capPath)
	for _, c := range [][]string{{"report", "-q", "--format", "json", "-"}, {"points", "-"}, {"tui", "-"}, {"-"}} {
		code, out, stderr := runBin(t, capBytes, c...)
		if code != 0 || out == "" {
			t.Errorf("%v from a pipe: exit %d, stderr %s", c, code, stderr)
		}
		if c[0] == "report" {
			var got, want correlate.Result
			json.Unmarshal([]byte(out), &got)
			json.Unmarshal([]byte(wantJSON), &want)
			if len(got.Inputs) != 1 || got.Inputs[0].File != "-" || got.Inputs[0].Records != want.Inputs[0].Records {
				t.Errorf("report - from a pipe: inputs %+v, want the %d records of the file", got.Inputs, want.Inputs[0].Records)
			}
		}
	}
}
