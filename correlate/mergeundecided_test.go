package correlate

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// bulkPrefix returns n big UDP datagrams (1,472 bytes of payload) that node-a's eth0 sends one way to a
// host off the cluster (a backup stream to 198.51.100.9, which never answers), 20 µs apart, ending 1 s
// before the capture's first frame, then the capture's frames. Such a stretch is one interface's but
// not answered there, so the merged probe cannot tell by it whether the file is merged: 44,000 of them
// pass its 64 MiB bound.
func bulkPrefix(t *testing.T, eth0 string, n int) (ts []int64, frames [][]byte) {
	t.Helper()
	lts, lfr := readLabPcap(t, eth0)
	var mac, ip []byte
	for _, f := range lfr { // an encapsulated frame node-a sent: outer protocol 4, from 192.168.x.2
		if len(f) > 34 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[23] == 4 && f[26] == 192 && f[29] == 2 {
			mac, ip = f[:12], f[26:30]
			break
		}
	}
	if mac == nil {
		t.Fatalf("%s: no encapsulated frame sent by node-a", eth0)
	}
	payload := make([]byte, 1472)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	for i := range n {
		f := append(append([]byte{}, mac...), 0x08, 0)
		h := []byte{0x45, 0, byte((1500) >> 8), byte(1500 & 0xff), byte(i >> 8), byte(i), 0x40, 0, 64, 17, 0, 0}
		h = append(append(h, ip...), 198, 51, 100, 9)
		binary.BigEndian.PutUint16(h[10:], csum(h))
		u := []byte{0x27, 0x10, 0x27, 0x10, byte(1480 >> 8), byte(1480 & 0xff), 0, 0}
		binary.BigEndian.PutUint32(payload, uint32(i))
		f = append(append(append(f, h...), u...), payload...)
		ts = append(ts, lts[0]-1e9-int64(n-i)*20e3)
		frames = append(frames, f)
	}
	return append(ts, lts...), append(frames, lfr...)
}

// otherIDs returns the frames of eth0 with every IPv4 header's id changed (and its checksum made
// right): packets other than the pod's at its veth, so that no packet is at both.
func otherIDs(t *testing.T, eth0 string) (ts []int64, frames [][]byte) {
	t.Helper()
	ts, lfr := readLabPcap(t, eth0)
	for _, f := range lfr {
		f = append([]byte(nil), f...)
		if len(f) >= 34 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[14]>>4 == 4 {
			h := f[14 : 14+int(f[14]&15)*4]
			h[4] ^= 0x55
			binary.BigEndian.PutUint16(h[10:], 0)
			binary.BigEndian.PutUint16(h[10:], csum(h))
		}
		frames = append(frames, f)
	}
	return ts, frames
}

// undecidedLab is lab scenario sc's per-interface captures with node-a's eth0 capture made by shape
// (bulkPrefix, otherIDs), and the same with node-a's veth and eth0 captures merged in time order into
// one file, node-a.pcap, as mergecap -w does.
func undecidedLab(t *testing.T, sc string, shape func(t *testing.T, eth0 string) ([]int64, [][]byte)) (perFile, merged []string) {
	t.Helper()
	dir := t.TempDir()
	all, _ := filepath.Glob(filepath.Join("../testdata/lab/scenarios", sc, "*.pcap"))
	var both []timedFrames
	for _, p := range all {
		node, iface := decode.SplitFileName(p)
		switch {
		case strings.HasSuffix(p, "-any.pcap"):
		case node == "node-a" && (iface == "eth0" || strings.HasPrefix(iface, "cali")):
			ts, fr := readLabPcap(t, p)
			if iface == "eth0" {
				ts, fr = shape(t, p)
				p = filepath.Join(dir, filepath.Base(p))
				writePcap(t, p, ts, fr)
			}
			both = append(both, timedFrames{Ts: ts, Data: fr})
			perFile = append(perFile, p)
		default:
			perFile, merged = append(perFile, p), append(merged, p)
		}
	}
	out := filepath.Join(dir, "merged", "node-a.pcap")
	writeTimeMerged(t, out, both)
	return perFile, append(merged, out)
}

// A node's captures merged into one file that the merged probe could not decide were read as one
// interface, node-a/unknown, with a problem that it may be merged, and nothing more:
//   - limit: healthy-ipip's node-a eth0 opens with 44,000 big datagrams one way to a host off the
//     cluster (a backup stream), more than the 64 MiB the probe reads; on main node-a's veth and eth0
//     were one point, node-a/unknown, with a point-unnamed warning and "the first 41683 records (64
//     MiB, …) do not tell", where the per-file captures have both (the counts happened to agree);
//   - end: healthy-bgp's node-a eth0 carries other packets than its pod's veth (no packet at both; here
//     the lab's with their IP ids changed), so the probe, read to the end, saw no packet at two stages;
//     on main "summary: 48 journeys, 35 delivered, 12 lost" with "warning loss at node-a/unknown→
//     router-1/eth0 (12)", where the per-file captures say 24 delivered, 22 lost, with "error host-drop
//     at node-a/eth0→node-a/veth (10)" and "error underlay-drop at node-a/eth0→router-1/eth0 (12)".
//
// The whole file's frames to or from ee:ee:ee:ee:ee:ee and its IP frames between other MACs, which no
// one interface carries both, now make it merged: read again split (limit), or split as the probe
// ends (end); every verdict equals the per-file captures'.
func TestMergedUndecided(t *testing.T) {
	for _, c := range []struct {
		name, sc string
		shape    func(t *testing.T, eth0 string) ([]int64, [][]byte)
		again    bool
	}{
		{"limit", "healthy-ipip", func(t *testing.T, eth0 string) ([]int64, [][]byte) { return bulkPrefix(t, eth0, 44000) }, true},
		{"end", "healthy-bgp", otherIDs, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if testing.Short() && c.name == "limit" {
				t.Skip("a 67 MB capture")
			}
			perFile, merged := undecidedLab(t, c.sc, c.shape)
			mc := checkSplitLikePerFile(t, perFile, merged)
			p := strings.Join(mc.Files[len(mc.Files)-1].Problems, "\n")
			if said := strings.Contains(p, "did not tell") && strings.Contains(p, "read again split"); said != c.again {
				t.Errorf("problems (read again: want %v): %s", c.again, p)
			}
		})
	}
}
