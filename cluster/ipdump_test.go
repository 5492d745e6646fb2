package cluster

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readDumps reads the named files of testdata/ipdump into node states, failing on any problem.
func readDumps(t *testing.T, names ...string) map[string]*NodeState {
	t.Helper()
	states := map[string]*NodeState{}
	for _, n := range names {
		p := filepath.Join("testdata", "ipdump", n)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		format, probs := ReadIPDump(states, p, "", data)
		if format == "" {
			t.Fatalf("%s: not recognised", n)
		}
		if len(probs) > 0 {
			t.Fatalf("%s: problems %v", n, probs)
		}
	}
	return states
}

// The dumps of testdata/ipdump were taken from a real namespace (text and JSON of the same state):
// both forms read the same facts, each citing its line.
func TestReadIPDumpRoutes(t *testing.T) {
	for _, file := range []string{"node-a-routes.txt", "node-a-routes.json"} {
		t.Run(file, func(t *testing.T) {
			st := readDumps(t, file)["node-a"]
			if st == nil {
				t.Fatal("no state for node-a")
			}
			json := strings.HasSuffix(file, ".json")
			for _, c := range []struct {
				dst, typ, prefix, via, dev string
				mtu, line                  int
				text                       string
			}{
				{"10.244.2.7", "blackhole", "10.244.2.0/26", "", "", 0, 2, "blackhole 10.244.2.0/26"},
				{"10.244.3.1", "unreachable", "10.244.3.0/26", "", "", 0, 3, "unreachable 10.244.3.0/26"},
				{"10.244.6.1", "prohibit", "10.244.6.0/26", "", "", 0, 8, "prohibit 10.244.6.0/26"},
				{"10.244.4.9", "unicast", "10.244.4.0/26", "192.168.10.9", "d0", 1440, 4,
					"10.244.4.0/26 via 192.168.10.9 dev d0 proto 80"},
				{"10.244.5.1", "unicast", "10.244.5.0/26", "192.168.10.3", "d0", 0, 5, "10.244.5.0/26"},
				{"192.168.10.77", "unicast", "192.168.10.0/24", "", "d0", 0, 9, "192.168.10.0/24 dev d0 proto kernel scope link"},
				{"8.8.8.8", "unicast", "0.0.0.0/0", "192.168.10.1", "d0", 0, 1, "default via 192.168.10.1 dev d0"},
			} {
				r, ok := st.Lookup(netip.MustParseAddr(c.dst))
				if !ok {
					t.Errorf("%s: no route", c.dst)
					continue
				}
				via := ""
				if r.Via.IsValid() {
					via = r.Via.String()
				}
				if r.Type != c.typ || r.Dst.String() != c.prefix || via != c.via || r.Dev != c.dev || r.MTU != c.mtu {
					t.Errorf("%s: got %s %s via %q dev %q mtu %d, want %s %s via %q dev %q mtu %d", c.dst, r.Type, r.Dst, via,
						r.Dev, r.MTU, c.typ, c.prefix, c.via, c.dev, c.mtu)
				}
				wantLine, wantEntry := c.line, 0
				if json {
					wantLine, wantEntry = 1, c.line
					if c.line == 9 {
						wantEntry = 7 // the nexthop lines are no entries of their own
					} else if c.line == 8 {
						wantEntry = 6
					}
				}
				if r.Source.File != filepath.Join("testdata", "ipdump", file) || r.Source.Line != wantLine ||
					r.Source.Entry != wantEntry || !strings.HasPrefix(r.Source.Text, c.text) {
					t.Errorf("%s: source %+v, want line %d entry %d text %q…", c.dst, r.Source, wantLine, wantEntry, c.text)
				}
				if want := c.typ != "unicast"; r.Drops() != want {
					t.Errorf("%s: Drops() = %v", c.dst, r.Drops())
				}
			}
			if _, ok := st.Lookup(netip.MustParseAddr("2001:db8::1")); ok {
				t.Error("an IPv6 address found an IPv4 route")
			}
		})
	}
}

