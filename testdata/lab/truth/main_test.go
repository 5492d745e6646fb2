package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scenarioDirs are the committed scenarios: those calipath's lab test checks (scenarios/) and
// those it cannot follow yet (scenarios-pending/, empty at times).
func scenarioDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for _, d := range []string{"scenarios", "scenarios-pending"} {
		m, err := filepath.Glob(filepath.Join("..", d, "*"))
		if err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 && d == "scenarios" { // scenarios-pending/ may be empty, or gone
			t.Fatalf("no committed scenarios in %s", d)
		}
		dirs = append(dirs, m...)
	}
	return dirs
}

// scenarioDir is a committed scenario's directory, pending or not.
func scenarioDir(t *testing.T, name string) string {
	t.Helper()
	for _, d := range []string{"scenarios", "scenarios-pending"} {
		dir := filepath.Join("..", d, name)
		if _, err := os.Stat(dir); err == nil {
			return dir
		}
	}
	t.Fatalf("no committed scenario %s", name)
	return ""
}

// TestCommittedTruth recomputes every committed scenario's truth from its
// committed captures and logs: the files must agree with the program.
func TestCommittedTruth(t *testing.T) {
	for _, dir := range scenarioDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
			if err != nil {
				t.Fatal(err)
			}
			var want Truth
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			got, err := compute(dir)
			if err != nil {
				t.Fatal(err)
			}
			// Compare through JSON, as the file holds only exported fields.
			gb, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			var g Truth
			if err := json.Unmarshal(gb, &g); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, g, cmp.AllowUnexported(Flow{})); diff != "" {
				t.Errorf("truth.json is stale (-committed +recomputed):\n%s", diff)
			}
		})
	}
}

