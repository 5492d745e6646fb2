//go:build unix

package decode

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A FIFO that feeds a valid header and then zeros without end is read in bounded memory and stops at
// the record limit, with the error saying so.
func TestFIFOOfZeros(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node-a-eth0.pcap")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		if _, err := f.Write(newRdPcap(false, false, 65535, 1).b); err != nil {
			return
		}
		zeros := make([]byte, 1<<16)
		for {
			if _, err := f.Write(zeros); err != nil {
				return // the reader stopped
			}
		}
	}()
	var fi *FileInfo
	alloc := allocated(func() { fi = ScanFile(path, 0, Options{Limits: Limits{MaxFrames: 200000}}, NewTables(), nil) })
	var le *LimitError
	if !errors.As(fi.Err, &le) || le.Limit != 200000 || fi.Records != 0 || fi.Skipped != 200000 {
		t.Errorf("error %v, %d records, %d skipped", fi.Err, fi.Records, fi.Skipped)
	}
	if alloc > 16<<20 {
		t.Errorf("reading 3 MB of zeros from a FIFO allocated %d MiB", alloc>>20)
	}
}
