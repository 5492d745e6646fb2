package correlate

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// stepVerdicts sums up what a report says of the packets: the summary's counts, every finding of warning
// severity or above but clock-step (kind and place), and per segment the packets, losses and the
// latencies to the 10 µs.
func stepVerdicts(r *Result) string { return stepSummary(r, true) }

// stepSummary is stepVerdicts, with the segments' latencies only when lat is set (stepCounts without).
func stepSummary(r *Result, lat bool) string {
	var ks []string
	for _, an := range r.Anomalies {
		if an.Severity != sevInfo && an.Kind != "clock-step" {
			ks = append(ks, fmt.Sprintf("%s %s %v", an.Severity, an.Kind, an.Where))
		}
	}
	sort.Strings(ks)
	s := fmt.Sprintf("journeys %d delivered %d lost %d not-captured %d\n%s\n", r.Summary.Journeys, r.Summary.Delivered,
		r.Summary.Lost, r.Summary.NotCaptured, strings.Join(ks, "\n"))
	for _, sg := range r.Segments {
		s += fmt.Sprintf("%s→%s %d/%d/%d", sg.From, sg.To, sg.Packets, sg.Lost, sg.NotCaptured)
		if l := sg.LatencyNs; lat {
			s += fmt.Sprintf(" min %d p50 %d max %d", l.Min/1e4, l.P50/1e4, l.Max/1e4)
		}
		s += "\n"
	}
	return s
}

// A node's clock stepped mid-capture (ntpd/chrony: every time from a moment on moved by +40 ms, +1 s
// or −300 ms), on real lab captures: healthy-ipip, tcp-retransmission and healthy-vxlan with node-b's
// (or the reference node-a's) files rewritten from the moment on. The report must be the unstepped
// one (counts, findings, per-segment latencies), the clocks the unstepped ones (within 20 µs), and
// one clock-step warning name the node and the step. Before: one offset for the whole capture, off
// by half the step on node-b and router-1 alike ("no offset fits every sample"), no word of a step;
// healthy-ipip +40 ms at 1 s gave "1 of 12 packets lost" inside node-b and a TCP retransmission that
// never was, tcp-retransmission +40 ms a second retransmission and a loss that never were, and every
// latency across node-b was off by tens of milliseconds.
func TestClockStepCorrected(t *testing.T) {
	for _, sc := range []string{"healthy-ipip", "tcp-retransmission", "healthy-vxlan"} {
		base := Correlate(labStepped(t, sc, "node-b", 0, 0), Options{})
		want := stepVerdicts(base)
		for _, c := range []struct {
			node string
			at   time.Duration
		}{{"node-b", time.Second}, {"node-b", 1611 * time.Millisecond}, {"node-b", 300 * time.Millisecond},
			{"node-a", time.Second}, {"node-a", 1611 * time.Millisecond}} {
			for _, d := range []time.Duration{40 * time.Millisecond, time.Second, -300 * time.Millisecond} {
				t.Run(fmt.Sprintf("%s/%s/%v/%v", sc, c.node, c.at, d), func(t *testing.T) {
					r := Correlate(labStepped(t, sc, c.node, c.at, d), Options{})
					if got := stepVerdicts(r); got != want {
						t.Errorf("verdicts:\n%s\nwant (no step):\n%s", got, want)
					}
					for _, bc := range base.Clocks {
						if got := clockOf(r, bc.Node); abs64(got.OffsetNs-bc.OffsetNs) > int64(20*time.Microsecond) {
							t.Errorf("clock %s: %v (%s), want %v as without the step", bc.Node, time.Duration(got.OffsetNs),
								got.Method, time.Duration(bc.OffsetNs))
						}
					}
					var steps []Anomaly
					for _, an := range r.Anomalies {
						if an.Kind == "clock-step" {
							steps = append(steps, an)
						}
					}
					if len(steps) != 1 || steps[0].Where.Node != c.node || steps[0].Severity != sevWarning {
						t.Fatalf("clock-step findings %+v: want one warning at %s", steps, c.node)
					}
					m := clockOf(r, c.node).Method
					i := strings.Index(m, "stepped by ")
					j := strings.Index(m, " during the capture")
					if i < 0 || j < i {
						t.Fatalf("%s clock method %q: no step", c.node, m)
					}
					if got, err := time.ParseDuration(strings.TrimPrefix(m[i+len("stepped by "):j], "+")); err != nil ||
						abs64(int64(got-d)) > int64(20*time.Microsecond) {
						t.Errorf("%s clock method %q: want stepped by %v", c.node, m, d)
					}
				})
			}
		}
	}
}

