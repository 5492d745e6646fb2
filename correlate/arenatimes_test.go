package correlate

import (
	"slices"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// The arena takes each hop's time from the matcher (the time it kept beside the journey id in the
// fingerprint slot, jRel) rather than correcting the frame's capture time again: it must be the time
// the correction gives, on the lab's captures, also after the WireGuard join has moved the messages'
// frames into the packets' journeys (and moved their first sightings) and with clocks corrected.
func TestArenaKeptTimesAsCorrected(t *testing.T) {
	for _, sc := range []string{"healthy-ipip", "healthy-vxlan-offload", "tcp-retransmission", "clock-skew",
		"clock-drift", "healthy-wireguard", "wireguard-fragmented", "wireguard-underlay-loss"} {
		t.Run(sc, func(t *testing.T) {
			files := labFiles(t, sc, func(string) bool { return true })
			c := decode.Load(files, decode.Options{}, decode.PointConfig{})
			opts := Options{Window: time.Second}
			w := worldOf(c)
			clocks, _ := w.clocksFor(opts)
			keep := c.Loose
			kept := false
			build := func(again bool) *arenaOut {
				c.Loose = make([]decode.Fingerprints, len(keep))
				for f := range keep {
					c.Loose[f] = keep[f].Clone()
				}
				w.c.Loose = c.Loose
				m := matchAll(w, clocks, opts)
				if m.jRel == nil {
					t.Fatal("the matcher kept no times")
				}
				joinWireGuard(w, m, opts)
				if again {
					m.jRel = nil // every hop's time corrected from its capture time, as before jRel
				} else {
					kept = m.jRel != nil
				}
				return buildArenaSplit(w, m, int(m.next), false, false)
			}
			got, want := build(false), build(true)
			if !slices.Equal(got.jStart, want.jStart) || !slices.Equal(got.arena, want.arena) || !slices.Equal(got.hopPt, want.hopPt) {
				t.Fatal("the arena's hops differ from those of times corrected again")
			}
			for j := range len(got.jStart) - 1 {
				for k := got.jStart[j]; k < got.jStart[j+1]; k++ {
					if g, x := got.hopTs.at(int32(j), int(k)), want.hopTs.at(int32(j), int(k)); g != x {
						t.Fatalf("journey %d hop %d (observation %d): time %d, corrected again %d", j, k-got.jStart[j], got.arena[k], g, x)
					}
				}
			}
			t.Logf("%d journeys, %d hops; kept times used: %v", len(got.jStart)-1, len(got.arena), kept)
		})
	}
}
