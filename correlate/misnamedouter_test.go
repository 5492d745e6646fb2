package correlate

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// misnamedInputs returns the per-interface node files of lab scenario src (not the -any ones) and
// router-1's two captures renamed as the nodes' (router-1-eth0.pcap, on node-a's side, as
// node-b-eth1.pcap; router-1-eth1.pcap as node-a-eth1.pcap), copied into dir.
func misnamedInputs(t *testing.T, src, dir string, renamed map[string]string) []string {
	t.Helper()
	nodes, _ := filepath.Glob(filepath.Join(src, "node-*-*.pcap"))
	var files []string
	for _, f := range nodes {
		if !strings.HasSuffix(f, "-any.pcap") {
			files = append(files, f)
		}
	}
	for from, to := range renamed {
		b, err := os.ReadFile(filepath.Join(src, from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, filepath.Join(dir, to))
	}
	return files
}

// A router's captures renamed as the nodes' in IP-in-IP (over the lab's TUN ipipd), VXLAN and VXLAN
// over IPv6 were read as the nodes' interfaces: the node's pods' packets there are encapsulated, and
// only the unencapsulated ones (BGP over IPv4) were looked at. healthy-ipip and healthy-vxlan then
// said clock-inconsistent and clock-step warnings at node-b, and mtu-blackhole6 "ERROR pmtu-blackhole
// at node-a/eth1 → node-a/eth0" (inside node-a, where router-1 dropped them). The node's own outer
// header's TTL (hop limit) is now compared with what its other files show: one lower is past a
// router, and the file is read as a router's, with a problem naming --point; mtu-blackhole6's
// blackhole is then between the two renamed files, router-1's eth1 → eth0 as in its truth.
func TestMisnamedRouterOuter(t *testing.T) {
	renamed := map[string]string{"router-1-eth0.pcap": "node-b-eth1.pcap", "router-1-eth1.pcap": "node-a-eth1.pcap"}
	for _, tc := range []struct {
		scenario, kind, where string
		named                 string // a renamed file with no frame: nothing tells whose it is, it stays as named
	}{
		{"healthy-ipip", "", "", ""},
		{"healthy-vxlan", "", "", ""},
		{"mtu-blackhole6", "pmtu-blackhole", "node-a-eth1/eth1→node-b-eth1/eth1", ""},
		// Renamed files that hold none of the node's own pods' packets (node-b received none): see
		// TestMisnamedRouterUnsure for the same without their ARP or neighbour discovery.
		{"two-routers-drop-r2", "underlay-drop", "node-a-eth1/eth1→node-b/eth0", ""},
		{"vxlan6-underlay-drop", "", "", "node-a-eth1.pcap"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			dir := t.TempDir()
			in := misnamedInputs(t, filepath.Join("../testdata/lab/scenarios", tc.scenario), dir, renamed)
			c := decode.Load(in, decode.Options{}, decode.PointConfig{})
			r := Correlate(c, Options{})
			var got []string
			for _, a := range r.Anomalies {
				switch a.Kind {
				case "host-drop", "clock-step", "clock-inconsistent", "decap-drop", "encap-drop", "loss":
					t.Errorf("%s %s at %s → %s", a.Severity, a.Kind, a.Where.From, a.Where.To)
				case tc.kind:
					got = append(got, a.Where.From+"→"+a.Where.To)
				}
			}
			if tc.kind != "" && (len(got) != 1 || got[0] != tc.where) {
				t.Errorf("%s at %q, want %s", tc.kind, got, tc.where)
			}
			checkMisnamedSaid(t, c, dir)
			sc := decode.ScanPoints(in, decode.Options{}, decode.NewTables(), decode.PointConfig{})
			for _, cc := range []*decode.Capture{c, sc} {
				for _, p := range cc.Points {
					if (p.Node == "node-a" || p.Node == "node-b") && p.Iface == "eth1" && p.Node+"-eth1.pcap" != tc.named {
						t.Errorf("point %s: a router's capture read as the node's", p.ID)
					}
				}
			}
		})
	}
}

