package correlate

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// nodePortFiles are the files to leave out of a NodePort scenario for a shape: per-interface files
// (both -any files out), or node's -any file with the others' per-interface files; and drop.
func nodePortFiles(anyNode string, drop ...string) []string {
	out := slices.Clone(drop)
	switch anyNode {
	case "":
		out = append(out, "node-a-any.pcap", "node-b-any.pcap")
	case "node-a":
		out = append(out, "node-b-any.pcap", "node-a-cali5e1c4d6c68c.pcap", "node-a-eth0.pcap", "node-a-tunl0.pcap")
	case "node-b":
		out = append(out, "node-a-any.pcap", "node-b-cali2f5353dd8c5.pcap", "node-b-eth0.pcap", "node-b-tunl0.pcap")
	}
	return out
}

// noClockInconsistent fails the test for every clock-inconsistent anomaly of r: the lab's hosts share
// one clock.
func noClockInconsistent(t *testing.T, name string, r *Result) {
	t.Helper()
	for _, a := range r.Anomalies {
		if a.Kind == "clock-inconsistent" {
			t.Errorf("%s: %s clock-inconsistent at %s → %s: %s", name, a.Severity, a.Where.From, a.Where.To, a.Message)
		}
	}
}

// The NodePort scenarios without router-1/eth0's capture: a request goes in by router-1/eth2 bare, to
// node-a (DNAT, masquerade, IP-in-IP) and back out of router-1/eth1 in IP-in-IP; its reply the other
// way. router-1/eth0, the one point of router-1 they cross both ways, is not captured. Before, router-1's
// two interfaces were one visit (visits), put before node-a: the requests' path read ext-1 →
// router-1/eth2 → router-1/eth1 → node-a/eth0, with false clock-inconsistent warnings at router-1/eth1
// → node-a/eth0 and router-1/eth2 → node-a/eth0 (11 each; 8 on nodeport-cluster-drop), per interface
// and with node-a's or node-b's -any file. The TTL, two lower at router-1's second interface, starts a
// second visit; each path is the truth's less router-1/eth0, every packet delivered.
func TestNodePortRouterEth0Uncaptured(t *testing.T) {
	for _, sc := range []string{"nodeport-cluster", "nodeport-cluster-drop"} {
		for _, anyNode := range []string{"", "node-a", "node-b"} {
			name := sc + " " + anyNode
			tr, r := labSubset(t, sc, nodePortFiles(anyNode, "router-1-eth0.pcap"), nil)
			noClockInconsistent(t, name, r)
			if sc != "nodeport-cluster" {
				continue // its underlay drop is at router-1/eth0 → router-1/eth1
			}
			sent, delivered := 0, 0
			for _, tf := range tr.Flows {
				sent, delivered = sent+tf.Sent, delivered+tf.Delivered
				if anyNode != "" {
					continue // points named by interface index
				}
				f, dir := findFlow(r, tf.Proto, tf.Src, tf.Dst, tf.Sport, tf.Dport)
				if f == nil {
					t.Errorf("%s: no flow %s %s → %s", name, tf.Proto, tf.Src, tf.Dst)
					continue
				}
				want := pathLess(tf.Path, "router-1/eth0")
				if got := strings.Join(flowPath(r, f, dir), " "); got != strings.Join(want, " ") {
					t.Errorf("%s: flow %s %s: path\n  %s\nwant\n  %s", name, f.ID, dir, got, strings.Join(want, " "))
				}
			}
			if s := r.Summary; s.Journeys != sent || s.Delivered != delivered || s.Lost != 0 || s.NotCaptured != 0 {
				t.Errorf("%s: summary %+v, want %d of %d delivered, none lost nor not captured", name, s, delivered, sent)
			}
		}
	}
}

// nodePortOnly is every file of the NodePort scenarios but the two -any files: left out for the
// -any shape.
var nodePortOnly = []string{"ext-1-eth0.pcap", "node-a-cali5e1c4d6c68c.pcap", "node-a-eth0.pcap", "node-a-tunl0.pcap",
	"node-b-cali2f5353dd8c5.pcap", "node-b-eth0.pcap", "node-b-tunl0.pcap", "router-1-eth0.pcap", "router-1-eth1.pcap",
	"router-1-eth2.pcap"}

