package correlate

import (
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// Regression tests for what FuzzGenPipeline (cmd/calipath/genfuzz_test.go) found: crashes and
// impossible outputs on generated captures damaged as incidents do.

// A VXLAN capture whose underlay frames the snaplen cut before their inner ports gives the clocks no
// packet to sample: every clock is "not crossed", not corrected. The tunnel devices still show the
// packets, so journeys cross from node to node, and their latencies there are the clocks' offset (node-2
// runs 100 ms ahead): not measurements, but not known (BoundNone), with a note that says why. Before,
// the flows' end-to-end latencies were given as measured, 100 ms off.
func TestUncrossedClockLatencyNotKnown(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Dir = t.TempDir()
	cfg.Mode = gen.ModeVXLAN
	cfg.Snaplen = 68
	cfg.Packets = 400
	cfg.Flows = 4
	cfg.ClockOffset = map[string]time.Duration{"node-2": 100 * time.Millisecond}
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
	r := Correlate(c, Options{Journeys: true})
	for _, cl := range r.Clocks {
		if cl.Method != methodUncrossed {
			t.Fatalf("clock %s: %q, want %q (the premise: no packet sampled)", cl.Node, cl.Method, methodUncrossed)
		}
	}
	crossed := 0
	for _, f := range r.Flows {
		if f.LatencyNs.N == 0 && f.ClockBound == "" {
			continue
		}
		crossed++
		if f.ClockBound != BoundNone || f.LatencyNs.N != 0 || f.ClockNote == "" {
			t.Errorf("flow %s: latency %+v, clock bound %q, note %q: want none given, bound %q, and a note", f.ID, f.LatencyNs,
				f.ClockBound, f.ClockNote, BoundNone)
		}
	}
	if crossed == 0 {
		t.Fatal("no flow crosses between the nodes (the premise)")
	}
	for _, j := range r.Journeys {
		for k, h := range j.Hops {
			node, _, _ := strings.Cut(h.Point, "/")
			prev, _, _ := strings.Cut(j.Hops[max(k-1, 0)].Point, "/")
			if node != prev && h.ClockBound != BoundNone {
				t.Fatalf("journey %d: %s → %s: latency %d ns, clock bound %q, want %q", j.ID, j.Hops[k-1].Point, h.Point,
					h.DeltaNs, h.ClockBound, BoundNone)
			}
		}
	}
}
