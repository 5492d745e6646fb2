package correlate

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/calipath/calipath/cluster"
)

// findingsOn runs one kind's detector on a hand-built Result with metadata m.
func findingsOn(t *testing.T, kind string, res *Result, m *cluster.Meta) []Anomaly {
	t.Helper()
	f := &findings{a: &analysis{opts: Options{Cluster: m}}, res: res}
	k := &anomalyKinds[kindIndex[kind]]
	out := k.detect(f, k)
	checkKinds(t, &Result{Anomalies: out})
	return out
}

func poolMeta(ipip, vxlan string, nat bool) *cluster.Meta {
	m := testMeta()
	m.Pools = []cluster.Pool{{Name: "default-ipv4-ippool", CIDR: netip.MustParsePrefix("10.244.0.0/16"), IPIPMode: ipip,
		VXLANMode: vxlan, NATOutgoing: nat, Source: "pools.yaml"}}
	return m
}

// withMasks gives the nodes Calico addresses with masks: node-a and node-b in 192.168.0.0/16 (same
// subnet) or /24 (different subnets).
func withMasks(m *cluster.Meta, bits int) *cluster.Meta {
	for i := range m.Nodes {
		n := &m.Nodes[i]
		n.Addresses = append(n.Addresses, cluster.NodeAddr{IP: n.Addresses[0].IP, Kind: "projectcalico.org/IPv4Address", Prefix: bits})
	}
	return m
}

func podFlow(mode string) *Result {
	return &Result{
		Modes: []PairMode{{From: "node-a", To: "node-b", Mode: mode}},
		Flows: []Flow{{ID: "F1", Proto: "tcp", Src: Endpoint{IP: "10.244.1.5", Port: 40000}, Dst: Endpoint{IP: "10.244.2.7", Port: 8080}, Packets: 10}},
	}
}

func TestPoolMode(t *testing.T) {
	for _, c := range []struct {
		name, mode, ipip, vxlan string
		bits                    int // 0: no masks
		want                    string
	}{
		{"ipip always, seen ipip", "ipip", "Always", "Never", 0, ""},
		{"vxlan always, seen ipip", "ipip", "Never", "Always", 0, "was IP-in-IP, but IP pool default-ipv4-ippool (10.244.0.0/16, in pools.yaml) has vxlanMode Always: VXLAN expected."},
		{"never, seen vxlan", "vxlan", "Never", "Never", 0, "was VXLAN, but IP pool default-ipv4-ippool (10.244.0.0/16, in pools.yaml) has ipipMode and vxlanMode Never: not encapsulated expected."},
		{"never, seen bgp", "bgp", "Never", "", 0, ""},
		{"always, seen bgp", "bgp", "Always", "Never", 0, "was not encapsulated, but"},
		{"crosssubnet, masks unknown", "bgp", "CrossSubnet", "Never", 0, ""},
		{"crosssubnet, same subnet, seen ipip", "ipip", "CrossSubnet", "Never", 16, "has ipipMode CrossSubnet, and the nodes share a subnet: not encapsulated expected."},
		{"crosssubnet, other subnets, seen ipip", "ipip", "CrossSubnet", "Never", 24, ""},
		{"crosssubnet, other subnets, seen crosssubnet", "crosssubnet", "CrossSubnet", "Never", 24, "the nodes are in different subnets: IP-in-IP expected."},
		{"wireguard is not judged", "wireguard", "Never", "Always", 0, ""},
	} {
		m := poolMeta(c.ipip, c.vxlan, false)
		if c.bits > 0 {
			withMasks(m, c.bits)
		}
		got := findingsOn(t, "encap-mode-mismatch", podFlow(c.mode), m)
		switch {
		case c.want == "" && len(got) > 0:
			t.Errorf("%s: %+v, want none", c.name, got)
		case c.want != "" && (len(got) != 1 || !strings.Contains(got[0].Message, c.want) || got[0].Where != Where{From: "node-a", To: "node-b"} ||
			len(got[0].Flows) != 1 || got[0].Flows[0] != "F1" || got[0].Count != 10):
			t.Errorf("%s: %+v, want one at node-a → node-b for F1 saying %q", c.name, got, c.want)
		}
	}
	// Without metadata, or without pools: nothing.
	if got := findingsOn(t, "encap-mode-mismatch", podFlow("ipip"), nil); len(got) != 0 {
		t.Errorf("without metadata: %+v", got)
	}
}