// The NodePort scenarios with both -any files alone (no router, no client captured): node-a/any#2
// (eth0) sees each request from 203.0.113.10 bare before its DNAT and masquerade, and out again in
// IP-in-IP; any#4 (tunl0) between. Before, node-a's hops were together in time and visits (which
// starts the paths drawn from the journeys' hops) was never called: the path was drawn from the
// rewritten addresses (node-a's tunnel address 10.244.1.0 to pod-b), from node-a/any#4 on, and the
// open ends were said at node-a/any#4, "coming from 10.244.1.0 on node-a" (11) and "headed for
// 10.244.1.0 on node-a" (9 on nodeport-cluster, 6 on nodeport-cluster-drop). Now a journey NAT
// rewrote that crossed a point twice draws its path from its hops (natBack): the ends are at
// node-a/any#2, from and to 203.0.113.10, whose node no capture shows.
func TestNodePortAnyOnlyEnds(t *testing.T) {
	for _, sc := range []string{"nodeport-cluster", "nodeport-cluster-drop"} {
		_, r := labSubset(t, sc, nodePortOnly, nil)
		ends := 0
		for _, a := range r.Anomalies {
			if a.Kind != "path-incomplete" {
				continue
			}
			ends++
			if a.Where.Point != "node-a/any#2" || strings.Contains(a.Message, "10.244.1.0") || strings.Contains(a.Message, "on node-a") ||
				!strings.Contains(a.Message, "203.0.113.10") {
				t.Errorf("%s: path-incomplete at %s: %s", sc, a.Where.Point, a.Message)
			}
		}
		if ends != 2 {
			t.Errorf("%s: %d path-incomplete warnings, want 2 (the client's packets in and out at node-a/any#2)", sc, ends)
		}
		// Node-b's pod veth left out beside node-a's -any file: pod-b's replies, first seen at
		// node-b/tunl0 and rewritten on node-a (the path's other end), still come from pod-b on node-b.
		_, rb := labSubset(t, sc, nodePortFiles("node-a", "node-b-cali2f5353dd8c5.pcap"), nil)
		for _, a := range rb.Anomalies {
			if a.Kind == "path-incomplete" && strings.Contains(a.Message, "first seen at node-b/tunl0") &&
				!strings.Contains(a.Message, "10.244.2.7 on node-b") {
				t.Errorf("%s without node-b's cali: %s", sc, a.Message)
			}
		}
		for _, f := range r.Flows {
			if f.Src.IP == "203.0.113.10" && (len(f.Path) == 0 || f.Path[0] != "node-a/any#2") {
				t.Errorf("%s: flow %s path %v, want it to begin at node-a/any#2", sc, f.ID, f.Path)
			}
		}
	}
}

// The NodePort scenarios without node-a's eth0 (per interface, and with node-b's -any file): no
// capture shows a request on node-a before its DNAT and masquerade; it is last seen at router-1/eth0
// headed for node-a's own address (192.168.10.2) and next at node-a/tunl0, rewritten and headed for
// pod-b on node-b. Before, the rewritten half had no NAT candidate (no journey last seen on node-a,
// nor one that had passed it): each request was two journeys, the first left-captures at
// router-1/eth0, the second, read as the reply, lost (nodeport-cluster: 39 journeys for the truth's
// 28, 10 lost, "underlay-drop node-a/tunl0 → ext-1/eth0"; nodeport-cluster-drop: 36 for 25,
// underlay drops at router-1/eth0 → node-b/eth0 and → router-1/eth2). A journey last seen headed for
// the node's own address, unencapsulated and with a higher TTL, is the packet of a NAT sighting on
// that node headed elsewhere (natBehind, nodeSendsOn).
//
// Not oneway's SNAT replies without node-a's eth0 and with --k8s (node-a's address known): last seen
// at router-1/eth2 headed for 192.168.10.2, then un-SNATed at node-a's cali, headed for pod-a on
// node-a. Joining them made the flows one, and the requests, split at the SNAT no capture shows,
// were lost on their way from the pod's veth to router-1/eth2 (underlay-drop, 10 of 10 lost).
func TestNodePortNodeEth0Uncaptured(t *testing.T) {
	for _, sc := range []string{"nodeport-cluster", "nodeport-cluster-drop"} {
		for _, anyNode := range []string{"", "node-b"} {
			name := sc + " " + anyNode
			tr, r := labSubset(t, sc, nodePortFiles(anyNode, "node-a-eth0.pcap"), nil)
			sent, delivered := 0, 0
			for _, tf := range tr.Flows {
				sent, delivered = sent+tf.Sent, delivered+tf.Delivered
			}
			lost := checkTruthCounts(t, tr, r)
			if s := r.Summary; s.Journeys != sent || s.Lost != sent-delivered || lost != sent-delivered {
				t.Errorf("%s: summary %+v (%d lost in the truth's flows), want %d journeys, %d lost", name, s, lost, sent, sent-delivered)
			}
			for _, a := range r.Anomalies {
				// nodeport-cluster-drop's 3 UDP requests are lost at router-1/eth0 → router-1/eth1 (truth.json).
				truthDrop := sc == "nodeport-cluster-drop" && a.Where.From == "router-1/eth0" && a.Where.To == "router-1/eth1" && a.Count == 3
				// The rewrite is named from the request's last sighting before it, router-1/eth0 (the lowest
				// TTL), not ext-1's copy, which its uncorrected clock puts after router-1's (natFrom).
				natFromExt := a.Kind == "nat" && a.Where.From == "ext-1/eth0"
				if a.Kind == "underlay-drop" && !truthDrop || a.Kind == "loss" || a.Kind == "capture-dropped" ||
					a.Kind == "path-incomplete" && a.Where.Point == "router-1/eth0" || natFromExt {
					t.Errorf("%s: %s %s at %+v (%d): %s", name, a.Severity, a.Kind, a.Where, a.Count, a.Message)
				}
			}
		}
	}
	dir := filepath.Join("../testdata/lab/scenarios", "oneway")
	var files []string
	for _, f := range perInterface(t, "oneway") {
		if f != "node-a-eth0.pcap" {
			files = append(files, filepath.Join(dir, f))
		}
	}
	kcfg, m := labK8sConfig(t, dir, decode.PointConfig{})
	r := Correlate(decode.Load(files, decode.Options{}, kcfg), Options{Cluster: m})
	if r.Summary.Lost != 0 {
		t.Errorf("oneway without node-a's eth0, --k8s: %d lost, want none", r.Summary.Lost)
	}
	for _, a := range r.Anomalies {
		if a.Kind == "underlay-drop" || a.Kind == "loss" {
			t.Errorf("oneway without node-a's eth0, --k8s: %s %s at %+v: %s", a.Severity, a.Kind, a.Where, a.Message)
		}
	}
}

