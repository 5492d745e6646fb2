//go:build unix

package testtool

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// ServeFIFO makes a FIFO named name in a temporary directory and writes the bytes of the file src
// into it from a goroutine, as standard input or a pipe gives a capture: what is read from it cannot
// be read again. wait fails the test when that write failed, or when nothing opened the FIFO to read
// it within 10 s; call it after the FIFO has been read.
func ServeFIFO(t testing.TB, src, name string) (fifo string, wait func()) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	fifo = filepath.Join(t.TempDir(), name)
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			_, err = f.Write(b)
			f.Close()
		}
		done <- err
	}()
	return fifo, func() {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the FIFO %s was not read", name)
		}
	}
}
