package bundle

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/calipath/calipath/cluster"
)

// fixtureEntries returns the named entries (base name) of the committed Retina tarballs.
func fixtureEntries(f *testing.F, base string) [][]byte {
	f.Helper()
	tbs, _ := filepath.Glob("../testdata/bundles/retina*/*.tar.gz")
	if len(tbs) == 0 {
		f.Fatal("no Retina tarballs under testdata/bundles")
	}
	var out [][]byte
	for _, tb := range tbs {
		fh, err := os.Open(tb)
		if err != nil {
			f.Fatal(err)
		}
		zr, err := gzip.NewReader(fh)
		if err != nil {
			f.Fatal(tb, err)
		}
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Fatal(tb, err)
			}
			if filepath.Base(h.Name) == base {
				b, err := io.ReadAll(tr)
				if err != nil {
					f.Fatal(tb, err)
				}
				out = append(out, b)
			}
		}
		fh.Close()
	}
	return out
}

// FuzzIPResources reads any text as a Retina ip-resources.txt, as a tarball's entry is read: its
// interfaces (ipResourcesLinks, cluster.ParseIPAddr) and its routes and neighbours
// (cluster.ReadIPResources). No panic; every problem names the file and a line of it, every route,
// neighbour and link read cites a line of the file; interfaces have an index and a name. Seeded with
// the ip-resources.txt of every committed Retina tarball.
func FuzzIPResources(f *testing.F) {
	seeds := fixtureEntries(f, "ip-resources.txt")
	if len(seeds) == 0 {
		f.Fatal("no ip-resources.txt in the Retina tarballs")
	}
	for _, b := range seeds {
		f.Add(b)
	}
	f.Add([]byte("Execute:\n\n/usr/sbin/ip -d -j addr show\n\n[{\"ifindex\":1,\"ifname\":\"lo\",\"addr_info\":[{\"local\":\"::1\",\"prefixlen\":129}]}]\n"))
	f.Add([]byte("Execute:\n\n/usr/sbin/ip route show\n\nblackhole 10.0.0.0/8\n/usr/sbin/ip -d -j neighbor show\n\n[{\"dst\":\"1.2.3.4\"}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		links, err := ipResourcesLinks(data)
		if err == nil && len(links) == 0 {
			t.Fatal("no interfaces and no error")
		}
		for _, l := range links {
			if l.Name == "" {
				t.Fatalf("interface %d without a name", l.Index)
			}
		}
		states := map[string]*cluster.NodeState{}
		probs := cluster.ReadIPResources(states, "ip-resources.txt", "node-a", data)
		lines := 1 + strings.Count(string(data), "\n")
		for _, p := range probs {
			if p.File != "ip-resources.txt" || !strings.HasPrefix(p.Msg, "line ") {
				t.Fatalf("problem without its file and line: %v", p)
			}
		}
		check := func(s cluster.Source) {
			if s.File != "ip-resources.txt" || s.Line < 1 || s.Line > lines {
				t.Fatalf("source %+v outside the file's %d lines", s, lines)
			}
		}
		for node, st := range states {
			if node != "node-a" {
				t.Fatalf("state of node %q, not the one given", node)
			}
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
	})
}

// FuzzParseDrops reads any text as a tcpdump log: no panic; a count is found exactly when a line
// starts "N packets dropped by kernel" (or "packet"), and it is the last such line's N. Seeded with
// the committed Retina tarballs' tcpdump.log.
func FuzzParseDrops(f *testing.F) {
	for _, b := range fixtureEntries(f, "tcpdump.log") {
		f.Add(b)
	}
	f.Add([]byte("tcpdump: listening on any\n12 packets captured\n12 packets received by filter\n0 packets dropped by kernel\n"))
	f.Add([]byte("1 packet dropped by kernel\n99999999999999999999 packets dropped by kernel\n"))
	last := regexp.MustCompile(`(?m)^(\d+) packets? dropped by kernel`)
	f.Fuzz(func(t *testing.T, data []byte) {
		n, ok := parseDrops(strings.NewReader(string(data)))
		m := last.FindAllSubmatch(data, -1)
		if len(m) == 0 {
			if ok {
				t.Fatalf("count %d from a log without the line", n)
			}
			return
		}
		want := string(m[len(m)-1][1])
		if ok && (n < 0 || fmt.Sprint(n) != strings.TrimLeft(want, "0") && !(n == 0 && strings.Trim(want, "0") == "")) {
			t.Fatalf("count %d from %q", n, want)
		}
	})
}

// dns1123 is a Kubernetes object name as the API server accepts it for nodes and pods.
var dns1123 = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)

