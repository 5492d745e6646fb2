package correlate

import (
	"sync"
	"testing"
)

// Hop times are kept as 4-byte offsets from the journey's first sighting; one more than 4.29 s later
// (or, defensively, earlier) goes to the side map, and swaps and comparisons carry it along.
func TestHopTimes(t *testing.T) {
	const s = int64(1e9)
	var t0 times
	t0.append(100 * s)
	t0.append(200 * s)
	h := newHopTimes(nil, 6, &t0)
	times := []int64{100*s + 5, 100*s + 9*s, 100 * s, 200*s + 1, 200*s - 3, 200*s + 5*s}
	jour := []int32{0, 0, 0, 1, 1, 1}
	for k, tm := range times {
		h.set(k, jour[k], tm)
	}
	if len(h.big) != 3 {
		t.Errorf("%d times in the side map, want 3 (9 s and 5 s after, 3 ns before)", len(h.big))
	}
	for k, tm := range times {
		if got := h.at(jour[k], k); got != tm {
			t.Errorf("slot %d: %d, want %d", k, got, tm)
		}
		if got := h.atFrom(t0.at(int(jour[k])), k); got != tm {
			t.Errorf("slot %d from its journey's first sighting: %d, want %d", k, got, tm)
		}
	}
	arena := []uint32{1, 2, 3, 4, 5, 6}
	if !h.before(0, 0, 1, arena) || h.before(0, 1, 0, arena) || !h.before(0, 2, 0, arena) {
		t.Error("before: wrong order within journey 0")
	}
	if !h.before(1, 4, 3, arena) || !h.before(1, 3, 5, arena) {
		t.Error("before: wrong order within journey 1")
	}
	// Journeys are sorted in two halves at once: swaps of different journeys run concurrently.
	var wg sync.WaitGroup
	for _, pair := range [][2]int{{0, 1}, {3, 5}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.swap(pair[0], pair[1])
		}()
	}
	wg.Wait()
	times[0], times[1] = times[1], times[0]
	times[3], times[5] = times[5], times[3]
	for k, tm := range times {
		if got := h.at(jour[k], k); got != tm {
			t.Errorf("after swaps, slot %d: %d, want %d", k, got, tm)
		}
	}
	h.swap(1, 2) // two plain offsets
	times[1], times[2] = times[2], times[1]
	for k, tm := range times {
		if got := h.at(jour[k], k); got != tm {
			t.Errorf("after the last swap, slot %d: %d, want %d", k, got, tm)
		}
	}
}

// times keep every value in order across blocks.
func TestTimes(t *testing.T) {
	var ts times
	n := 2*timesBlock + 3
	for i := 0; i < n; i++ {
		ts.append(int64(i) * 3)
	}
	for i := 0; i < n; i++ {
		if ts.at(i) != int64(i)*3 {
			t.Fatalf("at(%d) = %d", i, ts.at(i))
		}
	}
	if len(ts.blocks) != 3 {
		t.Errorf("%d blocks for %d times", len(ts.blocks), n)
	}
}

// flat copies a range of times out of their blocks in order, across block boundaries (the arena's
// fill reads its journeys' first sightings from it).
func TestTimesFlat(t *testing.T) {
	var ts times
	n := 2*timesBlock + 3
	for i := 0; i < n; i++ {
		ts.append(int64(i)*3 + 1)
	}
	for _, r := range [][2]int{{0, n}, {0, 0}, {5, 9}, {timesBlock - 2, timesBlock + 2}, {1, 2*timesBlock + 1}, {2 * timesBlock, n}} {
		got := ts.flat(nil, r[0], r[1])
		if len(got) != r[1]-r[0] {
			t.Fatalf("flat(%d, %d): %d times", r[0], r[1], len(got))
		}
		for k, v := range got {
			if want := ts.at(r[0] + k); v != want {
				t.Fatalf("flat(%d, %d)[%d] = %d, want %d", r[0], r[1], k, v, want)
			}
		}
	}
}

// bigNone holds while no time is in the side map, which is when no slot's dt is dtBig (placeClean's
// keyed journeys rely on it: pathCount.key).
func TestHopTimesBigNone(t *testing.T) {
	const s = int64(1e9)
	var t0 times
	t0.append(100 * s)
	h := newHopTimes(nil, 4, &t0)
	for k, tm := range []int64{100 * s, 100*s + 7, 100*s + 4*s} {
		h.set(k, 0, tm)
	}
	if !h.bigNone() {
		t.Fatal("bigNone false with every time an offset")
	}
	for k, d := range h.dt {
		if d == dtBig {
			t.Fatalf("slot %d is dtBig with nothing in the side map", k)
		}
	}
	h.set(3, 0, 100*s+5*s)
	if h.bigNone() || h.dt[3] != dtBig {
		t.Fatalf("a time 5 s after its journey's first: bigNone %v, dt %d", h.bigNone(), h.dt[3])
	}
}