func externalFlow(snat bool) *Result {
	res := &Result{
		Points: []Point{{ID: "node-a/cali5e1c4d6c68c", Node: "node-a", Role: "pod-veth", PodIP: "10.244.1.5"},
			{ID: "node-a/eth0", Node: "node-a", Role: "underlay"}},
		Flows: []Flow{{ID: "F1", Proto: "udp", Src: Endpoint{IP: "10.244.1.5", Port: 40000}, Dst: Endpoint{IP: "198.51.100.7", Port: 53},
			Packets: 6, PerPoint: []PointCount{{Point: "node-a/cali5e1c4d6c68c"}, {Point: "node-a/eth0"}}}},
	}
	if snat {
		res.Flows[0].NAT = []NATMapping{{Kind: "snat", At: "node-a/cali5e1c4d6c68c→node-a/eth0", Count: 3,
			From: "10.244.1.5:40000 → 198.51.100.7:53", To: "192.168.10.2:40000 → 198.51.100.7:53"}}
	}
	return res
}

func TestNATOutgoing(t *testing.T) {
	for _, c := range []struct {
		name      string
		nat, snat bool
		want      string
	}{
		{"nat on, snat seen", true, true, ""},
		{"nat off, none seen", false, false, ""},
		{"nat on, none seen", true, false, "natOutgoing true, in pools.yaml) left node-a for addresses outside every pool with their pod source address: no SNAT was seen."},
		{"nat off, snat seen", false, true, "natOutgoing false, in pools.yaml) were SNATed on node-a (between node-a/cali5e1c4d6c68c and node-a/eth0)."},
	} {
		got := findingsOn(t, "nat-outgoing-mismatch", externalFlow(c.snat), poolMeta("Always", "Never", c.nat))
		switch {
		case c.want == "" && len(got) > 0:
			t.Errorf("%s: %+v, want none", c.name, got)
		case c.want != "" && (len(got) != 1 || !strings.Contains(got[0].Message, c.want) || got[0].Where != Where{Node: "node-a"}):
			t.Errorf("%s: %+v, want one at node-a saying %q", c.name, got, c.want)
		}
	}
	// Seen only at the pod's veth: whether it was SNATed cannot be told.
	res := externalFlow(false)
	res.Flows[0].PerPoint = res.Flows[0].PerPoint[:1]
	if got := findingsOn(t, "nat-outgoing-mismatch", res, poolMeta("Always", "Never", true)); len(got) != 0 {
		t.Errorf("seen at the veth only: %+v", got)
	}
	// To a node address: not judged.
	res = externalFlow(false)
	res.Flows[0].Dst.IP = "192.168.20.2"
	if got := findingsOn(t, "nat-outgoing-mismatch", res, poolMeta("Always", "Never", true)); len(got) != 0 {
		t.Errorf("to a node: %+v", got)
	}
}

func svcMeta() *cluster.Meta {
	m := testMeta()
	m.Services[0].Ports = []cluster.ServicePort{{Name: "http", Protocol: "TCP", Port: 80, TargetPort: "8080", NodePort: 30080}}
	m.EndpointSlices = []cluster.EndpointSlice{{Namespace: "default", Name: "web-abc", Service: "web", Source: "eps.yaml",
		Endpoints: []cluster.Endpoint{{Addresses: addrs("10.244.2.7"), Ready: true}},
		Ports:     []cluster.EndpointPort{{Name: "http", Protocol: "TCP", Port: 8080}}}}
	return m
}

