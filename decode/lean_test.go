package decode

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The program links no gopacket: DecodeSlow, which uses it, is test code (slowref_test.go). Its
// layers package holds megabytes of pointer-holding global tables that every garbage collection
// scans, and builds them at start-up.
func TestProgramLinksNoGopacket(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{.ImportPath}}", "../cmd/calipath").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !strings.Contains(string(out), "github.com/calipath/calipath/decode\n") {
		t.Fatalf("go list -deps gave %d packages, without decode:\n%s", len(deps), out)
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/google/gopacket") {
			t.Errorf("the program links %s", d)
		}
	}
}

// EstimateFrames reads estimateSample records of a file without an allocation per record.
func TestEstimateFileAllocs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ipip.pcap")
	if err := os.WriteFile(path, ipipPcap(2*estimateSample), 0o644); err != nil {
		t.Fatal(err)
	}
	var n int64
	allocs := testing.AllocsPerRun(3, func() { n, _ = estimateFile(path, Options{}) })
	if n < 2*estimateSample-1 || n > 2*estimateSample { // records of one size: all but exact
		t.Fatalf("estimated %d frames, the file holds %d", n, 2*estimateSample)
	}
	t.Logf("%.0f allocations", allocs)
	if allocs > estimateSample/16 {
		t.Errorf("%.0f allocations to read %d records", allocs, estimateSample)
	}
}

// ReadFrame walks to its frame without an allocation per record passed.
func TestReadFrameAllocs(t *testing.T) {
	const n = 2 * estimateSample
	path := filepath.Join(t.TempDir(), "ipip.pcap")
	if err := os.WriteFile(path, ipipPcap(n), 0o644); err != nil {
		t.Fatal(err)
	}
	var rec Record
	var err error
	allocs := testing.AllocsPerRun(3, func() { rec, _, err = ReadFrame(path, n) })
	if err != nil || rec.Frame != n {
		t.Fatalf("frame %d: got frame %d, %v", n, rec.Frame, err)
	}
	t.Logf("%.0f allocations", allocs)
	if allocs > n/16 {
		t.Errorf("%.0f allocations to walk %d records", allocs, n)
	}
}
