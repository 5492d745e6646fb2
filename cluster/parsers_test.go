package cluster

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var addrCmp = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
}

func loadTestdata(t *testing.T, names ...string) (*Meta, []Problem) {
	t.Helper()
	var paths []string
	for _, n := range names {
		paths = append(paths, filepath.Join("testdata", n))
	}
	m, probs, err := Load(paths)
	if err != nil {
		t.Fatal(err)
	}
	return m, probs
}

func TestKubectlList(t *testing.T) {
	m, probs := loadTestdata(t, "kubectl-all.yaml")
	src := filepath.Join("testdata", "kubectl-all.yaml")
	if len(probs) != 0 {
		t.Errorf("problems: %v", probs)
	}
	wantPods := []Pod{
		{Namespace: "calico-system", Name: "calico-node-7xk2p", Node: "node-b", IPs: ips("192.168.20.2"), HostNetwork: true, Source: src},
		{Namespace: "default", Name: "pending-0", Phase: "Pending", Source: src},
		{Namespace: "default", Name: "pod-a", Node: "node-a", IPs: ips("10.244.1.5"), Phase: "Running", Source: src},
	}
	if diff := cmp.Diff(wantPods, m.Pods, addrCmp); diff != "" {
		t.Errorf("pods (-want +got):\n%s", diff)
	}
	wantSvcs := []Service{
		{Namespace: "default", Name: "headless", Type: "ClusterIP", Source: src,
			Ports: []ServicePort{{Protocol: "TCP", Port: 80, TargetPort: "80"}}},
		{Namespace: "default", Name: "web", Type: "NodePort", ClusterIPs: ips("10.96.0.10"), Source: src,
			Ports: []ServicePort{{Name: "http", Protocol: "TCP", Port: 80, TargetPort: "8080", NodePort: 30080},
				{Name: "dns", Protocol: "UDP", Port: 53, TargetPort: "dns-udp"}}},
	}
	if diff := cmp.Diff(wantSvcs, m.Services, addrCmp); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
	wantES := []EndpointSlice{{Namespace: "default", Name: "web-x7k2d", Service: "web", AddressType: "IPv4", Source: src,
		Endpoints: []Endpoint{{Addresses: ips("10.244.2.7"), Ready: true, Node: "node-b", Pod: "default/pod-b"},
			{Addresses: ips("10.244.2.8"), Ready: false, Node: "node-b"}},
		Ports: []EndpointPort{{Name: "http", Protocol: "TCP", Port: 8080}, {Name: "dns", Protocol: "UDP", Port: 9000}}}}
	if diff := cmp.Diff(wantES, m.EndpointSlices, addrCmp); diff != "" {
		t.Errorf("endpoint slices (-want +got):\n%s", diff)
	}
	a := func(ip, kind string, prefix int, tunnel bool) NodeAddr {
		return NodeAddr{IP: netip.MustParseAddr(ip), Kind: kind, Prefix: prefix, Tunnel: tunnel, Source: src}
	}
	wantNodes := []Node{
		{Name: "node-a", Sources: []string{src}, PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.1.0/24")},
			Addresses: []NodeAddr{a("192.168.10.2", "InternalIP", -1, false), a("203.0.113.10", "ExternalIP", -1, false),
				a("192.168.10.2", annIPv4, 24, false), a("10.244.1.0", annIPIP, -1, true)}},
		{Name: "node-b", Sources: []string{src}, VXLANMAC: "66:ab:cd:ef:01:23",
			Addresses: []NodeAddr{a("192.168.20.2", "InternalIP", -1, false), a("192.168.20.2", annIPv4, 24, false),
				a("10.244.2.0", annVXLAN, -1, true)}},
	}
	if diff := cmp.Diff(wantNodes, m.Nodes, addrCmp); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
	// HostIPs: the InternalIP once (the annotation repeats it), no ExternalIP, no tunnel address.
	if diff := cmp.Diff([]NodeAddr{a("192.168.10.2", "InternalIP", -1, false)}, m.Nodes[0].HostIPs(), addrCmp); diff != "" {
		t.Errorf("node-a host IPs (-want +got):\n%s", diff)
	}
}

