package decode

import (
	"math"
	"math/rand"
	"testing"
)

// Stamps give back every time and frame number they were given: times in order, slightly out of
// order, far apart (more than TsLo's window from their block's first), at the int64 extremes, and
// frame numbers that skip records (read errors) or wrap.
func TestStampsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	const n = 5*stampBlock + 17
	ts := make([]int64, n)
	frames := make([]uint32, n)
	now, frame := int64(1_700_000_000_000_000_000), uint32(0)
	for i := range ts {
		switch r := rng.Intn(1000); {
		case r < 900:
			now += rng.Int63n(int64(1e6))
		case r < 990:
			now -= rng.Int63n(int64(2e7)) // slightly out of order
		case r < 995:
			now += rng.Int63n(int64(30e9)) // a gap past the window
		default:
			now -= rng.Int63n(int64(1e12)) // far back
		}
		ts[i] = now
		frame++
		if rng.Intn(50) == 0 {
			frame += uint32(rng.Intn(5)) + 1 // records that gave no Observation
		}
		frames[i] = frame
	}
	ts[3], ts[stampBlock], ts[stampBlock+1] = math.MinInt64, math.MaxInt64, math.MinInt64+1 // hostile times
	frames[n-1] = math.MaxUint32
	obs := make([]Observation, n)
	s := NewStamps(obs, ts, frames)
	for i := range obs {
		if got := s.Ts(i, &obs[i]); got != ts[i] {
			t.Fatalf("Observation %d: time %d, want %d", i, got, ts[i])
		}
		if got := s.Frame(i); got != frames[i] {
			t.Fatalf("Observation %d: frame %d, want %d", i, got, frames[i])
		}
	}
	if len(s.rebase) == 0 || len(s.rebase) > n/20 || len(s.skips) == 0 {
		t.Errorf("%d rebases, %d skips in %d Observations: the cases went untested", len(s.rebase), len(s.skips), n)
	}
}

// A file in time order, frames a few µs apart, keeps nothing but a base per block.
func TestStampsInOrderSmall(t *testing.T) {
	var s Stamps
	for i := range 10 * stampBlock {
		s.add(1_700_000_000_000_000_000+int64(i)*3000, uint32(i+1))
	}
	s.trim()
	if len(s.rebase) != 0 || len(s.skips) != 0 || len(s.base) != 10 || cap(s.base) != 10 {
		t.Errorf("rebases %d, skips %d, bases %d (room %d), want 0, 0, 10 (10)",
			len(s.rebase), len(s.skips), len(s.base), cap(s.base))
	}
	for b, base := range s.base {
		if base&1 != 0 {
			t.Errorf("block %d marked as having a rebase", b)
		}
	}
}

// InOrder says whether the times given ever went back, as a pass over Ts would find: on random
// times (the round trip's mix of in order, slightly back, far apart and far back), on times in order
// with equal neighbours, at the int64 extremes, and with the one step back at the first or last
// Observation.
func TestStampsInOrder(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	check := func(name string, ts []int64) {
		t.Helper()
		obs, frames := make([]Observation, len(ts)), make([]uint32, len(ts))
		for i := range frames {
			frames[i] = uint32(i + 1)
		}
		s := NewStamps(obs, ts, frames)
		want := true
		for i := 1; i < len(obs); i++ {
			if s.Ts(i, &obs[i]) < s.Ts(i-1, &obs[i-1]) {
				want = false
			}
		}
		if got := s.InOrder(); got != want {
			t.Errorf("%s: InOrder %v, want %v", name, got, want)
		}
	}
	for k := range 200 {
		ts := make([]int64, 1+rng.Intn(3*stampBlock))
		now := int64(1_700_000_000_000_000_000)
		back := rng.Intn(4) // 0: never back
		for i := range ts {
			now += rng.Int63n(int64(5e9))
			if back != 0 && rng.Intn(5*len(ts)) == 0 {
				now -= rng.Int63n(int64(1e10)) // back (or not, when less than the step forward)
			}
			ts[i] = now
		}
		check("random "+string(rune('a'+k%26)), ts)
	}
	check("equal neighbours", []int64{5, 5, 5, 6, 6})
	check("first back", []int64{7, 6, 8, 9})
	check("last back", []int64{1, 2, 3, 2})
	check("extremes in order", []int64{math.MinInt64, -1, 0, math.MaxInt64})
	check("extremes back", []int64{math.MaxInt64, math.MinInt64})
	check("one", []int64{42})
	check("none", nil)
	var s Stamps
	if !s.InOrder() {
		t.Error("empty Stamps: not in order")
	}
}

// Frame numbers that skip records right at a block's edges (before its first Observation, after it,
// before its last), in every block of a few, and frame numbers that reach math.MaxUint32 and wrap
// past it, come back from Frame, and the times from Ts: add's usual case (the frame after the last,
// not a block's first: want and stop) takes only what addSlow would make alike.
func TestStampsSkipsAtBlockEdges(t *testing.T) {
	for _, start := range []uint32{0, math.MaxUint32 - 3*stampBlock, math.MaxUint32 - stampBlock - 1} {
		for _, at := range []int{0, 1, stampBlock - 2, stampBlock - 1, stampBlock, stampBlock + 1} {
			const n = 4 * stampBlock
			obs, ts, frames := make([]Observation, n), make([]int64, n), make([]uint32, n)
			frame, now := start, int64(1_700_000_000_000_000_000)
			for i := range n {
				frame++
				if i%stampBlock == at%stampBlock && i >= at {
					frame += uint32(i%3) + 1
				}
				now += 1000
				ts[i], frames[i] = now, frame
			}
			s := NewStamps(obs, ts, frames)
			for i := range obs {
				if got := s.Frame(i); got != frames[i] {
					t.Fatalf("start %d, skips at %d: Observation %d: frame %d, want %d", start, at, i, got, frames[i])
				}
				if got := s.Ts(i, &obs[i]); got != ts[i] {
					t.Fatalf("start %d, skips at %d: Observation %d: time %d, want %d", start, at, i, got, ts[i])
				}
			}
			if len(s.base) != n/stampBlock {
				t.Errorf("start %d, skips at %d: %d bases, want %d", start, at, len(s.base), n/stampBlock)
			}
		}
	}
}
