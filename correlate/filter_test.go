package correlate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseFilterErrors(t *testing.T) {
	for _, bad := range []string{"hots 1.2.3.4", "host", "host 1.2.3", "net 10.0.0.0", "port x", "port 70000",
		"(proto tcp", "proto tcp)", "and", "not", "host 1.1.1.1 or"} {
		if _, err := ParseFilter(bad); err == nil {
			t.Errorf("ParseFilter(%q): no error", bad)
		}
	}
	for _, good := range []string{"", "proto tcp", "!(host 10.0.0.1 || port 53) && kind underlay-drop",
		"node node-* point cali*", "proto 6", "status lost or severity error"} {
		if _, err := ParseFilter(good); err != nil {
			t.Errorf("ParseFilter(%q): %v", good, err)
		}
	}
}

func TestFilterMatch(t *testing.T) {
	r := &Result{
		Flows: []Flow{
			{ID: "f1", Proto: "tcp", Src: Endpoint{"10.244.1.5", 40000}, Dst: Endpoint{"10.96.0.10", 80},
				NAT:      []NATMapping{{Kind: "dnat", From: "10.244.1.5:40000 → 10.96.0.10:80", To: "10.244.1.5:40000 → 10.244.2.7:8080"}},
				PerPoint: []PointCount{{Point: "node-a/cali1"}, {Point: "node-b/eth0"}}, Delivered: 3, Lost: 1},
			{ID: "f2", Proto: "icmp", Src: Endpoint{"10.244.1.5", 0}, Dst: Endpoint{"10.244.2.7", 0},
				PerPoint: []PointCount{{Point: "node-a/cali1"}}, Delivered: 4},
		},
		Anomalies: []Anomaly{{Kind: "underlay-drop", Severity: "error", Flows: []string{"f1"},
			Where: Where{From: "node-a/eth0", To: "node-b/eth0"}}},
	}
	cases := map[string][]string{
		"":                                {"f1", "f2"},
		"proto tcp":                       {"f1"},
		"proto 1":                         {"f2"},
		"host 10.244.2.7":                 {"f1", "f2"}, // f1 reaches it after DNAT
		"port 8080":                       {"f1"},
		"port 0":                          {},
		"net 10.96.0.0/12":                {"f1"},
		"not net 10.96.0.0/12":            {"f2"},
		"point eth0":                      {"f1"},
		"point node-a/cali*":              {"f1", "f2"},
		"node node-b":                     {"f1"},
		"kind underlay-drop":              {"f1"},
		"severity error":                  {"f1"},
		"status lost":                     {"f1"},
		"status delivered and proto icmp": {"f2"},
		"flow f2 or (proto tcp port 80)":  {"f1", "f2"},
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
	f, _ := ParseFilter("point node-b/eth0 and kind underlay-drop")
	if !f.MatchAnomaly(r, &r.Anomalies[0]) {
		t.Error("anomaly not matched by its place and kind")
	}
	f, _ = ParseFilter("proto icmp")
	if f.MatchAnomaly(r, &r.Anomalies[0]) {
		t.Error("anomaly of a tcp flow matched proto icmp")
	}
	j := Journey{Flow: "f1", Status: "lost", Hops: []Hop{{Point: "node-a/cali1"}}}
	f, _ = ParseFilter("status lost and point cali1 and proto tcp")
	if !f.MatchJourney(r, &j) {
		t.Error("journey not matched")
	}
	f, _ = ParseFilter("point node-b/eth0")
	if f.MatchJourney(r, &j) {
		t.Error("journey matched a point it never reached")
	}
	if s := strings.Join(FilterKeys(), " "); !strings.Contains(s, "host") {
		t.Error("FilterKeys lacks host")
	}
}

// Every anomaly kind calipath can raise has an explanation with a place and a next step (nat excepted:
// it is information, with nothing to check).
func TestExplainEveryKind(t *testing.T) {
	kinds := []string{"arp-unanswered", "proxy-arp-missing", "arp-unexpected-mac", "encap-drop", "underlay-drop",
		"decap-drop", "delivery-drop", "host-drop", "loss", "pmtu-blackhole", "icmp-frag-needed", "icmp-unreachable",
		"ttl-expired", "nat", "clock-skew", "clock-inconsistent", "retransmission", "checksum-bad",
		"wrong-outer-address", "capture-gap", "offset-contradicted", "window-too-small", "pod-veth-shared", "point-unnamed"}
	if len(explain) != len(kinds) {
		t.Errorf("explain has %d kinds, the vocabulary %d", len(explain), len(kinds))
	}
	for _, k := range kinds {
		e, ok := explain[k]
		if !ok || !strings.Contains(e[0], "%s") || (e[1] == "" && k != "nat") {
			t.Errorf("%s: explanation %q, next %q", k, e[0], e[1])
		}
	}
}
