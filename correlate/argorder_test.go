package correlate

import (
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/google/go-cmp/cmp"
)

// argOrderShape is one way the lab's captures are given (as the lab tests and the lab outputs give
// them): every file, the per-interface files, the -i any files (with each node's links file or
// without), the pcapng; each with the scenario's cluster metadata (k8s/) or without.
type argOrderShape struct {
	name  string
	files []string
	links bool
	k8s   bool
}

// argOrderShapes lists the shapes a lab scenario's directory gives.
func argOrderShapes(t *testing.T, dir string) []argOrderShape {
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	ngs, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
	links, _ := filepath.Glob(filepath.Join(dir, "*-links.txt"))
	_, err := os.Stat(filepath.Join(dir, "k8s"))
	hasK8s := err == nil
	var iface, anyf []string
	for _, f := range pcaps {
		if strings.HasSuffix(f, "-any.pcap") {
			anyf = append(anyf, f)
		} else {
			iface = append(iface, f)
		}
	}
	var out []argOrderShape
	add := func(name string, files []string, links bool) {
		if len(files) < 2 {
			return // one file has one order
		}
		out = append(out, argOrderShape{name: name, files: files, links: links})
		if hasK8s {
			out = append(out, argOrderShape{name: name + "-k8s", files: files, links: links, k8s: true})
		}
	}
	add("all", append(append([]string{}, pcaps...), ngs...), false)
	add("iface", iface, false)
	add("any", anyf, false)
	if len(links) > 0 {
		add("any-links", anyf, true)
	}
	add("pcapng", ngs, false)
	return out
}

// argOrderConfig builds the point configuration and options of a shape, as the command does from
// --links and --k8s.
func argOrderConfig(t *testing.T, dir string, s argOrderShape) (decode.PointConfig, Options) {
	cfg := decode.PointConfig{}
	if s.links {
		links, _ := filepath.Glob(filepath.Join(dir, "*-links.txt"))
		cfg.Links = map[string]map[int32]string{}
		for _, l := range links {
			f, err := os.Open(l)
			if err != nil {
				t.Fatal(err)
			}
			node := strings.TrimSuffix(filepath.Base(l), "-links.txt")
			cfg.Links[node], err = decode.ParseIPLink(f)
			f.Close()
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
		}
	}
	opts := Options{Journeys: true}
	if s.k8s {
		cfg, opts.Cluster = labK8sConfig(t, dir, cfg)
	}
	return cfg, opts
}

// argOrderJSON correlates files in the order given and returns the Result as JSON with the inputs
// table sorted by file: the table lists the files as they were given (the one part of the Result that
// may follow the arguments' order); everything else must not.
func argOrderJSON(t *testing.T, files []string, cfg decode.PointConfig, opts Options) any {
	t.Helper()
	r := Correlate(decode.Load(files, decode.Options{}, cfg), opts)
	sort.SliceStable(r.Inputs, func(i, j int) bool { return r.Inputs[i].File < r.Inputs[j].File })
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestLabArgumentOrder runs every lab scenario (scenarios/ and scenarios-pending/) in every shape with
// its files in sorted order, in reversed order and in a fixed shuffled order, and checks that the
// Result (journeys included) is the same but for the inputs table's order. A verdict that changes with
// the order files are listed in is a confident wrong answer in one of the orders: before this test,
// router-three-ifaces-drop given every file with its k8s/ placed the drop by which file came first.
func TestLabArgumentOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: every lab scenario three times in every shape")
	}
	var dirs []string
	for _, g := range []string{"../testdata/lab/scenarios/*", "../testdata/lab/scenarios-pending/*"} {
		d, _ := filepath.Glob(g)
		for _, d := range d {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				dirs = append(dirs, d)
			}
		}
	}
	if len(dirs) == 0 {
		t.Fatal("no lab scenarios under ../testdata/lab")
	}
	for _, dir := range dirs {
		for _, s := range argOrderShapes(t, dir) {
			t.Run(filepath.Base(dir)+"/"+s.name, func(t *testing.T) {
				cfg, opts := argOrderConfig(t, dir, s)
				sorted := append([]string{}, s.files...)
				sort.Strings(sorted)
				want := argOrderJSON(t, sorted, cfg, opts)
				reversed := make([]string, len(sorted))
				for i, f := range sorted {
					reversed[len(sorted)-1-i] = f
				}
				shuffled := append([]string{}, sorted...)
				rand.New(rand.NewSource(28)).Shuffle(len(shuffled), func(i, j int) {
					shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
				})
				for _, o := range []struct {
					name  string
					files []string
				}{{"reversed", reversed}, {"shuffled", shuffled}} {
					if d := cmp.Diff(want, argOrderJSON(t, o.files, cfg, opts)); d != "" {
						for i := range o.files {
							o.files[i] = filepath.Base(o.files[i])
						}
						t.Errorf("%s order %v: the Result differs from the sorted order's (-sorted +%s):\n%s", o.name, o.files, o.name, d)
					}
				}
			})
		}
	}
}
