// Package prefault maps memory into the process in bulk, one system call for many pages, instead of
// one page fault per page at its first touch.
//
// calipath fills large fresh slices front to back (every frame's Observation, the journeys' hops).
// Each first touch of a 4 KiB page of them is a page fault; on a paravirtualised guest (the 2-core
// VM of issue 17) each costs the host too, and the faults were a quarter of the run's time. Linux
// 5.14 and later map a range in one call (madvise MADV_POPULATE_WRITE): on that VM, a fresh 326 MiB
// slice written every 32 bytes took 0.62 s of system time faulted page by page, and 0.08 s
// populated first. (The input files are read with read(2) into reused buffers, not mapped: on that
// VM the first touch of each mapped file page cost about 0.65 µs of user time even when populated
// in bulk.)
//
// Populating changes no content: a populated page of fresh memory reads as zeros. It does commit memory, so callers populate what they fill soon, a window at a time
// (Window), not whole capacities that may stay unused. Where the system has no such call, or the
// kernel refuses it (EINVAL before 5.14), nothing happens and the first touches fault as before;
// after the first refusal the calls are not made again.
package prefault

import (
	"os"
	"sync/atomic"
	"unsafe"
)

// Window is the most a caller that fills memory front to back populates at a time (Next): large
// enough that the system call's cost is spread over many pages, small enough that what is populated
// and not yet filled (at most one window per slice being filled) does not add to the peak.
const Window = 4 << 20

// firstWindow is the least Next populates at a time: the windows of a slice grow with what it holds,
// from this up to Window, so that a slice that stays nearly empty (a small file's) has little of its
// capacity populated.
const firstWindow = 256 << 10

// page is the base page size: what madvise aligns to.
var page = uintptr(os.Getpagesize())

// off is set once the kernel refused a call (or the system has none): later calls do nothing.
var off atomic.Bool

// calls counts the populating system calls made, for tests.
var calls atomic.Int64

// Write populates, for writing, the whole pages inside b (none when b spans no whole page): b is
// anonymous memory (the Go heap, a private mapping) that is about to be written. A partial page at
// either end is left to fault as usual (it may hold other objects' bytes; populating it would do no
// harm, but it is not b's to commit).
func Write(b []byte) {
	if len(b) == 0 || off.Load() {
		return
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	start := (p + page - 1) &^ (page - 1)
	end := (p + uintptr(len(b))) &^ (page - 1)
	if end <= start {
		return
	}
	calls.Add(1)
	if !advise(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), start-p)), end-start)) {
		off.Store(true)
	}
}

// Slice populates for writing the memory of s's elements [from, to) of its capacity (clamped to it).
func Slice[T any](s []T, from, to int) {
	to = min(to, cap(s))
	if from < 0 || to <= from {
		return
	}
	var zero T
	size := int(unsafe.Sizeof(zero))
	if size == 0 {
		return
	}
	base := unsafe.Pointer(unsafe.SliceData(s[:cap(s)]))
	Write(unsafe.Slice((*byte)(unsafe.Add(base, from*size)), (to-from)*size))
}

// Next populates the next window of s ahead of a front-to-back fill, whose next element is
// s[len(s)], and returns s with its capacity cut at the window's end: the filler calls Next again
// when it reaches that capacity (its slow path), with the slice's whole capacity in full. full is
// the slice with its whole capacity; the slice filled so far is full[:n]. The window is as many bytes
// as the n elements take, at least firstWindow and at most Window, or what is left of full's
// capacity.
func Next[T any](full []T, n int) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	end := cap(full)
	if size > 0 {
		end = min(end, n+max(min(max(n*size, firstWindow), Window)/size, 1))
	}
	Slice(full, n, end)
	return full[:n:end]
}

// Take splits off the front of s, a slice handed out from the front (a block of records taken one
// by one), its first n elements (all of them when fewer), populates their memory for writing and
// returns them and the rest.
func Take[T any](s []T, n int) (front, rest []T) {
	n = max(min(n, len(s)), 0)
	Slice(s, 0, n)
	return s[:n:n], s[n:]
}
