package report

import (
	"html"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/testtool"
)

// TestOrderUnsureStepLab: ipip-input-drop with router-1's clock stepped by 2 ms (bounded from node-a's
// packets only, its limits jump), alone or with node-b's (bounded through router-1's). Such a clock
// keeps its corrected times (not corrected: packets one way cannot tell a step from slow packets), so
// the order of a packet's sightings across it can be off by up to the jump: the text and markdown
// clock notes and each HTML ladder of a flow across it say so, naming the node, by how much and why
// (for node-b, that its clock is bounded through router-1's); the unshifted captures say nothing of it.
// Before, every format showed the order as measured.
func TestOrderUnsureStepLab(t *testing.T) {
	for _, sc := range []struct {
		nodes []string
		step  time.Duration
		want  []string
	}{
		{nil, 0, nil},
		{[]string{"router-1"}, 2 * time.Millisecond, []string{"order across router-1 uncertain by up to ", "its clock's limits jump",
			"order across node-b uncertain by up to "}},
		{[]string{"router-1", "node-b"}, -2 * time.Millisecond, []string{"order across router-1 uncertain by up to ",
			"order across node-b uncertain by up to ", "its clock is bounded through router-1's, whose limits jump"}},
	} {
		name := strings.Join(sc.nodes, "+") + " " + sc.step.String()
		paths := testtool.SteppedLab(t, filepath.Join(labDir, "ipip-input-drop"), sc.nodes, sc.step, 2*time.Second)
		res := correlate.Correlate(decode.Load(paths, decode.Options{VXLANPort: decode.DefaultVXLANPort}, decode.PointConfig{}),
			correlate.Options{})
		unsure := map[string]time.Duration{}
		for _, c := range res.Clocks {
			if c.OrderUnsureNs > 0 {
				unsure[c.Node] = time.Duration(c.OrderUnsureNs)
			}
		}
		if len(sc.want) == 0 {
			if len(unsure) > 0 {
				t.Errorf("%s: order unsure at %v in unshifted captures", name, unsure)
			}
		} else if unsure["router-1"] < time.Millisecond || unsure["node-b"] < time.Millisecond {
			t.Errorf("%s: order unsure by %v, want router-1 and node-b by 1 ms or more (a 2 ms step)", name, unsure)
		}
		for _, f := range []Format{Text, Markdown, HTML} {
			out := strings.Join(strings.Fields(html.UnescapeString(string(render(t, res, f)))), " ") // the text wraps notes
			if len(sc.want) == 0 && strings.Contains(strings.ToLower(out), "order across") {
				t.Errorf("%s, %s: an order note without a step", name, f)
			}
			for _, w := range sc.want {
				if !strings.Contains(strings.ToLower(out), strings.ToLower(w)) {
					t.Errorf("%s, %s: no %q", name, f, w)
				}
			}
			if f == HTML && len(sc.want) > 0 {
				// Each ladder (of a flow across router-1: all of them) says it, under its heading.
				ladders := strings.Split(out, "<h3>")[1:]
				if len(ladders) == 0 {
					t.Fatalf("%s: no ladder", name)
				}
				for _, l := range ladders {
					if !strings.Contains(l, `<p class="ladder-note">Order across router-1 uncertain by up to `) {
						t.Errorf("%s: a ladder without the order note: %.200s", name, l)
					}
				}
			}
		}
	}
}
