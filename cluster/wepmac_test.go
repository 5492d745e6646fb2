package cluster

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// A workload endpoint's spec.mac is read as the MAC of the pod's end of its veth, in Calico's own
// form; one that is not a 6-byte MAC address is a problem naming the file, the document and the
// endpoint, and the endpoint is read without it (before, any string was kept as it was, lower-cased).
func TestWorkloadEndpointMAC(t *testing.T) {
	cases := []struct {
		in, want, problem string
	}{
		{"16:ad:a9:4b:87:bb", "16:ad:a9:4b:87:bb", ""},
		{"16:AD:A9:4B:87:BB", "16:ad:a9:4b:87:bb", ""},
		{"16-ad-a9-4b-87-bb", "16:ad:a9:4b:87:bb", ""},
		{"", "", ""},
		{"16:ad:a9:4b:87", "", `"16:ad:a9:4b:87" is not a MAC address`},
		{"zz:ad:a9:4b:87:bb", "", `"zz:ad:a9:4b:87:bb" is not a MAC address`},
		{"02:00:5e:10:00:00:00:01", "", "8-byte address, not an Ethernet MAC"},
		{strings.Repeat("a", 200), "", "…"},
		{"\x00\xff", "", "is not a MAC address"},
	}
	for _, c := range cases {
		doc := fmt.Sprintf(`{"apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
			"metadata": {"name": "node--b-k8s-pod--b-eth0", "namespace": "default"},
			"spec": {"node": "node-b", "pod": "pod-b", "interfaceName": "cali2f5353dd8c5", "mac": %s, "ipNetworks": ["10.244.2.7/32"]}}`, quoteJSON(c.in))
		m := New()
		probs, ok := m.Add("weps.json", "", []byte(doc))
		if !ok {
			t.Errorf("%q: not read as metadata", c.in)
			continue
		}
		if len(m.WorkloadEndpoints) != 1 {
			t.Errorf("%q: %d endpoints, want the one, read without its MAC if need be", c.in, len(m.WorkloadEndpoints))
			continue
		}
		if got := m.WorkloadEndpoints[0].MAC; got != c.want {
			t.Errorf("%q: MAC %q, want %q", c.in, got, c.want)
		}
		var msgs []string
		for _, p := range probs {
			msgs = append(msgs, p.String())
		}
		all := strings.Join(msgs, "\n")
		switch {
		case c.problem == "" && len(probs) > 0:
			t.Errorf("%q: problems %s", c.in, all)
		case c.problem != "" && (len(probs) != 1 || !strings.Contains(all, c.problem) ||
			!strings.Contains(all, "weps.json: document 1: WorkloadEndpoint: default/node--b-k8s-pod--b-eth0: spec.mac: ") ||
			!strings.Contains(all, "read without it")):
			t.Errorf("%q: problems %q, want one naming the file, document and endpoint, with %q", c.in, all, c.problem)
		}
	}
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
