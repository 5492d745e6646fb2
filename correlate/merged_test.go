package correlate

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/testtool"
)

// readLabPcap returns the frames of a little-endian pcap (µs or ns) and their times in ns.
func readLabPcap(t *testing.T, path string) (ts []int64, frames [][]byte) {
	t.Helper()
	f := testtool.ReadPcap(t, path)
	return f.Ts, f.Data
}

// One node's three healthy-vxlan captures (its pod's veth, vxlan.calico and eth0, all Ethernet) merged
// in time order into one file with one unnamed interface, as mergecap gives: each packet is in it
// up to three times. calipath counted each copy as a packet (72 sent where the truth has 24, and false
// retransmissions) and said so in a point-unnamed warning; it now splits the file into its stages
// (node-a.pcap#veth, #tunnel, #eth0: decode/merged.go) and counts the truth's packets, with no such
// warning. A single capture that is only unnamed and has each frame twice, 3 µs apart (node-b's pod
// veth as node-b.pcap), is not split (no packet at two stages), is counted right and gets no note
// that its counts are not per packet.
func TestMergedOneInterface(t *testing.T) {
	src := "../testdata/lab/scenarios/healthy-vxlan/"
	dir := t.TempDir()
	type rec struct {
		ts int64
		f  []byte
	}
	var all []rec
	for _, f := range []string{"node-a-cali5e1c4d6c68c.pcap", "node-a-vxlan.calico.pcap", "node-a-eth0.pcap"} {
		ts, fr := readLabPcap(t, src+f)
		for i := range ts {
			all = append(all, rec{ts[i], fr[i]})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].ts < all[j].ts })
	var ts []int64
	var fr [][]byte
	for _, r := range all {
		ts, fr = append(ts, r.ts), append(fr, r.f)
	}
	writePcap(t, filepath.Join(dir, "node-a.pcap"), ts, fr)
	ts, fr = readLabPcap(t, src+"node-b-cali2f5353dd8c5.pcap")
	var ts2 []int64
	var fr2 [][]byte
	for i := range ts { // each frame written twice, 3 µs apart
		ts2, fr2 = append(ts2, ts[i], ts[i]+3000), append(fr2, fr[i], fr[i])
	}
	writePcap(t, filepath.Join(dir, "node-b.pcap"), ts2, fr2)
	files := []string{filepath.Join(dir, "node-a.pcap"), filepath.Join(dir, "node-b.pcap")}
	for _, f := range []string{"node-b-eth0.pcap", "node-b-vxlan.calico.pcap", "router-1-eth0.pcap", "router-1-eth1.pcap"} {
		files = append(files, src+f)
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	got := map[string]*Anomaly{}
	for i, a := range r.Anomalies {
		if a.Kind == "point-unnamed" {
			got[a.Where.Point] = &r.Anomalies[i]
		}
	}
	a, b := got["node-a/unknown"], got["node-b/unknown"]
	if a != nil {
		t.Errorf("merged node-a.pcap is one unnamed point: %+v", a)
	}
	roles := map[string]string{}
	for _, p := range r.Points {
		roles[p.ID] = p.Role
	}
	for id, role := range map[string]string{"node-a/node-a.pcap#veth": "pod-veth", "node-a/node-a.pcap#tunnel": "tunnel", "node-a/node-a.pcap#eth0": "underlay"} {
		if roles[id] != role {
			t.Errorf("point %s: role %q, want %q (points %v)", id, roles[id], role, roles)
		}
	}
	tr, _ := truthPods(t, "healthy-vxlan")
	sent := 0
	for _, f := range tr.Flows {
		sent += f.Sent
	}
	if s := r.Summary; s.Journeys != sent || s.Delivered != sent {
		t.Errorf("summary %+v, want the truth's %d packets, all delivered", s, sent)
	}
	if b == nil || strings.Contains(b.Message, "not per packet") {
		t.Errorf("node-b.pcap (one interface, frames doubled): %+v", b)
	}
	if h := strings.Join(NamingHints(decode.Load(files, decode.Options{}, decode.PointConfig{})), "\n"); strings.Contains(h, "not per packet") {
		t.Errorf("naming hints: %s", h)
	}
}

// timedFrames are frames of one capture and their times in ns (readLabPcap).
type timedFrames = testtool.Frames

// writeTimeMerged writes the frames of parts to out in time order (stable: ties keep the parts' order),
// as `mergecap -w -F pcap` merges captures: one file, one interface, nothing to tell them apart.
func writeTimeMerged(t *testing.T, out string, parts []timedFrames) {
	t.Helper()
	all := testtool.TimeMerged(parts...)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	writePcap(t, out, all.Ts, all.Data)
}

// checkSplitLikePerFile loads merged, which holds node-a's captures merged into one file, and checks
// that the file was split into node-a's stages (points node-a/…#…) and that every verdict equals
// those of perFile, the same captures one file an interface. It returns the merged Capture.
func checkSplitLikePerFile(t *testing.T, perFile, merged []string) *decode.Capture {
	t.Helper()
	want := stageVerdicts(Correlate(decode.Load(perFile, decode.Options{}, decode.PointConfig{}), Options{}))
	mc := decode.Load(merged, decode.Options{}, decode.PointConfig{})
	split := false
	for _, p := range mc.Points {
		split = split || strings.HasPrefix(p.ID, "node-a/") && strings.Contains(p.ID, "#")
	}
	got := stageVerdicts(Correlate(mc, Options{}))
	if !split || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("merged captures (split into stages: %v):\n  %s\nper-file captures:\n  %s", split,
			strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	return mc
}