// TestScenarioFindings pins what each broken scenario must show, so that a
// regenerated capture that no longer exhibits its failure is noticed.
func TestScenarioFindings(t *testing.T) {
	const a, b = "node-a/cali5e1c4d6c68c", "node-b/cali2f5353dd8c5"
	want := map[string][]string{
		"healthy-ipip":         {},
		"healthy-vxlan":        {},
		"healthy-bgp":          {},
		"underlay-drop-proto4": {"underlay-drop router-1/eth0→router-1/eth1"},
		"ipip-input-drop":      {"decap-drop node-b/eth0→node-b/tunl0"},
		"tunl0-cali-drop":      {"delivery-drop node-b/tunl0→" + b},
		"proxy-arp-off":        {"proxy-arp-missing " + a},
		"no-default-route":     {"proxy-arp-missing " + a},
		"mtu-blackhole":        {"pmtu-blackhole router-1/eth1→router-1/eth0"},
		"pmtu-discovery":       {"icmp-frag-needed router-1/eth1", "icmp-frag-needed " + b},
		"clusterip-dnat":       {"nat " + a + "→node-a/tunl0"},
		"snat-external":        {"nat " + a + "→node-a/eth0"},
		// snat-external with router-1/eth0 not captured: node-a's clock meets router-1's and ext-1's one
		// way only. Every packet is delivered, SNATed whole.
		"oneway":              {"nat " + a + "→node-a/eth0"},
		"underlay-loss":       {"loss router-1/eth0→router-1/eth1"},
		"clock-skew":          {"clock-skew node-b"},
		"clock-drift":         {"clock-skew node-b"},
		"tcp-retransmission":  {"retransmission " + b},
		"two-routers":         {},
		"two-routers-drop-r2": {"underlay-drop router-2/eth0→router-2/eth1"},

		// Issue 12: a DF ping its own node refuses, UDP checksum offload on VXLAN, one -i any per node.
		"df-ping-refused":       {"icmp-frag-needed " + a, "encap-drop " + a + "→node-a/tunl0"},
		"healthy-vxlan-offload": {},
		"any-ipip-input-drop":   {"decap-drop node-b/eth0→node-b/tunl0"},
		"any-underlay-drop":     {"underlay-drop node-a/eth0→node-b/eth0"},
		// BGP, one -i any per node: a FORWARD drop after node-b's eth0; an underlay drop (which node pod-b
		// is on shows nowhere in the -i any files: calipath needs --k8s for it).
		"any-bgp-forward-drop":  {"host-drop node-b/eth0→" + b},
		"any-bgp-underlay-drop": {"underlay-drop node-a/eth0→node-b/eth0"},

		// Issue 16: node-b's own state breaks its way back (the dumps explain it: TestStateExplanations);
		// the closing datagram to a closed port draws pod-b's ICMP port-unreachable. state-neigh-failed:
		// node-b answers its own drops with host-unreachable. state-low-mtu: the big pings, a flow of their
		// own, all die at node-b's eth0 (MTU 1400) while the small pings and UDP of other flows pass the
		// segment: a path-MTU black hole, not an underlay that drops IP-in-IP.
		"state-blackhole-route":  {"encap-drop " + b + "→node-b/tunl0", "icmp-unreachable " + b},
		"state-missing-route":    {"underlay-drop node-b/eth0→node-a/eth0", "icmp-unreachable " + b},
		"state-neigh-failed":     {"host-drop " + b + "→node-b/eth0", "arp-unanswered node-b/eth0", "icmp-unreachable " + b},
		"state-low-mtu":          {"pmtu-blackhole node-a/eth0→node-b/eth0", "icmp-unreachable " + b},
		"state-no-default-route": {"proxy-arp-missing " + a},

		// Issue 18: WireGuard between the nodes.
		"healthy-wireguard":       {},
		"wireguard-underlay-loss": {"loss router-1/eth0→router-1/eth1", "loss router-1/eth1→router-1/eth0"},
		"wireguard-blocked": {"wireguard-handshake-failing node-a/eth0", "underlay-drop router-1/eth0→router-1/eth1",
			"wireguard-no-session node-a/wireguard.cali→node-a/eth0"},
		"wireguard-mtu-blackhole": {"pmtu-blackhole router-1/eth1→router-1/eth0"},
		"wireguard-fragmented":    {"fragmented router-1/eth0"},
		"wireguard-bypass":        {"wireguard-bypass node-a/eth0"},

		// Traffic that stays on node-a: pod-a with pod-c, node-a itself with pod-a. Healthy.
		"same-node": {},
		"vlan-ipip": {}, // healthy: the tagged underlay changes nothing but its path
		// vlan-ipip with router-1's eth0 (the tagged parent) at MTU 1400: node-a's big DF frames die on the
		// wire between the two parents' captures, not between node-a's eth0.100 and eth0.
		"vlan-loss": {"pmtu-blackhole node-a/eth0→router-1/eth0"},
		// router-1 captured with one -i any (cooked v2, named by its links file; cooked v1 in sll1/):
		// healthy in BGP and IP-in-IP; a forward drop of pod-a's UDP to pod-b inside the router.
		"router-any-bgp":  {},
		"router-any-ipip": {},
		"router-any-drop": {"underlay-drop router-1/eth0→router-1/eth1"},
		// router-1 with a third link (ext-1), captured per interface: healthy.
		"router-three-ifaces": {},
		// the same, router-1 captured with one -i any (cooked v2 and, in sll1/, v1).
		"router-three-ifaces-any": {},
		// the same, router-1 dropping pod-a's UDP to ext-1 in forward: inside it, toward its third link.
		"router-three-ifaces-drop": {"underlay-drop router-1/eth0→router-1/eth2"},
		// IPv6: pods with /128 addresses, VXLAN over an IPv6 underlay (vxlan-v6.calico). Healthy.
		"healthy-vxlan6": {},
		// router-1 drops VXLAN over IPv6 (UDP 4789): every pod packet dies between its eth0 and eth1.
		"vxlan6-underlay-drop": {"underlay-drop router-1/eth0→router-1/eth1"},
		// IPv6 off on pod-a's cali (disable_ipv6=1): no link-local fe80::ecee:eeff:feee:eeee there, so
		// pod-a's solicitations for its gateway go unanswered and it sends nothing else.
		"ndp-gateway-off6": {"nd-gateway-unanswered " + a},
		// node-b's eth0 captured from 1.5 s after the others (no -i any on node-b): the first pings
		// crossed it unseen, seen on both sides of it. Healthy otherwise.
		"late-capture": {"capture-gap node-b/eth0"},
		// router-1's eth0 at MTU 1400 on the IPv6 underlay: it answers pod-b's big VXLAN packets with ICMPv6
		// Packet Too Big (MTU 1400) to node-b, whose vxlan-v6.calico then refuses pod-b's big packets itself
		// (Packet Too Big, MTU 1330, from its VTEP address); the drop router-1 answered is no loss of its own
		// (TestPacketTooBig). In mtu-blackhole6 router-1's Packet Too Big is dropped on its way out, and the
		// big packets die there unanswered.
		"pmtu-discovery6": {"icmp-frag-needed router-1/eth1", "icmp-frag-needed " + b,
			"loss " + b + "→node-b/vxlan-v6.calico", "loss node-b/vxlan-v6.calico→node-b/eth0"},
		"mtu-blackhole6": {"pmtu-blackhole router-1/eth1→router-1/eth0"},
		// IPv6's state-neigh-failed: node-b routes pod-a's block via fd00:20::99 on eth0, which
		// answers no neighbour solicitation; node-b answers pod-b's queued answers with ICMPv6
		// address-unreachable. pod-b's later solicitation of its gateway is answered without the target
		// link-layer address option (from ee:ee:ee:ee:ee:ee: no nd-unexpected-mac).
		"state-neigh-failed6": {"encap-drop " + b + "→node-b/vxlan-v6.calico", "nd-unanswered node-b/eth0", "icmp-unreachable " + b},
		// pod-a's datagram to a Service address, DNATed on node-a to a port of pod-b nothing listens on,
		// sent before pod-a's cali was captured: seen after the DNAT only. pod-b's port-unreachable,
		// un-NATed by node-a's conntrack between its tunl0 and pod-a's cali, is seen on both sides with two
		// quotes that no captured packet of the quoted flow joins; node-b asked for pod-b's MAC several
		// times before pod-b answered.
		"nat-error-late": {"icmp-error-nat-unknown node-a/tunl0→" + a, "capture-gap " + a, "arp-unanswered " + b,
			"icmp-unreachable " + a, "icmp-unreachable " + b},
		// ext-1 to node-a's node ports, DNATed and masqueraded on node-a to pod-b on node-b: the
		// translation is on node-a between its eth0 and its tunl0 (TestNodePortPath).
		"nodeport-cluster": {"nat node-a/eth0→node-a/tunl0"},
		// pod-a to a Service whose only endpoint is itself: DNATed and masqueraded back into its cali.
		"hairpin-clusterip": {"nat " + a + "→" + a},
		// pod-a to a Service with an endpoint on each node: DNATed on node-a, to pod-c (node-a) between
		// the two cali, to pod-b (node-b) between pod-a's cali and tunl0 (TestClusterIPTwoNodesPath).
		"clusterip-two-nodes": {"nat " + a + "→node-a/cali3754a2f57f6", "nat " + a + "→node-a/tunl0"},
		// node-a's own stack (a host-networked client, from tunl0's address) to pod-b: healthy.
		"host-to-pod": {},
		// four TCP connections on one 5-tuple (pod-a's port 20000, pod-b's 8080), the last opened by
		// pod-b: healthy, no retransmission (TestPortReuseConnections).
		"port-reuse": {},
		// pod-a's two connections to ext-1 from its port 20000, masqueraded on node-a keeping the port,
		// then ext-1's one back from 8080 to node-a's 20000, DNATed to pod-a's: the one tuple NATed both
		// ways, each connection's opener's way (TestPortReuseNATConnections).
		"port-reuse-nat": {"nat " + a + "→node-a/eth0", "nat node-a/eth0→" + a},
		// the same, router-1 dropping the node port's UDP on its second way through (in IP-in-IP from
		// node-a to node-b), after its eth0 saw it twice (TestNodePortDropPath).
		"nodeport-cluster-drop": {"nat node-a/eth0→node-a/tunl0", "underlay-drop router-1/eth0→router-1/eth1"},
		// ext-1 to node-a's node ports (externalTrafficPolicy Local), DNATed on node-a to pod-a on node-a
		// itself, not masqueraded: the translation is between node-a's eth0 and pod-a's cali
		// (TestNodePortLocalPath).
		"nodeport-local": {"nat node-a/eth0→" + a},
		// snat-external's masquerade and nodeport-local's UDP node port at once, every capture begun in
		// the middle of both conversations: the masqueraded one's first packet seen is a reply
		// (TestNATMidstreamOpeners).
		"nat-midstream": {"nat " + a + "→node-a/eth0", "nat node-a/eth0→" + a},
		// nat-midstream with pod-a's conversation SNATed to a second address of node-a's eth0 and ext-1's
		// DNATed from a Service's external IP: the same two places (TestNATMidstreamOpeners' rule).
		"snat-address-midstream": {"nat " + a + "→node-a/eth0", "nat node-a/eth0→" + a},
		// pod-a's traffic to ext-1 through the egress gateway pod egw-1 on node-b, which masquerades it
		// in its own namespace: between its veth's way in and its way out (TestEgressGatewayPath).
		"egress-gateway": {"nat node-b/calic48178a498b→node-b/calic48178a498b"},
	}
	for _, dir := range scenarioDirs(t) {
		if _, ok := want[filepath.Base(dir)]; !ok {
			t.Errorf("scenario %s: no findings pinned here", filepath.Base(dir))
		}
	}
	for sc, kinds := range want {
		t.Run(sc, func(t *testing.T) {
			tr, err := compute(scenarioDir(t, sc))
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			for _, x := range tr.ExpectedAnomalies {
				have[x.Kind+" "+x.Where] = true
			}
			for _, k := range kinds {
				if !have[k] {
					t.Errorf("missing anomaly %q; have %v", k, tr.ExpectedAnomalies)
				}
			}
			if len(kinds) == 0 && len(tr.ExpectedAnomalies) != 0 {
				t.Errorf("healthy scenario has anomalies %v", tr.ExpectedAnomalies)
			}
			if len(kinds) == 0 || sc == "clock-skew" || sc == "clock-drift" || sc == "oneway" {
				for _, f := range tr.Flows {
					if f.Sent == 0 || f.Sent != f.Delivered {
						t.Errorf("flow %s %s:%d→%s:%d: sent %d delivered %d", f.Proto, f.Src, f.Sport, f.Dst, f.Dport, f.Sent, f.Delivered)
					}
				}
			}
		})
	}
}

