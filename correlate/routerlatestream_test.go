//go:build unix

package correlate

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/calipath/calipath/decode"
)

// loadThroughFIFO loads paths, the last given through a FIFO (read once only).
func loadThroughFIFO(t *testing.T, paths []string) *decode.Capture {
	t.Helper()
	last := paths[len(paths)-1]
	b, err := os.ReadFile(last)
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), filepath.Base(last))
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			_, err = f.Write(b)
			f.Close()
		}
		done <- err
	}()
	in := append(append([]string(nil), paths[:len(paths)-1]...), fifo)
	c := decode.Load(in, decode.Options{}, decode.PointConfig{})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
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
	writeAppended(t, out, padded(eth0, 4200), eth1)
	c := loadThroughFIFO(t, append(others, out))
	routedSaid(t, c, c.Files[len(c.Files)-1], true, "read once only", "link addresses could not be checked")
}
