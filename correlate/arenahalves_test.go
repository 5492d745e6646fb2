package correlate

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/internal/testtool"
)

// arenaMatcher loads files and returns their world and a function that matches them afresh (the
// arena stage consumes its matcher's output) with the journeys' count.
func arenaMatcher(t *testing.T, files []string) (*world, func() (*matcher, int)) {
	t.Helper()
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	opts := Options{Window: time.Second}
	w := worldOf(c)
	clocks, _ := w.clocksFor(opts)
	keep := c.Loose
	return w, func() (*matcher, int) {
		c.Loose = make([]decode.Fingerprints, len(keep))
		for f := range keep {
			c.Loose[f] = keep[f].Clone()
		}
		w.c.Loose = c.Loose
		m := matchAll(w, clocks, opts)
		return m, int(m.next)
	}
}

// sameArena fails t unless got's slots [lo, hi) are want's: the same hops, points and times.
func sameArena(t *testing.T, what string, want, got *arenaOut, lo, hi uint32) {
	t.Helper()
	if !slices.Equal(want.jStart, got.jStart) || !slices.Equal(want.arena[lo:hi], got.arena[lo:hi]) ||
		!slices.Equal(want.hopPt[lo:hi], got.hopPt[lo:hi]) || !slices.Equal(want.hopTs.dt[lo:hi], got.hopTs.dt[lo:hi]) {
		t.Fatalf("%s: the arena's slots %d..%d differ from those laid out by one goroutine", what, lo, hi)
	}
}

// arenaFor lays out the arena of m's journeys as buildArenaSplit does, its slots not filled yet.
func arenaFor(m *matcher, nJ int) *arenaOut {
	ar := &arenaOut{t0: m.jT0, jStart: slices.Clone(m.jHops[:nJ+1])}
	most := uint32(0)
	for j := 0; j < nJ; j++ {
		most = max(most, ar.jStart[j+1])
		ar.jStart[j+1] += ar.jStart[j]
	}
	ar.setRanked(m, nJ, most)
	ar.takeOrder(m)
	ar.arena = make([]uint32, ar.jStart[nJ])
	ar.hopPt = make([]uint16, ar.jStart[nJ])
	ar.hopTs = newHopTimes(nil, int(ar.jStart[nJ]), &ar.t0)
	return ar
}

// manyFlowsCaps generates a small many-flow capture set with loss and duplicates, IP-in-IP.
func manyFlowsCaps(t *testing.T) []string {
	t.Helper()
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 600, 4000
	cfg.LossPerHop, cfg.DupRate, cfg.DNAT = 0.02, 0.02, 0.2
	cfg.Mode, cfg.Dir = gen.ModeIPIP, t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g.Files
}

// The arena is the same on 1, 2 and 4 cores (buildArena splits it on more than one), on generated
// captures and on a lab scenario.
func TestArenaGOMAXPROCS(t *testing.T) {
	files := map[string][]string{"many-flows": manyFlowsCaps(t)}
	lab, _ := filepath.Glob("../testdata/lab/scenarios/healthy-ipip/*.pcap")
	if len(lab) > 0 {
		files["healthy-ipip"] = lab
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for name, fs := range files {
		w, match := arenaMatcher(t, fs)
		m, nJ := match()
		ref := buildArenaSplit(w, m, nJ, false, false)
		for _, p := range []int{1, 2, 4} {
			runtime.GOMAXPROCS(p)
			m, _ := match()
			ar := buildArena(w, m, nJ, false)
			sameArena(t, fmt.Sprintf("%s on %d cores", name, p), ref, ar, 0, ref.jStart[nJ])
			if !maps.Equal(ref.hopTs.big, ar.hopTs.big) {
				t.Fatalf("%s on %d cores: the side map of times differs", name, p)
			}
		}
	}
}

// A file whose frames are not in time order (two captures appended, the later one first) is read
// whole by either half all the same: the halves stop by the count of their hops, not by time.
func TestArenaSplitAppended(t *testing.T) {
	files := manyFlowsCaps(t)
	for _, f := range files[:2] {
		fr := testtool.ReadPcap(t, f)
		h := len(fr.Ts) / 2
		late := testtool.Frames{Ts: fr.Ts[h:], Data: fr.Data[h:]}
		early := testtool.Frames{Ts: fr.Ts[:h], Data: fr.Data[:h]}
		testtool.WritePcap(t, f, testtool.Appended(late, early))
	}
	if n := checkArenaSplit(t, files); n < 1000 {
		t.Fatalf("%d journeys: too few to tell", n)
	}
}

// Any range of journeys is filled and sorted as the whole arena is (fillSort, which the halves of
// buildArenaSplit run): single journeys (the first of the frames and the last), pairs, and ranges at
// random.
func TestArenaFillRanges(t *testing.T) {
	w, match := arenaMatcher(t, manyFlowsCaps(t))
	m, nJ := match()
	ref := buildArenaSplit(w, m, nJ, false, false)
	m, _ = match()
	rng := rand.New(rand.NewPCG(5, 9))
	ranges := [][2]int{{0, 1}, {nJ - 1, nJ}, {0, 2}, {nJ - 2, nJ}, {1, nJ - 1}, {0, nJ}}
	for range 20 {
		from := rng.IntN(nJ)
		ranges = append(ranges, [2]int{from, from + 1}, [2]int{from, from + 1 + rng.IntN(nJ-from)})
	}
	for _, r := range ranges {
		ar := arenaFor(m, nJ)
		ar.fillSort(w, m, r[0], r[1])
		sameArena(t, fmt.Sprintf("journeys %d..%d", r[0], r[1]), ref, ar, ref.jStart[r[0]], ref.jStart[r[1]])
	}
}