// TestStateExplanations pins the dump line each state-* scenario's truth expects calipath to cite,
// worked out from the rule applied and the dump (state.go).
func TestStateExplanations(t *testing.T) {
	want := map[string][]string{
		"state-blackhole-route": {"blackhole-route node-b node-b-routes.txt blackhole 10.244.1.0/26"},
		"state-missing-route":   {"no-block-route node-b node-b-routes.txt default via 192.168.20.1 dev eth0"},
		"state-neigh-failed":    {"neighbour-failed node-b node-b-neigh.json 192.168.20.99 dev eth0 FAILED"},
		"state-neigh-failed6":   {"neighbour-failed node-b node-b-neigh.json fd00:20::99 dev eth0 FAILED"},
		"state-low-mtu":         {"mtu-too-small node-b node-b-links.txt 2: eth0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400"},
		"state-no-default-route": {"no-route node-a node-a-routes.txt ",
			"neighbour-failed node-a node-a-cali5e1c4d6c68c-neigh.json 169.254.1.1 dev eth0 "},
	}
	for sc, ws := range want {
		t.Run(sc, func(t *testing.T) {
			tr, err := compute(scenarioDir(t, sc))
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.ExpectedExplanations) != len(ws) {
				t.Fatalf("explanations %+v, want %d", tr.ExpectedExplanations, len(ws))
			}
			for i, w := range ws {
				e := tr.ExpectedExplanations[i]
				got := e.Kind + " " + e.Node + " " + e.File + " " + e.Text
				if !strings.HasPrefix(got, w) || (e.Line < 1) != (e.Kind == "no-route") {
					t.Errorf("got %q (line %d), want %q…", got, e.Line, w)
				}
			}
		})
	}
	// A rule the dump does not show is an error, not a silent miss.
	l := &lab{dir: t.TempDir()}
	l.t.State = []StateDump{{Node: "node-b"}}
	l.t.Rules = []Rule{{Node: "node-b", Cmd: "ip route replace blackhole 10.244.1.0/26"}}
	if err := os.WriteFile(filepath.Join(l.dir, "node-b-routes.txt"), []byte("default via 192.168.20.1 dev eth0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.stateExplanations(); err == nil {
		t.Error("a blackhole rule without its route in the dump: no error")
	}
}

