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

// Drop gives back the whole pages inside the slice (they read as zeros again) and no more: a partial
// page at either end keeps its values; the count it returns ends at the last page given back, so that
// the next piece, from there, gives back the page the boundary split.
func TestDrop(t *testing.T) {
	s := make([]uint32, 4<<20/4) // 4 MiB
	fill := func() {
		for i := range s {
			s[i] = uint32(i) + 1
		}
	}
	fill()
	page := os.Getpagesize() / 4
	lo, hi := 1000, 5*page+7 // inside the first page, inside the sixth
	n := Drop(s[lo:hi])
	if want := 5*page - lo; n != want {
		t.Fatalf("Drop returned %d, want %d (to the end of the fifth page)", n, want)
	}
	for i := range s {
		gone := i >= page && i < 5*page // the whole pages inside [lo, hi)
		if want := uint32(i) + 1; gone && s[i] != 0 || !gone && s[i] != want {
			t.Fatalf("value %d is %d after Drop (given back: %v)", i, s[i], gone)
		}
	}
	next := lo + n // the next piece starts at the sixth page
	if m := Drop(s[next : 8*page]); m != 8*page-next {
		t.Fatalf("the next piece: Drop returned %d, want %d", m, 8*page-next)
	}
	if s[5*page] != 0 || s[8*page-1] != 0 || s[8*page] != uint32(8*page)+1 {
		t.Error("the next piece: its pages not given back, or more than them")
	}
	if Drop(s[10:20]) != 0 || s[10] != 11 || Drop([]uint32(nil)) != 0 {
		t.Error("Drop of less than a page gave something back")
	}
}
