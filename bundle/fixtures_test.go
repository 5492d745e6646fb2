package bundle

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/google/go-cmp/cmp"
)

// fixtures: testdata/bundles (built by its make.sh from lab captures).
const fixtures = "../testdata/bundles"

// expandLoad reads args as calipath does: bundles expanded, their identities and names in the point
// configuration, captures opened through Open.
func expandLoad(t *testing.T, args []string, opts Options) (*Set, *correlate.Result) {
	t.Helper()
	s := Expand(args, opts)
	cfg := decode.PointConfig{Explicit: s.Explicit, Why: s.Why, Pods: s.Pods, Links: s.Links, LinksFrom: s.LinksFrom}
	for _, d := range s.Drops {
		cfg.Drops = append(cfg.Drops, decode.CaptureDrop{Path: d.Path, File: -1, Iface: -1, Dropped: d.Dropped, From: d.From})
	}
	return s, correlate.Correlate(decode.Load(s.Paths, decode.Options{Open: Open}, cfg), correlate.Options{})
}

// comparable returns a Result's JSON with what names the files and says how points were identified
// (reason, more_reasons) left out, and file names mapped by rename: what must be equal between a
// bundle and the plain captures it holds.
func comparable(t *testing.T, r *correlate.Result, rename map[string]string) any {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "reason" || k == "more_reasons" || k == "files" || k == "file" || k == "inputs" || (k == "frame" && rename[frameKey] != "") {
					delete(x, k)
					continue
				}
				x[k] = walk(e)
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case string:
			for from, to := range rename {
				x = strings.ReplaceAll(x, from, to)
			}
			return x
		}
		return v
	}
	return walk(v)
}

// frameKey in a rename map leaves frame numbers out (a capture whose frames were merged into one file).
const frameKey = "\x00frames"

