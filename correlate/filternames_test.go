package correlate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFilterNames matches flows by their endpoints' Kubernetes names: pod, ns, svc and node, also
// written key=value, on either side or one (src/dst), before and after NAT.
func TestFilterNames(t *testing.T) {
	r := &Result{
		Flows: []Flow{
			{ID: "f1", Proto: "tcp", Src: Endpoint{"10.244.1.5", 40000}, Dst: Endpoint{"10.96.0.10", 53},
				NAT:      []NATMapping{{Kind: "dnat", From: "10.244.1.5:40000 → 10.96.0.10:53", To: "10.244.1.5:40000 → 10.244.2.7:8053"}},
				PerPoint: []PointCount{{Point: "node-a/cali1"}, {Point: "node-a/eth0"}}},
			{ID: "f2", Proto: "icmp", Src: Endpoint{"10.244.1.5", 0}, Dst: Endpoint{"192.168.20.2", 0},
				PerPoint: []PointCount{{Point: "node-a/cali1"}}},
			{ID: "f3", Proto: "udp", Src: Endpoint{"10.244.3.9", 5000}, Dst: Endpoint{"8.8.8.8", 53},
				PerPoint: []PointCount{{Point: "node-c/cali9"}}},
		},
		Names: []Name{ // sorted by IP string, as correlate gives them
			{IP: "10.244.1.5", Kind: "pod", Namespace: "default", Name: "pod-a", Node: "node-a"},
			{IP: "10.244.2.7", Kind: "pod", Namespace: "kube-system", Name: "coredns-1", Node: "node-b"},
			{IP: "10.244.3.9", Kind: "pod", Namespace: "web", Name: "front-1", Node: "node-c"},
			{IP: "10.96.0.10", Kind: "service", Namespace: "kube-system", Name: "kube-dns"},
			{IP: "192.168.20.2", Kind: "node", Name: "node-b"},
		},
	}
	cases := map[string][]string{
		"pod default/pod-a":          {"f1", "f2"},
		"pod=default/pod-a":          {"f1", "f2"},
		"pod pod-a":                  {"f1", "f2"},
		"pod coredns-*":              {"f1"}, // the backend after DNAT
		"pod kube-dns":               {},     // a service, not a pod
		"svc=kube-dns":               {"f1"},
		"svc kube-system/kube-dns":   {"f1"},
		"ns=kube-system":             {"f1"},
		"ns web":                     {"f3"},
		"ns default and not svc=*":   {"f2"},
		"node=node-b":                {"f1", "f2"}, // f1's backend runs there; f2 is sent to the node
		"node node-c":                {"f3"},       // crossed, and its pod runs there
		"node node-a":                {"f1", "f2"},
		"src pod=default/pod-a":      {"f1", "f2"},
		"dst pod default/pod-a":      {},
		"dst svc kube-dns":           {"f1"},
		"src ns web and dst port 53": {"f3"},
		"pod nobody":                 {},
	}
	for expr, want := range cases {
		f, err := ParseFilter(expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		got := []string{}
		for i := range r.Flows {
			if f.MatchFlow(r, &r.Flows[i]) {
				got = append(got, r.Flows[i].ID)
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%q (-want +got):\n%s", expr, d)
		}
	}
	// Without cluster metadata the name terms match nothing, and node keeps its meaning.
	bare := *r
	bare.Names = nil
	for expr, want := range map[string][]string{"pod default/pod-a": {}, "ns=default": {}, "svc kube-dns": {},
		"node node-b": {}, "node node-a": {"f1", "f2"}} {
		f, _ := ParseFilter(expr)
		got := []string{}
		for i := range bare.Flows {
			if f.MatchFlow(&bare, &bare.Flows[i]) {
				got = append(got, bare.Flows[i].ID)
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("without names, %q (-want +got):\n%s", expr, d)
		}
	}
	// An anomaly naming a flow matches by that flow's names; a journey by its flow's.
	an := Anomaly{Kind: "nat", Severity: "info", Flows: []string{"f1"}}
	f, _ := ParseFilter("svc=kube-dns")
	if !f.MatchAnomaly(r, &an) {
		t.Error("anomaly of f1 not matched by svc=kube-dns")
	}
	j := Journey{Flow: "f3", Dir: "s2c", Status: "delivered"}
	f, _ = ParseFilter("dst pod web/front-1")
	if !f.MatchJourney(r, &j) {
		t.Error("a reply to web/front-1 not matched by dst pod web/front-1")
	}
	for _, bad := range []string{"pod", "pod=", "src pod", "ns="} {
		if _, err := ParseFilter(bad); err == nil {
			t.Errorf("ParseFilter(%q): no error", bad)
		}
	}
}
