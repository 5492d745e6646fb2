package correlate

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
)

// blackholeOf is the pmtu-blackhole finding of r between from and to, or nil.
func blackholeOf(r *Result, from, to string) *Anomaly {
	for i, a := range r.Anomalies {
		if a.Kind == "pmtu-blackhole" && a.Where.From == from && a.Where.To == to {
			return &r.Anomalies[i]
		}
	}
	return nil
}

// vlan-loss (a real kernel's run): router-1's eth0 has MTU 1400 and node-a sends it 1428-byte frames
// on the same link, which its veth drops before IP: no router ever held them, so no ICMP
// fragmentation-needed could come, and "let ICMP type 3 code 4 through" cannot help. The packets
// that passed had the same TTL at node-a/eth0 and router-1/eth0: the finding, still the ERROR
// pmtu-blackhole, says the two points are the two ends of one layer-2 link, and its next step names
// both and asks for the same MTU on them. Before, it said "Lower the pod/tunnel MTU (Calico's MTU
// setting) or let ICMP type 3 code 4 through the network.", as for a router whose ICMP is filtered.
func TestPMTUBlackholeOneLink(t *testing.T) {
	files := perIfaceFiles("vlan-loss")
	if len(files) == 0 {
		t.Skip("no vlan-loss lab scenario")
	}
	r, lines := offloadVerdicts(files)
	bh := blackholeOf(r, "node-a/eth0", "router-1/eth0")
	if bh == nil || bh.Severity != "error" {
		t.Fatalf("vlan-loss: no ERROR pmtu-blackhole node-a/eth0 → router-1/eth0:\n%s", strings.Join(lines, "\n"))
	}
	for _, want := range []string{"node-a/eth0 and router-1/eth0 are the two ends of one layer-2 link",
		"same TTL at both", "no ICMP can come"} {
		if !strings.Contains(bh.Message, want) {
			t.Errorf("message lacks %q:\n%s", want, bh.Message)
		}
	}
	if !strings.Contains(bh.Next, "Make the MTU equal on both ends of the link node-a/eth0 — router-1/eth0") ||
		strings.Contains(bh.Next, "ICMP type 3 code 4") {
		t.Errorf("next = %q; want the MTU made equal on node-a/eth0 and router-1/eth0, and no ICMP to let through", bh.Next)
	}
}

// decTTL lowers by one the outer TTL of the IP-in-IP frames from src in the pcap file at path (Ethernet,
// with or without 802.1Q tags) whose inner IP id keep accepts, fixing the header checksum: as if a
// router, not captured, had forwarded them before that capture.
func decTTL(t *testing.T, path string, src [4]byte, keep func(id uint16) bool) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hdr, recs, unit := readPcapRecs(t, b)
	n := 0
	for _, rec := range recs {
		d := rec.data[16:]
		off := 12
		for off+2 <= len(d) && binary.BigEndian.Uint16(d[off:]) == 0x8100 {
			off += 4
		}
		if off+2+20 > len(d) || binary.BigEndian.Uint16(d[off:]) != 0x0800 {
			continue
		}
		ip := d[off+2:]
		hl := int(ip[0]&0xf) * 4
		if ip[0]>>4 != 4 || hl < 20 || len(ip) < hl+20 || ip[9] != 4 || [4]byte(ip[12:16]) != src || ip[8] < 2 ||
			!keep(binary.BigEndian.Uint16(ip[hl+4:])) {
			continue
		}
		ip[8]--
		ip[10], ip[11] = 0, 0
		binary.BigEndian.PutUint16(ip[10:], csum(ip[:hl]))
		n++
	}
	if err := os.WriteFile(path, writePcapRecs(hdr, recs, unit), 0o644); err != nil {
		t.Fatal(err)
	}
	return n
}

// The TTL decides: vlan-loss with node-a's IP-in-IP frames one TTL lower from router-1/eth0 on (at
// router-1's two interfaces and node-b's eth0, as if a router no capture names stood between node-a
// and router-1) is the same loss on a segment that a router crosses. Then the router on the way may
// have the smaller MTU and its ICMP be filtered, or router-1/eth0 may drop them on arrival: the
// finding says both, counts the router from the TTL, and its next step keeps "let ICMP through"
// beside comparing the two interfaces' MTUs. Not the layer-2 link, which it is not.
func TestPMTUBlackholeRouted(t *testing.T) {
	files := copyLab(t, "vlan-loss")
	dir := filepath.Dir(files[0])
	nodeA := [4]byte{192, 168, 10, 2}
	for _, f := range []string{"router-1-eth0.pcap", "router-1-eth1.pcap", "node-b-eth0.pcap"} {
		if n := decTTL(t, filepath.Join(dir, f), nodeA, func(uint16) bool { return true }); n < 10 {
			t.Fatalf("%s: %d frames from node-a rewritten", f, n)
		}
	}
	r, lines := offloadVerdicts(files)
	bh := blackholeOf(r, "node-a/eth0", "router-1/eth0")
	if bh == nil || bh.Severity != "error" {
		t.Fatalf("no ERROR pmtu-blackhole node-a/eth0 → router-1/eth0:\n%s", strings.Join(lines, "\n"))
	}
	for _, want := range []string{"fell by 1 between them: a router, not captured, lies between",
		"Either a router on the way has a smaller MTU and its ICMP type 3 code 4 is filtered",
		"or the receiving interface router-1/eth0 has an MTU below these frames"} {
		if !strings.Contains(bh.Message, want) {
			t.Errorf("message lacks %q:\n%s", want, bh.Message)
		}
	}
	if strings.Contains(bh.Message, "layer-2 link") {
		t.Errorf("a routed segment called one link:\n%s", bh.Message)
	}
	if !strings.Contains(bh.Next, "Compare `ip link show` (the MTU) of node-a/eth0 and router-1/eth0") ||
		!strings.Contains(bh.Next, "let ICMP type 3 code 4 through the network") {
		t.Errorf("next = %q", bh.Next)
	}
}

