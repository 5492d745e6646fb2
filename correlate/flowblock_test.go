package correlate

import "testing"

// TestFlowBlocksFitTheFlows checks that the flow stage's blocks of accumulators and votes, taken as
// flows start (refill), leave little room no flow takes: every collection while the flows live scans
// each block whole, that room as well. Flows start at a steady rate over the journeys, as in the
// many-flow set (20,000 flows in 170,000 journeys, where the last block was one of flowBlock for the
// last 3,632 flows).
func TestFlowBlocksFitTheFlows(t *testing.T) {
	for _, c := range []struct{ nJ, every int }{{170_000, 8}, {170_000, 3}, {40_000, 1}, {1_000, 5}, {500_000, 2}} {
		s := &flowStage{nJ: c.nJ}
		for j := 0; j < c.nJ; j++ {
			if j%c.every != 0 {
				continue
			}
			s.atJ = j
			if len(s.slab) == 0 || len(s.vslab) == 0 { // as newFlow takes a flow's room
				s.refill()
			}
			s.slab, s.vslab = s.slab[1:], s.vslab[1:]
			s.flows = append(s.flows, nil)
		}
		n := len(s.flows)
		if left := len(s.slab) + len(s.slabRest); left > 64+n/8 {
			t.Errorf("%d journeys, a flow every %d: %d flows left room for %d more, want at most %d", c.nJ, c.every, n, left, 64+n/8)
		}
		if len(s.vslab)+len(s.vslabRest) != len(s.slab)+len(s.slabRest) {
			t.Errorf("%d journeys, a flow every %d: room for %d accumulators and %d votes, want as many", c.nJ, c.every,
				len(s.slab)+len(s.slabRest), len(s.vslab)+len(s.vslabRest))
		}
	}
}

// flowBlockSize never makes a block larger than flowBlock or than the flows found so far (and 16),
// nor, once some journeys are done, one smaller than 64.
func TestFlowBlockSizeBounds(t *testing.T) {
	for _, c := range [][3]int{{0, 0, 0}, {0, 0, 100}, {16368, 138245, 170000}, {0, 100, 170000}, {1 << 20, 1, 1 << 30}, {100, 99, 100}, {5, 200, 100}} {
		found, j, nJ := c[0], c[1], c[2]
		n := flowBlockSize(found, j, nJ)
		if n > flowBlock || n > 16+found || n < min(64, 16+found) {
			t.Errorf("flowBlockSize(%d, %d, %d) = %d", found, j, nJ, n)
		}
	}
}
