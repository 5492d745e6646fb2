package correlate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// truthCounts returns what a lab scenario's truth.json says its flows sent and delivered, in all.
func truthCounts(t *testing.T, scenario string) (sent, delivered int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../testdata/lab/scenarios", scenario, "truth.json"))
	if err != nil {
		t.Skipf("no truth.json for %s", scenario)
	}
	var tr struct {
		Flows []struct{ Sent, Delivered int } `json:"flows"`
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	for _, f := range tr.Flows {
		sent, delivered = sent+f.Sent, delivered+f.Delivered
	}
	return sent, delivered
}

// stepsOf returns a report's clock-step findings.
func stepsOf(r *Result) []Anomaly {
	var out []Anomaly
	for _, an := range r.Anomalies {
		if an.Kind == "clock-step" {
			out = append(out, an)
		}
	}
	return out
}

// steppedBy returns the steps a clock's method says were taken off it, in the order it says them.
func steppedBy(t *testing.T, method string) []time.Duration {
	t.Helper()
	var out []time.Duration
	for rest := method; ; {
		i := strings.Index(rest, "stepped by ")
		if i < 0 {
			return out
		}
		rest = rest[i+len("stepped by "):]
		j := strings.IndexAny(rest, " ;,")
		if j < 0 {
			j = len(rest)
		}
		d, err := time.ParseDuration(strings.TrimPrefix(rest[:j], "+"))
		if err != nil {
			t.Fatalf("method %q: %v", method, err)
		}
		out = append(out, d)
	}
}

// checkCorrected checks a report of captures whose node's clock stepped by want against the report of
// the same captures unstepped (base) and truth.json (checkCorrectedNodes).
func checkCorrected(t *testing.T, scenario, node string, r, base *Result, want ...time.Duration) {
	t.Helper()
	checkCorrectedNodes(t, scenario, r, base, map[string][]time.Duration{node: want})
}

// checkCorrectedNodes checks a report of captures whose nodes' clocks stepped (want: each node's steps,
// in order) against the report of the same captures unstepped (base) and truth.json: the same verdicts
// (counts, findings, per-segment latencies), the counts truth.json gives, and at each stepped node one
// clock-step warning, and a clock, that say each of its steps, with its moment.
func checkCorrectedNodes(t *testing.T, scenario string, r, base *Result, want map[string][]time.Duration) {
	t.Helper()
	if got, w := stepCounts(r), stepCounts(base); got != w {
		t.Errorf("verdicts (-want +got, want: no step):\n%s", lineDiff(w, got))
	}
	// Latencies within 10 µs, the offsets being known to within the samples' bounds (a few µs); not
	// the most, which one packet that crossed the node as its clock stepped may set, when the captures
	// cannot place the step exactly (said in the clock-step warning).
	lat := map[string]Latency{}
	for _, sg := range base.Segments {
		lat[sg.From+"→"+sg.To] = sg.LatencyNs
	}
	for _, sg := range r.Segments {
		w, l := lat[sg.From+"→"+sg.To], sg.LatencyNs
		if abs64(l.Min-w.Min) > 1e4 || abs64(l.P50-w.P50) > 1e4 {
			t.Errorf("%s→%s latency min %v p50 %v, want %v %v (no step)", sg.From, sg.To, time.Duration(l.Min),
				time.Duration(l.P50), time.Duration(w.Min), time.Duration(w.P50))
		}
	}
	sent, delivered := truthCounts(t, scenario)
	if r.Summary.Journeys != sent || r.Summary.Delivered != delivered {
		t.Errorf("%d packets, %d delivered; want %d and %d (truth.json)", r.Summary.Journeys, r.Summary.Delivered,
			sent, delivered)
	}
	steps := stepsOf(r)
	if len(steps) != len(want) {
		t.Fatalf("clock-step findings %+v: want one warning at each of %v", steps, want)
	}
	for _, st := range steps {
		node := st.Where.Node
		w, ok := want[node]
		if !ok || st.Severity != sevWarning {
			t.Fatalf("clock-step finding %+v: want one warning at each of %v", st, want)
		}
		for what, text := range map[string]string{"clock-step": st.Message, node + " clock": clockOf(r, node).Method} {
			said := steppedBy(t, text)
			if len(said) != len(w) || what == "clock-step" && strings.Count(text, " at 20") < len(w) {
				t.Errorf("%s %q: want each step (%v) named, with its moment", what, text, w)
				continue
			}
			for i := range w {
				if abs64(int64(said[i]-w[i])) > int64(20*time.Microsecond) {
					t.Errorf("%s %q: step %d %v, want %v", what, text, i, said[i], w[i])
				}
			}
		}
	}
}

// A clock step under 1 ms that the samples resolve (node-b's or node-a's clock stepped by +150 µs to
// −800 µs, real lab captures rewritten from the moment on) is found and taken off like a larger one:
// the counts are the unstepped run's and truth.json's, and one clock-step warning names the node, the
// step and the moment. Before, no step under 1 ms was looked for: healthy-ipip with node-b +500 µs at
// 300 ms said "1 of 12 packets lost" inside node-b and a TCP retransmission that never was (30 packets,
// truth 27), tcp-retransmission with node-b +200 µs at 1 s a loss at router-1 that never was.
func TestClockStepSmall(t *testing.T) {
	us := time.Microsecond
	for _, sc := range []string{"healthy-ipip", "tcp-retransmission", "clusterip-dnat"} {
		base := Correlate(labStepped(t, sc, "node-b", 0, 0), Options{})
		for _, c := range []struct {
			node string
			at   time.Duration
			ds   []time.Duration
		}{
			{"node-b", 300 * time.Millisecond, []time.Duration{200 * us, 500 * us, -300 * us, -800 * us}},
			{"node-b", time.Second, []time.Duration{200 * us, 500 * us, -300 * us, -800 * us}},
			{"node-b", 1611 * time.Millisecond, []time.Duration{200 * us, 500 * us, -300 * us, -800 * us}},
			{"node-a", time.Second, []time.Duration{500 * us, -300 * us}},
		} {
			for _, d := range c.ds {
				if sc == "healthy-ipip" && c.at == 1611*time.Millisecond && d == -800*us {
					continue // its frames cannot be placed: TestClockStepUnresolved
				}
				t.Run(fmt.Sprintf("%s/%s/%v/%v", sc, c.node, c.at, d), func(t *testing.T) {
					checkCorrected(t, sc, c.node, Correlate(labStepped(t, sc, c.node, c.at, d), Options{}), base, d)
				})
			}
		}
		// Per-interface captures only, stepped at a fraction of node-b's eth0 capture (as review12 did).
		base = Correlate(labSmallStep(t, sc, "node-b", 0.5, 0), Options{})
		for _, frac := range []float64{0.05, 0.5} {
			for _, d := range []time.Duration{150 * us, 300 * us, -300 * us} {
				t.Run(fmt.Sprintf("%s/per/%v/%v", sc, frac, d), func(t *testing.T) {
					checkCorrected(t, sc, "node-b", Correlate(labSmallStep(t, sc, "node-b", frac, d), Options{}), base, d)
				})
			}
		}
	}
}

// A step the samples cannot resolve (clusterip-dnat, node-b's clock stepped at 98% of its capture:
// after it too few packets both ways to size it) is said: a clock-step warning at node-b that it was
// not corrected; no finding is an error, and no journey that is the rest of a packet another journey
// took is counted as a retransmission. Before: "WARNING retransmission at node-a/cali… (3 retransmitted
// segments)" (truth.json: none resent), and no word of a step.
//
// (healthy-ipip, node-b −800 µs at 1.611 s, was one too: it is now placed and corrected, see
// TestClockStepBackLingered.)
func TestClockStepUnresolved(t *testing.T) {
	for _, c := range []struct {
		name string
		load func(t *testing.T) *decode.Capture
	}{
		{"clusterip-dnat/0.98/300µs", func(t *testing.T) *decode.Capture {
			return labSmallStep(t, "clusterip-dnat", "node-b", 0.98, 300*time.Microsecond)
		}},
		{"clusterip-dnat/0.98/800µs", func(t *testing.T) *decode.Capture {
			return labSmallStep(t, "clusterip-dnat", "node-b", 0.98, 800*time.Microsecond)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := Correlate(c.load(t), Options{})
			said := false
			for _, an := range r.Anomalies {
				switch {
				case an.Severity == sevError:
					t.Errorf("%s %s at %+v: %s", an.Severity, an.Kind, an.Where, an.Message)
				case an.Kind == "retransmission":
					t.Errorf("%s retransmission at %+v: %s (truth.json: none)", an.Severity, an.Where, an.Message)
				case an.Kind == "clock-step" && an.Where.Node == "node-b":
					said = strings.Contains(an.Message, "cannot resolve a step") && strings.Contains(an.Next, "--offset node-b=")
				case an.Kind == "loss" || blindKinds[an.Kind]:
					if !strings.HasPrefix(an.Message, "Uncertain:") {
						t.Errorf("%s %s at %+v: %q, want it said as uncertain", an.Severity, an.Kind, an.Where, an.Message)
					}
				}
			}
			if !said {
				t.Errorf("no clock-step warning at node-b that says the step cannot be resolved: %+v", stepsOf(r))
			}
			for _, f := range r.Flows {
				for _, j := range r.FlowJourneys(f.ID) {
					if j.Retrans {
						t.Errorf("journey %d of %s counted as a retransmission", j.ID, f.ID)
					}
				}
			}
		})
	}
}

// lineDiff lists the lines of want not in got (-) and of got not in want (+).
func lineDiff(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var out []string
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			out = append(out, "-"+l)
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			out = append(out, "+"+l)
		}
	}
	return strings.Join(out, "\n")
}

// stepCounts is stepVerdicts without the latencies: the summary's counts, the findings of warning
// severity or above but clock-step, and per segment the packets, losses and packets not captured.
func stepCounts(r *Result) string { return stepSummary(r, false) }
