package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// labDir holds the lab's real-kernel scenarios, one directory each with a truth.json.
const labDir = "../testdata/lab/scenarios"

// genScenarios are generator scenarios: deterministic for their seed.
var genScenarios = map[string]func() gen.Config{
	"gen-healthy-ipip": func() gen.Config {
		c := gen.DefaultConfig()
		c.Seed, c.Packets, c.Flows = 1, 200, 5
		return c
	},
	"gen-lossy-ipip-skew": func() gen.Config {
		c := gen.DefaultConfig()
		c.Seed, c.Packets, c.Flows = 2, 200, 5
		c.LossPerHop = 0.05
		c.ClockOffset = map[string]time.Duration{"node-2": 4 * time.Millisecond}
		return c
	},
	"gen-vxlan-dnat": func() gen.Config {
		c := gen.DefaultConfig()
		c.Seed, c.Packets, c.Flows = 3, 200, 6
		c.Mode = gen.ModeVXLAN
		c.DNAT = 0.5
		c.Nodes = 3
		return c
	},
	"gen-bgp-dup": func() gen.Config {
		c := gen.DefaultConfig()
		c.Seed, c.Packets, c.Flows = 4, 150, 4
		c.Mode = gen.ModeBGP
		c.DupRate = 0.05
		c.RetransRate = 0.05
		return c
	},
}

// scenario correlates one sample scenario, with the working directory set to its captures so that
// file names in the report are relative and the output does not depend on where it ran.
func scenario(t *testing.T, name string) *correlate.Result {
	t.Helper()
	return correlate.Correlate(scenarioCapture(t, name), correlate.Options{})
}

// scenarioCapture loads one sample scenario's captures as scenario does, for a test that correlates
// them with other options.
func scenarioCapture(t *testing.T, name string) *decode.Capture {
	t.Helper()
	var dir string
	var files []string
	pc := decode.PointConfig{}
	if cfg, ok := genScenarios[name]; ok {
		dir = t.TempDir()
		c := cfg()
		c.Dir = dir
		if _, err := gen.Generate(c); err != nil {
			t.Fatal(err)
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".pcap") {
				files = append(files, e.Name())
			}
		}
	} else {
		dir = filepath.Join(filepath.Dir(goldenRoot), labDir, name)
		files = labFiles(t, dir)
		pc.Links = labLinks(t, dir)
	}
	sort.Strings(files)
	t.Chdir(dir)
	return decode.Load(files, decode.Options{VXLANPort: decode.DefaultVXLANPort}, pc)
}

// labFiles returns a lab scenario's per-interface captures as its truth.json lists them (not the
// "-i any" or multi-interface captures of the same traffic); in an any-only scenario, whose truth
// lists each interface of a -i any file as a point of that file, the -i any files.
func labFiles(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s has no truth.json: a capture that did not finish?", dir)
	}
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
	seen := map[string]bool{}
	for _, p := range tr.Points {
		if p.Iface != "any" && p.File != "" && !strings.Contains(p.File, "/") && !seen[p.File] {
			seen[p.File] = true
			out = append(out, p.File)
		}
	}
	return out
}

// labLinks reads the `ip -o link` dumps an any-only scenario's truth.json lists (--links), or nil.
func labLinks(t *testing.T, dir string) map[string]map[int32]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		Links []struct{ Node, File string } `json:"links"`
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Links) == 0 {
		return nil
	}
	out := map[string]map[int32]string{}
	for _, l := range tr.Links {
		f, err := os.Open(filepath.Join(dir, l.File))
		if err != nil {
			t.Fatal(err)
		}
		out[l.Node], err = decode.ParseIPLink(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", l.File, err)
		}
	}
	return out
}

// labInputs ties a lab scenario's golden files to its captures: testdata/TestGolden/<name>.inputs
// holds the SHA-256 of the input files. The lab re-captures scenarios (real kernels give new bytes
// each run); goldens written for other captures, or not written yet, fail the scenario with the
// reason (never a silent skip). -update writes the digest with the goldens.
func labInputs(t *testing.T, name string) {
	t.Helper()
	dir := filepath.Join(filepath.Dir(goldenRoot), labDir, name)
	h := sha256.New()
	for _, f := range labFiles(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	sum := hex.EncodeToString(h.Sum(nil)) + "\n"
	p := filepath.Join(goldenRoot, "TestGolden", name+".inputs")
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(sum), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		t.Fatalf("lab scenario %s has no golden files yet: write them with go test ./report -update and review them", name)
	case err != nil:
		t.Fatal(err)
	case string(old) != sum:
		t.Fatalf("lab scenario %s was re-captured after its golden files were written: rewrite them with go test ./report -update and review the diff", name)
	}
}

// labScenarios lists the lab scenarios present.
func labScenarios() []string {
	ents, _ := os.ReadDir(labDir)
	var out []string
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(labDir, e.Name(), "truth.json")); e.IsDir() && err == nil {
			out = append(out, e.Name())
		}
	}
	return out
}

func allScenarios() []string {
	var out []string
	for n := range genScenarios {
		out = append(out, n)
	}
	sort.Strings(out)
	return append(out, labScenarios()...)
}

var formatExt = map[Format]string{Text: "txt", Markdown: "md", HTML: "html", JSON: "json"}

// render prints res in format f with the defaults the CLI uses (no colour).
func render(t *testing.T, res *correlate.Result, f Format, opts ...Option) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := New(&b, append([]Option{WithFormat(f)}, opts...)...).Print(res); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGolden renders every sample scenario in every format, checks that rendering twice gives the
// same bytes, and compares with testdata/TestGolden/<scenario>.<ext> (go test -update rewrites).
func TestGolden(t *testing.T) {
	for _, name := range allScenarios() {
		t.Run(name, func(t *testing.T) {
			if genScenarios[name] == nil {
				labInputs(t, name)
			}
			res := scenario(t, name)
			for _, f := range []Format{Text, Markdown, HTML, JSON} {
				got := render(t, res, f)
				if again := render(t, res, f); !bytes.Equal(got, again) {
					t.Errorf("%s: two renderings differ", f)
				}
				checkGolden(t, filepath.Join("TestGolden", name+"."+formatExt[f]), got)
			}
		})
	}
}

// checkGolden compares got with the golden file testdata/path.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	// The test changed directory; golden files live beside this file.
	p := filepath.Join(goldenRoot, path)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Errorf("%v (run go test ./report -update)", err)
		return
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("%s differs from line %d:\n-want %q\n+got  %q\n(go test ./report -update rewrites)", path, i+1,
					cut(w, 160), cut(g, 160))
				return
			}
		}
	}
}

var goldenRoot = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Join(wd, "testdata")
}()
