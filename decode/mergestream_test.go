//go:build unix

package decode

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/calipath/calipath/internal/testtool"
)

// loadFIFO loads the capture file path given through a FIFO, as standard input gives it.
func loadFIFO(t *testing.T, path string) *Capture {
	t.Helper()
	fifo, wait := testtool.ServeFIFO(t, path, "node-a.pcap")
	c := Load([]string{fifo}, Options{}, PointConfig{})
	wait()
	return c
}

// A merged capture read as a stream is probed on the stream itself: the records the probe read are
// kept and given again to the scan, which then makes the same Observations as from the file (healthy-
// ipip's node-a cali and eth0 merged by mergecap: split into its stages). When the prefix the probe
// may keep (mergeProbeBytes) is used up before it tells, the file is read as one interface, every
// record still read once, and its problems say so, with the fix.
func TestMergedStreamReplay(t *testing.T) {
	mergecap := testtool.Path(t, testtool.Mergecap)
	src := "../testdata/lab/scenarios/healthy-ipip/"
	merged := filepath.Join(t.TempDir(), "node-a.pcap")
	if b, err := exec.Command(mergecap, "-w", merged, "-F", "pcap", src+"node-a-cali5e1c4d6c68c.pcap", src+"node-a-eth0.pcap").CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v: %s", err, b)
	}
	file := Load([]string{merged}, Options{}, PointConfig{})
	stream := loadFIFO(t, merged)
	if len(file.Points) != 2 || !reflect.DeepEqual(file.Obs, stream.Obs) || file.Files[0].Records != stream.Files[0].Records {
		t.Errorf("stream: %d points, %d records, %d observations; file: %d points, %d records, %d observations",
			len(stream.Points), stream.Files[0].Records, len(stream.Obs[0]), len(file.Points), file.Files[0].Records, len(file.Obs[0]))
	}
	defer func(b int) { mergeProbeBytes = b }(mergeProbeBytes)
	mergeProbeBytes = 1000 // a few records
	cut := loadFIFO(t, merged)
	fi := cut.Files[0]
	if len(cut.Points) != 1 || fi.Records != file.Files[0].Records || len(cut.Obs[0]) != len(file.Obs[0]) {
		t.Errorf("bound hit: %d points, %d records, %d observations; want 1 point and every record", len(cut.Points), fi.Records, len(cut.Obs[0]))
	}
	if p := strings.Join(fi.Problems, "\n"); !strings.Contains(p, "(1000 bytes, the most calipath reads to tell) do not tell whether it is one interface's capture") ||
		!strings.Contains(p, "capture each interface to its own file") {
		t.Errorf("problems: %q", fi.Problems)
	}
}

// A file with a pod veth's frames beside IP frames of another interface, as merged captures have, but
// too few packets at two of them to split it (healthy-ipip's node-a cali and eth0 merged by mergecap,
// with all but the first 3 of the cali's frames taken out), is read as one interface and its
// problems say it may be merged, with the fix. On main nothing was said.
func TestMergedTooFewSays(t *testing.T) {
	mergecap := testtool.Path(t, testtool.Mergecap)
	src := "../testdata/lab/scenarios/healthy-ipip/"
	dir := t.TempDir()
	b, err := os.ReadFile(src + "node-a-cali5e1c4d6c68c.pcap")
	if err != nil {
		t.Fatal(err)
	}
	off := 24
	for range 3 {
		off += 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
	}
	cali := filepath.Join(dir, "node-a-cali5e1c4d6c68c.pcap")
	if err := os.WriteFile(cali, b[:off], 0o644); err != nil {
		t.Fatal(err)
	}
	merged := filepath.Join(dir, "node-a.pcap")
	if b, err := exec.Command(mergecap, "-w", merged, "-F", "pcap", cali, src+"node-a-eth0.pcap").CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v: %s", err, b)
	}
	c := Load([]string{merged}, Options{}, PointConfig{})
	if p := strings.Join(c.Files[0].Problems, "\n"); len(c.Points) != 1 || !strings.Contains(p, "it holds frames of a pod's veth") ||
		!strings.Contains(p, "capture each interface to its own file") {
		t.Errorf("%d points; problems %q", len(c.Points), c.Files[0].Problems)
	}
}

// A merged capture whose probe reads its byte bound without telling (mergeProbeBytes cut to a few
// records here; 64 MiB of one interface's frames one way in use) is checked with the whole file's
// counts after the scan, as one whose prefix was one interface's: healthy-ipip's node-a cali and eth0
// merged by mergecap are read again split into their stages from the file, and from a stream, which
// cannot be read again, marked Unsplit with a problem that says so and how to fix it. On main both were
// one point with only the "do not tell" problem.
func TestMergedLimitLate(t *testing.T) {
	mergecap := testtool.Path(t, testtool.Mergecap)
	src := "../testdata/lab/scenarios/healthy-ipip/"
	merged := filepath.Join(t.TempDir(), "node-a.pcap")
	if b, err := exec.Command(mergecap, "-w", merged, "-F", "pcap", src+"node-a-cali5e1c4d6c68c.pcap", src+"node-a-eth0.pcap").CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v: %s", err, b)
	}
	whole := Load([]string{merged}, Options{}, PointConfig{})
	defer func(b int) { mergeProbeBytes = b }(mergeProbeBytes)
	mergeProbeBytes = 1000
	file := Load([]string{merged}, Options{}, PointConfig{})
	p := strings.Join(file.Files[0].Problems, "\n")
	if len(file.Points) != len(whole.Points) || !reflect.DeepEqual(file.Obs, whole.Obs) || file.Files[0].Unsplit ||
		!strings.Contains(p, "(1000 bytes, the most calipath reads to tell) did not tell") || !strings.Contains(p, "read again split") {
		t.Errorf("file: %d points (%d without the bound), observations equal: %v, unsplit %v; problems %q", len(file.Points),
			len(whole.Points), reflect.DeepEqual(file.Obs, whole.Obs), file.Files[0].Unsplit, file.Files[0].Problems)
	}
	stream := loadFIFO(t, merged)
	fi := stream.Files[0]
	p = strings.Join(fi.Problems, "\n")
	if len(stream.Points) != 1 || !fi.Unsplit || !strings.Contains(p, "did not tell whether it is one interface's capture") ||
		!strings.Contains(p, "cannot be read again split") || !strings.Contains(p, "unreliable") {
		t.Errorf("stream: %d points, unsplit %v; problems %q", len(stream.Points), fi.Unsplit, fi.Problems)
	}
}
