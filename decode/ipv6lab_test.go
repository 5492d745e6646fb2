package decode

import (
	"net/netip"
	"sort"
	"strings"
	"testing"
)

// labIPv6 is the lab's IPv6 scenario (testdata/lab/scenarios/healthy-vxlan6): real captures of pods with
// /128 addresses, their gateway fe80::ecee:eeff:feee:eeee, and VXLAN over IPv6.
const labIPv6 = "../testdata/lab/scenarios/healthy-vxlan6/"

// TestLabIPv6PodAddrs: on pod-b's veth node-b asks for pod-b's address at its solicited-node multicast
// address (ff02::1:ff00:47), from ee:ee:ee:ee:ee:ee; that address is no pod (calipath 7bdaded counted
// it as a second one and warned pod-veth-shared).
func TestLabIPv6PodAddrs(t *testing.T) {
	c := Load([]string{labIPv6 + "node-b-cali2f5353dd8c5.pcap"}, Options{}, PointConfig{})
	if len(c.Points) != 1 {
		t.Fatalf("%d points", len(c.Points))
	}
	tr := &c.Points[0].Traffic
	var got []string
	for _, a := range tr.PodSrcs6[:tr.NPodSrc6] {
		got = append(got, "src "+netip.AddrFrom16(a).String())
	}
	for _, a := range tr.PodDsts6[:tr.NPodDst6] {
		got = append(got, "dst "+netip.AddrFrom16(a).String())
	}
	sort.Strings(got)
	if want := "dst fd00:244::47 src fd00:244::47"; strings.Join(got, " ") != want {
		t.Errorf("pod addresses %v, want %s", got, want)
	}
}

// TestLabIPv6NotMerged: pod-a's veth carries its router solicitation and its neighbour solicitation
// for its gateway, both to multicast MACs (not ee:ee:ee:ee:ee:ee): frames of the veth, not of
// another interface (calipath 7bdaded said the file might be a node's captures merged into one).
func TestLabIPv6NotMerged(t *testing.T) {
	c := Load([]string{labIPv6 + "node-a-cali5e1c4d6c68c.pcap"}, Options{}, PointConfig{})
	if len(c.Files) != 1 || len(c.Points) != 1 {
		t.Fatalf("%d files, %d points", len(c.Files), len(c.Points))
	}
	if p := c.Files[0].Problems; len(p) != 0 {
		t.Errorf("problems: %q", p)
	}
}
