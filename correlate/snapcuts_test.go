package correlate

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// errorsAndCuts returns a Result's errors ("kind from → to") and its capture-cut counts by point.
func errorsAndCuts(r *Result) ([]string, map[string]int) {
	var errs []string
	cuts := map[string]int{}
	for _, a := range r.Anomalies {
		switch {
		case a.Severity == "error":
			errs = append(errs, a.Kind+" "+a.Where.From+" → "+a.Where.To)
		case a.Kind == "capture-cut":
			cuts[a.Where.Point] += a.Count
		}
	}
	return errs, cuts
}

// underlay-loss (truth: 6 ICMP echoes lost at router-1 one way, 3 the other, all else delivered) with
// every capture cut to 48 bytes: at eth0 and on the routers the outer and inner IPv4 headers leave
// no inner ports, so no sighting there can be matched. The packets lost at router-1 were last seen at
// the sending node's tunl0 and were "ERROR encap-drop tunl0 → eth0" on both nodes; eth0 held frames
// it could not match just then, so they are not captured, and capture-cut says so at each eth0.
func TestSnapCutNotEncapDrop(t *testing.T) {
	all, _ := filepath.Glob("../testdata/lab/scenarios/underlay-loss/*.pcap")
	repl := map[string][]byte{}
	var drop []string
	for _, p := range all {
		if strings.HasSuffix(p, "-any.pcap") {
			drop = append(drop, filepath.Base(p))
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		repl[filepath.Base(p)] = snapPcap(t, b, 48, true)
	}
	_, r := labSubset(t, "underlay-loss", drop, repl)
	errs, cuts := errorsAndCuts(r)
	if len(errs) > 0 {
		t.Errorf("errors %q; the losses were at router-1", errs)
	}
	if cuts["node-a/eth0"] != 6 || cuts["node-b/eth0"] != 3 || len(cuts) != 2 {
		t.Errorf("capture-cut %v, want node-a/eth0 6 and node-b/eth0 3", cuts)
	}
}

// The dual-stack VXLAN set (gen.py: the 2 IPv6 requests lost at router-1) cut to 96 bytes: VXLAN over
// IPv6 leaves no inner ports at eth0 and on the routers (IPv4 keeps them), so the IPv6 requests lost
// at router-1 were last seen at node-a/vxlan-v6.calico: "ERROR encap-drop vxlan-v6.calico → eth0"
// (before the paths kept to their family, host-drop vxlan-v6.calico → vxlan.calico). They are not
// captured: 36 delivered, 2 not captured, capture-cut at node-a/eth0.
func TestDualStackSnapCut(t *testing.T) {
	files, err := filepath.Glob("../testdata/generated/dualstack-vxlan/*.pcap")
	if err != nil || len(files) != 10 {
		t.Fatalf("%d files: %v", len(files), err)
	}
	dir := t.TempDir()
	for i, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[i] = filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(files[i], snapPcap(t, b, 96, true), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	if s := r.Summary; s.Journeys != 38 || s.Delivered != 36 || s.Lost != 0 || s.NotCaptured != 2 {
		t.Errorf("summary %+v, want 38 sent, 36 delivered, 2 not captured", s)
	}
	if errs, cuts := errorsAndCuts(r); len(errs) > 0 || cuts["node-a/eth0"] != 2 || len(cuts) != 1 {
		t.Errorf("errors %q, capture-cut %v; want none, and node-a/eth0 2", errs, cuts)
	}
}

// One frame cut before its inner ports stands for one vanished packet at most (review10 #2): before,
// a single cut frame of another flow at a router made every loss within its window "not captured"
// (underlay-loss with one cut UDP frame per router interface: 3 of its 9 losses).
func TestSnapCutOneFramePerPacket(t *testing.T) {
	ms := int64(time.Millisecond)
	sc := snapCuts{at: [][]cutFrame{{{t: 10 * ms}, {t: 11 * ms}}}, used: [][]bool{{false, false}}, vanished: []int{0},
		snapLen: []int{34}, bound: []int64{ms}}
	var got []bool
	for range 3 {
		got = append(got, sc.cut(0, 10*ms, nil))
	}
	if !slices.Equal(got, []bool{true, true, false}) || sc.vanished[0] != 2 {
		t.Errorf("three packets vanished at 10 ms before a point with two cut frames: %v, %d counted; want two taken", got, sc.vanished[0])
	}
	if sc.cut(0, 40*ms, nil) {
		t.Error("a packet 29 ms after the last cut frame was taken for it")
	}
}

// healthy-vxlan with node-a's eth0 cut to 38 to 41 bytes (tcpdump -s 38 … -s 41): the cut falls in
// the outer UDP header, after its ports. Such a frame is a VXLAN packet whose inner packet is unread,
// as at -s 42 (cut at the VXLAN header): it cannot be matched, and the file says so. Before, its
// outer ports made it a UDP packet of its own: six ghost flows between the node IPs on port 4789,
// and "ERROR underlay-drop node-a/eth0 → node-b/eth0: 11 of 11 packets lost".
func TestSnapCutInsideTunnelUDP(t *testing.T) {
	b, err := os.ReadFile("../testdata/lab/scenarios/healthy-vxlan/node-a-eth0.pcap")
	if err != nil {
		t.Fatal(err)
	}
	anys, _ := filepath.Glob("../testdata/lab/scenarios/healthy-vxlan/*-any.pcap")
	var drop []string
	for _, p := range anys {
		drop = append(drop, filepath.Base(p))
	}
	for n := 38; n <= 42; n++ {
		tr, r := labSubset(t, "healthy-vxlan", drop, map[string][]byte{"node-a-eth0.pcap": snapPcap(t, b, n, true)})
		checkLab(t, tr, r, nil)
		errs, _ := errorsAndCuts(r)
		if len(errs) > 0 || len(r.Flows) != 3 {
			t.Errorf("-s %d: errors %q, %d flows; want none, and the truth's 3 flows", n, errs, len(r.Flows))
		}
		for _, in := range r.Inputs {
			if strings.HasSuffix(in.File, "node-a-eth0.pcap") {
				if !strings.Contains(strings.Join(in.Errors, " "), " frames were cut to "+strconv.Itoa(n)+" bytes before their inner ports") {
					t.Errorf("-s %d: node-a/eth0's errors %q", n, in.Errors)
				}
			}
		}
	}
}
