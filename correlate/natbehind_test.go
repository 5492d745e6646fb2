package correlate

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// npUncaptured is nodeport-cluster without node-a's captures and node-b's per-interface ones: node-b's
// -i any file, router-1's three interfaces and ext-1's eth0. ext-1's requests reach node-a (its NodePort
// DNAT and masquerade, which no capture shows) through router-1/eth0 and come back through it
// encapsulated toward node-b. ext-1's clock cannot be estimated (no address of its packets is a node's):
// it is not corrected.
var npUncaptured = []string{"node-a-any.pcap", "node-a-cali5e1c4d6c68c.pcap", "node-a-eth0.pcap", "node-a-tunl0.pcap",
	"node-b-cali2f5353dd8c5.pcap", "node-b-eth0.pcap", "node-b-tunl0.pcap"}

// anomalyList is a run's anomalies, one line each, for a test's message.
func anomalyList(r *Result) string {
	var got []string
	for _, a := range r.Anomalies {
		got = append(got, fmt.Sprintf("%s %s %s%s→%s (%d)", a.Severity, a.Kind, a.Where.Point, a.Where.From, a.Where.To, a.Count))
	}
	return strings.Join(got, "; ")
}

// Two of ext-1's ACKs, sent 24µs apart, were each stamped at ext-1/eth0 after router-1/eth0 (ext-1's
// clock not corrected), so each journey's latest sighting was ext-1's when its packet came back through
// router-1/eth0 rewritten: the NAT candidate wanted the journey last seen on router-1's node, and each
// rewritten half began a journey of its own. Both halves of both ACKs were counted lost on router-1/eth0 →
// router-1/eth0 ("WARNING loss ... (4)", frames 23, 25, 33, 34), the second halves as replies; truth.json
// says every packet was delivered. A journey that passed the node before, last seen upstream (a higher
// TTL than the rewritten sighting's), is its packet all the same (natBehind); the NAT is at
// router-1/eth0 → router-1/eth0, where the packet left for node-a.
func TestNATBehindUncorrectedSender(t *testing.T) {
	tr, r := labSubset(t, "nodeport-cluster", npUncaptured, nil)
	if lost := checkTruthCounts(t, tr, r); lost != 0 {
		t.Errorf("%d packets lost, the truth none", lost)
	}
	if r.Summary.Lost != 0 {
		t.Errorf("summary: %+v, want none lost", r.Summary)
	}
	for _, a := range r.Anomalies {
		if a.Kind == "loss" || a.Kind == "nat" && a.Where.From != "router-1/eth0" {
			t.Errorf("%s %s at %s → %s (%d), frames %v", a.Severity, a.Kind, a.Where.From, a.Where.To, a.Count, a.Evidence)
		}
	}
	f, dir := findFlow(r, "tcp", "203.0.113.10", "192.168.10.2", 43470, 30080)
	if f == nil {
		t.Fatalf("no flow 203.0.113.10:43470 → 192.168.10.2:30080: %s", anomalyList(r))
	}
	c2s, rest := 0, 0
	for _, j := range r.FlowJourneys(f.ID) {
		switch {
		case isPiece(r, &j):
		case j.Status != statusDelivered && j.Status != statusSplit:
			t.Errorf("journey %d (%s): %s at %s, next %s", j.ID, j.Dir, j.Status, j.LastSeen, j.NextExpected)
		case j.Dir == dir:
			c2s++
		default:
			rest++
		}
	}
	if c2s != 8 || rest != 6 {
		t.Errorf("%d requests and %d replies delivered, want 8 and 6 (the ACKs joined again)", c2s, rest)
	}
}

// withoutRecords returns the lab capture at path without the records numbered in drop (from 1).
func withoutRecords(t *testing.T, path string, drop ...int) []byte {
	t.Helper()
	i := 0
	return pcapKeep(t, path, func([]byte) bool { i++; return !slices.Contains(drop, i) })
}

// A packet whose path crosses one point twice in a row left by it for a node no capture shows, to come
// back rewritten by a NAT there. Here the captures are npUncaptured's without the two ACKs' rewritten
// halves anywhere (router-1/eth0's frames 33 and 34, router-1/eth1's 18 and 19, node-b's 48, 49 and 54
// to 57): their first halves end at router-1/eth0. That their rewritten halves were not found is no place
// they were lost: "lost at router-1/eth0 → router-1/eth0" would name a segment from a point to itself.
// They are not captured.
func TestNoLossFromPointToItself(t *testing.T) {
	dir := "../testdata/lab/scenarios/nodeport-cluster"
	repl := map[string][]byte{
		"router-1-eth0.pcap": withoutRecords(t, filepath.Join(dir, "router-1-eth0.pcap"), 33, 34),
		"router-1-eth1.pcap": withoutRecords(t, filepath.Join(dir, "router-1-eth1.pcap"), 18, 19),
		"node-b-any.pcap":    withoutRecords(t, filepath.Join(dir, "node-b-any.pcap"), 48, 49, 54, 55, 56, 57),
	}
	_, r := labSubset(t, "nodeport-cluster", npUncaptured, repl)
	for _, a := range r.Anomalies {
		if a.Where.From != "" && a.Where.From == a.Where.To && a.Kind != "nat" {
			t.Errorf("%s %s at %s → %s (%d)", a.Severity, a.Kind, a.Where.From, a.Where.To, a.Count)
		}
	}
	for _, s := range r.Segments {
		if s.From == s.To && s.Lost != 0 {
			t.Errorf("segment %s → %s: %d lost", s.From, s.To, s.Lost)
		}
	}
	f, _ := findFlow(r, "tcp", "203.0.113.10", "192.168.10.2", 43470, 30080)
	if f == nil {
		t.Fatalf("no flow 203.0.113.10:43470 → 192.168.10.2:30080: %s", anomalyList(r))
	}
	nc := 0
	for _, j := range r.FlowJourneys(f.ID) {
		switch j.Status {
		case statusLost:
			t.Errorf("journey %d (%s) lost at %s, next %s", j.ID, j.Dir, j.LastSeen, j.NextExpected)
		case statusNotCaptured:
			nc++
			if j.LastSeen != "router-1/eth0" {
				t.Errorf("journey %d (%s) not captured past %s, want router-1/eth0", j.ID, j.Dir, j.LastSeen)
			}
		}
	}
	if nc != 2 {
		t.Errorf("%d journeys not captured, want the two ACKs", nc)
	}
}
