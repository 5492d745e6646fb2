package correlate

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// Placement gives the hop detail's pages back as it goes (hopDropper), in small steps here, on one
// goroutine and on two, and the Result is the one it gives when it keeps them: no journey's hops are
// read once given back (they would read as zeros). On generated many-flow captures with loss,
// duplicates, DNAT, retransmissions and a clock off (the lab scenarios hold less hop detail than a page).
func TestHopDropSame(t *testing.T) {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 800, 10000
	cfg.LossPerHop, cfg.DupRate, cfg.DNAT, cfg.RetransRate = 0.03, 0.02, 0.2, 0.01
	cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
	for _, mode := range []gen.Mode{gen.ModeIPIP, gen.ModeVXLAN} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			cfg.Mode, cfg.Dir = mode, t.TempDir()
			g, err := gen.Generate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if checkHopDrop(t, g.Files) == 0 {
				t.Fatal("no hop detail given back")
			}
		})
	}
}

// checkHopDrop compares, placed on one goroutine (chunk -1) and on two where the journeys are enough
// (chunk 7, as checkPlaceTwo), the Result with the hop detail given back every few journeys against
// the one with none given back, and returns the bytes given back.
func checkHopDrop(t *testing.T, files []string) int {
	t.Helper()
	run := func(chunk, run int) []byte {
		oldRun, oldEvery := hopDropRun, hopDropEvery
		defer func() { hopDropRun, hopDropEvery = oldRun, oldEvery }()
		hopDropRun, hopDropEvery = run, 8
		res := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{Journeys: true, chunk: chunk})
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	want := run(-1, math.MaxInt) // none given back
	before := hopDropped.Load()
	for _, chunk := range []int{-1, 7} {
		if got := run(chunk, 1); string(got) != string(want) {
			t.Fatalf("chunk %d: the Result with the hop detail given back differs from the one without", chunk)
		}
	}
	return int(hopDropped.Load() - before)
}

// On the many-flow mix (20,000 packets of 3,000 flows, placed on one goroutine and on two), placement
// gives back most of the hop detail (6 bytes a hop) in steps scaled to it, not only in the small steps
// of TestHopDropSame.
func TestHopDropMost(t *testing.T) {
	cfg := manyFlowsConfig()
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
	oldRun, oldEvery := hopDropRun, hopDropEvery
	defer func() { hopDropRun, hopDropEvery = oldRun, oldEvery }()
	hopDropRun, hopDropEvery = 1<<12, 1<<8 // the run's sizes scaled to the set's: 3,000 flows, not 200,000
	for _, chunk := range []int{-1, 64} {  // one goroutine, two
		before := hopDropped.Load()
		res := Correlate(c, Options{chunk: chunk})
		hops := 0
		for _, f := range res.Flows {
			for _, pc := range f.PerPoint {
				hops += int(pc.Packets)
			}
		}
		if got := int(hopDropped.Load() - before); hops == 0 || got < 6*hops*3/4 {
			t.Errorf("chunk %d: %d bytes of hop detail given back, want most of %d (%d hops)", chunk, got, 6*hops, hops)
		}
	}
}
