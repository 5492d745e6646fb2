package decode

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRoutedLate loads any input as a router's capture (router-1-eth0.pcap: no Calico node, so
// routedLate searches it past the probe, and reads it again for link addresses): no panic, a file
// marked Routed has a problem that says why, and ScanPoints (points, packets) marks it and says it
// alike. Seeded with the reader's seeds and the lab's mtu-blackhole router-1 captures written one
// after the other (mergecap -a).
func FuzzRoutedLate(f *testing.F) {
	for _, data := range rdSeeds() {
		f.Add(data)
	}
	dir := "../testdata/lab/scenarios/mtu-blackhole/"
	a, errA := os.ReadFile(dir + "router-1-eth0.pcap")
	b, errB := os.ReadFile(dir + "router-1-eth1.pcap")
	if errA == nil && errB == nil && len(b) > 24 {
		f.Add(append(append([]byte(nil), a...), b[24:]...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "router-1-eth0.pcap")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c := Load([]string{path}, Options{Limits: Limits{MaxFrames: 100000}}, PointConfig{})
		if c == nil || len(c.Files) != 1 {
			t.Fatalf("no capture of one file: %+v", c)
		}
		if fi := c.Files[0]; fi.Routed && !strings.Contains(strings.Join(fi.Problems, "\n"), "TTL one lower") {
			t.Fatalf("routed without a word: %q", fi.Problems)
		}
		// points and packets (ScanPoints, no frames kept) say what Load says of it, word for word.
		tb := NewTables()
		sc := ScanPoints([]string{path}, Options{Limits: Limits{MaxFrames: 100000}}, tb, PointConfig{})
		if got, want := routedSaid(sc.Files[0]), routedSaid(c.Files[0]); sc.Files[0].Routed != c.Files[0].Routed || got != want {
			t.Fatalf("ScanPoints: routed %v, %q; Load: routed %v, %q", sc.Files[0].Routed, got, c.Files[0].Routed, want)
		}
	})
}

// routedSaid returns fi's problem that says it holds packets twice with the TTL one lower ("" if none).
func routedSaid(fi *FileInfo) string {
	for _, p := range fi.Problems {
		if strings.Contains(p, "TTL one lower") {
			return p
		}
	}
	return ""
}
