package correlate

import (
	"sync"
	"sync/atomic"

	"github.com/calipath/calipath/internal/hugepage"
)

// hopDropper gives the system back, while placement runs, the pages of the hop detail (the arena
// slots' points and corrected times, 6 bytes a hop: dropHopDetail drops the rest once placement is
// done) of the journeys every placing goroutine has gone past. Placement is their last reader, and
// reads a journey's only while it places it, in journey order: once each goroutine has placed the
// journeys below some j (or has none of them to place), their slots are read no more. The memory peak
// of many flows is at placement's end, where the hop detail was still resident whole (58 MiB on the
// 10 M-frame many-flow set), beside what placement allocates. The slices stay (the pages read as
// zeros if touched again); only heap memory is given back (in bounded-memory mode the Mapper's files
// hold it, and it drops their pages itself). A nil hopDropper drops nothing.
type hopDropper struct {
	ar     *arenaOut
	mu     sync.Mutex
	at     [2]int // per placing goroutine: the journeys below it are placed (nJ: it places no more)
	pt, dt int    // hopPt's and hopTs.dt's slots given back so far, whole pages
}

// hopDropRun is how many slots more than those given back the journeys passed must cover before
// their pages are given back (a system call per 512 KiB of times), and hopDropEvery how many journeys
// a placing goroutine places between its reports (passed: a power of two); variables for the tests,
// which drop in small steps.
var hopDropRun, hopDropEvery = 1 << 17, trimRun

// hopDropped counts the bytes of hop detail given back, for the tests.
var hopDropped atomic.Int64

// newHopDropper returns the hop dropper of placement pl, whose goroutines start at journeys at0 and
// at1 (nJ for one that places none), or nil when the hop detail is not the heap's.
func newHopDropper(pl *placement, at0, at1 int) *hopDropper {
	if pl.w.big != nil || len(pl.hopPt) == 0 {
		return nil
	}
	return &hopDropper{ar: pl.arenaOut, at: [2]int{at0, at1}}
}

// passed records that goroutine g has placed every journey of its below j, and gives back the pages
// of the hop detail below the first journey some goroutine has still to place.
func (d *hopDropper) passed(g, j int) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.at[g] = max(d.at[g], j)
	slot := int(d.ar.jStart[min(d.at[0], d.at[1])])
	if slot-d.dt < hopDropRun {
		return
	}
	pt, dt := hugepage.Drop(d.ar.hopPt[d.pt:slot]), hugepage.Drop(d.ar.hopTs.dt[d.dt:slot])
	d.pt, d.dt = d.pt+pt, d.dt+dt
	hopDropped.Add(int64(2*pt + 4*dt))
}

// every reports whether a placing goroutine that has just placed journey j reports how far it is.
func (d *hopDropper) every(j int) bool { return d != nil && j&(hopDropEvery-1) == hopDropEvery-1 }
