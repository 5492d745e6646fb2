package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
)

// labNames returns the names of a lab scenario's pods and nodes, as cluster metadata from what the
// lab creates would give them, and names its ClusterIP service (the lab's DNAT rules) extra.
func labNames(t *testing.T, name string, extra ...correlate.Name) []correlate.Name {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(labDir, name, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		Nodes []struct {
			Name, IP string
			Pods     []struct{ Name, Namespace, IP string }
		}
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	out := append([]correlate.Name{}, extra...)
	for _, n := range tr.Nodes {
		out = append(out, correlate.Name{IP: n.IP, Kind: "node", Name: n.Name, Source: "nodes.json"})
		for _, p := range n.Pods {
			out = append(out, correlate.Name{IP: p.IP, Kind: "pod", Namespace: p.Namespace, Name: p.Name, Node: n.Name, Source: "pods.json"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].IP < out[j].IP })
	return out
}

// withNames returns res with names, and its pod-veth points with their pods, as correlate gives
// them with cluster metadata.
func withNames(res *correlate.Result, names []correlate.Name) *correlate.Result {
	cp := *res
	cp.Names = names
	cp.Points = append([]correlate.Point{}, res.Points...)
	for i := range cp.Points {
		if n, ok := cp.NameOf(cp.Points[i].PodIP); ok {
			cp.Points[i].Pod = n.String()
		}
	}
	return &cp
}

// TestGoldenNames renders lab scenarios with the names cluster metadata gives their addresses: a
// ClusterIP DNAT (service, pods, NAT joins) and path MTU discovery (ICMP errors from nodes to pods).
// JSON is left out: it keeps addresses and lists the names apart.
func TestGoldenNames(t *testing.T) {
	svc := correlate.Name{IP: "10.96.0.10", Kind: "service", Namespace: "default", Name: "svc-b", Source: "services.json"}
	for _, name := range []string{"clusterip-dnat", "pmtu-discovery"} {
		t.Run(name, func(t *testing.T) {
			names := labNames(t, name, svc)
			labInputs(t, name)
			res := withNames(scenario(t, name), names)
			for _, f := range []Format{Text, Markdown, HTML} {
				got := render(t, res, f)
				checkGolden(t, filepath.Join("TestGoldenNames", name+"."+formatExt[f]), got)
				plain := render(t, scenario(t, name), f)
				if string(plain) == string(got) {
					t.Errorf("%s: names changed nothing", f)
				}
				if !strings.Contains(string(got), "default/pod-a") {
					t.Errorf("%s: default/pod-a not shown", f)
				}
			}
		})
	}
}
