package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/bundle"
	"github.com/google/go-cmp/cmp"
)

const bundles = "../../testdata/bundles"

// reportJSON parses a report's JSON with what names files and says why a point is identified left
// out (what differs between a bundle and the plain files it holds), strings mapped by rename.
func reportJSON(t *testing.T, out string, rename map[string]string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v: %.300s", err, out)
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "reason" || k == "files" || k == "file" || k == "inputs" {
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

// calipath report DIR on the Retina bundle: no flag, and what the plain captures give with
// --links and --k8s; exit 0 (nothing skipped), the tarballs' leftovers said in a hint.
func TestReportRetinaDir(t *testing.T) {
	code, got, errs := runCLI("report", "--format", "json", bundles+"/retina")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	tmp := t.TempDir()
	rename := map[string]string{}
	tbs, _ := filepath.Glob(bundles + "/retina/*.tar.gz")
	for _, tb := range tbs {
		node := "node-a"
		if strings.Contains(tb, "node-b") {
			node = "node-b"
		}
		inner := strings.TrimSuffix(filepath.Base(tb), ".tar.gz") + ".pcap"
		r, err := bundle.Open(tb + bundle.Sep + inner)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(tmp, node+"-any.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(f, r)
		r.Close()
		f.Close()
		rename[tb+bundle.Sep+inner] = filepath.Join(tmp, node+"-any.pcap")
	}
	code, want, errs := runCLI("report", "--format", "json", "--k8s", bundles+"/retina/nodes.json",
		"--links", "node-a="+bundles+"/retina-links/node-a-links.txt", "--links", "node-b="+bundles+"/retina-links/node-b-links.txt",
		filepath.Join(tmp, "node-a-any.pcap"), filepath.Join(tmp, "node-b-any.pcap"))
	if code != exitOK {
		t.Fatalf("plain: exit %d: %s", code, errs)
	}
	if d := cmp.Diff(reportJSON(t, want, nil), reportJSON(t, got, rename)); d != "" {
		t.Errorf("report of the bundle vs the plain captures (-plain +bundle):\n%s", d)
	}
}

// A directory holding what calipath cannot read: skipped, counted, named, exit 1; the captures still read.
func TestReportDirSkipped(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(lab + "/healthy-ipip/node-a-eth0.pcap")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "node-a-eth0.pcap"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "notes.bin"), []byte{0, 1, 2, 3}, 0o644)
	code, out, errs := runCLI("points", dir)
	if code != exitSkipped || !strings.Contains(errs, "notes.bin: neither a capture nor a dump") ||
		!strings.Contains(out, "node-a/eth0") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
}

// -o naming a tarball calipath reads is refused before anything is read.
func TestOutputIsTarball(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(bundles + "/retina/incident-node-a-20261202153500UTC.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	tb := filepath.Join(dir, "incident-node-a-20261202153500UTC.tar.gz")
	os.WriteFile(tb, data, 0o644)
	code, _, errs := runCLI("report", "-o", tb, dir)
	after, _ := os.ReadFile(tb)
	if code != exitUsage || !strings.Contains(errs, "a file of a bundle calipath reads") || string(after) != string(data) {
		t.Errorf("exit %d: %s", code, errs)
	}
}

// explanations collects the explained_by entries of a report's JSON, in order.
func explanations(v any) []map[string]any {
	var out []map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ex, ok := x["explained_by"].([]any); ok {
				for _, e := range ex {
					out = append(out, e.(map[string]any))
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// calipath report DIR on a Retina bundle of the state-blackhole-route scenario (make-state.sh): its
// ip-resources.txt gives node-b's routes, so the drop is explained by its blackhole route with no
// flag, citing the tarball's ip-resources.txt and its line, as the plain captures explain it with
// the scenario's dumps given with --k8s (and --links): the same report, but for where the line is.
func TestReportRetinaNodeState(t *testing.T) {
	dir := bundles + "/retina-state"
	code, got, errs := runCLI("report", "--format", "json", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	sc := lab + "/state-blackhole-route"
	tmp := t.TempDir()
	rename := map[string]string{}
	tbs, _ := filepath.Glob(dir + "/*.tar.gz")
	if len(tbs) != 2 {
		t.Fatalf("tarballs %q", tbs)
	}
	for _, tb := range tbs {
		node := "node-a"
		if strings.Contains(tb, "node-b") {
			node = "node-b"
		}
		inner := strings.TrimSuffix(filepath.Base(tb), ".tar.gz") + ".pcap"
		data, err := os.ReadFile(filepath.Join(sc, node+"-any.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(tmp, node+"-any.pcap"), data, 0o644)
		rename[tb+bundle.Sep+inner] = filepath.Join(tmp, node+"-any.pcap")
	}
	args := []string{"report", "--format", "json", "--k8s", dir + "/nodes.json"}
	for _, n := range []string{"node-a", "node-b"} {
		args = append(args, "--links", n+"="+sc+"/"+n+"-links.txt", "--k8s", sc+"/"+n+"-routes.txt", "--k8s", sc+"/"+n+"-neigh.json")
	}
	code, want, errs := runCLI(append(args, filepath.Join(tmp, "node-a-any.pcap"), filepath.Join(tmp, "node-b-any.pcap"))...)
	if code != exitOK {
		t.Fatalf("plain: exit %d: %s", code, errs)
	}
	var wv, gv any
	json.Unmarshal([]byte(want), &wv)
	json.Unmarshal([]byte(got), &gv)
	wex, gex := explanations(wv), explanations(gv)
	if len(wex) == 0 || len(gex) != len(wex) {
		t.Fatalf("explanations: plain %v, bundle %v", wex, gex)
	}
	for i, g := range gex {
		w := wex[i]
		if g["kind"] != w["kind"] || g["node"] != w["node"] || g["text"] != w["text"] || g["why"] != w["why"] {
			t.Errorf("explanation %d: plain %v, bundle %v", i, w, g)
		}
	}
	if g := gex[0]; g["kind"] != "blackhole-route" || g["node"] != "node-b" || g["line"] != 24.0 ||
		g["file"] != dir+"/incident-node-b-20261202160001UTC.tar.gz"+bundle.Sep+"ip-resources.txt" {
		t.Errorf("bundle's explanation %v, want node-b's blackhole route at its ip-resources.txt:24", g)
	}
	// Apart from where the lines are, the reports are the same.
	strip := func(ex []map[string]any) {
		for _, e := range ex {
			delete(e, "line")
			delete(e, "entry")
		}
	}
	wj, gj := reportJSON(t, want, nil), reportJSON(t, got, rename)
	strip(explanations(wj))
	strip(explanations(gj))
	if d := cmp.Diff(wj, gj); d != "" {
		t.Errorf("report of the bundle vs the plain captures (-plain +bundle):\n%s", d)
	}
}
