package hugepage

import (
	"os"
	"unsafe"
)

// Release gives the system back the whole pages of s's capacity past its length, and returns s with
// no room past its length (an append copies it). It is for a slice sized from an estimate that its
// content fell short of: that room, touched when the slice was zeroed or in a huge page with its
// content, would stay resident for as long as the slice is kept. The pages read as zeros if ever
// touched again. Where the system cannot, nothing is given back.
func Release[T any](s []T) []T {
	var zero T
	size := unsafe.Sizeof(zero)
	if cap(s) == len(s) || size == 0 {
		return s
	}
	base := unsafe.Pointer(unsafe.SliceData(s[:cap(s)]))
	p := uintptr(base)
	page := uintptr(os.Getpagesize())
	start := (p + uintptr(len(s))*size + page - 1) &^ (page - 1)
	end := (p + uintptr(cap(s))*size) &^ (page - 1)
	if end > start {
		release(unsafe.Slice((*byte)(unsafe.Add(base, start-p)), end-start))
	}
	return s[:len(s):len(s)]
}

// Drop gives the system back the whole pages inside s, whose values are read no more (they read as
// zeros if touched again), and returns how many of s's values lie before the end of the last page
// given back (0 when none was): a caller that drops a slice front to back a piece at a time starts
// its next piece there, so that the page a boundary between two pieces splits goes with the next.
// Where the system cannot, nothing is given back (and the count is the same).
func Drop[T any](s []T) int {
	var zero T
	size := uintptr(unsafe.Sizeof(zero))
	if len(s) == 0 || size == 0 {
		return 0
	}
	base := unsafe.Pointer(unsafe.SliceData(s))
	p := uintptr(base)
	page := uintptr(os.Getpagesize())
	start := (p + page - 1) &^ (page - 1)
	end := (p + uintptr(len(s))*size) &^ (page - 1)
	if end <= start {
		return 0
	}
	release(unsafe.Slice((*byte)(unsafe.Add(base, start-p)), end-start))
	return int((end - p) / size)
}
