package decode

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// writeZeroFrames writes a pcap of n 60-byte Ethernet frames one microsecond apart.
func writeZeroFrames(t *testing.T, path string, n int) {
	t.Helper()
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0xa1b2c3d4)
	b = le.AppendUint16(le.AppendUint16(b, 2), 4)
	b = append(b, make([]byte, 8)...)
	b = le.AppendUint32(le.AppendUint32(b, 262144), 1)
	frame := make([]byte, 60)
	for i := 0; i < n; i++ {
		b = le.AppendUint32(le.AppendUint32(b, 1_700_000_000), uint32(i%1_000_000))
		b = le.AppendUint32(le.AppendUint32(b, 60), 60)
		b = append(b, frame...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Options.Done stops reading: a scan under way stops at its next check (every 64 Ki frames) with
// ErrStopped, and files not begun are not read.
func TestScanStops(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")
	writeZeroFrames(t, a, 3*progressEvery)
	writeZeroFrames(t, b, 10)

	done := make(chan struct{})
	opts := Options{Done: done}
	fi := ScanFile(a, 0, opts, NewTables(), func(rec *Record, _ *Packet, _ *Observation) {
		if rec.Frame == 10 {
			close(done)
		}
	})
	if !errors.Is(fi.Err, ErrStopped) || fi.Records != progressEvery {
		t.Errorf("stopped scan: err %v, %d records, want ErrStopped after %d", fi.Err, fi.Records, progressEvery)
	}
	files := ScanFiles([]string{a, b}, opts, NewTables(), nil)
	for _, f := range files {
		if !errors.Is(f.Err, ErrStopped) || f.Records != 0 || f.NProblems != 0 {
			t.Errorf("%s after Done: err %v, %d records, %d problems", f.Path, f.Err, f.Records, f.NProblems)
		}
	}
	// Without Done, the whole file.
	if fi := ScanFile(a, 0, Options{}, NewTables(), nil); fi.Err != nil || fi.Records != 3*progressEvery {
		t.Errorf("undisturbed scan: err %v, %d records", fi.Err, fi.Records)
	}
}
