package report

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/calipath/calipath/correlate"
)

// jsonPar is how the JSON writer formats a long list on more than one core: workers goroutines format
// consecutive chunks of chunk elements, each into its own buffer with its own name cache, while the
// writing goroutine writes the chunks strictly in order, so that the kernel's copy of one chunk
// overlaps the formatting of the next. With one worker the list is formatted and written by the
// writing goroutine alone, as it goes.
type jsonPar struct {
	workers int
	chunk   int // elements a chunk
}

// jsonParChunk is the default chunk: a few hundred kilobytes of flows, written mostly straight from
// the chunk's buffer (jsonEnc.write).
const jsonParChunk = 256

// jsonParBuffers is the chunk buffers a worker: at most this many chunks a worker are formatted or
// waiting to be written at a time.
const jsonParBuffers = 2

// jsonParMaxWorkers is the most workers a list is formatted by: their chunks all go through the one
// writer, and each worker holds jsonParBuffers chunks, which no memory limit (--memory) counts, so
// more workers on a large machine would add memory, not speed.
const jsonParMaxWorkers = 4

// parOf returns o's jsonPar: the one set, else one worker a core (at most jsonParMaxWorkers) with
// chunks of jsonParChunk.
func parOf(o *Options) jsonPar {
	if o.jsonPar.workers > 0 {
		return o.jsonPar
	}
	return jsonPar{workers: min(runtime.GOMAXPROCS(0), jsonParMaxWorkers), chunk: jsonParChunk}
}

// parallel reports whether a list of n elements is formatted by several workers.
func (p jsonPar) parallel(n int) bool { return p.workers > 1 && n >= 2*p.chunk }

// parFormat formats the elements [from, to) of a list into c, a worker's encoder at the depth of the
// list's members, each element after the comma, line break and indentation of a member that is not
// the first (jsonEnc.member('[', false)); it returns how many it wrote (a filter may leave some out).
type parFormat func(c *jsonEnc, from, to int) int

// parChunk is a chunk a worker formatted: its bytes and how many elements they hold.
type parChunk struct {
	buf []byte
	n   int
	err error
}

// parRun is one parallel list being written: the chunks go to the workers as they come free, each
// next chunk to the first worker that has a buffer for it, and reach the writer in order through
// slots, chunk k through slot k mod the buffers. As a worker takes a buffer before the chunk, the
// buffers are always held by the lowest chunks not yet written: the writer's next chunk is always
// being formatted, and a slot is always empty when its next chunk is put in it.
type parRun struct {
	par    jsonPar
	n      int // elements
	depth  int // the members'
	next   atomic.Int64
	free   chan *parChunk   // the buffers, back from the writer
	slots  []chan *parChunk // chunk k is put in slots[k%len(slots)]
	quit   chan struct{}    // closed when the writer stops
	dead   chan struct{}    // closed when a worker fails (its panic is in failed)
	once   sync.Once
	failed chan any
	wg     sync.WaitGroup
}

// newParRun makes the channels of a parallel list of n elements whose members are at depth.
func newParRun(par jsonPar, n, depth int) *parRun {
	bufs := par.workers * jsonParBuffers
	r := &parRun{par: par, n: n, depth: depth, free: make(chan *parChunk, bufs), slots: make([]chan *parChunk, bufs),
		quit: make(chan struct{}), dead: make(chan struct{}), failed: make(chan any, 1)}
	for i := range bufs {
		r.free <- &parChunk{}
		r.slots[i] = make(chan *parChunk, 1)
	}
	return r
}

// parList writes the n elements of a list, after what e holds, formatted in chunks by e.par.workers
// workers, each with the parFormat newWorker makes for it. before is called once, ahead of the first
// element written (to write a lazy member's key); the list's opening '[' replaces the comma its first
// element comes with. It returns how many elements were written and, when there was one, leaves e one
// level deeper, as jsonEnc.member does, for e.end to close the list. The first write error stops the
// workers; parList returns only once they have stopped, and raises again a panic of theirs.
func (e *jsonEnc) parList(n int, newWorker func() parFormat, before func()) int {
	r := newParRun(e.par, n, e.depth+1)
	for range r.par.workers {
		r.wg.Add(1)
		go r.work(newWorker)
	}
	defer r.stop()
	m := 0
	for k := range r.chunks() {
		var c *parChunk
		select {
		case c = <-r.slots[k%len(r.slots)]:
		case <-r.dead: // stop() raises the worker's panic
			return m
		}
		m = e.writeChunk(c, m, before)
		r.free <- c
		if e.err != nil {
			break
		}
	}
	if m > 0 {
		e.depth = r.depth
	}
	return m
}

