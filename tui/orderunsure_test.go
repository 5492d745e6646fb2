package tui

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/charmbracelet/x/ansi"
)

// steppedLab copies the per-interface classic pcap files of a lab scenario, the times of those of
// nodes stepped by step from at after the earliest frame of all on (pcapshift -step, -step-at), and
// returns their paths.
func steppedLab(t *testing.T, scenario string, nodes []string, step, at time.Duration) []string {
	t.Helper()
	src := filepath.Join("../testdata/lab/scenarios", scenario)
	all, _ := filepath.Glob(filepath.Join(src, "*.pcap"))
	if len(all) == 0 {
		t.Skipf("no %s lab scenario", scenario)
	}
	le := binary.LittleEndian
	var files [][]byte
	var names []string
	t0 := int64(0)
	unitOf := func(b []byte) int64 {
		switch le.Uint32(b) {
		case 0xa1b2c3d4:
			return int64(time.Microsecond)
		case 0xa1b23c4d:
			return 1
		}
		t.Fatalf("not a little-endian pcap file")
		return 0
	}
	for _, p := range all {
		if strings.HasSuffix(p, "-any.pcap") {
			continue // one sighting per path point
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		unit := unitOf(b)
		for off := 24; off+16 <= len(b); off += 16 + int(le.Uint32(b[off+8:])) {
			if ts := int64(le.Uint32(b[off:]))*1e9 + int64(le.Uint32(b[off+4:]))*unit; t0 == 0 || ts < t0 {
				t0 = ts
			}
		}
		files, names = append(files, b), append(names, filepath.Base(p))
	}
	dir := t.TempDir()
	var paths []string
	for i, b := range files {
		for _, n := range nodes {
			if !strings.HasPrefix(names[i], n+"-") {
				continue
			}
			unit := unitOf(b)
			for off := 24; off+16 <= len(b); off += 16 + int(le.Uint32(b[off+8:])) {
				ts := int64(le.Uint32(b[off:]))*1e9 + int64(le.Uint32(b[off+4:]))*unit
				if ts-t0 >= int64(at) {
					ts += int64(step)
				}
				le.PutUint32(b[off:], uint32(ts/1e9))
				le.PutUint32(b[off+4:], uint32(ts%1e9/unit))
			}
		}
		p := filepath.Join(dir, names[i])
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// TestTimelineOrderUnsure: ipip-input-drop with router-1's clock stepped by 2 ms (bounded from node-a's
// packets only: its limits jump, and node-b's, bounded through it, with them). Their corrected times
// are kept, so the order of a packet's sightings across them can be off by up to the jump: the
// timeline of a flow across them says so under its head, one line a node, and keeps its height; the
// unshifted captures' timeline has no such line. Before, it showed the order as measured.
func TestTimelineOrderUnsure(t *testing.T) {
	for _, step := range []time.Duration{0, 2 * time.Millisecond} {
		var nodes []string
		if step != 0 {
			nodes = []string{"router-1"}
		}
		res := correlate.Correlate(decode.Load(steppedLab(t, "ipip-input-drop", nodes, step, 2*time.Second),
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
			for i, want := range []string{"! order across router-1 uncertain by up to 1.", "! order across node-b uncertain by up to 1."} {
				if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], want) {
					t.Errorf("step %v, %dx%d: line %d is not %q…:\n%s", step, size[0], size[1], i+2, want, view)
				}
			}
			if size[0] >= 200 && !strings.Contains(lines[1], "its clock's limits jump") {
				t.Errorf("the note does not say why: %q", lines[1])
			}
		}
	}
}
