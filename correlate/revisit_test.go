package correlate

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// labAll correlates every capture of a lab scenario directory (dedicated files, -i any files and the
// pcapng), as TestLabScenarios gives them.
func labAll(t *testing.T, dir string) *Result {
	t.Helper()
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	ngs, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
	if len(pcaps) == 0 {
		t.Skipf("no captures in %s", dir)
	}
	return Correlate(decode.Load(append(pcaps, ngs...), decode.Options{}, decode.PointConfig{}), Options{})
}

// TestLabHopsOnce checks, over the lab scenarios a packet crosses ten or more points in (two routers
// in series; a NodePort), that no journey lists a point twice in one encapsulation: the frames that
// the point's other captures (the node's -i any file and its pcapng) hold of it are copies (Hop.Dup),
// not hops. A journey kept only its first 8 stages (maxStages), so past them a copy was taken for the
// packet's next hop: two-routers' journeys showed node-b/tunl0 and node-b's cali twice, node-a's
// three times.
func TestLabHopsOnce(t *testing.T) {
	for _, dir := range []string{"../testdata/lab/scenarios/two-routers", nodePortDir} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			r := labAll(t, dir)
			n := 0
			r.EachJourney(func(j *Journey) bool {
				seen := map[string]bool{}
				for _, h := range j.Hops {
					k := h.Point + " " + h.Encap
					if seen[k] {
						if n++; n <= 5 {
							t.Errorf("journey %d (%s %s): %s twice: %s", j.ID, j.Flow, j.Dir, k, hopList(j))
						}
					}
					seen[k] = true
				}
				return true
			})
			if n > 5 {
				t.Errorf("... %d in all", n)
			}
		})
	}
}

// nodePortDir is nodeport-cluster: ext-1 to node-a's node ports, DNATed and masqueraded on node-a to
// pod-b on node-b (kube-proxy's NodePort, externalTrafficPolicy Cluster).
var nodePortDir = "../testdata/lab/scenarios/nodeport-cluster"

func hopList(j *Journey) string {
	var s []string
	for _, h := range j.Hops {
		s = append(s, h.Point+"("+h.Encap+")")
	}
	return strings.Join(s, " ")
}

// TestNodePortJourneys follows nodeport-cluster's packets through node-a. Its requests enter node-a's
// eth0 bare, leave it in IP-in-IP once DNATed and masqueraded, and so cross node-a's eth0 and
// router-1's eth0 twice each; pod-b's replies come back the same way and are un-NATed between node-a's
// tunl0 and its eth0. Each packet is one journey over the whole way, its hops in the order it crossed
// them, and none is lost. Before, a packet seen again at a point it had passed was a copy of its frame
// there (or the start of another journey): the requests' journeys skipped from router-1/eth0 to
// router-1/eth1, the replies broke in two at node-a, and calipath said ERROR underlay-drop at
// router-1/eth0 → router-1/eth2 (10 of 20 packets lost) where every packet arrived.
func TestNodePortJourneys(t *testing.T) {
	r := labAll(t, nodePortDir)
	there := "ext-1/eth0(none) router-1/eth2(none) router-1/eth0(none) node-a/eth0(none) node-a/tunl0(none) " +
		"node-a/eth0(ipip) router-1/eth0(ipip) router-1/eth1(ipip) node-b/eth0(ipip) node-b/tunl0(none) " +
		"node-b/cali2f5353dd8c5(none)"
	back := "node-b/cali2f5353dd8c5(none) node-b/tunl0(none) node-b/eth0(ipip) router-1/eth1(ipip) " +
		"router-1/eth0(ipip) node-a/eth0(ipip) node-a/tunl0(none) node-a/eth0(none) router-1/eth0(none) " +
		"router-1/eth2(none) ext-1/eth0(none)"
	n := 0
	for _, f := range r.Flows {
		if f.Src.IP != "203.0.113.10" {
			continue
		}
		for _, j := range r.FlowJourneys(f.ID) {
			if isPiece(r, &j) {
				continue
			}
			n++
			want := there
			if j.Dir == "s2c" {
				want = back
			}
			got := hopList(&j)
			// pod-b's 4000-byte answer leaves its cali as one TCP super-packet (GSO), whose pieces go on.
			super := len(j.Hops) > 0 && j.Hops[len(j.Hops)-1].Len > 1500 && strings.HasPrefix(want, got+" ")
			if (got != want && !super) || j.Status == statusLost {
				t.Errorf("journey %d (%s %s) %s:\n  %s\nwant\n  %s", j.ID, j.Flow, j.Dir, j.Status, got, want)
			}
		}
	}
	if n == 0 {
		t.Fatal("no journey of ext-1's flows")
	}
	if s := r.Summary; s.Lost != 0 {
		t.Errorf("%d packets lost, want none", s.Lost)
	}
}

