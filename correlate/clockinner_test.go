package correlate

import "testing"

// The NodePort scenarios without node-a's eth0 (per interface, and with node-b's -any file): node-a's
// clock is seen only at its tunl0, past its IP-in-IP daemon's decapsulation (about 26 µs) and
// encapsulation (about 77 µs). As the reference, it set router-1 and node-b 28.2 and 27.4 µs off
// (7.2 and 6.6 µs on -drop) with ± 1.61 µs claimed, where the lab's hosts share one clock; the replies
// then reached ext-1 "before" router-1 sent them: clock-inconsistent router-1/eth0 → ext-1/eth0 (2; 6 on
// -drop), router-1/eth2 → node-a/tunl0 (4), and 9 replies left-captures at ext-1/eth0. Now a node seen
// at the wire is the reference (pickReference), node-a's own bound spans its delays, and its hops go
// where their TTL says within that bound (innerFirst): every clock's claimed interval holds the truth's
// offset (0), and every packet is counted as the truth has it.
func TestNodePortTunnelOnlyClock(t *testing.T) {
	for _, sc := range []string{"nodeport-cluster", "nodeport-cluster-drop"} {
		for _, anyNode := range []string{"", "node-b"} {
			name := sc + " " + anyNode
			tr, r := labSubset(t, sc, nodePortFiles(anyNode, "node-a-eth0.pcap"), nil)
			for _, c := range r.Clocks {
				if c.BoundNs >= 0 && (c.OffsetNs > c.BoundNs || c.OffsetNs < -c.BoundNs) {
					t.Errorf("%s: %s's clock %+dns ± %dns (%s): the truth's 0 is outside", name, c.Node, c.OffsetNs, c.BoundNs, c.Method)
				}
				if c.DriftPPM != 0 { // node-a's, fitted to its daemon's delays, read -67.9 ppm
					t.Errorf("%s: %s's clock drifts %.3f ppm (%s): the lab's hosts share one clock", name, c.Node, c.DriftPPM, c.Method)
				}
			}
			noClockInconsistent(t, name, r)
			for _, a := range r.Anomalies {
				if a.Kind == "path-incomplete" {
					t.Errorf("%s: %s %s at %s (%d): %s", name, a.Severity, a.Kind, a.Where.Point, a.Count, a.Message)
				}
			}
			sent, delivered := 0, 0
			for _, tf := range tr.Flows {
				sent, delivered = sent+tf.Sent, delivered+tf.Delivered
			}
			if s := r.Summary; s.Journeys != sent || s.Delivered != delivered || s.Lost != sent-delivered || s.NotCaptured != 0 {
				t.Errorf("%s: summary %+v, want %d journeys, %d delivered, %d lost, none not captured", name, s, sent, delivered, sent-delivered)
			}
		}
	}
}
