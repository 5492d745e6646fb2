package cluster

import (
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/google/go-cmp/cmp"
)

// PodMACs gives each pod's MAC with its pod, interface and node (the captures' name for it), and
// leaves out what names no one pod: a MAC two pods' endpoints give, ee:ee:ee:ee:ee:ee (the host end of
// every veth), an endpoint without a MAC or a node.
func TestPodMACs(t *testing.T) {
	m := New()
	m.WorkloadEndpoints = []WorkloadEndpoint{
		{Namespace: "default", Name: "a", Node: "node-a.example", Pod: "pod-a", InterfaceName: "cali5e1c4d6c68c", MAC: "02:00:00:00:00:0a", Source: "w.yaml"},
		{Namespace: "default", Name: "b", Node: "node-b", Pod: "pod-b", MAC: "02:00:00:00:00:0b", Source: "w.yaml"},
		{Namespace: "default", Name: "c", Node: "node-b", Pod: "pod-c", MAC: "02:00:00:00:00:0b", Source: "w.yaml"},
		{Namespace: "default", Name: "d", Node: "node-b", Pod: "pod-d", MAC: "ee:ee:ee:ee:ee:ee", Source: "w.yaml"},
		{Namespace: "default", Name: "e", Node: "node-b", Pod: "pod-e", Source: "w.yaml"},
		{Namespace: "default", Name: "f", Pod: "pod-f", MAC: "02:00:00:00:00:0f", Source: "w.yaml"},
	}
	want := map[[6]byte]decode.PodMAC{
		{2, 0, 0, 0, 0, 0x0a}: {Node: "node-a", Pod: "default/pod-a", Iface: "cali5e1c4d6c68c", Why: "WorkloadEndpoint default/a in w.yaml"},
	}
	if diff := cmp.Diff(want, m.PodMACs(map[string]string{"node-a.example": "node-a"})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
