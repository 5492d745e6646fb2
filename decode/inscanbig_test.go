//go:build unix

package decode

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/calipath/calipath/internal/testtool"
)

// repeatPcap writes to dst the records of the classic pcap file src again and again, each copy's times
// shifted 10 s on from the copy before, until it holds n records (the last copy cut short). Two files
// repeated so keep their records' order in time to each other, copy by copy (mergecap interleaves them
// as it does the originals).
func repeatPcap(t *testing.T, src, dst string, n int) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil || len(b) < 24 {
		t.Fatalf("%s: %v (%d bytes)", src, err, len(b))
	}
	var bo binary.ByteOrder = binary.LittleEndian
	tick := uint64(1e6)
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
	case 0xa1b23c4d:
		tick = 1e9
	default:
		bo = binary.BigEndian
		if bo.Uint32(b) == 0xa1b23c4d {
			tick = 1e9
		} else if bo.Uint32(b) != 0xa1b2c3d4 {
			t.Fatalf("%s: not a classic pcap file", src)
		}
	}
	var recs [][]byte
	for off := 24; off+16 <= len(b); {
		l := int(bo.Uint32(b[off+8:]))
		if off+16+l > len(b) {
			t.Fatalf("%s: record at %d cut", src, off)
		}
		recs = append(recs, b[off:off+16+l])
		off += 16 + l
	}
	if len(recs) == 0 {
		t.Fatalf("%s: no records", src)
	}
	out := append([]byte(nil), b[:24]...)
	for k := 0; ; k++ {
		for _, r := range recs {
			if n == 0 {
				if err := os.WriteFile(dst, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return dst
			}
			n--
			hdr := append([]byte(nil), r[:16]...)
			ts := uint64(bo.Uint32(hdr))*tick + uint64(bo.Uint32(hdr[4:])) + uint64(k)*10*tick
			bo.PutUint32(hdr, uint32(ts/tick))
			bo.PutUint32(hdr[4:], uint32(ts%tick))
			out = append(append(out, hdr...), r[16:]...)
		}
	}
}

