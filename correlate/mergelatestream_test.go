//go:build unix

package correlate

import (
	"strings"
	"testing"
)

// healthy-ipip's node-a eth0 (after 5,000 records of answered traffic) and veth concatenated into
// node-a-eth0.pcap, given through a FIFO: a stream cannot be read again once the whole file shows it
// merged, so it stays one point, node-a/eth0. On main nothing said so: "summary: 5027 journeys, 15
// delivered, 0 lost, 5012 not captured" (the per-file captures: 27 delivered) with path-incomplete
// warnings only. Now the file's problem says it holds several interfaces read as one and how to fix
// it, and the summary says its counts are unreliable, naming the file.
func TestMergedLateStream(t *testing.T) {
	_, merged := lateMergedLab(t, "healthy-ipip", "eth0", "node-a-eth0.pcap", 5000, true)
	c := loadThroughFIFO(t, merged)
	fi := c.Files[len(c.Files)-1]
	if p := strings.Join(fi.Problems, "\n"); !strings.Contains(p, "it is a node's captures merged into one file") ||
		!strings.Contains(p, "cannot be read again split") || !strings.Contains(p, "unreliable") ||
		!strings.Contains(p, "each interface's capture as its own file") {
		t.Errorf("problems %q", fi.Problems)
	}
	r := Correlate(c, Options{})
	if u := r.Summary.Unreliable; !strings.Contains(u, "node-a-eth0.pcap holds several interfaces") || !strings.Contains(u, "counts are unreliable") {
		t.Errorf("summary's unreliable: %q; summary %+v", u, r.Summary)
	}
}