func TestCalicoctl(t *testing.T) {
	m, probs := loadTestdata(t, "calicoctl-ippools.yaml", "calicoctl-weps.json", "calicoctl-nodes.yaml", "kubectl-all.yaml")
	if len(probs) != 0 {
		t.Errorf("problems: %v", probs)
	}
	pools := filepath.Join("testdata", "calicoctl-ippools.yaml")
	wantPools := []Pool{
		{Name: "default-ipv4-ippool", CIDR: netip.MustParsePrefix("10.244.0.0/16"), IPIPMode: "Always", VXLANMode: "Never",
			NATOutgoing: true, BlockSize: 26, Source: pools},
		{Name: "spare", CIDR: netip.MustParsePrefix("10.250.0.0/16"), IPIPMode: "Never", VXLANMode: "CrossSubnet",
			Disabled: true, BlockSize: 26, Source: pools},
	}
	if diff := cmp.Diff(wantPools, m.Pools, addrCmp); diff != "" {
		t.Errorf("pools (-want +got):\n%s", diff)
	}
	weps := filepath.Join("testdata", "calicoctl-weps.json")
	wantWEPs := []WorkloadEndpoint{
		{Namespace: "default", Name: "node--a-k8s-pod--a-eth0", Node: "node-a", Pod: "pod-a", InterfaceName: "cali5e1c4d6c68c",
			MAC: "ee:ee:ee:ee:ee:ee", IPNetworks: []netip.Prefix{netip.MustParsePrefix("10.244.1.5/32")}, Source: weps},
		{Namespace: "default", Name: "node--b-k8s-pod--b-eth0", Node: "node-b", Pod: "pod-b", InterfaceName: "cali0123456789a",
			IPNetworks: []netip.Prefix{netip.MustParsePrefix("10.244.2.7/32")}, Source: weps},
	}
	if diff := cmp.Diff(wantWEPs, m.WorkloadEndpoints, addrCmp); diff != "" {
		t.Errorf("workload endpoints (-want +got):\n%s", diff)
	}
	// Calico's node-a and Kubernetes' node-a are one node; node-c is named by its orchRef.
	cn := filepath.Join("testdata", "calicoctl-nodes.yaml")
	k := filepath.Join("testdata", "kubectl-all.yaml")
	var names []string
	for _, n := range m.Nodes {
		names = append(names, n.Name)
	}
	if diff := cmp.Diff([]string{"node-a", "node-b", "node-c"}, names); diff != "" {
		t.Fatalf("nodes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{cn, k}, m.Nodes[0].Sources); diff != "" {
		t.Errorf("node-a sources (-want +got):\n%s", diff)
	}
	c := m.Nodes[2]
	wantC := []NodeAddr{
		{IP: netip.MustParseAddr("192.168.30.2"), Kind: "bgp.ipv4Address", Prefix: 24, Source: cn},
		{IP: netip.MustParseAddr("10.244.3.0"), Kind: "ipv4VXLANTunnelAddr", Prefix: -1, Tunnel: true, Source: cn},
	}
	if diff := cmp.Diff(wantC, c.Addresses, addrCmp); diff != "" || c.VXLANMAC != "66:00:00:00:00:03" {
		t.Errorf("node-c (-want +got):\n%s\nmac %s", diff, c.VXLANMAC)
	}
	// node-a: the BGP address is the same IP as the InternalIP, so HostIPs gives it once, from the
	// first file that said it.
	if h := m.Nodes[0].HostIPs(); len(h) != 1 || h[0].IP.String() != "192.168.10.2" || h[0].Kind != "bgp.ipv4Address" || h[0].Source != cn {
		t.Errorf("node-a host IPs: %+v, want 192.168.10.2 once, from %s's bgp.ipv4Address", h, cn)
	}
}

func TestEndpoints(t *testing.T) {
	m, probs := loadTestdata(t, "endpoints.json")
	if len(probs) != 0 {
		t.Errorf("problems: %v", probs)
	}
	src := filepath.Join("testdata", "endpoints.json")
	want := []EndpointSlice{{Namespace: "shop", Name: "legacy (endpoints subset 1)", Service: "legacy", AddressType: "IPv4", Source: src,
		Endpoints: []Endpoint{{Addresses: ips("10.244.1.20"), Ready: true, Node: "node-a", Pod: "shop/legacy-1"},
			{Addresses: ips("10.244.2.21"), Node: "node-b"}},
		Ports: []EndpointPort{{Name: "http", Protocol: "TCP", Port: 8080}}}}
	if diff := cmp.Diff(want, m.EndpointSlices, addrCmp); diff != "" {
		t.Errorf("endpoints (-want +got):\n%s", diff)
	}
}

func TestIfaceName(t *testing.T) {
	// The lab's interfaces, made by lab.sh with sha1sum.
	for _, c := range []struct{ prefix, ns, pod, want string }{
		{"", "default", "pod-a", "cali5e1c4d6c68c"},
		{"cali", "default", "pod-b", "cali2f5353dd8c5"},
		{"tap,cali", "default", "pod-a", "tap5e1c4d6c68c"},
	} {
		if got := IfaceName(c.prefix, c.ns, c.pod); got != c.want {
			t.Errorf("IfaceName(%q, %q, %q) = %q, want %q", c.prefix, c.ns, c.pod, got, c.want)
		}
	}
}

func TestIfaces(t *testing.T) {
	m, _ := loadTestdata(t, "calicoctl-weps.json", "kubectl-all.yaml")
	got := m.Ifaces("")
	want := map[string]string{
		"cali5e1c4d6c68c":                     "default/pod-a",
		IfaceName("", "default", "pending-0"): "default/pending-0",
		"cali0123456789a":                     "default/pod-b", // the endpoint says so
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ifaces (-want +got):\n%s", diff)
	}
	probs := m.CheckIfaces("")
	if len(probs) != 1 || probs[0].File != filepath.Join("testdata", "calicoctl-weps.json") ||
		!strings.Contains(probs[0].Msg, "interface cali0123456789a, but pod default/pod-b's is cali2f5353dd8c5") {
		t.Errorf("problems: %v, want one for pod-b's endpoint", probs)
	}
	// Under another prefix every endpoint disagrees.
	if probs := m.CheckIfaces("tap"); len(probs) != 2 {
		t.Errorf("prefix tap: %d problems, want 2: %v", len(probs), probs)
	}
}

func TestBadObjects(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"pool mode", "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/8, ipipMode: Sometimes}\n", `pool p: ipipMode: "Sometimes" is not Always`},
		{"pool cidr", "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0}\n", "pool p: spec.cidr"},
		{"service port", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 70000}]}\n", "default/s: port 70000/0 out of range"},
		{"node annotation", "apiVersion: v1\nkind: Node\nmetadata: {name: nd, annotations: {projectcalico.org/IPv4Address: 1.2.3}}\n", "node nd: annotation projectcalico.org/IPv4Address"},
		{"no name", "apiVersion: v1\nkind: Pod\nmetadata: {}\n", "Pod: no metadata.name"},
		{"wrong type", "apiVersion: v1\nkind: Pod\nmetadata: {name: [1]}\n", "document 1: Pod: json: cannot unmarshal"},
		{"nothing", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "no objects calipath uses"},
	} {
		m := New()
		probs, ok := m.Add("f.yaml", "", []byte(c.in))
		if !ok {
			t.Errorf("%s: not recognised", c.name)
			continue
		}
		found := false
		for _, p := range probs {
			found = found || strings.Contains(p.Msg, c.want) && p.File == "f.yaml"
		}
		if !found {
			t.Errorf("%s: problems %v, want one containing %q", c.name, probs, c.want)
		}
	}
}

func TestMatchNodes(t *testing.T) {
	m := &Meta{Nodes: []Node{{Name: "ip-10-0-1-5.eu-west-1.compute.internal"}, {Name: "node-b"}, {Name: "worker.a"}, {Name: "worker.b"}, {Name: "solo"}}}
	got := m.MatchNodes([]string{"ip-10-0-1-5", "node-b.lab", "worker", "router-1"})
	want := map[string]string{
		"ip-10-0-1-5.eu-west-1.compute.internal": "ip-10-0-1-5",
		"node-b":                                 "node-b.lab",
		// worker.a and worker.b both match "worker": neither is mapped.
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
