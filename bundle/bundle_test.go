package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
	"github.com/google/go-cmp/cmp"
)

type tarEntry struct {
	name string
	typ  byte
	body string
	size int64 // header size claim when not len(body)
}

// mkTar builds a gzip'd tar stream; a size claim other than the body's length writes the header by
// hand-made means (tar.Writer refuses it), so the stream is cut after the body.
func mkTar(t testing.TB, gz bool, entries ...tarEntry) []byte {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Size: int64(len(e.body))}
		if typ != tar.TypeReg {
			h.Size = 0
			h.Linkname = "x"
		}
		if e.size != 0 {
			h.Size = e.size
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil && e.size == 0 {
				t.Fatal(err)
			}
		}
	}
	tw.Flush() // a short entry (size claim past its body) stays cut: no Close
	if entries == nil || entries[len(entries)-1].size == 0 {
		tw.Close()
	}
	if !gz {
		return raw.Bytes()
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(raw.Bytes())
	zw.Close()
	return out.Bytes()
}

func walkBytes(b []byte, maxBytes int64) (names []string, problems []string, err error) {
	problems, err = walkTar(bytes.NewReader(b), maxBytes, func(e *entry) bool {
		names = append(names, e.name)
		return true
	})
	return names, problems, err
}

const pcapHeader = "\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00"

func TestWalkTarHostile(t *testing.T) {
	for _, tc := range []struct {
		name      string
		data      []byte
		max       int64
		names     []string
		problem   string // a problem or the error holds this
		wantError bool
	}{
		{name: "plain", data: mkTar(t, true, tarEntry{name: "a.pcap", body: pcapHeader}, tarEntry{name: "dir/b.txt", body: "x"}),
			names: []string{"a.pcap", "dir/b.txt"}},
		{name: "uncompressed", data: mkTar(t, false, tarEntry{name: "a.pcap", body: pcapHeader}), names: []string{"a.pcap"}},
		{name: "dot dot", data: mkTar(t, true, tarEntry{name: "../../etc/x.pcap", body: pcapHeader}, tarEntry{name: "ok", body: "1"}),
			names: []string{"ok"}, problem: `".." in its path`},
		{name: "absolute", data: mkTar(t, true, tarEntry{name: "/etc/passwd", body: "x"}), problem: "an absolute path"},
		{name: "twice", data: mkTar(t, true, tarEntry{name: "a", body: "1"}, tarEntry{name: "./a", body: "2"}),
			names: []string{"a"}, problem: "a second entry"},
		{name: "symlink", data: mkTar(t, true, tarEntry{name: "l", typ: tar.TypeSymlink}), problem: "a link or special file"},
		{name: "absurd size", data: mkTar(t, true, tarEntry{name: "huge.pcap", body: pcapHeader, size: 1 << 40}), max: 1 << 30,
			problem: "claims 1099511627776 bytes", wantError: true},
		{name: "truncated entry", data: mkTar(t, true, tarEntry{name: "cut.pcap", body: pcapHeader, size: 4096}),
			problem: `"cut.pcap"`, wantError: true},
		{name: "truncated archive", data: mkTar(t, false, tarEntry{name: "a", body: strings.Repeat("x", 2000)})[:700],
			wantError: true},
		{name: "over max-bytes", data: mkTar(t, true, tarEntry{name: "a", body: strings.Repeat("x", 5000)}), max: 1024,
			problem: "--max-bytes", wantError: true},
		{name: "not a tar", data: []byte("hello, world, this is no archive at all"), wantError: true},
		{name: "empty", data: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names, problems, err := walkBytes(tc.data, tc.max)
			if (err != nil) != tc.wantError {
				t.Errorf("error %v, want one: %v", err, tc.wantError)
			}
			if d := cmp.Diff(tc.names, names); d != "" {
				t.Errorf("entries (-want +got):\n%s", d)
			}
			all := strings.Join(problems, "\n")
			if err != nil {
				all += "\n" + err.Error()
			}
			if !strings.Contains(all, tc.problem) {
				t.Errorf("problems %q, error %v: want %q", problems, err, tc.problem)
			}
		})
	}
}

// FuzzWalkTar: any stream, compressed or not, is walked without panic, in bounded entries.
func FuzzWalkTar(f *testing.F) {
	f.Add(mkTar(f, true, tarEntry{name: "a.pcap", body: pcapHeader}, tarEntry{name: "ip-resources.txt", body: "Execute:\n\n/usr/sbin/ip -d -j addr show\n\n[]"}))
	f.Add(mkTar(f, false, tarEntry{name: "../x", body: "1"}, tarEntry{name: "l", typ: tar.TypeLink}))
	f.Add(mkTar(f, true, tarEntry{name: "cut.pcap", body: pcapHeader, size: 4096}))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		walkTar(bytes.NewReader(b), 1<<20, func(e *entry) bool {
			n++
			if e.name == "" || strings.HasPrefix(e.name, "/") || len(e.head) > sniffLen {
				t.Fatalf("entry %q handed over (head %d bytes)", e.name, len(e.head))
			}
			if isIPResources(e.head, e.name) {
				b, _ := io.ReadAll(e.r)
				ipResourcesLinks(b)
				cluster.ReadIPResources(map[string]*cluster.NodeState{}, "x", "n", b)
			}
			return true
		})
		if n > maxEntries {
			t.Fatalf("%d entries", n)
		}
	})
}

