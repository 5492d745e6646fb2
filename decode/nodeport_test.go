package decode

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestNodePortNotRouted reads nodeport-cluster's captures of node-a's eth0 and of router-1's eth0, the
// link between them. ext-1's requests to node-a's node ports cross both twice: in bare, then, DNATed to
// pod-b on node-b and masqueraded by node-a, out in IP-in-IP (the inner TTL one lower, the outer header
// inheriting it; other link addresses). Neither file is a router's interfaces merged: a router forwards
// a packet as it came, and the second copy is in a tunnel the first was not. Before, the merged probe
// took those packets for copies one router on and called both files unreliable.
func TestNodePortNotRouted(t *testing.T) {
	dir := "../testdata/lab/scenarios/nodeport-cluster"
	for _, name := range []string{"node-a-eth0.pcap", "router-1-eth0.pcap"} {
		c := Load([]string{filepath.Join(dir, name)}, Options{}, PointConfig{})
		if len(c.Files) != 1 || c.Files[0].Err != nil {
			t.Fatalf("%s: %+v", name, c.Files)
		}
		fi := c.Files[0]
		if fi.Routed || strings.Contains(strings.Join(fi.Problems, "\n"), "TTL one lower") {
			t.Errorf("%s: read as a router's interfaces merged: %q", name, fi.Problems)
		}
	}
}
