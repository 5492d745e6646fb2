package correlate

import (
	"slices"
	"testing"

	"github.com/calipath/calipath/decode"
)

// The skip counter's clean journey (skipTables.clean) reads no first Observation when the flows list
// no ICMP error journey (skipTables.icmp): flowsOut.icmpJ holds exactly the journeys with a flow whose
// packet's hop (the first, with no WireGuard device captured) is an ICMP error, in order, on one
// goroutine and on the keyer's, on scenarios with ICMP errors and without.
func TestICMPJourneysListed(t *testing.T) {
	listed := 0
	for _, sc := range []string{"df-ping-refused", "pmtu-discovery", "pmtu-discovery6", "state-missing-route", "healthy-ipip"} {
		c := labLoad(t, sc, "*.pcap", true)
		for _, chunk := range []int{-1, 1} {
			a := analysisAtSkips(t, c, chunk)
			var want []int32
			for j := range a.nJ {
				h := a.hops(j)
				if a.jFlow[j] < 0 || len(h) == 0 {
					continue
				}
				if o, _ := a.obs(a.w.pktHop(h)); o.Flags&decode.FlagICMPError != 0 {
					want = append(want, int32(j))
				}
			}
			if !slices.Equal(a.icmpJ, want) {
				t.Fatalf("%s, chunk %d: icmpJ %v, the ICMP error journeys with a flow %v", sc, chunk, a.icmpJ, want)
			}
			listed += len(want)
		}
	}
	if listed == 0 {
		t.Fatal("no ICMP error journey in the scenarios: nothing compared")
	}
}
