package correlate

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// mergeTimesMatcher loads files and returns a matcher whose every source has a clock of its own
// (offsets and drifts apart), so that a time corrected with another source's clock shows.
func mergeTimesMatcher(files []string) *matcher {
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	w := worldOf(c)
	clocks, _ := w.clocksFor(Options{})
	m := newMatcher(w, clocks, Options{Window: time.Second})
	for s := range m.srcClock {
		m.srcClock[s] = clockModel{offset: int64(s)*1_000_003 + 7, drift: float64(s%3) * 1e-4, t0: int64(s) << 20}
	}
	return m
}

// The merge's times ahead are each Observation's corrected time, with its own source's clock, in a
// file's own order and in a shuffled one, on every lab scenario: files of several sources (-i any)
// among them.
func TestFillAheadCorrected(t *testing.T) {
	multi := 0
	eachLabScenario(t, func(t *testing.T, files []string) {
		m := mergeTimesMatcher(files)
		rng := rand.New(rand.NewPCG(17, 3))
		for f, obs := range m.w.c.Obs {
			perm := rng.Perm(len(obs))
			p := make([]uint32, len(obs))
			for i, k := range perm {
				p[i] = uint32(k)
			}
			for _, order := range [][]uint32{nil, p} {
				mf := &mergeFile{obs: obs, p: order}
				for i := 0; i < len(obs); i += mergeAheadN - 1 { // windows overlapping by one
					m.fillAhead(mf, f, i)
					for k := range mf.n {
						idx := i + k
						if order != nil {
							idx = int(order[idx])
						}
						if want := m.corrected(&obs[idx], f, idx); mf.ts[k] != want {
							t.Fatalf("file %d, position %d: time ahead %d, want %d", f, i+k, mf.ts[k], want)
						}
					}
				}
			}
			for i := 1; i < len(obs); i++ {
				if obs[i].Source != obs[i-1].Source {
					multi++
					break
				}
			}
		}
	})
	if multi == 0 {
		t.Fatal("no file of several sources: the test checks nothing of a source's clock changing")
	}
}

// inOrder tells a file in time order from one with two neighbours swapped, on every lab scenario
// (some files are out of order: -i any captures of several nodes).
func TestInOrderSwapped(t *testing.T) {
	swapped := 0
	eachLabScenario(t, func(t *testing.T, files []string) {
		c := decode.Load(files, decode.Options{}, decode.PointConfig{})
		w := worldOf(c)
		clocks, _ := w.clocksFor(Options{})
		m := newMatcher(w, clocks, Options{Window: time.Second})
		for f, obs := range m.w.c.Obs {
			if !m.inOrder(f) {
				continue
			}
			// Swap the last two Observations of its last block whose times the swap reverses: within a
			// block each takes its time along, but for a rebase between them.
			st := &m.w.c.Stamps[f]
			for i := len(obs) - 1; i > 0 && i&255 != 0; i-- {
				obs[i], obs[i-1] = obs[i-1], obs[i]
				if st.Ts(i-1, &obs[i-1]) > st.Ts(i, &obs[i]) {
					if m.inOrder(f) {
						t.Fatalf("file %d: Observations %d and %d swapped, still in order", f, i-1, i)
					}
					swapped++
				}
				obs[i], obs[i-1] = obs[i-1], obs[i]
				if st.Ts(i-1, &obs[i-1]) < st.Ts(i, &obs[i]) {
					break
				}
			}
		}
	})
	if swapped == 0 {
		t.Fatal("no file in order to swap two Observations of")
	}
}
