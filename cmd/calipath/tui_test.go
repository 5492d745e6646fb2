//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
	tm("send-keys", "-t", session, "2")
	waitFor("[2 Flows]")
	// Keys that arrive together all count: "jj" in one write moves the cursor two rows down, "kk" back.
	for _, c := range []struct {
		keys string
		row  int
	}{{"jj", 2}, {"kk", 0}} {
		tm("send-keys", "-t", session, c.keys)
		deadline := time.Now().Add(10 * time.Second)
		var lines []string
		for time.Now().Before(deadline) {
			lines = strings.Split(tm("capture-pane", "-p", "-t", session), "\n")
			if len(lines) > 2+c.row && strings.HasPrefix(lines[2+c.row], "›") {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(lines) <= 2+c.row || !strings.HasPrefix(lines[2+c.row], "›") {
			t.Fatalf("%q sent at once: the cursor is not on flow row %d:\n%s", c.keys, c.row+1, strings.Join(lines, "\n"))
		}
	}
	for _, step := range []struct{ keys, want string }{
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

// TestTUIRestoresTerminal runs the real binary's TUI in a tmux pane and stops it every way it can
// stop: quit, SIGTERM, SIGHUP and SIGINT, SIGKILL (what the kernel's OOM killer sends) and SIGQUIT
// (the Go runtime's fatal exit with its dump, as when it runs out of memory). Each time the terminal
// must be as it was: the tty modes (stty -g), no alternate screen, the cursor shown, no mouse
// reporting. Skipped, saying so, without tmux.
func TestTUIRestoresTerminal(t *testing.T) {
	tmux := testtool.Path(t, testtool.Tmux)
	bin := calipathBinary(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "tmux.sock")
	defer exec.Command(tmux, "-S", sock, "kill-server").Run()
	tm := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	// A session that outlives the others, so that the server stays up between them.
	tm("new-session", "-d", "-s", "keep", "sleep", "600")
	for i, c := range []struct {
		name, keys string
		sig        syscall.Signal
		toTUI      bool // the signal goes to the process showing the TUI, not to the one the shell started
		exit       int
		says       string
	}{
		{name: "quit", keys: "q", exit: 0},
		{name: "SIGTERM", sig: syscall.SIGTERM, exit: 143, says: "stopped by SIGTERM"},
		{name: "SIGHUP", sig: syscall.SIGHUP, toTUI: true, exit: 129, says: "stopped by SIGHUP"},
		{name: "SIGINT", sig: syscall.SIGINT, toTUI: true, exit: 130, says: "stopped by SIGINT"},
		{name: "SIGKILL", sig: syscall.SIGKILL, toTUI: true, exit: 137, says: "killed by SIGKILL"},
		{name: "SIGQUIT", sig: syscall.SIGQUIT, toTUI: true, exit: 2, says: "SIGQUIT: quit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			session := fmt.Sprintf("s%d", i)
			before, after := filepath.Join(dir, session+".before"), filepath.Join(dir, session+".after")
			cmdline := fmt.Sprintf("stty -g > %s; %s demo; echo EXITED $?; stty -g > %s; sleep 60", before, bin, after)
			tmp := filepath.Join(dir, session+".tmp") // the demo unpacks its captures here
			if err := os.Mkdir(tmp, 0o700); err != nil {
				t.Fatal(err)
			}
			tm("new-session", "-d", "-s", session, "-x", "100", "-y", "30", "env", "TERM=xterm-256color", "TMPDIR="+tmp, "sh", "-c", cmdline)
			defer exec.Command(tmux, "-S", sock, "kill-session", "-t", session).Run()
			waitPane := func(what string) string {
				t.Helper()
				deadline := time.Now().Add(30 * time.Second)
				var pane string
				for time.Now().Before(deadline) {
					pane = tm("capture-pane", "-p", "-J", "-S", "-100", "-t", session)
					if strings.Contains(pane, what) {
						return pane
					}
					time.Sleep(100 * time.Millisecond)
				}
				t.Fatalf("%q never appeared; the pane shows:\n%s", what, pane)
				return ""
			}
			waitPane("[1 Overview]")
			if c.keys != "" {
				tm("send-keys", "-t", session, c.keys)
			} else {
				sh, _ := strconv.Atoi(strings.TrimSpace(tm("display", "-p", "-t", session, "#{pane_pid}")))
				pid := childPID(t, sh, 10*time.Second)
				if pid == 0 {
					t.Fatal("no calipath process under the shell")
				}
				if tuiPID := childPID(t, pid, 0); c.toTUI && tuiPID != 0 { // the TUI is on screen: its process is there
					pid = tuiPID
				}
				if err := syscall.Kill(pid, c.sig); err != nil {
					t.Fatal(err)
				}
			}
			pane := waitPane("EXITED ")
			if !strings.Contains(pane, fmt.Sprintf("EXITED %d\n", c.exit)) {
				t.Errorf("exit status: the pane shows\n%s\nwant EXITED %d", pane, c.exit)
			}
			if c.says != "" && !strings.Contains(pane, c.says) {
				t.Errorf("the pane does not say %q:\n%s", c.says, pane)
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("the demo left %s behind in its temporary directory", left[0].Name())
			}
			flags := strings.TrimSpace(tm("display", "-p", "-t", session,
				"alternate=#{alternate_on} cursor=#{cursor_flag} mouse=#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}#{mouse_sgr_flag}"))
			if flags != "alternate=0 cursor=1 mouse=0000" {
				t.Errorf("terminal left with %s, want alternate=0 cursor=1 mouse=0000", flags)
			}
			var b2 []byte
			var err error
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				if b2, err = os.ReadFile(after); len(b2) > 0 && bytes.HasSuffix(b2, []byte("\n")) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			b1, _ := os.ReadFile(before)
			if err != nil || len(b1) == 0 || !bytes.Equal(b1, b2) {
				t.Errorf("tty modes before %q, after %q (%v)", b1, b2, err)
			}
		})
	}
}

// childPID returns the one child process of pid, waiting for it at most wait; 0 if there is none.
func childPID(t *testing.T, pid int, wait time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			if fs := strings.Fields(string(b)); len(fs) > 0 {
				c, _ := strconv.Atoi(fs[0])
				return c
			}
		}
		if time.Now().After(deadline) {
			return 0
		}
		time.Sleep(50 * time.Millisecond)
	}
}
