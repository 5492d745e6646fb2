package decode

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"net/netip"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestSplitFileName(t *testing.T) {
	for _, c := range []struct{ in, node, iface string }{
		{"node-a-eth0.pcap", "node-a", "eth0"},
		{"/caps/node-a-tunl0.pcapng.gz", "node-a", "tunl0"},
		{"ip-10-0-1-5.ec2.internal-cali1a2b3c4d5e6.pcap", "ip-10-0-1-5.ec2.internal", "cali1a2b3c4d5e6"},
		{"worker-2-vxlan.calico.pcap", "worker-2", "vxlan.calico"},
		{"worker-2-vxlan-v6.calico.pcap", "worker-2", "vxlan-v6.calico"},
		{"node-a-wireguard.cali.pcap", "node-a", "wireguard.cali"},
		{"worker-2-wg-v6.cali.pcapng", "worker-2", "wg-v6.cali"},
		{"k8s-node-any.pcap.gz", "k8s-node", "any"},
		{"node-b-ens5.cap", "node-b", "ens5"},
		{"node-b-bond0.pcap", "node-b", "bond0"},
		{"node-a.pcapng", "node-a", ""},
		{"capture.pcap", "capture", ""},
		{"eth0.pcap", "eth0", ""}, // a lone interface name is taken as the node: nothing precedes it
	} {
		n, i := SplitFileName(c.in)
		if n != c.node || i != c.iface {
			t.Errorf("SplitFileName(%q) = %q, %q; want %q, %q", c.in, n, i, c.node, c.iface)
		}
	}
}

