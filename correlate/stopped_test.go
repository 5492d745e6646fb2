package correlate

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"
)

// pcapRecords returns a classic pcap file's first n records (its header and the records, as written),
// as editcap -r 1-n leaves it: a capture stopped after its n-th frame.
func pcapRecords(t *testing.T, path string, n int) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if m := binary.BigEndian.Uint32(b); m == 0xa1b2c3d4 || m == 0xa1b23c4d {
		bo = binary.BigEndian
	}
	off := 24
	for i := 0; i < n && off+16 <= len(b); i++ {
		off += 16 + int(bo.Uint32(b[off+8:]))
	}
	if off > len(b) {
		t.Fatalf("%s: fewer than %d records", path, n)
	}
	return b[:off]
}

// underlay-loss with router-1/eth1's capture stopped after its 39th frame (1.97 s into the 6.4 s the
// others run): the UDP replies after that reached eth1 (node-b/eth0 → router-1/eth1 loses nothing,
// truth.json) and two were lost inside router-1. Those two are 95-byte packets, smaller than any MTU:
// whatever is said of them, it is not a path-MTU black hole.
func TestStoppedCaptureNoTinyBlackhole(t *testing.T) {
	cut := pcapRecords(t, "../testdata/lab/scenarios/underlay-loss/router-1-eth1.pcap", 39)
	_, r := labSubset(t, "underlay-loss", nil, map[string][]byte{"router-1-eth1.pcap": cut})
	for _, a := range r.Anomalies {
		if a.Kind == "pmtu-blackhole" {
			t.Errorf("%s at %s → %s: %s", a.Kind, a.Where.From, a.Where.To, a.Message)
		}
	}
	if !strings.Contains(strings.Join(flowPath(r, &r.Flows[0], "c2s"), " "), "router-1/eth1") {
		t.Fatalf("router-1/eth1 not on the path: %v", r.Flows[0].Path)
	}
}

// underlay-loss with router-1/eth1's capture stopped early, cleanly after its 39th frame (editcap -r
// 1-39) or cut inside its 40th record (head -c 6432): its coverage ends at its last frame (packets
// crossed it unseen after it; the cut file says so itself), so no packet is lost before it (the truth
// loses none on node-b/eth0 → router-1/eth1), what vanished there after the stop is not captured,
// the losses left are where the truth has them, and the report says the capture stopped.
func TestStoppedCaptureCoverage(t *testing.T) {
	const file = "../testdata/lab/scenarios/underlay-loss/router-1-eth1.pcap"
	whole, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for name, cut := range map[string][]byte{"stopped": pcapRecords(t, file, 39), "cut": whole[:6432]} {
		tr, r := labSubset(t, "underlay-loss", nil, map[string][]byte{"router-1-eth1.pcap": cut})
		truthLost, where := 0, map[string]bool{}
		for _, f := range tr.Flows {
			for _, l := range f.Lost {
				truthLost += l.Packets
				where[strings.ReplaceAll(l.Segment, "→", " → ")] = true
			}
		}
		if s := r.Summary; s.Lost+s.NotCaptured != truthLost || s.NotCaptured == 0 {
			t.Errorf("%s: summary %+v, want the truth's %d lost as lost or not captured, some not captured", name, s, truthLost)
		}
		for _, seg := range r.Segments {
			if at := seg.From + " → " + seg.To; seg.Lost > 0 && !where[at] {
				t.Errorf("%s: %d lost at %s, where the truth loses none", name, seg.Lost, at)
			}
		}
		gap := findKind(r, "capture-gap")
		if gap == nil || gap.Where.Point != "router-1/eth1" || gap.Severity != sevWarning || !strings.Contains(gap.Message, "Its capture stopped") {
			t.Errorf("%s: capture-gap %+v, want a warning that router-1/eth1's capture stopped", name, gap)
		}
		if name == "cut" && (gap == nil || !strings.Contains(gap.Message, "its file is cut short")) {
			t.Errorf("cut: capture-gap %+v, want it to say the file is cut short", gap)
		}
	}
}