func TestSplitWEP(t *testing.T) {
	for in, want := range map[string][2]string{
		"node--a-k8s-pod--a-eth0":                                   {"node-a", "pod-a"},
		"aks--nodepool1--41844487--vmss000000-k8s-nginx--7d9f-eth0": {"aks-nodepool1-41844487-vmss000000", "nginx-7d9f"},
		"n-k8s-p-eth0":        {"n", "p"},
		"k8s-k8s-pod--a-eth0": {"k8s", "pod-a"}, // a node named k8s
		"k8s-k8s-k8s-eth0":    {"k8s", "k8s"},
		"no-k8s-here":         {"", ""},
		"k8s-pod-eth0":        {"", ""},
		"node-k8s-eth0":       {"", ""},
		"plain_name":          {"", ""},
	} {
		n, p, ok := splitWEP(in)
		if got := [2]string{n, p}; got != want || ok != (want[0] != "") {
			t.Errorf("splitWEP(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestPacketCapturePath(t *testing.T) {
	root := "caps"
	for p, want := range map[string]string{
		"caps/default/cap/node--a-k8s-pod--a-eth0_cali5e1c4d6c68c.pcap":            "node-a/cali5e1c4d6c68c default/pod-a",
		"caps/default/cap/node--a-k8s-pod--a-eth0_cali5e1c4d6c68c.1764689700.pcap": "node-a/cali5e1c4d6c68c default/pod-a",
		"caps/default/cap/node--a-k8s-pod--a-eth0_cali5e1c4d6c68c.pcap.3":          "node-a/cali5e1c4d6c68c default/pod-a",
		"caps/node--a-k8s-pod--a-eth0_cali5e1c4d6c68c.pcap":                        "node-a/cali5e1c4d6c68c pod-a",
		"caps/default/cap/node-a-eth0.pcap":                                        "",
		"caps/default/cap/x_eth0.pcap":                                             "",
	} {
		id, pod, _, ok := packetCapturePath(root, p)
		got := ""
		if ok {
			got = id.Node + "/" + id.Iface + " " + pod
		}
		if got != want {
			t.Errorf("%s: %q, want %q", p, got, want)
		}
	}
}

func TestTarballNodes(t *testing.T) {
	tb := func(p string) *tarball { return &tarball{path: p} }
	withAddr := &tarball{path: "x/cap-ip-10-0-0-5-20260101000000UTC.tar.gz",
		links: []cluster.IPAddrLink{{Index: 2, Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/24")}}}}
	for _, tc := range []struct {
		name  string
		tbs   []*tarball
		opts  Options
		want  map[string]string
		hints int
	}{
		{"common prefix", []*tarball{tb("retina-capture-aks-1-20230320013600UTC.tar.gz"), tb("retina-capture-gke-2-20230320013601UTC.tar.gz")},
			Options{}, map[string]string{"retina-capture-aks-1-20230320013600UTC.tar.gz": "aks-1", "retina-capture-gke-2-20230320013601UTC.tar.gz": "gke-2"}, 1},
		{"known names", []*tarball{tb("cap-node-a-20230320013600UTC.tar.gz"), tb("cap-node-b-20230320013600UTC.tar.gz")},
			Options{Nodes: []string{"node-a", "node-b", "a"}}, map[string]string{"cap-node-a-20230320013600UTC.tar.gz": "node-a", "cap-node-b-20230320013600UTC.tar.gz": "node-b"}, 0},
		{"lone", []*tarball{tb("cap-node-a-20230320013600UTC.tar.gz")}, Options{}, map[string]string{"cap-node-a-20230320013600UTC.tar.gz": "cap-node-a"}, 1},
		{"--point", []*tarball{tb("t.tar.gz")}, Options{Explicit: map[string]decode.Identity{"t.tar.gz": {Node: "n1", Iface: "any"}}},
			map[string]string{"t.tar.gz": "n1"}, 0},
		{"by address", []*tarball{withAddr}, Options{NodeIPs: map[netip.Addr]string{netip.MustParseAddr("10.0.0.5"): "ip-10-0-0-5.ec2.internal"}},
			map[string]string{withAddr.path: "ip-10-0-0-5.ec2.internal"}, 0},
	} {
		nodes, why, hints, _ := tarballNodes(tc.tbs, tc.opts)
		if d := cmp.Diff(tc.want, nodes); d != "" {
			t.Errorf("%s: nodes (-want +got):\n%s", tc.name, d)
		}
		if len(hints) != tc.hints || len(why) != len(nodes) {
			t.Errorf("%s: hints %q, why %q", tc.name, hints, why)
		}
	}
}

func TestParseDropsAndIPResources(t *testing.T) {
	log := "tcpdump: listening on any, link-type LINUX_SLL2\n41 packets captured\n45 packets received by filter\n4 packets dropped by kernel\n"
	if n, ok := parseDrops(strings.NewReader(log)); !ok || n != 4 {
		t.Errorf("parseDrops = %d, %v", n, ok)
	}
	if _, ok := parseDrops(strings.NewReader("tcpdump: listening on any\n")); ok {
		t.Error("a log without statistics gave drops")
	}
	b, err := os.ReadFile(filepath.Join(fixtures, "retina-links", "node-a-links.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := decode.ParseIPLink(bytes.NewReader(b))
	// The summary names the command too: the output is the one after "Execute:".
	res := "Summary:\n\n/usr/sbin/ip -d -j addr show(IP address configuration)\n\nExecute:\n\n/usr/sbin/ip -d -j addr show\n\n" +
		`[{"ifindex":1,"ifname":"lo"},{"ifindex":2,"ifname":"eth0"}]` + "\n/usr/sbin/ip -d -j neighbor show\n\n[]\n"
	links, err := ipResourcesLinks([]byte(res))
	if err != nil || len(links) != 2 || links[1].Name != "eth0" {
		t.Errorf("ipResourcesLinks = %+v, %v", links, err)
	}
	if _, err := ipResourcesLinks([]byte("Execute:\n\n/usr/sbin/ip rule list\n\n0: from all lookup local\n")); err == nil {
		t.Error("no addr output, no error")
	}
	_ = want
}

// A directory: captures, dumps and logs used, the rest skipped and counted.
func TestExpandDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("node-a-any.pcap", pcapHeader)
	write("node-a-any-tcpdump.log", "0 packets captured\n7 packets dropped by kernel\n")
	links, _ := os.ReadFile(filepath.Join(fixtures, "retina-links", "node-a-links.txt"))
	write("node-a-links.txt", string(links))
	write("sub/node-b-eth0.pcap.gz", string(gz([]byte(pcapHeader))))
	write("README.md", "# notes\n")
	write("binary.bin", "\x00\x01\x02")
	write("nodes.json", `{"apiVersion": "v1", "kind": "List", "items": []}`)
	s := Expand([]string{dir, "other.pcap"}, Options{})
	wantPaths := []string{filepath.Join(dir, "node-a-any.pcap"), filepath.Join(dir, "sub/node-b-eth0.pcap.gz"), "other.pcap"}
	if d := cmp.Diff(wantPaths, s.Paths); d != "" {
		t.Errorf("paths (-want +got):\n%s", d)
	}
	if s.Skipped != 2 || len(s.Problems) != 2 {
		t.Errorf("skipped %d: %q", s.Skipped, s.Problems)
	}
	if len(s.Links["node-a"]) == 0 || len(s.Drops) != 1 || s.Drops[0].Dropped != 7 || s.Drops[0].Path != wantPaths[0] {
		t.Errorf("links %v, drops %+v", s.Links, s.Drops)
	}
	if len(s.Meta) != 1 {
		t.Errorf("meta %q", s.Meta)
	}
	// Plain files alone pass through, and nothing else is set.
	s = Expand([]string{"a.pcap", "-"}, Options{})
	if d := cmp.Diff([]string{"a.pcap", "-"}, s.Paths); d != "" || s.Any() {
		t.Errorf("plain files: %s %+v", d, s)
	}
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// A hostile tarball given as an argument: the problems name it and the entry, nothing panics, and
// the rest of the inputs stay.
func TestExpandHostileTarball(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cap-node-a-20260101000000UTC.tar.gz")
	os.WriteFile(p, mkTar(t, true, tarEntry{name: "../evil.pcap", body: pcapHeader}, tarEntry{name: "cap.pcap", body: pcapHeader, size: 1 << 20}), 0o644)
	s := Expand([]string{p, "x.pcap"}, Options{})
	all := strings.Join(s.Problems, "\n")
	for _, want := range []string{p + `: entry "../evil.pcap"`, `"cap.pcap"`, "truncated", "no capture in the tarball"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems %q: want %q", s.Problems, want)
		}
	}
	if d := cmp.Diff([]string{"x.pcap"}, s.Paths); d != "" {
		t.Errorf("paths: %s", d)
	}
	// A tarball that is not there.
	s = Expand([]string{filepath.Join(dir, "none.tar.gz")}, Options{})
	if s.Skipped != 1 || len(s.Paths) != 0 {
		t.Errorf("missing tarball: %+v", s)
	}
}
