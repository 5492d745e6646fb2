package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/internal/testtool"
)

// widthArgs is a report whose lines run past 100 columns: the --links reasons of an any-only capture.
func widthArgs() []string {
	d := lab + "/any-ipip-input-drop/"
	return []string{"--links", "node-a=" + d + "node-a-links.txt", "--links", "node-b=" + d + "node-b-links.txt",
		d + "node-a-any.pcap", d + "node-b-any.pcap"}
}

func longest(s string) (n int, cut bool) {
	for _, l := range strings.Split(s, "\n") {
		n = max(n, len([]rune(l)))
		cut = cut || strings.HasSuffix(l, "…")
	}
	return n, cut
}

// The text report is not cut in a pipe or a file; --width N fits it to N columns; a negative
// --width is a usage error.
func TestReportWidth(t *testing.T) {
	code, out, errs := runCLI(append([]string{"report", "-q"}, widthArgs()...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if n, cut := longest(out); n <= 100 || cut {
		t.Errorf("a report to a pipe is cut (longest line %d columns, a line ends in …: %v)", n, cut)
	}
	if !strings.Contains(out, "node-b-any.pcap (-i any) covers every interface of node-b and saw no frame on it") {
		t.Error("a point's reason lost its end")
	}
	file := filepath.Join(t.TempDir(), "r.txt")
	if code, _, errs := runCLI(append([]string{"report", "-q", "-o", file}, widthArgs()...)...); code != exitOK {
		t.Fatalf("-o: exit %d: %s", code, errs)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != out {
		t.Errorf("the report in a file differs from the one to a pipe (%v)", err)
	}
	code, out, errs = runCLI(append([]string{"report", "-q", "--width", "80"}, widthArgs()...)...)
	if n, cut := longest(out); code != exitOK || n > 80 || !cut {
		t.Errorf("--width 80: exit %d, longest line %d columns, cut %v: %s", code, n, cut, errs)
	}
	code, _, errs = runCLI(append([]string{"report", "--width", "-3"}, widthArgs()...)...)
	if code != exitUsage || !strings.Contains(errs, "--width must be a number of columns") {
		t.Errorf("--width -3: exit %d: %s", code, errs)
	}
}

// On a terminal the report fits the terminal's width (the real binary in a 90-column tmux pane;
// skipped without tmux or with -short).
func TestReportWidthTerminal(t *testing.T) {
	tmux := testtool.Path(t, testtool.Tmux)
	bin := calipathBinary(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "tmux.sock")
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	cmdline := "cd " + wd + " && " + bin + " report -q " + strings.Join(widthArgs(), " ") + "; echo EXITED $?; sleep 60"
	if out, err := exec.Command(tmux, "-S", sock, "new-session", "-d", "-s", "w", "-x", "90", "-y", "200",
		"env", "TERM=xterm-256color", "sh", "-c", cmdline).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	defer exec.Command(tmux, "-S", sock, "kill-server").Run()
	var pane string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		// -J joins lines the terminal wrapped: a line longer than the pane shows as one.
		out, _ := exec.Command(tmux, "-S", sock, "capture-pane", "-p", "-J", "-S", "-", "-t", "w").Output()
		if pane = string(out); strings.Contains(pane, "EXITED") {
			break
		}
	}
	if !strings.Contains(pane, "EXITED 0") {
		t.Fatalf("the report did not finish:\n%s", pane)
	}
	if n, cut := longest(strings.TrimRight(pane, "\n ")); n > 90 || !cut {
		t.Errorf("in a 90-column terminal: longest line %d columns, cut %v:\n%s", n, cut, pane)
	}
}

// Through a real pipe (the binary's stdout read by this test, as `calipath report | less` reads
// it) the report is not cut.
func TestReportWidthPipe(t *testing.T) {
	bin := calipathBinary(t)
	cmd := exec.Command(bin, append([]string{"report", "-q"}, widthArgs()...)...)
	cmd.Env = append(os.Environ(), "COLUMNS=60")
	out, err := cmd.Output() // stdout is a pipe
	if err != nil {
		t.Fatal(err)
	}
	if n, cut := longest(string(out)); n <= 100 || cut {
		t.Errorf("a report to a pipe is cut (longest line %d columns, a line ends in …: %v)", n, cut)
	}
}
