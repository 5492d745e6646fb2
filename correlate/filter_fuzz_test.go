package correlate

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
)

// FuzzParseFilter feeds any expression (as typed after --filter or after / in the TUI) to
// ParseFilter: it never panics; an error has a message; a parsed filter prints back (String) to an
// expression that parses to the same tree; and on a lab Result with Kubernetes names (DNAT to a
// Service's backend) the compiled MatchFlow gives the verdict the parsed tree gives, while
// MatchJourney and MatchAnomaly run on every journey and anomaly. Seeded with the filters built
// from that Result's flows, names and anomalies, and with the parser tests' good and bad words.
func FuzzParseFilter(f *testing.F) {
	dir := filepath.Join("../testdata/lab/scenarios", "clusterip-dnat")
	m, probs, err := cluster.Load([]string{filepath.Join(dir, "k8s")})
	if err != nil || len(probs) > 0 {
		f.Fatalf("clusterip-dnat: %v %v", err, probs)
	}
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	r := Correlate(decode.Load(pcaps, decode.Options{}, decode.PointConfig{}), Options{Cluster: m, Journeys: true})
	if len(r.Flows) == 0 || len(r.Journeys) == 0 {
		f.Fatalf("clusterip-dnat: %d flows, %d journeys", len(r.Flows), len(r.Journeys))
	}
	for _, s := range filtersFor(r) {
		f.Add(s)
	}
	for _, s := range []string{"", "hots 1.2.3.4", "(proto tcp", "proto tcp)", "portrange 90-80", "src or dst",
		"!(host 10.0.0.1 || port 53) && kind underlay-drop", "ip proto \\tcp", "pod=default/pod-a", "src pod default/*",
		"not not not (tcp)", "((((port 1))))", "flow f1 or flow f999", "node node-[a", "point cali*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := ParseFilter(expr)
		if err != nil {
			if flt != nil || err.Error() == "" {
				t.Fatalf("ParseFilter(%q) = %v, %q", expr, flt, err)
			}
			return
		}
		again, err := ParseFilter(flt.String())
		if err != nil {
			t.Fatalf("ParseFilter(%q) prints as %q, which does not parse: %v", expr, flt.String(), err)
		}
		if again.String() != flt.String() || !reflect.DeepEqual(again.root, flt.root) {
			t.Fatalf("ParseFilter(%q) prints as %q, which parses to another filter", expr, flt.String())
		}
		for i := range r.Flows {
			if got, want := flt.MatchFlow(r, &r.Flows[i]), refMatchFlow(again, r, &r.Flows[i]); got != want {
				t.Fatalf("%q on flow %s: MatchFlow %v, the parsed tree %v", expr, r.Flows[i].ID, got, want)
			}
		}
		for i := range r.Journeys {
			flt.MatchJourney(r, &r.Journeys[i])
		}
		for i := range r.Anomalies {
			flt.MatchAnomaly(r, &r.Anomalies[i])
		}
	})
}
