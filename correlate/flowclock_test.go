package correlate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// jsonOf is v through encoding/json, as a map: what the JSON report gives (the tests below read the
// fields by their JSON names).
func jsonOf(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// labRun correlates a lab scenario's pcap files (with its k8s/ when k8s), and again with every
// node's offset given as 0: the lab's namespaces share one kernel clock (testdata/lab/README.md), so
// that run has the true latencies.
func labRun(t *testing.T, name string, k8s bool, opts Options) (r, truth *Result) {
	t.Helper()
	dir := filepath.Join("../testdata/lab/scenarios", name)
	if _, err := os.Stat(dir); err != nil {
		dir = filepath.Join("../testdata/lab/scenarios-pending", name)
	}
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if len(pcaps) == 0 {
		t.Skipf("no %s lab scenario", name)
	}
	cfg := decode.PointConfig{}
	if k8s {
		cfg, opts.Cluster = labK8sConfig(t, dir, cfg)
	}
	r = Correlate(decode.Load(pcaps, decode.Options{}, cfg), opts)
	zero := map[string]time.Duration{}
	for _, c := range r.Clocks {
		zero[c.Node] = 0
	}
	opts.Offsets = zero
	return r, Correlate(decode.Load(pcaps, decode.Options{}, cfg), opts)
}

// TestOneSidedFlowLatencyLab: a flow's end-to-end latencies, between the first and the last node its
// packets were seen on, are bounds or not known as those two nodes' clocks make them. In oneway (with
// k8s/) and router-three-ifaces, ext-1's clock is bounded above from node-a only: pod-a → ext-1 is a
// lower bound and ext-1 → pod-a an upper one, so quantiles over both are neither, and the flows to
// 203.0.113.10 give no latency, say why and how to bound the clock. In the state-* scenarios node-b's
// clock is bounded above from node-a (no reply came back): every latency of the flows is a lower
// bound, at most the true one. Flows between clocks bounded both ways (router-three-ifaces' pod-a →
// pod-b) stay measurements. On main every flow printed P50 and P99 as measurements.
func TestOneSidedFlowLatencyLab(t *testing.T) {
	cases := []struct {
		name string
		k8s  bool
		want map[string]string // flow destination → its clock_bound
	}{
		{"oneway", true, map[string]string{"203.0.113.10": BoundNone}},
		{"router-three-ifaces", false, map[string]string{"203.0.113.10": BoundNone, "10.244.2.7": ""}},
		{"state-missing-route", true, map[string]string{"10.244.2.7": BoundLower}},
		{"state-neigh-failed", true, map[string]string{"10.244.2.7": BoundLower}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, truth := labRun(t, tc.name, tc.k8s, Options{})
			seen := map[string]bool{}
			for _, f := range r.Flows {
				want, ok := tc.want[f.Dst.IP]
				if !ok {
					continue
				}
				seen[f.Dst.IP] = true
				m := jsonOf(t, f)
				got, _ := m["clock_bound"].(string)
				note, _ := m["clock_note"].(string)
				lat := m["latency_ns"].(map[string]any)
				if got != want {
					t.Errorf("%s → %s: clock_bound %q, want %q (latency %v, note %q)", f.ID, f.Dst.IP, got, want, lat, note)
					continue
				}
				switch want {
				case BoundNone:
					if lat["n"].(float64) != 0 || !strings.Contains(note, "--offset ext-1=DURATION") ||
						!strings.Contains(note, "lower bounds") || !strings.Contains(note, "ext-1's offset ≤") {
						t.Errorf("%s: unknown latency given (%v) or the note does not say why and the fix: %q", f.ID, lat, note)
					}
				case BoundLower:
					if !strings.Contains(note, "node-b's offset ≤") {
						t.Errorf("%s: the note does not name the clock: %q", f.ID, note)
					}
					checkFlowBoundLab(t, f, got, truth)
				case "":
					if note != "" || f.LatencyNs.N == 0 {
						t.Errorf("%s: a measurement marked (%q) or not given: %+v", f.ID, note, f.LatencyNs)
					}
				}
			}
			for d := range tc.want {
				if !seen[d] {
					t.Errorf("no flow to %s", d)
				}
			}
		})
	}
}

