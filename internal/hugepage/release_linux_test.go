//go:build linux

package hugepage

import (
	"os"
	"testing"
)

// Release gives back the pages past the length (they read as zeros again, which only a page given
// back does) and keeps the content; a partial page at the boundary stays as it was.
func TestRelease(t *testing.T) {
	s := make([]uint64, 4<<20/8) // 4 MiB
	for i := range s {
		s[i] = uint64(i) + 1
	}
	n := 1000 // the boundary inside a page
	r := Release(s[:n])
	if len(r) != n || cap(r) != n {
		t.Fatalf("Release: len %d cap %d, want %d %d", len(r), cap(r), n, n)
	}
	for i := range n {
		if s[i] != uint64(i)+1 {
			t.Fatalf("value %d is %d after Release", i, s[i])
		}
	}
	page := os.Getpagesize() / 8
	firstGone := (n + page - 1) / page * page
	for i := n; i < firstGone; i++ {
		if s[i] != uint64(i)+1 {
			t.Fatalf("value %d, in the boundary's page, is %d after Release", i, s[i])
		}
	}
	for i := firstGone; i < len(s); i++ {
		if s[i] != 0 {
			t.Fatalf("value %d, past the length, is %d after Release: not given back", i, s[i])
		}
	}
	if e := Release([]uint64(nil)); e != nil {
		t.Error("Release of nil is not nil")
	}
}