// TestNodePortPath pins nodeport-cluster's paths: ext-1's requests to node-a's node ports cross
// node-a's eth0 twice (in as sent, out in the tunnel once DNATed and masqueraded) and router-1's eth0
// twice, and pod-b's replies come back the same way, un-NATed on node-a between its tunl0 and its
// eth0; everything was delivered.
func TestNodePortPath(t *testing.T) {
	tr, err := compute(scenarioDir(t, "nodeport-cluster"))
	if err != nil {
		t.Fatal(err)
	}
	b := "node-b/cali2f5353dd8c5"
	there := []string{"ext-1/eth0", "router-1/eth2", "router-1/eth0", "node-a/eth0", "node-a/tunl0", "node-a/eth0",
		"router-1/eth0", "router-1/eth1", "node-b/eth0", "node-b/tunl0", b}
	nodePortPaths(t, tr, there, [2]string{"10.244.2.7", "10.244.1.0"})
}

// TestNodePortLocalPath pins nodeport-local's paths: ext-1's requests to node-a's node ports cross
// router-1 (eth2, then eth0) and node-a's eth0 once, bare, and end at pod-a's cali, DNATed on node-a
// with the client's address kept (no masquerade); pod-a's replies go back the same way, un-DNATed on
// node-a; nothing of them crosses a tunnel device; everything was delivered.
func TestNodePortLocalPath(t *testing.T) {
	tr, err := compute(scenarioDir(t, "nodeport-local"))
	if err != nil {
		t.Fatal(err)
	}
	a := "node-a/cali5e1c4d6c68c"
	there := []string{"ext-1/eth0", "router-1/eth2", "router-1/eth0", "node-a/eth0", a}
	nodePortPaths(t, tr, there, [2]string{"10.244.1.5", "203.0.113.10"})
	for _, x := range tr.NAT {
		if x.Kind != "dnat" || x.Where != "node-a/eth0→"+a || !strings.HasPrefix(x.To, "10.244.1.5:") {
			t.Errorf("NAT %+v: want only the DNAT to pod-a at node-a/eth0→%s", x, a)
		}
	}
	if len(tr.NAT) != 2 {
		t.Errorf("%d NATs, want the DNATs of TCP and UDP: %+v", len(tr.NAT), tr.NAT)
	}
}

// TestHairpinPath checks the truth of hairpin-clusterip: pod-a reaches the Service 10.96.0.10 whose
// only endpoint is pod-a itself, so node-a DNATs each request to pod-a and masquerades it to its own
// address, and sends it back into pod-a's cali, which sees it twice: out as sent, in rewritten; the
// answers come back so, un-NATed. Each flow direction is one packet per request or answer, its path
// pod-a's cali twice, all delivered, with the DNAT and the masquerade on that way. Before, the
// rewritten sighting at the cali began a flow of its own (node-a's address to pod-a, as from the
// node's own stack), and the answers' path was the cali once.
func TestHairpinPath(t *testing.T) {
	tr, err := compute(scenarioDir(t, "hairpin-clusterip"))
	if err != nil {
		t.Fatal(err)
	}
	cali := "node-a/cali5e1c4d6c68c"
	want := []string{cali, cali}
	n, sent := 0, 0
	for _, f := range tr.Flows {
		if f.Proto == "icmp" {
			continue // pod-a's pings to pod-b, before and after
		}
		n++
		sent += f.Sent
		svc := f.Src == "10.244.1.5" && f.Dst == "10.96.0.10"
		back := f.Src == "10.244.1.5" && f.Dst == "192.168.10.2" // pod-a answering the masqueraded request
		if !svc && !back || !slices.Equal(f.Path, want) || f.Sent == 0 || f.Delivered != f.Sent || f.DeliveredTo != cali {
			t.Errorf("flow %s %s:%d → %s:%d: path %v, delivered %d of %d to %q; want %v, all delivered to %s", f.Proto, f.Src, f.Sport,
				f.Dst, f.Dport, f.Path, f.Delivered, f.Sent, f.DeliveredTo, want, cali)
		}
	}
	if n != 4 || sent != 18 {
		t.Errorf("%d flows of %d packets besides the pings, want 4 (TCP and UDP, each way) of 18", n, sent)
	}
	kinds := map[string]bool{}
	for _, x := range tr.NAT {
		if x.Where == cali+"→"+cali {
			kinds[x.Kind+" "+x.Proto] = true
		}
	}
	for _, k := range []string{"dnat tcp", "snat tcp", "dnat udp", "snat udp"} {
		if !kinds[k] {
			t.Errorf("no %s at %s→%s: %+v", k, cali, cali, tr.NAT)
		}
	}
}

