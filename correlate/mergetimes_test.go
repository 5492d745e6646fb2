package correlate

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
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
// among them, and files of one source, whose runs take addTimesOne where their clock does not drift.
func TestFillAheadCorrected(t *testing.T) {
	multi := 0
	eachLabScenario(t, func(t *testing.T, files []string) {
		m := mergeTimesMatcher(files)
		rng, one := rand.New(rand.NewPCG(17, 3)), oneSourceFiles(m.w.c.Sources, len(m.w.c.Obs))
		for f, obs := range m.w.c.Obs {
			perm := rng.Perm(len(obs))
			p := make([]uint32, len(obs))
			for i, k := range perm {
				p[i] = uint32(k)
			}
			for _, order := range [][]uint32{nil, p} {
				// (one as mergeFiles sets it)
				mf := &mergeFile{obs: obs, p: order, fp: &m.fp[f], base: m.w.fileBase[f], one: one[f]}
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
			// Swap the last two Observations whose times differ, each with its time and frame number, and
			// stamp the file again: a file read with those two frames out of order.
			orig := m.w.c.Stamps[f]
			ts, frames := make([]int64, len(obs)), make([]uint32, len(obs))
			for i := range obs {
				ts[i], frames[i] = orig.Ts(i, &obs[i]), orig.Frame(i)
			}
			for i := len(obs) - 1; i > 0; i-- {
				if ts[i-1] == ts[i] {
					continue
				}
				obs[i], obs[i-1], ts[i], ts[i-1] = obs[i-1], obs[i], ts[i-1], ts[i]
				m.w.c.Stamps[f] = decode.NewStamps(obs, ts, frames)
				if m.inOrder(f) {
					t.Fatalf("file %d: Observations %d and %d swapped, still in order", f, i-1, i)
				}
				swapped++
				obs[i], obs[i-1], ts[i], ts[i-1] = obs[i-1], obs[i], ts[i-1], ts[i]
				m.w.c.Stamps[f] = decode.NewStamps(obs, ts, frames)
				if !m.inOrder(f) {
					t.Fatalf("file %d: Observations %d and %d swapped back, not in order", f, i-1, i)
				}
				break
			}
		}
	})
	if swapped == 0 {
		t.Fatal("no file in order to swap two Observations of")
	}
}

// scanPlain, when it answers, finds what scan finds: the same nearest journey and nothing else, for
// every sighting of the lab scenarios and of generated captures with NAT, duplicates, byte-identical
// packets and a clock off, with the default window and a short one; and it leaves sightings of both
// kinds to scan.
func TestScanPlainAsScan(t *testing.T) {
	plain, other := 0, 0
	check := func(t *testing.T, files []string) {
		c := decode.Load(files, decode.Options{}, decode.PointConfig{})
		for _, window := range []time.Duration{time.Second, 2 * time.Millisecond} {
			w := worldOf(c)
			clocks, _ := w.clocksFor(Options{})
			m := newMatcher(w, clocks, Options{Window: window})
			batches, free := m.start()
			for b := range batches {
				for i := range b {
					p, o := scanPlainAsScan(t, m, &b[i])
					plain, other = plain+p, other+o
					m.step(&b[i])
				}
				free <- b[:0]
			}
		}
	}
	eachLabScenario(t, check)
	cfg := gen.DefaultConfig()
	cfg.Flows, cfg.Packets, cfg.Dir = 40, 3000, t.TempDir()
	cfg.LossPerHop, cfg.DupRate, cfg.DNAT, cfg.RetransRate = 0.02, 0.03, 0.3, 0.02
	cfg.Identical, cfg.IPID0DF = 2, 0.2
	cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	check(t, g.Files)
	if plain == 0 || other == 0 {
		t.Fatalf("%d sightings answered by scanPlain, %d left to scan: want some of each", plain, other)
	}
}

// scanPlainAsScan checks sighting s as step is about to match it (the window's idle journeys closed
// first, as step does): when scanPlain answers, scan must find the same. It returns 1, 0 when
// scanPlain answered and 0, 1 when it left s to scan (0, 0: step does not scan s).
func scanPlainAsScan(t *testing.T, m *matcher, s *sighting) (int, int) {
	t.Helper()
	m.evict(s.t)
	if s.kind&sMatchable == 0 || m.amb[s.e] != nil {
		return 0, 0
	}
	best := m.scanPlain(s, s.e, s.stage)
	if best == notPlain {
		return 0, 1
	}
	c, ok := m.scan(s, s.e, s.stage, s.node)
	if want := (candidates{best: best, dupJ: -1, nat: -1, late: -1, natLate: -1, refused: -1}); !ok || c != want {
		t.Fatalf("sighting %d: scanPlain found %+v, scan %+v (%v)", s.g, want, c, ok)
	}
	return 1, 0
}
