package decode

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestScanOrder: on more than one worker the files start largest first (the order given among equal
// sizes, a path without a size last); on one worker, and for two files, in the order given.
func TestScanOrder(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i, n := range []int{10, 300, 10, 50} {
		p := filepath.Join(dir, string(rune('a'+i))+".pcap")
		if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	paths = append(paths, filepath.Join(dir, "missing.pcap"), "-")
	if got, want := scanOrder(paths, 2), []int{1, 3, 0, 2, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("two workers: order %v, want %v", got, want)
	}
	if got, want := scanOrder(paths, 1), []int{0, 1, 2, 3, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("one worker: order %v, want %v", got, want)
	}
	if got, want := scanOrder(paths[:2], 4), []int{0, 1}; !slices.Equal(got, want) {
		t.Errorf("two files: order %v, want %v", got, want)
	}
}
