package correlate

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// any-bgp-forward-drop is captured with -i any on both nodes, BGP mode: no outer header tells the
// nodes' addresses. Besides the pods' traffic, node-a sends node-b's own address (192.168.20.2) UDP
// datagrams, which node-b answers: all delivered (the truth's captures show them). Every packet must
// be counted (delivered, lost or not captured), and none said to have left the captures at router-1
// (with the router captures their path ends there, although each node's capture shows them arriving
// at the TTL router-1 sent them with and going nowhere else: pastend.go). Each node's -i any capture
// shows it sending from its own address at its eth0 (outgoing ARP and TTL 64), and each address is
// used between the two captured nodes: the addresses are the nodes' IPs, and the 8 datagrams are
// delivered (before, with no address known, they were path-incomplete, "arriving at node-…", and the
// report asked for --node-ip).
func TestLeftAtAnyNode(t *testing.T) {
	dir := "../testdata/lab/scenarios/any-bgp-forward-drop"
	cfg := decode.PointConfig{Links: labLinksIn(t, dir)}
	anyFiles, _ := filepath.Glob(filepath.Join(dir, "*-any.pcap"))
	if len(anyFiles) != 2 {
		t.Fatalf("captures: %v", anyFiles)
	}
	for _, tc := range []struct {
		name  string
		files []string
	}{{"any only", anyFiles}, {"with routers", append(anyFiles[:2:2], filepath.Join(dir, "truth-captures/router-1-eth0.pcap"),
		filepath.Join(dir, "truth-captures/router-1-eth1.pcap"))}} {
		t.Run(tc.name, func(t *testing.T) {
			r := Correlate(decode.Load(tc.files, decode.Options{}, cfg), Options{Journeys: true})
			s := r.Summary
			if s.Delivered+s.Lost+s.NotCaptured != s.Journeys {
				t.Errorf("summary: %d packets as sent, %d delivered + %d lost + %d not captured", s.Journeys, s.Delivered, s.Lost, s.NotCaptured)
			}
			for _, j := range r.Journeys {
				if j.Status == statusLeft && strings.HasPrefix(j.LastSeen, "router-1/") {
					t.Errorf("journey %d left the captures at %s", j.ID, j.LastSeen)
				}
			}
			for _, a := range r.Anomalies {
				if a.Kind == "path-incomplete" && strings.Contains(a.Message, "arriving at node-") {
					t.Errorf("path-incomplete at %s (%d): %s", a.Where.Point, a.Count, a.Message)
				}
			}
			ips := map[string]string{}
			for _, n := range r.NodeIPs {
				ips[n.Node] = n.IP
			}
			if ips["node-a"] != "192.168.10.2" || ips["node-b"] != "192.168.20.2" {
				t.Errorf("node IPs %v, want node-a 192.168.10.2, node-b 192.168.20.2", r.NodeIPs)
			}
			delivered := 0
			for _, f := range r.Flows {
				if f.Src.IP == "192.168.10.2" && f.Dst.String() == "192.168.20.2:9000" {
					delivered += f.Delivered
				}
			}
			if delivered != 8 {
				t.Errorf("%d of the 8 node-to-node datagrams delivered", delivered)
			}
		})
	}
}

// healthy-vxlan without node-b's cali capture: the packets to pod-b leave the captures at node-b's
// tunnel. Where an open end is, and so every count, must not depend on the order the files are named
// in (an open end once moved to the journey's last sighting in the arena, whose order among sightings
// at one time follows the files: named in reverse, 6 packets were said to have left at node-b/eth0).
func TestOpenEndsOrderFree(t *testing.T) {
	all, _ := filepath.Glob("../testdata/lab/scenarios/healthy-vxlan/*.pcap*")
	var files []string
	for _, f := range all {
		if b := filepath.Base(f); !strings.Contains(b, "-any") && !strings.HasPrefix(b, "node-b-cali") {
			files = append(files, f)
		}
	}
	var want string
	for i, fs := range [][]string{files, reversed(files)} {
		r := Correlate(decode.Load(fs, decode.Options{}, decode.PointConfig{}), Options{})
		got := fmt.Sprintf("%+v\n", r.Summary)
		for _, a := range r.Anomalies {
			got += fmt.Sprintf("%s %s %+v %d\n", a.Severity, a.Kind, a.Where, a.Count)
		}
		if i == 0 {
			want = got
		} else if got != want {
			t.Errorf("the files in reverse:\n%s\nin order:\n%s", got, want)
		}
	}
}

func reversed(s []string) []string {
	r := make([]string, len(s))
	for i, x := range s {
		r[len(s)-1-i] = x
	}
	return r
}
