//go:build unix

package report

import (
	"bytes"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// A character device that is not a terminal (/dev/null), a pipe and a buffer are not terminals; a
// pseudo-terminal is.
func TestIsTerminal(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if IsTerminal(null) {
		t.Error("/dev/null taken for a terminal")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(w) {
		t.Error("a pipe taken for a terminal")
	}
	if IsTerminal(&bytes.Buffer{}) || IsTerminal((*os.File)(nil)) {
		t.Error("a buffer or a nil file taken for a terminal")
	}
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal to check the positive case: %v", err)
	}
	defer pty.Close()
	if !IsTerminal(pty) {
		t.Error("a pseudo-terminal not taken for a terminal")
	}
}

// TerminalWidth is a terminal's width in columns, and 0 (cut nothing) for a pipe, a file or a
// buffer.
func TestTerminalWidth(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.Create(t.TempDir() + "/report.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if TerminalWidth(w) != 0 || TerminalWidth(f) != 0 || TerminalWidth(&bytes.Buffer{}) != 0 {
		t.Error("a pipe, a file or a buffer has a width")
	}
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal to check the positive case: %v", err)
	}
	defer pty.Close()
	for _, cols := range []uint16{73, 211} {
		if err := unix.IoctlSetWinsize(int(pty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: cols}); err != nil {
			t.Fatal(err)
		}
		if got := TerminalWidth(pty); got != int(cols) {
			t.Errorf("TerminalWidth of a %d-column terminal = %d", cols, got)
		}
	}
}
