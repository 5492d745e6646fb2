package correlate

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// A node address adopted from the flows (adoptOwnAddrs: a packet into one of the node's pods from the
// node's own stack) that is the outer source of an encapsulated frame makes that frame's outer address
// its node's. The single-frame checks started beside the clocks and the matcher (two cores) saw the
// world before the adoption: adoptOwn drops their findings so that the side findings check the frames
// again, as one core does, and the findings do not depend on the number of cores.
func TestAdoptOwnChecksFramesAgain(t *testing.T) {
	paths, frame := labWrongOuter(t) // as TestWrongOuterAddress
	ips := map[string][]netip.Addr{"node-a": {netip.MustParseAddr("192.168.10.2")},
		"node-b": {netip.MustParseAddr("192.168.20.2")}}
	wrongAt := func(found map[frameKey]*frameFinding) uint32 {
		for k, ff := range found {
			if k.kind == "wrong-outer-address" && len(ff.ev) > 0 {
				return ff.ev[0].Frame
			}
		}
		return 0
	}
	for _, early := range []bool{false, true} {
		c := decode.Load(paths, decode.Options{}, decode.PointConfig{NodeIPs: ips})
		opts := Options{Window: time.Second}
		w := worldOf(c)
		clocks, offFits := w.clocksFor(opts)
		var e *earlyFrames
		if early { // as startFrameChecks on two cores
			e = &earlyFrames{}
			e.wait = beside(func() { e.out = (&analysis{w: w}).frameChecks() })
		}
		m, err := matchJourneys(context.Background(), c, w, clocks, opts)
		if err != nil {
			t.Fatal(err)
		}
		a := &analysis{w: w, journeys: m.out(), clocks: clocks, opts: opts, nJ: int(m.next), offFits: offFits,
			wg: joinWireGuard(w, m, opts), early: e}
		a.arenaOut = buildArena(w, m, a.nJ, false)
		a.cov, a.capDrop = newCoverage(w, clocks), newCapDrops(w, clocks, &a.journeys)
		a.unordered = a.orderOpenHops()
		a.flowsOut, a.pairMode = a.assignFlows()
		if got := wrongAt((&analysis{w: w}).frameChecks()); got != frame {
			t.Fatalf("early %v: before the adoption, wrong-outer-address at frame %d, want %d", early, got, frame)
		}
		// As localSource notes an address that sent into node-a's pod with an initial TTL.
		na, ok := w.nodeIdx["node-a"]
		if !ok {
			t.Fatal("no node-a")
		}
		a.ownClaims = map[[2]uint64]int{{uint64(ip4(netip.MustParseAddr("192.168.10.99"))), 0}: na}
		a.adoptOwn()
		if got := wrongAt(a.early.frames(a)); got != 0 {
			t.Errorf("early %v: wrong-outer-address at frame %d after 192.168.10.99 became node-a's address", early, got)
		}
	}
}
