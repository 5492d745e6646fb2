package correlate

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// TestHopCountsKept: the hop counts kept as journeys close (keepHops, in blocks of hopBlock) come out
// of flat as one array in id order, whatever the runs they were kept in (across the blocks' edges),
// counts of 256 hops or more whole (a hop's rank in its slot is the count mod 256, the count is not).
func TestHopCountsKept(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const nJ = 3*hopBlock + 5
	m := &matcher{ring: make([]jstate, 1<<12)}
	m.mask = int32(len(m.ring) - 1)
	want := make([]uint32, nJ+1)
	for j := int32(0); j < nJ; {
		n := min(int32(1+r.IntN(len(m.ring))), nJ-j)
		for k := j; k < j+n; k++ {
			h := uint32(r.IntN(4))
			if k%97 == 0 {
				h = uint32(256 + r.IntN(70000))
			}
			m.st(k).hops, want[k+1] = h, h
		}
		m.keepHops(j, j+n)
		j += n
	}
	got := m.hopsOf.flat(nJ + 1)
	for j := range want {
		if got[j] != want[j] {
			t.Fatalf("journey %d: %d hops kept, want %d", j-1, got[j], want[j])
		}
	}
	if got := (&hopCounts{}).flat(3); len(got) != 3 || got[0]|got[1]|got[2] != 0 {
		t.Fatalf("no journeys: %v, want 3 zeros", got)
	}
}

// TestHopCountsMatchJourneys: the hops counted as sightings are attached (jstate.hops, kept as
// journeys close and at the end) and the duplicate copies counted from their bits are those a pass
// over every frame's journey finds, on the lab scenarios and generated captures (duplicates, NAT,
// byte-identical packets matched by position), with a window that closes journeys as matching goes
// and one that keeps them open, on one core and two.
func TestHopCountsMatchJourneys(t *testing.T) {
	check := func(t *testing.T, files []string) {
		c := decode.Load(files, decode.Options{}, decode.PointConfig{})
		for _, window := range []time.Duration{time.Second, 2 * time.Millisecond} {
			for _, procs := range []int{1, 2} {
				old := runtime.GOMAXPROCS(procs)
				opts := Options{Window: window}
				w := worldOf(c)
				clocks, _ := w.clocksFor(opts)
				m := newMatcher(w, clocks, opts)
				m.run()
				m.collectJourneys()
				runtime.GOMAXPROCS(old)
				hops, dups := make([]uint32, m.next+1), map[int32]int{}
				for g := range m.jOf {
					switch j := m.journeyOf(uint32(g)); {
					case j < 0:
					case m.isDup(uint32(g)):
						dups[j]++
					default:
						hops[j+1]++
					}
				}
				if len(m.jHops) != len(hops) {
					t.Fatalf("window %v, GOMAXPROCS %d: %d hop counts, want %d", window, procs, len(m.jHops), len(hops))
				}
				for j := range hops {
					if m.jHops[j] != hops[j] {
						t.Fatalf("window %v, GOMAXPROCS %d: journey %d has %d hops counted, %d in jOf", window, procs, j-1, m.jHops[j], hops[j])
					}
				}
				if fmt.Sprint(m.jDups) != fmt.Sprint(dups) {
					t.Fatalf("window %v, GOMAXPROCS %d: duplicate copies %v, want %v", window, procs, m.jDups, dups)
				}
			}
		}
	}
	eachLabScenario(t, check)
	mixed := gen.DefaultConfig()
	mixed.Flows, mixed.Packets = 40, 3000
	mixed.LossPerHop, mixed.DupRate, mixed.DNAT, mixed.RetransRate = 0.02, 0.03, 0.3, 0.02
	mixed.Identical, mixed.IPID0DF = 2, 0.2
	t.Run("generated", func(t *testing.T) {
		mixed.Dir = t.TempDir()
		g, err := gen.Generate(mixed)
		if err != nil {
			t.Fatal(err)
		}
		check(t, g.Files)
		check(t, manyFlowsCaps(t))
	})
}
