package correlate

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
	free := make(chan *flowBatch, flowAheadBatches)
	ready := make(chan *flowBatch, flowAheadBatches)
	quit := make(chan struct{})
	failed := make(chan any, 1)
	for range flowAheadBatches {
		free <- &flowBatch{flows: make([]Flow, 0, n)}
	}
	go a.renderFlows(n, free, ready, quit, failed)
	defer func() {
		close(quit)
		for range ready { // until the renderer has stopped
		}
		select {
		case p := <-failed:
			panic(p)
		default:
		}
	}()
	for b := range ready {
		for i := range b.flows {
			if !fn(&b.flows[i]) {
				return
			}
		}
		free <- b
	}
}

// renderFlows renders the flows in rank order into the free batches, n to a batch, and hands each
// over on ready; it stops once quit is closed, and closes ready when it stops. A panic is sent on
// failed.
func (a *analysis) renderFlows(n int, free, ready chan *flowBatch, quit chan struct{}, failed chan any) {
	defer close(ready)
	defer func() {
		if p := recover(); p != nil {
			failed <- p
		}
	}()
	ob := newFlowOutBuf(a, false)
	ob.derived = a.deriveAll()
	for from := 0; from < len(a.byRank); from += n {
		var b *flowBatch
		select {
		case b = <-free:
		case <-quit:
			return
		}
		ob.pp, ob.hs = b.pp[:0], b.hs[:0] // the flows of the batch before in it are written
		b.flows = b.flows[:0]
		for _, fi := range a.byRank[from:min(from+n, len(a.byRank))] {
			b.flows = append(b.flows, a.flowAt(ob, int(fi), a.ids))
		}
		b.pp, b.hs = ob.pp, ob.hs
		select {
		case ready <- b:
		case <-quit:
			return
		}
	}
}
