package correlate

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/testtool"
)

// answeredMerged is lab scenario sc's per-interface captures with n frames of answered traffic at
// node-a's eth0 before the lab's (idlePrefix "answered"), and the same with node-a's veth and eth0
// captures merged by mergecap in time order into node-a.pcap (tunl0, a raw-IP capture mergecap cannot
// put in one classic pcap with them, stays its own file).
func answeredMerged(t *testing.T, sc string, n int) (perFile, merged []string) {
	t.Helper()
	return prefixedMerged(t, sc, "answered", n, func(node string) bool { return node == "node-a" })
}

// prefixedMerged is lab scenario sc's per-interface captures with n frames of idlePrefix shape at the
// eth0 of each node for which merge is true, and the same with each such node's veth and eth0
// captures merged by mergecap in time order into NODE.pcap (other files, and tunl0, stay their own).
func prefixedMerged(t *testing.T, sc, shape string, n int, merge func(node string) bool) (perFile, merged []string) {
	t.Helper()
	mergecap := testtool.Path(t, testtool.Mergecap)
	dir := t.TempDir()
	src := filepath.Join("../testdata/lab/scenarios", sc)
	all, _ := filepath.Glob(filepath.Join(src, "*.pcap"))
	for _, p := range all {
		node, iface := decode.SplitFileName(p)
		switch {
		case strings.HasSuffix(p, "-any.pcap") || merge(node) && strings.HasPrefix(iface, "cali"):
		case iface == "eth0" && merge(node):
			ts, fr := idlePrefix(t, p, shape, n)
			eth0 := filepath.Join(dir, filepath.Base(p))
			writePcap(t, eth0, ts, fr)
			cali, _ := filepath.Glob(filepath.Join(src, node+"-cali*.pcap"))
			perFile = append(append(perFile, eth0), cali...)
			out := filepath.Join(dir, "merged", node+".pcap")
			os.MkdirAll(filepath.Dir(out), 0o755)
			if b, err := exec.Command(mergecap, append([]string{"-w", out, "-F", "pcap", eth0}, cali...)...).CombinedOutput(); err != nil {
				t.Fatalf("mergecap: %v: %s", err, b)
			}
			merged = append(merged, out)
		default:
			perFile, merged = append(perFile, p), append(merged, p)
		}
	}
	return perFile, merged
}

// A node's captures merged by mergecap whose first 1,100 records are answered traffic at one
// interface (eth0's request/response exchange with a host off the cluster, before the lab's traffic),
// then the node's veth and eth0 frames in time order. Before, the probe stopped after 1,024 records of
// one stage with answered traffic and took node-a.pcap for one interface, node-a/unknown: node-a's
// veth and eth0 were one point, the veth gone from every path (its capture-gap too), and the only word
// a point-unnamed warning about the file's name. The probe now
// reads 4,096 records before it calls a file one interface's: the merged file is split into its
// stages and gives the per-file captures' verdicts.
//
// With 5,000 such records first the probe takes it for one interface's (the most it reads before it
// takes a file of one stage's answered traffic for one interface's); the scan's counts of the whole
// file then show frames of a pod's veth beside IP frames between other MACs, and it is read again
// split into its stages (decode's lateMerged; before, it was one point, node-a/unknown, with a
// point-unnamed warning that a merged file could not be split): the verdicts equal the per-file
// captures' too.
func TestMergecapAnsweredPrefix(t *testing.T) {
	for _, c := range []struct {
		sc string
		n  int
	}{{"healthy-ipip", 1100}, {"mtu-blackhole", 1100}, {"healthy-ipip", 5000}} {
		sc := c.sc
		if c.n != 1100 {
			sc += "/" + strconv.Itoa(c.n)
		}
		t.Run(sc, func(t *testing.T) {
			perFile, merged := answeredMerged(t, c.sc, c.n)
			checkSplitLikePerFile(t, perFile, merged)
		})
	}
}
