package correlate

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// docs/anomalies.md lists the kinds of anomalyKinds, in its order, each with its severity first in the
// severity column and its place in the where column.
func TestAnomalyDocs(t *testing.T) {
	b, err := os.ReadFile("../docs/anomalies.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string // kind, severity, where
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cols := strings.Split(line, "|")
		if len(cols) < 5 {
			t.Errorf("docs/anomalies.md: row %q has fewer than four columns", line)
			continue
		}
		rows = append(rows, []string{strings.Trim(strings.TrimSpace(cols[1]), "`"), strings.TrimSpace(cols[2]),
			strings.TrimSpace(cols[3])})
	}
	for i := 0; i < max(len(rows), len(anomalyKinds)); i++ {
		switch {
		case i >= len(rows):
			t.Errorf("kind %s: not in docs/anomalies.md (row %d)", anomalyKinds[i].kind, i+1)
		case i >= len(anomalyKinds):
			t.Errorf("docs/anomalies.md row %d: %s is not in anomalyKinds", i+1, rows[i][0])
		default:
			k, r := anomalyKinds[i], rows[i]
			if r[0] != k.kind {
				t.Errorf("docs/anomalies.md row %d: %s, anomalyKinds row %d: %s", i+1, r[0], i+1, k.kind)
				continue
			}
			if !strings.HasPrefix(r[1], k.severity) {
				t.Errorf("%s: severity %q in docs/anomalies.md, %s in anomalyKinds", k.kind, r[1], k.severity)
			}
			if !strings.Contains(r[2], k.place) {
				t.Errorf("%s: where %q in docs/anomalies.md does not say %s", k.kind, r[2], k.place)
			}
		}
	}
}

// checkKinds checks that every anomaly of r is of a known kind, at the kind's place, with its severity
// (or another one where docs/anomalies.md says so).
func checkKinds(t *testing.T, r *Result) {
	t.Helper()
	other := map[string]string{"icmp-frag-needed": sevInfo, "icmp-unreachable": sevInfo, "ttl-expired": sevInfo, "capture-gap": sevWarning,
		"retransmission": sevWarning, "capture-dropped": sevInfo, "path-incomplete": sevInfo}
	for _, an := range r.Anomalies {
		i, ok := kindIndex[an.Kind]
		if !ok {
			t.Errorf("anomaly kind %q is not in anomalyKinds", an.Kind)
			continue
		}
		k := anomalyKinds[i]
		if an.Severity != k.severity && an.Severity != other[an.Kind] {
			t.Errorf("%s at %+v: severity %s, its kind's is %s", an.Kind, an.Where, an.Severity, k.severity)
		}
		place := atPoint
		switch {
		case an.Where.From != "":
			place = atSegment
		case an.Where.Node != "":
			place = atNode
		}
		// window-too-small is said at a point when none of its packets could be joined again.
		if place != k.place && !(an.Kind == "window-too-small" && place == atPoint) {
			t.Errorf("%s: said at %+v (a %s), its kind's place is a %s", an.Kind, an.Where, place, k.place)
		}
	}
}

// Once the Result is built, the analysis it keeps for FlowJourneys holds no stage's working state, and
// FlowJourneys still renders every journey of a flow as the Result's journeys list it.
func TestResultDropsWorkingState(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/lab/scenarios/healthy-ipip/*.pcap")
	if len(paths) == 0 {
		t.Skip("no healthy-ipip lab scenario")
	}
	r := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{Journeys: true})
	a := r.analysis
	if a.flowOf.keys != nil || a.segs != nil || a.segDense != nil || a.offloadAt != nil || a.refusedBy != nil ||
		a.side.frames != nil || a.side.arp.waits != nil || a.side.icmp.frag != nil || a.uf.parent != nil {
		t.Errorf("the Result's analysis keeps working state: flowOf %d, segs %d, offloadAt %d, refusedBy %d, frames %d, uf %d",
			a.flowOf.len(), len(a.segs), len(a.offloadAt), len(a.refusedBy), len(a.side.frames), len(a.uf.parent))
	}
	// The arena's per-slot caches are the stages': rendering reads the observations.
	if a.hopPt != nil || a.hopTs.dt != nil || a.t0.blocks != nil {
		t.Errorf("the Result's analysis keeps the arena's caches: hopPt %d, hopTs %d, t0 %d", len(a.hopPt),
			len(a.hopTs.dt), a.t0.n)
	}
	byID := map[int]Journey{}
	for _, j := range r.Journeys {
		byID[j.ID] = j
	}
	n := 0
	for _, f := range r.Flows {
		for _, j := range r.FlowJourneys(f.ID) {
			n++
			if want, ok := byID[j.ID]; !ok || !reflect.DeepEqual(j, want) {
				t.Errorf("flow %s journey %d: FlowJourneys %+v, Journeys %+v", f.ID, j.ID, j, want)
			}
		}
	}
	if n != len(r.Journeys) || n == 0 {
		t.Errorf("FlowJourneys gave %d journeys over the flows, Journeys %d", n, len(r.Journeys))
	}
}
