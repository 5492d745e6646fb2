package correlate

import (
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// underlay-loss with node-a's eth0 captured through a filter (`ip proto 4 and dst <node-b>`, as a
// host filter or -Q out leaves it) beside node-a's -i any capture: the any file holds node-a/eth0's
// ARP and the IP-in-IP from node-b, which the filter never let into the eth0 file. That is a filtered
// capture, not one that dropped frames: no capture-dropped may be said of it (it was, in 7 gaps), and
// the losses must stay the truth's.
func TestSilentDropFilteredFile(t *testing.T) {
	dir := "../testdata/lab/scenarios/underlay-loss"
	var tr labTruth
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	var nodeB netip.Addr
	var nodes struct {
		Nodes []struct{ Name, IP string } `json:"nodes"`
	}
	if err := json.Unmarshal(b, &nodes); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Nodes {
		if n.Name == "node-b" {
			nodeB = netip.MustParseAddr(n.IP)
		}
	}
	tmp := t.TempDir()
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	var paths []string
	kept, was := 0, 0
	for _, p := range all {
		if filepath.Base(p) != "node-a-eth0.pcap" {
			paths = append(paths, p)
			continue
		}
		paths = append(paths, filterPcap(t, p, tmp, func(_ int, _ int64, f []byte) bool {
			was++
			ok := len(f) >= 34 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[23] == 4 && netip.AddrFrom4([4]byte(f[30:34])) == nodeB
			if ok {
				kept++
			}
			return ok
		}))
	}
	if kept == 0 || kept*3 > was*2 {
		t.Fatalf("node-a-eth0.pcap filtered to %d of %d frames", kept, was)
	}
	r := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{})
	for _, a := range r.Anomalies {
		if a.Kind == "capture-dropped" && strings.Contains(a.Message, "node-a-eth0.pcap lacks") {
			t.Errorf("%s %s at %+v: %s", a.Severity, a.Kind, a.Where, a.Message)
		}
	}
	for _, f := range tr.Flows {
		fl, _ := findFlow(r, f.Proto, f.Src, f.Dst, f.Sport, f.Dport)
		if fl == nil {
			t.Errorf("flow %s %s → %s not found", f.Proto, f.Src, f.Dst)
		}
	}
	checkSums(t, "underlay-loss with node-a's eth0 filtered", r)
}
