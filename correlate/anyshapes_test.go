package correlate

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// perInterface lists a lab scenario's per-interface captures (every .pcap but the -i any ones).
func perInterface(t *testing.T, sc string) []string {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join("../testdata/lab/scenarios", sc, "*.pcap"))
	var out []string
	for _, p := range all {
		if !strings.HasSuffix(p, "-any.pcap") {
			out = append(out, filepath.Base(p))
		}
	}
	if len(out) == 0 {
		t.Skip("no lab scenarios")
	}
	return out
}

// checkTruthCounts checks that no packet the truth says was delivered is counted lost and no packet
// it says was lost is counted delivered, in each direction of each of the truth's flows (GSO/GRO
// pieces and ICMP errors left out, as checkLab does), and returns the lost count over all of them.
func checkTruthCounts(t *testing.T, tr *labTruth, r *Result) int {
	t.Helper()
	total := 0
	for _, tf := range tr.Flows {
		f, dir := findFlow(r, tf.Proto, tf.Src, tf.Dst, tf.Sport, tf.Dport)
		if f == nil {
			continue
		}
		delivered, lost := 0, 0
		for _, j := range r.FlowJourneys(f.ID) {
			if j.Dir != dir || isPiece(r, &j) || isICMPError(r, &j) {
				continue
			}
			switch j.Status {
			case statusDelivered, statusSplit, statusMerged:
				delivered++
			case statusLost:
				lost++
			}
		}
		if delivered > tf.Delivered || lost > tf.Sent-tf.Delivered {
			t.Errorf("%s %s %s:%d → %s:%d: %d delivered, %d lost; the truth: %d of %d delivered", f.ID, tf.Proto,
				tf.Src, tf.Sport, tf.Dst, tf.Dport, delivered, lost, tf.Delivered, tf.Sent)
		}
		total += lost
	}
	return total
}

// A NodePort's request that node-a DNATs to pod-b on node-b and sends on, encapsulated, is not
// delivered at node-a for having been addressed to node-a's own IP. nodeport-cluster-drop's UDP
// requests die at router-1 between its eth0 and eth1 (truth.json); with the -i any files alone, or
// the per-interface captures without router-1/eth0's, node-a is the last place they were seen, and
// calipath counted all 3 delivered there (no underlay-drop at all). They are lost after node-a's
// underlay, toward node-b, whose captures did not see them. Per interface, router-1/eth1 is on their
// way after node-a (router-1's second visit, the TTL two lower than at its eth2: visits): lost
// between node-a/eth0 and router-1/eth1, the segment that holds the truth's router-1/eth0 →
// router-1/eth1 (node-a/eth0 → node-b/eth0 before, router-1/eth1 put before node-a).
func TestNodePortOnwardNotDelivered(t *testing.T) {
	per := perInterface(t, "nodeport-cluster-drop")
	for _, c := range []struct {
		name  string
		drop  []string
		where string
	}{
		{"any-only", per, "node-a/any#2→node-b/any#2"},
		{"per-interface-without-router-1-eth0", []string{"node-a-any.pcap", "node-b-any.pcap", "router-1-eth0.pcap"},
			"node-a/eth0→router-1/eth1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, r := labSubset(t, "nodeport-cluster-drop", c.drop, nil)
			if lost := checkTruthCounts(t, tr, r); lost != 3 {
				t.Errorf("%d packets lost, want the truth's 3", lost)
			}
			found := false
			var got []string
			for _, a := range r.Anomalies {
				found = found || a.Kind == "underlay-drop" && a.Where.From+"→"+a.Where.To == c.where && a.Count == 3
				got = append(got, fmt.Sprintf("%s %s %s%s→%s (%d)", a.Severity, a.Kind, a.Where.Point, a.Where.From, a.Where.To, a.Count))
			}
			if !found {
				t.Errorf("no underlay-drop of 3 at %s: %s", c.where, strings.Join(got, "; "))
			}
		})
	}
}

// A pod's veth in a -i any capture is known by its host's neighbour solicitation for the pod's address,
// sent from the pods' gateway address fe80::ecee:eeff:feee:eeee: in pmtu-discovery6 and
// mtu-blackhole6, pod-b only answers (its gateway already resolved), and the cooked capture records
// no destination MAC, so node-b's veth (ifindex 3) showed no other signature. Its role was unknown:
// the paths stopped at node-b's vxlan-v6.calico, every request to pod-b was "left-captures" and each
// run said path-incomplete at node-b/any#4 (with the -i any files alone, or node-b's beside node-a's
// per-interface captures).
func TestHostNDPodVeth(t *testing.T) {
	for _, sc := range []string{"pmtu-discovery6", "mtu-blackhole6"} {
		for _, c := range []struct {
			name string
			drop []string
		}{
			{"any-only", perInterface(t, sc)},
			{"node-b-any-with-node-a-per-interface", []string{"node-a-any.pcap", "node-b-cali2f5353dd8c5.pcap",
				"node-b-eth0.pcap", "node-b-vxlan-v6.calico.pcap"}},
		} {
			t.Run(sc+"/"+c.name, func(t *testing.T) {
				tr, r := labSubset(t, sc, c.drop, nil)
				role := ""
				for _, p := range r.Points {
					if p.ID == "node-b/any#3" {
						role = p.Role + " " + p.PodIP
					}
				}
				if role != "pod-veth fd00:244::47" {
					t.Errorf("node-b/any#3: %q, want pod-veth fd00:244::47", role)
				}
				checkTruthCounts(t, tr, r)
				for _, a := range r.Anomalies {
					if a.Kind == "path-incomplete" {
						t.Errorf("path-incomplete at %s: %s", a.Where.Point, a.Message)
					}
				}
				for _, f := range r.Flows {
					for _, j := range r.FlowJourneys(f.ID) {
						if j.Status == statusLeft {
							t.Errorf("journey %d (%s %s) left the captures at %s", j.ID, j.Flow, j.Dir, j.LastSeen)
						}
					}
				}
			})
		}
	}
}
