package correlate

import (
	"math"
	"sync"
)

// hopTimes holds the corrected time of every arena slot in 4 bytes: nanoseconds after its journey's
// first sighting (t0), which the matcher records. A hop more than 4.29 s after it (a journey
// stretched over several matching windows) keeps its time in a side map instead.
type hopTimes struct {
	t0  *times   // by journey
	dt  []uint32 // by arena slot; dtBig: the time is in big
	mu  sync.Mutex
	big map[int]int64 // arena slot → time, for the slots marked dtBig (guarded by mu)
}

const dtBig = math.MaxUint32

func newHopTimes(mp Mapper, slots int, t0 *times) hopTimes {
	return hopTimes{t0: t0, dt: makeFilled[uint32](mp, slots, slots)}
}

// set records that arena slot k, a hop of journey j, was seen at t.
func (h *hopTimes) set(k int, j int32, t int64) {
	if d := t - h.t0.at(int(j)); d >= 0 && d < dtBig {
		h.dt[k] = uint32(d)
		return
	}
	h.dt[k] = dtBig
	h.mu.Lock()
	if h.big == nil {
		h.big = map[int]int64{}
	}
	h.big[k] = t
	h.mu.Unlock()
}

// at returns the time of arena slot k, a hop of journey j.
func (h *hopTimes) at(j int32, k int) int64 {
	if d := h.dt[k]; d != dtBig {
		return h.t0.at(int(j)) + int64(d)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.big[k]
}

// atFrom is at for a caller that reads several hops of one journey: t0 is its first sighting.
func (h *hopTimes) atFrom(t0 int64, k int) int64 {
	if d := h.dt[k]; d != dtBig {
		return t0 + int64(d)
	}
	return h.bigAt(k)
}

// atIn is atFrom for a caller that holds the journey's slots' dt from slot base: the time of slot
// base+i.
func (h *hopTimes) atIn(t0 int64, dt []uint32, i, base int) int64 {
	if d := dt[i]; d != dtBig {
		return t0 + int64(d)
	}
	return h.bigAt(base + i)
}

// bigAt returns the time of arena slot k from the side map.
func (h *hopTimes) bigAt(k int) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.big[k]
}

// bigIn reports whether some slot from lo to hi-1 has its time in the side map. (Another goroutine
// may add slots of its own journeys meanwhile: those are outside the range.)
func (h *hopTimes) bigIn(lo, hi int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range h.big {
		if k >= lo && k < hi {
			return true
		}
	}
	return false
}

// bigNone reports whether no slot has its time in the side map: then no slot's dt is dtBig (set and
// swap mark a slot dtBig only with its time in big).
func (h *hopTimes) bigNone() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.big) == 0
}

// swap exchanges the times of slots i and k (hops of one journey). Journeys' slots may be swapped
// from several goroutines at once, each on its own journeys.
func (h *hopTimes) swap(i, k int) {
	h.dt[i], h.dt[k] = h.dt[k], h.dt[i]
	if h.dt[i] == dtBig || h.dt[k] == dtBig {
		h.mu.Lock()
		bi, iok := h.big[i]
		bk, kok := h.big[k]
		delete(h.big, i)
		delete(h.big, k)
		if kok {
			h.big[i] = bk
		}
		if iok {
			h.big[k] = bi
		}
		h.mu.Unlock()
	}
}

// before reports whether slot i comes before slot k, both hops of journey j: earlier, or at the same
// time with a lower global observation id.
func (h *hopTimes) before(j int32, i, k int, arena []uint32) bool {
	di, dk := h.dt[i], h.dt[k]
	if di == dtBig || dk == dtBig {
		ti, tk := h.at(j, i), h.at(j, k)
		return ti < tk || ti == tk && arena[i] < arena[k]
	}
	return di < dk || di == dk && arena[i] < arena[k]
}

// times is an append-only list of times in blocks: it grows without copying, and without reserving
// room it may never use.
type times struct {
	blocks [][]int64
	n      int
	mp     Mapper // gives the blocks' memory (nil: the heap)
}

const timesBlock = 1 << 16

func (ts *times) append(t int64) {
	if ts.n%timesBlock == 0 {
		ts.blocks = append(ts.blocks, makeBig[int64](ts.mp, timesBlock, timesBlock))
	}
	ts.blocks[ts.n/timesBlock][ts.n%timesBlock] = t
	ts.n++
}

func (ts *times) at(i int) int64 { return ts.blocks[i/timesBlock][i%timesBlock] }

func (ts *times) set(i int, t int64) { ts.blocks[i/timesBlock][i%timesBlock] = t }

// flat returns times [from, to) in one array, from mp (makeBig).
func (ts *times) flat(mp Mapper, from, to int) []int64 {
	out := makeFilled[int64](mp, to-from, to-from)
	for k := 0; k < len(out); {
		i := from + k
		k += copy(out[k:], ts.blocks[i/timesBlock][i%timesBlock:])
	}
	return out
}
