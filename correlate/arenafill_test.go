package correlate

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// plainFill fills the arena of m's nJ journeys as plainly as it can be: file after file, each hop's
// corrected time taken on its own (matcher.corrected), then put in path order (sortHops), every
// journey looked at (not only those the matcher listed: orderKnown).
func plainFill(w *world, m *matcher, nJ int) *arenaOut {
	ar := arenaFor(m, nJ)
	ar.orderKnown = false
	next := slices.Clone(ar.jStart[:nJ])
	for f, obs := range w.c.Obs {
		for i := range obs {
			g := w.fileBase[f] + uint32(i)
			j := m.journeyOf(g)
			if j < 0 || m.isDup(g) {
				continue
			}
			k := next[j]
			next[j]++
			ar.arena[k], ar.hopPt[k] = g, uint16(w.srcPoint[obs[i].Source])
			ar.hopTs.set(int(k), j, m.corrected(&obs[i], f, i))
		}
	}
	ar.sortHops(w, 0, nJ)
	return ar
}

// The arena's fill, which takes the times of a run of frames at once where it can (fillRun, kept in
// fillTimes from one slice of time to the next; or, ranked, for a run of a file of one source with
// no clock step or drift in it, from each Observation as it fills: fillDirect), lays out the arena
// the plain fill does: on every lab
// scenario and on generated many-flow captures, as matched, and again with clocks of their own per
// source that drift or step in the middle of a file (runs declined at the step, and after it taken
// with the step) and with a third of the journeys' first sightings moved 5 s away (their hops'
// times then kept in hopTimes's side map), and with files of several sources (-i any: every run
// declined); ranked (each hop in the slot of its rank), and so too with the entries of next that mark
// a journey unranked (nextSlots), as a fill with a journey of more than maxRanked hops takes them.
func TestArenaFillPlain(t *testing.T) {
	took, declined := 0, 0
	direct, other := 0, 0 // the runs a ranked fill reads directly from the Observations (fillDirect), the others
	stretched := 0
	check := func(t *testing.T, files []string, skew bool) {
		c := decode.Load(files, decode.Options{}, decode.PointConfig{})
		w := worldOf(c)
		clocks, _ := w.clocksFor(Options{})
		m := newMatcher(w, clocks, Options{Window: time.Second})
		if skew {
			for s := range m.srcClock {
				cl := &m.srcClock[s]
				switch s % 4 {
				case 1: // a step from the 40th frame, another back from the 100th
					cl.stepIdx, cl.stepSize, cl.idxSteps = 40, 5000, []stepOff{{idx: 100, size: -300}}
				case 2:
					cl.drift, cl.t0 = 1e-5, int64(s)<<20
				}
			}
		}
		m.run()
		m.collectJourneys()
		nJ := int(m.next)
		if skew { // some journeys' hops 5 s after their first sighting, or before it: times in the side map
			for j := 0; j < nJ; j += 3 {
				m.jT0.set(j, m.jT0.at(j)+int64(j%2*2-1)*5e9)
			}
		}
		want := plainFill(w, m, nJ)
		got := arenaFor(m, nJ)
		got.fillSort(w, m, 0, nJ)
		sameArena(t, "run-wise fill", want, got, 0, want.jStart[nJ])
		if !got.ranked {
			t.Fatal("the fill is not ranked")
		}
		flagged := arenaFor(m, nJ) // each journey's entry in next marked unranked or not (nextSlots)
		flagged.ranked = false
		flagged.fillSort(w, m, 0, nJ)
		sameArena(t, "run-wise fill, ranked journey by journey", want, flagged, 0, want.jStart[nJ])
		if !maps.Equal(want.hopTs.big, got.hopTs.big) {
			t.Fatal("the side map of times differs from the plain fill's")
		}
		stretched += len(got.hopTs.big)
		one := oneSourceFiles(w.c.Sources, len(w.c.Obs))
		for f, obs := range w.c.Obs { // the runs fillSlice takes, as it takes them
			var ts [mergeAheadN]int64
			for i := 0; i < len(obs); i += mergeAheadN {
				var run fillTimes
				if n := min(mergeAheadN, len(obs)-i); one[f] && run.directAt(&w.c.Stamps[f], m.srcClock, obs[i].Source, i, n) {
					direct++
				} else {
					other++
				}
				if fillRun(&ts, obs[i:min(i+mergeAheadN, len(obs))], &w.c.Stamps[f], i, m.srcClock) {
					took++
				} else {
					declined++
				}
			}
		}
	}
	eachLabScenario(t, func(t *testing.T, files []string) {
		check(t, files, false)
		check(t, files, true)
	})
	mf := manyFlowsCaps(t)
	check(t, mf, false)
	check(t, mf, true)
	if took == 0 || declined == 0 {
		t.Fatalf("%d runs taken at once and %d declined: want some of each", took, declined)
	}
	if direct == 0 || other == 0 {
		t.Fatalf("%d runs filled directly and %d not: want some of each", direct, other)
	}
	if stretched == 0 {
		t.Fatal("no time went to the side map")
	}
}

// dupWindow gives, bit by bit, the duplicate bits isDup reads: from every start, across word
// boundaries, and 0 past the last observation.
func TestDupWindow(t *testing.T) {
	for _, words := range []int{1, 2, 3} {
		m := &matcher{dup: make([]uint64, words)}
		for i := range m.dup {
			m.dup[i] = 0x9e3779b97f4a7c15 * uint64(i+1)
		}
		n := uint32(64 * words)
		for g0 := uint32(0); g0 < n+70; g0++ {
			got := dupWindow(m.dup, g0)
			for k := uint32(0); k < 64; k++ {
				want := g0+k < n && m.isDup(g0+k)
				if got>>k&1 != 0 != want {
					t.Fatalf("%d words, from %d: bit %d is %v, isDup %v", words, g0, k, got>>k&1 != 0, want)
				}
			}
		}
	}
}

// oneSourceFiles tells the files of one source (every Observation's source the same: fillDirect reads
// no source) from those of several, of none, and from every file once the sources overflowed into the
// last, shared one (InternSource).
func TestOneSourceFiles(t *testing.T) {
	srcs := []decode.Source{{File: 0}, {File: 1, Iface: 0}, {File: 1, Iface: 1}, {File: 3}}
	if got, want := oneSourceFiles(srcs, 4), []bool{true, false, false, true}; !slices.Equal(got, want) {
		t.Fatalf("one source: %v, want %v", got, want)
	}
	srcs = append(srcs, decode.Source{File: 3, Iface: 0xffff, IfIndex: decode.IfOverflow})
	if got, want := oneSourceFiles(srcs, 4), []bool{false, false, false, false}; !slices.Equal(got, want) {
		t.Fatalf("one source with an overflow source: %v, want %v", got, want)
	}
}
