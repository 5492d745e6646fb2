package decode

import (
	"os"
	"sync"
	"testing"
)

// Files given out of order are read in their paths' sorted order (Capture.Files), and the progress
// callback is told each file by the index the caller gave it at: its size is that path's.
func TestLoadInOrderProgress(t *testing.T) {
	dir := "../testdata/lab/scenarios/healthy-ipip/"
	paths := []string{dir + "node-b-eth0.pcap", dir + "node-a-cali5e1c4d6c68c.pcap", dir + "node-a-eth0.pcap"}
	var mu sync.Mutex
	sizes := map[int]int64{}
	c := LoadProgress(paths, Options{}, PointConfig{}, func(file int, bytes, size int64, frames, skipped int) {
		mu.Lock()
		sizes[file] = size
		mu.Unlock()
	})
	want := []string{paths[1], paths[2], paths[0]}
	for i, f := range c.Files {
		if f.Path != want[i] {
			t.Errorf("file %d: %s, want %s", i, f.Path, want[i])
		}
	}
	if len(sizes) == 0 {
		t.Fatal("no progress")
	}
	for i, size := range sizes {
		st, err := os.Stat(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		if size != st.Size() {
			t.Errorf("progress file %d: size %d, want %d (%s)", i, size, st.Size(), paths[i])
		}
	}
}
