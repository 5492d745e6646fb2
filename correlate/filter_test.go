package correlate

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/google/go-cmp/cmp"
)

func TestParseFilterErrors(t *testing.T) {
	for _, bad := range []string{"hots 1.2.3.4", "host", "host 1.2.3", "net 10.0.0.0", "port x", "port 70000",
		"(proto tcp", "proto tcp)", "and", "not", "host 1.1.1.1 or",
		// Values outside a fixed vocabulary would match nothing, silently.
		"status deliverd", "status ok", "severity fatal", "kind underlay-dorp", "proto tpc",
		// tcpdump words: incomplete, or saying nothing about a flow.
		"src", "dst port", "src or dst", "src foo", "src and", "portrange 90-80", "portrange 80", "arp", "ether host 1"} {
		if _, err := ParseFilter(bad); err == nil {
			t.Errorf("ParseFilter(%q): no error", bad)
		}
	}
	for _, good := range []string{"", "proto tcp", "!(host 10.0.0.1 || port 53) && kind underlay-drop",
		"node node-* point cali*", "proto 6", "status lost or severity error",
		"tcp port 80", "src 10.0.0.1 and dst port 53", "src or dst host ::1", "dst and src net 10.0.0.0/8",
		"ip proto \\tcp", "ip6 and icmp6", "portrange 1-1024", "kind pmtu-blackhole", "status not-captured"} {
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
			// The reply direction's rewrite only (server → client, un-DNAT), and packets not captured.
			{ID: "f3", Proto: "udp", Src: Endpoint{"10.244.1.6", 5353}, Dst: Endpoint{"10.96.0.10", 53},
				NAT:       []NATMapping{{Kind: "nat", From: "10.244.2.9:9000 → 10.244.1.6:5353", To: "10.96.0.10:53 → 10.244.1.6:5353"}},
				Delivered: 2, NotCaptured: 1},
			{ID: "f4", Proto: "icmpv6", Src: Endpoint{"fd00::5", 0}, Dst: Endpoint{"fd00::7", 0}, Lost: 2},
		},
		Anomalies: []Anomaly{{Kind: "underlay-drop", Severity: "error", Flows: []string{"f1"},
			Where: Where{From: "node-a/eth0", To: "node-b/eth0"}}},
	}
	cases := map[string][]string{
		"":                                {"f1", "f2", "f3", "f4"},
		"proto tcp":                       {"f1"},
		"proto 1":                         {"f2"},
		"host 10.244.2.7":                 {"f1", "f2"}, // f1 reaches it after DNAT
		"port 8080":                       {"f1"},
		"port 0":                          {},
		"net 10.96.0.0/12":                {"f1", "f3"},
		"not net 10.96.0.0/12":            {"f2", "f4"},
		"point eth0":                      {"f1"},
		"point node-a/cali*":              {"f1", "f2"},
		"node node-b":                     {"f1"},
		"kind underlay-drop":              {"f1"},
		"severity error":                  {"f1"},
		"flow f2 or (proto tcp port 80)":  {"f1", "f2"},
		"status delivered and proto icmp": {"f2"},
		// A flow is delivered when every packet was; lost or not-captured when any was.
		"status delivered":     {"f2"},
		"not status delivered": {"f1", "f3", "f4"},
		"status lost":          {"f1", "f4"},
		"status not-captured":  {"f3"},
		"proto tcp and host 10.244.1.5 and not status delivered": {"f1"}, // the README's example
		// tcpdump's words.
		"tcp":                          {"f1"},
		"udp or icmp":                  {"f2", "f3"},
		"icmp6":                        {"f4"},
		"ip6":                          {"f4"},
		"ip":                           {"f1", "f2", "f3"},
		"ip proto \\tcp":               {"f1"},
		"tcp port 8080":                {"f1"},
		"tcp port 53":                  {},
		"portrange 8000-8100":          {"f1"},
		"src host 10.244.1.5":          {"f1", "f2"},
		"src 10.244.1.5":               {"f1", "f2"},
		"dst host 10.244.1.5":          {},
		"dst 10.244.2.7":               {"f1", "f2"},
		"dst port 80 or dst port 8080": {"f1"},
		"src port 80":                  {},
		"src net 10.244.1.0/24 and dst 10.96.0.0/12": {"f1", "f3"},
		"src or dst host 10.96.0.10":                 {"f1", "f3"},
		"src and dst net 10.244.0.0/16":              {"f1", "f2", "f3"}, // f1 and f3 reach pods after NAT
		"dst and src net 10.244.2.0/24":              {},
		// f3's rewrite was seen on replies: the server's addresses are its destination side.
		"dst host 10.244.2.9": {"f3"},
		"src host 10.244.2.9": {},
		"dst port 9000":       {"f3"},
		"src fd00::5":         {"f4"},
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
	f, _ = ParseFilter("not status delivered")
	if !f.MatchAnomaly(r, &r.Anomalies[0]) {
		t.Error("anomaly of a flow that lost packets not matched by not status delivered")
	}
	// An anomaly naming a broken and a healthy flow: terms hold for one of its flows at a time.
	both := Anomaly{Kind: "retransmission", Severity: "info", Flows: []string{"f2", "f1"}, Where: Where{Point: "node-a/cali1"}}
	for expr, want := range map[string]bool{"not status delivered": true, "status delivered": true,
		"proto tcp and not status delivered": true, "proto icmp and status lost": false, "not host 10.244.2.7": false,
		"not proto tcp": true, "kind retransmission and point cali1": true, "severity error": false} {
		f, err := ParseFilter(expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.MatchAnomaly(r, &both); got != want {
			t.Errorf("%q on an anomaly of f2 and f1: %v, want %v", expr, got, want)
		}
	}
	clock := Anomaly{Kind: "clock-skew", Severity: "info", Where: Where{Node: "node-b"}}
	for expr, want := range map[string]bool{"node node-b": true, "kind clock-skew": true, "proto tcp": false,
		"not status delivered": true, "status delivered": false} {
		f, _ := ParseFilter(expr)
		if got := f.MatchAnomaly(r, &clock); got != want {
			t.Errorf("%q on an anomaly naming no flow: %v, want %v", expr, got, want)
		}
	}
	j := Journey{Flow: "f1", Dir: "c2s", Status: "lost", Hops: []Hop{{Point: "node-a/cali1"}}}
	f, _ = ParseFilter("status lost and point cali1 and proto tcp")
	if !f.MatchJourney(r, &j) {
		t.Error("journey not matched")
	}
	f, _ = ParseFilter("point node-b/eth0")
	if f.MatchJourney(r, &j) {
		t.Error("journey matched a point it never reached")
	}
	// A journey's status is its own, and src/dst follow its packet's direction.
	for _, c := range []struct {
		expr string
		j    Journey
		want bool
	}{
		{"status delivered", Journey{Flow: "f1", Dir: "c2s", Status: "delivered"}, true},
		{"status lost", Journey{Flow: "f1", Dir: "c2s", Status: "delivered"}, false},
		{"src host 10.244.1.5", Journey{Flow: "f1", Dir: "c2s", Status: "delivered"}, true},
		{"src host 10.244.1.5", Journey{Flow: "f1", Dir: "s2c", Status: "delivered"}, false},
		{"src host 10.244.2.7 and dst port 40000", Journey{Flow: "f1", Dir: "s2c", Status: "delivered"}, true},
		{"dst port 8080", Journey{Flow: "f1", Dir: "s2c", Status: "delivered"}, false},
	} {
		f, err := ParseFilter(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.MatchJourney(r, &c.j); got != c.want {
			t.Errorf("%q on a %s journey of %s: %v, want %v", c.expr, c.j.Dir, c.j.Flow, got, c.want)
		}
	}
	if s := strings.Join(FilterKeys(), " "); !strings.Contains(s, "host") || !strings.Contains(s, "src") {
		t.Error("FilterKeys lacks host or src")
	}
}

// Every anomaly kind calipath can raise has an explanation with a place and a next step (nat excepted:
// it is information, with nothing to check).
func TestExplainEveryKind(t *testing.T) {
	kinds := []string{"arp-unanswered", "proxy-arp-missing", "arp-unexpected-mac", "nd-gateway-unanswered", "nd-unanswered", "nd-unexpected-mac", "encap-drop", "underlay-drop",
		"decap-drop", "delivery-drop", "host-drop", "loss", "pmtu-blackhole", "icmp-frag-needed", "fragmented", "icmp-unreachable",
		"ttl-expired", "icmp-error-nat-unknown", "icmp-error-copies", "nat", "clock-skew", "clock-inconsistent", "clock-step", "retransmission", "checksum-bad",
		"wrong-outer-address", "capture-gap", "capture-dropped", "capture-cut", "capture-one-way", "loss-one-way-gap", "loss-router-side-unknown", "loss-order-unknown", "router-side-unknown", "offset-contradicted", "node-ip-contradicted", "point-files-disagree", "any-iface-tied", "window-too-small", "ambiguous-packets", "pod-veth-shared",
		"point-unnamed", "path-incomplete", "encap-mode-mismatch", "nat-outgoing-mismatch", "dnat-not-endpoint", "k8s-contradicted",
		"wireguard-no-session", "wireguard-handshake-failing", "wireguard-bypass", "wireguard-reordered", "wireguard-rekey"}
	if len(anomalyKinds) != len(kinds) {
		t.Errorf("anomalyKinds has %d kinds, the vocabulary %d", len(anomalyKinds), len(kinds))
	}
	for _, k := range kinds {
		i, ok := kindIndex[k]
		if !ok {
			t.Errorf("%s: not in anomalyKinds", k)
			continue
		}
		r := anomalyKinds[i]
		if !strings.Contains(r.text, "%s") || (r.next == "" && k != "nat") || r.detect == nil {
			t.Errorf("%s: explanation %q, next %q, detector set %v", k, r.text, r.next, r.detect != nil)
		}
	}
}

// The README's example filter on the real captures of the demo's MTU black hole returns the flow that
// lost packets (TCP from 10.244.1.5), and only it; its opposite returns the others.
func TestFilterReadmeExample(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/lab/scenarios/mtu-blackhole/*.pcap")
	var pcaps []string
	for _, p := range paths {
		if !strings.HasSuffix(p, "-any.pcap") {
			pcaps = append(pcaps, p)
		}
	}
	if len(pcaps) == 0 {
		t.Skip("no mtu-blackhole lab scenario")
	}
	r := Correlate(decode.Load(pcaps, decode.Options{}, decode.PointConfig{}), Options{})
	match := func(expr string) (ids []string, lost int) {
		f, err := ParseFilter(expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		for i := range r.Flows {
			if f.MatchFlow(r, &r.Flows[i]) {
				ids = append(ids, r.Flows[i].Proto)
				lost += r.Flows[i].Lost
			}
		}
		return ids, lost
	}
	if ids, lost := match("proto tcp and host 10.244.1.5 and not status delivered"); len(ids) != 1 || ids[0] != "tcp" || lost == 0 {
		t.Errorf("README example: flows %v with %d lost, want the one TCP flow that lost packets", ids, lost)
	}
	if ids, lost := match("status delivered"); len(ids) != len(r.Flows)-1 || lost != 0 {
		t.Errorf("status delivered: flows %v with %d lost, want every flow but the TCP one, none lost", ids, lost)
	}
}

// Every space (as strings.TrimSpace, which String's expression went through, knows them) parts the
// words of a filter: "point \v" names no point, it lacks one, and "tcp\rand\u00a0port 80" is
// "tcp and port 80". Found by FuzzParseFilter: "point \v" parsed, printed as "point", which does not.
func TestParseFilterSpaces(t *testing.T) {
	want, err := ParseFilter("tcp and port 80")
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range []string{"\v", "\f", "\r", "\u0085", "\u00a0", "\u2003"} {
		if f, err := ParseFilter("point" + sp); err == nil {
			t.Errorf("ParseFilter(%q) = %q, no error", "point"+sp, f.String())
		}
		f, err := ParseFilter("tcp" + sp + "and" + sp + "port" + sp + "80" + sp)
		if err != nil || !reflect.DeepEqual(f.root, want.root) {
			t.Errorf("ParseFilter(%q): %v, not tcp and port 80", "tcp"+sp+"and"+sp+"port"+sp+"80", err)
		}
	}
}
