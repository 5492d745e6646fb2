//go:build unix

package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/internal/testtool"
)

// points keeps no frames, so a file it cannot read a second time (standard input, a FIFO; packets
// takes none, as it reads each input twice) is not searched past the merged probe for a router's interfaces merged into one file, as a
// regular file is (TestPointsMergedRouter). Before, nothing said so; now a warning names the file,
// why, and the fix (report searches it, or give it as a regular file). A Calico node's capture
// through a FIFO, which would not be searched from a regular file either, gets no such warning.
func TestPointsMergedRouterStream(t *testing.T) {
	const name = "mtu-blackhole"
	eth0 := testtool.ReadPcap(t, filepath.Join(lab, name, "router-1-eth0.pcap"))
	eth1 := testtool.ReadPcap(t, filepath.Join(lab, name, "router-1-eth1.pcap"))
	merged := filepath.Join(t.TempDir(), "router-1-eth0.pcap")
	testtool.WritePcap(t, merged, testtool.Padded(eth0, 4200), eth1)
	nodeA := filepath.Join(t.TempDir(), "node-a-eth0.pcap")
	testtool.WritePcap(t, nodeA, testtool.Padded(testtool.ReadPcap(t, filepath.Join(lab, name, "node-a-eth0.pcap")), 4200))
	for _, cmd := range []string{"points", "points --format json"} { // (packets takes no FIFO: it reads twice)
		others := labInputs(t, name, "router-1-eth0.pcap", "router-1-eth1.pcap")
		fifo, wait := testtool.ServeFIFO(t, merged, "router-1-eth0.pcap")
		_, _, errs := runCLI(append(strings.Fields(cmd), append(others, fifo)...)...)
		wait()
		if want := "calipath: warning: " + fifo + ": read once only (standard input, a FIFO), so not searched"; !strings.Contains(errs, want) ||
			!strings.Contains(errs, "calipath report searches it, or give it as a regular file") {
			t.Errorf("%s, the merged router file through a FIFO: stderr does not say %q…:\n%s", cmd, want, errs)
		}

		others = labInputs(t, name, "node-a-eth0.pcap")
		fifo, wait = testtool.ServeFIFO(t, nodeA, "node-a-eth0.pcap")
		_, _, errs = runCLI(append(strings.Fields(cmd), append(others, fifo)...)...)
		wait()
		if strings.Contains(errs, "read once only") {
			t.Errorf("%s, node-a's eth0 through a FIFO: warned as a router's file:\n%s", cmd, errs)
		}
	}
}