// checkMisnamedSaid checks that the files of c in dir (the renamed ones), and only they, have a problem
// naming --point.
func checkMisnamedSaid(t *testing.T, c *decode.Capture, dir string) {
	t.Helper()
	for _, fi := range c.Files {
		said := strings.Contains(strings.Join(fi.Problems, "\n"), "--point ROUTER:IFACE=")
		if renamed := filepath.Dir(fi.Path) == dir; said != renamed {
			t.Errorf("%s: problem naming --point %v, want %v: %q", fi.Path, said, renamed, fi.Problems)
		}
	}
}

// Without the address resolution that shows the sender's gateway (its ARP or neighbour discovery
// left out of the renamed file, as a capture started after the neighbour was cached leaves it),
// router-1's eth0 renamed node-b-eth1.pcap cannot be told from an eth1 of node-b on node-a's link:
// it was read as node-b's, with no word of doubt, and node-b said "ERROR decap-drop at node-b/eth1"
// (two-routers-drop-r2: router-2 dropped them; vxlan6-underlay-drop: router-1). The file now carries a
// problem saying it may be a router's and naming both fixes (--point), and the decap drop past it is
// a warning that starts "Uncertain:" and says where the packets were lost were it a router's.
//
// router-1's eth1 in two-routers-drop-r2, which faces router-2, renamed node-b-eth1.pcap (node-a's
// packets in it past router-1, as at any interface of node-b) said the same decap-drop: its ARP shows
// router-1 (192.168.30.1) resolving 192.168.30.2, never node-b's 192.168.20.2 the packets were sent
// to, so unless 192.168.30.2 is node-b's too they went on to a router; it is now said the same way.
// Without its ARP (past-router-1-unresolved) nothing in it said it was node-b's either, yet it was read
// as node-b's with no word of doubt and said "ERROR decap-drop at node-b/eth1": packets past a router
// on a link that resolves none of their destinations are now the same uncertain warning.
func TestMisnamedRouterUnsure(t *testing.T) {
	renamed := map[string]string{"router-1-eth0.pcap": "node-b-eth1.pcap", "router-1-eth1.pcap": "node-a-eth1.pcap"}
	for _, tc := range []struct {
		name, scenario, where string
		renamed               map[string]string
		strip                 bool
	}{
		{"two-routers-drop-r2", "two-routers-drop-r2", "node-b/eth1→node-b/tunl0", renamed, true},
		{"vxlan6-underlay-drop", "vxlan6-underlay-drop", "node-b/eth1→node-b/vxlan-v6.calico", renamed, true},
		{"past-router-1", "two-routers-drop-r2", "node-b/eth1→node-b/tunl0", map[string]string{"router-1-eth1.pcap": "node-b-eth1.pcap"}, false},
		{"past-router-1-unresolved", "two-routers-drop-r2", "node-b/eth1→node-b/tunl0", map[string]string{"router-1-eth1.pcap": "node-b-eth1.pcap"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := misnamedInputs(t, filepath.Join("../testdata/lab/scenarios", tc.scenario), dir, tc.renamed)
			if tc.strip {
				stripResolution(t, filepath.Join(dir, "node-b-eth1.pcap"))
			}
			c := decode.Load(in, decode.Options{}, decode.PointConfig{})
			r := Correlate(c, Options{})
			var hedged []string
			for _, a := range r.Anomalies {
				switch {
				case a.Severity == sevError:
					t.Errorf("%s %s at %s → %s", a.Severity, a.Kind, a.Where.From, a.Where.To)
				case a.Kind == "decap-drop" && strings.HasPrefix(a.Message, "Uncertain: "+filepath.Join(dir, "node-b-eth1.pcap")):
					hedged = append(hedged, a.Where.From+"→"+a.Where.To)
				}
			}
			if len(hedged) != 1 || hedged[0] != tc.where {
				t.Errorf("uncertain decap-drop at %q, want %s", hedged, tc.where)
			}
			checkMisnamedSaid(t, c, dir)
		})
	}
}

// stripResolution rewrites the classic pcap file path (Ethernet) without its ARP frames and IPv6
// neighbour solicitations and advertisements.
func stripResolution(t *testing.T, path string) {
	t.Helper()
	if n := dropFrames(t, path, func(f []byte) bool {
		arp := len(f) >= 14 && binary.BigEndian.Uint16(f[12:]) == 0x0806
		nd := len(f) >= 55 && binary.BigEndian.Uint16(f[12:]) == 0x86dd && f[20] == 58 && (f[54] == 135 || f[54] == 136)
		return arp || nd
	}); n == 0 {
		t.Fatalf("%s: no address resolution to strip", path)
	}
}