func TestReadIPDumpNeighAndLinks(t *testing.T) {
	for _, files := range [][]string{{"node-a-neigh.txt", "node-a-links.txt"}, {"node-a-neigh.json", "node-a-links.json"}} {
		t.Run(files[0], func(t *testing.T) {
			st := readDumps(t, files...)["node-a"]
			n, ok := st.Neighbour(netip.MustParseAddr("192.168.10.9"))
			if !ok || !n.Unresolved() || n.Dev != "d0" || n.Source.Text != "192.168.10.9 dev d0 FAILED" {
				t.Errorf("192.168.10.9: %+v, %v; want FAILED on d0", n, ok)
			}
			n, ok = st.Neighbour(netip.MustParseAddr("192.168.10.7"))
			if !ok || n.Unresolved() || n.LLAddr != "02:00:00:00:00:07" {
				t.Errorf("192.168.10.7: %+v, %v; want PERMANENT 02:00:00:00:00:07", n, ok)
			}
			if _, ok := st.Neighbour(netip.MustParseAddr("192.168.10.8")); ok {
				t.Error("192.168.10.8 found")
			}
			l, ok := st.Link("d0")
			if !ok || l.MTU != 1400 || l.Index != 3 || l.State != "UP" {
				t.Errorf("d0: %+v, %v; want index 3 mtu 1400 UP", l, ok)
			}
			wantLine, wantEntry := 3, 0
			if strings.HasSuffix(files[1], ".json") {
				wantLine, wantEntry = 1, 3
			}
			if l.Source.Line != wantLine || l.Source.Entry != wantEntry || !strings.HasPrefix(l.Source.Text, "3: d0") {
				t.Errorf("d0: source %+v", l.Source)
			}
		})
	}
}

func TestDumpName(t *testing.T) {
	for _, c := range []struct{ path, node, veth string }{
		{"/x/node-a-routes.txt", "node-a", ""},
		{"worker-2-neigh.json", "worker-2", ""},
		{"node-a-links.txt", "node-a", ""},
		{"node-a-cali5e1c4d6c68c-neigh.json", "node-a", "cali5e1c4d6c68c"},
		{"ip-10-0-1-5.ec2.internal-ip-route.txt", "ip-10-0-1-5.ec2.internal", ""},
		{"node-a-eth0.pcap", "", ""},
		{"routes.txt", "", ""},
	} {
		node, veth, ok := DumpName(c.path)
		if node != c.node || veth != c.veth || ok != (c.node != "") {
			t.Errorf("DumpName(%q) = %q, %q, %v; want %q, %q", c.path, node, veth, ok, c.node, c.veth)
		}
	}
}

// Each dump is told by its content, whatever its name says; what is none is not claimed.
func TestDetectIPDump(t *testing.T) {
	for _, c := range []struct{ data, want string }{
		{"default via 192.168.10.1 dev eth0 proto dhcp metric 100\n", "ip route"},
		{"blackhole 10.244.2.0/26 proto 80\n", "ip route"},
		{"blackhole 10.244.2.0/26\n", "ip route"},
		{"10.244.2.0/26 via 192.168.20.2 dev tunl0 proto bird onlink\n", "ip route"},
		{"fe80::/64 dev eth0 proto kernel metric 256 pref medium\n", "ip route"},
		{"169.254.1.1 dev eth0 FAILED\n", "ip neigh"},
		{"192.168.10.1 dev eth0 lladdr 02:00:00:00:00:01 router REACHABLE\n", "ip neigh"},
		{"1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\n", "ip -o link"},
		{`[{"dst":"169.254.1.1","dev":"eth0","state":["FAILED"]}]`, "ip -j neigh"},
		{`[{"dst":"default","gateway":"192.168.10.1","dev":"eth0","flags":[]}]`, "ip -j route"},
		{`[{"ifindex":1,"ifname":"lo","flags":[],"mtu":65536}]`, "ip -j link"},
		{`[{"ifindex":1,"ifname":"lo","flags":[],"mtu":65536,"addr_info":[]}]`, "ip -d -j addr"},
		{`{"kind":"List","items":[]}`, ""},
		{"apiVersion: v1\nkind: List\n", ""},
		{"hello world\n", ""},
		{"", ""},
	} {
		if got := DetectIPDump("x.txt", []byte(c.data)); got != c.want {
			t.Errorf("DetectIPDump(%q) = %q, want %q", c.data, got, c.want)
		}
	}
	if got := DetectIPDump("node-a-neigh.json", []byte("[]\n")); got != "ip -j neigh" {
		t.Errorf("empty neigh dump: %q", got)
	}
	if got := DetectIPDump("x.json", []byte("[]")); got != "" {
		t.Errorf("empty list of no named kind: %q", got)
	}
}

