package correlate

import (
	"fmt"
	"maps"
	"math"
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
	for j := 0; j < nJ; j++ {
		ar.jStart[j+1] += ar.jStart[j]
	}
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

// Each half of the journeys reads only its own part of the frames: the first half stops a slice of
// time after its journeys' last hop, the second (read backwards) a slice before its journeys' first
// one. The duplicates past those are made to look like hops (their journey ids rewritten, their
// duplicate marks cleared) of a journey of the half that does not read them, and of the other's
// half: a half that read them would take them as its hops, and its slots would differ.
func TestArenaHalvesReadTheirPart(t *testing.T) {
	w, match := arenaMatcher(t, manyFlowsCaps(t))
	m, nJ := match()
	ref := buildArenaSplit(w, m, nJ, false, false)
	mid := ref.midJourney(nJ)
	if mid < 100 || nJ-mid < 100 {
		t.Fatalf("halves of %d and %d journeys: too few to tell", mid, nJ-mid)
	}
	firstB, lastA := int64(math.MaxInt64), int64(math.MinInt64)
	for j := range nJ {
		for k := ref.jStart[j]; k < ref.jStart[j+1]; k++ {
			if ts := ref.hopTs.at(int32(j), int(k)); j < mid {
				lastA = max(lastA, ts)
			} else {
				firstB = min(firstB, ts)
			}
		}
	}
	m, _ = match()
	late, early := 0, 0
	for f, obs := range w.c.Obs {
		for i := range obs {
			g := w.fileBase[f] + uint32(i)
			if !m.isDup(g) {
				continue
			}
			switch ts := m.corrected(&obs[i], f, i); {
			case ts >= lastA+fillSlice: // the first half's first journey
				m.jOf[g], late = 1, late+1
			case ts <= firstB-fillSlice: // the second half's last journey
				m.jOf[g], early = int32(nJ), early+1
			default:
				continue
			}
			m.dup[g/64] &^= 1 << (g % 64)
		}
	}
	if late < 20 || early < 20 {
		t.Fatalf("%d duplicates past the first half's hops and %d before the second's: too few to tell", late, early)
	}
	ar := buildArenaSplit(w, m, nJ, false, true)
	sameArena(t, "first half, later duplicates naming its first journey", ref, ar, 0, ref.jStart[mid])
	sameArena(t, "second half, earlier duplicates naming its last journey", ref, ar, ref.jStart[mid], ref.jStart[nJ])
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

// Any range of journeys is filled and sorted alike forwards and backwards (fillSortPart),
// each stopping once the range's hops are in: single journeys (the first of the frames and the last),
// pairs, and ranges at random.
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
		for _, back := range []bool{false, true} {
			ar := arenaFor(m, nJ)
			ar.fillSortPart(w, m, r[0], r[1], back)
			sameArena(t, fmt.Sprintf("journeys %d..%d (back %v)", r[0], r[1], back), ref, ar, ref.jStart[r[0]], ref.jStart[r[1]])
		}
	}
}