// checkFlowBoundLab checks flow f's latencies, bounds as bound says, against the same flow of truth
// (true offsets 0): a lower bound is at most each true statistic, an upper bound at least.
func checkFlowBoundLab(t *testing.T, f Flow, bound string, truth *Result) {
	t.Helper()
	for _, u := range truth.Flows {
		if u.Src != f.Src || u.Dst != f.Dst || u.Proto != f.Proto {
			continue
		}
		got := []int64{f.LatencyNs.Min, f.LatencyNs.P50, f.LatencyNs.P90, f.LatencyNs.P99, f.LatencyNs.Max}
		tru := []int64{u.LatencyNs.Min, u.LatencyNs.P50, u.LatencyNs.P90, u.LatencyNs.P99, u.LatencyNs.Max}
		if f.LatencyNs.N != u.LatencyNs.N || f.LatencyNs.N == 0 {
			t.Errorf("%s: %d latencies, %d in the run with true offsets", f.ID, f.LatencyNs.N, u.LatencyNs.N)
			return
		}
		for i := range got {
			if bound == BoundLower && got[i] > tru[i] || bound == BoundUpper && got[i] < tru[i] {
				t.Errorf("%s: %s bound %v, true latencies %v", f.ID, bound, got, tru)
				return
			}
		}
		return
	}
	t.Errorf("%s: not in the run with true offsets", f.ID)
}

// TestOneSidedHopLab: each hop of a journey says what its time since the hop before is when the two
// nodes' clocks leave it a bound or unknown (hop clock_bound): in oneway with k8s/, node-a/eth0 →
// router-1/eth2 is a lower bound, router-1/eth2 → ext-1/eth0 not known, ext-1 → router-1 not known,
// router-1 → node-a an upper bound (node-a → ext-1, where router-1 missed a packet, a lower bound);
// hops within node-a carry none. On main the journeys' hops gave
// every delta_ns as a measurement.
func TestOneSidedHopLab(t *testing.T) {
	r, _ := labRun(t, "oneway", true, Options{Journeys: true})
	want := map[[2]string]string{
		{"node-a/eth0", "router-1/eth2"}: BoundLower,
		{"router-1/eth2", "ext-1/eth0"}:  BoundNone,
		{"ext-1/eth0", "router-1/eth2"}:  BoundNone,
		{"router-1/eth2", "node-a/eth0"}: BoundUpper,
		{"node-a/eth0", "ext-1/eth0"}:    BoundLower, // router-1 missed the first packet
	}
	seen := map[[2]string]bool{}
	n := 0
	for _, jr := range r.FlowJourneys("f1") {
		m := jsonOf(t, jr)
		hops := m["hops"].([]any)
		for i := 1; i < len(hops); i++ {
			prev, h := hops[i-1].(map[string]any), hops[i].(map[string]any)
			key := [2]string{prev["point"].(string), h["point"].(string)}
			got, _ := h["clock_bound"].(string)
			n++
			if w := want[key]; got != w {
				t.Errorf("journey %d: %s → %s: clock_bound %q, want %q", jr.ID, key[0], key[1], got, w)
			}
			seen[key] = true
		}
	}
	for k := range want {
		if !seen[k] && k != [2]string{"node-a/eth0", "ext-1/eth0"} {
			t.Errorf("no hop %s → %s among %d", k[0], k[1], n)
		}
	}
}

