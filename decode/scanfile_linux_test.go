//go:build linux

package decode

import (
	"fmt"
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

// A plain capture file is scanned with the same outcome as the same file gzip-compressed (both are
// read as streams; the plain file through its hole-aware reader).
func TestScanPlainFile(t *testing.T) {
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
		t.Fatalf("plain file: %d frames, compressed %d, or they differ", len(frames[0]), len(frames[1]))
	}
	if fi := scanned[0]; fi.Err != nil || fi.Records != 20000 || fi.Bytes != int64(len(data)) || fi.NProblems != 0 {
		t.Errorf("plain file: %d records, %d bytes of %d, problems %q, error %v", fi.Records, fi.Bytes, len(data), fi.Problems, fi.Err)
	}
}

// A file cut short while it is scanned ends its scan with the frames before kept and the cut said:
// the process does not crash.
func TestScanTruncatedWhileRead(t *testing.T) {
	data := manyRecords(100000) // 7.6 MB: more than the read buffer holds
	path := writeCapture(t, data)
	n := 0
	fi := ScanFile(path, 0, Options{}, NewTables(), func(rec *Record, p *Packet, o *Observation) {
		if n++; n == 10 {
			if err := os.Truncate(path, 4096); err != nil {
				t.Fatal(err)
			}
		}
	})
	if fi.Records < 10 || fi.Records >= 100000 || fi.Bytes <= 0 {
		t.Fatalf("truncated while scanned: %d records, %d bytes, error %v", fi.Records, fi.Bytes, fi.Err)
	}
	if fi.NProblems == 0 || !strings.Contains(fi.Problems[len(fi.Problems)-1], "truncated") {
		t.Errorf("problems %q", fi.Problems)
	}
}

// BenchmarkScanFile scans a plain capture file of 1 Mi IP-in-IP frames (the file in the page cache)
// as calipath does (read(2) through a reused buffer), with the user and system CPU time per frame
// (getrusage).
func BenchmarkScanFile(b *testing.B) {
	path := filepath.Join(b.TempDir(), "node-a-eth0.pcap")
	if err := os.WriteFile(path, benchInput(b), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opts Options
	}{{"file", Options{}}} {
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
