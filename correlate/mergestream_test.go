//go:build unix

package correlate

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
			dir := t.TempDir()
			done := make(chan error, len(merged))
			fifos := 0
			for i, m := range merged {
				if !strings.HasPrefix(m, os.TempDir()) || strings.Contains(m, "/lab/") {
					continue // a lab file given as it is
				}
				b, err := os.ReadFile(m)
				if err != nil {
					t.Fatal(err)
				}
				fifo := filepath.Join(dir, filepath.Base(m))
				if err := syscall.Mkfifo(fifo, 0o600); err != nil {
					t.Fatal(err)
				}
				merged[i], fifos = fifo, fifos+1
				go func() {
					f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
					if err == nil {
						_, err = f.Write(b)
						f.Close()
					}
					done <- err
				}()
			}
			if fifos == 0 {
				t.Fatal("no merged file to give as a stream")
			}
			want := stageVerdicts(Correlate(decode.Load(perFile, decode.Options{}, decode.PointConfig{}), Options{}))
			c := decode.Load(merged, decode.Options{}, decode.PointConfig{})
			for range fifos {
				select {
				case err := <-done:
					if err != nil {
						t.Fatal(err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("a FIFO was not read")
				}
			}
			got := stageVerdicts(Correlate(c, Options{}))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("merged captures as streams:\n  %s\nper-file captures:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}