// writeChunk writes chunk c after the m elements written before, and returns the elements written.
func (e *jsonEnc) writeChunk(c *parChunk, m int, before func()) int {
	if c.err != nil && e.err == nil {
		e.err = c.err
	}
	if c.n == 0 || e.err != nil {
		return m
	}
	if m == 0 {
		before()
		c.buf[0] = '[' // for the comma of a later member
	}
	e.write(c.buf)
	return m + c.n
}

// chunks is the number of chunks.
func (r *parRun) chunks() int { return (r.n + r.par.chunk - 1) / r.par.chunk }

// stop stops the workers and waits for them; a panic of one is raised again.
func (r *parRun) stop() {
	close(r.quit)
	r.wg.Wait()
	select {
	case p := <-r.failed:
		panic(p)
	default:
	}
}

// work takes a free buffer, then the next chunk, formats it and puts it in its slot, until the last
// chunk is taken or quit. A panic is kept in failed (the first only) and closes dead.
func (r *parRun) work(newWorker func() parFormat) {
	defer r.wg.Done()
	defer func() {
		if p := recover(); p != nil {
			r.once.Do(func() {
				r.failed <- p
				close(r.dead)
			})
		}
	}()
	format := newWorker()
	c := &jsonEnc{depth: r.depth}
	for {
		var ch *parChunk
		select {
		case ch = <-r.free:
		case <-r.quit:
			return
		}
		k := int(r.next.Add(1) - 1)
		if k >= r.chunks() {
			r.free <- ch // never blocks: the buffer came from it
			return
		}
		c.buf, c.err = ch.buf[:0], nil
		ch.n = format(c, k*r.par.chunk, min((k+1)*r.par.chunk, r.n))
		ch.buf, ch.err = c.buf, c.err
		r.slots[k%len(r.slots)] <- ch // never blocks: see parRun
	}
}

// parFlows writes the streamed flows of res, when there are enough of them, as the members of a list
// formatted by several workers, each rendering its chunks through its own correlate.FlowCursor; it
// reports whether it did (else nothing is written).
func (e *jsonEnc) parFlows(res *correlate.Result) bool {
	fr := res.FlowRanges()
	if fr == nil || !e.par.parallel(fr.Len()) {
		return false
	}
	m := e.parList(fr.Len(), func() parFormat {
		cur := fr.Cursor()
		return func(c *jsonEnc, from, to int) int {
			cur.Each(from, to, func(x *correlate.Flow) bool {
				c.member('[', false)
				writeFlow(c, x)
				return true
			})
			return to - from
		}
	}, func() {})
	e.end('[', ']', m)
	return true
}

// parJourneys writes member f, every journey of res, when there are enough of them and no filter, as
// a list formatted by several workers, each rendering its chunks through its own
// correlate.JourneyCursor, after the n members written before (the member is omitted when there is
// no journey, as omitempty does). It returns the members written then and whether it wrote the
// journeys (else nothing is written).
func (s *jsonSelection) parJourneys(e *jsonEnc, f *planField, n int) (int, bool) {
	jr := s.res.JourneyRanges()
	if s.filter != nil || jr == nil || !e.par.parallel(jr.Len()) {
		return n, false
	}
	m := e.parList(jr.Len(), func() parFormat {
		cur := jr.Cursor()
		return func(c *jsonEnc, from, to int) int {
			k := 0
			cur.Each(from, to, func(x *correlate.Journey) bool {
				c.member('[', false)
				writeJourney(c, x)
				k++
				return true
			})
			return k
		}
	}, func() {
		e.member('{', n == 0)
		e.key(f.key)
	})
	if m == 0 {
		return n, true
	}
	e.end('[', ']', m)
	return n + 1, true
}