// TestEgressGatewayPath checks the truth of egress-gateway: node-a routes pod-a's packets to outside
// the pool through tunl0 to node-b, which hands them to the egress gateway pod egw-1 (10.244.2.12);
// egw-1 masquerades them to its own address in its own namespace and sends them back out of its veth,
// and node-b sends them on bare to router-1 and ext-1. The replies, sent to egw-1's address, come back
// into egw-1's veth, are un-masqueraded there, leave it for pod-a and cross the tunnel back to node-a.
// Each way is one flow, every packet delivered along the whole way, egw-1's veth twice on it, with the
// SNAT between the two passages there. Before, the truth's path went from pod-a straight to ext-1 (a
// masquerade on router-1) and the replies ended at egw-1's veth.
func TestEgressGatewayPath(t *testing.T) {
	tr, err := compute(scenarioDir(t, "egress-gateway"))
	if err != nil {
		t.Fatal(err)
	}
	ca, cg := "node-a/cali5e1c4d6c68c", "node-b/calic48178a498b"
	out := []string{ca, "node-a/tunl0", "node-a/eth0", "router-1/eth0", "router-1/eth1", "node-b/eth0", "node-b/tunl0", cg, cg,
		"node-b/eth0", "router-1/eth1", "router-1/eth2", "ext-1/eth0"}
	back := slices.Clone(out)
	slices.Reverse(back)
	n := 0
	for _, f := range tr.Flows {
		if f.Proto == "icmp" {
			continue // pod-a's pings to pod-b, before and after: not through the gateway
		}
		n++
		want, to := out, "ext-1/eth0"
		if f.Src == "203.0.113.10" {
			want, to = back, ca
			if f.Dst != "10.244.2.12" {
				t.Errorf("reply flow %s %s → %s: want it sent to egw-1's address", f.Proto, f.Src, f.Dst)
			}
		} else if f.Src != "10.244.1.5" || f.Dst != "203.0.113.10" {
			t.Errorf("flow %s %s → %s: want pod-a to ext-1 or back", f.Proto, f.Src, f.Dst)
		}
		if !slices.Equal(f.Path, want) || f.Sent == 0 || f.Delivered != f.Sent || f.DeliveredTo != to {
			t.Errorf("flow %s %s:%d → %s:%d: path %v, delivered %d of %d to %q; want %v, all delivered to %s", f.Proto, f.Src,
				f.Sport, f.Dst, f.Dport, f.Path, f.Delivered, f.Sent, f.DeliveredTo, want, to)
		}
	}
	if n != 4 {
		t.Errorf("%d flows besides the pings, want 4 (TCP and UDP, each way)", n)
	}
	if len(tr.NAT) != 2 {
		t.Errorf("NAT %+v: want the two masquerades only", tr.NAT)
	}
	for _, x := range tr.NAT {
		if x.Kind != "snat" || x.Where != cg+"→"+cg || !strings.HasPrefix(x.From, "10.244.1.5:") || !strings.HasPrefix(x.To, "10.244.2.12:") {
			t.Errorf("NAT %+v: want pod-a's address masqueraded to egw-1's at %s→%s", x, cg, cg)
		}
	}
}

// TestClusterIPTwoNodesPath checks the truth of clusterip-two-nodes: node-a DNATs the Service
// 10.96.0.10 to pod-b (node-b) and to pod-c (node-a) in turn, per connection (iptables' statistic nth
// on the first rule). pod-a made four HTTP connections and four UDP ones (two datagrams each, a socket
// of its own each), in that order (traffic.log), so the first and third of each went to pod-b, the
// second and fourth to pod-c. Each connection's requests keep their flow (pod-a to the Service) and
// their path is the way they went: to pod-b through node-a's tunl0 and eth0, router-1 and node-b, or
// to pod-c from pod-a's cali straight to pod-c's; the answers back the same way, un-NATed on node-a.
// Everything was delivered, to the endpoint it was sent to, and the DNAT is on each way.
func TestClusterIPTwoNodesPath(t *testing.T) {
	tr, err := compute(scenarioDir(t, "clusterip-two-nodes"))
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := "node-a/cali5e1c4d6c68c", "node-b/cali2f5353dd8c5", "node-a/cali3754a2f57f6"
	remote := []string{a, "node-a/tunl0", "node-a/eth0", "router-1/eth0", "router-1/eth1", "node-b/eth0", "node-b/tunl0", b}
	remoteBack := slices.Clone(remote)
	slices.Reverse(remoteBack)
	local, localBack := []string{a, c}, []string{c, a}
	// Where each of pod-a's connections to the Service went, by its source port, from traffic.log's order.
	endpoint := map[string]string{} // "tcp 50834" → "10.244.2.7"
	nth := map[string]int{}
	for _, l := range tr.Traffic {
		proto := map[string]string{"http": "tcp", "udp": "udp"}[l.Kind]
		if proto == "" || l.From != "pod-a" {
			continue
		}
		_, port, _ := strings.Cut(l.Src, ":")
		ep := "10.244.2.7" // the first rule's, every other connection from the first
		if nth[proto]%2 == 1 {
			ep = "10.244.1.9"
		}
		nth[proto]++
		endpoint[proto+" "+port] = ep
	}
	if nth["tcp"] != 4 || nth["udp"] != 4 {
		t.Fatalf("traffic.log: %d HTTP and %d UDP connections from pod-a, want 4 and 4", nth["tcp"], nth["udp"])
	}
	n := map[string]int{}
	for _, f := range tr.Flows {
		if f.Proto == "icmp" {
			continue // pod-a's pings to pod-b, before and after
		}
		var want []string
		var to string
		switch {
		case f.Src == "10.244.1.5" && f.Dst == "10.96.0.10":
			ep := endpoint[fmt.Sprintf("%s %d", f.Proto, f.Sport)]
			want, to = remote, b
			if ep == "10.244.1.9" {
				want, to = local, c
			}
			n[ep+" there"]++
		case f.Src == "10.244.2.7" && f.Dst == "10.244.1.5":
			if endpoint[fmt.Sprintf("%s %d", f.Proto, f.Dport)] != f.Src {
				t.Errorf("flow %s %s:%d → %s:%d: pod-b answered a connection sent to another endpoint", f.Proto, f.Src, f.Sport, f.Dst, f.Dport)
			}
			want, to = remoteBack, a
			n[f.Src+" back"]++
		case f.Src == "10.244.1.9" && f.Dst == "10.244.1.5":
			if endpoint[fmt.Sprintf("%s %d", f.Proto, f.Dport)] != f.Src {
				t.Errorf("flow %s %s:%d → %s:%d: pod-c answered a connection sent to another endpoint", f.Proto, f.Src, f.Sport, f.Dst, f.Dport)
			}
			want, to = localBack, a
			n[f.Src+" back"]++
		default:
			t.Errorf("flow %s %s:%d → %s:%d: not of the Service's connections", f.Proto, f.Src, f.Sport, f.Dst, f.Dport)
			continue
		}
		if !slices.Equal(f.Path, want) || f.Sent == 0 || f.Delivered != f.Sent || f.DeliveredTo != to {
			t.Errorf("flow %s %s:%d → %s:%d: path %v, delivered %d of %d to %q; want %v, all delivered to %s", f.Proto, f.Src, f.Sport,
				f.Dst, f.Dport, f.Path, f.Delivered, f.Sent, f.DeliveredTo, want, to)
		}
	}
	for _, k := range []string{"10.244.2.7 there", "10.244.1.9 there", "10.244.2.7 back", "10.244.1.9 back"} {
		if n[k] != 4 { // two TCP and two UDP connections each
			t.Errorf("%d flows %s, want 4 (two TCP, two UDP): %v", n[k], k, n)
		}
	}
	nats := map[string]bool{}
	for _, x := range tr.NAT {
		nats[x.Kind+" "+x.Proto+" "+x.From+" "+x.To+" "+x.Where] = true
	}
	for _, w := range []string{
		"dnat tcp 10.96.0.10:80 10.244.2.7:8080 " + a + "→node-a/tunl0",
		"dnat tcp 10.96.0.10:80 10.244.1.9:8080 " + a + "→" + c,
		"dnat udp 10.96.0.10:53 10.244.2.7:9000 " + a + "→node-a/tunl0",
		"dnat udp 10.96.0.10:53 10.244.1.9:9000 " + a + "→" + c,
	} {
		if !nats[w] {
			t.Errorf("no NAT %q: %+v", w, tr.NAT)
		}
	}
}

