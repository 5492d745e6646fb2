package correlate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// labSubsetCapture is labSubset's capture, loaded but not correlated, with its lab captures' paths.
func labSubsetCapture(t *testing.T, sc string, drop []string, repl map[string][]byte) *decode.Capture {
	t.Helper()
	dir := filepath.Join("../testdata/lab/scenarios", sc)
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	var files []string
	tmp := t.TempDir()
	for _, p := range all {
		base := filepath.Base(p)
		if slices.Contains(drop, base) {
			continue
		}
		if data, ok := repl[base]; ok {
			p = filepath.Join(tmp, base)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		files = append(files, p)
	}
	return decode.Load(files, decode.Options{}, decode.PointConfig{})
}

// Healthy lab runs whose tcpdumps were started and stopped together, captured per interface: a quiet
// interface's frames begin or end with traffic of its own (pod-a's router solicitation when its link
// came up, ARP, neighbour discovery, WireGuard keepalives), but every packet calipath follows was seen
// at every point of its path, so no capture there can change a verdict. Before: an INFO capture-gap
// at every point whose frames spanned less than nine tenths of all frames' span (7 on healthy-vxlan6,
// 4 on healthy-wireguard, 3 on state-neigh-failed, 2 on wireguard-bypass, 1 on same-node).
func TestCaptureGapQuietInterfaces(t *testing.T) {
	for _, sc := range []string{"healthy-vxlan6", "healthy-wireguard", "state-neigh-failed", "state-neigh-failed6", "wireguard-bypass", "same-node"} {
		_, r := labSubset(t, sc, anyFiles, nil)
		for _, a := range r.Anomalies {
			if a.Kind == "capture-gap" {
				t.Errorf("%s: %s capture-gap at %s: %s", sc, a.Severity, a.Where.Point, a.Message)
			}
		}
	}
}

// lateRouter is underlay-loss with router-1 captured on its eth0 only, from two thirds of its records
// on: a router capture started late, seconds after the nodes' (a node of its own, so the others' span
// says nothing of it: no stop is found).
func lateRouter(t *testing.T) *decode.Capture {
	t.Helper()
	path := "../testdata/lab/scenarios/underlay-loss/router-1-eth0.pcap"
	return labSubsetCapture(t, "underlay-loss", append([]string{"router-1-eth1.pcap"}, anyFiles...),
		map[string][]byte{"router-1-eth0.pcap": lastThird(t, path)})
}

// The packets that crossed router-1/eth0 before its late capture's first frame, seen before and after
// it, or due there then (vanished after node-a/eth0), are counted at it, with the flows and the time;
// a warning, as those that vanished are counted not captured (router-1 has no other capture to show it
// ran, so no loss can be placed there).
func TestCaptureGapLateRouter(t *testing.T) {
	r := Correlate(lateRouter(t), Options{})
	gap := findKind(r, "capture-gap")
	if gap == nil || gap.Where.Point != "router-1/eth0" || gap.Severity != sevWarning || gap.Count == 0 || len(gap.Flows) == 0 ||
		len(gap.Evidence) == 0 || !strings.Contains(gap.Message, "before its capture's start") ||
		!strings.Contains(gap.Message, "records no start or stop") || !strings.Contains(gap.Message, "counted not captured") {
		t.Fatalf("capture-gap %+v, want a warning at router-1/eth0 counting the packets before its start", gap)
	}
	if r.Summary.NotCaptured == 0 {
		t.Errorf("summary %+v: want the vanished packets not captured", r.Summary)
	}
}

// The same capture whose file says (pcapng interface statistics) that it ran from before the first
// packet to after the last: no gap, whatever its frames' span, as the file knows when it ran.
func TestCaptureGapFileSpan(t *testing.T) {
	c := lateRouter(t)
	lo, hi := int64(1<<62), int64(-1<<62)
	for _, p := range c.Points {
		if p.Traffic.Frames > 0 {
			lo, hi = min(lo, p.Traffic.First), max(hi, p.Traffic.Last)
		}
	}
	found := false
	for _, f := range c.Files {
		if filepath.Base(f.Path) == "router-1-eth0.pcap" {
			f.IfStats = map[int][]decode.IfStats{0: {{Ts: hi + 1e9, Start: lo - 1e9, End: hi + 1e9, IfRecv: -1, IfDrop: -1, OsDrop: -1,
				FilterAccept: -1, UsrDeliv: -1}}}
			found = true
		}
	}
	if !found {
		t.Fatal("no router-1-eth0.pcap")
	}
	r := Correlate(c, Options{})
	if gap := findKind(r, "capture-gap"); gap != nil {
		t.Errorf("capture-gap %+v, though the file says its capture ran throughout", gap)
	}
}
