package correlate

import (
	"context"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// The journeys gathered after matching on two goroutines (collectSplit) are those one pass gathers:
// every Observation's journey, every journey's hops and duplicate copies.
func TestCollectSplit(t *testing.T) {
	cfg := manyFlowsConfig()
	cfg.Seed, cfg.Mode, cfg.DupRate = 9, gen.ModeVXLAN, 0.05
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
	w := worldOf(c)
	if w.nObs < collectMin {
		t.Fatalf("%d Observations, fewer than the %d that split the work: the test says nothing", w.nObs, collectMin)
	}
	opts := Options{Window: time.Second}
	clocks, _ := w.clocksFor(opts)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var ms [2]*matcher
	for i := range ms {
		runtime.GOMAXPROCS(i + 1)
		if ms[i], err = matchJourneys(context.Background(), c, w, clocks, opts); err != nil {
			t.Fatal(err)
		}
	}
	one, two := ms[0], ms[1]
	if len(one.jDups) == 0 || !reflect.DeepEqual(one.jOf, two.jOf) || !reflect.DeepEqual(one.jHops, two.jHops) ||
		!reflect.DeepEqual(one.jDups, two.jDups) {
		t.Fatalf("journeys gathered on two goroutines differ from one pass's (%d journeys with duplicates in one pass, %d on two)",
			len(one.jDups), len(two.jDups))
	}
}
