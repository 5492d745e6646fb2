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

// truthPod is a pod of a lab scenario's truth.json: its node, address and cali interface.
type truthPod struct{ ns, name, node, ip, iface string }

func truthPodList(t *testing.T, sc string) []truthPod {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../testdata/lab/scenarios", sc, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		Nodes []struct {
			Name string
			Pods []struct{ Name, Namespace, IP, Iface string }
		}
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	var out []truthPod
	for _, n := range tr.Nodes {
		for _, p := range n.Pods {
			out = append(out, truthPod{p.Namespace, p.Name, n.Name, p.IP, p.Iface})
		}
	}
	return out
}

// labK8sFiles is labK8s on the scenario's files that keep says to keep.
func labK8sFiles(t *testing.T, sc string, keep func(string) bool, edit func(m *cluster.Meta)) *Result {
	t.Helper()
	dir := filepath.Join("../testdata/lab/scenarios", sc)
	m, probs, err := cluster.Load([]string{filepath.Join(dir, "k8s")})
	if err != nil || len(probs) > 0 {
		t.Fatalf("%s: %v %v", sc, err, probs)
	}
	edit(m)
	m.Finish() // in name order again, as loading leaves them
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	var paths []string
	for _, p := range all {
		if keep(filepath.Base(p)) {
			paths = append(paths, p)
		}
	}
	res := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{Cluster: m})
	checkKinds(t, res)
	return res
}

func podByName(m *cluster.Meta, key string) *cluster.Pod {
	for i := range m.Pods {
		if m.Pods[i].Key() == key {
			return &m.Pods[i]
		}
	}
	return nil
}

func notAny(name string) bool { return !strings.HasSuffix(name, "-any.pcap") }

// review9 #3: healthy-ipip's metadata plus a second Running pod, default/old-pod on node-b, with
// pod-a's address (10.244.1.5, behind node-a's cali5e1c4d6c68c in truth.json). Before, old-pod won
// by name order: flows named old-pod, the point pod-a, and nothing was said. Now the pod on the node
// whose veth carries the address is named, and k8s-contradicted says the two claim it; without the
// veth's capture neither is named.
func TestK8sTwoPodsOneAddress(t *testing.T) {
	var a truthPod
	for _, p := range truthPodList(t, "healthy-ipip") {
		if p.name == "pod-a" {
			a = p
		}
	}
	addOld := func(m *cluster.Meta) {
		old := *podByName(m, a.ns+"/"+a.name)
		old.Name, old.Node = "old-pod", "node-b"
		m.Pods = append(m.Pods, old)
	}
	res := labK8sFiles(t, "healthy-ipip", notAny, addOld)
	if n, ok := res.NameOf(a.ip); !ok || n.String() != a.ns+"/"+a.name || n.Node != a.node {
		t.Errorf("%s named %+v, %v; truth: %s/%s on %s", a.ip, n, ok, a.ns, a.name, a.node)
	}
	got := anomaliesOf(res, "k8s-contradicted")
	if len(got) != 1 || got[0].Where.Node != a.node || !strings.Contains(got[0].Message, "2 running pods claim "+a.ip) ||
		!strings.Contains(got[0].Message, "default/old-pod (node node-b") || len(got[0].Flows) == 0 {
		t.Errorf("k8s-contradicted: %+v", got)
	}
	// Without the pod veths' captures nothing tells the two apart.
	res = labK8sFiles(t, "healthy-ipip", func(f string) bool { return notAny(f) && !strings.Contains(f, "-cali") }, addOld)
	if n, ok := res.NameOf(a.ip); ok {
		t.Errorf("no veth captured: %s named %+v", a.ip, n)
	}
	got = anomaliesOf(res, "k8s-contradicted")
	if len(got) != 1 || !strings.Contains(got[0].Message, "No pod interface captured carries it") {
		t.Errorf("no veth captured: k8s-contradicted %+v", got)
	}
}

