package decode

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
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

// TestLabIPv6AnyPodVeth: in a -i any capture (cooked v2, the sender's MAC only) a pod's veth is known
// by its pod's neighbour solicitation for fe80::ecee:eeff:feee:eeee and the host's answer, as an IPv4
// one is by the ARP for 169.254.1.1, however few frames the host sent it. The capture is node-a's -i
// any file of healthy-vxlan6 with only pod-a's veth (ifindex 3) kept, and of what the host sent it only
// the advertisement: a pod that sends to something that never answers (a log sink). calipath 7bdaded
// gave the veth no role ("no Calico signature in the traffic": one frame in 16 from ee:ee:ee:ee:ee:ee).
func TestLabIPv6AnyPodVeth(t *testing.T) {
	b, err := os.ReadFile(labIPv6 + "node-a-any.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b23c4d || binary.LittleEndian.Uint32(b[20:]) != 276 {
		t.Fatal("not a little-endian nanosecond LINUX_SLL2 pcap file")
	}
	out := append([]byte{}, b[:24]...)
	kept, fromHost := 0, 0
	for r := b[24:]; len(r) >= 16; {
		n := int(binary.LittleEndian.Uint32(r[8:]))
		rec, f := r[:16+n], r[16:16+n]
		r = r[16+n:]
		// SLL2: protocol, reserved, interface index, ARPHRD, packet type (4: outgoing), address length, address.
		if len(f) < 20+41 || binary.BigEndian.Uint32(f[4:8]) != 3 {
			continue
		}
		if f[10] == 4 {
			if binary.BigEndian.Uint16(f[0:2]) != 0x86dd || f[20+6] != 58 || f[20+40] != 136 {
				continue // the host's answers, all but its neighbour advertisement
			}
			fromHost++
		}
		out = append(out, rec...)
		kept++
	}
	if fromHost != 1 || kept < 10 {
		t.Fatalf("kept %d frames, %d from the host", kept, fromHost)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "node-a-any.pcap"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	c := Load([]string{filepath.Join(dir, "node-a-any.pcap")}, Options{}, PointConfig{})
	for _, p := range c.Points {
		if p.Iface != "any#3" {
			continue
		}
		if p.Role != RolePodVeth {
			t.Errorf("%s: role %v (%s), want a pod's veth", p.ID, p.Role, p.Reason)
		}
		return
	}
	t.Fatalf("no point any#3 among %+v", c.Points)
}

// TestLabIPv6DropNodeIP: in vxlan6-underlay-drop router-1 drops every VXLAN datagram over IPv6, so
// node-b's captures hold no packet of the pods (only pod-b's router solicitation): node-b is the lone
// outer destination no node claims, as for an IPv4 underlay drop (calipath 7bdaded looked at IPv4
// outer addresses only and left node-b without an address).
func TestLabIPv6DropNodeIP(t *testing.T) {
	dir := "../testdata/lab/scenarios/vxlan6-underlay-drop/"
	var files []string
	for _, f := range []string{"node-a-cali5e1c4d6c68c", "node-a-vxlan-v6.calico", "node-a-eth0", "node-b-cali2f5353dd8c5",
		"node-b-vxlan-v6.calico", "node-b-eth0", "router-1-eth0", "router-1-eth1"} {
		files = append(files, dir+f+".pcap")
	}
	c := Load(files, Options{}, PointConfig{})
	got := map[string]string{}
	for _, ip := range c.NodeIPs {
		got[ip.Node] = ip.IP.String()
	}
	if got["node-a"] != "fd00:10::2" || got["node-b"] != "fd00:20::2" {
		t.Errorf("node IPs %v, want node-a fd00:10::2 and node-b fd00:20::2", got)
	}
}

// TestLabAnyTunnelNotUnderlay: on a receiving node the kernel stamps the tunnel device's
// decapsulated packet with the time of the underlay frame it came in, and the two share the inner
// packet's fingerprint. In state-neigh-failed6 node-b's -i any interface 4 (vxlan-v6.calico) thus
// carried the same packets at the same moments as node-b-eth0.pcap's VXLAN frames as well as
// node-b-vxlan-v6.calico.pcap's: calipath a3801d0 took it for eth0 (the tie went to the name
// first in order), counted node-b/eth0 41 frames and said node-b-eth0.pcap lost 6 of them
// (capture-dropped). Frames are compared in the same form (encapsulated or not).
func TestLabAnyTunnelNotUnderlay(t *testing.T) {
	dir := "../testdata/lab/scenarios/state-neigh-failed6/"
	files, err := filepath.Glob(dir + "*.pcap")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures in %s: %v", dir, err)
	}
	ng, _ := filepath.Glob(dir + "*.pcapng")
	c := Load(append(files, ng...), Options{}, PointConfig{})
	seen := 0
	for si, s := range c.Sources {
		if filepath.Base(c.Files[s.File].Path) != "node-b-any.pcap" {
			continue
		}
		want := map[int32]string{2: "node-b/eth0", 3: "node-b/cali2f5353dd8c5", 4: "node-b/vxlan-v6.calico"}[s.IfIndex]
		if want == "" {
			continue
		}
		seen++
		if p := c.Points[c.PointOf[si]]; p.ID != want {
			t.Errorf("node-b-any.pcap ifindex %d is %s (%s), want %s", s.IfIndex, p.ID, p.Reason, want)
		}
	}
	if seen != 3 {
		t.Errorf("%d of node-b-any.pcap's interfaces 2, 3 and 4 found", seen)
	}
	for _, p := range c.Points {
		switch p.ID {
		case "node-b/eth0":
			if p.Traffic.Frames != 34 { // 17 in node-b-eth0.pcap, 17 at ifindex 2 of node-b-any.pcap
				t.Errorf("%s: %d frames, want 34", p.ID, p.Traffic.Frames)
			}
		case "node-b/vxlan-v6.calico":
			if p.Role != RoleTunnel || !strings.Contains(p.Reason, "frames between Calico VTEP MACs") ||
				!strings.Contains(p.Reason, "as node-b-vxlan-v6.calico.pcap") {
				t.Errorf("%s: role %v, why %q: want a tunnel recognised by its VTEP MACs and node-b-vxlan-v6.calico.pcap", p.ID, p.Role, p.Reason)
			}
		}
	}
}

