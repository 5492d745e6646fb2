package main

import (
	"io"
	"os"
)

// writebackEvery is how many bytes of a replaced output go between two starts of the kernel's
// writeback.
const writebackEvery = 8 << 20

// writeback writes a new file from its start and, every writebackEvery bytes, has the kernel begin
// writing the bytes written since the last time to disk (start) without waiting for it: the disk
// writes while the report is still being formatted, and the fsync before the rename waits for the
// last few megabytes only, not for the whole report.
type writeback struct {
	f                *os.File
	start            func(off, n int64)
	written, started int64
}

// newWriteback returns f, or a writeback to it where the system can start a file's writeback.
func newWriteback(f *os.File) io.Writer {
	start := writebackStarter(f)
	if start == nil {
		return f
	}
	return &writeback{f: f, start: start}
}

func (w *writeback) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	w.written += int64(n)
	if w.written-w.started >= writebackEvery {
		w.start(w.started, w.written-w.started)
		w.started = w.written
	}
	return n, err
}
