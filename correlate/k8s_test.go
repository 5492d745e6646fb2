package correlate

import (
	"net/netip"
	"testing"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
	"github.com/google/go-cmp/cmp"
)

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, x := range s {
		out = append(out, netip.MustParseAddr(x))
	}
	return out
}

// testMeta is a small cluster: two pods, an ended pod whose address a running pod has now, a
// host-network pod on node-a's address, a service, and two nodes.
func testMeta() *cluster.Meta {
	return &cluster.Meta{
		Pods: []cluster.Pod{
			{Namespace: "default", Name: "old-job", IPs: addrs("10.244.1.5"), Phase: "Succeeded", Source: "pods.json"},
			{Namespace: "default", Name: "pod-a", Node: "node-a", IPs: addrs("10.244.1.5"), Phase: "Running", Source: "pods.json"},
			{Namespace: "default", Name: "pod-b", Node: "node-b", IPs: addrs("10.244.2.7"), Phase: "Running", Source: "pods.json"},
			{Namespace: "kube-system", Name: "calico-node-x", Node: "node-a", IPs: addrs("192.168.10.2"), HostNetwork: true, Source: "pods.json"},
			{Namespace: "kube-system", Name: "kube-proxy-y", Node: "node-c", IPs: addrs("192.168.30.2"), HostNetwork: true, Source: "pods.json"},
		},
		Services: []cluster.Service{{Namespace: "default", Name: "web", ClusterIPs: addrs("10.96.0.10"), Source: "svc.yaml"}},
		Nodes: []cluster.Node{
			{Name: "node-a", Addresses: []cluster.NodeAddr{{IP: netip.MustParseAddr("192.168.10.2"), Kind: "InternalIP", Prefix: -1, Source: "nodes.json"}}},
			{Name: "node-b", Addresses: []cluster.NodeAddr{{IP: netip.MustParseAddr("192.168.20.2"), Kind: "InternalIP", Prefix: -1, Source: "nodes.json"}}},
		},
		WorkloadEndpoints: []cluster.WorkloadEndpoint{
			{Namespace: "default", Name: "node--b-k8s-pod--b-eth0", Pod: "pod-b", InterfaceName: "tap0123", Source: "weps.yaml"},
		},
	}
}

func TestApplyCluster(t *testing.T) {
	res := &Result{
		Points: []Point{
			{ID: "node-a/cali5e1c4d6c68c", Node: "node-a", Iface: "cali5e1c4d6c68c", Role: "pod-veth"},
			{ID: "node-a/eth0", Node: "node-a", Iface: "eth0", Role: "underlay"},
			{ID: "node-b/tap0123", Node: "node-b", Iface: "tap0123", Role: "pod-veth"},
			{ID: "node-b/califfffffffff0", Node: "node-b", Iface: "califfffffffff0", Role: "pod-veth", PodIP: "10.244.2.7"},
		},
		NodeIPs: []NodeIP{{Node: "node-a", IP: "192.168.10.2"}},
		Flows: []Flow{{ID: "f1", Src: Endpoint{IP: "10.244.1.5", Port: 40000}, Dst: Endpoint{IP: "10.96.0.10", Port: 80},
			NAT: []NATMapping{{Kind: "dnat", From: "10.244.1.5:40000 → 10.96.0.10:80", To: "10.244.1.5:40000 → 10.244.2.7:8080"}}}},
		ICMP: []ICMPError{{Src: "192.168.30.2", Dst: "10.244.1.5"}},
		ARP:  []ARPPoint{{Exchanges: []ARPExch{{Who: "169.254.1.1", Tell: "10.244.1.5"}}}},
	}
	applyCluster(res, testMeta(), "", nil)
	want := []Name{
		{IP: "10.244.1.5", Kind: "pod", Namespace: "default", Name: "pod-a", Node: "node-a", Source: "pods.json"},
		{IP: "10.244.2.7", Kind: "pod", Namespace: "default", Name: "pod-b", Node: "node-b", Source: "pods.json"},
		{IP: "10.96.0.10", Kind: "service", Namespace: "default", Name: "web", Source: "svc.yaml"},
		{IP: "192.168.10.2", Kind: "node", Name: "node-a", Source: "nodes.json"},
		{IP: "192.168.30.2", Kind: "host-network-pod", Namespace: "kube-system", Name: "kube-proxy-y", Node: "node-c", Source: "pods.json"},
	}
	if diff := cmp.Diff(want, res.Names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	var pods []string
	for _, p := range res.Points {
		pods = append(pods, p.Pod)
	}
	// By Calico's rule; none for eth0; by the endpoint's interfaceName; by the pod address (a veth on
	// the pod's node: on another node, TestK8sStalePodAddresses, it is named neither).
	if diff := cmp.Diff([]string{"default/pod-a", "", "default/pod-b", "default/pod-b"}, pods); diff != "" {
		t.Errorf("point pods (-want +got):\n%s", diff)
	}
	// Names are sorted for NameOf's binary search.
	if n, ok := res.NameOf("192.168.10.2"); !ok || n.Name != "node-a" {
		t.Errorf("NameOf(192.168.10.2) = %+v, %v", n, ok)
	}
}

// Without metadata nothing changes.
func TestApplyClusterNone(t *testing.T) {
	res := &Result{Points: []Point{{ID: "node-a/cali5e1c4d6c68c", Iface: "cali5e1c4d6c68c", Role: "pod-veth", PodIP: "10.244.1.5"}}}
	applyCluster(res, nil, "", nil)
	if res.Names != nil || res.Points[0].Pod != "" {
		t.Errorf("without metadata: names %v, pod %q", res.Names, res.Points[0].Pod)
	}
}

// An Inspektor Gadget capture's Name Resolution Blocks name its addresses where --k8s does not: kind
// dns, the capture as the source; a --k8s name wins.
func TestGadgetCaptureNames(t *testing.T) {
	const gadget = "../testdata/bundles/gadget/incident.pcapng"
	load := func() *decode.Capture { return decode.Load([]string{gadget}, decode.Options{}, decode.PointConfig{}) }
	res := Correlate(load(), Options{})
	want := []Name{{IP: "10.244.1.5", Kind: "dns", Name: "10-244-1-5.default.pod", Source: gadget},
		{IP: "10.244.2.7", Kind: "dns", Name: "10-244-2-7.default.pod", Source: gadget}}
	if d := cmp.Diff(want, res.Names); d != "" {
		t.Errorf("names without --k8s (-want +got):\n%s", d)
	}
	m := &cluster.Meta{Pods: []cluster.Pod{{Namespace: "default", Name: "pod-a", Node: "node-a", IPs: addrs("10.244.1.5"),
		Phase: "Running", Source: "pods.json"}}}
	res = Correlate(load(), Options{Cluster: m})
	want[0] = Name{IP: "10.244.1.5", Kind: "pod", Namespace: "default", Name: "pod-a", Node: "node-a", Source: "pods.json"}
	if d := cmp.Diff(want, res.Names); d != "" {
		t.Errorf("names with --k8s (-want +got):\n%s", d)
	}
	// A plain capture's names are none.
	if res := Correlate(decode.Load([]string{"../testdata/lab/scenarios/healthy-ipip/node-a-eth0.pcap"}, decode.Options{},
		decode.PointConfig{}), Options{}); len(res.Names) != 0 {
		t.Errorf("names of a plain capture: %v", res.Names)
	}
}
