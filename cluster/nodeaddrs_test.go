package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// review9 #5: healthy-ipip's metadata with node-b's InternalIP (192.168.20.2) replaced by pod-a's
// address, or by an address in the IP pool no pod has: before, node-b "was" 10.244.1.5 beside its
// Calico address. Now the address is dropped, with a problem naming both, and node-b keeps its Calico
// address.
func TestLoadNodeAddressOfAPod(t *testing.T) {
	src := "../testdata/lab/scenarios/healthy-ipip/k8s"
	b, err := os.ReadFile(filepath.Join(src, "kubectl.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ addr, want string }{
		{"10.244.1.5", "InternalIP 10.244.1.5 is pod default/pod-a's address"},
		{"10.244.3.9", "InternalIP 10.244.3.9 is in IP pool default-ipv4-ippool (10.244.0.0/16"},
	} {
		dir := t.TempDir()
		for _, f := range []string{"calicoctl-ippools.yaml", "calicoctl-workloadendpoints.yaml"} {
			y, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				t.Fatal(err)
			}
			write(t, dir, f, string(y))
		}
		edited := strings.Replace(string(b), `"address": "192.168.20.2"`, `"address": "`+c.addr+`"`, 1)
		if edited == string(b) {
			t.Fatal("node-b's InternalIP not found in kubectl.json")
		}
		write(t, dir, "kubectl.json", edited)
		m, probs, err := Load([]string{dir})
		if err != nil {
			t.Fatal(err)
		}
		if len(probs) != 1 || !strings.Contains(probs[0].Msg, "node node-b: "+c.want) || !strings.HasSuffix(probs[0].File, "kubectl.json") {
			t.Errorf("%s: problems %v, want one saying %q", c.addr, probs, c.want)
		}
		var got []string
		for _, a := range m.node("node-b").HostIPs() {
			got = append(got, a.IP.String())
		}
		if strings.Join(got, " ") != "192.168.20.2" {
			t.Errorf("%s: node-b's addresses %v, want its Calico address 192.168.20.2 only", c.addr, got)
		}
	}
}