func TestRoleOfIface(t *testing.T) {
	for name, want := range map[string]Role{
		"calic440f455693": RolePodVeth, "tunl0": RoleTunnel, "vxlan.calico": RoleTunnel,
		"vxlan-v6.calico": RoleTunnel, "eth0": RoleUnderlay, "ens5": RoleUnderlay, "enp0s3": RoleUnderlay,
		"wireguard.cali": RoleTunnel, "wg-v6.cali": RoleTunnel,
		"bond0": RoleUnderlay, "any": RoleAny, "lo": RoleUnknown, "docker0": RoleUnknown, "eth": RoleUnknown,
	} {
		if got := RoleOfIface(name); got != want {
			t.Errorf("RoleOfIface(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestParseIPLink(t *testing.T) {
	out := `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
2: eth0@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0
4: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\    link/ipip 0.0.0.0 brd 0.0.0.0
7: calic440f455693@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1480 qdisc noqueue state UP mode DEFAULT group default qlen 1000\    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netns cni-1
`
	m, err := ParseIPLink(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]string{1: "lo", 2: "eth0", 4: "tunl0", 7: "calic440f455693"}
	if len(m) != len(want) {
		t.Fatalf("got %v, want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("ifindex %d = %q, want %q", k, m[k], v)
		}
	}
	// Multi-line `ip link` output (without -o) parses too.
	m, err = ParseIPLink(strings.NewReader("3: eth1: <UP> mtu 1500\n    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n"))
	if err != nil || m[3] != "eth1" {
		t.Errorf("ip link (no -o): %v, %v", m, err)
	}
	for _, bad := range []string{"", "hello world\n", "x: eth0: <UP>\n", "0: eth0: <UP>\n"} {
		if _, err := ParseIPLink(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseIPLink(%q): no error", bad)
		}
	}
}

// trafficFor decodes frames into a Traffic as the scan does.
func trafficFor(t *testing.T, lt LinkType, frames ...[]byte) Traffic {
	t.Helper()
	var tr Traffic
	var p Packet
	for i, f := range frames {
		DecodeFast(lt, f, len(f), 0, &p)
		fp, _ := Fingerprint(&p)
		tr.Add(int64(i+1)*1000, &p, fp)
	}
	return tr
}

func TestIdentify(t *testing.T) {
	podA := netip.MustParseAddr("10.244.1.5").As4()
	podB := netip.MustParseAddr("10.244.2.7").As4()
	nodeA := netip.MustParseAddr("192.168.10.2").As4()
	nodeB := netip.MustParseAddr("192.168.20.2").As4()
	podMAC := [6]byte{0x0a, 0x58, 1, 2, 3, 4}

	inner := ipv4Frame(podA, podB, 63, 1, []byte("12345678abcdefgh"))
	toHost := ethFrame(CalicoMAC, podMAC, 0x0800, ipv4Frame(podA, podB, 64, 1, []byte("12345678abcdefgh")))
	arpReq := ethFrame([6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, podMAC, 0x0806, arpBody(1, podMAC, podA, [6]byte{}, CalicoGateway))
	outer := ethFrame([6]byte{2, 0, 0, 0, 0, 2}, [6]byte{2, 0, 0, 0, 0, 1}, 0x0800, ipv4Frame(nodeA, nodeB, 63, 4, inner))

	files := []FileMeta{
		{Path: "/x/node-a-cali1a2b3c4d5e6.pcap"},
		{Path: "/x/node-a-tunl0.pcap"},
		{Path: "/x/node-a-eth0.pcap"},
		{Path: "/x/mystery1.pcap"}, // role and node from traffic only
		{Path: "/x/b.pcapng", Interfaces: []Interface{{Name: "eth0"}, {Name: "tunl0"}}},
		{Path: "/x/renamed.pcap"},
		{Path: "/x/node-b-any.pcap"},
	}
	sources := []Source{
		{File: 0, IfIndex: -1}, {File: 1, IfIndex: -1}, {File: 2, IfIndex: -1}, {File: 3, IfIndex: -1},
		{File: 4, Iface: 0, IfIndex: -1}, {File: 4, Iface: 1, IfIndex: -1}, {File: 5, IfIndex: -1},
		{File: 6, IfIndex: 2}, {File: 6, IfIndex: 9}, {File: 6, IfIndex: 1},
	}
	traffic := []Traffic{
		trafficFor(t, LinkEthernet, arpReq, toHost),
		trafficFor(t, LinkRaw, inner),
		trafficFor(t, LinkEthernet, outer),
		trafficFor(t, LinkRaw, inner),
		{}, {}, {}, {}, {}, trafficFor(t, LinkRaw, inner), // pod traffic on lo still does not make it a pod point
	}
	cfg := PointConfig{
		Explicit: map[string]Identity{"/x/renamed.pcap": {Node: "node-c", Iface: "eth1"}},
		Links:    map[string]map[int32]string{"node-b": {2: "eth0"}},
	}
	points, pointOf, ips := Identify(files, sources, traffic, cfg)
	got := map[string]string{}
	for si := range sources {
		p := points[pointOf[si]]
		got[files[sources[si].File].Path+"#"+string(rune('0'+si))] = p.ID + " " + p.Role.String()
	}
	want := map[string]string{
		"/x/node-a-cali1a2b3c4d5e6.pcap#0": "node-a/cali1a2b3c4d5e6 pod-veth",
		"/x/node-a-tunl0.pcap#1":           "node-a/tunl0 tunnel",
		"/x/node-a-eth0.pcap#2":            "node-a/eth0 underlay",
		"/x/mystery1.pcap#3":               "mystery1/unknown tunnel",
		"/x/b.pcapng#4":                    "b/eth0 underlay",
		"/x/b.pcapng#5":                    "b/tunl0 tunnel",
		"/x/renamed.pcap#6":                "node-c/eth1 underlay",
		"/x/node-b-any.pcap#7":             "node-b/eth0 underlay",
		"/x/node-b-any.pcap#8":             "node-b/any#9 unknown",
		"/x/node-b-any.pcap#9":             "node-b/lo unknown",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	for i := 1; i < len(points); i++ {
		if points[i-1].ID >= points[i].ID {
			t.Errorf("points not sorted: %s before %s", points[i-1].ID, points[i].ID)
		}
	}
	if p := points[pointOf[3]]; !strings.Contains(p.Reason, "role inferred") {
		t.Errorf("inferred role gives no reason: %q", p.Reason)
	}
	if len(ips) != 1 || ips[0].Node != "node-a" || ips[0].IP != netip.AddrFrom4(nodeA) {
		t.Fatalf("node IPs = %+v, want node-a 192.168.10.2", ips)
	}
	// --node-ip wins over inference where the captures show the node sending from it.
	cfg.NodeIPs = map[string][]netip.Addr{"node-a": {netip.AddrFrom4(nodeA), netip.MustParseAddr("192.168.99.9")}}
	_, _, ips = Identify(files, sources, traffic, cfg)
	if len(ips) != 2 || ips[0].Reason != "--node-ip" || ips[1].Reason != "--node-ip" {
		t.Fatalf("node IPs with --node-ip = %+v", ips)
	}
	// A --node-ip the node's pods' encapsulated frames never leave from is kept beside the address they
	// do leave from (the flag or Calico's choice is wrong, the captures cannot tell which).
	cfg.NodeIPs = map[string][]netip.Addr{"node-a": {netip.MustParseAddr("192.168.99.9")}}
	_, _, ips = Identify(files, sources, traffic, cfg)
	if len(ips) != 2 || ips[1].IP.String() != "192.168.99.9" || ips[1].Reason != "--node-ip" ||
		ips[0].IP != netip.AddrFrom4(nodeA) {
		t.Fatalf("node IPs with an unseen --node-ip = %+v", ips)
	}
}

func TestInferRole(t *testing.T) {
	podA := netip.MustParseAddr("10.244.1.5").As4()
	podB := netip.MustParseAddr("10.244.2.7").As4()
	vtepA := [6]byte{0x66, 0xb3, 0x68, 0x28, 0x39, 0x8e}
	vtepB := [6]byte{0x66, 0x01, 0x02, 0x03, 0x04, 0x05}
	vx := ethFrame(vtepB, vtepA, 0x0800, ipv4Frame(podA, podB, 63, 17, make([]byte, 12)))
	tr := trafficFor(t, LinkEthernet, vx)
	if r, why := inferRole(&tr); r != RoleTunnel || !strings.Contains(why, "VTEP") {
		t.Errorf("VTEP traffic: %v %q", r, why)
	}
	plain := ethFrame([6]byte{2, 0, 0, 0, 0, 2}, [6]byte{2, 0, 0, 0, 0, 1}, 0x0800, ipv4Frame(podA, podB, 63, 17, make([]byte, 12)))
	tr = trafficFor(t, LinkEthernet, plain)
	if r, _ := inferRole(&tr); r != RoleUnknown {
		t.Errorf("plain Ethernet IP: %v, want unknown", r)
	}
	// eth0 between WireGuard nodes: UDP 51820 carrying WireGuard messages, and some ARP.
	wg := ethFrame([6]byte{2, 0, 0, 0, 0, 2}, [6]byte{2, 0, 0, 0, 0, 1}, 0x0800,
		ipv4Frame(podA, podB, 64, 17, udpSeg(DefaultWireGuardPort, DefaultWireGuardPort, wgMsg(WGTransport, 7, 0, 1, 48))))
	tr = trafficFor(t, LinkEthernet, wg, plain)
	if r, why := inferRole(&tr); r != RoleUnderlay || !strings.Contains(why, "WireGuard") {
		t.Errorf("WireGuard traffic: %v %q", r, why)
	}
	var empty Traffic
	if r, why := inferRole(&empty); r != RoleUnknown || why != "no frames" {
		t.Errorf("empty: %v %q", r, why)
	}
}

// Past 65,534 capture sources (a hostile -i any capture), new ones share one overflow source instead
// of wrapping the 16-bit index onto others.
func TestSourceOverflow(t *testing.T) {
	tb := NewTables()
	var last uint16
	for i := 0; i < 70000; i++ {
		last = tb.InternSource(Source{File: 0, IfIndex: int32(i)})
		if i < maxSources-1 && last != uint16(i) {
			t.Fatalf("source %d got index %d", i, last)
		}
	}
	if last != maxSources-1 || tb.SourceOverflow != 70000-(maxSources-1) {
		t.Fatalf("last index %d, overflow %d", last, tb.SourceOverflow)
	}
	srcs := tb.Sources()
	if len(srcs) != maxSources || srcs[maxSources-1].IfIndex != IfOverflow {
		t.Fatalf("%d sources, last %+v", len(srcs), srcs[len(srcs)-1])
	}
	if again := tb.InternSource(Source{File: 0, IfIndex: 5}); again != 5 {
		t.Fatalf("a known source moved to %d", again)
	}
	points, pointOf, _ := Identify([]FileMeta{{Path: "/x/node-a-any.pcap"}}, srcs[maxSources-3:], nil, PointConfig{})
	if p := points[pointOf[2]]; p.ID != "node-a/overflow" {
		t.Errorf("overflow point %q", p.ID)
	}
}

func ipv6Frame(src, dst [16]byte, hops, proto uint8, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:6], uint16(len(payload)))
	b[6], b[7] = proto, hops
	copy(b[8:24], src[:])
	copy(b[24:40], dst[:])
	return append(b, payload...)
}

// Node IPs from IPv6 outer headers (VXLAN over IPv6, vxlan-v6.calico): node-a's is the outer source
// of its own pod's frames, node-b's the outer destination of frames arriving at its underlay.
func TestNodeIPsFromIPv6Outer(t *testing.T) {
	podA := netip.MustParseAddr("fd00:10:244:1::5").As16()
	podB := netip.MustParseAddr("fd00:10:244:2::7").As16()
	nodeA := netip.MustParseAddr("fd00:192:168:1::a").As16()
	nodeB := netip.MustParseAddr("fd00:192:168:1::b").As16()
	podMAC := [6]byte{0x0a, 0x58, 1, 2, 3, 4}
	inner := ipv6Frame(podA, podB, 64, 17, udpSeg(40000, 53, []byte("query")))
	vx := make([]byte, 8)
	vx[0] = 0x08
	binary.BigEndian.PutUint32(vx[4:8], 4096<<8)
	vxl := append(vx, ethFrame([6]byte{0x66, 2, 2, 2, 2, 2}, [6]byte{0x66, 1, 1, 1, 1, 1}, 0x86dd, inner)...)
	outer := ethFrame([6]byte{2, 0, 0, 0, 0, 2}, [6]byte{2, 0, 0, 0, 0, 1}, 0x86dd, ipv6Frame(nodeA, nodeB, 64, 17, udpSeg(51234, 4789, vxl)))
	files := []FileMeta{{Path: "/x/node-a-cali1111111111a.pcap"}, {Path: "/x/node-a-eth0.pcap"},
		{Path: "/x/node-b-eth0.pcap"}, {Path: "/x/node-b-cali2222222222b.pcap"}}
	sources := []Source{{File: 0, IfIndex: -1}, {File: 1, IfIndex: -1}, {File: 2, IfIndex: -1}, {File: 3, IfIndex: -1}}
	traffic := []Traffic{
		trafficFor(t, LinkEthernet, ethFrame(CalicoMAC, podMAC, 0x86dd, inner)),
		trafficFor(t, LinkEthernet, outer),
		trafficFor(t, LinkEthernet, outer),
		{},
	}
	_, _, ips := Identify(files, sources, traffic, PointConfig{})
	got := map[string]string{}
	for _, ip := range ips {
		got[ip.Node] = ip.IP.String()
	}
	if got["node-a"] != "fd00:192:168:1::a" || got["node-b"] != "fd00:192:168:1::b" {
		t.Errorf("node IPs %+v", ips)
	}
}

// Sources are numbered in the order concurrent scans meet them. The points, their reasons and traffic,
// and which point each source belongs to do not depend on that order: here a lab scenario with
// overlapping captures (per interface, -i any, pcapng) is identified with its sources in several orders.
func TestIdentifyIgnoresSourceOrder(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/lab/scenarios/clusterip-dnat/*.pcap*")
	if len(paths) == 0 {
		t.Fatal("no lab captures")
	}
	tb := NewTables()
	files := ScanFiles(paths, Options{}, tb, nil)
	sources := tb.Sources()
	traffic := make([]Traffic, len(sources))
	metas := make([]FileMeta, len(files))
	for i, f := range files {
		metas[i] = f.Meta()
		for si, tr := range f.Traffic {
			traffic[si].Merge(tr)
		}
	}
	// What each source is (by its file and interface) → its point, and the points themselves.
	describe := func(src []Source, tr []Traffic) string {
		points, pointOf, ips := Identify(metas, src, tr, PointConfig{})
		var lines []string
		for si, s := range src {
			lines = append(lines, fmt.Sprintf("source %d/%d/%d → %s", s.File, s.Iface, s.IfIndex, points[pointOf[si]].ID))
		}
		sort.Strings(lines)
		for _, p := range points {
			lines = append(lines, fmt.Sprintf("%s %v %s frames %d first %d", p.ID, p.Role, p.Reason, p.Traffic.Frames, p.Traffic.First))
		}
		return strings.Join(lines, "\n") + fmt.Sprint(ips)
	}
	want := describe(sources, traffic)
	if !strings.Contains(want, "it carried the same frames") {
		t.Fatal("the scenario no longer exercises -i any interface matching")
	}
	r := rand.New(rand.NewSource(3))
	for round := 0; round < 20; round++ {
		perm := r.Perm(len(sources))
		src := make([]Source, len(sources))
		tr := make([]Traffic, len(sources))
		for i, j := range perm {
			src[i], tr[i] = sources[j], traffic[j]
		}
		if got := describe(src, tr); got != want {
			t.Fatalf("sources in another order give other points:\n%s\nwant\n%s", got, want)
		}
	}
}

// Only the -i any captures of the lab (LINUX_SLL2, one per node, no --links), as a user with nothing
// else would give them: each node's IP comes from its own pod's encapsulated frames (a cooked frame
// records only its sender's address, so a pod's sends are the frames its host received on the veth),
// a VXLAN device is a tunnel (its frames come from VTEP MACs), and a node whose capture shows
// neither pods nor a tunnel (everything was dropped before them) gets the lone unknown outer address.
func TestIdentifyAnyOnly(t *testing.T) {
	cases := []struct {
		scenario string
		roles    map[string]Role // point → role
		ips      map[string]string
	}{
		{"healthy-ipip", map[string]Role{"node-a/any#2": RoleUnderlay, "node-a/any#3": RolePodVeth, "node-a/any#4": RoleTunnel},
			map[string]string{"node-a": "192.168.10.2", "node-b": "192.168.20.2"}},
		{"healthy-vxlan", map[string]Role{"node-a/any#4": RoleTunnel, "node-b/any#4": RoleTunnel, "node-b/any#3": RolePodVeth},
			map[string]string{"node-a": "192.168.10.2", "node-b": "192.168.20.2"}},
		{"ipip-input-drop", map[string]Role{"node-b/any#2": RoleUnderlay},
			map[string]string{"node-a": "192.168.10.2", "node-b": "192.168.20.2"}},
		{"underlay-drop-proto4", map[string]Role{"node-b/any": RoleAny},
			map[string]string{"node-a": "192.168.10.2", "node-b": "192.168.20.2"}},
	}
	for _, tc := range cases {
		t.Run(tc.scenario, func(t *testing.T) {
			paths, _ := filepath.Glob("../testdata/lab/scenarios/" + tc.scenario + "/*-any.pcap")
			if len(paths) != 2 {
				t.Fatalf("want two -i any captures, found %v", paths)
			}
			c := Load(paths, Options{}, PointConfig{})
			roles := map[string]Role{}
			for _, p := range c.Points {
				roles[p.ID] = p.Role
			}
			for id, want := range tc.roles {
				if got, ok := roles[id]; !ok || got != want {
					t.Errorf("point %s: role %v (present %v), want %v", id, got, ok, want)
				}
			}
			ips := map[string]string{}
			for _, ip := range c.NodeIPs {
				ips[ip.Node] = ip.IP.String()
			}
			if fmt.Sprint(ips) != fmt.Sprint(tc.ips) {
				t.Errorf("node IPs %v, want %v (%v)", ips, tc.ips, c.NodeIPs)
			}
		})
	}
}

func TestParseIPLinkRows(t *testing.T) {
	out := "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT\\    link/loopback 00:00:00:00:00:00\n" +
		"garbage\n" +
		"3: eth0@if9: <BROADCAST,UP,LOWER_UP> mtu 1400 qdisc noqueue state UP mode DEFAULT\\    link/ether 02:42:ac:11:00:02\n" +
		"4: tunl0@NONE: <NOARP> mtu 1480 state DOWN\n"
	rows, bad, err := ParseIPLinkRows(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 1 || bad[0].(*LineError).Line != 2 {
		t.Errorf("bad lines = %v, want line 2", bad)
	}
	want := []IPLink{
		{Index: 1, Name: "lo", Flags: []string{"LOOPBACK", "UP", "LOWER_UP"}, MTU: 65536, State: "UNKNOWN", Line: 1,
			Text: "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT"},
		{Index: 3, Name: "eth0", Flags: []string{"BROADCAST", "UP", "LOWER_UP"}, MTU: 1400, State: "UP", Line: 3,
			MAC: [6]byte{0x02, 0x42, 0xac, 0x11, 0x00, 0x02}, Text: "3: eth0@if9: <BROADCAST,UP,LOWER_UP> mtu 1400 qdisc noqueue state UP mode DEFAULT"},
		{Index: 4, Name: "tunl0", Flags: []string{"NOARP"}, MTU: 1480, State: "DOWN", Line: 4,
			Text: "4: tunl0@NONE: <NOARP> mtu 1480 state DOWN"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", rows, want)
	}
	if _, err := ParseIPLink(strings.NewReader(out)); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("ParseIPLink: err = %v, want line 2", err)
	}
	// The non -o format gives the address on a continuation line.
	rows, _, err = ParseIPLinkRows(strings.NewReader("2: eth1: <BROADCAST> mtu 1500 state UP\n    link/ether 4e:0e:93:07:4a:c5 brd ff:ff:ff:ff:ff:ff\n"))
	if err != nil || len(rows) != 1 || IPLinkMACs(rows)[[6]byte{0x4e, 0x0e, 0x93, 0x07, 0x4a, 0xc5}] != "eth1" {
		t.Errorf("non -o dump: rows %+v, err %v, want eth1 at 4e:0e:93:07:4a:c5", rows, err)
	}
}
