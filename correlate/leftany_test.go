package correlate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// any-bgp-forward-drop is captured with -i any on both nodes, BGP mode: no outer header tells the
// nodes' addresses. Besides the pods' traffic, node-a sends node-b's own address (192.168.20.2) UDP
// datagrams, which node-b answers: all delivered (the truth's captures show them). Without the router
// captures calipath cannot place them on a path; with them their path is router-1's two interfaces.
// Either way every packet must be counted (delivered, lost or not captured), none may be said to have
// left the captures at router-1 when node-b's capture shows it arriving, and the report must say what
// would tell (the node's address).
func TestLeftAtAnyNode(t *testing.T) {
	dir := "../testdata/lab/scenarios/any-bgp-forward-drop"
	cfg := decode.PointConfig{Links: map[string]map[int32]string{}}
	for _, n := range []string{"node-a", "node-b"} {
		f, err := os.Open(filepath.Join(dir, n+"-links.txt"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Links[n], err = decode.ParseIPLink(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	anyFiles, _ := filepath.Glob(filepath.Join(dir, "*-any.pcap"))
	routers, _ := filepath.Glob(filepath.Join(dir, "truth-captures", "router-*.pcap"))
	if len(anyFiles) != 2 || len(routers) != 2 {
		t.Fatalf("captures: %v %v", anyFiles, routers)
	}
	for _, tc := range []struct {
		name  string
		files []string
	}{{"any only", anyFiles}, {"with the routers", append(append([]string{}, anyFiles...), routers...)}} {
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
			said := 0
			for _, a := range r.Anomalies {
				if a.Kind == "path-incomplete" && strings.Contains(a.Message, "arriving at node-") && strings.Contains(a.Next, "--node-ip") {
					said += a.Count
				}
			}
			if said != 8 {
				t.Errorf("path-incomplete at the nodes' eth0 for %d packets, want the 8 node-to-node datagrams: %v", said, r.Anomalies)
			}
		})
	}
}