// Bad lines are problems naming the file and line; the rest of the dump is read.
func TestReadIPDumpProblems(t *testing.T) {
	states := map[string]*NodeState{}
	data := "default via 192.168.10.1 dev eth0\n10.999.0.0/16 dev eth0\nblackhole 10.244.2.0/26\nx via y\n10.1.0.0/16 via nope dev eth0\n"
	format, probs := ReadIPDump(states, "node-a-routes.txt", "", []byte(data))
	if format != "ip route" {
		t.Fatalf("format %q", format)
	}
	var got []string
	for _, p := range probs {
		got = append(got, p.String())
	}
	want := []string{
		`node-a-routes.txt: line 2: not a route destination: "10.999.0.0/16"`,
		`node-a-routes.txt: line 4: not a route destination: "x"`,
		`node-a-routes.txt: line 5: bad next hop "nope"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := len(states["node-a"].Routes); n != 3 {
		t.Errorf("%d routes read, want 3 (default, blackhole, 10.1.0.0/16 without its next hop)", n)
	}
	// A JSON entry of the wrong shape is a problem; the others are read.
	_, probs = ReadIPDump(states, "node-b-neigh.json", "", []byte(`[{"dst":"10.0.0.1","dev":"eth0","state":["FAILED"]},
{"dst":"nope","state":[]},{"dst":"10.0.0.2","state":"x"},
{"dst":"10.0.0.3","dev":"eth0","state":["STALE"]}]`))
	if len(probs) != 2 || probs[0].String() != `node-b-neigh.json: line 2 (entry 2): not a neighbour address: "nope"` ||
		!strings.HasPrefix(probs[1].String(), "node-b-neigh.json: line 2 (entry 3): not a neighbour") {
		t.Errorf("problems %v", probs)
	}
	if n := len(states["node-b"].Neighs); n != 2 {
		t.Errorf("%d neighbours, want 2", n)
	}
	// A dump whose node cannot be told is said, and not read; NODE=FILE tells it.
	_, probs = ReadIPDump(states, "dump.txt", "", []byte("169.254.1.1 dev eth0 FAILED\n"))
	if len(probs) != 1 || !strings.Contains(probs[0].Msg, "of which node") {
		t.Errorf("no node: %v", probs)
	}
	_, probs = ReadIPDump(states, "dump.txt", "node-c", []byte("169.254.1.1 dev eth0 FAILED\n"))
	if len(probs) != 0 || len(states["node-c"].Neighs) != 1 {
		t.Errorf("NODE=FILE: %v, %+v", probs, states["node-c"])
	}
	// A pod's namespace is kept apart from its node's.
	ReadIPDump(states, "node-c-cali5e1c4d6c68c-neigh.txt", "", []byte("169.254.1.1 dev eth0 INCOMPLETE\n"))
	pod := states["node-c"].Pods["cali5e1c4d6c68c"]
	if pod == nil || len(pod.Neighs) != 1 || len(states["node-c"].Neighs) != 1 {
		t.Errorf("pod namespace: %+v", states["node-c"])
	}
}

// Lookup takes the longest prefix, then the lowest metric, and only the main table.
func TestLookup(t *testing.T) {
	states := map[string]*NodeState{}
	ReadIPDump(states, "n-routes.txt", "", []byte(`default via 10.0.0.1 dev eth0 metric 200
default via 10.0.0.2 dev eth1 metric 100
local 10.244.2.5 dev lo table local proto kernel scope host src 10.244.2.5
10.244.2.0/24 via 10.0.0.3 dev eth0
blackhole 10.244.2.0/26 proto bird
2001:db8::/32 dev eth0 metric 1024
unreachable 2001:db8:1::/48 dev lo metric 1024 error -113 pref medium
`))
	ns := &states["n"].Netns
	for _, c := range []struct{ ip, want string }{
		{"1.1.1.1", "default via 10.0.0.2 dev eth1 metric 100"},
		{"10.244.2.5", "blackhole 10.244.2.0/26 proto bird"},
		{"10.244.2.100", "10.244.2.0/24 via 10.0.0.3 dev eth0"},
		{"2001:db8:1::5", "unreachable 2001:db8:1::/48 dev lo metric 1024 error -113 pref medium"},
		{"2001:db8:2::5", "2001:db8::/32 dev eth0 metric 1024"},
		{"::ffff:10.244.2.100", "10.244.2.0/24 via 10.0.0.3 dev eth0"},
	} {
		r, ok := ns.Lookup(netip.MustParseAddr(c.ip))
		if !ok || r.Source.Text != c.want {
			t.Errorf("Lookup(%s) = %q, %v; want %q", c.ip, r.Source.Text, ok, c.want)
		}
	}
	if _, ok := ns.Lookup(netip.MustParseAddr("fe80::1")); ok {
		t.Error("fe80::1 found a route")
	}
}

// FuzzReadIPDump reads anything without panicking, and every fact it reads cites a line of the file.
func FuzzReadIPDump(f *testing.F) {
	for _, n := range []string{"node-a-routes.txt", "node-a-routes.json", "node-a-neigh.txt", "node-a-neigh.json",
		"node-a-links.txt", "node-a-links.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "ipdump", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("10.0.0.0/8\n\tnexthop via 1.2.3.4 dev eth0\n\tnexthop\n"))
	f.Add([]byte("blackhole default\nvia\n"))
	f.Add([]byte(`[{"dst":"1.2.3.4","state":["FAILED"]},`))
	f.Fuzz(func(t *testing.T, data []byte) {
		states := map[string]*NodeState{}
		format, probs := ReadIPDump(states, "node-a-neigh.json", "", data)
		lines := 1 + strings.Count(string(data), "\n")
		check := func(s Source) {
			if s.Line < 1 || s.Line > lines || s.File != "node-a-neigh.json" {
				t.Fatalf("%s: source %+v outside the file's %d lines", format, s, lines)
			}
		}
		for _, st := range states {
			for _, r := range st.Routes {
				check(r.Source)
			}
			for _, n := range st.Neighs {
				check(n.Source)
			}
			for _, l := range st.Links {
				check(l.Source)
			}
		}
		for _, p := range probs {
			if p.File != "node-a-neigh.json" || !strings.HasPrefix(p.Msg, "line ") {
				t.Fatalf("problem without its file and line: %v", p)
			}
		}
	})
}

// A node's `ip -d -j addr` dump (named <node>-addr.json) gives its links when no link dump does; a
// link dump of the same node replaces them, whichever file is read first, so no link is counted twice.
func TestLoadAddrDumpAsLinks(t *testing.T) {
	const scen = "../testdata/lab/scenarios/state-blackhole-route"
	links := func(paths ...string) []Link {
		t.Helper()
		m, probs, err := Load(paths)
		if err != nil || len(probs) != 0 {
			t.Fatalf("Load(%q): %v %v", paths, probs, err)
		}
		st := m.NodeState["node-b"]
		if st == nil {
			t.Fatalf("Load(%q): no state for node-b", paths)
		}
		return st.Netns.Links
	}
	addr := links(scen + "/node-b-addr.json")
	if len(addr) == 0 {
		t.Fatal("the address dump gives no links")
	}
	var tunl *Link
	for i := range addr {
		if addr[i].Name == "tunl0" {
			tunl = &addr[i]
		}
	}
	if tunl == nil || tunl.MTU == 0 || tunl.Source.Entry == 0 || !strings.HasSuffix(tunl.Source.File, "node-b-addr.json") {
		t.Errorf("tunl0 from the address dump: %+v", tunl)
	}
	text := links(scen + "/node-b-links.txt")
	for _, order := range [][]string{{"/node-b-addr.json", "/node-b-links.txt"}, {"/node-b-links.txt", "/node-b-addr.json"}} {
		got := links(scen+order[0], scen+order[1])
		if len(got) != len(text) {
			t.Errorf("%v: %d links, want the link dump's %d", order, len(got), len(text))
			continue
		}
		for i := range got {
			if !strings.HasSuffix(got[i].Source.File, "node-b-links.txt") {
				t.Errorf("%v: link %s from %s, want the link dump", order, got[i].Name, got[i].Source.File)
			}
		}
	}
}