// nodeport-local without node-a's eth0 (per interface, and node-b's -any file with the rest; with and
// without --k8s): ext-1's requests, last seen at router-1/eth0 headed for node-a's own address, are
// first seen again at pod-a's cali DNATed to pod-a, node-a's own pod, as an un-SNATed reply would be.
// Before etp13, each request stayed two journeys (not captured), and so did each reply: 8 of 26
// delivered, a path-incomplete at router-1/eth0 saying no capture of node-a showed them. A rewrite of
// the packets of the side that opened the conversation is a DNAT (dnatOpens: a TCP SYN, a UDP datagram
// whose reverse flow its capture had not shown), and the request's later packets carry the rewrite its
// first showed (natFlowSeen): every request is one journey, delivered. The replies, un-DNATed on
// node-a, are put at router-1/eth0 up to 80 µs before pod-a's cali by the corrected clocks (node-a's,
// fitted alone through its tunnel device, whose lab daemon delays encapsulation far more than
// decapsulation: −89.6 µs ± 127 µs; the lab's clocks are one): within both clocks' bounds, so each is
// joined ahead of its sightings past the rewrite (natAhead) and put first on its path (aheadFirst).
// Before etp14 each reply stayed two journeys, its half at the cali not captured, and a
// clock-inconsistent at node-a's cali → router-1/eth0 (8) asked for node-a's eth0. Now every packet
// of the truth is one journey, delivered along the truth's path less node-a/eth0, and the replies'
// rewrite is said where the captures show it (INFO nat at node-a's cali → router-1/eth0, one per
// reply). Expected counts and paths come from truth.json.
func TestNodePortLocalNodeEth0Uncaptured(t *testing.T) {
	const sc = "nodeport-local"
	var nt struct {
		Nodes []struct {
			Name string `json:"name"`
			IP   string `json:"ip"`
		} `json:"nodes"`
	}
	truthInto(t, sc, &nt)
	nodeIP := map[string]bool{}
	for _, n := range nt.Nodes {
		nodeIP[n.IP] = true
	}
	dir := filepath.Join("../testdata/lab/scenarios", sc)
	kcfg, m := labK8sConfig(t, dir, decode.PointConfig{})
	for _, anyNode := range []string{"", "node-b"} {
		for _, k8s := range []bool{false, true} {
			name := sc + " " + anyNode
			drop := nodePortFiles(anyNode, "node-a-eth0.pcap")
			tr, r := labSubset(t, sc, drop, nil)
			if k8s {
				name += " --k8s"
				var files []string
				for _, f := range append(perInterface(t, sc), "node-a-any.pcap", "node-b-any.pcap") {
					if !slices.Contains(drop, f) {
						files = append(files, filepath.Join(dir, f))
					}
				}
				r = Correlate(decode.Load(files, decode.Options{}, kcfg), Options{Cluster: m})
			}
			sent, requests, replies := 0, 0, 0
			for _, tf := range tr.Flows {
				sent += tf.Sent
				if tf.Sent != tf.Delivered {
					t.Fatalf("%s: the truth's flow %s → %s lost packets; the test expects none", name, tf.Src, tf.Dst)
				}
				f, d := findFlow(r, tf.Proto, tf.Src, tf.Dst, tf.Sport, tf.Dport)
				if f == nil {
					t.Errorf("%s: no flow %s %s:%d → %s:%d", name, tf.Proto, tf.Src, tf.Sport, tf.Dst, tf.Dport)
					continue
				}
				delivered := 0
				for _, j := range r.FlowJourneys(f.ID) {
					if j.Dir == d && j.Status == statusDelivered {
						delivered++
					}
				}
				if delivered != tf.Sent {
					t.Errorf("%s: %s %s:%d → %s:%d: %d delivered, want %d (truth.json)", name, tf.Proto, tf.Src,
						tf.Sport, tf.Dst, tf.Dport, delivered, tf.Sent)
				}
				if slices.ContainsFunc(tf.Path, func(p string) bool { return strings.HasPrefix(p, "node-b/") }) {
					continue // node-b's -any points are named by interface index
				}
				switch {
				case nodeIP[tf.Dst]:
					requests++
				case tf.Path[0] == "node-a/cali5e1c4d6c68c":
					replies += tf.Sent
				}
				want := pathLess(tf.Path, "node-a/eth0")
				if got := strings.Join(flowPath(r, f, d), " "); got != strings.Join(want, " ") {
					t.Errorf("%s: flow %s %s: path\n  %s\nwant\n  %s", name, f.ID, d, got, strings.Join(want, " "))
				}
			}
			if requests != 2 || replies == 0 {
				t.Fatalf("%s: %d flows to a node's address and %d replies from pod-a in truth.json, want 2 (TCP and UDP) and some",
					name, requests, replies)
			}
			if s := r.Summary; s.Journeys != sent || s.Delivered != sent || s.Lost != 0 || s.NotCaptured != 0 {
				t.Errorf("%s: summary %+v, want %d journeys, every one delivered (truth.json)", name, s, sent)
			}
			noClockInconsistent(t, name, r)
			unDNAT := 0
			for _, a := range r.Anomalies {
				if a.Severity == "error" || a.Kind == "retransmission" || a.Kind == "path-incomplete" {
					t.Errorf("%s: %s %s at %+v (%d): %s", name, a.Severity, a.Kind, a.Where, a.Count, a.Message)
				}
				if a.Kind == "nat" && strings.HasPrefix(a.Where.From, "node-a/cali") && a.Where.To == "router-1/eth0" {
					unDNAT += a.Count
				}
			}
			if unDNAT != replies {
				t.Errorf("%s: nat at node-a's cali → router-1/eth0 counts %d, want %d (the replies, truth.json)", name, unDNAT, replies)
			}
		}
	}
}

