//go:build linux

package prefault

import (
	"errors"
	"fmt"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// resident returns which pages of b (page-aligned) the process holds, from mincore.
func resident(t *testing.T, b []byte) []bool {
	t.Helper()
	vec := make([]byte, (len(b)+int(page)-1)/int(page))
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)),
		uintptr(unsafe.Pointer(unsafe.SliceData(vec))))
	if errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	in := make([]bool, len(vec))
	for i, v := range vec {
		in[i] = v&1 != 0
	}
	return in
}

// fresh maps n pages of anonymous memory that no page of is resident yet, or skips the test when the
// kernel cannot populate (before 5.14).
func fresh(t *testing.T, n int) []byte {
	t.Helper()
	b, err := unix.Mmap(-1, 0, n*int(page), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	t.Cleanup(func() { _ = unix.Munmap(b) })
	probe := b[(n-1)*int(page):]
	if err := unix.Madvise(probe, unix.MADV_POPULATE_WRITE); errors.Is(err, unix.EINVAL) {
		t.Skipf("this kernel cannot populate memory (%v): Write does nothing", err)
	}
	_ = unix.Madvise(probe, unix.MADV_DONTNEED)
	for i, r := range resident(t, b) {
		if r {
			t.Fatalf("page %d of fresh memory is resident", i)
		}
	}
	return b
}

func want(t *testing.T, what string, got []bool, in func(i int) bool) {
	t.Helper()
	for i, r := range got {
		if r != in(i) {
			t.Errorf("%s: page %d resident %v, want %v", what, i, r, in(i))
		}
	}
}

// TestWrite checks that Write makes resident exactly the whole pages inside the bytes it is given,
// and that the memory still reads as zeros and takes what is written.
func TestWrite(t *testing.T) {
	defer off.Store(off.Load())
	off.Store(false)
	b := fresh(t, 16)
	pg := int(page)
	Write(b[2*pg+1 : 6*pg+10]) // whole pages 3, 4, 5; the partial pages 2 and 6 are left alone
	want(t, "after Write", resident(t, b), func(i int) bool { return i >= 3 && i <= 5 })
	Write(b[8*pg+1 : 9*pg-1]) // no whole page
	want(t, "after a Write of no whole page", resident(t, b), func(i int) bool { return i >= 3 && i <= 5 })
	for i, v := range b {
		if v != 0 {
			t.Fatalf("byte %d of populated fresh memory is %d", i, v)
		}
	}
	b[4*pg] = 7
	if b[4*pg] != 7 {
		t.Fatal("populated memory does not hold what was written")
	}
	Write(nil)
}

// TestNext checks that Next populates one window ahead of a front-to-back fill and cuts the slice's
// capacity at the window's end, so that the filler's slow path comes back for the next one; the
// windows grow with what the slice holds, from firstWindow up to Window.
func TestNext(t *testing.T) {
	defer off.Store(off.Load())
	off.Store(false)
	const size = int(unsafe.Sizeof(uint64(0)))
	mem := fresh(t, 3*Window/int(page))
	full := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(mem))), len(mem)/size)[:0]
	s := full
	for _, w := range []int{firstWindow, firstWindow, 2 * firstWindow, 4 * firstWindow, 8 * firstWindow, Window, Window} {
		n, end := len(s), len(s)+w/size
		s = Next(full, n)
		if len(s) != n || cap(s) != end {
			t.Fatalf("Next(full, %d): len %d cap %d, want %d %d", n, len(s), cap(s), n, end)
		}
		want(t, fmt.Sprintf("the window to %d", end), resident(t, mem), func(i int) bool { return i < end*size/int(page) })
		for len(s) < cap(s) {
			s = append(s, 1)
		}
	}
	if s := Next(full[:len(s):len(s)], len(s)); cap(s) != len(s) {
		t.Errorf("Next at the end of the capacity: cap %d, want %d", cap(s), len(s))
	}
	if s := Next(full, cap(full)-5); cap(s) != cap(full) {
		t.Errorf("Next 5 short of the capacity: cap %d, want %d", cap(s), cap(full))
	}
	if s := Next([]struct{}{}, 0); cap(s) != 0 {
		t.Errorf("Next of zero-size elements: cap %d", cap(s))
	}
}

// TestOff checks that after the kernel refused a call, no more are made.
func TestOff(t *testing.T) {
	defer off.Store(off.Load())
	off.Store(true)
	b := make([]byte, 64*int(page))
	before := calls.Load()
	Write(b)
	Slice(b, 0, len(b))
	if n := calls.Load() - before; n != 0 {
		t.Errorf("%d calls made after a refusal", n)
	}
	off.Store(false)
	Write(b)
	if n := calls.Load() - before; n != 1 {
		t.Errorf("%d calls made, want 1", n)
	}
}

// TestTake checks that Take hands out the front of a slice, as many elements as asked for,
// populated, and leaves the rest as it was.
func TestTake(t *testing.T) {
	defer off.Store(off.Load())
	off.Store(false)
	mem := fresh(t, 64)
	pg := int(page)
	s := unsafe.Slice((*[24]byte)(unsafe.Pointer(unsafe.SliceData(mem))), len(mem)/24)
	front, rest := Take(s, 8*pg/24)
	if len(front) != 8*pg/24 || cap(front) != len(front) || len(rest) != len(s)-len(front) || &rest[0] != &s[len(front)] {
		t.Fatalf("Take: front %d (cap %d), rest %d, of %d", len(front), cap(front), len(rest), len(s))
	}
	want(t, "after Take", resident(t, mem), func(i int) bool { return i < 7 }) // 8 pages but the partial last
	if front, rest := Take(rest[:3], 10); len(front) != 3 || len(rest) != 0 {
		t.Errorf("Take of 10 from 3: front %d, rest %d", len(front), len(rest))
	}
}
