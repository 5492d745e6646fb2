package testtool

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// SteppedLab copies the per-interface classic pcap files of a lab scenario (the directory src), the times of those of
// nodes stepped by step from at after the earliest frame of all on (pcapshift -step, -step-at), and
// returns their paths.
func SteppedLab(t testing.TB, src string, nodes []string, step, at time.Duration) []string {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join(src, "*.pcap"))
	if len(all) == 0 {
		t.Skipf("no lab scenario at %s", src)
	}
	le := binary.LittleEndian
	var files [][]byte
	var names []string
	t0 := int64(0)
	unitOf := func(b []byte) int64 {
		switch le.Uint32(b) {
		case 0xa1b2c3d4:
			return int64(time.Microsecond)
		case 0xa1b23c4d:
			return 1
		}
		t.Fatalf("not a little-endian pcap file")
		return 0
	}
	for _, p := range all {
		if strings.HasSuffix(p, "-any.pcap") {
			continue // one sighting per path point
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		unit := unitOf(b)
		for off := 24; off+16 <= len(b); off += 16 + int(le.Uint32(b[off+8:])) {
			if ts := int64(le.Uint32(b[off:]))*1e9 + int64(le.Uint32(b[off+4:]))*unit; t0 == 0 || ts < t0 {
				t0 = ts
			}
		}
		files, names = append(files, b), append(names, filepath.Base(p))
	}
	dir := t.TempDir()
	var paths []string
	for i, b := range files {
		for _, n := range nodes {
			if !strings.HasPrefix(names[i], n+"-") {
				continue
			}
			unit := unitOf(b)
			for off := 24; off+16 <= len(b); off += 16 + int(le.Uint32(b[off+8:])) {
				ts := int64(le.Uint32(b[off:]))*1e9 + int64(le.Uint32(b[off+4:]))*unit
				if ts-t0 >= int64(at) {
					ts += int64(step)
				}
				le.PutUint32(b[off:], uint32(ts/1e9))
				le.PutUint32(b[off+4:], uint32(ts%1e9/unit))
			}
		}
		p := filepath.Join(dir, names[i])
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}
