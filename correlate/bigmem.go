package correlate

import (
	"unsafe"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/hugepage"
	"github.com/calipath/calipath/internal/prefault"
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

// trimRun is how many Observations a sequential pass over all the frames reads between two looks
// (trimAt) at the mapped pages the process holds. The release loop of the Mapper looks every few
// milliseconds, but only when its goroutine gets a core: while the passes' goroutines hold both, it
// waited up to tens of milliseconds, in which a pass maps the pages of hundreds of MiB (each read fault
// maps the large page-cache folios around it whole). A pass that looks itself every trimRun
// Observations (1 MiB of them) holds at most the allowance and the few MiB it read since its last look.
const trimRun = 1 << 15

// trimChunk returns the Observations of obs from lo on up to the next multiple of trimRun: a
// sequential pass that reads them in such pieces, with a look at the pages after each (trimAt of the
// piece's last), looks as often as trimAt at every Observation, with none in its inner loop.
func trimChunk(obs []decode.Observation, lo int) []decode.Observation {
	return obs[lo:min(lo|(trimRun-1)+1, len(obs))]
}

// trimAt has the Mapper drop the pages the process holds (when they pass its allowance) at every
// trimRun-th Observation i of a sequential pass (nothing without a Mapper).
func (w *world) trimAt(i int) {
	if i&(trimRun-1) == trimRun-1 {
		w.trimNow()
	}
}

// trimNow has the Mapper drop the pages the process holds now (when they pass its allowance): for a
// pass that counts its own runs of trimRun (nothing without a Mapper).
func (w *world) trimNow() {
	if w.big != nil {
		w.big.Trim()
	}
}

// plain is the element types that may live outside the Go heap: no pointers.
type plain interface {
	~uint8 | ~uint16 | ~uint32 | ~int32 | ~uint64 | ~int64 | jfill
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

// makeFilled is makeBig for an array whose every element is written soon after (a stage's output
// filled in whole): heap memory is mapped into the process in one call (prefault) rather than by a
// page fault per page at its first write. The Mapper's memory is left to fault as it is read and
// written: it holds to its allowance by dropping pages (Trim), and populating all of it would map
// in what it is there to keep out.
func makeFilled[T plain](mp Mapper, n, c int) []T {
	s := makeBig[T](mp, n, c)
	if mp == nil {
		prefault.Slice(s, 0, cap(s))
	}
	return s
}
