package report

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
)

// TestClockSamplesOrderFree: with node-b's eth0 and cali files left out, the clocks were estimated from
// a sample that depended on the order the files were named in (underlay-loss: node-b -829 ± 22937 ns
// from 124 samples in name order, +426 ± 21682 ns from 127 reversed), and everything the clocks order
// with them. Both orders must give the same report, apart from the inputs and which file a frame is
// cited from (node-a's pcapng holds the same frames as its per-interface files).
func TestClockSamplesOrderFree(t *testing.T) {
	for _, name := range []string{"underlay-loss", "tcp-retransmission"} {
		t.Run(name, func(t *testing.T) {
			dir, err := filepath.Abs(filepath.Join(labDir, name))
			if err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir)
			all, _ := filepath.Glob("*.pcap*")
			var files []string
			for _, f := range all {
				if !strings.Contains(f, "-any") && !strings.HasPrefix(f, "node-b-cali") && !strings.HasPrefix(f, "node-b-eth0") {
					files = append(files, f)
				}
			}
			sort.Strings(files)
			want := orderFreeJSON(t, files)
			if got := orderFreeJSON(t, reversed(files)); !reflect.DeepEqual(got, want) {
				g, _ := json.MarshalIndent(got["clocks"], "", " ")
				w, _ := json.MarshalIndent(want["clocks"], "", " ")
				t.Errorf("files in reverse give another report; clocks reversed:\n%s\nin order:\n%s", g, w)
			}
		})
	}
}

// orderFreeJSON is the JSON report of files, without what names the files: the inputs, the file and
// frame of each citation, and the points' reasons (which file named them first, and the others).
func orderFreeJSON(t *testing.T, files []string) map[string]any {
	t.Helper()
	res := correlate.Correlate(decode.Load(files, decode.Options{VXLANPort: decode.DefaultVXLANPort}, decode.PointConfig{}), correlate.Options{})
	var m map[string]any
	if err := json.Unmarshal(render(t, res, JSON), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "inputs")
	stripCitations(m)
	return m
}

// stripCitations deletes the "file", "frame", "reason" and "more_reasons" fields everywhere in v.
func stripCitations(v any) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range []string{"file", "frame", "reason", "more_reasons"} {
			delete(x, k)
		}
		for _, y := range x {
			stripCitations(y)
		}
	case []any:
		for _, y := range x {
			stripCitations(y)
		}
	}
}

func reversed(s []string) []string {
	r := make([]string, len(s))
	for i, x := range s {
		r[len(s)-1-i] = x
	}
	return r
}
