package correlate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// TestTieEncapOrder: healthy-vxlan's and healthy-vxlan6's per-interface captures, the tunnel devices'
// files put in a directory that sorts before the other files' and then after it. A node that
// decapsulates a packet sees it on eth0 and on its VXLAN device at one microsecond: the journeys must
// read eth0 then the device ("-vxlan") either way.
// Before, the hops of one node at one corrected time stayed in observation order (sortQuick,
// sortInPlace: time, then observation id), the files' order: with the device's file in a directory
// sorting first the way in read device, then eth0, "+vxlan" on the node that took the header off.
func TestTieEncapOrder(t *testing.T) {
	for _, sc := range []string{"healthy-vxlan", "healthy-vxlan6"} {
		t.Run(sc, func(t *testing.T) {
			dir := filepath.Join("../testdata/lab/scenarios", sc)
			pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
			var ways []string
			for _, first := range []bool{true, false} {
				tmp := t.TempDir()
				var files []string
				for _, f := range pcaps {
					if strings.HasSuffix(f, "-any.pcap") {
						continue
					}
					sub := "0"
					if strings.Contains(filepath.Base(f), "vxlan") != first {
						sub = "1"
					}
					abs, err := filepath.Abs(f)
					if err != nil {
						t.Fatal(err)
					}
					to := filepath.Join(tmp, sub, filepath.Base(f))
					if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.Symlink(abs, to); err != nil {
						t.Fatal(err)
					}
					files = append(files, to)
				}
				r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{Journeys: true})
				var b strings.Builder
				decaps := 0
				for _, j := range r.Journeys {
					fmt.Fprintf(&b, "%d %s %s:", j.ID, j.Flow, j.Dir)
					for i, h := range j.Hops {
						fmt.Fprintf(&b, " %s %s %v;", h.Point, h.Encap, h.Changes)
						if i > 0 && j.Hops[i-1].Encap != "none" && h.Encap == "none" && strings.HasSuffix(h.Point, ".calico") &&
							strings.HasSuffix(j.Hops[i-1].Point, "/eth0") {
							decaps++
						}
					}
					b.WriteString("\n")
				}
				if decaps == 0 {
					t.Errorf("device's files first=%v: no journey decapsulated at a node's eth0 then its VXLAN device", first)
				}
				ways = append(ways, b.String())
			}
			if ways[0] != ways[1] {
				t.Errorf("the journeys' ways differ with the tunnel devices' files read first and last:\nfirst:\n%s\nlast:\n%s", ways[0], ways[1])
			}
		})
	}
}
