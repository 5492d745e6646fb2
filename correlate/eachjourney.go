package correlate

import "github.com/calipath/calipath/decode"

// EachJourney calls fn with every journey of the Result in the order Options.Journeys lists them in
// Result.Journeys (by ID), rendering one at a time from the compact state the Result keeps, so that a
// writer can stream them without holding them all; it stops when fn returns false. fn must not keep
// the pointer, nor the journey's Hops, past its call: the next journey is rendered into the same
// Journey and Hops array, and the changes between hops are formatted once for all the journeys that
// show them, so that rendering a journey allocates nothing in the common case. It calls nothing for a
// Result without that state (one not made by Correlate).
func (r *Result) EachJourney(fn func(*Journey) bool) {
	a := r.analysis
	if a == nil {
		return
	}
	var jr Journey
	var buf journeyBuf
	for j := 0; j < a.nJ; j++ {
		if a.jFlow[j] < 0 {
			continue
		}
		jr = a.renderJourney(j, &buf)
		if cap(jr.Hops) > cap(buf.hops) {
			buf.hops = jr.Hops
		}
		if !fn(&jr) {
			return
		}
	}
}

// journeyBuf is what rendering one journey after another may reuse: the hops' array of the journey
// rendered before (set by a caller that is done with that journey), and the changes between hops
// that kept their tuple, by what they then depend on.
type journeyBuf struct {
	hops    []Hop
	changes map[uint64][]string
}

// maxChangesMemo bounds journeyBuf.changes: past it, further kinds of change are formatted each time.
const maxChangesMemo = 1 << 14

// hopsFor returns an empty Hops slice for n hops: buf's array when it is large enough, else a new one.
func (buf *journeyBuf) hopsFor(n int) []Hop {
	if buf == nil || cap(buf.hops) < n {
		return make([]Hop, 0, n)
	}
	return buf.hops[:0]
}

// hopChanges returns a.changes(p, o), from buf's memo when the tuple did not change: the changes then
// depend only on the TTLs and the header contexts, and repeat from journey to journey (every packet
// crosses the same tunnels). The slice may be shared with other hops: it is full (an append copies
// it) and must not be written to.
func (a *analysis) hopChanges(buf *journeyBuf, p, o *decode.Observation) []string {
	if buf == nil || a.w.tupleOf(p) != a.w.tupleOf(o) {
		return a.changes(p, o)
	}
	k := uint64(p.TTL) | uint64(o.TTL)<<8 | uint64(p.Ctx)<<16 | uint64(o.Ctx)<<32
	if c, ok := buf.changes[k]; ok {
		return c
	}
	c := a.changes(p, o)
	c = c[:len(c):len(c)]
	if buf.changes == nil {
		buf.changes = map[uint64][]string{}
	}
	if len(buf.changes) < maxChangesMemo {
		buf.changes[k] = c
	}
	return c
}
