package decode

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The fixtures of testdata/bundles (written by its mkfix from lab captures): Inspektor Gadget's
// layout, and a capture whose statistics block says it dropped packets.
func TestGadgetPcapng(t *testing.T) {
	tables := NewTables()
	files := ScanFiles([]string{"../testdata/bundles/gadget/incident.pcapng"}, Options{}, tables, nil)
	fi := files[0]
	if fi.NProblems != 0 || fi.Records != 62 {
		t.Fatalf("records %d, problems %q", fi.Records, fi.Problems)
	}
	want := []NameRecord{{netip.MustParseAddr("10.244.1.5"), []string{"10-244-1-5.default.pod"}},
		{netip.MustParseAddr("10.244.2.7"), []string{"10-244-2-7.default.pod"}}}
	if d := cmp.Diff(want, fi.Names, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
		t.Errorf("names (-want +got):\n%s", d)
	}
	c := IdentifyFiles(files, tables, PointConfig{})
	var ids []string
	for _, p := range c.Points {
		ids = append(ids, p.ID+" "+p.Role.String())
	}
	if d := cmp.Diff([]string{"node-a/pod-eth0:default/pod-a pod-veth", "node-b/pod-eth0:default/pod-b pod-veth"}, ids); d != "" {
		t.Errorf("points (-want +got):\n%s", d)
	}
}

func TestISBDrops(t *testing.T) {
	files := ScanFiles([]string{"../testdata/bundles/capture-loss/router-1-eth1.pcapng"}, Options{}, NewTables(), nil)
	st := files[0].IfStats[0]
	if len(st) != 1 || st[0].IfDrop != 6 || st[0].OsDrop != -1 || st[0].Start == 0 || st[0].Ts != st[0].End {
		t.Fatalf("stats %+v", st)
	}
	d := statsDrops(files)
	if len(d) != 1 || d[0].Dropped != 6 || d[0].Start != st[0].Start || d[0].End != st[0].Ts || d[0].Iface != 0 {
		t.Errorf("drops %+v", d)
	}
	// Growing counters over several blocks: one drop per growth, in the interval since the block before.
	f := &FileInfo{Path: "x", IfStats: map[int][]IfStats{0: {
		{Ts: 100, IfDrop: 0, OsDrop: -1}, {Ts: 200, IfDrop: 3, OsDrop: 1}, {Ts: 300, IfDrop: 3, OsDrop: 1}, {Ts: 400, IfDrop: 5, OsDrop: 1}}}}
	got := statsDrops([]*FileInfo{f})
	wantD := []CaptureDrop{{Path: "x", Iface: 0, Start: 100, End: 200, Dropped: 4}, {Path: "x", Iface: 0, Start: 300, End: 400, Dropped: 2}}
	for i := range got {
		got[i].From = ""
	}
	if d := cmp.Diff(wantD, got); d != "" {
		t.Errorf("drops (-want +got):\n%s", d)
	}
}

func TestGadgetPoint(t *testing.T) {
	node, iface, pod, _, ok := GadgetPoint("Node: minikube, Namespace: demo, Pod: shell", "shell")
	if !ok || node != "minikube" || iface != "pod-eth0:demo/shell" || pod != "demo/shell" {
		t.Errorf("got %q %q %q %v", node, iface, pod, ok)
	}
	for _, d := range []string{"", "Node: a", "Node: a, Namespace: b, Pod: c, extra", "eth0"} {
		if _, _, _, _, ok := GadgetPoint(d, ""); ok {
			t.Errorf("%q matched", d)
		}
	}
}

// dumpcap 4.0 (the lab's) writes the statistics blocks' times in microseconds on interfaces that
// declare nanoseconds: read as declared they fall in January 1970. They must come out around the
// file's frames: the capture started before its first frame and ended after its last.
func TestISBMicrosecondTimes(t *testing.T) {
	files := ScanFiles([]string{"../testdata/lab/scenarios/healthy-ipip/node-a.pcapng"}, Options{}, NewTables(), nil)
	fi := files[0]
	lo, hi := int64(1<<62), int64(0)
	for _, tr := range fi.Traffic {
		if tr.Frames > 0 {
			lo, hi = min(lo, tr.First), max(hi, tr.Last)
		}
	}
	if len(fi.IfStats) != 3 || hi == 0 {
		t.Fatalf("stats %v, frames %d..%d", fi.IfStats, lo, hi)
	}
	for k, st := range fi.IfStats {
		for _, s := range st {
			if s.Start > lo || s.Start < lo-int64(10*time.Second) || s.End < hi || s.Ts < s.End || s.Ts > hi+int64(10*time.Second) {
				t.Errorf("interface %d: start %d end %d ts %d; frames %d..%d", k, s.Start, s.End, s.Ts, lo, hi)
			}
		}
	}
	// Times that fit the frames as declared are kept as they are, even where the microsecond
	// reading would fit too (it cannot: a thousandth of a 2026 time is in 1970).
	f := &FileInfo{Traffic: map[uint16]*Traffic{0: {Frames: 1, First: lo, Last: hi}},
		IfStats: map[int][]IfStats{0: {{Ts: hi, Start: lo, End: hi, usTimes: [3]int64{hi / 1000, lo / 1000, hi / 1000}, usOK: true}}}}
	settleStatsTimes(f)
	if s := f.IfStats[0][0]; s.Ts != hi || s.Start != lo {
		t.Errorf("declared times that fit were changed: %+v", s)
	}
}
