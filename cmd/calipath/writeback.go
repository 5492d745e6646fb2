package main

import (
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// writebackEvery is how many bytes of a replaced output go between two starts of the kernel's
// writeback.
const writebackEvery = 8 << 20

// writeback writes a file front to back and, every writebackEvery bytes or more, hands the range
// written since the last to a goroutine that has the kernel begin writing it to disk (start): the
// disk writes while the report is still being formatted, and the fsync before the rename waits for
// the last megabytes only, not for the whole report. The goroutine then waits for the range before
// that one to be on disk and drops its pages from the page cache (drop): the writes that follow take
// those pages again, just freed, where otherwise each page of the report is a page the kernel has not
// handed out for a while, whose first touch costs a fault of the host's on a virtual machine (the
// copy into the page cache ran 5-10 times slower: docs/scale-out.md, sys21). Starting a writeback
// and waiting for one may wait for a busy disk: the writes never wait for them (while the goroutine
// is busy, the next range grows instead), and stopping waits for the wait under way only.
type writeback struct {
	f               *os.File
	base            int64 // the file's offset of the first byte written
	written, handed int64
	ranges          chan [2]int64 // to the goroutine: offset and length
	done            chan struct{} // closed when the goroutine has stopped
	err             error         // the first error of a wait for a range (the goroutine's until done)
	stopping        atomic.Bool   // set by stop: no more waits are begun
}

// flusher is what a writeback asks of the system for a range of the file's bytes: start its
// writeback without waiting (nil: none, and no writeback), and wait for it to be on disk then drop
// its pages from the page cache (nil: not done). drop returns the error the disk gave for the range,
// which the file's next fsync no longer reports.
type flusher struct {
	start func(off, n int64)
	drop  func(off, n int64) error
}

// newWriteback returns f, or a writeback to it from offset base where the system can start a
// file's writeback, and what stops the writeback's goroutine and returns the error of a range's
// write to disk (to call before f is synced or closed; it may be called again).
func newWriteback(f *os.File, base int64) (io.Writer, func() error) {
	return startWriteback(f, base, writebackFlusher(f))
}

// startWriteback is newWriteback with fl to start a range's writeback and drop its pages.
func startWriteback(f *os.File, base int64, fl flusher) (io.Writer, func() error) {
	if fl.start == nil {
		return f, func() error { return nil }
	}
	w := &writeback{f: f, base: base, ranges: make(chan [2]int64, 1), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		var last [2]int64 // the range started before, not yet dropped
		for r := range w.ranges {
			fl.start(r[0], r[1])
			if fl.drop != nil && w.err == nil && last[1] > 0 && !w.stopping.Load() {
				if err := fl.drop(last[0], last[1]); err != nil {
					w.err = &os.PathError{Op: "write", Path: f.Name(), Err: err}
				}
			}
			last = r
		}
	}()
	var once sync.Once
	return w, func() error {
		once.Do(func() {
			w.stopping.Store(true) // at most the wait under way, not one for each range still queued
			close(w.ranges)
			<-w.done
		})
		return w.err
	}
}

func (w *writeback) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	w.written += int64(n)
	if w.written-w.handed >= writebackEvery {
		select {
		case w.ranges <- [2]int64{w.base + w.handed, w.written - w.handed}:
			w.handed = w.written
		default: // the goroutine is still busy with the range before
		}
	}
	return n, err
}
