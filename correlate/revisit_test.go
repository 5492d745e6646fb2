package correlate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// labAll correlates every capture of a lab scenario directory (dedicated files, -i any files and the
// pcapng), as TestLabScenarios gives them.
func labAll(t *testing.T, dir string) *Result {
	t.Helper()
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	ngs, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
	if len(pcaps) == 0 {
		t.Skipf("no captures in %s", dir)
	}
	return Correlate(decode.Load(append(pcaps, ngs...), decode.Options{}, decode.PointConfig{}), Options{})
}

// TestLabHopsOnce checks, over the lab scenarios a packet crosses ten or more points in (two routers
// in series), that no journey lists a point twice in one encapsulation: the frames that
// the point's other captures (the node's -i any file and its pcapng) hold of it are copies (Hop.Dup),
// not hops. A journey kept only its first 8 stages (maxStages), so past them a copy was taken for the
// packet's next hop: two-routers' journeys showed node-b/tunl0 and node-b's cali twice, node-a's
// three times.
func TestLabHopsOnce(t *testing.T) {
	for _, dir := range []string{"../testdata/lab/scenarios/two-routers"} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			r := labAll(t, dir)
			n := 0
			r.EachJourney(func(j *Journey) bool {
				seen := map[string]bool{}
				for _, h := range j.Hops {
					k := h.Point + " " + h.Encap
					if seen[k] {
						if n++; n <= 5 {
							t.Errorf("journey %d (%s %s): %s twice: %s", j.ID, j.Flow, j.Dir, k, hopList(j))
						}
					}
					seen[k] = true
				}
				return true
			})
			if n > 5 {
				t.Errorf("... %d in all", n)
			}
		})
	}
}

func hopList(j *Journey) string {
	var s []string
	for _, h := range j.Hops {
		s = append(s, h.Point+"("+h.Encap+")")
	}
	return strings.Join(s, " ")
}
