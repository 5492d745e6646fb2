package correlate

import (
	"testing"

	"github.com/calipath/calipath/internal/gen"
)

// Every hop of a journey carries its packet's IP length and, for TCP, its flags as tcpdump prints
// them: a report can print a ladder row's size and flags without reading the captures again.
func TestHopLenAndTCPFlags(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Seed, cfg.Packets, cfg.Flows = 7, 300, 6
	_, res := runGen(t, cfg)
	proto := map[string]string{}
	for _, f := range res.Flows {
		proto[f.ID] = f.Proto
	}
	flags := map[string]int{}
	hops := 0
	for _, j := range res.Journeys {
		for _, h := range j.Hops {
			hops++
			if h.Len < 20 {
				t.Fatalf("journey %d at %s: length %d", j.ID, h.Point, h.Len)
			}
			if (proto[j.Flow] == "tcp") != (h.TCPFlags != "") {
				t.Fatalf("journey %d (%s) at %s: flags %q", j.ID, proto[j.Flow], h.Point, h.TCPFlags)
			}
			flags[h.TCPFlags]++
		}
	}
	if hops == 0 || flags["S"] == 0 || flags["S."] == 0 || flags["."]+flags["P."] == 0 {
		t.Errorf("%d hops, flags seen %v: want a handshake and data", hops, flags)
	}
}