// dropFrames rewrites the classic pcap file path (little-endian) without the frames drop says, and
// returns how many it left out.
func dropFrames(t *testing.T, path string, drop func(frame []byte) bool) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 && binary.LittleEndian.Uint32(b) != 0xa1b23c4d {
		t.Fatalf("%s: not a little-endian classic pcap", path)
	}
	out, n := append([]byte(nil), b[:24]...), 0
	for off := 24; off+16 <= len(b); {
		end := off + 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
		if end > len(b) {
			t.Fatalf("%s: record at %d runs past the end", path, off)
		}
		if drop(b[off+16 : end]) {
			n++
		} else {
			out = append(out, b[off:end]...)
		}
		off = end
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return n
}

// router-three-ifaces' router-1-eth1.pcap, which faces node-b, renamed node-b-eth1.pcap holds node-b's
// pods' packets with the TTLs node-b's own eth0 shows them with (BGP: 63 leaving, 62 coming), so
// nothing said it was not node-b's: router-1's forwarding read as node-b's, "node-b/eth0 →
// node-b/eth1" a host segment, with no word of doubt. The same packets are at node-b/eth0, those
// leaving node-b later in the renamed file and those coming to it earlier: it is further out on
// eth0's link, a router's interface facing node-b or a device under eth0 (a bridge's port), which
// the frames cannot tell. Its problem now says it may be a router's and names --point; it is still
// read as named. Neither of node-b's own files is flagged, nor (labout) vlan-ipip's eth0 under
// eth0.100.
func TestMisnamedRouterFacing(t *testing.T) {
	dir := t.TempDir()
	in := misnamedInputs(t, "../testdata/lab/scenarios/router-three-ifaces", dir, map[string]string{"router-1-eth1.pcap": "node-b-eth1.pcap"})
	for _, scan := range []bool{false, true} {
		var c *decode.Capture
		if scan {
			c = decode.ScanPoints(in, decode.Options{}, decode.NewTables(), decode.PointConfig{})
		} else {
			c = decode.Load(in, decode.Options{}, decode.PointConfig{})
			for _, a := range Correlate(c, Options{}).Anomalies {
				if a.Severity == sevError {
					t.Errorf("%s %s at %s → %s", a.Severity, a.Kind, a.Where.From, a.Where.To)
				}
			}
		}
		checkMisnamedSaid(t, c, dir)
		for _, fi := range c.Files {
			if want := filepath.Dir(fi.Path) == dir; (fi.MaybeRouter != "") != want || want && !strings.Contains(fi.MaybeRouter, "node-b/eth0") {
				t.Errorf("scan %v: %s: MaybeRouter %q, want one naming node-b/eth0: %v", scan, fi.Path, fi.MaybeRouter, want)
			}
		}
	}
}

// router-1's eth1, facing node-b, renamed node-a-eth1.pcap holds none of node-a's pods' packets where
// router-1 dropped them or had no route on (empty, or node-b's ARP only): nothing in it says it is
// node-a's, yet it was read as node-a's second underlay, after eth0 on its packets' path, and calipath
// said "ERROR host-drop at node-a/eth0 → node-a/eth1", a drop inside node-a. The file's problem now says
// it may be a router's and names both fixes, and the drop is a warning that starts "Uncertain:".
func TestMisnamedRouterBlank(t *testing.T) {
	for _, scenario := range []string{"snat-external", "underlay-drop-proto4", "vxlan6-underlay-drop", "wireguard-blocked"} {
		t.Run(scenario, func(t *testing.T) {
			dir := t.TempDir()
			in := misnamedInputs(t, filepath.Join("../testdata/lab/scenarios", scenario), dir, map[string]string{"router-1-eth1.pcap": "node-a-eth1.pcap"})
			c := decode.Load(in, decode.Options{}, decode.PointConfig{})
			var hedged []string
			for _, a := range Correlate(c, Options{}).Anomalies {
				switch {
				case a.Kind == "host-drop" && a.Severity == sevError:
					t.Errorf("%s %s at %s → %s", a.Severity, a.Kind, a.Where.From, a.Where.To)
				case a.Kind == "host-drop" && strings.HasPrefix(a.Message, "Uncertain: "+filepath.Join(dir, "node-a-eth1.pcap")):
					hedged = append(hedged, a.Where.From+"→"+a.Where.To)
				}
			}
			if len(hedged) != 1 || hedged[0] != "node-a/eth0→node-a/eth1" {
				t.Errorf("uncertain host-drop at %q, want node-a/eth0→node-a/eth1", hedged)
			}
			checkMisnamedSaid(t, c, dir)
		})
	}
}

