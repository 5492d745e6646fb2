package correlate

import (
	"slices"
	"testing"
)

// A loss last seen at a pod's cali, not at its node's tunnel device, where the node's underlay was not
// captured and the node did not refuse the packets: the packets may have died inside the node or left
// it unencapsulated and died past its underlay (state-missing-route less node-b's eth0: truth, past
// node-b's eth0; state-blackhole-route less it: truth, inside node-b; the captures are alike). The
// journeys, the flows' lost_at (in the Result and streamed) and the segment name node-b's underlay as
// not captured where they may have been lost (encap-drop's warning says the same). Where the underlay
// was captured, or the node refused them (df-ping-refused less node-a's eth0, an error), nothing is
// named.
func TestLossPastUncapturedUnderlay(t *testing.T) {
	anys := []string{"node-a-any.pcap", "node-b-any.pcap"}
	check := func(sc string, drop []string, node, cali string, want []string) {
		t.Helper()
		from, to := node+"/"+cali, node+"/tunl0"
		for _, stream := range []bool{false, true} {
			c := labSubsetCapture(t, sc, append(drop, anys...), nil)
			r := Correlate(c, Options{Journeys: true, StreamFlows: stream})
			marked := 0
			for _, j := range r.Journeys {
				w := []string(nil)
				if j.Status == statusLost && j.LastSeen == from && j.NextExpected == to {
					w = want
				}
				if !slices.Equal(j.LostUncaptured, w) {
					t.Errorf("%s less %v: journey %d %s %s → %s: lost_uncaptured %v, want %v", sc, drop, j.ID, j.Status,
						j.LastSeen, j.NextExpected, j.LostUncaptured, w)
				}
				if len(j.LostUncaptured) > 0 {
					marked++
				}
			}
			if want != nil && marked != 6 {
				t.Errorf("%s less %v: %d journeys name what was not captured, want the 6 replies", sc, drop, marked)
			}
			r.EachFlow(func(f *Flow) bool {
				for _, l := range f.LostAt {
					w := []string(nil)
					if l.From == from && l.To == to {
						w = want
					}
					if !slices.Equal(l.Uncaptured, w) {
						t.Errorf("%s less %v (streamed %v): %s lost_at %s → %s: uncaptured %v, want %v", sc, drop, stream, f.ID,
							l.From, l.To, l.Uncaptured, w)
					}
				}
				return true
			})
			for _, s := range r.Segments {
				w := []string(nil)
				if s.From == from && s.To == to && s.Lost > 0 {
					w = want
				}
				if !slices.Equal(s.LostUncaptured, w) {
					t.Errorf("%s less %v: segment %s → %s (%d lost): lost_uncaptured %v, want %v", sc, drop, s.From, s.To,
						s.Lost, s.LostUncaptured, w)
				}
			}
		}
	}
	check("state-missing-route", []string{"node-b-eth0.pcap"}, "node-b", "cali2f5353dd8c5", []string{"node-b underlay"})
	check("state-blackhole-route", []string{"node-b-eth0.pcap"}, "node-b", "cali2f5353dd8c5", []string{"node-b underlay"})
	check("state-missing-route", nil, "node-b", "cali2f5353dd8c5", nil)
	check("state-blackhole-route", nil, "node-b", "cali2f5353dd8c5", nil)
	check("df-ping-refused", []string{"node-a-eth0.pcap"}, "node-a", "cali5e1c4d6c68c", nil)
}

// LostPlace and LostSpanNote, as the reports and the TUI print them.
func TestLostPlace(t *testing.T) {
	if got := LostPlace("n/a", "n/b", nil); got != "n/a→n/b" {
		t.Errorf("LostPlace without uncaptured: %q", got)
	}
	if got, want := LostPlace("n/a", "n/b", []string{"n underlay"}), "past n/a (not at n/b; n underlay not captured)"; got != want {
		t.Errorf("LostPlace: %q, want %q", got, want)
	}
}
