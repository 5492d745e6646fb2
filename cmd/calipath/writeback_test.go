package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// A writeback writes what it is given to its file, and starts the writeback of what was written in
// consecutive ranges of writebackEvery bytes or more, on its goroutine.
func TestWriteback(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if writebackStarter(f) == nil {
		t.Skip("no writeback to start on this system")
	}
	var mu sync.Mutex
	var ranges [][2]int64
	w, stop := startWriteback(f, func(off, n int64) {
		mu.Lock()
		defer mu.Unlock()
		ranges = append(ranges, [2]int64{off, n})
	})
	var want bytes.Buffer
	piece := bytes.Repeat([]byte("calipath"), (1<<20+7)/8)
	for want.Len() < 3*writebackEvery+100 {
		if _, err := w.Write(piece); err != nil {
			t.Fatal(err)
		}
		want.Write(piece)
		time.Sleep(time.Millisecond) // for the goroutine to start the range before
	}
	stop()
	mu.Lock() // the goroutine has stopped: ranges is the test's
	defer mu.Unlock()
	next := int64(0)
	for _, r := range ranges {
		if r[0] != next || r[1] < writebackEvery {
			t.Fatalf("writeback started for %v, want consecutive ranges of at least %d bytes", ranges, writebackEvery)
		}
		next += r[1]
	}
	if len(ranges) < 2 || next > int64(want.Len()) || int64(want.Len())-next >= writebackEvery {
		t.Errorf("writeback started for the first %d of %d bytes in %d ranges, want all but less than %d", next, want.Len(), len(ranges), writebackEvery)
	}
	writebackStarter(f)(0, next) // the system's own: no error to see, nothing to change
	got, err := os.ReadFile(f.Name())
	if err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Errorf("the file holds %d bytes (%v), want the %d written", len(got), err, want.Len())
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
	w, stop := startWriteback(f, func(off, n int64) {})
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	stop()
	stop()
}