// BGP (healthy-bgp): router-1's eth0 (node-a's link) or eth1 (node-b's) renamed node-b-eth1.pcap,
// holding none of node-b's pods' packets (left out, as where pod-b answered nothing), holds node-a's
// pods' packets unencapsulated: no outer header to compare TTLs, so nothing was looked at and the file
// was read as node-b's with no word of doubt. Their own TTL now counts as the outer one does (63 as
// node-a sends them on: on node-a's link; 62: past a router). On node-a's link, as they name no node's
// address, what the link resolved cannot put node-b on it: the file is in doubt, its problem says it
// may be a router's and names both fixes. Past a router the file is in doubt when its link resolved
// nothing (router-1-eth1 without its ARP); with the last router resolving an address it is what
// node-b's own eth0 shows, and read as named (state-neigh-failed's node-b eth0). Without node-b's own
// eth0 (alone) too: nothing else of node-b's underlay to compare with.
func TestMisnamedRouterBGP(t *testing.T) {
	for _, router := range []string{"router-1-eth0.pcap", "router-1-eth1.pcap"} {
		for _, alone := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s-alone-%v", router, alone), func(t *testing.T) {
				dir := t.TempDir()
				in := misnamedInputs(t, "../testdata/lab/scenarios/healthy-bgp", dir, map[string]string{router: "node-b-eth1.pcap"})
				if alone {
					in = slices.DeleteFunc(in, func(f string) bool { return filepath.Base(f) == "node-b-eth0.pcap" })
				}
				podB := []byte{10, 244, 2, 7} // pod-b (testdata/lab/README.md)
				if n := dropFrames(t, filepath.Join(dir, "node-b-eth1.pcap"), func(f []byte) bool {
					return len(f) >= 34 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && bytes.Equal(f[26:30], podB)
				}); n == 0 {
					t.Fatal("no packet of pod-b's to leave out")
				}
				if router == "router-1-eth1.pcap" {
					stripResolution(t, filepath.Join(dir, "node-b-eth1.pcap"))
				}
				c := decode.Load(in, decode.Options{}, decode.PointConfig{})
				for _, a := range Correlate(c, Options{}).Anomalies {
					if a.Severity == sevError {
						t.Errorf("%s %s at %s → %s", a.Severity, a.Kind, a.Where.From, a.Where.To)
					}
				}
				checkMisnamedSaid(t, c, dir)
				for _, fi := range c.Files {
					if filepath.Dir(fi.Path) == dir && !strings.Contains(fi.MaybeRouter, "unencapsulated") {
						t.Errorf("%s: MaybeRouter %q, want one saying its packets were unencapsulated", fi.Path, fi.MaybeRouter)
					}
				}
			})
		}
	}
}

