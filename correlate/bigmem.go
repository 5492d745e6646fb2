package correlate

import (
	"unsafe"

	"github.com/calipath/calipath/internal/hugepage"
)

// Mapper gives memory outside the Go heap (decode.Spill in bounded-memory mode): Map returns n
// zeroed bytes, or nil when it will not (too small, or the memory cannot be had), and the caller
// takes heap memory instead. What it gives holds no Go pointers and stays valid as long as the Result.
// Trim drops the pages of it (and of the frames) that the process holds, when they pass its allowance:
// a stage that reads the frames sparsely calls it as it goes (world.trim).
type Mapper interface {
	Map(n int) []byte
	Trim()
}

// trimEvery is how many sparse reads a stage makes between two calls of world.trim.
const trimEvery = 64

// trim has the Mapper drop the pages the process holds, on every trimEvery-th call of a stage's
// count k (nothing without a Mapper).
func (w *world) trim(k int) {
	if w.big != nil && k%trimEvery == trimEvery-1 {
		w.big.Trim()
	}
}

// plain is the element types that may live outside the Go heap: no pointers.
type plain interface {
	~uint8 | ~uint16 | ~uint32 | ~int32 | ~uint64 | ~int64
}

// makeBig returns make([]T, n, c): from mp when it gives the memory (the large per-frame and
// per-journey arrays of bounded-memory mode), else from the heap as hugepage.Make. The contents are
// the same either way.
func makeBig[T plain](mp Mapper, n, c int) []T {
	if mp != nil && c > 0 {
		var zero T
		if b := mp.Map(c * int(unsafe.Sizeof(zero))); b != nil {
			return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), c)[:n]
		}
	}
	return hugepage.Make[T](n, c)
}