// hairpinDir is hairpin-clusterip: pod-a reaches the Service 10.96.0.10, whose only endpoint is pod-a
// itself; node-a DNATs each request to pod-a, masquerades it to node-a's address and sends it back into
// pod-a's cali (kube-proxy's hairpin), and un-NATs the answers the same way.
var hairpinDir = "../testdata/lab/scenarios/hairpin-clusterip"

// TestHairpinJourneys follows hairpin-clusterip's packets: each request and each answer crosses pod-a's
// cali twice, out as sent and back in rewritten (both addresses and both ports, the TTL one lower), so
// each is one journey of two hops there, delivered, with a NAT event between them, and its flow's path
// is that cali twice, in every shape of the captures. Before, the rewritten sighting began a journey of
// its own: 44 packets where pod-a sent 26, the masqueraded requests a flow of their own (node-a's
// address to pod-a, no NAT shown), and WARNING path-incomplete at pod-a's cali, saying that the
// destination pod's cali was not captured; with the per-interface and -i any files of the cali together,
// each rewritten frame's copy was a third packet, and 36 packets were ambiguous.
func TestHairpinJourneys(t *testing.T) {
	cali := "node-a/cali5e1c4d6c68c"
	for _, shape := range []struct{ name, glob string }{
		{"all", "*.pcap*"}, {"cali", "node-a-cali*.pcap"}, {"any", "*-any.pcap"}, {"pcapng", "node-a.pcapng"},
		{"cali+any", "node-a-[ca][an]*.pcap"},
	} {
		t.Run(shape.name, func(t *testing.T) {
			files, _ := filepath.Glob(filepath.Join(hairpinDir, shape.glob))
			if len(files) == 0 {
				t.Skipf("no captures in %s", hairpinDir)
			}
			r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
			at := cali
			if shape.name == "any" {
				at = "node-a/any#3" // no --links: the -i any file's interface index
			}
			n := 0
			for _, f := range r.Flows {
				if f.Dst.IP != "10.96.0.10" {
					continue
				}
				if got := strings.Join(f.Path, " "); got != at+" "+at {
					t.Errorf("%s: path %s, want %s twice", f.ID, got, at)
				}
				if len(f.NAT) != 2 {
					t.Errorf("%s: NAT %+v, want the request's DNAT and masquerade and the answer's un-NAT", f.ID, f.NAT)
				}
				for _, j := range r.FlowJourneys(f.ID) {
					n++
					if got := hopList(&j); got != at+"(none) "+at+"(none)" || j.Status != statusDelivered {
						t.Errorf("journey %d (%s %s) %s: %s, want %s twice, delivered", j.ID, j.Flow, j.Dir, j.Status, got, at)
					}
				}
			}
			if n != 18 {
				t.Errorf("%d journeys of the flows to 10.96.0.10, want 18 (12 TCP, 6 UDP)", n)
			}
			for _, a := range r.Anomalies {
				if a.Severity != "info" && (a.Where.Point == at || a.Where.From == at) {
					t.Errorf("%s %s at %+v: %s", a.Severity, a.Kind, a.Where, a.Message)
				}
			}
		})
	}
}

// TestHairpinSmallWindow runs hairpin-clusterip with a --window below the hairpin's hop (its packet is
// back at pod-a's cali 2 to 141µs after it left), in the per-interface and the all-files shapes: the
// rewritten sighting past the window opens a journey of its own, and neither half may be counted lost
// (with 20µs, 18 packets read lost, ERROR host-drop at the cali → the cali; with 5µs 14, ERROR
// pmtu-blackhole), nor the later half of a TCP segment read as its retransmission (a WARNING
// retransmission at the cali, 2 to 8 segments, the default window none); window-too-small says the
// window is too small.
func TestHairpinSmallWindow(t *testing.T) {
	for _, shape := range []struct {
		name     string
		perIface bool
	}{{"per-interface", true}, {"all", false}} {
		for _, win := range []time.Duration{20 * time.Microsecond, 5 * time.Microsecond, time.Microsecond} {
			t.Run(fmt.Sprintf("%s/%s", shape.name, win), func(t *testing.T) {
				r := Correlate(labLoad(t, "hairpin-clusterip", "*.pcap", shape.perIface), Options{Window: win})
				if r.Summary.Lost != 0 {
					t.Errorf("%d lost, want 0 (the default window: 0)", r.Summary.Lost)
				}
				for _, a := range r.Anomalies {
					if a.Severity == "error" || a.Kind == "retransmission" {
						t.Errorf("%s %s at %+v: %s", a.Severity, a.Kind, a.Where, a.Message)
					}
				}
				for _, f := range r.Flows {
					if f.Retransmissions != 0 {
						t.Errorf("%s: %d retransmissions, want 0", f.ID, f.Retransmissions)
					}
				}
				if kinds(r)["window-too-small"] != 1 {
					t.Errorf("no window-too-small warning")
				}
			})
		}
	}
}
