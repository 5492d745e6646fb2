package correlate

import (
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// The clock sample's packets collected on two goroutines (half the fingerprints each) are the ones one
// pass collects: the same packets, each with the same sender, receiver and sightings.
func TestSamplePacketsSplit(t *testing.T) {
	cfg := manyFlowsConfig()
	cfg.Seed, cfg.Mode, cfg.Rate = 5, gen.ModeIPIP, 4000
	cfg.DupRate, cfg.LossPerHop = 0.02, 0.01
	cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := worldOf(decode.Load(g.Files, decode.Options{}, decode.PointConfig{}))
	edge, total, _ := w.clockEdges()
	refs := w.sampleRefs(edge, 1)
	if len(refs) < clockSplit {
		t.Fatalf("%d sampled frames, fewer than the %d that split the work: the test says nothing", len(refs), clockSplit)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	one := w.samplePackets(refs, total)
	runtime.GOMAXPROCS(2)
	two := w.samplePackets(refs, total)
	if len(one) == 0 || !reflect.DeepEqual(one, two) {
		t.Fatalf("%d packets in one pass, %d on two goroutines, or they differ", len(one), len(two))
	}
}
