package correlate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/calipath/calipath/cluster"
)

// moveLabPod puts pod-b (10.244.2.7) on node-a in the metadata, pod and workload endpoint.
func moveLabPod(m *cluster.Meta) {
	for i := range m.Pods {
		if m.Pods[i].Name == "pod-b" {
			m.Pods[i].Node = "node-a"
		}
	}
	for i := range m.WorkloadEndpoints {
		if m.WorkloadEndpoints[i].Pod == "pod-b" {
			m.WorkloadEndpoints[i].Node = "node-a"
		}
	}
}

// Metadata that puts pod-b on node-a, where the captures deliver its packets to node-b: the captures
// win (the same delivered packets, the same anomalies as with the true metadata) and k8s-contradicted
// warns.
func TestK8sDstNodeContradicted(t *testing.T) {
	for _, sc := range []string{"healthy-bgp", "any-bgp-forward-drop"} {
		t.Run(sc, func(t *testing.T) {
			want := labK8s(t, sc, nil)
			got := labK8s(t, sc, moveLabPod)
			if got.Summary.Delivered != want.Summary.Delivered || got.Summary.Lost != want.Summary.Lost {
				t.Errorf("delivered %d lost %d, want %d and %d", got.Summary.Delivered, got.Summary.Lost,
					want.Summary.Delivered, want.Summary.Lost)
			}
			kinds := func(r *Result) map[string]string {
				out := map[string]string{}
				for _, an := range r.Anomalies {
					if an.Kind != "k8s-contradicted" {
						out[fmt.Sprintf("%s %+v", an.Kind, an.Where)] = an.Severity
					}
				}
				return out
			}
			if g, w := kinds(got), kinds(want); len(g) != len(w) {
				t.Errorf("anomalies %v, want %v", g, w)
			} else {
				for k, s := range w {
					if g[k] != s {
						t.Errorf("anomalies %v, want %v", g, w)
						break
					}
				}
			}
			warned := false
			for _, an := range anomaliesOf(got, "k8s-contradicted") {
				warned = warned || an.Severity == "warning" && strings.Contains(an.Message, "10.244.2.7")
			}
			if !warned {
				t.Errorf("no k8s-contradicted warning names 10.244.2.7: %+v", anomaliesOf(got, "k8s-contradicted"))
			}
		})
	}
}
