package correlate

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// checkHopCounts matches files and checks each journey's hops and duplicate copies, as counted while
// matching (jstate.hops, hopsOf) and from the duplicate bits, against a count of every Observation's
// journey in jOf (a hop, or a duplicate copy when its bit is set). It returns how many journeys have
// duplicate copies.
func checkHopCounts(t *testing.T, files []string, window time.Duration) int {
	t.Helper()
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	w := worldOf(c)
	opts := Options{Window: window}
	clocks, _ := w.clocksFor(opts)
	m, err := matchJourneys(context.Background(), c, w, clocks, opts)
	if err != nil {
		t.Fatal(err)
	}
	hops, dups := make([]uint32, m.next+1), map[int32]int{}
	for f, obs := range w.c.Obs {
		for i := range obs {
			g := w.fileBase[f] + uint32(i)
			switch v := m.jOf[g]; {
			case v == 0:
			case m.isDup(g):
				dups[v-1]++
			default:
				hops[v]++
			}
		}
	}
	if !reflect.DeepEqual(m.jHops, hops) || !reflect.DeepEqual(m.jDups, dups) {
		for j := range hops {
			if j >= len(m.jHops) || m.jHops[j] != hops[j] {
				t.Fatalf("%d journeys: journey %d's hops counted while matching differ from its Observations' (%d of %d counted; duplicates %v, want %v)",
					m.next, j-1, len(m.jHops), len(hops), len(m.jDups), len(dups))
			}
		}
		t.Fatalf("duplicate copies by journey %v, want %v", m.jDups, dups)
	}
	return len(dups)
}

// The hops counted as the matcher attaches each sighting, and the duplicate copies counted from the
// duplicate bits, are those of the journeys it wrote to jOf: on every lab scenario (duplicated
// captures, identical packets matched by position), and on a generated set with duplicates,
// resends and NAT whose window closes journeys as it goes.
func TestHopCounts(t *testing.T) {
	eachLabScenario(t, func(t *testing.T, files []string) {
		checkHopCounts(t, files, time.Second)
	})
	cfg := manyFlowsConfig()
	cfg.Seed, cfg.Mode, cfg.DupRate, cfg.RetransRate, cfg.DNAT = 9, gen.ModeVXLAN, 0.05, 0.01, 0.2
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n := checkHopCounts(t, g.Files, 10*time.Millisecond); n == 0 {
		t.Fatal("no duplicate copies: too few to tell")
	}
}