// state-neigh-failed (BGP; node-b's pod answers nothing): node-b's own eth0 holds node-a's pods'
// packets past router-1 and none of node-b's, with router-1 resolving 192.168.20.2: read as node-b's,
// as the node's own eth0 shows no less, whether or not that address is known. healthy-bgp's router-1
// eth0 renamed node-b-eth1.pcap without pod-b's packets is in doubt (TestMisnamedRouterBGP): node-a
// resolved 192.168.10.1 there, its gateway or node-b's own address on node-a's link (a multi-homed
// node-b); given as node-b's (--node-ip, cluster metadata), node-b is on that link and the file is
// read as node-b's with no doubt. It was in doubt then too: the node's own addresses were not looked at.
func TestMisnamedRouterOwnAddress(t *testing.T) {
	in, _ := filepath.Glob("../testdata/lab/scenarios/state-neigh-failed/node-*-*.pcap")
	in = slices.DeleteFunc(in, func(f string) bool { return strings.HasSuffix(f, "-any.pcap") })
	for _, known := range []bool{false, true} {
		var cfg decode.PointConfig
		if known {
			cfg.NodeIPs = map[string][]netip.Addr{"node-b": {netip.MustParseAddr("192.168.20.2")}}
		}
		for _, fi := range decode.Load(in, decode.Options{}, cfg).Files {
			if fi.MaybeRouter != "" {
				t.Errorf("state-neigh-failed, node-b's address known %v: %s: MaybeRouter %q, want none", known, fi.Path, fi.MaybeRouter)
			}
		}
		dir := t.TempDir()
		rin := misnamedInputs(t, "../testdata/lab/scenarios/healthy-bgp", dir, map[string]string{"router-1-eth0.pcap": "node-b-eth1.pcap"})
		podB := []byte{10, 244, 2, 7}
		dropFrames(t, filepath.Join(dir, "node-b-eth1.pcap"), func(f []byte) bool {
			return len(f) >= 34 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && bytes.Equal(f[26:30], podB)
		})
		if known {
			cfg.NodeIPs["node-b"] = append(cfg.NodeIPs["node-b"], netip.MustParseAddr("192.168.10.1"))
		}
		for _, fi := range decode.Load(rin, decode.Options{}, cfg).Files {
			if doubt := filepath.Dir(fi.Path) == dir && !known; (fi.MaybeRouter != "") != doubt {
				t.Errorf("healthy-bgp, 192.168.10.1 node-b's %v: %s: MaybeRouter %q, want one %v", known, fi.Path, fi.MaybeRouter, doubt)
			}
		}
	}
}

// router-1's eth1, facing node-b, renamed node-b-eth0.pcap in clock-skew and clock-drift (node-b's
// clock 2.5 s ahead, router-1's not), with node-b's own eth0 left out: the renamed file is node-b's
// only underlay file, with nothing to compare its TTLs with, and was read as node-b's: router-1's
// clock taken for node-b's, and calipath said "ERROR encap-drop at node-b/tunl0 → node-b/eth0" where
// the lab has no loss. Every node-b's pods' packet leaving node-b is in it 2.5 s before node-b's pod
// veth saw it, which one host's clock cannot do: it is now read as a node of its own with its own
// clock, its problem naming --point, and the lab's truth follows (no loss; node-b's clock 2.5 s off).
// With node-b's own eth0 too (TestMisnamedRouterUnordered's shape), that one stays node-b's.
func TestMisnamedRouterOwnClock(t *testing.T) {
	for _, scenario := range []string{"clock-skew", "clock-drift"} {
		for _, own := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s-own-eth0-%v", scenario, own), func(t *testing.T) {
				dir := t.TempDir()
				to := "node-b-eth0.pcap"
				if own {
					to = "node-b-eth1.pcap"
				}
				in := misnamedInputs(t, filepath.Join("../testdata/lab/scenarios", scenario), dir, map[string]string{"router-1-eth1.pcap": to})
				if !own {
					in = slices.DeleteFunc(in, func(f string) bool { return filepath.Base(f) == "node-b-eth0.pcap" && filepath.Dir(f) != dir })
				}
				c := decode.Load(in, decode.Options{}, decode.PointConfig{})
				skew := false
				for _, a := range Correlate(c, Options{}).Anomalies {
					switch {
					case a.Severity == sevError, strings.HasPrefix(a.Message, "Uncertain:"):
						t.Errorf("%s %s at %s → %s: %.200s", a.Severity, a.Kind, a.Where.From, a.Where.To, a.Message)
					case a.Kind == "clock-skew" && a.Where.Node == "node-b":
						skew = true
					}
				}
				if !skew {
					t.Error("no clock-skew at node-b (the lab's truth)")
				}
				checkMisnamedSaid(t, c, dir)
				sc := decode.ScanPoints(in, decode.Options{}, decode.NewTables(), decode.PointConfig{})
				for _, cc := range []*decode.Capture{c, sc} {
					ids := pointIDs(cc)
					want := strings.TrimSuffix(to, ".pcap") + "/" + strings.TrimSuffix(strings.TrimPrefix(to, "node-b-"), ".pcap")
					if !slices.Contains(ids, want) || own != slices.Contains(ids, "node-b/eth0") {
						t.Errorf("points %q: want %s, and node-b/eth0 %v", ids, want, own)
					}
					for _, fi := range cc.Files {
						if fi.MaybeRouter != "" {
							t.Errorf("%s: MaybeRouter %q, want none", fi.Path, fi.MaybeRouter)
						}
					}
				}
			})
		}
	}
}

