package correlate

import (
	"encoding/binary"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/testtool"
)

// idlePrefix returns n frames that node (its eth0 capture's frames, taken from eth0) sends before the
// capture's traffic, 1 ms apart, ending 1 s before the first frame: "arp", its ARP requests for an
// address no one has (broadcast); "one-way", its own UDP datagrams to a host that never answers
// (syslog), each with an IP id of its own; "answered", the same datagrams with every other one the
// host's answer (a request/response exchange with a host off the cluster). None is seen at any other
// interface. Their IPv4 header checksums are right (csum gives the complement already): a frame with a
// wrong one decodes as damaged, and the merged-capture probe passes over damaged frames, so a
// "one-way" prefix with wrong checksums was no IP traffic to it, as the ARP one, and did not test
// that one stage's unanswered IP traffic does not make a file one interface's.
func idlePrefix(t *testing.T, eth0 string, shape string, n int) (ts []int64, frames [][]byte) {
	t.Helper()
	lts, lfr := readLabPcap(t, eth0)
	var mac []byte // the node's frames' destination and source MACs, and its address
	var ip []byte
	for _, f := range lfr { // an encapsulated frame the node sent: outer protocol 4, its node address first
		if len(f) > 34 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[23] == 4 && f[26] == 192 {
			if n, _ := decode.SplitFileName(eth0); (n == "node-a") == (f[29] == 2 && f[28] == 10) {
				mac, ip = f[:12], f[26:30]
				break
			}
		}
	}
	if mac == nil {
		t.Fatalf("%s: no encapsulated frame sent by its node", eth0)
	}
	for i := range n {
		var f []byte
		switch shape {
		case "arp":
			f = append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac[6:12]...)
			f = append(f, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1)
			f = append(append(f, mac[6:12]...), ip...)
			f = append(append(f, 0, 0, 0, 0, 0, 0), ip[0], ip[1], ip[2], 77)
		case "one-way":
			f = append(append([]byte{}, mac...), 0x08, 0)
			h := []byte{0x45, 0, 0, 28 + 8, byte(i >> 8), byte(i), 0x40, 0, 64, 17, 0, 0}
			h = append(append(h, ip...), ip[0], ip[1], ip[2], 99)
			binary.BigEndian.PutUint16(h[10:], csum(h))
			f = append(append(f, h...), 0x02, 0x02, 0x02, 0x02, 0, 16, 0, 0, 'i', 'd', 'l', 'e', ' ', 'l', 'o', 'g')
		case "answered":
			src, dst, smac, dmac := ip, []byte{ip[0], ip[1], ip[2], 99}, mac[6:12], mac[:6]
			if i%2 == 1 {
				src, dst, smac, dmac = dst, src, dmac, smac
			}
			f = append(append(append([]byte{}, dmac...), smac...), 0x08, 0)
			h := []byte{0x45, 0, 0, 28 + 8, byte(i >> 8), byte(i), 0x40, 0, 64, 17, 0, 0}
			h = append(append(h, src...), dst...)
			binary.BigEndian.PutUint16(h[10:], csum(h))
			f = append(append(f, h...), 0x13, 0x88, 0x13, 0x88, 0, 16, 0, 0, 'h', 'e', 'a', 'l', 't', 'h', byte(i>>8), byte(i))
		}
		ts = append(ts, lts[0]-1e9-int64(n-i)*1e6)
		frames = append(frames, f)
	}
	return append(ts, lts...), append(frames, lfr...)
}

// A node's captures merged by mergecap whose first 4,096 records show no packet at two stages — a
// long prefix of the node's ARP requests, or of its own datagrams one way to a host that never
// answers, 6,000 frames on eth0 only — were not split: the probe stopped after 1,024 records of one
// stage and read the file as one point, node-X/unknown (healthy-ipip with the ARP prefix: "summary:
// 53 journeys, 53 delivered" where the per-file run has 27, and false retransmissions). The probe now
// reads on while the file does not tell (to 64 MiB), and stops early on one stage only when its
// traffic is answered there: the verdicts equal those of the per-file captures with the same prefix,
// and no per-file capture is split.
func TestMergecapLongPrefix(t *testing.T) {
	testtool.Path(t, testtool.Mergecap) // skips or fails here, as the tools' tests do, when mergecap is missing
	for _, sc := range []string{"healthy-ipip", "mtu-blackhole"} {
		for _, shape := range []string{"arp", "one-way"} {
			t.Run(sc+"/"+shape, func(t *testing.T) {
				perFile, merged := prefixedMerged(t, sc, shape, 6000, func(node string) bool { return strings.HasPrefix(node, "node-") })
				pc := decode.Load(perFile, decode.Options{}, decode.PointConfig{})
				for _, p := range pc.Points {
					if strings.Contains(p.ID, "#") {
						t.Errorf("per-file capture split into stages: %s", p.ID)
					}
				}
				want := stageVerdicts(Correlate(pc, Options{}))
				mc := decode.Load(merged, decode.Options{}, decode.PointConfig{})
				got := stageVerdicts(Correlate(mc, Options{}))
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("merged captures:\n  %s\nper-file captures:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
				}
				for _, f := range mc.Files {
					for _, p := range f.Problems {
						if strings.Contains(p, "merged") {
							t.Errorf("problem: %s", p)
						}
					}
				}
			})
		}
	}
}

// tunl0-cali-drop's node-b captures merged by mergecap (node-b.pcap, as the README names a merged
// file): its pod's veth captured nothing (the packets were dropped between tunl0 and it), so the file
// holds node-b's eth0 frames only, each as it was: nothing in it tells it was merged, and the per-file
// run's "ERROR delivery-drop at node-b/tunl0 → node-b/cali2f5353dd8c5 (9)" rests on the empty veth
// file alone. The packets are then not captured past node-b/tunl0 (never delivered, never a guessed
// drop), and the point-unnamed warning of node-b.pcap says that a merged file could not be split, that
// an interface that captured nothing leaves no trace in it, and to give each interface its own file
// (on main it said only to rename the file).
func TestMergecapEmptyInterface(t *testing.T) {
	mergecap := testtool.Path(t, testtool.Mergecap)
	src := "../testdata/lab/scenarios/tunl0-cali-drop/"
	out := filepath.Join(t.TempDir(), "node-b.pcap")
	if b, err := exec.Command(mergecap, "-w", out, "-F", "pcap", src+"node-b-cali2f5353dd8c5.pcap", src+"node-b-eth0.pcap").CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v: %s", err, b)
	}
	files := []string{out, src + "node-b-tunl0.pcap"}
	for _, f := range []string{"node-a-cali5e1c4d6c68c", "node-a-tunl0", "node-a-eth0", "router-1-eth0", "router-1-eth1"} {
		files = append(files, src+f+".pcap")
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	if s := r.Summary; s.Delivered != 0 || s.Lost != 0 || s.NotCaptured != s.Journeys {
		t.Errorf("summary %+v, want every packet not captured", s)
	}
	var an *Anomaly
	for i, a := range r.Anomalies {
		if a.Severity == sevError {
			t.Errorf("error from a file that cannot show it: %+v", a)
		}
		if a.Kind == "point-unnamed" && a.Where.Point == "node-b/unknown" {
			an = &r.Anomalies[i]
		}
	}
	if an == nil || !strings.Contains(an.Message, "If node-b.pcap is node-b's captures merged into one file") ||
		!strings.Contains(an.Message, "leaves no trace in a merged file") || !strings.Contains(an.Next, "each interface's capture as its own file") {
		t.Errorf("point-unnamed of node-b.pcap: %+v", an)
	}
}
