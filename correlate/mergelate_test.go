package correlate

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/testtool"
)

// vethPrefix is the frames of the lab capture cali (a pod's veth) with n frames before them of
// answered traffic at that veth alone: the pod's DNS-like exchange with 198.51.100.7, a host off the
// cluster (its request to ee:ee:ee:ee:ee:ee, the answer from it), 1 ms apart, ending a second before
// the lab's first frame.
func vethPrefix(t *testing.T, cali string, n int) (ts []int64, frames [][]byte) {
	t.Helper()
	lts, lfr := readLabPcap(t, cali)
	var pod, ip []byte // the pod's MAC and address
	for _, f := range lfr {
		if len(f) > 34 && [6]byte(f[:6]) == decode.CalicoMAC && binary.BigEndian.Uint16(f[12:]) == 0x0800 {
			pod, ip = f[6:12], f[26:30]
			break
		}
	}
	if pod == nil {
		t.Fatalf("%s: no IPv4 frame sent by its pod", cali)
	}
	far := []byte{198, 51, 100, 7}
	for i := range n {
		src, dst, smac, dmac, ttl := ip, far, pod, decode.CalicoMAC[:], byte(64)
		if i%2 == 1 {
			src, dst, smac, dmac, ttl = far, ip, decode.CalicoMAC[:], pod, 60
		}
		f := append(append(append([]byte{}, dmac...), smac...), 0x08, 0)
		h := []byte{0x45, 0, 0, 28 + 8, byte(i >> 8), byte(i), 0x40, 0, ttl, 17, 0, 0}
		h = append(append(h, src...), dst...)
		binary.BigEndian.PutUint16(h[10:], csum(h))
		f = append(append(f, h...), 0xc3, 0x50, 0, 53, 0, 16, 0, 0, 'l', 'o', 'o', 'k', 'u', 'p', byte(i>>8), byte(i))
		ts = append(ts, lts[0]-1e9-int64(n-i)*1e6)
		frames = append(frames, f)
	}
	return append(ts, lts...), append(frames, lfr...)
}

// lateMergedLab is lab scenario sc's per-interface captures with n frames of answered traffic first
// at node-a's eth0 (first "eth0": idlePrefix "answered") or at its pod's veth (first "cali":
// vethPrefix), and the same with node-a's veth and eth0 captures in one file, node-a.pcap: the one
// with the prefix written whole first, then the other (as mergecap -a concatenates its inputs), or
// (concat false) both merged in time order as mergecap -w does; the file is named name. tunl0 (a raw-IP capture) and the
// other nodes' files stay their own.
func lateMergedLab(t *testing.T, sc, first, name string, n int, concat bool) (perFile, merged []string) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("../testdata/lab/scenarios", sc)
	all, _ := filepath.Glob(filepath.Join(src, "*.pcap"))
	var ours [2]string // node-a's eth0 and veth files, with the prefix
	for _, p := range all {
		node, iface := decode.SplitFileName(p)
		switch {
		case strings.HasSuffix(p, "-any.pcap"):
		case node == "node-a" && (iface == "eth0" || strings.HasPrefix(iface, "cali")):
			k := 0
			if iface != "eth0" {
				k = 1
			}
			ours[k] = filepath.Join(dir, filepath.Base(p))
			var ts []int64
			var fr [][]byte
			switch {
			case first == "eth0" && k == 0:
				ts, fr = idlePrefix(t, p, "answered", n)
			case first == "cali" && k == 1:
				ts, fr = vethPrefix(t, p, n)
			default:
				ts, fr = readLabPcap(t, p)
			}
			writePcap(t, ours[k], ts, fr)
			perFile = append(perFile, ours[k])
		default:
			perFile, merged = append(perFile, p), append(merged, p)
		}
	}
	if ours[0] == "" || ours[1] == "" {
		t.Fatalf("%s: no node-a eth0 and cali captures", sc)
	}
	if first == "cali" {
		ours[0], ours[1] = ours[1], ours[0]
	}
	out := filepath.Join(dir, "merged", name)
	os.MkdirAll(filepath.Dir(out), 0o755)
	if concat {
		var ts []int64
		var fr [][]byte
		for _, p := range ours {
			pts, pfr := readLabPcap(t, p)
			ts, fr = append(ts, pts...), append(fr, pfr...)
		}
		writePcap(t, out, ts, fr)
	} else {
		mergecap := testtool.Path(t, testtool.Mergecap)
		if b, err := exec.Command(mergecap, "-w", out, "-F", "pcap", ours[0], ours[1]).CombinedOutput(); err != nil {
			t.Fatalf("mergecap: %v: %s", err, b)
		}
	}
	return perFile, append(merged, out)
}

