// Package hugepage asks the kernel to back large, long-lived slices with huge pages.
//
// calipath keeps every frame's record in memory, in a few large slices per input file, and fills
// each once, front to back. The first write to each page of fresh memory is a page fault; on Linux
// with transparent huge pages in "madvise" mode (a common default, and the mode where this matters)
// a slice advised with MADV_HUGEPAGE takes one fault per 2 MiB instead of one per 4 KiB. On virtual
// machines, where each fault also costs the host, that is most of the time spent filling the slice.
// The advice changes no content and is dropped when the kernel cannot follow it.
//
// The advice is off unless the environment sets CALIPATH_HUGEPAGES=1. On the 2-core virtual machine
// the project is measured on (issue 17), huge pages cost more than they save: the first write to a
// fresh huge page took far longer in the kernel than the 512 small-page faults it replaces (report on
// the many-flow set, one core, paired, medians of 4: 4.4 s of system time with the advice, 1.1 s
// without; user time 5.1 s and 5.3 s), where earlier hosts showed the opposite. Whether it pays
// depends on the host; CALIPATH_HUGEPAGES=1 asks for it.
package hugepage

import (
	"os"
	"unsafe"
)

// on says whether Advise asks for huge pages (CALIPATH_HUGEPAGES=1).
var on = os.Getenv("CALIPATH_HUGEPAGES") == "1"

// Enable turns the advice on or off, for tests, and returns what restores it as it was.
func Enable(b bool) (restore func()) {
	old := on
	on = b
	return func() { on = old }
}

// On reports whether Advise asks for huge pages: whether slices gathered for the sake of huge pages
// are worth gathering.
func On() bool { return on }

// Size is the huge page size advised for: the x86-64 and arm64 (4 KiB base pages) PMD size.
const Size = 2 << 20

// Advise asks for huge pages under the whole 2 MiB-aligned pages inside s's capacity (none when it
// spans none). It is for slices that are filled soon after and kept: memory not yet touched that
// lies inside such a page is committed with it (at most a huge page at each end of the filled part).
// It never fails: where the system has no such advice, or refuses it, nothing changes. It does nothing
// unless the advice is on (CALIPATH_HUGEPAGES=1, Enable).
func Advise[T any](s []T) {
	var zero T
	n := uintptr(cap(s)) * unsafe.Sizeof(zero)
	if !on || n < 2*Size {
		return
	}
	base := unsafe.Pointer(unsafe.SliceData(s[:1]))
	p := uintptr(base)
	start := (p + Size - 1) &^ (Size - 1)
	end := (p + n) &^ (Size - 1)
	if end <= start {
		return
	}
	advise(unsafe.Slice((*byte)(unsafe.Add(base, start-p)), end-start))
}

// Make returns make([]T, n, c), advised as Advise says when it spans whole huge pages: for the large
// slices that are filled soon after and kept. Memory fresh from the system is not touched by make, so
// the advice comes before the first write faults it in.
func Make[T any](n, c int) []T {
	s := make([]T, n, c)
	Advise(s)
	return s
}
