//go:build linux

package decode

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// writeCapture writes data to a file in a temporary directory and returns its path.
func writeCapture(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "node-a-eth0.pcap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// manyRecords returns a pcap of n 60-byte frames.
func manyRecords(n int) []byte {
	w := newRdPcap(false, false, 65535, 1)
	for i := range n {
		w.rec(1764086400+uint32(i/1000), uint32(i%1000)*1000, 60, 60, rdFrame(i, 60))
	}
	return w.b
}

// A plain capture file is scanned from its mapping (pages let go behind a window that moves every
// few KiB here) with the same outcome as the same file gzip-compressed, which is read as a stream.
func TestScanMappedFile(t *testing.T) {
	smallMapWindow(t, 8192)
	data := manyRecords(20000)
	plain, gz := writeCapture(t, data), writeCapture(t, rdGzip(data))
	var frames [2][]string
	scanned := [2]*FileInfo{}
	for i, path := range []string{plain, gz} {
		scanned[i] = ScanFile(path, 0, Options{}, NewTables(), func(rec *Record, p *Packet, o *Observation) {
			frames[i] = append(frames[i], fmt.Sprintf("%d %d %x", rec.Frame, rec.Ts, rec.Data))
		})
	}
	if len(frames[0]) != 20000 || strings.Join(frames[0], "\n") != strings.Join(frames[1], "\n") {
		t.Fatalf("mapped file: %d frames, as a stream %d, or they differ", len(frames[0]), len(frames[1]))
	}
	if fi := scanned[0]; fi.Err != nil || fi.Records != 20000 || fi.Bytes != int64(len(data)) || fi.NProblems != 0 {
		t.Errorf("mapped file: %d records, %d bytes of %d, problems %q, error %v", fi.Records, fi.Bytes, len(data), fi.Problems, fi.Err)
	}
}

// A file cut short while it is scanned from its mapping (reading its lost pages is a SIGBUS) ends its
// scan with an error, the frames before kept: the process does not crash.
func TestScanMappedTruncated(t *testing.T) {
	data := manyRecords(100000) // 7.6 MB: more than the first window
	path := writeCapture(t, data)
	n := 0
	fi := ScanFile(path, 0, Options{}, NewTables(), func(rec *Record, p *Packet, o *Observation) {
		if n++; n == 10 {
			if err := os.Truncate(path, 4096); err != nil {
				t.Fatal(err)
			}
		}
	})
	if !errors.Is(fi.Err, errMapFault) || fi.Records < 10 || fi.Records >= 100000 || fi.Bytes <= 0 {
		t.Fatalf("truncated while scanned: %d records, %d bytes, error %v", fi.Records, fi.Bytes, fi.Err)
	}
	if fi.NProblems == 0 || !strings.Contains(fi.Problems[len(fi.Problems)-1], "truncated") {
		t.Errorf("problems %q", fi.Problems)
	}
}

// BenchmarkScanFile scans a plain capture file of 1 Mi IP-in-IP frames (the file in the page cache)
// from its mapping ("mapped", as calipath does) and read through read(2) ("stream", as an input
// opened through Options.Open is): with the user and system CPU time per frame (getrusage), as the
// kernel's part is most of what the mapping changes.
func BenchmarkScanFile(b *testing.B) {
	path := filepath.Join(b.TempDir(), "node-a-eth0.pcap")
	if err := os.WriteFile(path, benchInput(b), 0o644); err != nil {
		b.Fatal(err)
	}
	stream := func(p string) (io.ReadCloser, error) { return os.Open(p) }
	for _, c := range []struct {
		name string
		opts Options
	}{{"mapped", Options{}}, {"stream", Options{Open: stream}}} {
		b.Run(c.name, func(b *testing.B) {
			var before, after syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
			frames := 0
			b.SetBytes(int64(len(benchInput(b))))
			b.ResetTimer()
			for range b.N {
				fi := ScanFile(path, 0, c.opts, NewTables(), nil)
				if fi.Err != nil || fi.Records != 1<<20 {
					b.Fatalf("%d frames, error %v", fi.Records, fi.Err)
				}
				frames += fi.Records
			}
			b.StopTimer()
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
			ns := func(t syscall.Timeval) float64 { return float64(t.Nano()) }
			b.ReportMetric((ns(after.Utime)-ns(before.Utime))/float64(frames), "user-ns/frame")
			b.ReportMetric((ns(after.Stime)-ns(before.Stime))/float64(frames), "sys-ns/frame")
		})
	}
}

// A mapped file's pages behind the read position are let go as the scan moves on: the process's
// resident file pages grow by a few windows (and the page cache's large folios, mapped whole), not by
// the file's size.
func TestScanMappedLetsGo(t *testing.T) {
	smallMapWindow(t, 64<<10)
	const records = 400000
	data := manyRecords(records) // 30 MB
	path := writeCapture(t, data)
	before, ok := residentMapped()
	if !ok {
		t.Skip("/proc/self/statm cannot be read")
	}
	most := before
	n := 0
	fi := ScanFile(path, 0, Options{}, NewTables(), func(rec *Record, p *Packet, o *Observation) {
		if n++; n%1000 == 0 {
			if now, _ := residentMapped(); now > most {
				most = now
			}
		}
	})
	if fi.Err != nil || fi.Records != records {
		t.Fatalf("%d records, error %v", fi.Records, fi.Err)
	}
	if grew := most - before; grew > int64(len(data)/3) {
		t.Errorf("the resident file pages grew by %d bytes while a %d-byte file was scanned", grew, len(data))
	}
}

// A mapped file with no holes has each window mapped into the process in one call as it is set,
// rather than by a page fault at the first read of each page (or of each run of pages the kernel maps
// around a fault): once the file is open, its first window is resident, before its records are read.
func TestScanMappedMapsIn(t *testing.T) {
	probe := make([]byte, 1<<20)
	if err := syscall.Madvise(probe[64<<10:128<<10], 23 /* MADV_POPULATE_WRITE */); errors.Is(err, syscall.EINVAL) {
		t.Skipf("this kernel cannot populate memory (%v)", err)
	}
	path := writeCapture(t, manyRecords(200000)) // 15 MB
	before, ok := residentMapped()
	if !ok {
		t.Skip("/proc/self/statm cannot be read")
	}
	r, c, ok, err := openMapped(path, Limits{})
	if !ok || err != nil {
		t.Fatalf("openMapped: %v, %v", ok, err)
	}
	defer c.Close()
	var rec Record
	if err := r.Next(&rec); err != nil {
		t.Fatal(err)
	}
	now, _ := residentMapped()
	if grew := now - before; grew < mapWindow*3/4 {
		t.Errorf("the resident file pages grew by %d bytes at the first record: the first window (%d bytes) was not mapped in", grew, mapWindow)
	}
}
