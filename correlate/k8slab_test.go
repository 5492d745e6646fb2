package correlate

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
)

// labK8s correlates a lab scenario's captures with its cluster metadata (k8s/), changed by edit
// first when edit is not nil.
func labK8s(t *testing.T, name string, edit func(m *cluster.Meta)) *Result {
	t.Helper()
	dir := filepath.Join("../testdata/lab/scenarios", name)
	m, probs, err := cluster.Load([]string{filepath.Join(dir, "k8s")})
	if err != nil || len(probs) > 0 {
		t.Fatalf("%s: %v %v", name, err, probs)
	}
	if edit != nil {
		edit(m)
	}
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	ngs, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
	res := Correlate(decode.Load(append(pcaps, ngs...), decode.Options{}, decode.PointConfig{}), Options{Cluster: m})
	checkKinds(t, res)
	return res
}

// labPodIP is the address of pod in a lab scenario, as its truth.json lists it.
func labPodIP(t *testing.T, name, pod string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../testdata/lab/scenarios", name, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		Nodes []struct {
			Pods []struct{ Name, IP string }
		}
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, n := range tr.Nodes {
		for _, p := range n.Pods {
			if p.Name == pod {
				return p.IP
			}
		}
	}
	t.Fatalf("%s: no pod %s in its truth", name, pod)
	return ""
}

var k8sKinds = []string{"encap-mode-mismatch", "nat-outgoing-mismatch", "dnat-not-endpoint"}

func anomaliesOf(res *Result, kind string) []Anomaly {
	var out []Anomaly
	for _, an := range res.Anomalies {
		if an.Kind == kind {
			out = append(out, an)
		}
	}
	return out
}

// With each scenario's own metadata: its pods named, its pod veths given their pods, its node
// addresses named, and none of the metadata's anomalies (the lab is what its metadata says).
func TestLabK8sNames(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*/k8s")
	if len(dirs) == 0 {
		t.Fatal("no lab scenario has k8s/")
	}
	for _, d := range dirs {
		name := filepath.Base(filepath.Dir(d))
		t.Run(name, func(t *testing.T) {
			res := labK8s(t, name, nil)
			for _, k := range k8sKinds {
				for _, an := range anomaliesOf(res, k) {
					t.Errorf("%s at %+v: %s", an.Kind, an.Where, an.Message)
				}
			}
			podA := labPodIP(t, name, "pod-a") // 10.244.1.5; fd00:244::5 in healthy-vxlan6
			if n, ok := res.NameOf(podA); !ok || n.String() != "default/pod-a" || n.Kind != "pod" || n.Node != "node-a" ||
				!strings.HasSuffix(n.Source, "kubectl.json") {
				t.Errorf("%s: %+v, %v", podA, n, ok)
			}
			for _, ip := range res.NodeIPs {
				if n, ok := res.NameOf(ip.IP); ok && (n.Kind != "node" || n.Name != ip.Node) {
					t.Errorf("node IP %s of %s named %+v", ip.IP, ip.Node, n)
				}
			}
			vethPods := 0
			for _, p := range res.Points {
				if p.Role != "pod-veth" || !strings.HasPrefix(p.Iface, "cali") {
					continue
				}
				vethPods++
				if want := map[string]string{"cali5e1c4d6c68c": "default/pod-a", "cali2f5353dd8c5": "default/pod-b"}[p.Iface]; want != "" && p.Pod != want {
					t.Errorf("%s: pod %q, want %s", p.ID, p.Pod, want)
				}
				if p.Pod == "" {
					t.Errorf("%s: no pod", p.ID)
				}
			}
			if vethPods == 0 && !strings.HasPrefix(name, "any-") {
				t.Error("no cali point")
			}
		})
	}
}

// Metadata that says another pool mode than the lab ran: encap-mode-mismatch between the nodes.
func TestLabK8sPoolMode(t *testing.T) {
	for _, c := range []struct {
		scenario, ipip, vxlan, want string
	}{
		{"healthy-ipip", "Never", "Always", "was IP-in-IP, but IP pool default-ipv4-ippool (10.244.0.0/16"},
		{"healthy-vxlan", "Always", "Never", "was VXLAN, but"},
		{"healthy-vxlan6", "Always", "Never", "was VXLAN, but IP pool default-ipv6-ippool (fd00:244::/48"},
		{"healthy-bgp", "Always", "Never", "was not encapsulated, but"},
		{"healthy-bgp", "CrossSubnet", "Never", "has ipipMode CrossSubnet, and the nodes are in different subnets: IP-in-IP expected."},
		{"healthy-ipip", "CrossSubnet", "Never", ""}, // node-a and node-b are in different /24s
	} {
		res := labK8s(t, c.scenario, func(m *cluster.Meta) { m.Pools[0].IPIPMode, m.Pools[0].VXLANMode = c.ipip, c.vxlan })
		got := anomaliesOf(res, "encap-mode-mismatch")
		if c.want == "" {
			if len(got) != 0 {
				t.Errorf("%s with %s/%s: %+v", c.scenario, c.ipip, c.vxlan, got)
			}
			continue
		}
		if len(got) != 1 || got[0].Where != (Where{From: "node-a", To: "node-b"}) || !strings.Contains(got[0].Message, c.want) || len(got[0].Flows) == 0 {
			t.Errorf("%s with ipipMode %s, vxlanMode %s: %+v, want one at node-a → node-b saying %q", c.scenario, c.ipip, c.vxlan, got, c.want)
		}
	}
}

// snat-external masquerades pod-a's traffic to ext-1: its metadata's natOutgoing true says so;
// false makes it an anomaly.
func TestLabK8sNATOutgoing(t *testing.T) {
	res := labK8s(t, "snat-external", func(m *cluster.Meta) { m.Pools[0].NATOutgoing = false })
	got := anomaliesOf(res, "nat-outgoing-mismatch")
	if len(got) != 1 || got[0].Where != (Where{Node: "node-a"}) || !strings.Contains(got[0].Message, "natOutgoing false") ||
		!strings.Contains(got[0].Message, "were SNATed on node-a") {
		t.Errorf("natOutgoing false: %+v", got)
	}
}

// clusterip-dnat DNATs service pod-b-svc to pod-b: an EndpointSlice that lists another backend, or
// another port, makes it an anomaly.
func TestLabK8sServiceDNAT(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(es *cluster.EndpointSlice)
		want []string
	}{
		{"other backend", func(es *cluster.EndpointSlice) {
			es.Endpoints[0].Addresses = []netip.Addr{netip.MustParseAddr("10.244.2.99")}
		},
			[]string{"10.244.2.7 is not among its endpoints (10.244.2.99)", "10.244.2.7 is not among its endpoints (10.244.2.99)"}},
		{"other port", func(es *cluster.EndpointSlice) { es.Ports[0].Port = 8081 },
			[]string{"port 8080 is not its endpoints' port tcp-80 (8081)"}},
	} {
		res := labK8s(t, "clusterip-dnat", func(m *cluster.Meta) { c.edit(&m.EndpointSlices[0]) })
		got := anomaliesOf(res, "dnat-not-endpoint")
		if len(got) != len(c.want) {
			t.Errorf("%s: %d anomalies, want %d: %+v", c.name, len(got), len(c.want), got)
			continue
		}
		for i, an := range got {
			if !strings.Contains(an.Message, c.want[i]) || !strings.Contains(an.Message, "Packets to service default/pod-b-svc (10.96.0.10:") ||
				len(an.Evidence) == 0 || an.Count == 0 {
				t.Errorf("%s: %+v, want %q with evidence", c.name, an, c.want[i])
			}
		}
	}
}