// TestLabAnyTieUnnamed: a -i any interface that captures of two different interfaces of its node
// match equally well is named after neither. state-neigh-failed6's captures, with node-b's
// vxlan-v6.calico capture also given as node-b-vxlan.calico.pcap (a second interface carrying the
// same frames): calipath 94ce129 named node-b-any.pcap's interface 4 vxlan-v6.calico, the name that
// sorts first. It stays any#4, a tunnel by its VTEP MACs, and its reason and Point.Tie name both
// captures and what settles it. A second capture of the same interface (the same file in another
// directory) is no tie: the interface is named.
func TestLabAnyTieUnnamed(t *testing.T) {
	dir := "../testdata/lab/scenarios/state-neigh-failed6/"
	files, err := filepath.Glob(dir + "*.pcap")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures in %s: %v", dir, err)
	}
	b, err := os.ReadFile(dir + "node-b-vxlan-v6.calico.pcap")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	other := filepath.Join(tmp, "node-b-vxlan.calico.pcap")
	same := filepath.Join(tmp, "again", "node-b-vxlan-v6.calico.pcap")
	if err := os.Mkdir(filepath.Dir(same), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{other, same} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	any4 := func(c *Capture) *Point {
		for si, s := range c.Sources {
			if filepath.Base(c.Files[s.File].Path) == "node-b-any.pcap" && s.IfIndex == 4 {
				return &c.Points[c.PointOf[si]]
			}
		}
		t.Fatal("no interface 4 in node-b-any.pcap")
		return nil
	}

	p := any4(Load(append(files, other), Options{}, PointConfig{}))
	if p.ID != "node-b/any#4" || p.Role != RoleTunnel {
		t.Errorf("node-b-any.pcap ifindex 4 is %s, role %v (%s): want node-b/any#4, a tunnel", p.ID, p.Role, p.Reason)
	}
	for _, w := range []string{"node-b-vxlan-v6.calico.pcap (vxlan-v6.calico)", "node-b-vxlan.calico.pcap (vxlan.calico)",
		"--links node-b=FILE", "capture the interfaces separately"} {
		if !strings.Contains(p.Tie, w) || !strings.Contains(p.Reason, w) {
			t.Errorf("tie %q, reason %q: want %q in both", p.Tie, p.Reason, w)
		}
	}

	// A three-way tie names all three captures (it named two: the third went unsaid).
	third := filepath.Join(tmp, "node-b-tunl0.pcap")
	if err := os.WriteFile(third, b, 0o644); err != nil {
		t.Fatal(err)
	}
	p = any4(Load(append(files, other, third), Options{}, PointConfig{}))
	if p.ID != "node-b/any#4" {
		t.Errorf("three-way tie: node-b-any.pcap ifindex 4 is %s (%s): want node-b/any#4", p.ID, p.Reason)
	}
	for _, w := range []string{"node-b-vxlan-v6.calico.pcap (vxlan-v6.calico)", "node-b-vxlan.calico.pcap (vxlan.calico)",
		"node-b-tunl0.pcap (tunl0)", "named after none of them"} {
		if !strings.Contains(p.Tie, w) || !strings.Contains(p.Reason, w) {
			t.Errorf("three-way tie %q: want %q", p.Tie, w)
		}
	}

	p = any4(Load(append(files, same), Options{}, PointConfig{}))
	if p.ID != "node-b/vxlan-v6.calico" || p.Tie != "" {
		t.Errorf("with a second capture of the same interface, node-b-any.pcap ifindex 4 is %s (tie %q, %s): want node-b/vxlan-v6.calico",
			p.ID, p.Tie, p.Reason)
	}
}