// TestClockInconsistentOneSidedLab: clock-inconsistent claims that no offset explains the negative
// latencies of a segment; where a clock bounded on one side only leaves them not known, or lower
// bounds, nothing is inconsistent. oneway (with k8s/), ext-1's capture drifting 300 ppm (testdata/lab/
// pcapshift's rewrite): one-sided clocks get no drift, so the corrected latencies between router-1
// and ext-1 go negative. On main, clock-inconsistent fired at router-1/eth2 → ext-1/eth0 and
// ext-1/eth0 → router-1/eth2, whose latencies the report calls not known. ext-1 → node-a came out as
// upper bounds below zero, which the drift made (a limit taken as a constant offset): a one-sided
// clock is now taken at the limit its samples set at each moment (oneSided), so they are upper bounds
// at or above zero, and nothing is inconsistent (TestNegativeUpperBoundLab has one that is).
func TestClockInconsistentOneSidedLab(t *testing.T) {
	src := "../testdata/lab/scenarios/oneway"
	if _, err := os.Stat(filepath.Join(src, "k8s")); err != nil {
		t.Skip("no oneway lab scenario")
	}
	dir := t.TempDir()
	pcaps, _ := filepath.Glob(filepath.Join(src, "*.pcap"))
	var t0 int64
	files := map[string][]byte{}
	for _, p := range pcaps {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = b
	}
	b := files["ext-1-eth0.pcap"]
	shiftCaptureBy(t, b, func(ts int64) int64 {
		if t0 == 0 {
			t0 = ts
		}
		return ts + (ts-t0)*300/1_000_000
	})
	var paths []string
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	slices.Sort(paths)
	cfg, m := labK8sConfig(t, src, decode.PointConfig{})
	r := Correlate(decode.Load(paths, decode.Options{}, cfg), Options{Cluster: m})
	bound := map[[2]string]string{}
	for _, s := range r.Segments {
		bound[[2]string{s.From, s.To}] = s.ClockBound
	}
	var fired []string
	for _, a := range r.Anomalies {
		if a.Kind != "clock-inconsistent" {
			continue
		}
		k := [2]string{a.Where.From, a.Where.To}
		fired = append(fired, k[0]+" → "+k[1])
		if b := bound[k]; b == BoundNone || b == BoundLower {
			t.Errorf("clock-inconsistent at %s → %s, whose latencies are %s: %s", k[0], k[1], b, a.Message)
		}
	}
	if len(fired) > 0 {
		t.Errorf("clock-inconsistent fired at %q", fired)
	}
	// On main the drift also took ext-1's replies past router-1: a segment ext-1/eth0 → node-a/eth0.
	var segs []string
	for _, s := range r.Segments {
		segs = append(segs, s.From+" → "+s.To)
		if s.ClockBound == BoundUpper && s.LatencyNs.Min < 0 {
			t.Errorf("%s → %s: upper bounds below zero: %+v", s.From, s.To, s.LatencyNs)
		}
	}
	if !slices.Contains(segs, "ext-1/eth0 → router-1/eth2") || !slices.Contains(segs, "router-1/eth2 → node-a/eth0") {
		t.Errorf("ext-1's replies do not cross router-1: segments %q", segs)
	}
}

// TestLimitViaLab: a clock bounded on one side only through another node's clock names it, in the
// method and in the clock's via. two-routers-drop-r2: router-2's limit comes from router-1's packets
// and router-1's clock, itself bounded from node-a only; router-three-ifaces: ext-1's from router-1's,
// estimated both ways. On main the method named the nodes whose packets bound it ("node-a,
// router-1→router-2") but not which one set the limit, and the JSON had no via.
func TestLimitViaLab(t *testing.T) {
	cases := []struct{ scenario, node, via, text string }{
		{"two-routers-drop-r2", "router-2", "router-1", "through router-1 (set against router-1's clock, itself bounded on one side only)"},
		{"two-routers-drop-r2", "router-1", "node-a", ""},
		{"router-three-ifaces", "ext-1", "router-1", "through router-1 (set against router-1's clock as estimated)"},
	}
	for _, tc := range cases {
		r, _ := labRun(t, tc.scenario, false, Options{})
		found := false
		for _, c := range r.Clocks {
			if c.Node != tc.node {
				continue
			}
			found = true
			m := jsonOf(t, c)
			if v, _ := m["via"].(string); v != tc.via {
				t.Errorf("%s: %s's via %q, want %q", tc.scenario, tc.node, v, tc.via)
			}
			if tc.text != "" && !strings.Contains(c.Method, tc.text) {
				t.Errorf("%s: %s's method does not say %q: %s", tc.scenario, tc.node, tc.text, c.Method)
			}
			if tc.text == "" && strings.Contains(c.Method, "through") {
				t.Errorf("%s: %s's method names a node for a limit set from the reference: %s", tc.scenario, tc.node, c.Method)
			}
		}
		if !found {
			t.Errorf("%s: no clock of %s", tc.scenario, tc.node)
		}
	}
}

