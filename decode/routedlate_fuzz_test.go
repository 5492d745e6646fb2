package decode

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRoutedLate loads any input as a router's capture (router-1-eth0.pcap: no Calico node, so
// routedLate searches it past the probe, and reads it again for link addresses): no panic, and a file
// marked Routed has a problem that says why. Seeded with the reader's seeds and the lab's mtu-blackhole
// router-1 captures written one after the other (mergecap -a).
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
	})
}