// bigProbeFiles makes, of healthy-ipip's captures, files of more records than the merged probe reads
// (mergeProbe) in dir: node-a's veth and eth0 merged in time order (merged), its eth0 alone (one
// interface's), and its veth's first mergeProbe records followed by its eth0's (mergecap -a): one
// interface's up to the probe's bound exactly, merged past it.
func bigProbeFiles(t *testing.T, dir string, n int) (merged, single, bound string) {
	t.Helper()
	mergecap := testtool.Path(t, testtool.Mergecap)
	src := "../testdata/lab/scenarios/healthy-ipip/"
	cali := repeatPcap(t, src+"node-a-cali5e1c4d6c68c.pcap", filepath.Join(dir, "cali.pcap"), n/2)
	eth := repeatPcap(t, src+"node-a-eth0.pcap", filepath.Join(dir, "node-a-eth0.pcap"), n/2)
	single = repeatPcap(t, src+"node-a-eth0.pcap", filepath.Join(dir, "node-b-eth0.pcap"), n)
	caliBound := repeatPcap(t, src+"node-a-cali5e1c4d6c68c.pcap", filepath.Join(dir, "cali-bound.pcap"), mergeProbe)
	mk := func(name string, args ...string) string {
		out := filepath.Join(dir, name)
		if b, err := exec.Command(mergecap, append([]string{"-w", out, "-F", "pcap"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("mergecap %v: %v: %s", args, err, b)
		}
		return out
	}
	return mk("node-a.pcap", cali, eth), single, mk("node-c.pcap", "-a", caliBound, eth)
}

// Past the lab's sizes: files of more records than the merged probe reads tell on the scan's frames
// as by their prefix, each at the probe's bound: merged, one interface's (left at mergeProbe records),
// and one interface's up to the bound exactly and merged past it (a probe that read one record more
// would see its other interface: it is found so only by lateMerged).
func TestProbeInScanVerdictBound(t *testing.T) {
	merged, single, bound := bigProbeFiles(t, t.TempDir(), 3*mergeProbe)
	if !probeSame(t, merged) {
		t.Errorf("node-a's veth and eth0 merged, %d records, not found merged", 3*mergeProbe)
	}
	for _, f := range []string{single, bound} {
		if probeSame(t, f) {
			t.Errorf("%s found merged by its first %d records", filepath.Base(f), mergeProbe)
		}
		fi, _, _ := scanKept(t, f, true)
		if !fi.probeLeft.single || fi.probeLeft.records != mergeProbe {
			t.Errorf("%s: the probe left it %+v, not one interface's at %d records", filepath.Base(f), fi.probeLeft, mergeProbe)
		}
	}
	// Read whole, the one found one interface's at the bound is merged (lateMerged), read again split.
	c := Load([]string{bound}, Options{}, PointConfig{})
	if len(c.Points) != 2 || !strings.Contains(strings.Join(c.Files[0].Problems, "\n"), "read again split") {
		t.Errorf("%s: %d points, problems %q", filepath.Base(bound), len(c.Points), c.Files[0].Problems)
	}
}

// countOpen is an Options.Open that counts the bytes read of each file it opens, in the order opened.
type countOpen struct {
	mu    sync.Mutex
	names []string
	read  []*int64
}

type countReader struct {
	f *os.File
	n *int64
}

func (r countReader) Read(b []byte) (int, error) {
	n, err := r.f.Read(b)
	*r.n += int64(n)
	return n, err
}

func (r countReader) Close() error { return r.f.Close() }

func (c *countOpen) open(p string) (io.ReadCloser, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := new(int64)
	c.names, c.read = append(c.names, filepath.Base(p)), append(c.read, n)
	return countReader{f, n}, nil
}

// A file the merged probe finds merged on the scan's frames stops the first read at once: every input
// is read again (that file split), so the first read of the merged file ends at the probe's bound
// (not at its end), and inputs not begun are not opened (one core: the files are read in the order
// given). The second read is as a stream's (each Ethernet file's prefix probed first: the merged one's
// to learn its stages, the other's opened twice so), and what it gives is what the probe of the file's
// prefix gives (a stream's).
func TestProbeInScanStops(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const n = 20 * mergeProbe // past the scan's look at Options.Done (progressEvery)
	merged, single, _ := bigProbeFiles(t, t.TempDir(), n)
	var size [2]int64
	for i, f := range []string{merged, single} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		size[i] = st.Size()
	}
	co := &countOpen{}
	c := Load([]string{merged, single}, Options{Open: co.open}, PointConfig{})
	var got []string
	whole := map[string]int{}
	for i, name := range co.names {
		got = append(got, fmt.Sprintf("%s %d", name, *co.read[i]))
		if *co.read[i] == size[0] && name == filepath.Base(merged) || *co.read[i] == size[1] && name == filepath.Base(single) {
			whole[name]++
		}
	}
	// (the reader reads ahead: a few of its reads past the probe's records at most)
	if len(co.names) != 5 || co.names[0] != filepath.Base(merged) || *co.read[0] > size[0]/4 ||
		co.names[1] != filepath.Base(merged) || whole[filepath.Base(merged)] != 1 || whole[filepath.Base(single)] != 1 {
		t.Errorf("the merged file (%d bytes) and the other (%d bytes) opened and read: %q", size[0], size[1], got)
	}
	stream := loadFIFO(t, merged)
	if c.Files[0].Records != n || len(c.Points) != 3 || !reflect.DeepEqual(c.Obs[0], stream.Obs[0]) ||
		!reflect.DeepEqual(c.Files[0].Problems, stream.Files[0].Problems) {
		t.Errorf("file: %d records, %d points, problems %q; stream: %d records, problems %q", c.Files[0].Records,
			len(c.Points), c.Files[0].Problems, stream.Files[0].Records, stream.Files[0].Problems)
	}
}
