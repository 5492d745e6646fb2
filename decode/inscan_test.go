//go:build unix

package decode

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/calipath/calipath/internal/testtool"
)

// scanKept scans the file at path as Load does (its frames kept), with the merged probe reading the
// scan's frames (inScan) or the file's prefix before the scan.
func scanKept(t *testing.T, path string, inScan bool) (*FileInfo, []Observation, Fingerprints) {
	t.Helper()
	var c obsCollector
	var fp fpCollector
	c.firsts = newObsFirsts(1)
	fp.slabs = &chunkSlabs[uint64]{size: FingerprintChunk, perSlab: fpSlabChunks}
	opts := Options{probeInScan: inScan}
	fi := scanFile(path, 0, opts, NewTables(), nil, &frameKeeper{&c, &fp, &Stamps{}}, nil)
	return fi, c.finish(), fp.finish()
}

// probeSame fails t unless the merged probe reading the scan's frames of the file at path gives the
// verdict the probe of its prefix gives (merged or not, the problems, how it left the file), and, for a
// file not merged, the scan the same Observations and fingerprints.
func probeSame(t *testing.T, path string) (merged bool) {
	t.Helper()
	m, _, _ := learnMerged(path, Options{}, false)
	old, oObs, oFp := scanKept(t, path, false)
	fi, obs, fp := scanKept(t, path, true)
	name := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
	if fi.mergedInScan != (m != nil) {
		t.Errorf("%s: merged on the scan's frames %v, by its prefix %v", name, fi.mergedInScan, m != nil)
	}
	if fi.probeLeft != old.probeLeft {
		t.Errorf("%s: on the scan's frames the probe left %+v, by its prefix %+v", name, fi.probeLeft, old.probeLeft)
	}
	// (A merged file's scan on one interface is read again split: its problems are not kept.)
	if m == nil && (!reflect.DeepEqual(fi.Problems, old.Problems) || fi.NProblems != old.NProblems || fi.Routed != old.Routed) {
		t.Errorf("%s: on the scan's frames: problems %q (%d), left %+v, routed %v; by its prefix %q (%d), %+v, %v", name,
			fi.Problems, fi.NProblems, fi.probeLeft, fi.Routed, old.Problems, old.NProblems, old.probeLeft, old.Routed)
	}
	if m == nil && (!reflect.DeepEqual(obs, oObs) || !reflect.DeepEqual(fp, oFp) || fi.Records != old.Records) {
		t.Errorf("%s: not merged, but the scan's Observations differ with the probe on its frames", name)
	}
	return m != nil
}

// The merged probe reading the scan's frames (Load's, Options.probeInScan) tells every lab capture,
// and every merged one made of them, as the probe of the file's prefix does, at the same frame: the
// same verdict, problems and account of how it left the file; the scan of a file it does not find
// merged is the same.
func TestProbeInScanVerdict(t *testing.T) {
	var files []string
	for _, g := range []string{"scenarios/*/*.pcap", "scenarios/*/*.pcapng", "scenarios-pending/*/*.pcap", "scenarios-pending/*/*.pcapng"} {
		m, _ := filepath.Glob("../testdata/lab/" + g)
		files = append(files, m...)
	}
	if len(files) < 100 {
		t.Fatalf("%d lab captures", len(files))
	}
	for _, f := range files {
		probeSame(t, f)
	}
	// Merged by hand: a node's captures in time order (mergecap), one after the other (-a: its first
	// records one interface's), and a router's two sides; and with the probe's byte bound cut to a few
	// records (the limit).
	mergecap := testtool.Path(t, testtool.Mergecap)
	dir := t.TempDir()
	mk := func(name string, args ...string) string {
		out := filepath.Join(dir, name)
		a := append([]string{"-w", out, "-F", "pcap"}, args...)
		if b, err := exec.Command(mergecap, a...).CombinedOutput(); err != nil {
			t.Fatalf("mergecap %v: %v: %s", args, err, b)
		}
		return out
	}
	lab := "../testdata/lab/scenarios/"
	node := func(s, glob string) []string {
		m, _ := filepath.Glob(lab + s + "/" + glob)
		if len(m) == 0 {
			t.Fatalf("no %s in %s", glob, s)
		}
		return m
	}
	var merged []string
	for _, s := range []string{"healthy-ipip", "healthy-vxlan", "healthy-wireguard", "healthy-vxlan6", "wireguard-blocked"} {
		args := append(node(s, "node-a-cali*.pcap"), node(s, "node-a-eth0.pcap")...)
		if tun, _ := filepath.Glob(lab + s + "/node-a-vxlan.calico.pcap"); len(tun) > 0 {
			args = append(args, tun...)
		}
		merged = append(merged, mk(s+"-node-a.pcap", args...), mk(s+"-node-a-after.pcap", append([]string{"-a"}, args...)...))
	}
	merged = append(merged, mk("router.pcap", node("healthy-vxlan", "router-1-eth*.pcap")...))
	n := 0
	for _, f := range merged {
		if probeSame(t, f) {
			n++
		}
	}
	if n < 5 {
		t.Errorf("%d of the %d hand-made merged captures found merged", n, len(merged))
	}
	defer func(b int) { mergeProbeBytes = b }(mergeProbeBytes)
	mergeProbeBytes = 1000
	for _, f := range merged[:2] {
		probeSame(t, f)
	}
}

// Load reads each input once when no file is merged (the merged probe reads the scan's frames, not the
// file's prefix opened again); a file the probe finds merged so is read again split, as the probe of its
// prefix would have split it: the same Observations and problems as through a stream (which probes its
// prefix, kept).
func TestProbeInScanOpens(t *testing.T) {
	src := "../testdata/lab/scenarios/healthy-ipip/"
	paths, _ := filepath.Glob(src + "*.pcap")
	opens := 0
	opts := Options{Open: func(p string) (io.ReadCloser, error) { opens++; return os.Open(p) }}
	c := Load(paths, opts, PointConfig{})
	if c == nil || opens != len(paths) {
		t.Fatalf("%d inputs opened %d times", len(paths), opens)
	}
	mergecap := testtool.Path(t, testtool.Mergecap)
	merged := filepath.Join(t.TempDir(), "node-a.pcap")
	if b, err := exec.Command(mergecap, "-w", merged, "-F", "pcap", src+"node-a-cali5e1c4d6c68c.pcap", src+"node-a-eth0.pcap").CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v: %s", err, b)
	}
	file := Load([]string{merged}, Options{}, PointConfig{})
	stream := loadFIFO(t, merged)
	if len(file.Points) != 2 || !reflect.DeepEqual(file.Obs, stream.Obs) || !reflect.DeepEqual(file.Files[0].Problems, stream.Files[0].Problems) {
		t.Errorf("file: %d points, problems %q; stream: %d points, problems %q", len(file.Points), file.Files[0].Problems,
			len(stream.Points), stream.Files[0].Problems)
	}
	if p := strings.Join(file.Files[0].Problems, "\n"); strings.Contains(p, "read again split") {
		t.Errorf("a file split at once says it was read again: %q", p)
	}
}
