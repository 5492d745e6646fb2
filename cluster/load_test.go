package cluster

import (
	"bytes"
	"compress/gzip"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const podsJSON = `{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "pod-a", "namespace": "default"},
            "spec": {"nodeName": "node-a"},
            "status": {"podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}, {"ip": "fd00:10:244:1::5"}]}
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "calico-node-x", "namespace": "kube-system"},
            "spec": {"nodeName": "node-b", "hostNetwork": true},
            "status": {"podIP": "192.168.0.11"}
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"}
        }
    ],
    "kind": "List",
    "metadata": {"resourceVersion": ""}
}
`

const podsYAML = `# kubectl get pods -A -o yaml
apiVersion: v1
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: pod-b
    namespace: web
  spec:
    nodeName: node-b
  status:
    podIPs:
    - ip: 10.244.2.7
kind: List
metadata:
  resourceVersion: ""
`

const podsMultiDoc = `---
apiVersion: v1
kind: Pod
metadata: {name: one, namespace: ns1}
spec: {nodeName: node-a}
status: {podIP: 10.244.1.9}
---
# a comment-only document
---
kind: PodList
apiVersion: v1
items:
- metadata: {name: two, namespace: ns1}
  status: {podIP: 10.244.1.10}
`

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func ips(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, x := range s {
		out = append(out, netip.MustParseAddr(x))
	}
	return out
}

func TestLoadPods(t *testing.T) {
	dir := t.TempDir()
	j := write(t, dir, "pods.json", podsJSON)
	y := write(t, dir, "pods.yaml", podsYAML)
	md := write(t, dir, "more.yml", podsMultiDoc)
	m, probs, err := Load([]string{j, y, md})
	if err != nil {
		t.Fatal(err)
	}
	want := []Pod{
		{Namespace: "default", Name: "pod-a", Node: "node-a", IPs: ips("10.244.1.5", "fd00:10:244:1::5"), Source: j},
		{Namespace: "kube-system", Name: "calico-node-x", Node: "node-b", IPs: ips("192.168.0.11"), HostNetwork: true, Source: j},
		{Namespace: "ns1", Name: "one", Node: "node-a", IPs: ips("10.244.1.9"), Source: md},
		{Namespace: "ns1", Name: "two", IPs: ips("10.244.1.10"), Source: md},
		{Namespace: "web", Name: "pod-b", Node: "node-b", IPs: ips("10.244.2.7"), Source: y},
	}
	if diff := cmp.Diff(want, m.Pods, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("pods (-want +got):\n%s", diff)
	}
	wantProbs := []Problem{{File: j, Msg: "1 object(s) of kinds calipath does not use skipped (Deployment 1)"}}
	if diff := cmp.Diff(wantProbs, probs); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	wantFiles := []File{{Path: j, Format: "objects"}, {Path: y, Format: "objects"}, {Path: md, Format: "objects"}}
	if diff := cmp.Diff(wantFiles, m.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a/pods.json", podsJSON)
	write(t, dir, "b/c/pods.yaml", podsYAML)
	write(t, dir, "notes.txt", "nothing to see\n")
	write(t, dir, "capture.pcap", "\xd4\xc3\xb2\xa1\x02\x00\x04\x00")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(podsMultiDoc))
	zw.Close()
	write(t, dir, "z/more.gz", gz.String())
	// Links: to a file, read; to a directory, not followed (the walk would read it twice).
	if err := os.Symlink(filepath.Join(dir, "a", "pods.json"), filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "a"), filepath.Join(dir, "linkdir")); err != nil {
		t.Fatal(err)
	}
	m, probs, err := Load([]string{"node-x=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pods) != 5 {
		t.Errorf("got %d pods, want 5: %+v", len(m.Pods), m.Pods)
	}
	wantSkipped := []string{filepath.Join(dir, "capture.pcap"), filepath.Join(dir, "notes.txt")}
	if diff := cmp.Diff(wantSkipped, m.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	found := false
	for _, p := range probs {
		if p.File == dir && p.Msg == "2 file(s) skipped: not cluster metadata" {
			found = true
		}
	}
	if !found {
		t.Errorf("no problem counting the skipped files: %v", probs)
	}
	for _, f := range m.Files {
		if f.Node != "node-x" {
			t.Errorf("%s: node %q, want node-x from the NODE=DIR prefix", f.Path, f.Node)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	txt := write(t, dir, "notes.txt", "nothing to see\n")
	if _, _, err := Load([]string{txt}); err == nil || !strings.Contains(err.Error(), txt) {
		t.Errorf("an unknown file named explicitly: got %v, want an error naming it", err)
	}
	missing := filepath.Join(dir, "missing.json")
	if _, _, err := Load([]string{missing}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("a missing file: got %v, want an error naming it", err)
	}
	// A broken document is a problem naming the file and the document; the others are read.
	bad := write(t, dir, "bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {podIP: 10.1.1.1}\n---\napiVersion: v1\nkind: Pod\nmetadata: [unclosed\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: c}\nstatus: {podIP: not-an-ip}\n")
	m, probs, err := Load([]string{bad})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pods) != 1 || m.Pods[0].Name != "a" || m.Pods[0].Namespace != "default" {
		t.Errorf("pods: %+v, want default/a only", m.Pods)
	}
	if len(probs) != 2 {
		t.Fatalf("problems: %v, want 2", probs)
	}
	for _, p := range probs {
		if p.File != bad {
			t.Errorf("problem %q names %q, want %q", p.Msg, p.File, bad)
		}
	}
	if !strings.Contains(probs[0].Msg, "document 3: Pod: default/c: status.podIPs") || !strings.Contains(probs[1].Msg, "document 2") {
		t.Errorf("problems: %v", probs)
	}
}

func TestLoadDuplicates(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.json", podsJSON)
	b := write(t, dir, "b.json", podsJSON)
	m, probs, err := Load([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pods) != 2 {
		t.Errorf("pods: %d, want 2 (duplicates dropped)", len(m.Pods))
	}
	n := 0
	for _, p := range probs {
		if strings.Contains(p.Msg, "given again (first in "+a+")") && p.File == b {
			n++
		}
	}
	if n != 2 {
		t.Errorf("problems: %v, want 2 saying the pods of %s were given again", probs, b)
	}
}

func TestSplitNode(t *testing.T) {
	dir := t.TempDir()
	odd := write(t, dir, "x=y.txt", "")
	for _, c := range []struct{ in, node, path string }{
		{"node-a=/tmp/f", "node-a", "/tmp/f"},
		{odd, "", odd},
		{"/no/such=file", "", "/no/such=file"},
		{"plain", "", "plain"},
	} {
		n, p := SplitNode(c.in)
		if n != c.node || p != c.path {
			t.Errorf("SplitNode(%q) = %q, %q; want %q, %q", c.in, n, p, c.node, c.path)
		}
	}
}

func TestDetect(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{podsJSON, "objects"},
		{podsYAML, "objects"},
		{podsMultiDoc, "objects"},
		{"\xef\xbb\xbf{\"kind\": \"Pod\"}", "objects"},
		{"hello\n", ""},
		{"", ""},
		{"kind: Pod\x00\x00", ""},
		{"items:\n- apiVersion: v1\n", ""}, // not a top-level field
		{`[{"ifindex": 1, "ifname": "lo", "linkinfo": {"info_kind": "vxlan"}}]`, ""}, // ip -d -j addr
		{`[{"apiVersion": "v1", "kind": "Pod"}]`, "objects"},
	} {
		if got := Detect([]byte(c.in)); got != c.want {
			t.Errorf("Detect(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzAdd feeds arbitrary content to the loader: it must never panic, and whatever it reads must
// name the file.
func FuzzAdd(f *testing.F) {
	for _, s := range []string{podsJSON, podsYAML, podsMultiDoc, "apiVersion: v1\nkind: List\nitems: [1, \"x\", null, {kind: Pod}]\n",
		`[{"kind":"Pod","metadata":{"name":"x"},"status":{"podIPs":[{"ip":"::1"}]}}]`, "kind: Pod\nmetadata: {name: &a [*a]}\n"} {
		f.Add([]byte(s))
	}
	seeds, _ := filepath.Glob("testdata/*")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := New()
		probs, _ := m.Add("fuzz.yaml", "n", data)
		probs = append(probs, m.Finish()...)
		for _, p := range probs {
			if p.File != "fuzz.yaml" {
				t.Errorf("problem %q names %q", p.Msg, p.File)
			}
		}
		for _, p := range m.Pods {
			if p.Source != "fuzz.yaml" {
				t.Errorf("pod %s from %q", p.Key(), p.Source)
			}
		}
		m.Ifaces("")
		m.CheckIfaces("")
		for i := range m.Nodes {
			m.Nodes[i].HostIPs()
		}
	})
}

// A file named explicitly that is no metadata: the error names every kind Load reads, the `ip`
// dumps as well as the objects, so whoever mistyped a path learns what to give instead.
func TestLoadUnrecognisedNamesEveryKind(t *testing.T) {
	p := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(p, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Load([]string{p})
	if err == nil {
		t.Fatal("no error for a file that is not metadata")
	}
	for _, f := range formats {
		want := f.name
		if f.name == "objects" {
			want = "kubectl or calicoctl JSON/YAML"
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}