func dnatFlow(from, to string) *Result {
	return &Result{Flows: []Flow{{ID: "F1", Proto: "tcp", Src: Endpoint{IP: "10.244.1.5", Port: 40000}, Dst: Endpoint{IP: "10.96.0.10", Port: 80},
		NAT: []NATMapping{{Kind: "dnat", At: "node-a/cali5e1c4d6c68c→node-a/tunl0", From: from, To: to, Count: 4}}}}}
}

func TestServiceDNAT(t *testing.T) {
	for _, c := range []struct{ name, from, to, want string }{
		{"to its endpoint", "10.244.1.5:40000 → 10.96.0.10:80", "10.244.1.5:40000 → 10.244.2.7:8080", ""},
		{"to another pod", "10.244.1.5:40000 → 10.96.0.10:80", "10.244.1.5:40000 → 10.244.2.9:8080",
			"Packets to service default/web (10.96.0.10:80) were DNATed to 10.244.2.9:8080, and 10.244.2.9 is not among its endpoints (10.244.2.7); endpoint slices in eps.yaml."},
		{"to the wrong port", "10.244.1.5:40000 → 10.96.0.10:80", "10.244.1.5:40000 → 10.244.2.7:9090",
			"port 9090 is not its endpoints' port http (8080)"},
		{"a node port", "10.244.1.5:40000 → 192.168.20.2:30080", "10.244.1.5:40000 → 10.244.2.8:8080",
			"Packets to service default/web (192.168.20.2:30080) were DNATed to 10.244.2.8:8080, and 10.244.2.8 is not among"},
		{"not a service port", "10.244.1.5:40000 → 10.96.0.10:443", "10.244.1.5:40000 → 10.244.2.9:8443", ""},
	} {
		got := findingsOn(t, "dnat-not-endpoint", dnatFlow(c.from, c.to), svcMeta())
		switch {
		case c.want == "" && len(got) > 0:
			t.Errorf("%s: %+v, want none", c.name, got)
		case c.want != "" && (len(got) != 1 || !strings.Contains(got[0].Message, c.want) || got[0].Count != 4 ||
			got[0].Where != Where{From: "node-a/cali5e1c4d6c68c", To: "node-a/tunl0"}):
			t.Errorf("%s: %+v, want one of count 4 saying %q", c.name, got, c.want)
		}
	}
	// A service without slices in the metadata is not judged.
	m := svcMeta()
	m.EndpointSlices = nil
	if got := findingsOn(t, "dnat-not-endpoint", dnatFlow("10.244.1.5:40000 → 10.96.0.10:80", "10.244.1.5:40000 → 10.244.2.9:8080"), m); len(got) != 0 {
		t.Errorf("without slices: %+v", got)
	}
}

// Metadata whose node names carry a domain the captures' names lack: the pods' nodes are matched to
// the captured ones (cluster.MatchNodes), for the findings and the names.
func TestNodeAliases(t *testing.T) {
	m := withMasks(poolMeta("CrossSubnet", "Never", false), 16)
	for i := range m.Pods {
		if m.Pods[i].Node != "" {
			m.Pods[i].Node += ".lab.internal"
		}
	}
	for i := range m.Nodes {
		m.Nodes[i].Name += ".lab.internal"
	}
	res := podFlow("ipip")
	res.Points = []Point{{ID: "node-a/eth0", Node: "node-a", Role: "underlay"}, {ID: "node-b/eth0", Node: "node-b", Role: "underlay"}}
	got := findingsOn(t, "encap-mode-mismatch", res, m)
	if len(got) != 1 || !strings.Contains(got[0].Message, "the nodes share a subnet") {
		t.Errorf("%+v, want the mismatch judged with the nodes' masks", got)
	}
	applyCluster(res, m, "", nil)
	if n, ok := res.NameOf("10.244.1.5"); !ok || n.Node != "node-a" {
		t.Errorf("pod-a: %+v, want on node-a", n)
	}
}
