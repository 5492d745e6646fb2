//go:build unix

package correlate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/testtool"
)

// A node's merged captures given as a stream (a FIFO here; standard input is read the same way) were
// not split: the probe opened the file again to read its prefix, which a stream cannot give twice, so
// it read every merged file of a FIFO as one point (healthy-ipip: "summary: 53 journeys, 53
// delivered" where the per-file run has 27; same-node: 24 of its 48 lost). The prefix the probe reads from the stream
// is kept and given again to the scan: each lab scenario's verdicts equal the per-file run's.
func TestMergecapStream(t *testing.T) {
	mergecap := testtool.Path(t, testtool.Mergecap)
	for _, sc := range []string{"healthy-ipip", "mtu-blackhole", "same-node"} {
		t.Run(sc, func(t *testing.T) {
			perFile, merged := mergeNodes(t, mergecap, filepath.Join("../testdata/lab/scenarios", sc))
			if merged == nil {
				t.Fatal("no node with two Ethernet captures")
			}
			var waits []func()
			for i, m := range merged {
				if !strings.HasPrefix(m, os.TempDir()) || strings.Contains(m, "/lab/") {
					continue // a lab file given as it is
				}
				fifo, wait := testtool.ServeFIFO(t, m, filepath.Base(m))
				merged[i], waits = fifo, append(waits, wait)
			}
			if len(waits) == 0 {
				t.Fatal("no merged file to give as a stream")
			}
			want := stageVerdicts(Correlate(decode.Load(perFile, decode.Options{}, decode.PointConfig{}), Options{}))
			c := decode.Load(merged, decode.Options{}, decode.PointConfig{})
			for _, wait := range waits {
				wait()
			}
			got := stageVerdicts(Correlate(c, Options{}))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("merged captures as streams:\n  %s\nper-file captures:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}
