package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/internal/testtool"
)

// TestTUIInTmux runs the real binary in a tmux pane (a real terminal), drives it with send-keys and
// checks that each screen appears in capture-pane. Skipped without tmux or with -short.
func TestTUIInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tmux := testtool.Path(t, testtool.Tmux)
	bin := calipathBinary(t)
	dir := t.TempDir()
	cfg := gen.DefaultConfig()
	cfg.Dir, cfg.Packets, cfg.LossPerHop, cfg.KeepTruth = filepath.Join(dir, "caps"), 500, 0.02, false
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "tmux.sock")
	session := "calipath-test"
	tm := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	cmdline := bin + " " + strings.Join(g.Files, " ") + "; echo EXITED $?; sleep 60"
	tm("new-session", "-d", "-s", session, "-x", "80", "-y", "24", "env", "TERM=xterm-256color", "sh", "-c", cmdline)
	defer exec.Command(tmux, "-S", sock, "kill-server").Run()

	waitFor := func(what string) string {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		var pane string
		for time.Now().Before(deadline) {
			pane = tm("capture-pane", "-p", "-t", session)
			if strings.Contains(pane, what) {
				return pane
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("%q never appeared; the pane shows:\n%s", what, pane)
		return ""
	}
	waitFor("[1 Overview]")
	waitFor("underlay")
	for _, step := range []struct{ keys, want string }{
		{"2", "[2 Flows]"},
		{"Enter", "[3 Timeline]"},
		{"n", "lost"},
		{"Enter", "[4 Packet]"},
		{"5", "[5 ARP]"},
		{"a", "[6 Anomalies"},
		{"?", "Keys"},
		{"Escape", "[6 Anomalies"},
		{"/", "/"},
	} {
		tm("send-keys", "-t", session, step.keys)
		waitFor(step.want)
		if step.keys == "Escape" {
			time.Sleep(300 * time.Millisecond) // so the next key is not read as Alt+key
		}
	}
	// A key sent right after Escape arrives as Alt+key: wait for the filter bar to close first.
	tm("send-keys", "-t", session, "Escape")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		lines := strings.Split(strings.TrimRight(tm("capture-pane", "-p", "-t", session), "\n"), "\n")
		if last := strings.TrimSpace(lines[len(lines)-1]); !strings.HasPrefix(last, "/") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	tm("send-keys", "-t", session, "q")
	waitFor("EXITED 0")
}

// TestTUINotATerminal checks that `calipath FILE...` prints the text report when stdout is not a
// terminal.
func TestTUINotATerminal(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Dir, cfg.Packets, cfg.KeepTruth = t.TempDir(), 100, false
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), g.Files, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "calipath report") || strings.Contains(stdout.String(), "\x1b[?1049h") {
		t.Fatalf("not the text report:\n%s", stdout.String())
	}
	stdout.Reset()
	if code := run(context.Background(), append([]string{"tui"}, g.Files...), &stdout, &stderr); code != exitOK ||
		!strings.Contains(stdout.String(), "calipath report") {
		t.Fatalf("calipath tui: exit %d\n%s", code, stdout.String())
	}
	if _, err := os.Stat(g.Files[0]); err != nil {
		t.Fatal(err)
	}
}
