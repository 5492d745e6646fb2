package tui

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/testtool"
	"github.com/charmbracelet/x/ansi"
)

// TestTimelineOrderUnsure: ipip-input-drop with router-1's clock stepped by 2 ms (bounded from node-a's
// packets only: its limits jump, and node-b's, bounded through it, with them). Their corrected times
// are kept, so the order of a packet's sightings across them can be off by up to the jump: the
// timeline of a flow across them says so under its head, a note a node, wrapped whole onto the lines
// below it at 80 columns (it was cut there, before why), and keeps its height; the unshifted captures'
// timeline has no such line. Before, it showed the order as measured.
func TestTimelineOrderUnsure(t *testing.T) {
	for _, step := range []time.Duration{0, 2 * time.Millisecond} {
		var nodes []string
		if step != 0 {
			nodes = []string{"router-1"}
		}
		res := correlate.Correlate(decode.Load(testtool.SteppedLab(t, filepath.Join("../testdata/lab/scenarios", "ipip-input-drop"), nodes, step, 2*time.Second),
			decode.Options{VXLANPort: decode.DefaultVXLANPort}, decode.PointConfig{}), correlate.Options{})
		km := DefaultKeyMap()
		for _, size := range [][2]int{{200, 48}, {80, 24}} {
			m := press(press(newTest(t, res, size[0], size[1]), km.Flows), km.Enter)
			if m.tl.flow == nil || m.tl.loading || m.tl.len() == 0 {
				t.Fatalf("step %v: no timeline", step)
			}
			h := m.bodyHeight()
			view := ansi.Strip(m.tl.view(m.c, size[0], h))
			lines := strings.Split(view, "\n")
			if len(lines) != h {
				t.Errorf("step %v, %dx%d: the timeline is %d lines, want %d:\n%s", step, size[0], size[1], len(lines), h, view)
			}
			if step == 0 {
				if strings.Contains(view, "order across") {
					t.Errorf("an order note without a step:\n%s", view)
				}
				continue
			}
			// Each node's note: its "! " line and the lines it wraps onto (two cells in), whole at any width.
			var notes []string
			for _, l := range lines[1:] {
				if strings.HasPrefix(l, "! ") {
					notes = append(notes, strings.TrimRight(l[2:], " "))
				} else if len(notes) > 0 && len(l) > 2 && strings.HasPrefix(l, "  ") && l[2] != ' ' {
					notes[len(notes)-1] += " " + strings.TrimSpace(l)
				} else {
					break
				}
			}
			for i, node := range []string{"router-1", "node-b"} {
				want := "order across " + node + " uncertain by up to 1."
				if i >= len(notes) || !strings.HasPrefix(notes[i], want) {
					t.Errorf("step %v, %dx%d: note %d is not %q…: %q\n%s", step, size[0], size[1], i+1, want, notes, view)
					continue
				}
				if !strings.Contains(notes[i], "limits jump (a step or a slew faster than 500 ppm?), not corrected") {
					t.Errorf("step %v, %dx%d: the note is cut: %q\n%s", step, size[0], size[1], notes[i], view)
				}
			}
		}
	}
}
