package correlate

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// checkRightOrSaid runs lab scenario sc with the nodes' clocks stepped as steps says and checks that
// the report is not confidently wrong: no finding is an error, and either the counts are truth.json's
// with every step the clock-step warnings name one of steps (its node, its size within 20 µs), or the
// summary says the counts are unreliable. It returns whether the steps were corrected: counts right
// and each stepped node's step named. perIf leaves the -any files out.
func checkRightOrSaid(t *testing.T, sc string, steps map[string][]labStep, perIf bool) (corrected bool) {
	t.Helper()
	r := Correlate(labClocks(t, sc, perIf, func(node string, first, ts int64) int64 {
		return stepAll(first, ts, steps[node])
	}), Options{})
	for _, an := range r.Anomalies {
		if an.Severity == sevError {
			t.Errorf("%v: %s %s at %v: %s", steps, an.Severity, an.Kind, an.Where, an.Message)
		}
	}
	sent, delivered := truthCounts(t, sc)
	s := r.Summary
	right := s.Journeys == sent && s.Delivered == delivered && s.Lost == sent-delivered
	if !right && !strings.Contains(s.Unreliable, "counts are unreliable") {
		t.Errorf("%s %v (per-interface %v): %d packets, %d delivered, %d lost (truth.json: %d and %d), not said unreliable", sc, steps, perIf,
			s.Journeys, s.Delivered, s.Lost, sent, delivered)
	}
	named := map[string]bool{}
	for _, an := range stepsOf(r) {
		said := steppedBy(t, an.Message)
		if len(said) == 0 {
			continue // a tie or a clock no offset fits: nothing corrected
		}
		node := an.Where.Node
		want := steps[node]
		if len(said) != len(want) {
			t.Errorf("%s %v: clock-step at %s says steps %v, want %v", sc, steps, node, said, want)
			continue
		}
		for i := range want {
			if abs64(int64(said[i]-want[i].d)) > int64(20*time.Microsecond) {
				t.Errorf("%s %v: clock-step at %s says %v, want %v: %s", sc, steps, node, said[i], want[i].d, an.Message)
			}
		}
		named[node] = true
	}
	return right && len(named) == len(steps) && s.Unreliable == ""
}

// stepsName names a set of steps for a subtest.
func stepsName(sc string, steps map[string][]labStep) string {
	name := sc
	for _, n := range slices.Sorted(maps.Keys(steps)) {
		for _, s := range steps[n] {
			name += fmt.Sprintf("/%s%v@%v", n, s.d, s.at)
		}
	}
	return name
}

// A router's clock stepped back as a packet crossed it (clusterip-dnat, router-1 −300 µs at 1.611 s:
// the TCP SYN in at eth0 before the step, out at eth1 15 µs later, after it, so 285 µs earlier on
// router-1's clock). Its sample from node-a is router-1's first after the step, its sample to node-b
// the last before: the two pairs' spans do not overlap on router-1's clock, though the step can be at
// one moment for both (momentsMeet), and the SYN is pinned on both sides, each at its own frame
// (pinSide). Before, only the pair with node-a was taken for router-1's step, the SYN kept one pin
// (after, at eth1), its eth0 frame was taken as after by its time, and the step, taken off, left the
// samples apart: not corrected, "No single offset fits the clock of router-1: the packets across it
// disagree by 297.7µs", 39 packets, 27 delivered, 11 lost and an encap-drop at node-a (truth: 27 sent,
// 27 delivered). Now it is found at router-1, sized −300 µs and taken off: the counts and latencies
// are the unstepped run's and truth.json's.
func TestClockStepBackAcrossRouter(t *testing.T) {
	ms, us := time.Millisecond, time.Microsecond
	base := Correlate(labSteps(t, "clusterip-dnat", "node-b"), Options{})
	checkNodesStepped(t, "clusterip-dnat", base, map[string][]labStep{"router-1": {{1611 * ms, -300 * us}}})
}

// The mirror shapes of TestClockStepBackAcrossRouter (the step the other way, at other moments about
// the SYN, of another clock, with a second clock stepped the other way, in the other scenarios) come
// out right (the counts truth.json's, each step named at its node with its size) or said unreliable:
// never confidently wrong, and never an error.
func TestClockStepBackAcrossMirrors(t *testing.T) {
	ms, us := time.Millisecond, time.Microsecond
	at := []time.Duration{1610900 * us, 1611 * ms, 1611100 * us, 1611300 * us}
	for _, sc := range []string{"clusterip-dnat", "healthy-ipip", "tcp-retransmission"} {
		for _, a := range at {
			for _, c := range []map[string][]labStep{
				{"router-1": {{a, -300 * us}}},
				{"router-1": {{a, 300 * us}}},
				{"node-a": {{a, -300 * us}}},
				{"node-b": {{a, -300 * us}}},
				{"router-1": {{a, -300 * us}}, "node-a": {{a, 300 * us}}},
				{"router-1": {{a, -300 * us}}, "node-b": {{a, 300 * us}}},
				{"node-b": {{a, -500 * us}}},
				{"node-b": {{a, 500 * us}}},
				{"node-a": {{a, -500 * us}}},
				{"node-b": {{a, -800 * us}}},
				{"router-1": {{a, -500 * us}}, "node-a": {{a, 500 * us}}},
				{"node-a": {{a, -500 * us}}, "router-1": {{a, 500 * us}}},
			} {
				for _, perIf := range []bool{false, true} {
					name := stepsName(sc, c)
					if perIf {
						name += "/per-interface"
					}
					t.Run(name, func(t *testing.T) {
						checkRightOrSaid(t, sc, c, perIf)
					})
				}
			}
		}
	}
}

// A node's clock stepped back as a packet lingered in it (healthy-ipip, node-b −500 µs or −800 µs at
// 1.611 s: the TCP ACK of the FIN spent 647 µs between node-b's tunl0, before the step, and its eth0,
// after it). Its sample pins it after the step at eth0, and its tunl0 and pod-veth frames, 147 µs
// before that on node-b's clock, were taken as after too; in node-b's -any file those frames come
// before node-b's last frame placed before the step, so the pins contradicted the file's order, the
// file was placed by time, and the step, taken off, left the samples apart: not kept. Before: "No
// single offset fits the clock of node-b: the packets across it disagree by 491.7µs", 30 packets, 29
// delivered, 1 lost (truth: 27 and 27). Now a file whose order contradicts its pins is placed by the
// pins at their own frames (and the sure times): the step is found, sized and taken off.
func TestClockStepBackLingered(t *testing.T) {
	ms, us := time.Millisecond, time.Microsecond
	base := Correlate(labSteps(t, "healthy-ipip", "node-b"), Options{})
	for _, d := range []time.Duration{-500 * us, -800 * us} {
		checkNodesStepped(t, "healthy-ipip", base, map[string][]labStep{"node-b": {{1611 * ms, d}}})
	}
}
