package correlate

import (
	"strings"
	"testing"
)

// A router interface the TTLs cannot place, with nothing lost: two-routers with router-1/eth0
// captured -Q out, router-1/eth1 and router-2/eth1 -Q in (router-2/eth1 misses the requests leaving
// router-2 towards node-b, and router-2/eth0 saw them one router from node-a: router-2's way in, or
// router-1's way out for all the TTLs tell), and the mirror shape with router-2/eth1 -Q out and the
// rest -Q in. The unplaced interface is left off the path, and nothing said so: the user gave calipath
// that capture and heard nothing of it. Now a warning names it, the interface it could not be placed
// against, why, and what would place it; the verdict stays the truth's (every packet delivered, no
// error), and no loss is invented.
func TestRouterSideUnknownSaid(t *testing.T) {
	for _, tc := range []struct {
		shape           map[string]string
		unplaced, other string
	}{
		{map[string]string{"router-1-eth0.pcap": "out", "router-1-eth1.pcap": "in", "router-2-eth1.pcap": "in"}, "router-2/eth1", "router-2/eth0"},
		{map[string]string{"router-1-eth0.pcap": "in", "router-1-eth1.pcap": "in", "router-2-eth0.pcap": "in", "router-2-eth1.pcap": "out"},
			"router-1/eth0", "router-1/eth1"},
	} {
		t.Run(tc.unplaced, func(t *testing.T) {
			tr, r := labSubset(t, "two-routers", anyFiles, routerCaptured(t, "two-routers", tc.shape))
			for _, p := range truthProblems(tr, r) {
				t.Error(p)
			}
			noErrors(t, r)
			if s := r.Summary; s.Lost != 0 || s.NotCaptured != 0 {
				t.Errorf("summary %+v: want nothing lost or not captured", s)
			}
			var got *Anomaly
			for i, a := range r.Anomalies {
				if a.Kind == "router-side-unknown" && a.Where.Point == tc.unplaced {
					got = &r.Anomalies[i]
				}
				if a.Kind == "loss-router-side-unknown" || a.Kind == "loss" {
					t.Errorf("%s %+v: %s", a.Kind, a.Where, a.Message)
				}
			}
			if got == nil || got.Severity != "warning" || !strings.Contains(got.Message, "TTLs cannot tell which side of "+tc.other) ||
				!strings.Contains(got.Message, "leaves "+tc.unplaced+" off") || !strings.Contains(got.Next, "both directions") || got.Count == 0 {
				t.Errorf("router-side-unknown at %s: %+v; want a warning naming %s, why and what places it\n%v", tc.unplaced, got, tc.other, r.Anomalies)
			}
		})
	}
}
