package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
)

var updateDemo = flag.Bool("update-demo", false, "copy the demo captures into demo/ from the lab scenarios")

// labScenarios is where the lab's real-kernel captures live.
const labScenarios = "../../testdata/lab/scenarios"

// labCaptures returns the per-interface capture files of a lab scenario, as its truth.json lists them
// (not the "-i any" or multi-interface captures of the same traffic).
func labCaptures(t *testing.T, scenario string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(labScenarios, scenario, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		Points []struct{ Iface, File string } `json:"points"`
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range tr.Points {
		if p.Iface != "any" && isCaptureName(p.File) && filepath.Base(p.File) == p.File {
			out = append(out, p.File)
		}
	}
	sort.Strings(out)
	return out
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if isCaptureName(e.Name()) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// TestDemoCaptures checks that the embedded captures are byte-identical to the lab originals.
func TestDemoCaptures(t *testing.T) {
	scs := demoScenarios()
	if len(scs) < 2 {
		t.Fatalf("embedded scenarios %v, want a healthy and a broken one", scs)
	}
	for _, name := range scs {
		t.Run(name, func(t *testing.T) {
			want := labCaptures(t, name)
			emb := filepath.Join("demo", name)
			if *updateDemo {
				for _, f := range listDir(t, emb) {
					os.Remove(filepath.Join(emb, f))
				}
				for _, f := range want {
					b, err := os.ReadFile(filepath.Join(labScenarios, name, f))
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(emb, f), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			if got := listDir(t, emb); strings.Join(want, " ") != strings.Join(got, " ") {
				t.Fatalf("embedded files %v, the lab has %v (go test ./cmd/calipath -run TestDemoCaptures -update-demo)", got, want)
			}
			for _, f := range want {
				a, err1 := os.ReadFile(filepath.Join(labScenarios, name, f))
				b, err2 := demoFS.ReadFile("demo/" + name + "/" + f)
				if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
					t.Errorf("%s/%s: the embedded copy differs from the lab original (errors %v, %v)", name, f, err1, err2)
				}
			}
			// The scenario's cluster metadata (k8s/), copied from the lab's.
			labMeta, embMeta := filepath.Join(labScenarios, name, demoMetaDir), filepath.Join(emb, demoMetaDir)
			wantMeta := plainFiles(t, labMeta)
			if *updateDemo {
				os.RemoveAll(embMeta)
				if len(wantMeta) > 0 {
					if err := os.MkdirAll(embMeta, 0o755); err != nil {
						t.Fatal(err)
					}
				}
				for _, f := range wantMeta {
					b, err := os.ReadFile(filepath.Join(labMeta, f))
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(embMeta, f), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			if got := plainFiles(t, embMeta); strings.Join(wantMeta, " ") != strings.Join(got, " ") {
				t.Fatalf("embedded metadata %v, the lab has %v (go test ./cmd/calipath -run TestDemoCaptures -update-demo)", got, wantMeta)
			}
			for _, f := range wantMeta {
				a, err1 := os.ReadFile(filepath.Join(labMeta, f))
				b, err2 := demoFS.ReadFile("demo/" + name + "/" + demoMetaDir + "/" + f)
				if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
					t.Errorf("%s/%s/%s: the embedded copy differs from the lab original (errors %v, %v)", name, demoMetaDir, f, err1, err2)
				}
			}
		})
	}
}

// plainFiles lists the regular files of dir, sorted; none when dir does not exist.
func plainFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func demoFiles(t *testing.T, scenario string) []string {
	t.Helper()
	dir := t.TempDir()
	paths, err := extractDemo(dir, []string{scenario}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths[scenario]) == 0 {
		t.Fatalf("no captures for %s", scenario)
	}
	return paths[scenario]
}

func TestReportExitCodes(t *testing.T) {
	healthy := demoFiles(t, "healthy-ipip")
	broken := demoFiles(t, demoDefault)
	truncated := filepath.Join("..", "..", "testdata", "broken", "truncated-record.pcap")
	cases := []struct {
		name string
		args []string
		code int
		err  string // substring of stderr
	}{
		{"healthy", append([]string{"report", "-q"}, healthy...), 0, ""},
		{"fail-on kind not found", append([]string{"report", "--fail-on", "underlay-drop,loss"}, healthy...), 0, ""},
		{"fail-on error not found", append([]string{"report", "--fail-on", "error"}, healthy...), 0, ""},
		{"fail-on kind found", append([]string{"report", "--fail-on", "loss,pmtu-blackhole"}, broken...), 3, "found pmtu-blackhole"},
		{"fail-on error found", append([]string{"report", "--fail-on", "error"}, broken...), 3, "found pmtu-blackhole\n"},
		{"fail-on warning found", append([]string{"report", "--fail-on", "warning", "--format", "json"}, broken...), 3,
			"found pmtu-blackhole, retransmission"},
		{"fail-on other kind", append([]string{"report", "--fail-on", "underlay-drop"}, broken...), 0, ""},
		{"fail-on filtered away", append([]string{"report", "--fail-on", "pmtu-blackhole", "--flow", "kind retransmission"}, broken...), 0, ""},
		{"skipped input", append([]string{"report"}, append(healthy, truncated)...), 1, "truncated"},
		{"bad format", append([]string{"report", "--format", "pdf"}, healthy...), 2, "format"},
		{"bad filter", append([]string{"report", "--flow", "port"}, healthy...), 2, "--flow"},
		{"no files", []string{"report"}, 2, "no capture files"},
		{"output is input", append([]string{"report", "-o", healthy[0]}, healthy...), 2, "one of the inputs"},
		{"demo bad scenario", []string{"demo", "--scenario", "nope"}, 2, "no scenario"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, c.code, stderr)
			}
			if c.err != "" && !strings.Contains(stderr, c.err) {
				t.Errorf("stderr lacks %q:\n%s", c.err, stderr)
			}
		})
	}
}

func TestReportFormatsAndOutput(t *testing.T) {
	broken := demoFiles(t, demoDefault)
	out := filepath.Join(t.TempDir(), "r.html")
	code, stdout, stderr := runCmd(t, append([]string{"report", "--format", "html", "-o", out}, broken...)...)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) || !bytes.Contains(b, []byte("<svg")) {
		t.Fatalf("html output: err %v, %d bytes", err, len(b))
	}
	ents, _ := os.ReadDir(filepath.Dir(out))
	if len(ents) != 1 {
		t.Errorf("output directory holds %d entries, want only the report", len(ents))
	}
	// A failed write leaves nothing behind: the directory does not exist.
	code, _, stderr = runCmd(t, append([]string{"report", "-o", filepath.Join(t.TempDir(), "no", "such", "r.txt")}, broken...)...)
	if code != 1 || !strings.Contains(stderr, "no such") {
		t.Errorf("write into a missing directory: exit %d, stderr %s", code, stderr)
	}

	code, stdout, _ = runCmd(t, append([]string{"report", "--format", "json", "--flow", "proto udp"}, broken...)...)
	var res correlate.Result
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil {
		t.Fatalf("json: exit %d", code)
	}
	if len(res.Flows) == 0 {
		t.Fatal("no UDP flow in the broken demo")
	}
	for _, f := range res.Flows {
		if f.Proto != "udp" {
			t.Errorf("--flow 'proto udp' kept flow %s (%s)", f.ID, f.Proto)
		}
	}

	code, stdout, _ = runCmd(t, append([]string{"report"}, broken...)...)
	if code != 0 || !strings.Contains(stdout, "Anomalies (most severe first)") || strings.Contains(stdout, "\x1b[") {
		t.Errorf("text report to a buffer: exit %d, colour or sections wrong:\n%s", code, stdout)
	}
	for i, l := range strings.Split(stdout, "\n") { // a buffer is no terminal: nothing is cut
		if strings.HasSuffix(l, "…") {
			t.Errorf("line %d is cut: %q", i+1, l)
		}
	}
}

