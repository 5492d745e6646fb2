package correlate

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// vlan-ipip's cooked v2 -i any captures without --links name node-a's eth0 any#2 and its VLAN
// sub-interface eth0.100 any#3, and nothing in the names tells which is the parent: packets leaving
// node-a cross any#3 then any#2 (the tag is added on the way to the parent), packets arriving cross
// any#2 then any#3, as the frames' times on the one node's clock show. Each flow direction's path
// must put them in that order, so that no segment between them has a negative latency.
func TestVLANUnderlayOrderWithoutNames(t *testing.T) {
	dir := "../testdata/lab/scenarios/vlan-ipip"
	files, _ := filepath.Glob(filepath.Join(dir, "*-any.pcap"))
	routers, _ := filepath.Glob(filepath.Join(dir, "router-*.pcap"))
	if len(files) != 2 || len(routers) != 2 {
		t.Fatalf("want two -i any and two router captures, found %v %v", files, routers)
	}
	r := Correlate(decode.Load(append(files, routers...), decode.Options{}, decode.PointConfig{}), Options{})
	if len(r.Flows) == 0 {
		t.Fatal("no flows")
	}
	const sub, parent = "node-a/any#3", "node-a/any#2"
	for i := range r.Flows {
		f := &r.Flows[i]
		for _, dir := range []string{"c2s", "s2c"} {
			p := flowPath(r, f, dir)
			s, q := slices.Index(p, sub), slices.Index(p, parent)
			if s < 0 || q < 0 {
				t.Errorf("%s %s: path %v lacks %s or %s", f.ID, dir, p, sub, parent)
				continue
			}
			out := p[0] == "node-a/any#4" // from pod-a's cali
			if out && s > q || !out && q > s {
				t.Errorf("%s %s: path %v: %s before %s", f.ID, dir, p, p[min(s, q)], p[max(s, q)])
			}
		}
	}
	for _, s := range r.Segments {
		if strings.HasPrefix(s.From, "node-a/") && strings.HasPrefix(s.To, "node-a/") && s.LatencyNs.N > 0 && s.LatencyNs.Min < 0 {
			t.Errorf("segment %s → %s: latency min %dns", s.From, s.To, s.LatencyNs.Min)
		}
	}
}