// router-three-ifaces (BGP): router-1's eth2, toward ext-1, renamed node-b-eth1.pcap holds none of
// node-b's pods' packets nor any to them, only node-a's pod's to ext-1 (203.0.113.10) past router-1
// (TTL 62), on a link where router-1 resolved 203.0.113.10 itself. Past a router on a link that
// resolved an address, it was read as node-b's with no word of doubt: node-b/eth1 on pod-a's path to
// pod-b, "captured one direction only" there. Their own destination resolved on the link says they
// were delivered there, not on their way to node-b: it is now read as a node of its own, its problem
// naming --point, and router-three-ifaces-drop's drop is where the correctly named files put it
// (node-a/eth0 → router-1/eth2 named so; the truth's router-1/eth0 → router-1/eth2, router-1/eth0 not
// given). Without ext-1's resolution of its own address (router-1 resolving 203.0.113.1 only, for
// ext-1), the link resolved another address: nothing says node-b is on it, and the file is in doubt
// instead (read as named: its capture-one-way is what reading it as node-b's gives).
func TestMisnamedRouterBGPDelivered(t *testing.T) {
	ext := [4]byte{203, 0, 113, 10}
	for _, tc := range []struct {
		scenario, drop string
		strip          bool
	}{
		{"router-three-ifaces", "", false},
		{"router-three-ifaces-drop", "node-a/eth0→node-b-eth1/eth1", false},
		{"router-three-ifaces", "", true},
	} {
		t.Run(fmt.Sprintf("%s-strip-%v", tc.scenario, tc.strip), func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join("../testdata/lab/scenarios", tc.scenario)
			in := append(misnamedInputs(t, src, dir, map[string]string{"router-1-eth2.pcap": "node-b-eth1.pcap"}), filepath.Join(src, "ext-1-eth0.pcap"))
			if tc.strip {
				// ARP resolving 203.0.113.10: a request for it, or a reply from it.
				if n := dropFrames(t, filepath.Join(dir, "node-b-eth1.pcap"), func(f []byte) bool {
					if len(f) < 42 || binary.BigEndian.Uint16(f[12:]) != 0x0806 {
						return false
					}
					op := binary.BigEndian.Uint16(f[20:])
					return op == 1 && [4]byte(f[38:42]) == ext || op == 2 && [4]byte(f[28:32]) == ext
				}); n == 0 {
					t.Fatal("no resolution of 203.0.113.10 to leave out")
				}
			}
			c := decode.Load(in, decode.Options{}, decode.PointConfig{})
			var drops []string
			for _, a := range Correlate(c, Options{}).Anomalies {
				switch {
				case a.Kind == "capture-one-way" && !tc.strip:
					t.Errorf("%s %s at %s", a.Severity, a.Kind, a.Where.Point)
				case a.Severity == sevError:
					drops = append(drops, a.Where.From+"→"+a.Where.To)
				}
			}
			// router-three-ifaces-drop: the renamed file (router-1's eth2, read as a router of its own) and
			// ext-1's eth0 are both bounded on one side only by node-a's clock, taken at their limits: a
			// packet's sightings at node-a/eth0, at them and beyond took one corrected time, and nothing but
			// the files' order (the paths' sorted order, here ext-1-eth0.pcap first) put ext-1/eth0 first,
			// and the drop at node-a/eth0 → ext-1/eth0, past the router's file that did not see the packets
			// either. The pings both ways between them order them whatever the clocks (orderOpenHops): the
			// replies took longer from the renamed file to ext-1's and back than at ext-1's, so the renamed
			// file is further from ext-1, and the drop is before it.
			if tc.drop == "" && len(drops) > 0 || tc.drop != "" && (len(drops) != 1 || drops[0] != tc.drop) {
				t.Errorf("errors at %q, want %q", drops, tc.drop)
			}
			checkMisnamedSaid(t, c, dir)
			sc := decode.ScanPoints(in, decode.Options{}, decode.NewTables(), decode.PointConfig{})
			for _, cc := range []*decode.Capture{c, sc} {
				ids := pointIDs(cc)
				if slices.Contains(ids, "node-b/eth1") != tc.strip {
					t.Errorf("points %q: node-b/eth1 %v, want %v", ids, !tc.strip, tc.strip)
				}
				for _, fi := range cc.Files {
					if doubt := tc.strip && filepath.Dir(fi.Path) == dir; (fi.MaybeRouter != "") != doubt {
						t.Errorf("%s: MaybeRouter %q, want one %v", fi.Path, fi.MaybeRouter, doubt)
					}
				}
			}
		})
	}
}

