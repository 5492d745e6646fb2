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
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/internal/gen"
)

var updateDemo = flag.Bool("update-demo", false, "rewrite the demo captures in demo/ from their sources")

// demoSources says where each embedded demo scenario comes from: a generator configuration. The
// embedded files must stay byte-identical to what it writes.
func demoSources() map[string]func(dir string) gen.Config {
	return map[string]func(dir string) gen.Config{
		"healthy-ipip": func(dir string) gen.Config {
			c := gen.DefaultConfig()
			c.Seed, c.Dir, c.Packets, c.Flows = 1, dir, 240, 6
			return c
		},
		"lossy-ipip": func(dir string) gen.Config {
			c := gen.DefaultConfig()
			c.Seed, c.Dir, c.Packets, c.Flows = 2, dir, 240, 6
			c.LossPerHop = 0.04
			c.ClockOffset = map[string]time.Duration{"node-2": 3 * time.Millisecond}
			return c
		},
	}
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

// TestDemoCaptures checks the embedded captures against their sources, byte for byte.
func TestDemoCaptures(t *testing.T) {
	srcs := demoSources()
	if got := demoScenarios(); len(got) != len(srcs) {
		t.Errorf("embedded scenarios %v, sources for %d", got, len(srcs))
	}
	for name, cfg := range srcs {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			c := cfg(dir)
			c.TruthJSONL = ""
			if _, err := gen.Generate(c); err != nil {
				t.Fatal(err)
			}
			emb := filepath.Join("demo", name)
			if *updateDemo {
				os.RemoveAll(emb)
				if err := os.MkdirAll(emb, 0o755); err != nil {
					t.Fatal(err)
				}
				for _, f := range listDir(t, dir) {
					b, err := os.ReadFile(filepath.Join(dir, f))
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(emb, f), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			want, got := listDir(t, dir), listDir(t, emb)
			if strings.Join(want, " ") != strings.Join(got, " ") {
				t.Fatalf("embedded files %v, source writes %v (go test -run TestDemoCaptures -update-demo)", got, want)
			}
			for _, f := range want {
				a, _ := os.ReadFile(filepath.Join(dir, f))
				b, err := demoFS.ReadFile("demo/" + name + "/" + f)
				if err != nil || !bytes.Equal(a, b) {
					t.Errorf("%s/%s: embedded copy differs from its source (err %v)", name, f, err)
				}
			}
		})
	}
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
	paths, err := extractDemo(dir, []string{scenario})
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
	lossy := demoFiles(t, "lossy-ipip")
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
		{"fail-on kind found", append([]string{"report", "--fail-on", "loss"}, lossy...), 3, "found loss"},
		{"fail-on severity found", append([]string{"report", "--fail-on", "warning"}, lossy...), 3, "found"},
		{"fail-on info found", append([]string{"report", "--fail-on", "info", "--format", "json"}, lossy...), 3, "clock-skew"},
		{"fail-on filtered away", append([]string{"report", "--fail-on", "loss", "--flow", "kind clock-skew"}, lossy...), 0, ""},
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
	lossy := demoFiles(t, "lossy-ipip")
	out := filepath.Join(t.TempDir(), "r.html")
	code, stdout, stderr := runCmd(t, append([]string{"report", "--format", "html", "-o", out}, lossy...)...)
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
	code, _, stderr = runCmd(t, append([]string{"report", "-o", filepath.Join(t.TempDir(), "no", "such", "r.txt")}, lossy...)...)
	if code != 1 || !strings.Contains(stderr, "no such") {
		t.Errorf("write into a missing directory: exit %d, stderr %s", code, stderr)
	}

	code, stdout, _ = runCmd(t, append([]string{"report", "--format", "json", "--flow", "proto udp"}, lossy...)...)
	var res correlate.Result
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil {
		t.Fatalf("json: exit %d", code)
	}
	if len(res.Flows) == 0 {
		t.Fatal("no UDP flow in the lossy demo")
	}
	for _, f := range res.Flows {
		if f.Proto != "udp" {
			t.Errorf("--flow 'proto udp' kept flow %s (%s)", f.ID, f.Proto)
		}
	}

	code, stdout, _ = runCmd(t, append([]string{"report"}, lossy...)...)
	if code != 0 || !strings.Contains(stdout, "Anomalies (most severe first)") || strings.Contains(stdout, "\x1b[") {
		t.Errorf("text report to a buffer: exit %d, colour or sections wrong:\n%s", code, stdout)
	}
	for i, l := range strings.Split(stdout, "\n") {
		if n := len([]rune(l)); n > 100 {
			t.Errorf("line %d is %d columns: %q", i+1, n, l)
		}
	}
}

func TestDemo(t *testing.T) {
	code, stdout, stderr := runCmd(t, "demo")
	if code != 0 || !strings.Contains(stdout, "calipath report") || !strings.Contains(stdout, "loss") {
		t.Errorf("demo: exit %d, stderr %s, stdout:\n%s", code, stderr, stdout)
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
		if !strings.Contains(stdout, sc) {
			t.Errorf("--extract output does not name %s", sc)
		}
	}
}
