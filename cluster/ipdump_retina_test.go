package cluster

import (
	"net/netip"
	"strings"
	"testing"
)

// ipResources is a Retina ip-resources.txt as the lab writes it (testdata/lab/lab.sh, any-underlay-drop's
// node-a), with a neighbour and a blackhole route added.
const ipResources = `Summary:

/usr/sbin/ip -d -j addr show(IP address configuration)
/usr/sbin/ip -d -j neighbor show(IP neighbor status)
/usr/sbin/ip rule list(Policy routing list)
/usr/sbin/ip route show table all(Routes of all route tables)

Execute:

/usr/sbin/ip -d -j addr show

[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"addr_info":[]}]
/usr/sbin/ip -d -j neighbor show

[{"dst":"10.244.1.5","dev":"cali5e1c4d6c68c","lladdr":"22:7f:8b:38:bc:c3","state":["STALE"]},{"dst":"169.254.1.1","dev":"eth0","state":["FAILED"]}]
/usr/sbin/ip rule list

0:	from all lookup local
32766:	from all lookup main
32767:	from all lookup default
/usr/sbin/ip route show table all

default via 192.168.10.1 dev eth0 
blackhole 10.244.2.0/26 
10.244.1.5 dev cali5e1c4d6c68c scope link 
192.168.10.0/24 dev eth0 proto kernel scope link src 192.168.10.2 
local 10.244.1.0 dev tunl0 table local proto kernel scope host src 10.244.1.0 
local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 
broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1 
local 192.168.10.2 dev eth0 table local proto kernel scope host src 192.168.10.2 
broadcast 192.168.10.255 dev eth0 table local proto kernel scope link src 192.168.10.2 
`

// TestReadIPResources reads the neighbours and routes of a Retina ip-resources.txt, citing the
// file's own lines; the local table's routes do not take the main table's place in Lookup.
func TestReadIPResources(t *testing.T) {
	states := map[string]*NodeState{}
	const file = "incident-node-a.tar.gz!/ip-resources.txt"
	if probs := ReadIPResources(states, file, "node-a", []byte(ipResources)); len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	st := states["node-a"]
	if st == nil {
		t.Fatal("no state for node-a")
	}
	if st.RouteFile != file || st.NeighFile != file {
		t.Errorf("files %q %q, want %q", st.RouteFile, st.NeighFile, file)
	}
	if len(st.Routes) != 9 || len(st.Neighs) != 2 {
		t.Fatalf("%d routes, %d neighbours; want 9 and 2", len(st.Routes), len(st.Neighs))
	}
	r, ok := st.Lookup(netip.MustParseAddr("10.244.2.9"))
	if !ok || !r.Drops() || r.Source.String() != file+":24: blackhole 10.244.2.0/26" {
		t.Errorf("10.244.2.9: %v %+v", ok, r.Source)
	}
	for _, a := range []string{"192.168.10.2", "192.168.10.255"} {
		r, ok := st.Lookup(netip.MustParseAddr(a))
		if !ok || r.Dst != netip.MustParsePrefix("192.168.10.0/24") || r.Source.Line != 26 {
			t.Errorf("%s: %v %+v, want the main table's 192.168.10.0/24 (line 26)", a, ok, r)
		}
	}
	if r, ok := st.Lookup(netip.MustParseAddr("127.0.0.1")); !ok || !r.Default() {
		t.Errorf("127.0.0.1: %v %+v, want the default route (the local table is not consulted)", ok, r)
	}
	n, ok := st.Neighbour(netip.MustParseAddr("169.254.1.1"))
	if !ok || !n.Unresolved() || !strings.HasPrefix(n.Source.String(), file+":15 (entry 2): 169.254.1.1") {
		t.Errorf("169.254.1.1: %v %+v", ok, n.Source)
	}
}
