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

// evictAt follows the oldest open journey: its last sighting plus the window, taken again by evict
// (which then closes nothing when that journey was seen since), never with none open, and never
// when the sum passes the largest time.
func TestEvictAt(t *testing.T) {
	m := &matcher{ring: make([]jstate, 8), mask: 7, window: 100, evictAt: never,
		closed: make([]closedJ, closedSlots), closedExact: make([]uint64, closedSlots)}
	open := func(ts int64) {
		j := m.newJourney(ts)
		*m.st(j) = jstate{lastTs: ts, id1: j + 1}
	}
	check := func(what string, base int32, at int64) {
		t.Helper()
		if m.base != base || m.evictAt != at {
			t.Fatalf("%s: base %d, evictAt %d; want %d, %d", what, m.base, m.evictAt, base, at)
		}
	}
	open(0)
	open(120)
	check("two open", 0, 100)
	m.st(0).lastTs = 80 // the oldest seen again
	m.evict(101)
	check("the oldest seen since", 0, 180)
	m.evict(181)
	check("the oldest idle", 1, 220)
	m.evict(1000)
	check("all idle", 2, never)
	open(2000)
	check("one open again", 2, 2100)
	m.window = never - 10
	if got := m.idleAfter(11); got != never {
		t.Fatalf("idleAfter(11) with a window of never-10 = %d, want never", got)
	}
}