// Where the captures cannot place the step (tcp-retransmission, node-b −300 ms in the middle of the
// HTTP exchange: frames of node-b between the last packet with the old offset and the first with the
// new one, their times used twice), the clock-step finding says so, with the frames' count and the
// span, and no finding is an error.
func TestClockStepUnsure(t *testing.T) {
	r := Correlate(labStepped(t, "tcp-retransmission", "node-b", 1613500*time.Microsecond, -300*time.Millisecond), Options{})
	n := 0
	for _, an := range r.Anomalies {
		if an.Severity == sevError {
			t.Errorf("%s %s at %v: %s", an.Severity, an.Kind, an.Where, an.Message)
		}
		if an.Kind == "clock-step" {
			n++
			if an.Where.Node != "node-b" || !strings.Contains(an.Message, "cannot place the step exactly") ||
				!strings.Contains(an.Next, "--offset node-b=") {
				t.Errorf("clock-step %+v: want node-b, that the step cannot be placed, and the fix", an)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d clock-step findings, want 1", n)
	}
}

// No lab scenario's clock steps: none of them may report one (clock-drift's 200 ppm is a line, not a
// step; tcp-retransmission's real retransmission is none either).
func TestClockStepNoneInLab(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*/truth.json")
	if len(dirs) == 0 {
		t.Skip("no lab scenarios")
	}
	for _, tf := range dirs {
		dir := filepath.Dir(tf)
		pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
		ngs, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
		r := Correlate(decode.Load(append(pcaps, ngs...), decode.Options{}, decode.PointConfig{}), Options{})
		for _, an := range r.Anomalies {
			if an.Kind == "clock-step" {
				t.Errorf("%s: %s", filepath.Base(dir), an.Message)
			}
		}
		for _, c := range r.Clocks {
			if strings.Contains(c.Method, "stepped") {
				t.Errorf("%s: clock %s: %s", filepath.Base(dir), c.Node, c.Method)
			}
		}
	}
}

// splitPair on made-up samples of a pair [a, b]: a 200 ppm drift over 10 s (2 ms) is a line, not a
// step; a clock that steps by +5 ms at 5 s is one, of that size, placed between the samples around it.
func TestSplitPair(t *testing.T) {
	us := int64(time.Microsecond)
	mk := func(theta func(x int64) int64) (ab, ba []delaySample) {
		for i := int64(0); i < 100; i++ {
			x := i * 100 * int64(time.Millisecond)
			ab = append(ab, delaySample{t: x, m: 50*us + theta(x), fp: uint64(2 * i)})
			ba = append(ba, delaySample{t: x + 10*us + theta(x), m: 50*us - theta(x), fp: uint64(2*i + 1)})
		}
		return ab, ba
	}
	if _, ok, _ := splitPair(mk(func(x int64) int64 { return x / 5000 })); ok {
		t.Errorf("200 ppm drift taken for a step")
	}
	if _, ok, _ := splitPair(mk(func(x int64) int64 { return 0 })); ok {
		t.Errorf("a steady clock taken for a step")
	}
	s, ok, _ := splitPair(mk(func(x int64) int64 {
		if x >= 5*int64(time.Second) {
			return 5 * int64(time.Millisecond)
		}
		return 0
	}))
	if !ok || abs64(s.after-s.before-5*int64(time.Millisecond)) > 60*us {
		t.Fatalf("step of 5ms: %+v %v", s, ok)
	}
	if s.preA >= 5*int64(time.Second) || s.postA < 5*int64(time.Second) {
		t.Errorf("step placed between %v and %v, want around 5s", time.Duration(s.preA), time.Duration(s.postA))
	}
}