// TestPortReuseConnections pins port-reuse's connections, from its captures: pod-a's three from
// 10.244.1.5:20000 to pod-b:8080 and pod-b's one back, each with an ISN of its own and answered, the
// second and third reset by pod-a, each handshake measured at its client's pod veth, every TCP
// segment in one of them; no other tuple carried more than one, and no TCP segment was resent.
func TestPortReuseConnections(t *testing.T) {
	tr, err := compute(scenarioDir(t, "port-reuse"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.PortReuse) != 1 || len(tr.PortReuse[0].Connections) != 4 {
		t.Fatalf("port_reuse %+v: want one tuple of four connections", tr.PortReuse)
	}
	a, b := "10.244.1.5:20000", "10.244.2.7:8080"
	if tr.PortReuse[0].Ends != [2]string{a, b} {
		t.Errorf("ends %v, want %s and %s", tr.PortReuse[0].Ends, a, b)
	}
	isn, sent := map[uint32]bool{}, 0
	for i, c := range tr.PortReuse[0].Connections {
		want := [2]string{a, b}
		if i == 3 {
			want = [2]string{b, a}
		}
		if [2]string{c.Client, c.Server} != want || !c.Answered || isn[c.ISN] {
			t.Errorf("connection %d %+v: want %s → %s, answered, an ISN of its own", i, c, want[0], want[1])
		}
		isn[c.ISN] = true
		// its own segments: pod-a's reset ends the second and third; its handshake at its client's
		// pod veth
		cali := map[string]string{a: "node-a/cali5e1c4d6c68c", b: "node-b/cali2f5353dd8c5"}[c.Client]
		if c.Resets != []int{0, 1, 1, 0}[i] || c.Resent != 0 || c.HandshakeAt != cali || c.HandshakeRTT <= 0 {
			t.Errorf("connection %d %+v: want %d resets, none resent, its handshake RTT at %s", i, c, []int{0, 1, 1, 0}[i], cali)
		}
		sent += c.Sent
	}
	tcpSent := 0
	for _, f := range tr.Flows {
		if f.Proto == "tcp" {
			tcpSent += f.Sent
		}
	}
	if sent != tcpSent {
		t.Errorf("connections' segments %d, the TCP flows' %d", sent, tcpSent)
	}
	for _, f := range tr.Flows {
		if f.Retransmitted != 0 {
			t.Errorf("flow %s:%d → %s:%d: %d resent, want none", f.Src, f.Sport, f.Dst, f.Dport, f.Retransmitted)
		}
	}
}

// TestPortReuseNATConnections pins port-reuse-nat's connections, from its captures: one tuple through
// node-a's NAT (pod-a's 10.244.1.5:20000 and ext-1's 203.0.113.10:8080, pod-a's end seen as node-a's
// 192.168.10.2:20000 past the NAT) carrying pod-a's two connections, masqueraded, and ext-1's one back
// to 192.168.10.2:20000, DNATed to pod-a: three, each with an ISN of its own, answered, its handshake
// measured at its client's origin point, every TCP segment in one of them, none resent; and both
// NATs, each its client's way: the masquerade of pod-a's source, the DNAT of ext-1's destination.
func TestPortReuseNATConnections(t *testing.T) {
	tr, err := compute(scenarioDir(t, "port-reuse-nat"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.PortReuse) != 1 || len(tr.PortReuse[0].Connections) != 3 {
		t.Fatalf("port_reuse %+v: want one tuple of three connections", tr.PortReuse)
	}
	a, b, na := "10.244.1.5:20000", "203.0.113.10:8080", "192.168.10.2:20000"
	if tr.PortReuse[0].Ends != [2]string{a, b} {
		t.Errorf("ends %v, want %s and %s", tr.PortReuse[0].Ends, a, b)
	}
	isn, sent := map[uint32]bool{}, 0
	for i, c := range tr.PortReuse[0].Connections {
		want, at := [2]string{a, b}, "node-a/cali5e1c4d6c68c"
		if i == 2 {
			want, at = [2]string{b, na}, "ext-1/eth0"
		}
		if [2]string{c.Client, c.Server} != want || !c.Answered || isn[c.ISN] || c.Resent != 0 || c.HandshakeAt != at ||
			c.HandshakeRTT <= 0 {
			t.Errorf("connection %d %+v: want %s → %s, answered, an ISN of its own, none resent, its handshake RTT at %s", i, c,
				want[0], want[1], at)
		}
		isn[c.ISN] = true
		sent += c.Sent
	}
	tcpSent := 0
	for _, f := range tr.Flows {
		if f.Proto == "tcp" {
			tcpSent += f.Sent
		}
	}
	if sent != tcpSent {
		t.Errorf("connections' segments %d, the TCP flows' %d", sent, tcpSent)
	}
	nats := map[string]bool{}
	for _, n := range tr.NAT {
		nats[n.Kind+" "+n.From+" "+n.To+" "+n.Where] = true
	}
	for _, w := range []string{"snat " + a + " " + na + " node-a/cali5e1c4d6c68c→node-a/eth0",
		"dnat " + na + " " + a + " node-a/eth0→node-a/cali5e1c4d6c68c"} {
		if !nats[w] {
			t.Errorf("no NAT %q: %+v", w, tr.NAT)
		}
	}
}

// TestHostToPodPath checks the truth of host-to-pod: a host-networked client on node-a (node-a's own
// stack, no cali) talks to pod-b on node-b. The route to node-b's block gives tunl0's address
// (10.244.1.0) as source, so node-a's packets enter the datapath at its tunl0 and pod-b's answers end
// there: each direction is delivered whole, its path from node-a/tunl0 to pod-b's cali or back. Before,
// node-a's own packets had no origin (no flow of theirs), and pod-b's answers to 10.244.1.0 no
// destination: three flows with no path, lost at "unknown".
func TestHostToPodPath(t *testing.T) {
	tr, err := compute(scenarioDir(t, "host-to-pod"))
	if err != nil {
		t.Fatal(err)
	}
	there := []string{"node-a/tunl0", "node-a/eth0", "router-1/eth0", "router-1/eth1", "node-b/eth0", "node-b/tunl0",
		"node-b/cali2f5353dd8c5"}
	back := slices.Clone(there)
	slices.Reverse(back)
	n := map[bool]int{}
	for _, f := range tr.Flows {
		var want []string
		switch {
		case f.Src == "10.244.1.0" && f.Dst == "10.244.2.7":
			want = there
		case f.Src == "10.244.2.7" && f.Dst == "10.244.1.0":
			want = back
		default:
			continue
		}
		n[f.Src == "10.244.1.0"]++
		if !slices.Equal(f.Path, want) || f.Sent == 0 || f.Delivered != f.Sent {
			t.Errorf("flow %s %s:%d → %s:%d: path %v, delivered %d of %d; want %v, all delivered", f.Proto, f.Src, f.Sport,
				f.Dst, f.Dport, f.Path, f.Delivered, f.Sent, want)
		}
	}
	if n[true] != 3 || n[false] != 3 {
		t.Errorf("%d flows from node-a's tunnel address and %d back, want 3 each (ping, HTTP, UDP)", n[true], n[false])
	}
}

// TestNodePortDropPath pins nodeport-cluster-drop's UDP flow: ext-1's datagrams to node-a's node port
// cross router-1's eth0 toward node-a, node-a DNATs and masquerades them into its tunnel, and router-1
// drops them after its eth0 saw them the second time, on their way to its eth1: each lost there, none
// delivered. The HTTP and its replies are delivered.
func TestNodePortDropPath(t *testing.T) {
	tr, err := compute(scenarioDir(t, "nodeport-cluster-drop"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range tr.Flows {
		if f.Src != "203.0.113.10" || f.Dst != "192.168.10.2" {
			continue
		}
		n++
		switch f.Proto {
		case "udp":
			if f.Sent != 3 || f.Delivered != 0 || f.LostAt != "router-1/eth0→router-1/eth1" {
				t.Errorf("udp: %d sent, %d delivered, lost at %q; want 3, 0, router-1/eth0→router-1/eth1", f.Sent,
					f.Delivered, f.LostAt)
			}
		case "tcp":
			if f.Sent == 0 || f.Delivered != f.Sent {
				t.Errorf("tcp: %d of %d delivered", f.Delivered, f.Sent)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d flows to node-a's node ports, want 2", n)
	}
}

// TestNATEarliestPacket: a translation is timed by the earliest packet it was seen on, whatever the order
// packets are followed in. Two connections to one Service endpoint share its mapping; when the second's
// request is followed first, the mapping still dates from the first's request, before the first's
// answer, so the request's DNAT is kept and not the answer's reverse (clusterip-two-nodes: a rerun kept
// the answers' SNATs, its NAT order depending on which connection was followed first).
func TestNATEarliestPacket(t *testing.T) {
	l := &lab{}
	seen := map[string]int{}
	const svc, ep = "10.96.0.10:53", "10.244.1.9:9000"
	l.addNAT(seen, "dnat", "udp", svc, ep, "a→c", 300) // the second connection's request
	l.addNAT(seen, "snat", "udp", ep, svc, "c→a", 200) // the first's answer
	l.addNAT(seen, "dnat", "udp", svc, ep, "a→c", 100) // the first's request
	l.natResolve()
	if len(l.t.NAT) != 1 || l.t.NAT[0].Kind != "dnat" || l.t.NAT[0].Where != "a→c" {
		t.Errorf("NAT %+v, want the requests' DNAT at a→c alone", l.t.NAT)
	}
}

// TestNATMidstreamOpeners: in nat-midstream every capture begins between the third datagram of
// pod-a's conversation with ext-1 and its reply, so the first packet of it seen anywhere is the reply,
// un-SNATed on node-a (a destination rewrite); the truth names the rewrite of the side that opened the
// conversation (traffic.log): pod-a's masquerade, from the cali to node-a's eth0, and the node port's
// DNAT, from node-a's eth0 to the cali.
func TestNATMidstreamOpeners(t *testing.T) {
	tr, err := compute(scenarioDir(t, "nat-midstream"))
	if err != nil {
		t.Fatal(err)
	}
	var snat, dnat int
	for _, n := range tr.NAT {
		switch {
		case n.Kind == "snat" && strings.HasPrefix(n.From, "10.244.1.5:") && strings.HasPrefix(n.To, "192.168.10.2:") &&
			n.Where == "node-a/cali5e1c4d6c68c→node-a/eth0":
			snat++
		case n.Kind == "dnat" && n.From == "192.168.10.2:30053" && n.To == "10.244.1.5:9000" &&
			n.Where == "node-a/eth0→node-a/cali5e1c4d6c68c":
			dnat++
		default:
			t.Errorf("NAT %+v: not the opener's", n)
		}
	}
	if snat != 1 || dnat != 1 {
		t.Errorf("NAT %+v: want pod-a's masquerade and the node port's DNAT, once each", tr.NAT)
	}
	l := &lab{}
	l.t.Traffic = []TrafficLine{{Kind: "udp", Src: "10.244.1.5:41815", Dst: "203.0.113.10:9000"}}
	seen := map[string]int{}
	l.addNAT(seen, "dnat", "udp", "192.168.10.2:15520", "10.244.1.5:41815", "a→c", 100) // a reply, seen first
	l.natResolve()
	if len(l.t.NAT) != 1 || l.t.NAT[0] != (NAT{Kind: "snat", Proto: "udp", From: "10.244.1.5:41815", To: "192.168.10.2:15520", Where: "c→a"}) {
		t.Errorf("NAT %+v, want the client's SNAT at c→a", l.t.NAT)
	}
}

// TestSNATAddressMidstreamOpeners: snat-address-midstream is nat-midstream with pod-a's conversation
// SNATed to 192.168.10.50 (not node-a's node address) and ext-1's DNATed from a Service's external IP,
// 192.168.10.60:53: the first packet of each seen anywhere arrives at node-a's eth0 and is rewritten
// away from a non-node address; the truth names the SNAT from the cali to node-a's eth0 (pod-a opened
// it) and the DNAT from node-a's eth0 to the cali (ext-1 did).
func TestSNATAddressMidstreamOpeners(t *testing.T) {
	tr, err := compute(scenarioDir(t, "snat-address-midstream"))
	if err != nil {
		t.Fatal(err)
	}
	var snat, dnat int
	for _, n := range tr.NAT {
		switch {
		case n.Kind == "snat" && strings.HasPrefix(n.From, "10.244.1.5:") && strings.HasPrefix(n.To, "192.168.10.50:") &&
			n.Where == "node-a/cali5e1c4d6c68c→node-a/eth0":
			snat++
		case n.Kind == "dnat" && n.From == "192.168.10.60:53" && n.To == "10.244.1.5:9000" &&
			n.Where == "node-a/eth0→node-a/cali5e1c4d6c68c":
			dnat++
		default:
			t.Errorf("NAT %+v: not the opener's", n)
		}
	}
	if snat != 1 || dnat != 1 {
		t.Errorf("NAT %+v: want pod-a's SNAT and the external IP's DNAT, once each", tr.NAT)
	}
}

// nodePortPaths checks a NodePort scenario's flows: ext-1's (203.0.113.10) to node-a's node ports
// (192.168.10.2) take path there, the replies (from back[0] to back[1]) there reversed, each
// delivered whole; TCP and UDP each way.
func nodePortPaths(t *testing.T, tr *Truth, there []string, back [2]string) {
	t.Helper()
	rev := slices.Clone(there)
	slices.Reverse(rev)
	n := 0
	for _, f := range tr.Flows {
		var want []string
		switch {
		case f.Src == "203.0.113.10" && f.Dst == "192.168.10.2":
			want = there
		case f.Src == back[0] && f.Dst == back[1]:
			want = rev
		default:
			continue
		}
		n++
		if !slices.Equal(f.Path, want) || f.Sent == 0 || f.Delivered != f.Sent {
			t.Errorf("flow %s %s:%d → %s:%d: path %v, delivered %d of %d; want %v, all delivered", f.Proto, f.Src, f.Sport,
				f.Dst, f.Dport, f.Path, f.Delivered, f.Sent, want)
		}
	}
	if n != 4 {
		t.Errorf("%d flows through node-a's node ports (TCP and UDP, each way), want 4", n)
	}
}