// TTLs that disagree tell nothing: vlan-loss with only the packets of odd inner IP id one TTL lower
// from router-1/eth0 on (as if some took a way through a router and some not) is neither one link
// nor a known number of routers. The finding says the TTLs do not show whether a router lies
// between, with both causes, and never calls it one link.
func TestPMTUBlackholeTTLsDisagree(t *testing.T) {
	files := copyLab(t, "vlan-loss")
	dir := filepath.Dir(files[0])
	odd := func(id uint16) bool { return id%2 == 1 }
	for _, f := range []string{"router-1-eth0.pcap", "router-1-eth1.pcap", "node-b-eth0.pcap"} {
		if n := decTTL(t, filepath.Join(dir, f), [4]byte{192, 168, 10, 2}, odd); n < 3 {
			t.Fatalf("%s: %d frames from node-a rewritten", f, n)
		}
	}
	r, lines := offloadVerdicts(files)
	bh := blackholeOf(r, "node-a/eth0", "router-1/eth0")
	if bh == nil || bh.Severity != "error" {
		t.Fatalf("no ERROR pmtu-blackhole node-a/eth0 → router-1/eth0:\n%s", strings.Join(lines, "\n"))
	}
	if !strings.Contains(bh.Message, "The TTLs do not show whether a router lies between them. Either a router on the way") ||
		strings.Contains(bh.Message, "layer-2 link") {
		t.Errorf("message: %s", bh.Message)
	}
}

// copyLab copies a lab scenario's per-interface captures into a temporary directory, to be edited.
func copyLab(t *testing.T, sc string) []string {
	t.Helper()
	dir := t.TempDir()
	var files []string
	for _, f := range perIfaceFiles(sc) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	if len(files) == 0 {
		t.Skipf("no %s lab scenario", sc)
	}
	return files
}

// The black hole inside one node keeps the kind's own words: mtu-blackhole's router-1 (eth1 → eth0)
// routes the packets itself and must send the ICMP, so the TTL rule says nothing there.
func TestPMTUBlackholeInsideNode(t *testing.T) {
	files := perIfaceFiles("mtu-blackhole")
	if len(files) == 0 {
		t.Skip("no mtu-blackhole lab scenario")
	}
	r, lines := offloadVerdicts(files)
	bh := blackholeOf(r, "router-1/eth1", "router-1/eth0")
	if bh == nil || bh.Severity != "error" {
		t.Fatalf("no ERROR pmtu-blackhole router-1/eth1 → router-1/eth0:\n%s", strings.Join(lines, "\n"))
	}
	if bh.Next != "Lower the pod/tunnel MTU (Calico's MTU setting) or let ICMP type 3 code 4 through the network." ||
		strings.Contains(bh.Message, "TTL") {
		t.Errorf("inside router-1: %s\nnext: %s", bh.Message, bh.Next)
	}
}

// state-low-mtu (a real kernel's run, with each node's `ip` dumps): node-b's eth0 has MTU 1400 and the
// big pings (1500 bytes encapsulated) die entering it, past router-1, which no capture names (the
// TTL fell by one between node-a/eth0 and node-b/eth0). The finding says a router lies between and
// either it or the receiving interface has the smaller MTU; with the dumps, its next step names
// node-b's eth0 and its MTU, cited from node-b-links.txt, as what drops them.
func TestPMTUBlackholeStateMTU(t *testing.T) {
	dir := "../testdata/lab/scenarios/state-low-mtu"
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if len(pcaps) == 0 {
		t.Skip("no state-low-mtu lab scenario")
	}
	meta, _, err := cluster.Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opts Options
		want string
	}{
		{"no dumps", Options{}, ""},
		{"dumps", Options{Cluster: meta}, "Here eth0's MTU on node-b is 1400 (" + filepath.Join(dir, "node-b-links.txt") + ":2)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := Correlate(decode.Load(pcaps, decode.Options{}, decode.PointConfig{}), c.opts)
			bh := blackholeOf(r, "node-a/eth0", "node-b/eth0")
			if bh == nil || bh.Severity != "error" {
				t.Fatalf("no ERROR pmtu-blackhole node-a/eth0 → node-b/eth0: %q", lossesOf(r))
			}
			if !strings.Contains(bh.Message, "fell by 1 between them: a router, not captured, lies between") ||
				!strings.Contains(bh.Message, "the receiving interface node-b/eth0 has an MTU below these frames") {
				t.Errorf("message: %s", bh.Message)
			}
			if c.want == "" && strings.Contains(bh.Next, "Here ") || c.want != "" && !strings.Contains(bh.Next, c.want) {
				t.Errorf("next = %q; want it to hold %q", bh.Next, c.want)
			}
		})
	}
}
