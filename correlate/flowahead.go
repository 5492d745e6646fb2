package correlate

import "sync"

// flowAheadBatch is how many flows eachFlowAhead renders at a time: enough that handing a batch over
// costs little beside rendering it, few enough that the batches in flight stay small.
const flowAheadBatch = 512

// flowAheadBatches is how many batches are in flight: one being rendered, one being written, one
// ready between them.
const flowAheadBatches = 3

// flowBatch is a batch of rendered flows with the arrays their lists are pieces of.
type flowBatch struct {
	flows []Flow
	pp    []PointCount
	hs    []PointRTT
}

// eachFlowAhead is EachFlow for streamed flows on more than one core: a goroutine renders the flows,
// n at a time in rank order, while fn takes those of the batch before, on the calling goroutine and
// in the same order. A batch's arrays are rendered into again only once fn is done with all of its
// flows. It returns once the renderer has stopped; a panic while rendering is raised again here.
func (a *analysis) eachFlowAhead(fn func(*Flow) bool, n int) {
	batches := make([]*flowBatch, flowAheadBatches)
	for i := range batches {
		batches[i] = &flowBatch{flows: make([]Flow, 0, n)}
	}
	var ob *flowOutBuf // the renderer's
	ahead(batches, len(a.byRank), n, func(b *flowBatch, from, to int) {
		if ob == nil {
			ob = newFlowOutBuf(a, false)
			ob.derived = a.deriveAll()
		}
		ob.pp, ob.hs = b.pp[:0], b.hs[:0] // the flows of the batch before in it are written
		b.flows = b.flows[:0]
		for i, fi := range a.byRank[from:to] {
			if i%touchFlowsN == 0 {
				ob.touched += a.touchFlows(from+i, min(from+i+touchFlowsN, to))
			}
			b.flows = append(b.flows, Flow{})
			a.flowAt(&b.flows[len(b.flows)-1], ob, int(fi), a.ids)
		}
		b.pp, b.hs = ob.pp, ob.hs
	}, func(b *flowBatch) bool {
		for i := range b.flows {
			if !fn(&b.flows[i]) {
				return false
			}
		}
		return true
	})
}

// FlowRanges renders a Result's streamed flows by ranges of their order (that of Result.Flows), for a
// writer that formats several ranges at once: each goroutine renders through its own FlowCursor. The
// flows' derived values (latency summaries, pairs, handshake RTTs) are computed once, by the first
// cursor made, and only read by the cursors.
type FlowRanges struct {
	a       *analysis
	once    sync.Once
	derived *flowsDerived
}

// FlowRanges returns the Result's streamed flows by ranges, nil when the Result lists its flows
// (FlowsStreamed is false).
func (r *Result) FlowRanges() *FlowRanges {
	if !r.flowsStreamed {
		return nil
	}
	return &FlowRanges{a: r.analysis}
}

// Len is the number of flows.
func (fr *FlowRanges) Len() int { return len(fr.a.byRank) }

// FlowCursor renders flows of a FlowRanges on one goroutine at a time.
type FlowCursor struct {
	a  *analysis
	ob *flowOutBuf
	f  Flow
}

// Cursor returns a new cursor; cursors of one FlowRanges may be used on different goroutines at once.
func (fr *FlowRanges) Cursor() *FlowCursor {
	fr.once.Do(func() { fr.derived = fr.a.deriveAll() })
	ob := newFlowOutBuf(fr.a, false)
	ob.derived = fr.derived
	return &FlowCursor{a: fr.a, ob: ob}
}

// Each calls fn with the flows at positions [from, to) of the order, in order, and reports whether fn
// took them all (it stops when fn returns false). As with EachFlow, fn must not keep the pointer nor
// the Flow's lists past its call.
func (c *FlowCursor) Each(from, to int, fn func(*Flow) bool) bool {
	for i, fi := range c.a.byRank[from:to] {
		if i%touchFlowsN == 0 {
			c.ob.touched += c.a.touchFlows(from+i, min(from+i+touchFlowsN, to))
		}
		c.ob.pp, c.ob.hs = c.ob.pp[:0], c.ob.hs[:0] // the flow before is done with them
		c.a.flowAt(&c.f, c.ob, int(fi), c.a.ids)
		if !fn(&c.f) {
			return false
		}
	}
	return true
}

// JourneyRanges renders a Result's journeys (as EachJourney does) by ranges of their ids, for a writer
// that formats several ranges at once: each goroutine renders through its own JourneyCursor.
type JourneyRanges struct{ a *analysis }

// JourneyRanges returns the Result's journeys by ranges, nil for a Result without the state
// EachJourney renders them from.
func (r *Result) JourneyRanges() *JourneyRanges {
	if r.analysis == nil {
		return nil
	}
	return &JourneyRanges{r.analysis}
}

// Len is the number of journey ids: Each's ranges are of [0, Len).
func (jr *JourneyRanges) Len() int { return jr.a.nJ }

// JourneyCursor renders journeys of a JourneyRanges on one goroutine at a time.
type JourneyCursor struct {
	a   *analysis
	buf journeyBuf
	jr  Journey
}

// Cursor returns a new cursor; cursors of one JourneyRanges may be used on different goroutines at
// once.
func (jr *JourneyRanges) Cursor() *JourneyCursor { return &JourneyCursor{a: jr.a} }

// Each calls fn with the journeys whose ids are in [from, to) that EachJourney calls its function
// with, in order, and reports whether fn took them all (it stops when fn returns false). As with
// EachJourney, fn must not keep the pointer nor the journey's Hops past its call.
func (c *JourneyCursor) Each(from, to int, fn func(*Journey) bool) bool {
	a := c.a
	for j := from; j < to; j++ {
		if a.jFlow[j] < 0 {
			continue
		}
		c.jr = a.renderJourney(j, &c.buf)
		if cap(c.jr.Hops) > cap(c.buf.hops) {
			c.buf.hops = c.jr.Hops
		}
		if !fn(&c.jr) {
			return false
		}
	}
	return true
}
