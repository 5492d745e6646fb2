package correlate

// coverage is the stage after matching that says when each capture ran, in corrected time. pcap files
// record no start or stop time, so a capture's span is known only from its frames. The captures of one
// node are taken to run together (they are started by one script or one person): a point covers its
// node's span. A capture without a single frame ran while the others did.
type coverage struct {
	first, last       []int64 // per point: the span its capture is taken to cover (its node's)
	ownFirst, ownLast []int64 // per point: its own first and last frame
	// nodeEmpty marks nodes whose captures hold no frame at all: taken to have run while the others did
	nodeEmpty []bool
}

// newCoverage works out the coverage of w's points with the clocks' corrections.
func newCoverage(w *world, clocks []clockModel) coverage {
	np := len(w.c.Points)
	c := coverage{first: make([]int64, np), last: make([]int64, np), ownFirst: make([]int64, np),
		ownLast: make([]int64, np), nodeEmpty: make([]bool, len(w.nodes))}
	lo, hi := int64(1<<62), int64(-1<<62)
	for i, p := range w.c.Points {
		if p.Traffic.Frames == 0 {
			continue
		}
		cm := &clocks[w.pointNode[i]]
		c.ownFirst[i], c.ownLast[i] = cm.correct(p.Traffic.First), cm.correct(p.Traffic.Last)
		lo, hi = min(lo, c.ownFirst[i]), max(hi, c.ownLast[i])
	}
	nodeLo := make([]int64, len(w.nodes))
	nodeHi := make([]int64, len(w.nodes))
	for n := range nodeLo {
		nodeLo[n], nodeHi[n] = int64(1<<62), int64(-1<<62)
	}
	for i, p := range w.c.Points {
		if p.Traffic.Frames > 0 {
			n := w.pointNode[i]
			nodeLo[n], nodeHi[n] = min(nodeLo[n], c.ownFirst[i]), max(nodeHi[n], c.ownLast[i])
		}
	}
	for n := range nodeLo {
		c.nodeEmpty[n] = nodeHi[n] < nodeLo[n]
	}
	for i, p := range w.c.Points {
		n := w.pointNode[i]
		switch {
		case p.Traffic.Frames > 0:
			c.first[i], c.last[i] = nodeLo[n], nodeHi[n]
		case nodeHi[n] >= nodeLo[n]:
			c.first[i], c.last[i] = nodeLo[n], nodeHi[n]+coverageGrace
		case hi >= lo:
			c.first[i], c.last[i] = lo, hi+coverageGrace
		}
	}
	return c
}

// covered reports whether point p's capture covers corrected time t.
func (c *coverage) covered(p int, t int64) bool {
	return t >= c.first[p] && t+coverageGrace <= c.last[p]
}
