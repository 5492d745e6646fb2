//go:build unix

package correlate

import (
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/testtool"
)

// loadThroughFIFO loads paths, the last given through a FIFO (read once only).
func loadThroughFIFO(t *testing.T, paths []string) *decode.Capture {
	t.Helper()
	last := paths[len(paths)-1]
	fifo, wait := testtool.ServeFIFO(t, last, filepath.Base(last))
	in := append(append([]string(nil), paths[:len(paths)-1]...), fifo)
	c := decode.Load(in, decode.Options{}, decode.PointConfig{})
	wait()
	return c
}

// The mtu-blackhole file of TestMergedRouterAppended given through a FIFO: it cannot be read again to
// see the link addresses of the packets that are in it twice, and the problem says so and what it may
// be (a router's interfaces merged, or one sending packets back out the interface they came in on);
// it is flagged the same.
func TestMergedRouterAppendedStream(t *testing.T) {
	dir := "../testdata/lab/scenarios/mtu-blackhole"
	others, eth0, eth1 := routerLateLab(t, dir)
	out := filepath.Join(t.TempDir(), "router-1-eth0.pcap")
	writeAppended(t, out, testtool.Padded(eth0, 4200), eth1)
	c := loadThroughFIFO(t, append(others, out))
	routedSaid(t, c, c.Files[len(c.Files)-1], true, "read once only", "link addresses could not be checked")
}
