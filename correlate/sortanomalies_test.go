package correlate

import (
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"testing"
)

// TestSortAnomaliesAsSprint checks sortAnomalies against the stable sort with the place's
// fmt.Sprint made at every compare, on random lists with repeated keys, unknown severities and
// places whose fields hold spaces (so that the place's string orders them otherwise than its fields).
func TestSortAnomaliesAsSprint(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	sevs := []string{sevError, sevWarning, sevInfo, "odd"}
	names := []string{"", "a", "a b", "ab", "a  b", "b", "node-1", "node-1 x"}
	for round := 0; round < 300; round++ {
		n := rng.Intn(60)
		in := make([]Anomaly, n)
		for i := range in {
			in[i] = Anomaly{
				Kind:     fmt.Sprint("k", rng.Intn(3)),
				Severity: sevs[rng.Intn(len(sevs))],
				Where: Where{Node: names[rng.Intn(len(names))], Point: names[rng.Intn(len(names))],
					From: names[rng.Intn(3)], To: names[rng.Intn(3)]},
				Count:   rng.Intn(3),
				Message: fmt.Sprint("m", rng.Intn(2)),
				Flows:   []string{fmt.Sprint(i)}, // tells apart anomalies that compare equal: the sort must be stable
			}
		}
		want := append([]Anomaly(nil), in...)
		sort.SliceStable(want, func(i, j int) bool {
			x, y := want[i], want[j]
			if severityRank[x.Severity] != severityRank[y.Severity] {
				return severityRank[x.Severity] < severityRank[y.Severity]
			}
			if x.Kind != y.Kind {
				return x.Kind < y.Kind
			}
			if x.Where != y.Where {
				return fmt.Sprint(x.Where) < fmt.Sprint(y.Where)
			}
			if x.Count != y.Count {
				return x.Count > y.Count
			}
			return x.Message < y.Message
		})
		got := append([]Anomaly(nil), in...)
		sortAnomalies(got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: sortAnomalies gave\n%v\nwant\n%v", round, got, want)
		}
	}
}
