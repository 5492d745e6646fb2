package correlate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// TestSegClockConstructed classifies segments between constructed clocks: node-a the reference,
// router-1 bounded above from node-a's packets, ext-1 bounded above from node-a's (or from
// router-1's), node-c bounded below by its packets to node-a, node-d likewise. A latency between two
// clocks bounded the same way from a third node is neither a lower nor an upper bound (on main the
// segment table called every latency on such a path a lower bound, and showed router-1 → ext-1's
// corrected MIN of -892ns as a measurement).
func TestSegClockConstructed(t *testing.T) {
	const a, r, e, c, d = 0, 1, 2, 3, 4
	clocks := func(extVia int) []clockModel {
		return []clockModel{
			{method: "reference"},
			{offset: 2775, bound: -1, open: sideUpper, openBy: []int{a}, openVia: a + 1},
			{offset: 4658, bound: -1, open: sideUpper, openBy: []int{extVia}, openVia: extVia + 1},
			{offset: -1200, bound: -1, open: sideLower, openBy: []int{a}, openVia: a + 1},
			{offset: -900, bound: -1, open: sideLower, openBy: []int{a}, openVia: a + 1},
		}
	}
	w := &world{nodes: []string{"node-a", "router-1", "ext-1", "node-c", "node-d"}, pointNode: []int{a, r, e, c, d, a}}
	cases := []struct {
		name     string
		extVia   int
		from, to int
		want     string
	}{
		{"into a clock bounded above", a, a, r, BoundLower},
		{"out of a clock bounded above", a, r, a, BoundUpper},
		{"two clocks bounded above from a third", a, r, e, BoundNone},
		{"two clocks bounded above from a third, back", a, e, r, BoundNone},
		{"bounded above by the other end's packets", r, r, e, BoundLower},
		{"bounded above by the other end's packets, back", r, e, r, BoundUpper},
		{"out of a clock bounded below", a, c, a, BoundLower},
		{"into a clock bounded below", a, a, c, BoundUpper},
		{"two clocks bounded below by packets to a third", a, c, d, BoundNone},
		{"from bounded below to bounded above", a, c, r, BoundLower},
		{"from bounded above to bounded below", a, r, c, BoundUpper},
		{"inside one node", a, a, 5, ""},
	}
	for _, tc := range cases {
		an := &analysis{w: w, clocks: clocks(tc.extVia)}
		got, note := an.segClock(tc.from, tc.to, true)
		if got != tc.want {
			t.Errorf("%s: %s → %s: got %q (%s), want %q", tc.name, w.nodes[w.pointNode[tc.from]], w.nodes[w.pointNode[tc.to]], got, note, tc.want)
		}
		if got == BoundNone && (!strings.Contains(note, "--node-ip") || !strings.Contains(note, "--offset")) {
			t.Errorf("%s: the note names no fix: %s", tc.name, note)
		}
	}
	an := &analysis{w: w, clocks: clocks(a)}
	if _, note := an.segClock(r, e, true); !strings.Contains(note, "router-1's offset ≤ 2.775µs, from node-a's packets") ||
		!strings.Contains(note, "ext-1's offset ≤ 4.658µs, from node-a's packets") {
		t.Errorf("router-1 → ext-1: the note does not say how each clock is bounded: %s", note)
	}
}

// TestOneWayClockBoundsLab reads the oneway lab scenario with its k8s/ (router-1's and ext-1's clocks
// bounded from node-a only): the segments between router-1 and ext-1 show no latency (on main,
// router-1/eth2 → ext-1/eth0 showed MIN -892ns as a measurement) and say why; node-a → router-1 is a
// lower bound and router-1 → node-a an upper one. The lab's namespaces share one kernel clock (true
// offsets 0, testdata/lab/README.md), so the run with every offset given as 0 has the true latencies:
// every lower bound is at most the true value, every upper bound at least.
func TestOneWayClockBoundsLab(t *testing.T) {
	dir := "../testdata/lab/scenarios/oneway"
	if _, err := os.Stat(filepath.Join(dir, "k8s")); err != nil {
		t.Skip("no oneway lab scenario")
	}
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	cfg, m := labK8sConfig(t, dir, decode.PointConfig{})
	r := Correlate(decode.Load(pcaps, decode.Options{}, cfg), Options{Cluster: m})
	zero := map[string]time.Duration{}
	for _, c := range r.Clocks {
		zero[c.Node] = 0
	}
	truth := Correlate(decode.Load(pcaps, decode.Options{}, cfg), Options{Cluster: m, Offsets: zero})
	want := map[[2]string]string{
		{"router-1/eth2", "ext-1/eth0"}:  BoundNone,
		{"ext-1/eth0", "router-1/eth2"}:  BoundNone,
		{"node-a/eth0", "router-1/eth2"}: BoundLower,
		{"router-1/eth2", "node-a/eth0"}: BoundUpper,
	}
	for _, s := range r.Segments {
		key := [2]string{s.From, s.To}
		if s.ClockBound != want[key] {
			t.Errorf("%s → %s: clock bound %q, want %q (%s)", s.From, s.To, s.ClockBound, want[key], s.ClockNote)
		}
		delete(want, key)
		if s.LatencyNs.N > 0 && s.LatencyNs.Min < 0 {
			t.Errorf("%s → %s: a negative latency shown as a measurement: %+v (%s)", s.From, s.To, s.LatencyNs, s.ClockBound)
		}
		if s.ClockBound == BoundNone && (s.LatencyNs != Latency{} || !strings.Contains(s.ClockNote, "--node-ip")) {
			t.Errorf("%s → %s: unknown latency shown (%+v) or no fix said: %s", s.From, s.To, s.LatencyNs, s.ClockNote)
		}
		checkBoundLab(t, s, truth)
	}
	for k := range want {
		t.Errorf("no segment %s → %s", k[0], k[1])
	}
}

// checkBoundLab checks a segment's bounded latencies against the same segment of truth, a run with
// the lab's true offsets (0): a lower bound is at most each true statistic, an upper bound at least.
func checkBoundLab(t *testing.T, s Segment, truth *Result) {
	t.Helper()
	for _, u := range truth.Segments {
		if u.From != s.From || u.To != s.To || s.LatencyNs.N == 0 {
			continue
		}
		got := []int64{s.LatencyNs.Min, s.LatencyNs.P50, s.LatencyNs.P90, s.LatencyNs.P99, s.LatencyNs.Max}
		tru := []int64{u.LatencyNs.Min, u.LatencyNs.P50, u.LatencyNs.P90, u.LatencyNs.P99, u.LatencyNs.Max}
		for i := range got {
			if s.ClockBound == BoundLower && got[i] > tru[i] || s.ClockBound == BoundUpper && got[i] < tru[i] {
				t.Errorf("%s → %s: %s bound %v, true latencies %v", s.From, s.To, s.ClockBound, got, tru)
				return
			}
		}
	}
}
