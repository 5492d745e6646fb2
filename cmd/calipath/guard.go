package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"
)

// The TUI runs in a child process that its parent watches over, so that whatever stops it leaves the
// terminal as it was: bubbletea restores the terminal when the TUI quits, fails, panics or is
// stopped by a signal, but nothing in a process can when the Go runtime dies (out of memory, a fatal
// error) or the kernel kills it (the OOM killer's SIGKILL). The parent saves the terminal's state
// before it starts the child and, unless the child says it left the terminal restored, puts back that
// state, turns off the alternate screen, mouse reporting, bracketed paste and focus reports, and shows
// the cursor. The child's stderr goes through the parent, which prints it when the child has gone and
// the terminal is back: what the runtime says when it dies would otherwise be written on the
// alternate screen and lost with it.

// guardEnv is set in the environment of the guarded child.
const guardEnv = "CALIPATH_TUI_GUARDED"

// guardMarker is what the child writes on its marker pipe (fd 3) when it exits normally: bubbletea
// has restored the terminal, or never took it.
const guardMarker = "calipath: terminal restored\n"

// terminalReset turns off what the TUI turns on: mouse reporting (cell motion, all motion, SGR),
// bracketed paste and focus reports; shows the cursor; leaves the alternate screen.
const terminalReset = "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?1004l\x1b[?25h\x1b[?1049l"

// stderrKeep bounds how much of the child's stderr the parent keeps to print.
const stderrKeep = 256 << 10

// isGuardedChild is set in the guarded child.
var isGuardedChild bool

// guardedChild sets the child up when this process is one, and returns the function to call at a
// normal exit (it writes the marker); nil in a process that is not a guarded child.
func guardedChild() func() {
	if os.Getenv(guardEnv) != "1" {
		return nil
	}
	os.Unsetenv(guardEnv) // not for what the child may start
	pipe := os.NewFile(3, "marker pipe")
	if pipe == nil {
		return nil
	}
	if st, err := pipe.Stat(); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
		return nil // not started by a calipath parent
	}
	isGuardedChild = true
	return func() { io.WriteString(pipe, guardMarker); pipe.Close() }
}

// guardTUI runs this command again in a guarded child process when stdout is a terminal and this
// process is not the child already, and returns the child's exit code with ok. It returns ok false
// when the caller is to show the TUI itself: in the child, or when the child cannot be started (the
// TUI then runs unguarded).
func guardTUI(ctx context.Context, stdout, stderr io.Writer) (code int, ok bool) {
	if isGuardedChild {
		return 0, false
	}
	tty, isFile := stdout.(*os.File)
	if !isFile || !term.IsTerminal(tty.Fd()) {
		return 0, false
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, false
	}
	state, err := term.GetState(tty.Fd())
	if err != nil {
		return 0, false
	}
	mr, mw, err := os.Pipe() // the marker
	if err != nil {
		return 0, false
	}
	er, ew, err := os.Pipe() // the child's stderr
	if err != nil {
		mr.Close()
		mw.Close()
		return 0, false
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, tty, ew
	cmd.ExtraFiles = []*os.File{mw}
	cmd.Env = append(os.Environ(), guardEnv+"=1")
	err = cmd.Start()
	mw.Close()
	ew.Close()
	if err != nil {
		mr.Close()
		er.Close()
		return 0, false
	}
	var marker, errOut bytes.Buffer
	var dropped int64
	var errMu sync.Mutex // errOut is read by a forced exit while it may still be written
	var reads sync.WaitGroup
	reads.Add(2)
	go func() {
		defer reads.Done()
		io.Copy(&marker, io.LimitReader(mr, int64(len(guardMarker))+1))
	}()
	go func() {
		defer reads.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := er.Read(buf)
			errMu.Lock()
			keep := min(n, stderrKeep-errOut.Len())
			errOut.Write(buf[:keep])
			dropped += int64(n - keep)
			errMu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	restore := func() {
		term.Restore(tty.Fd(), state)
		io.WriteString(tty, terminalReset)
	}
	// Cut short (a second signal, or the grace after one ran out): the child goes too, and the
	// terminal is restored on the way out.
	atForcedExit(func() {
		cmd.Process.Kill()
		restore()
		errMu.Lock()
		stderr.Write(errOut.Bytes())
		errMu.Unlock()
	})
	waited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-ctx.Done():
		// A signal from the terminal reaches the child too; one sent to this process alone is passed on.
		select {
		case <-waited:
		case <-time.After(200 * time.Millisecond):
			var s signalled
			if errors.As(context.Cause(ctx), &s) {
				cmd.Process.Signal(s.sig)
			}
			<-waited
		}
	}
	reads.Wait()
	mr.Close()
	er.Close()
	st := cmd.ProcessState
	code = st.ExitCode()
	if marker.String() == guardMarker {
		stderr.Write(errOut.Bytes())
		return code, true
	}
	// The child did not get to say the terminal is restored: it crashed or was killed.
	restore()
	how := fmt.Sprintf("exit status %d", code)
	if ws, isWS := st.Sys().(syscall.WaitStatus); isWS && ws.Signaled() {
		how = "killed by " + sigName(ws.Signal())
		if ws.Signal() == syscall.SIGKILL {
			how += ", which the kernel's OOM killer sends when memory runs out"
		}
		code = 128 + int(ws.Signal())
	}
	// The runtime's own words, repeated at the end: "fatal error: out of memory", "panic: …".
	for _, l := range strings.Split(errOut.String(), "\n") {
		if strings.HasPrefix(l, "fatal error: ") || strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "SIGQUIT: ") {
			how += ": " + sanitize(l)
			break
		}
	}
	stderr.Write(errOut.Bytes())
	if dropped > 0 {
		fmt.Fprintf(stderr, "\n[%d more bytes of stderr not shown]\n", dropped)
	}
	fmt.Fprintf(stderr, "calipath: the TUI stopped abnormally (%s); the terminal has been restored\n", how)
	if code == 0 {
		code = exitSkipped
	}
	return code, true
}
