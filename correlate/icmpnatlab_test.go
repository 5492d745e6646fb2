package correlate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// nat-error-late (testdata/lab): pod-b's port-unreachable, un-NATed by node-a's conntrack between its
// tunl0 and pod-a's cali, whose quoted datagram was captured after the DNAT only. The truth's
// icmp_nat says one error crossed that NAT; the captures cannot tell it from two errors, so neither
// sighting's journey may read "delivered" (or lost) as if certain: both are "uncertain", say why, name
// the other end, and so do their entries in the ICMP error list. Before, the first read delivered at
// node-a/tunl0 and the second delivered at the cali, one error counted as two deliveries.
func TestICMPNATUnknownLab(t *testing.T) {
	dir := "../testdata/lab/scenarios/nat-error-late"
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		ICMPNAT []struct {
			From, To      string
			Before, After string
			Shown         bool
		} `json:"icmp_nat"`
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.ICMPNAT) != 1 || tr.ICMPNAT[0].Shown {
		t.Fatalf("truth's icmp_nat: %+v, want one error across an unshown NAT", tr.ICMPNAT)
	}
	n := tr.ICMPNAT[0]
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{Journeys: true})
	var before, after *Journey
	for i := range r.Journeys {
		j := &r.Journeys[i]
		if !isICMPError(r, j) {
			continue
		}
		switch {
		case j.Hops[len(j.Hops)-1].Point == n.From:
			before = j
		case j.Hops[0].Point == n.To:
			after = j
		}
	}
	if before == nil || after == nil {
		t.Fatalf("no error journeys ending at %s and beginning at %s", n.From, n.To)
	}
	for _, c := range []struct {
		j     *Journey
		other string
	}{{before, n.To}, {after, n.From}} {
		if c.j.Status != statusUncertain || !strings.HasPrefix(c.j.Uncertain, "Uncertain:") ||
			!strings.Contains(c.j.Uncertain, c.other) || !strings.Contains(c.j.Uncertain, "icmp-error-nat-unknown") {
			t.Errorf("journey %d (%s … %s): status %q, %q", c.j.ID, c.j.Hops[0].Point, c.j.Hops[len(c.j.Hops)-1].Point,
				c.j.Status, c.j.Uncertain)
		}
		// FlowJourneys renders the same.
		for _, fj := range r.FlowJourneys(c.j.Flow) {
			if fj.ID == c.j.ID && (fj.Status != c.j.Status || fj.Uncertain != c.j.Uncertain) {
				t.Errorf("FlowJourneys(%s): journey %d %q %q", c.j.Flow, fj.ID, fj.Status, fj.Uncertain)
			}
		}
	}
	if before.LastSeen != n.From || before.NextExpected != n.To {
		t.Errorf("journey %d: last seen %q, next %q, want %s and %s", before.ID, before.LastSeen, before.NextExpected, n.From, n.To)
	}
	// The ICMP error list: both sightings' entries say they may be one error.
	marked := 0
	for _, e := range r.ICMP {
		if strings.HasPrefix(e.Uncertain, "Uncertain:") {
			marked++
		}
	}
	if marked != 2 {
		t.Errorf("%d ICMP error entries say they are uncertain, want 2: %+v", marked, r.ICMP)
	}
	// No other error journey is uncertain.
	for _, j := range r.Journeys {
		if j.Status == statusUncertain && j.ID != before.ID && j.ID != after.ID {
			t.Errorf("journey %d uncertain too: %s", j.ID, j.Uncertain)
		}
	}
}