// A node's captures in one file whose first 4,096 records are one interface's answered traffic —
// node-a's veth and eth0 concatenated (mergecap -a) after 5,000 frames at one of them, or merged in
// time order after 5,000 frames at one — were read as one interface (the probe's single): node-a's
// veth and eth0 one capture point. On main, healthy-ipip concatenated eth0 first into node-a-eth0.pcap
// said "summary: 5027 journeys, 15 delivered, 0 lost, 5012 not captured" with two path-incomplete
// warnings at node-a/tunl0, where the per-file captures say 27 delivered (truth.json: 27 sent, 27
// delivered), and no word of a merged file; with the veth's prefix first, healthy-bgp lost its
// "ERROR host-drop at node-a/veth→node-a/eth0 (2500)" (the per-file verdict) for "5000 not captured".
// The scan's per-file counts of frames to or from ee:ee:ee:ee:ee:ee and of IP frames between other
// MACs show such a file; it is read again split into its stages, every verdict equals the per-file
// captures', and a problem of the file says why it was read again.
func TestMergedLatePrefix(t *testing.T) {
	for _, c := range []struct {
		sc, first, name string
		concat          bool
	}{
		{"healthy-ipip", "eth0", "node-a-eth0.pcap", true}, {"healthy-ipip", "cali", "node-a.pcap", true},
		{"healthy-ipip", "eth0", "node-a.pcap", false}, {"healthy-ipip", "cali", "node-a-eth0.pcap", false},
		{"mtu-blackhole", "eth0", "node-a.pcap", true}, {"mtu-blackhole", "cali", "node-a-eth0.pcap", true},
		{"healthy-bgp", "cali", "node-a-eth0.pcap", true}, {"healthy-vxlan", "cali", "node-a-eth0.pcap", true},
	} {
		name := c.sc + "/" + c.first + "-first/" + c.name
		if !c.concat {
			name += "/time-merged"
		}
		t.Run(name, func(t *testing.T) {
			perFile, merged := lateMergedLab(t, c.sc, c.first, c.name, 5000, c.concat)
			mc := checkSplitLikePerFile(t, perFile, merged)
			said := false
			for _, f := range mc.Files {
				for _, p := range f.Problems {
					said = said || strings.Contains(p, c.name) && strings.Contains(p, "read again split")
				}
			}
			if !said {
				t.Errorf("no problem of %s says it was read again split: %v", c.name, mc.Files[len(mc.Files)-1].Problems)
			}
			// The subcommands that list points or frames scan without keeping Observations (ScanFiles).
			tb := decode.NewTables()
			sc := decode.IdentifyFiles(decode.ScanFiles(merged, decode.Options{}, tb, nil), tb, decode.PointConfig{})
			var ids []string
			for _, p := range sc.Points {
				if strings.HasPrefix(p.ID, "node-a/") {
					ids = append(ids, p.ID)
				}
			}
			var lids []string
			for _, p := range mc.Points {
				if strings.HasPrefix(p.ID, "node-a/") {
					lids = append(lids, p.ID)
				}
			}
			if strings.Join(ids, " ") != strings.Join(lids, " ") {
				t.Errorf("ScanFiles' node-a points %v, Load's %v", ids, lids)
			}
		})
	}
}