// FuzzPacketCaptureName builds a Calico PacketCapture file path from a node, a pod, an endpoint and a
// host interface as libcalico-go names workload endpoints (each part's dashes doubled, joined by
// "-k8s-" and "-"), and reads any such name back: no panic on any name, and for Kubernetes names
// (DNS-1123) the node, pod and interface come back as they went in, rotated pieces too. Seeded
// with the committed PacketCapture fixture's files.
func FuzzPacketCaptureName(f *testing.F) {
	pcs, _ := filepath.Glob("../testdata/bundles/packetcapture/default/incident/*.pcap")
	if len(pcs) == 0 {
		f.Fatal("no PacketCapture fixture")
	}
	for _, p := range pcs {
		f.Add(filepath.Base(p), "", "", "", "")
	}
	f.Add("", "node-a", "pod-a", "eth0", "cali5e1c4d6c68c")
	f.Add("", "aks-nodepool1-41844487-vmss000000", "nginx-7d9f", "eth0", "cali12345678901")
	f.Add("", "k8s", "k8s", "eth0", "cali1")
	f.Fuzz(func(t *testing.T, name, node, pod, endpoint, iface string) {
		root := "caps"
		packetCapturePath(root, filepath.Join(root, "default", "incident", name)) // any name: no panic
		splitWEP(name)
		esc := func(s string) string { return strings.ReplaceAll(s, "-", "--") }
		wep := esc(node) + "-k8s-" + esc(pod) + "-" + esc(endpoint)
		if !dns1123.MatchString(node) || !dns1123.MatchString(pod) || !dns1123.MatchString(endpoint) ||
			!regexp.MustCompile(`^cali[0-9a-f]{1,11}$`).MatchString(iface) {
			return
		}
		for _, file := range []string{wep + "_" + iface + ".pcap", wep + "_" + iface + ".1764689700.pcap", wep + "_" + iface + ".pcap.3"} {
			id, full, why, ok := packetCapturePath(root, filepath.Join(root, "default", "incident", file))
			if !ok || id.Node != node || id.Iface != iface || full != "default/"+pod || why == "" {
				t.Fatalf("%s: node %q, iface %q, pod %q, %v; want %q, %q, default/%s", file, id.Node, id.Iface, full, ok, node, iface, pod)
			}
		}
	})
}

// FuzzRetinaNames names Retina tarballs "<capture>-<node>-<timestamp>UTC.tar.gz" (as Retina's
// capture job does) and works out their nodes with nothing else known: no panic, every tarball gets a
// node and a reason; two tarballs of one capture whose node names hold no dash get those names back.
// Any other name (tarballStem, retinaMeta) is read without panic too. Seeded with the committed
// Retina fixtures' names.
func FuzzRetinaNames(f *testing.F) {
	tbs, _ := filepath.Glob("../testdata/bundles/retina*/*.tar.gz")
	for _, tb := range tbs {
		b := filepath.Base(tb)
		capName, rest, _ := strings.Cut(b, "-node-")
		node, _, _ := strings.Cut(rest, "-")
		f.Add(capName, "node"+node, "node"+node+"x", b)
	}
	f.Add("incident", "a", "b", "proc-net/dev")
	f.Add("", "a", "a", "x.TGZ")
	f.Fuzz(func(t *testing.T, capName, nodeA, nodeB, other string) {
		tarballStem(other)
		retinaMeta(other)
		badName(other)
		sniff([]byte(other))
		paths := []string{capName + "-" + nodeA + "-20261202153500UTC.tar.gz", capName + "-" + nodeB + "-20261202153501UTC.tgz"}
		var tbs []*tarball
		for _, p := range paths {
			tbs = append(tbs, &tarball{path: p})
		}
		nodes, why, _, _ := tarballNodes(tbs, Options{})
		one, whyOne, _, _ := tarballNodes([]*tarball{{path: other}}, Options{Nodes: []string{nodeA, nodeB}})
		if whyOne[other] == "" {
			t.Fatalf("%q: node %q without a reason", other, one[other])
		}
		clean := func(s string) bool { return s != "" && !strings.ContainsAny(s, "-/") }
		if nodeA == nodeB || !clean(nodeA) || !clean(nodeB) || strings.Contains(capName, "/") || len(nodes) != 2 {
			return
		}
		if nodes[paths[0]] != nodeA || nodes[paths[1]] != nodeB || why[paths[0]] == "" {
			t.Fatalf("%q: nodes %q, want %q and %q", paths, nodes, nodeA, nodeB)
		}
	})
}
