package correlate

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/decode"
)

// A capture with a frame in 1970 and one in 2106 among its real ones (the lab's MTU black hole,
// node-a's eth0 rewritten): the two frames are kept out of the point's time span, so no capture is
// taken to miss decades of the others' time (before: a capture-gap on every other point, and
// node-a/eth0 spanning 136 years).
func TestLyingTimestampsKeepSpans(t *testing.T) {
	src := filepath.Join("..", "testdata", "lab", "scenarios", "mtu-blackhole")
	pcaps, _ := filepath.Glob(filepath.Join(src, "*-*.pcap"))
	if len(pcaps) == 0 {
		t.Skip("no lab scenario mtu-blackhole")
	}
	dir := t.TempDir()
	var paths []string
	for _, p := range pcaps {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(p) == "node-a-eth0.pcap" {
			lie(t, b, map[int]uint32{10: 0, 15: 1<<32 - 16})
		}
		out := filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(out, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, out)
	}
	c := decode.Load(paths, decode.Options{}, decode.PointConfig{})
	r := Correlate(c, Options{})
	for _, a := range r.Anomalies {
		if a.Kind == "capture-gap" {
			t.Errorf("capture-gap at %v: %s", a.Where, a.Message)
		}
	}
	for _, p := range r.Points {
		if d := p.Last - p.First; d < 0 || d > 60e9 {
			t.Errorf("%s spans %d ns", p.ID, d)
		}
	}
}

// lie sets the seconds of the given records (1-based) of a little-endian pcap file.
func lie(t *testing.T, b []byte, secs map[int]uint32) {
	t.Helper()
	if binary.LittleEndian.Uint32(b) != 0xa1b23c4d && binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		t.Fatalf("not a little-endian pcap file")
	}
	for off, n := 24, 1; off+16 <= len(b); n++ {
		if s, ok := secs[n]; ok {
			binary.LittleEndian.PutUint32(b[off:], s)
		}
		off += 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
	}
}
