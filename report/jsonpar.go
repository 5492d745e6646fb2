package report

import (
	"runtime"
	"sync"

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

// jsonParChunk is the default chunk: a few hundred kilobytes of flows, written in one write(2).
const jsonParChunk = 256

// jsonParBuffers is each worker's chunk buffers: one being formatted, one being written or waiting.
const jsonParBuffers = 2

// parOf returns o's jsonPar: the one set, else one worker a core with chunks of jsonParChunk.
func parOf(o *Options) jsonPar {
	if o.jsonPar.workers > 0 {
		return o.jsonPar
	}
	return jsonPar{workers: runtime.GOMAXPROCS(0), chunk: jsonParChunk}
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

// parRun is one parallel list being written: the channels between the workers and the writer.
type parRun struct {
	par    jsonPar
	n      int // elements
	depth  int // the members'
	quit   chan struct{}
	out    []chan *parChunk // worker i's chunks i, i+workers, … in order
	free   []chan *parChunk // worker i's buffers, back from the writer
	failed chan any
	wg     sync.WaitGroup
}

// parList writes the n elements of a list, after what e holds, formatted in chunks by e.par.workers
// workers, each with the parFormat newWorker makes for it. before is called once, ahead of the first
// element written (to write a lazy member's key); the list's opening '[' replaces the comma its first
// element comes with. It returns how many elements were written and, when there was one, leaves e one
// level deeper, as jsonEnc.member does, for e.end to close the list. The first write error stops the
// workers; parList returns only once they have stopped, and raises again a panic of theirs.
func (e *jsonEnc) parList(n int, newWorker func() parFormat, before func()) int {
	r := newParRun(e.par, n, e.depth+1)
	for i := range r.par.workers {
		r.wg.Add(1)
		go r.work(i, newWorker)
	}
	defer r.stop()
	m := 0
	for k := range r.chunks() {
		i := k % r.par.workers
		c, ok := <-r.out[i]
		if !ok { // the worker failed: stop() raises its panic
			break
		}
		m = e.writeChunk(c, m, before)
		r.free[i] <- c
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
	e.flush(true)
	if e.err == nil {
		_, e.err = e.w.Write(c.buf)
	}
	return m + c.n
}

// newParRun makes the channels of a parallel list of n elements whose members are at depth.
func newParRun(par jsonPar, n, depth int) *parRun {
	r := &parRun{par: par, n: n, depth: depth, quit: make(chan struct{}), failed: make(chan any, par.workers),
		out: make([]chan *parChunk, par.workers), free: make([]chan *parChunk, par.workers)}
	for i := range par.workers {
		r.out[i] = make(chan *parChunk, 1)
		r.free[i] = make(chan *parChunk, jsonParBuffers)
		for range jsonParBuffers {
			r.free[i] <- &parChunk{}
		}
	}
	return r
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

// work formats chunks i, i+workers, … in order into worker i's buffers and hands each over on out[i],
// until the last or quit; it closes out[i] when it stops. A panic is sent on failed.
func (r *parRun) work(i int, newWorker func() parFormat) {
	defer r.wg.Done()
	defer close(r.out[i])
	defer func() {
		if p := recover(); p != nil {
			r.failed <- p
		}
	}()
	format := newWorker()
	c := &jsonEnc{depth: r.depth}
	for k := i; k < r.chunks(); k += r.par.workers {
		var ch *parChunk
		select {
		case ch = <-r.free[i]:
		case <-r.quit:
			return
		}
		c.buf, c.err = ch.buf[:0], nil
		ch.n = format(c, k*r.par.chunk, min((k+1)*r.par.chunk, r.n))
		ch.buf, ch.err = c.buf, c.err
		select {
		case r.out[i] <- ch:
		case <-r.quit:
			return
		}
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
