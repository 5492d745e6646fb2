package correlate

import (
	"reflect"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// EachJourney renders, one at a time, the journeys Options.Journeys lists (the same values, hop
// changes included), and reuses its Journey, its Hops array and the changes it formatted: streaming
// every journey of a capture allocates a few times, not once or more per journey.
func TestEachJourneyReuses(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Mix = gen.MixManyFlows
	cfg.Mode = gen.ModeVXLAN // the encapsulation's changes on every journey
	cfg.Nodes, cfg.PodsPerNode = 2, 4
	cfg.Flows, cfg.Packets = 300, 3000
	cfg.LossPerHop, cfg.DupRate, cfg.Rate = 0.01, 0.01, 200000 // no NAT: its changes are formatted per hop
	cfg.ClockOffset = map[string]time.Duration{"node-2": 3 * time.Second}
	cfg.Dir, cfg.KeepTruth = t.TempDir(), false
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	full := Correlate(decode.Load(g.Files, decode.Options{}, decode.PointConfig{}), Options{Journeys: true})
	lean := Correlate(decode.Load(g.Files, decode.Options{}, decode.PointConfig{}), Options{Lean: true})
	var got []Journey
	changes := 0
	lean.EachJourney(func(j *Journey) bool {
		c := *j
		c.Hops = append([]Hop(nil), j.Hops...) // the callback may not keep them
		for _, h := range j.Hops {
			changes += len(h.Changes)
		}
		got = append(got, c)
		return true
	})
	if len(got) < 2000 || changes < len(got) {
		t.Fatalf("%d journeys with %d changes: too few to tell", len(got), changes)
	}
	if !reflect.DeepEqual(got, full.Journeys) {
		for i := range min(len(got), len(full.Journeys)) {
			if !reflect.DeepEqual(got[i], full.Journeys[i]) {
				t.Fatalf("journey %d:\n got %+v\nwant %+v", i, got[i], full.Journeys[i])
			}
		}
		t.Fatalf("%d journeys, want %d", len(got), len(full.Journeys))
	}
	allocs := testing.AllocsPerRun(3, func() {
		lean.EachJourney(func(*Journey) bool { return true })
	})
	if max := float64(len(got)) / 20; allocs > max {
		t.Errorf("EachJourney over %d journeys: %.0f allocations, want at most %.0f", len(got), allocs, max)
	}
}
