//go:build linux

package decode

import (
	"encoding/binary"
	"errors"
	"os"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/calipath/calipath/internal/hugepage"
	"github.com/calipath/calipath/internal/prefault"
)

// residentAt reports whether the page holding p is resident in the process (mincore).
func residentAt(t *testing.T, p unsafe.Pointer) bool {
	t.Helper()
	page := uintptr(os.Getpagesize())
	a := uintptr(p) &^ (page - 1)
	var vec [1]byte
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, a, page, uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	return vec[0]&1 != 0
}

// smallPages advises the whole pages of s's capacity against huge pages: the heap may hand a test
// memory that an earlier test advised for them (the advice stays with the address range), and a
// huge page populated or faulted in makes 2 MiB resident at once.
func smallPages[T any](t *testing.T, s []T) {
	t.Helper()
	page := uintptr(os.Getpagesize())
	var zero T
	base := unsafe.Pointer(unsafe.SliceData(s))
	p := uintptr(base)
	start, end := (p+page-1)&^(page-1), (p+uintptr(cap(s))*unsafe.Sizeof(zero))&^(page-1)
	if end > start {
		_ = unix.Madvise(unsafe.Slice((*byte)(unsafe.Add(base, start-p)), end-start), unix.MADV_NOHUGEPAGE)
	}
}

// The collector maps its slice in a window ahead of the frames that fill it, in one call rather than
// a page fault per page, and no further: the page a few frames ahead is resident before a frame is
// written to it, and one past the window is not. (The pages past the first windows are let go
// first: the heap may hand the slice memory that earlier tests made resident.)
func TestObsCollectorPrefaults(t *testing.T) {
	probe := make([]byte, 1<<20)
	if err := unix.Madvise(probe[64<<10:128<<10], unix.MADV_POPULATE_WRITE); errors.Is(err, unix.EINVAL) {
		t.Skipf("this kernel cannot populate memory (%v)", err)
	}
	c := obsCollector{size: 116 * 40 * obsChunk} // sized from the first chunk for far more than is read
	add := func(upto int) {
		for i := len(c.obs); i < upto; i++ {
			c.add(&Record{CapLen: 100}, &Observation{Seq: uint32(i + 1)})
		}
	}
	add(3 * obsChunk)
	m := cap(c.obs) // the end of the window mapped in
	smallPages(t, c.whole)
	hugepage.Release(c.whole[:m])
	if cap(c.whole) < m+2*prefault.Window/32 {
		t.Fatalf("room for %d Observations: the case went untested", cap(c.whole))
	}
	add(m + 1) // into the next window
	ahead := c.whole[:cap(c.whole)]
	if !residentAt(t, unsafe.Pointer(&ahead[m+1024])) {
		t.Error("the page 1024 Observations ahead of the fill is not resident: the window was not mapped in")
	}
	if residentAt(t, unsafe.Pointer(&ahead[m+prefault.Window/32+1024])) {
		t.Error("a page past the window is resident: more than the window was mapped in")
	}
	end := unsafe.Pointer(&ahead[cap(c.obs)-1])
	obs := c.finish()
	if len(obs) != m+1 || obs[m].Seq != uint32(m+1) {
		t.Fatalf("finish: %d Observations", len(obs))
	}
	if residentAt(t, end) {
		t.Error("the last window's unfilled room is still resident after finish")
	}
}

