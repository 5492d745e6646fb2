package correlate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
)

// TestLabNodeState follows the lab's state-* scenarios (also those in scenarios-pending/, whose other
// findings calipath and the truth do not agree on yet) (a node's own routes, neighbours or links
// broken, its `ip` dumps taken in the same run as the captures) with their dumps: each line the lab's
// truth expects (computed from the rules applied and the dumps, by the lab's own code) is cited by a
// drop anomaly, with its kind, and nothing else is cited. Without the dumps, no anomaly has an
// explanation.
func TestLabNodeState(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/state-*")
	pending, _ := filepath.Glob("../testdata/lab/scenarios-pending/state-*")
	dirs = append(dirs, pending...)
	if len(dirs) == 0 {
		t.Skip("no state-* lab scenarios")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var tr struct {
				State []struct {
					Node  string   `json:"node"`
					Files []string `json:"files"`
				} `json:"state"`
				Expected []struct {
					Kind  string `json:"kind"`
					Node  string `json:"node"`
					File  string `json:"file"`
					Line  int    `json:"line"`
					Entry int    `json:"entry"`
					Text  string `json:"text"`
				} `json:"expected_explanations"`
			}
			b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &tr); err != nil {
				t.Fatal(err)
			}
			if len(tr.Expected) == 0 {
				t.Fatal("the truth expects no explanation")
			}
			// The dumps as --k8s reads them: every file of the directory, recognised by content.
			meta, probs, err := cluster.Load([]string{dir})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range probs {
				// The lab's logs, truth and captures are no metadata (skipped, said); the dumps must read.
				if st, err := os.Stat(p.File); err == nil && !st.IsDir() {
					if _, _, dump := cluster.DumpName(p.File); dump {
						t.Errorf("problem in a dump: %v", p)
					}
				}
			}
			for _, s := range tr.State {
				if meta.NodeState[s.Node] == nil {
					t.Errorf("no state read for %s", s.Node)
				}
			}
			pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
			ngs, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
			files := append(pcaps, ngs...)
			res := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{Cluster: meta})
			type cite struct {
				kind, node, file string
				line, entry      int
			}
			got := map[cite][]string{} // → the anomalies citing it
			for _, an := range res.Anomalies {
				for _, e := range an.ExplainedBy {
					c := cite{e.Kind, e.Node, filepath.Base(e.File), e.Line, e.Entry}
					got[c] = append(got[c], an.Kind)
				}
			}
			want := map[cite]bool{}
			for _, e := range tr.Expected {
				c := cite{e.Kind, e.Node, e.File, e.Line, e.Entry}
				want[c] = true
				if len(got[c]) == 0 {
					t.Errorf("no anomaly cites %s:%d (entry %d) %q as %s; cited: %v", e.File, e.Line, e.Entry, e.Text, e.Kind, got)
				}
			}
			var extra []string
			for c, kinds := range got {
				if !want[c] {
					extra = append(extra, c.kind+" "+c.file+" by "+strings.Join(kinds, ","))
				}
			}
			sort.Strings(extra)
			if len(extra) > 0 {
				t.Errorf("explanations the truth does not expect: %v", extra)
			}
			// Without the dumps nothing is explained.
			bare := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
			for _, an := range bare.Anomalies {
				if len(an.ExplainedBy) > 0 {
					t.Errorf("%s explained without dumps: %v", an.Kind, an.ExplainedBy)
				}
			}
		})
	}
}