// nodeport-local without node-a's eth0 (per interface), with node-a's clock given as the offset its fit
// found (--offset node-a=…): the corrected times are the same as TestNodePortLocalNodeEth0Uncaptured's,
// and so is the replies' reversal (router-1/eth0 up to 80 µs before pod-a's cali), but the given
// clock claims no uncertainty (bound 0): the reversal is beyond both clocks' bounds (router-1's
// ± 2.13 µs), so the clocks say the order and each reply stays two journeys (natAhead refuses, as
// natReversed keeps them): neither half lost, the half at the cali not captured, the half past the
// rewrite delivered to ext-1, and a clock-inconsistent at node-a's cali → router-1/eth0 counting the
// replies (truth.json). Only the bound differs from the fitted run.
func TestNodePortLocalReversalBeyondBounds(t *testing.T) {
	const sc = "nodeport-local"
	drop := nodePortFiles("", "node-a-eth0.pcap")
	tr, fitted := labSubset(t, sc, drop, nil)
	var off int64
	var bound int64 = -1
	for _, c := range fitted.Clocks {
		if c.Node == "node-a" {
			off, bound = c.OffsetNs, c.BoundNs
		}
	}
	if bound <= 0 {
		t.Fatalf("node-a's fitted clock: offset %d ns, bound %d ns; the test needs a bounded one", off, bound)
	}
	dir := filepath.Join("../testdata/lab/scenarios", sc)
	var files []string
	for _, f := range perInterface(t, sc) {
		if !slices.Contains(drop, f) {
			files = append(files, filepath.Join(dir, f))
		}
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}),
		Options{Offsets: map[string]time.Duration{"node-a": time.Duration(off)}})
	sent, replies := 0, 0
	for _, tf := range tr.Flows {
		sent += tf.Sent
		if tf.Path[0] == "node-a/cali5e1c4d6c68c" && slices.Contains(tf.Path, "ext-1/eth0") {
			replies += tf.Sent
		}
	}
	if replies == 0 {
		t.Fatal("no replies from pod-a to ext-1 in truth.json")
	}
	if lost := checkTruthCounts(t, tr, r); lost != 0 || r.Summary.Lost != 0 {
		t.Errorf("%d lost (%d in the truth's flows), want none: %+v", r.Summary.Lost, lost, r.Summary)
	}
	said := 0
	for _, a := range r.Anomalies {
		if a.Kind == "clock-inconsistent" && strings.HasPrefix(a.Where.From, "node-a/cali") && a.Where.To == "router-1/eth0" {
			said += a.Count
		}
		if a.Kind == "nat" && strings.HasPrefix(a.Where.From, "node-a/cali") {
			t.Errorf("nat at %s → %s (%d): a reply joined beyond the clocks' bounds", a.Where.From, a.Where.To, a.Count)
		}
	}
	if s := r.Summary; said != replies || s.Journeys != sent+replies || s.NotCaptured != replies || s.Delivered != sent {
		t.Errorf("summary %+v, %d said unjoined at node-a's cali → router-1/eth0; want %d journeys (each of the %d replies two), "+
			"%d delivered, %d not captured (the replies' halves at the cali), all %d said", s, said, sent+replies, replies, sent,
			replies, replies)
	}
}

