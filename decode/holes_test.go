package decode

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sparsePcap writes n records, then a hole of hole bytes, then (when after) n more records, and
// returns the path and the length of the first part.
func sparsePcap(t *testing.T, n int, hole int64, after bool) (string, int) {
	t.Helper()
	w := newRdPcap(false, false, 65535, 1)
	for i := range n {
		w.rec(1764086400, uint32(i)*1000, 60, 60, rdFrame(i, 60))
	}
	path := filepath.Join(t.TempDir(), "node-a-eth0.pcap")
	if err := os.WriteFile(path, w.b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, int64(len(w.b))+hole); err != nil {
		t.Fatal(err)
	}
	if after {
		tail := newRdPcap(false, false, 65535, 1)
		for i := range n {
			tail.rec(1764086401, uint32(i)*1000, 60, 60, rdFrame(i, 60))
		}
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(tail.b[24:]); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return path, len(w.b)
}

// holesSupported skips the test when the temporary directory's file system cannot report holes.
func holesSupported(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if holeFile(f) == nil {
		t.Skipf("the file system of %s does not answer SEEK_DATA: hole skipping is not exercised", filepath.Dir(path))
	}
}

// A sparse file whose records end in a hole far longer than the record limit lets through is a
// zero-filled tail, known from the file's holes without reading them: not a run of empty records
// that stops at --max-frames after reading gigabytes of zeros.
func TestSparseTailNotRead(t *testing.T) {
	const hole = 1 << 40 // 1 TiB of address, no disk
	path, head := sparsePcap(t, 10, hole, false)
	holesSupported(t, path)
	start := time.Now()
	c := Load([]string{path}, Options{}, PointConfig{})
	fi := c.Files[0]
	want := fmt.Sprintf("%s: offset %d: zero-filled tail: the last %d bytes are zeros, not records (as a crash or a preallocated file leaves): ignored", path, head, int64(hole))
	if len(fi.Problems) != 1 || fi.Problems[0] != want || fi.Records != 10 || fi.Skipped != 1 {
		t.Errorf("%d records, %d skipped; problems %q, want [%q]", fi.Records, fi.Skipped, fi.Problems, want)
	}
	// Reading 1 TiB of zeros would take minutes; skipping the hole takes no time. The bound is loose.
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("the tail took %v: it was read, not skipped", d)
	}
}

// A hole in the middle is a run of empty records, as when read, and the records after it are read.
func TestSparseHoleInside(t *testing.T) {
	const hole = 4 << 20
	path, head := sparsePcap(t, 10, hole, true)
	holesSupported(t, path)
	for _, lim := range []Limits{{}, {MaxFrames: 1000}} {
		r, cl, err := OpenLimits(path, lim)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		recs := 0
		var rec Record
		for {
			err := r.Next(&rec)
			var re *RecordError
			var le *LimitError
			switch {
			case err == nil:
				recs++
				continue
			case errors.As(err, &re):
				got = append(got, re.Error())
				continue
			case errors.As(err, &le):
				got = append(got, le.Error())
			}
			break
		}
		cl.Close()
		if lim.MaxFrames == 0 {
			want := fmt.Sprintf("frames 11-%d (offset %d): %d empty records (all-zero headers)", 10+hole/16, head, hole/16)
			if recs != 20 || len(got) != 1 || !strings.Contains(got[0], want) {
				t.Errorf("%d records, errors %q; want 20 records and %q", recs, got, want)
			}
		} else if recs != 10 || len(got) == 0 || !strings.Contains(got[len(got)-1], "more than 1,000 records") {
			t.Errorf("limit 1000: %d records, errors %q; want 10 records, then the record limit", recs, got)
		}
	}
}