// The fingerprint collector likewise maps its full-size chunks in a window (fpWindow) at a time, and
// gives back what the last window holds past the last value.
func TestFpCollectorPrefaults(t *testing.T) {
	probe := make([]byte, 1<<20)
	if err := unix.Madvise(probe[64<<10:128<<10], unix.MADV_POPULATE_WRITE); errors.Is(err, unix.EINVAL) {
		t.Skipf("this kernel cannot populate memory (%v)", err)
	}
	c := fpCollector{slabs: &chunkSlabs[uint64]{size: FingerprintChunk, perSlab: fpSlabChunks}}
	n := 0
	add := func(upto int) {
		for ; n < upto; n++ {
			c.add(uint64(n + 1))
		}
	}
	add(2*FingerprintChunk + 100)
	w := len(c.cur)                 // the end of the window mapped in
	hugepage.Release(c.cur)         // the pages past it (see TestObsCollectorPrefaults)
	add(2*FingerprintChunk + w + 1) // into the next window
	ch := c.cur[:FingerprintChunk]
	if !residentAt(t, unsafe.Pointer(&ch[w+1024])) {
		t.Error("the page 1024 values ahead of the fill is not resident: the window was not mapped in")
	}
	if residentAt(t, unsafe.Pointer(&ch[w+fpWindow+1024])) {
		t.Error("a page past the window is resident: more than the window was mapped in")
	}
	f := c.finish()
	if len(f.Chunks) != 3 || f.At(n-1) != uint64(n) || f.At(FingerprintChunk) != FingerprintChunk+1 {
		t.Fatalf("finish: %d chunks", len(f.Chunks))
	}
	if residentAt(t, unsafe.Pointer(&ch[w+1024])) {
		t.Error("the last window's unfilled room is still resident after finish")
	}
}

// threadFaults returns the page faults f takes on this thread: the kernel's count of faults taken at
// a first touch, which does not count the pages a populating call maps in. It skips the test when the
// kernel does not let the process count them (perf_event_paranoid, a seccomp filter).
func threadFaults(t *testing.T, f func()) int64 {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	attr := unix.PerfEventAttr{Type: unix.PERF_TYPE_SOFTWARE, Config: unix.PERF_COUNT_SW_PAGE_FAULTS,
		Size: uint32(unsafe.Sizeof(unix.PerfEventAttr{})), Bits: unix.PerfBitExcludeKernel | unix.PerfBitExcludeHv}
	fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		t.Skipf("page faults cannot be counted here (%v)", err)
	}
	defer unix.Close(fd)
	f()
	var buf [8]byte
	if n, err := unix.Read(fd, buf[:]); err != nil || n != 8 {
		t.Fatalf("reading the page fault count: %d bytes, %v", n, err)
	}
	return int64(binary.NativeEndian.Uint64(buf[:]))
}

// When the fingerprints of a file outgrow their first small chunk, they move to a full-size chunk:
// its front, where they are copied, is mapped in with the window after it in one call, not faulted
// in a page at a time (64 faults for the 256 KiB copied).
func TestFpCollectorFirstChunkPrefaulted(t *testing.T) {
	probe := make([]byte, 1<<20)
	if err := unix.Madvise(probe[64<<10:128<<10], unix.MADV_POPULATE_WRITE); errors.Is(err, unix.EINVAL) {
		t.Skipf("this kernel cannot populate memory (%v)", err)
	}
	slabs := &chunkSlabs[uint64]{size: FingerprintChunk, perSlab: fpSlabChunks}
	slabs.slab = make([]uint64, fpSlabChunks*FingerprintChunk)
	smallPages(t, slabs.slab)
	hugepage.Release(slabs.slab[:0]) // not resident: as memory fresh from the system
	c := fpCollector{slabs: slabs}
	n := 0
	for ; n < FingerprintChunk/2; n++ {
		c.add(uint64(n + 1))
	}
	faults := threadFaults(t, func() { c.add(uint64(n + 1)); n++ }) // into the full-size chunk
	if faults > 8 {
		t.Errorf("moving %d fingerprints into the first full-size chunk took %d page faults, want at most 8 (it was mapped in a page at a time)",
			FingerprintChunk/2, faults)
	}
	f := c.finish()
	if len(f.Chunks) != 1 || f.At(0) != 1 || f.At(n-1) != uint64(n) || f.At(FingerprintChunk/2-1) != FingerprintChunk/2 {
		t.Fatalf("finish: %d chunks, values %d %d", len(f.Chunks), f.At(0), f.At(n-1))
	}
}