// aheadFirst, not innerFirst, puts a reply joined ahead of its sightings past the rewrite (natAhead) first
// on its path: innerFirst orders only a node seen inside it alone (no underlay captured) whose clock
// has a bound (newInnerOrder), and natAhead asks neither. nodeport-local without node-a's eth0, as
// TestNodePortLocalNodeEth0Uncaptured, matched; then node-a's clock's bound is set to 0 for the arena
// alone (no innerOrder: the fill's order is the hops' corrected times, pod-a's cali last): each joined
// reply's hops still start with its sighting at the cali, the NAT event's to is its next hop
// (router-1/eth0, the first past the rewrite), and the journey never comes back to node-a.
func TestAheadFirstWithoutInnerOrder(t *testing.T) {
	const sc = "nodeport-local"
	dir := filepath.Join("../testdata/lab/scenarios", sc)
	drop := nodePortFiles("", "node-a-eth0.pcap")
	var files []string
	for _, f := range perInterface(t, sc) {
		if !slices.Contains(drop, f) {
			files = append(files, filepath.Join(dir, f))
		}
	}
	w, clocks, _, m, _ := matchFiles(t, files)
	na, ok := w.nodeIdx["node-a"]
	if !ok || clocks[na].bound <= 0 || !w.innerEdged(na) {
		t.Fatalf("node-a: index %d (%v), bound %d: the test needs its clock seen inside it, bounded", na, ok, clocks[na].bound)
	}
	m.clocks[na].bound = 0 // (matching is done: only newInnerOrder reads it now)
	ar := buildArena(w, m, int(m.next), false)
	if ar.order != nil {
		t.Fatal("an innerOrder with node-a's bound 0")
	}
	n := 0
	for _, ev := range m.nat {
		if !ev.ahead {
			continue
		}
		n++
		hops := ar.hops(int(ev.j))
		pt := func(g uint32) string { return w.c.Points[w.pointOf(g)].ID }
		var path []string
		for _, g := range hops {
			path = append(path, pt(g))
		}
		if len(hops) < 2 || hops[0] != ev.from || hops[1] != ev.to || pt(ev.to) != "router-1/eth0" {
			t.Errorf("journey %d: hops %v, NAT event from %s to %s; want the cali's sighting first, then router-1/eth0",
				ev.j, path, pt(ev.from), pt(ev.to))
		}
		for _, p := range path[1:] {
			if strings.HasPrefix(p, "node-a/") {
				t.Errorf("journey %d: hops %v: node-a past the first", ev.j, path)
			}
		}
	}
	if n == 0 {
		t.Error("no NAT event joined ahead (natAhead)")
	}
}

// pathLess is path without point drop: a truth flow's path as captures that leave drop out show it.
func pathLess(path []string, drop string) []string {
	var out []string
	for _, p := range path {
		if p != drop {
			out = append(out, p)
		}
	}
	return out
}