// router-1's two captures renamed as the nodes' (eth0 as node-b-eth1.pcap, eth1 as node-a-eth1.pcap)
// are each read as a router of its own (TestMisnamedRouter, TestMisnamedRouterOuter), and nothing
// said they were one: two routers, node-b-eth1 and node-a-eth1, where the lab has one, router-1, and
// router-any-drop's drop inside it read as one between two routers. The same packets cross both one
// router hop apart (TTL or hop limit, the outer one in IP-in-IP and VXLAN, one lower and later in the
// one further on), so they are on two links of one router: maybe its two interfaces, which the frames
// cannot tell from other devices' on those links. Each file's problem now says so, naming the other
// and how to give both as one router's. two-routers' router-1 eth0 and router-2 eth1, renamed so, are
// two hops apart: not said.
func TestMisnamedRouterOneHop(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		renamed  map[string]string
		said     bool
	}{
		{"router-any-drop", map[string]string{"truth-captures/router-1-eth0.pcap": "node-b-eth1.pcap", "truth-captures/router-1-eth1.pcap": "node-a-eth1.pcap"}, true},
		{"healthy-ipip", map[string]string{"router-1-eth0.pcap": "node-b-eth1.pcap", "router-1-eth1.pcap": "node-a-eth1.pcap"}, true},
		{"healthy-vxlan", map[string]string{"router-1-eth0.pcap": "node-b-eth1.pcap", "router-1-eth1.pcap": "node-a-eth1.pcap"}, true},
		{"mtu-blackhole6", map[string]string{"router-1-eth0.pcap": "node-b-eth1.pcap", "router-1-eth1.pcap": "node-a-eth1.pcap"}, true},
		{"two-routers", map[string]string{"router-1-eth0.pcap": "node-b-eth1.pcap", "router-2-eth1.pcap": "node-a-eth1.pcap"}, false},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			dir := t.TempDir()
			in := misnamedInputs(t, filepath.Join("../testdata/lab/scenarios", tc.scenario), dir, tc.renamed)
			sc := decode.ScanPoints(in, decode.Options{}, decode.NewTables(), decode.PointConfig{})
			for _, c := range []*decode.Capture{decode.Load(in, decode.Options{}, decode.PointConfig{}), sc} {
				checkMisnamedSaid(t, c, dir)
				for _, fi := range c.Files {
					other := "node-a-eth1.pcap"
					if filepath.Base(fi.Path) == other {
						other = "node-b-eth1.pcap"
					}
					said := false
					for _, p := range fi.Problems {
						said = said || strings.Contains(p, "one router hop apart") && strings.Contains(p, "and "+filepath.Join(dir, other)+",")
					}
					if want := tc.said && filepath.Dir(fi.Path) == dir; said != want {
						t.Errorf("%s: one router hop from %s said %v, want %v: %q", fi.Path, other, said, want, fi.Problems)
					}
				}
			}
		})
	}
}

