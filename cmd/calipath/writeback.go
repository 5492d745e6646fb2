package main

import (
	"io"
	"os"
	"sync"
)

// writebackEvery is how many bytes of a replaced output go between two starts of the kernel's
// writeback.
const writebackEvery = 8 << 20

// writeback writes a new file from its start and, every writebackEvery bytes or more, hands the
// range written since the last to a goroutine that has the kernel begin writing it to disk (start):
// the disk writes while the report is still being formatted, and the fsync before the rename waits
// for the last megabytes only, not for the whole report. Starting a writeback may wait for a busy
// disk: the writes never wait for it (while the goroutine is busy, the next range grows instead).
type writeback struct {
	f               *os.File
	written, handed int64
	ranges          chan [2]int64 // to the goroutine: offset and length
	done            chan struct{} // closed when the goroutine has stopped
}

// newWriteback returns f, or a writeback to it where the system can start a file's writeback, and
// what stops the writeback's goroutine (to call before f is synced or closed; it may be called again).
func newWriteback(f *os.File) (io.Writer, func()) {
	return startWriteback(f, writebackStarter(f))
}

// startWriteback is newWriteback with start to start a range's writeback (nil: none).
func startWriteback(f *os.File, start func(off, n int64)) (io.Writer, func()) {
	if start == nil {
		return f, func() {}
	}
	w := &writeback{f: f, ranges: make(chan [2]int64, 1), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for r := range w.ranges {
			start(r[0], r[1])
		}
	}()
	var once sync.Once
	return w, func() {
		once.Do(func() {
			close(w.ranges)
			<-w.done
		})
	}
}

func (w *writeback) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	w.written += int64(n)
	if w.written-w.handed >= writebackEvery {
		select {
		case w.ranges <- [2]int64{w.handed, w.written - w.handed}:
			w.handed = w.written
		default: // the goroutine is still starting the range before
		}
	}
	return n, err
}
