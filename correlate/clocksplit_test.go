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
	w, edge, total := clockSampleWorld(t, 5, 0)
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

// clockSampleWorld returns the world of a generated many-flow IP-in-IP capture (seed; packets, or the
// many-flow set's when 0) with losses, duplicates and node-2's clock 2 s ahead, and its clock edges
// and their frame count (clockEdges), for the tests of the clock sample's split work.
func clockSampleWorld(t *testing.T, seed uint64, packets int) (*world, []bool, int) {
	t.Helper()
	cfg := manyFlowsConfig()
	cfg.Seed, cfg.Mode, cfg.Rate = seed, gen.ModeIPIP, 4000
	if packets > 0 {
		cfg.Packets = packets
	}
	cfg.DupRate, cfg.LossPerHop = 0.02, 0.01
	cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := worldOf(decode.Load(g.Files, decode.Options{}, decode.PointConfig{}))
	edge, total, _ := w.clockEdges()
	return w, edge, total
}
