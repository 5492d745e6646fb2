package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// A writeback writes what it is given to its file, starts the writeback of what was written in
// consecutive ranges of writebackEvery bytes or more, from its base offset, on its goroutine, and
// drops each range started but the last, in order, after starting the one that follows it.
func TestWriteback(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if writebackFlusher(f).start == nil {
		t.Skip("no writeback to start on this system")
	}
	const base = 1000
	var mu sync.Mutex
	var ranges, drops [][2]int64
	w, stop := startWriteback(f, base, flusher{
		start: func(off, n int64) {
			mu.Lock()
			defer mu.Unlock()
			ranges = append(ranges, [2]int64{off, n})
		},
		drop: func(off, n int64) error {
			mu.Lock()
			defer mu.Unlock()
			if len(ranges) == 0 || ranges[len(ranges)-1] == [2]int64{off, n} {
				t.Errorf("range %d+%d dropped before the range after it was started (started: %v)", off, n, ranges)
			}
			drops = append(drops, [2]int64{off, n})
			return nil
		}})
	var want bytes.Buffer
	piece := bytes.Repeat([]byte("calipath"), (1<<20+7)/8)
	for want.Len() < 3*writebackEvery+100 {
		if _, err := w.Write(piece); err != nil {
			t.Fatal(err)
		}
		want.Write(piece)
		time.Sleep(time.Millisecond) // for the goroutine to start the range before
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock() // the goroutine has stopped: ranges is the test's
	defer mu.Unlock()
	next := int64(base)
	for _, r := range ranges {
		if r[0] != next || r[1] < writebackEvery {
			t.Fatalf("writeback started for %v, want consecutive ranges of at least %d bytes from %d", ranges, writebackEvery, base)
		}
		next += r[1]
	}
	if len(ranges) < 2 || next-base > int64(want.Len()) || int64(want.Len())-(next-base) >= writebackEvery {
		t.Errorf("writeback started for the first %d of %d bytes in %d ranges, want all but less than %d", next-base, want.Len(), len(ranges), writebackEvery)
	}
	// every range started but the last, in order; the one before the last too unless the stop came
	// before the goroutine had the last range
	ok := len(drops) >= max(len(ranges)-2, 1) && len(drops) < len(ranges)
	for i := range drops {
		ok = ok && drops[i] == ranges[i]
	}
	if !ok {
		t.Errorf("dropped %v, want the ranges started (%v) but the last, in order", drops, ranges)
	}
	fl := writebackFlusher(f) // the system's own: no error to see, nothing to change
	fl.start(0, next-base)
	if err := fl.drop(0, next-base); err != nil {
		t.Errorf("the system's drop: %v", err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Errorf("the file holds %d bytes (%v), want the %d written", len(got), err, want.Len())
	}
}

// A range's failed write to disk, which the drop's wait saw (and the file's fsync then would not),
// is what stopping the writeback returns; no range is dropped after it.
func TestWritebackDropError(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var drops atomic.Int32
	w, stop := startWriteback(f, 0, flusher{start: func(off, n int64) {}, drop: func(off, n int64) error {
		drops.Add(1)
		return syscall.EIO
	}})
	piece := make([]byte, writebackEvery)
	for i := 0; i < 4 || drops.Load() == 0 && i < 1000; i++ { // until the goroutine has dropped a range
		if _, err := w.Write(piece[:writebackEvery/2]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	err = stop()
	if !errors.Is(err, syscall.EIO) {
		t.Errorf("stop returned %v, want the drop's EIO", err)
	}
	if n := drops.Load(); n != 1 {
		t.Errorf("%d drops, want 1 (none after the failed one)", n)
	}
	if err2 := stop(); err2 != err {
		t.Errorf("a second stop returned %v, want %v again", err2, err)
	}
}

// TestWritebackStopTwice: replaceFile stops the writeback after the write and again when it returns
// (deferred, for a write that panics); the second stop does nothing.
func TestWritebackStopTwice(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, stop := startWriteback(f, 0, flusher{start: func(off, n int64) {}})
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if stop() != nil || stop() != nil {
		t.Error("stop without a drop returned an error")
	}
}

// Stdout that is a regular file is written from its offset on (after what is there), through a
// writeback, and one opened to append gets its bytes at its end: the same bytes as any writer.
func TestWriteStdoutFile(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), (2*writebackEvery+5000)/16)
	for _, appendMode := range []bool{false, true} {
		name := filepath.Join(t.TempDir(), "out")
		if err := os.WriteFile(name, []byte("before\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		flag := os.O_WRONLY
		if appendMode {
			flag |= os.O_APPEND
		}
		f, err := os.OpenFile(name, flag, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !appendMode {
			if _, err := f.Seek(7, io.SeekStart); err != nil {
				t.Fatal(err)
			}
		}
		err = writeStdout(context.Background(), f, func(w io.Writer) error {
			if _, isFile := w.(ctxWriter).w.(*os.File); isFile != appendMode && writebackFlusher(f).start != nil {
				t.Errorf("append %v: written through %T", appendMode, w.(ctxWriter).w)
			}
			for b := data; len(b) > 0; b = b[min(len(b), 1<<17):] {
				if _, err := w.Write(b[:min(len(b), 1<<17)]); err != nil {
					return err
				}
			}
			return nil
		})
		f.Close()
		if err != nil {
			t.Fatalf("append %v: %v", appendMode, err)
		}
		got, err := os.ReadFile(name)
		if err != nil || !bytes.Equal(got, append([]byte("before\n"), data...)) {
			t.Errorf("append %v: the file holds %d bytes (%v), want %d", appendMode, len(got), err, 7+len(data))
		}
	}
}
