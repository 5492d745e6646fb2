package report

import (
	"encoding/binary"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
)

// steppedLab copies the per-interface classic pcap files of a lab scenario, the times of those of
// nodes stepped by step from at after the earliest frame of all on (pcapshift -step, -step-at), and
// returns their paths.
func steppedLab(t *testing.T, scenario string, nodes []string, step, at time.Duration) []string {
	t.Helper()
	src := filepath.Join(labDir, scenario)
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
		paths := steppedLab(t, "ipip-input-drop", sc.nodes, sc.step, 2*time.Second)
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