// review9 #4: healthy-ipip's metadata with pod-a's and pod-b's addresses swapped, and with pod-a
// listed on node-b. Before, the flows named 10.244.1.5 pod-b while its point (pod-a's cali, by name)
// said pod-a, with no anomaly. Now neither address nor point is named, and each disagreement is said.
func TestK8sStalePodAddresses(t *testing.T) {
	truth := truthPodList(t, "healthy-ipip")
	if len(truth) != 2 {
		t.Fatalf("truth pods: %+v", truth)
	}
	a, b := truth[0], truth[1]
	for _, c := range []struct {
		name  string
		edit  func(m *cluster.Meta)
		unnam []string // addresses given no name
		want  []string
	}{
		{"swapped", func(m *cluster.Meta) {
			pa, pb := podByName(m, a.ns+"/"+a.name), podByName(m, b.ns+"/"+b.name)
			pa.IPs, pb.IPs = pb.IPs, pa.IPs
		}, []string{a.ip, b.ip}, []string{
			"The cluster metadata says " + a.ip + " is pod " + b.ns + "/" + b.name + " (node " + b.node,
			"The cluster metadata says " + b.ip + " is pod " + a.ns + "/" + a.name + " (node " + a.node,
			a.node + "/" + a.iface + " is pod " + a.ns + "/" + a.name + "'s interface by its name",
			b.node + "/" + b.iface + " is pod " + b.ns + "/" + b.name + "'s interface by its name"}},
		{"other node", func(m *cluster.Meta) { podByName(m, a.ns+"/"+a.name).Node = b.node },
			[]string{a.ip}, []string{
				"The cluster metadata says " + a.ip + " is pod " + a.ns + "/" + a.name + " (node " + b.node,
				"lists it on node " + b.node}},
	} {
		res := labK8sFiles(t, "healthy-ipip", notAny, c.edit)
		for _, ip := range c.unnam {
			if n, ok := res.NameOf(ip); ok {
				t.Errorf("%s: %s named %+v", c.name, ip, n)
			}
		}
		for _, p := range res.Points {
			if p.Role == "pod-veth" && (p.Iface == a.iface || len(c.unnam) == 2) && p.Pod != "" {
				t.Errorf("%s: point %s given pod %s", c.name, p.ID, p.Pod)
			}
		}
		got := anomaliesOf(res, "k8s-contradicted")
		if len(got) != len(c.want) {
			t.Errorf("%s: %d k8s-contradicted, want %d: %+v", c.name, len(got), len(c.want), got)
			continue
		}
		for _, w := range c.want {
			found := false
			for _, an := range got {
				found = found || strings.Contains(an.Message, w) && an.Where.Node != ""
			}
			if !found {
				t.Errorf("%s: no k8s-contradicted says %q: %+v", c.name, w, got)
			}
		}
	}
}

// review9 #5: node-b's InternalIP given as pod-a's address is not node-b's (cluster drops it,
// TestLoadNodeAddressOfAPod), and the report says so at node-b.
func TestK8sNodeAddressOfAPod(t *testing.T) {
	var a truthPod
	for _, p := range truthPodList(t, "healthy-ipip") {
		if p.name == "pod-a" {
			a = p
		}
	}
	res := labK8sFiles(t, "healthy-ipip", notAny, func(m *cluster.Meta) {
		for i := range m.Nodes {
			for j := range m.Nodes[i].Addresses {
				if ad := &m.Nodes[i].Addresses[j]; m.Nodes[i].Name == "node-b" && ad.Kind == "InternalIP" {
					ad.IP = netip.MustParseAddr(a.ip)
				}
			}
		}
	})
	got := anomaliesOf(res, "k8s-contradicted")
	if len(got) != 1 || got[0].Where.Node != "node-b" || !strings.Contains(got[0].Message,
		"gives node node-b the address "+a.ip+" (InternalIP), but it is pod "+a.ns+"/"+a.name+"'s address") {
		t.Errorf("k8s-contradicted: %+v", got)
	}
	if n, ok := res.NameOf(a.ip); !ok || n.Kind != "pod" || n.Name != a.name {
		t.Errorf("%s named %+v, %v", a.ip, n, ok)
	}
}
