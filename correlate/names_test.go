package correlate

import "testing"

func TestNameOf(t *testing.T) {
	r := &Result{Names: []Name{
		{IP: "10.0.0.1", Kind: "node", Name: "node-a"},
		{IP: "10.244.1.5", Kind: "pod", Namespace: "default", Name: "pod-a", Node: "node-a"},
		{IP: "10.96.0.10", Kind: "service", Namespace: "kube-system", Name: "kube-dns"},
	}}
	for ip, want := range map[string]string{"10.0.0.1": "node-a", "10.244.1.5": "default/pod-a", "10.96.0.10": "kube-system/kube-dns"} {
		n, ok := r.NameOf(ip)
		if !ok || n.String() != want {
			t.Errorf("NameOf(%s) = %q, %v; want %q", ip, n.String(), ok, want)
		}
	}
	if n, ok := r.NameOf("10.244.1.6"); ok {
		t.Errorf("NameOf(10.244.1.6) = %q, want no name", n.String())
	}
	if _, ok := (&Result{}).NameOf("10.0.0.1"); ok {
		t.Error("a Result without metadata named an address")
	}
}
