package correlate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// forwarded counts the IP packets of lab scenario dir that router-1 forwarded between its eth0 and
// eth1: frames of the two captures with the same IP id, protocol, addresses and first 20 bytes after
// the IP header (after the frame's VLAN tag, if any); IPv6 (healthy-vxlan6), which has no IP id: the
// same payload length, next header, addresses and first 20 bytes after the header.
func forwarded(t *testing.T, dir string) int {
	key := func(f []byte) string {
		if len(f) >= 18 && f[12] == 0x81 && f[13] == 0 { // an 802.1Q tag (vlan-ipip's router-1 eth0)
			f = append(f[:12:12], f[16:]...)
		}
		if len(f) >= 74 && f[12] == 0x86 && f[13] == 0xdd {
			return "6" + string(f[18:21]) + string(f[22:74])
		}
		if len(f) < 54 || f[12] != 8 || f[13] != 0 {
			return ""
		}
		return string(f[18:20]) + string(f[23:24]) + string(f[26:54])
	}
	seen := map[string]bool{}
	_, fr := readLabPcap(t, filepath.Join(dir, "router-1-eth0.pcap"))
	for _, f := range fr {
		seen[key(f)] = true
	}
	n := 0
	_, fr = readLabPcap(t, filepath.Join(dir, "router-1-eth1.pcap"))
	for _, f := range fr {
		if k := key(f); k != "" && seen[k] {
			n++
		}
	}
	return n
}

// routerPair reports whether lab scenario dir holds both of router-1's node links' captures (oneway
// leaves router-1-eth0.pcap out).
func routerPair(dir string) bool {
	for _, f := range []string{"router-1-eth0.pcap", "router-1-eth1.pcap"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// A router's two interfaces merged into one file in time order (router-1-eth0.pcap and -eth1.pcap of
// each lab scenario with both, written as one router-1-eth0.pcap, as mergecap -w does): each packet the
// router forwarded is there twice, microseconds apart, the second time with the TTL one lower and
// other MACs. There is no ee:ee:ee:ee:ee:ee on a router to tell it merged, and it was read as one
// interface without a word; a drop inside the router then reads as one after it: on main mtu-blackhole
// said "ERROR pmtu-blackhole at router-1/eth0 → node-a/eth0 (6)" (per file: router-1/eth1 →
// router-1/eth0: the packets never reached eth0), underlay-drop-proto4 "underlay-drop at router-1/eth0 →
// node-b/eth0", and underlay-loss "8 lost, 1 not captured" (per file: 9 lost). The file's problems now
// say it holds packets twice one router apart and to give each interface its own file, and the
// summary's unreliable names it, wherever the router forwarded 4 packets or more between the two
// (forwarded; underlay-drop-proto4's router-1 forwarded none: its eth1 holds no copy, the file is as
// eth0's alone, and nothing is said). The per-interface captures say nothing of it.
func TestMergedRouter(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*")
	ran, flagged := 0, 0
	for _, dir := range dirs {
		if !routerPair(dir) {
			continue
		}
		ran++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var both []timedFrames
			var perFile, merged []string
			all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
			for _, p := range all {
				switch base := filepath.Base(p); {
				case strings.HasSuffix(base, "-any.pcap"):
				case base == "router-1-eth0.pcap" || base == "router-1-eth1.pcap":
					ts, fr := readLabPcap(t, p)
					both = append(both, timedFrames{Ts: ts, Data: fr})
					perFile = append(perFile, p)
				default:
					perFile, merged = append(perFile, p), append(merged, p)
				}
			}
			out := filepath.Join(t.TempDir(), "router-1-eth0.pcap")
			writeTimeMerged(t, out, both)
			merged = append(merged, out)

			pc := decode.Load(perFile, decode.Options{}, decode.PointConfig{})
			if u := Correlate(pc, Options{}).Summary.Unreliable; strings.Contains(u, "one router apart") {
				t.Errorf("per-interface captures: unreliable %q", u)
			}
			for _, f := range pc.Files {
				if f.Routed {
					t.Errorf("per-interface capture %s taken for a router's merged interfaces: %v", f.Path, f.Problems)
				}
			}
			mc := decode.Load(merged, decode.Options{}, decode.PointConfig{})
			fi := mc.Files[len(mc.Files)-1]
			want := forwarded(t, dir) >= 4
			if want {
				flagged++
			}
			p := strings.Join(fi.Problems, "\n")
			if said := strings.Contains(p, "a router's interfaces merged into one file") &&
				strings.Contains(p, "give each of the router's interfaces as its own file"); said != want || fi.Routed != want {
				t.Errorf("merged router-1 (want it said: %v): routed %v, problems %q", want, fi.Routed, fi.Problems)
			}
			u := Correlate(mc, Options{}).Summary.Unreliable
			if said := strings.Contains(u, "router-1-eth0.pcap holds packets twice, one router apart") &&
				strings.Contains(u, "counts are unreliable"); said != want {
				t.Errorf("summary's unreliable (want it said: %v): %q", want, u)
			}
		})
	}
	if ran < 20 || flagged < 15 {
		t.Errorf("only %d lab scenarios have router-1's two captures, %d with packets it forwarded", ran, flagged)
	}
}
