package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/charmbracelet/x/ansi"
)

// stateScenario is the lab scenario whose node-b has a blackhole route for node-a's pod block, read
// as `calipath tui --k8s DIR/k8s --k8s DIR/node-b-routes.txt DIR/*.pcap` reads it.
const stateScenario = "../testdata/lab/scenarios/state-blackhole-route"

func stateRes(t *testing.T) *correlate.Result {
	t.Helper()
	meta, _, err := cluster.Load([]string{stateScenario + "/k8s", stateScenario + "/node-b-routes.txt"})
	if err != nil {
		t.Fatal(err)
	}
	caps, _ := filepath.Glob(stateScenario + "/*.pcap")
	if len(caps) == 0 {
		t.Fatal("no captures in " + stateScenario)
	}
	return correlate.Correlate(decode.Load(caps, decode.Options{}, decode.PointConfig{}), correlate.Options{Cluster: meta})
}

// The anomalies screen shows the lines of a node's `ip` dumps that explain the selected anomaly,
// as the report does: the file and line, the dump's text and why; an anomaly nothing explains shows
// none. The view at 100x30 is a golden file.
func TestAnomalyExplainedBy(t *testing.T) {
	km := DefaultKeyMap()
	res := stateRes(t)
	m := press(newTest(t, res, 100, 30), km.Anomalies)
	want := "explained by: node-b-routes.txt:2: blackhole 10.244.1.0/26"
	explainedAt := -1
	for i := 0; i < m.anom.len(); i++ {
		a, _ := m.anom.selectedAnomaly(m.c)
		v := strings.Join(strings.Fields(ansi.Strip(m.View())), " ")
		if len(a.ExplainedBy) > 0 {
			explainedAt = i
			if !strings.Contains(v, want) || !strings.Contains(v, a.ExplainedBy[0].Why[:20]) {
				t.Errorf("%s: the view lacks %q and its why:\n%s", a.Kind, want, m.View())
			}
			break
		}
		if strings.Contains(v, "explained by:") {
			t.Errorf("%s, explained by nothing, shows an explanation:\n%s", a.Kind, m.View())
		}
		m = press(m, km.Down)
	}
	if explainedAt < 0 {
		t.Fatal("no anomaly of the scenario is explained by node-b's routes")
	}
	v := m.View()
	checkSize(t, v, 100, 30)
	got := ansi.Strip(v)
	path := filepath.Join("testdata", "TestAnomalyExplainedBy", "anomalies-100x30.golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	golden, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -run TestAnomalyExplainedBy -update)", err)
	}
	if got != string(golden) {
		t.Errorf("%s differs from the golden file (-update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, golden)
	}
}