// extract copies a capture Expand listed (a tarball entry) into dir as name.
func extract(t *testing.T, p, dir, name string) string {
	t.Helper()
	r, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := filepath.Join(dir, name)
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, r); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The Retina bundle (two tarballs and the nodes' list) gives what the plain -i any captures it holds
// give with --links from the same nodes' `ip -o link`: every point, journey, flow and anomaly.
func TestRetinaFixture(t *testing.T) {
	dir := filepath.Join(fixtures, "retina")
	s, got := expandLoad(t, []string{dir}, Options{})
	if len(s.Problems) != 0 || s.Skipped != 0 {
		t.Errorf("problems %q, skipped %d", s.Problems, s.Skipped)
	}
	if len(s.Paths) != 2 || len(s.Meta) != 1 {
		t.Fatalf("paths %q, meta %q", s.Paths, s.Meta)
	}
	tmp := t.TempDir()
	cfg := decode.PointConfig{Links: map[string]map[int32]string{}}
	rename := map[string]string{}
	var plain []string
	for _, p := range s.Paths {
		node := s.Explicit[p].Node
		if node != "node-a" && node != "node-b" {
			t.Fatalf("%s: node %q", p, node)
		}
		if want := "any"; s.Explicit[p].Iface != want {
			t.Errorf("%s: iface %q", p, s.Explicit[p].Iface)
		}
		plain = append(plain, extract(t, p, tmp, node+"-any.pcap"))
		rename[p] = filepath.Join(tmp, node+"-any.pcap")
		f, err := os.Open(filepath.Join(fixtures, "retina-links", node+"-links.txt"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Links[node], err = decode.ParseIPLink(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(cfg.Links[node], s.Links[node]); d != "" {
			t.Errorf("%s: interface names (-ip -o link +ip-resources.txt):\n%s", node, d)
		}
	}
	want := correlate.Correlate(decode.Load(plain, decode.Options{}, cfg), correlate.Options{})
	if d := cmp.Diff(comparable(t, want, nil), comparable(t, got, rename)); d != "" {
		t.Errorf("Retina bundle vs plain captures (-plain +bundle):\n%s", d)
	}
	if got.Summary.Lost == 0 || len(got.Anomalies) == 0 {
		t.Errorf("the underlay drop is not there: %+v", got.Summary)
	}
	// ip-resources.txt: each node's whole file, for its routes and neighbours.
	if len(s.NodeDumps) != 2 {
		t.Fatalf("node dumps %d, want 2", len(s.NodeDumps))
	}
	for _, d := range s.NodeDumps {
		if d.File != s.LinksFrom[d.Node] || !strings.HasSuffix(d.File, "!/ip-resources.txt") ||
			!strings.Contains(string(d.Data), "/usr/sbin/ip route show table all") {
			t.Errorf("node dump of %s from %s (%d bytes)", d.Node, d.File, len(d.Data))
		}
	}
	// tcpdump.log: the captures dropped nothing.
	if len(s.Drops) != 2 || s.Drops[0].Dropped != 0 || !strings.HasSuffix(s.Drops[0].From, "!/tcpdump.log") {
		t.Errorf("drops %+v", s.Drops)
	}
}

// The PacketCapture tree (node-a's endpoint in a rotated piece and the active file) gives what the
// lab's plain pod-veth captures give.
func TestPacketCaptureFixture(t *testing.T) {
	s, got := expandLoad(t, []string{filepath.Join(fixtures, "packetcapture")}, Options{})
	if len(s.Problems) != 0 || s.Skipped != 0 || len(s.Paths) != 3 {
		t.Fatalf("problems %q, skipped %d, paths %q", s.Problems, s.Skipped, s.Paths)
	}
	pods := map[string]bool{}
	for _, p := range s.Paths {
		pods[s.Pods[p]+" "+s.Explicit[p].Node+"/"+s.Explicit[p].Iface] = true
	}
	wantPods := map[string]bool{"default/pod-a node-a/cali5e1c4d6c68c": true, "default/pod-b node-b/cali2f5353dd8c5": true}
	if d := cmp.Diff(wantPods, pods); d != "" {
		t.Errorf("pods (-want +got):\n%s", d)
	}
	if len(got.Points) != 2 {
		t.Errorf("the rotated pieces are not one point: %d points", len(got.Points))
	}
	// The endpoints' pods are the points' (the plain captures, without --k8s, have none).
	wantPoint := map[string]string{"node-a/cali5e1c4d6c68c": "default/pod-a", "node-b/cali2f5353dd8c5": "default/pod-b"}
	if d := cmp.Diff(wantPoint, takePods(got)); d != "" {
		t.Errorf("points' pods (-want +got):\n%s", d)
	}
	lab := "../testdata/lab/scenarios/healthy-ipip/"
	plain := []string{lab + "node-a-cali5e1c4d6c68c.pcap", lab + "node-b-cali2f5353dd8c5.pcap"}
	want := correlate.Correlate(decode.Load(plain, decode.Options{}, decode.PointConfig{}), correlate.Options{})
	if d := cmp.Diff(comparable(t, want, nil), comparable(t, got, nil)); d != "" {
		t.Errorf("PacketCapture tree vs plain captures (-plain +tree):\n%s", d)
	}
	if got.Summary.Journeys == 0 {
		t.Errorf("no packets: %+v", got.Summary)
	}
}

// The Gadget-style pcapng (one interface per pod, described "Node: …, Namespace: …, Pod: …") gives
// what the lab's plain pod-veth captures of the same frames give, its points named after the pods.
func TestGadgetFixture(t *testing.T) {
	s, got := expandLoad(t, []string{filepath.Join(fixtures, "gadget")}, Options{})
	if len(s.Problems) != 0 || s.Skipped != 0 || len(s.Paths) != 1 {
		t.Fatalf("problems %q, skipped %d, paths %q", s.Problems, s.Skipped, s.Paths)
	}
	var ids []string
	for _, p := range got.Points {
		ids = append(ids, p.ID)
	}
	if d := cmp.Diff([]string{"node-a/pod-eth0:default/pod-a", "node-b/pod-eth0:default/pod-b"}, ids); d != "" {
		t.Errorf("points (-want +got):\n%s", d)
	}
	lab := "../testdata/lab/scenarios/healthy-ipip/"
	plain := []string{lab + "node-a-cali5e1c4d6c68c.pcap", lab + "node-b-cali2f5353dd8c5.pcap"}
	want := correlate.Correlate(decode.Load(plain, decode.Options{}, decode.PointConfig{}), correlate.Options{})
	wantPoint := map[string]string{"node-a/pod-eth0:default/pod-a": "default/pod-a", "node-b/pod-eth0:default/pod-b": "default/pod-b"}
	if d := cmp.Diff(wantPoint, takePods(got)); d != "" {
		t.Errorf("points' pods (-want +got):\n%s", d)
	}
	// Its name records name the pods' addresses (the plain captures name none).
	if len(got.Names) != 2 || got.Names[0].Kind != "dns" || got.Names[0].Name != "10-244-1-5.default.pod" {
		t.Errorf("names %+v", got.Names)
	}
	got.Names = nil
	rename := map[string]string{"pod-eth0:default/pod-a": "cali5e1c4d6c68c", "pod-eth0:default/pod-b": "cali2f5353dd8c5", frameKey: "y"}
	if d := cmp.Diff(comparable(t, want, map[string]string{frameKey: "y"}), comparable(t, got, rename)); d != "" {
		t.Errorf("Gadget pcapng vs plain captures (-plain +gadget):\n%s", d)
	}
}

// takePods returns the points' pods by point and clears them (for a comparison with captures that
// name none).
func takePods(r *correlate.Result) map[string]string {
	out := map[string]string{}
	for i := range r.Points {
		if r.Points[i].Pod != "" {
			out[r.Points[i].ID] = r.Points[i].Pod
			r.Points[i].Pod = ""
		}
	}
	return out
}