func TestDemo(t *testing.T) {
	code, stdout, stderr := runCmd(t, "demo")
	if code != 0 || !strings.Contains(stdout, "calipath report") || !strings.Contains(stdout, "pmtu-blackhole") {
		t.Errorf("demo: exit %d, stderr %s, stdout:\n%s", code, stderr, stdout)
	}
	// The demo reads its scenario's cluster metadata: pods by name, node IPs from it.
	for _, want := range []string{"default/pod-a (10.244.1.5):", "pod default/pod-b (10.244.2.7)", "node-a is 192.168.10.2 (InternalIP in"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo does not show %q:\n%s", want, stdout)
		}
	}
	dir := t.TempDir()
	code, stdout, _ = runCmd(t, "demo", "--extract", dir)
	if code != 0 {
		t.Fatalf("demo --extract: exit %d", code)
	}
	for _, sc := range demoScenarios() {
		if got := listDir(t, filepath.Join(dir, sc)); len(got) == 0 {
			t.Errorf("%s: nothing extracted", sc)
		}
		if got := plainFiles(t, filepath.Join(dir, sc, demoMetaDir)); len(got) == 0 {
			t.Errorf("%s: no cluster metadata extracted", sc)
		}
		if !strings.Contains(stdout, sc) {
			t.Errorf("--extract output does not name %s", sc)
		}
	}
}
