package correlate

import "testing"

// newJourney keeps every open journey's state when it grows the ring, whatever slot the open range
// starts at and however it wraps.
func TestRingGrowth(t *testing.T) {
	for start := range 8 {
		m := &matcher{ring: make([]jstate, 8), mask: 7}
		for range start { // journeys opened and closed: the open range starts at slot start
			j := m.newJourney(0)
			m.st(j).id1 = j + 1
			m.base++
		}
		for id := int32(0); id < 40; id++ { // grows at 8 (from the wrapped range), 16, 32 open
			j := m.newJourney(int64(id))
			if j != int32(start)+id {
				t.Fatalf("start %d: journey %d, want %d", start, j, int32(start)+id)
			}
			*m.st(j) = jstate{id1: j + 1, lastTs: int64(j)}
			for k := m.base; k <= j; k++ {
				if js := m.st(k); js.id1 != k+1 || js.lastTs != int64(k) {
					t.Fatalf("start %d, after opening %d (ring %d): journey %d's state is %d at %d", start, j, len(m.ring), k, js.id1-1, js.lastTs)
				}
			}
		}
	}
}