// TestPairBoundChains: a limit set through a clock that was itself set through another moves with
// them all: router-3 bounded above through router-2, through router-1, through node-a, so router-3's
// error is at most router-2's, at most router-1's (e ≤ e(via)). router-1 → router-3 is a lower bound,
// router-3 → router-1 an upper one (segClock on main looked one link only and said neither). Two
// clocks set through the same node (router-2 and router-4 through router-1) stay unknown either way.
func TestPairBoundChains(t *testing.T) {
	const a, r1, r2, r3, r4 = 0, 1, 2, 3, 4
	up := func(via int) clockModel {
		return clockModel{offset: 1000, bound: -1, open: sideUpper, openBy: []int{via}, openVia: via + 1}
	}
	w := &world{nodes: []string{"node-a", "router-1", "router-2", "router-3", "router-4"}, pointNode: []int{a, r1, r2, r3, r4}}
	an := &analysis{w: w, clocks: []clockModel{{method: "reference"}, up(a), up(r1), up(r2), up(r1)}}
	for _, tc := range []struct {
		from, to int
		want     string
	}{
		{r1, r3, BoundLower}, {r3, r1, BoundUpper}, {a, r3, BoundLower}, {r3, a, BoundUpper},
		{r2, r4, BoundNone}, {r4, r3, BoundNone}, {r1, r4, BoundLower},
	} {
		if got, note := an.segClock(tc.from, tc.to, true); got != tc.want {
			t.Errorf("%s → %s: %q (%s), want %q", w.nodes[tc.from], w.nodes[tc.to], got, note, tc.want)
		}
	}
}

// TestClockSkewOneSidedLab: clock-skew gives a node's offset; for a clock bounded on one side only
// that offset is a limit, and the finding says so. state-neigh-failed (with k8s/), node-b's captures
// 5 ms ahead: node-b's clock is bounded from node-a's side only (no packet came back), so its offset
// is at most about 5 ms. On main the finding said "Offset 5.02ms" as a measured offset.
func TestClockSkewOneSidedLab(t *testing.T) {
	src := "../testdata/lab/scenarios/state-neigh-failed"
	if _, err := os.Stat(filepath.Join(src, "k8s")); err != nil {
		t.Skip("no state-neigh-failed lab scenario")
	}
	dir := t.TempDir()
	pcaps, _ := filepath.Glob(filepath.Join(src, "*.pcap"))
	var paths []string
	for _, p := range pcaps {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(filepath.Base(p), "node-b-") {
			shiftCapture(t, b, 5*time.Millisecond)
		}
		q := filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(q, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, q)
	}
	cfg, m := labK8sConfig(t, src, decode.PointConfig{})
	r := Correlate(decode.Load(paths, decode.Options{}, cfg), Options{Cluster: m})
	found := false
	for _, a := range r.Anomalies {
		if a.Kind != "clock-skew" || a.Where.Node != "node-b" {
			continue
		}
		found = true
		if !strings.Contains(a.Message, "Offset at most 5") || !strings.Contains(a.Message, "bounded on one side only") {
			t.Errorf("clock-skew of node-b gives its one-sided offset as measured: %s", a.Message)
		}
	}
	if !found {
		for _, c := range r.Clocks {
			t.Logf("%s: %d %d %s", c.Node, c.OffsetNs, c.BoundNs, c.Method)
		}
		t.Fatal("no clock-skew for node-b, 5 ms ahead")
	}
}
