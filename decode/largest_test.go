package decode

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestLargestFirst checks the order in which scanFiles starts its files: the largest first, files of
// equal size in the order given, and inputs of unknown size (stdin, a missing file, a directory, or
// every member of a bundle) before all.
func TestLargestFirst(t *testing.T) {
	dir := t.TempDir()
	file := func(name string, size int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	paths := []string{file("a", 10), file("b", 300), "-", file("c", 10), filepath.Join(dir, "missing"), file("d", 200), dir}
	if got, want := largestFirst(paths, false), []int{2, 4, 6, 1, 5, 0, 3}; !slices.Equal(got, want) {
		t.Errorf("largestFirst = %v, want %v", got, want)
	}
	if got, want := largestFirst(paths, true), []int{0, 1, 2, 3, 4, 5, 6}; !slices.Equal(got, want) {
		t.Errorf("largestFirst of a bundle's members = %v, want %v", got, want)
	}
	if got := largestFirst(nil, false); len(got) != 0 {
		t.Errorf("largestFirst(nil) = %v", got)
	}
}
