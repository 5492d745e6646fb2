//go:build linux

package decode

import (
	"errors"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

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

// The collector maps its slice in a window ahead of the frames that fill it, in one call rather than
// a page fault per page, and no further: the page a few frames ahead is resident before a frame is
// written to it, and one past the window is not.
func TestObsCollectorPrefaults(t *testing.T) {
	probe := make([]byte, 1<<20)
	if err := unix.Madvise(probe[64<<10:128<<10], unix.MADV_POPULATE_WRITE); errors.Is(err, unix.EINVAL) {
		t.Skipf("this kernel cannot populate memory (%v)", err)
	}
	const n = 3 * obsChunk
	c := obsCollector{size: 116 * 40 * obsChunk} // sized from the first chunk for far more than n
	for i := range n {
		c.add(&Record{CapLen: 100}, &Observation{Seq: uint32(i + 1)})
	}
	if cap(c.whole) < n+2*prefault.Window/32 {
		t.Fatalf("room for %d Observations: the case went untested", cap(c.whole))
	}
	ahead := c.whole[:cap(c.whole)]
	if !residentAt(t, unsafe.Pointer(&ahead[n+1024])) {
		t.Error("the page 1024 Observations ahead of the fill is not resident: the window was not mapped in")
	}
	if residentAt(t, unsafe.Pointer(&ahead[n+prefault.Window/32+1024])) {
		t.Error("a page past the window is resident: more than the window was mapped in")
	}
	end := unsafe.Pointer(&ahead[cap(c.obs)-1])
	obs := c.finish()
	if len(obs) != n || obs[n-1].Seq != n {
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
	const n = 2*FingerprintChunk + 100
	for i := range n {
		c.add(uint64(i + 1))
	}
	ch := c.cur[:FingerprintChunk]
	if !residentAt(t, unsafe.Pointer(&ch[100+1024])) {
		t.Error("the page 1024 values ahead of the fill is not resident: the window was not mapped in")
	}
	if residentAt(t, unsafe.Pointer(&ch[100+FingerprintChunk/4+1024])) {
		t.Error("a page past the window is resident: more than the window was mapped in")
	}
	f := c.finish()
	if len(f.Chunks) != 3 || f.At(n-1) != n || f.At(FingerprintChunk) != FingerprintChunk+1 {
		t.Fatalf("finish: %d chunks", len(f.Chunks))
	}
	if residentAt(t, unsafe.Pointer(&ch[100+1024])) {
		t.Error("the last window's unfilled room is still resident after finish")
	}
}