// router-1's eth1, facing node-b, renamed node-b-eth1.pcap in healthy-ipip with router-1's clock 500 us
// ahead of node-b's: the same packets as node-b's eth0 with the same TTLs, and times that put neither
// file further out (router-1 sees the packets coming to node-b after node-b's eth0 does), yet within
// 1 ms of node-b's own order against its pod veth and tunnel, so foreignClocks cannot say whose clock
// it is: both files say one of the two is not node-b's and name the fixes (farEnds), and no error is
// said. (clock-skew's 2.5 s is told, TestMisnamedRouterOwnClock.)
func TestMisnamedRouterUnordered(t *testing.T) {
	dir := t.TempDir()
	in := misnamedInputs(t, "../testdata/lab/scenarios/healthy-ipip", dir, map[string]string{"router-1-eth1.pcap": "node-b-eth1.pcap"})
	path := filepath.Join(dir, "node-b-eth1.pcap")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	shiftCapture(t, b, 500*time.Microsecond)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	c := decode.Load(in, decode.Options{}, decode.PointConfig{})
	for _, a := range Correlate(c, Options{}).Anomalies {
		if a.Severity == sevError {
			t.Errorf("%s %s at %s → %s", a.Severity, a.Kind, a.Where.From, a.Where.To)
		}
	}
	for _, fi := range c.Files {
		said := strings.Contains(strings.Join(fi.Problems, "\n"), "--point ROUTER:IFACE=")
		switch filepath.Base(fi.Path) {
		case "node-b-eth1.pcap", "node-b-eth0.pcap":
			if !said || !strings.Contains(fi.MaybeRouter, "neither further out") {
				t.Errorf("%s: MaybeRouter %q, problems %q: want both saying neither is further out and naming --point", fi.Path, fi.MaybeRouter, fi.Problems)
			}
		default:
			if said || fi.MaybeRouter != "" {
				t.Errorf("%s: MaybeRouter %q, problems %q: want none", fi.Path, fi.MaybeRouter, fi.Problems)
			}
		}
	}
}

// pointIDs lists a capture's points by id, in their order.
func pointIDs(c *decode.Capture) []string {
	var ids []string
	for _, p := range c.Points {
		ids = append(ids, p.ID)
	}
	return ids
}

// clusterip-two-nodes without pod-a's cali (node-a-cali5e1c4d6c68c.pcap left out): node-a's only
// captured pod, pod-c, never crossed node-a's eth0, so node-a-eth0.pcap held none of node-a's known
// pods' packets, and node-b's pods' packets in it, past router-1, on a link where node-a resolved
// router-1, put it in doubt: "named as node-a's eth0, but it may be a router's". Pod-a's 10.244.1.5
// there is in the address block of node-a's captured pod (10.244.1.9, a /26 node-b's pods are not
// in): it is now read as node-a's pod, and the file as node-a's with no doubt. router-1's eth1,
// facing node-b, renamed node-a-eth1.pcap then holds node-a's pods' packets one router hop past
// node-a's eth0 (outer TTL 62 where eth0 shows 63): read as a router of its own (it was in doubt,
// read as node-a's, before).
func TestMisnamedRouterUncapturedPod(t *testing.T) {
	src := "../testdata/lab/scenarios/clusterip-two-nodes"
	var in []string
	for _, f := range []string{"node-a-cali3754a2f57f6.pcap", "node-a-eth0.pcap", "node-a-tunl0.pcap", "node-b-cali2f5353dd8c5.pcap",
		"node-b-eth0.pcap", "node-b-tunl0.pcap", "router-1-eth0.pcap"} {
		in = append(in, filepath.Join(src, f))
	}
	for _, router := range []bool{false, true} {
		t.Run(fmt.Sprintf("router-1-eth1-as-node-a-%v", router), func(t *testing.T) {
			dir := t.TempDir()
			files := slices.Clone(in)
			if router {
				files = append(files, filepath.Join(dir, "node-a-eth1.pcap"))
				b, err := os.ReadFile(filepath.Join(src, "router-1-eth1.pcap"))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "node-a-eth1.pcap"), b, 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				files = append(files, filepath.Join(src, "router-1-eth1.pcap"))
			}
			for _, scan := range []bool{false, true} {
				c := decode.Load(files, decode.Options{}, decode.PointConfig{})
				if scan {
					c = decode.ScanPoints(files, decode.Options{}, decode.NewTables(), decode.PointConfig{})
				}
				checkMisnamedSaid(t, c, dir)
				for _, fi := range c.Files {
					if fi.MaybeRouter != "" {
						t.Errorf("scan %v: %s: MaybeRouter %q, want none", scan, fi.Path, fi.MaybeRouter)
					}
				}
				var eth0 bool
				for _, p := range c.Points {
					eth0 = eth0 || p.ID == "node-a/eth0"
					if p.ID == "node-a/eth1" {
						t.Errorf("scan %v: point %s: router-1's capture read as node-a's", scan, p.ID)
					}
				}
				if !eth0 {
					t.Errorf("scan %v: no point node-a/eth0", scan)
				}
			}
		})
	}
}
