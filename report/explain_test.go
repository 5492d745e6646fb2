package report

import (
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
)

// An anomaly a node's dump explains shows the dump's line under it in every format; without one the
// output has no trace of it (the small() goldens above).
func TestPrintExplainedBy(t *testing.T) {
	r := small()
	r.Anomalies[0].ExplainedBy = []correlate.Explanation{
		{Kind: "blackhole-route", Node: "b", File: "b-routes.txt", Line: 3, Text: "blackhole 10.244.1.0/26",
			Why: "The route b takes for 10.244.1.5 is a blackhole route."},
		{Kind: "neighbour-failed", Node: "b", File: "b-neigh.json", Line: 1, Entry: 2, Text: "192.168.20.99 dev eth0 FAILED",
			Why: "b could not resolve 192.168.20.99."},
	}
	for _, c := range []struct {
		f    Format
		want []string
	}{
		{Text, []string{
			"    explained by: b-routes.txt:3: blackhole 10.244.1.0/26 — The route b takes for 10.244.1.5 is a\n",
			"    explained by: b-neigh.json:1 (entry 2): 192.168.20.99 dev eth0 FAILED — b could not resolve\n",
		}},
		{Markdown, []string{
			"**Explained by:** `b-routes.txt:3: blackhole 10.244.1.0/26` The route b takes for 10.244.1.5 is a blackhole route.\n\n",
			"**Explained by:** `b-neigh.json:1 (entry 2): 192.168.20.99 dev eth0 FAILED` b could not resolve 192.168.20.99.\n\n",
		}},
		{HTML, []string{
			`<div class="next"><b>Explained by:</b> <span class="mono">b-routes.txt:3: blackhole 10.244.1.0/26</span> The route b takes for 10.244.1.5 is a blackhole route.</div>`,
		}},
		{JSON, []string{
			`"explained_by":[{"kind":"blackhole-route","node":"b","file":"b-routes.txt","line":3,"text":"blackhole 10.244.1.0/26","why":"The route b takes for 10.244.1.5 is a blackhole route."},{"kind":"neighbour-failed","node":"b","file":"b-neigh.json","line":1,"entry":2,`,
		}},
	} {
		got := string(render(t, r, c.f))
		if c.f == JSON {
			got = strings.Join(strings.Fields(got), "")
			for i := range c.want {
				c.want[i] = strings.Join(strings.Fields(c.want[i]), "")
			}
		}
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%v lacks %q:\n%s", c.f, w, got)
			}
		}
	}
	for _, f := range []Format{Text, Markdown, HTML, JSON} {
		if got := string(render(t, small(), f)); strings.Contains(strings.ToLower(got), "explained") {
			t.Errorf("%v without node state mentions an explanation", f)
		}
	}
}
