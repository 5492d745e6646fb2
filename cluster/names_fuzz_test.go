package cluster

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// FuzzParseIPAddr reads any bytes as `ip -d -j addr show` output (a node's <node>-addr.json, the
// JSON of a Retina ip-resources.txt): no panic; a result has interfaces with distinct positive
// indexes and names, sorted by index, and addresses that are valid prefixes; as an `ip` dump
// (ReadIPDump) every link and problem it gives names the file and a line. Seeded with the lab's and
// the package's address dumps.
func FuzzParseIPAddr(f *testing.F) {
	dumps, _ := filepath.Glob("../testdata/lab/scenarios/*/*-addr.json")
	more, _ := filepath.Glob("testdata/ipaddr/*.json")
	dumps = append(more, dumps...)
	if len(dumps) == 0 {
		f.Fatal("no address dumps")
	}
	for _, p := range dumps[:min(len(dumps), 12)] {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`[{"ifindex":1,"ifname":"lo","addr_info":[{"local":"::1","prefixlen":200}]},{"ifindex":1,"ifname":"x"}] trailing`))
	f.Fuzz(func(t *testing.T, data []byte) {
		links, err := ParseIPAddr(bytes.NewReader(data))
		if err == nil && len(links) == 0 || err != nil && (links != nil || err.Error() == "") {
			t.Fatalf("%d interfaces, error %v", len(links), err)
		}
		if !sort.SliceIsSorted(links, func(a, b int) bool { return links[a].Index < links[b].Index }) {
			t.Fatal("interfaces not sorted by index")
		}
		for i, l := range links {
			if l.Index <= 0 || l.Name == "" || i > 0 && links[i-1].Index == l.Index {
				t.Fatalf("interface %+v", l)
			}
			for _, a := range l.Addrs {
				if !a.IsValid() {
					t.Fatalf("interface %s: address %v", l.Name, a)
				}
			}
		}
		states := map[string]*NodeState{}
		_, probs := ReadIPDump(states, "node-a-addr.json", "", data)
		lines := 1 + bytes.Count(data, []byte("\n"))
		for _, p := range probs {
			if p.File != "node-a-addr.json" || !strings.HasPrefix(p.Msg, "line ") {
				t.Fatalf("problem without its file and line: %v", p)
			}
		}
		for _, st := range states {
			for _, l := range st.Netns.Links {
				if l.Source.File != "node-a-addr.json" || l.Source.Line < 1 || l.Source.Line > lines {
					t.Fatalf("link %s cites %+v", l.Name, l.Source)
				}
			}
		}
	})
}

// FuzzDumpNames reads any file name as an `ip` dump's (DumpName: <node>[-<cali veth>]-<kind>.<ext>)
// and any argument as Load's NODE=PATH (SplitNode): no panic, and names written as documented read
// back: <node>-<kind>.json gives the node, <node>-<caliXXX>-neigh.json the node and the pod's veth,
// and NODE=PATH the node and the path. Seeded with the lab's dump names.
func FuzzDumpNames(f *testing.F) {
	names, _ := filepath.Glob("../testdata/lab/scenarios/state-*/*.*")
	for _, p := range names {
		f.Add(filepath.Base(p), "node-a", "cali5e1c4d6c68c", "x/y.json")
	}
	f.Add("-routes.txt", "a-b", "cali", "=")
	f.Fuzz(func(t *testing.T, name, node, veth, path string) {
		n, v, ok := DumpName(name)
		if ok && (n == "" || !strings.Contains(filepath.Base(name), n)) || !ok && (n != "" || v != "") {
			t.Fatalf("DumpName(%q) = %q, %q, %v", name, n, v, ok)
		}
		SplitNode(name)
		clean := func(s string) bool { return s != "" && !strings.ContainsAny(s, "/\x00") }
		if clean(node) && clean(veth) && strings.HasPrefix(veth, "cali") && !strings.Contains(veth, "-") {
			last := node[strings.LastIndexByte(node, '-')+1:]
			if !strings.HasPrefix(last, "cali") {
				for _, kind := range []string{"routes.txt", "neigh.json", "links.txt", "addr.json"} {
					if gn, gv, ok := DumpName("dir/" + node + "-" + kind); !ok || gn != node || gv != "" {
						t.Fatalf("DumpName(%q) = %q, %q, %v", node+"-"+kind, gn, gv, ok)
					}
				}
				if gn, gv, ok := DumpName(node + "-" + veth + "-neigh.json"); !ok || gn != node || gv != veth {
					t.Fatalf("DumpName(%q) = %q, %q, %v; want %q, %q", node+"-"+veth+"-neigh.json", gn, gv, ok, node, veth)
				}
			}
		}
		if clean(node) && !strings.Contains(node, "=") && path != "" && !strings.Contains(path, "\x00") {
			arg := node + "=" + path
			if _, err := os.Stat(arg); err == nil {
				return
			}
			if gn, gp := SplitNode(arg); gn != node || gp != path {
				t.Fatalf("SplitNode(%q) = %q, %q", arg, gn, gp)
			}
		}
	})
}
