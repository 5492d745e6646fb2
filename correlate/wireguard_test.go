package correlate

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/google/go-cmp/cmp"
)

// alignWG pairs inner packets and messages once, in order, by padded length and time.
func TestAlignWG(t *testing.T) {
	const win = 1000
	in := func(t int64, l int) wgInner { return wgInner{t: t, padded: (l + 15) &^ 15, payload: l - 52, hdr: 52} }
	gso := func(t int64, l int) wgInner { x := in(t, l); x.gso = true; return x }
	msg := func(t int64, c uint64, padded int) wgMsg { return wgMsg{t: t, counter: c, padded: padded} }
	for _, c := range []struct {
		name   string
		ins    []wgInner
		ms     []wgMsg
		sender bool
		want   []wgAssign
	}{
		{"in order", []wgInner{in(10, 84), in(20, 60)}, []wgMsg{msg(12, 0, 96), msg(25, 1, 64)}, true,
			[]wgAssign{{0, 0, false}, {1, 1, false}}},
		{"keepalive skipped", []wgInner{in(10, 84)}, []wgMsg{msg(5, 0, 0), msg(12, 1, 96)}, true,
			[]wgAssign{{0, 1, false}}},
		{"message before the inner packet: its inner not captured", []wgInner{in(10, 84)},
			[]wgMsg{msg(8, 0, 96), msg(12, 1, 96)}, true, []wgAssign{{0, 1, false}}},
		{"inner packet never left (no session)", []wgInner{in(10, 84), in(3000, 84)}, []wgMsg{msg(3010, 0, 96)}, true,
			[]wgAssign{{1, 0, false}}},
		{"lengths differ: the inner packet without a message", []wgInner{in(10, 200), in(11, 84)},
			[]wgMsg{msg(12, 0, 96)}, true, []wgAssign{{1, 0, false}}},
		{"lengths differ: the message without its inner packet", []wgInner{in(10, 84)},
			[]wgMsg{msg(11, 0, 208), msg(12, 1, 96)}, true, []wgAssign{{0, 1, false}}},
		{"super-packet as a run of messages", []wgInner{gso(10, 4148), in(40, 52)},
			[]wgMsg{msg(11, 5, 1440), msg(12, 6, 1440), msg(13, 7, 1376), msg(41, 8, 64)}, true,
			[]wgAssign{{0, 0, true}, {0, 1, true}, {0, 2, true}, {1, 3, false}}},
		{"receiver: the message comes first", []wgInner{in(20, 84), in(30, 60)}, []wgMsg{msg(10, 0, 96), msg(25, 1, 64)}, false,
			[]wgAssign{{0, 0, false}, {1, 1, false}}},
		{"receiver: a replayed message carries nothing", []wgInner{in(20, 84)}, []wgMsg{msg(10, 0, 96), msg(15, 0, 96)}, false,
			[]wgAssign{{0, 0, false}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := alignWG(c.ins, c.ms, win, c.sender)
			if d := cmp.Diff(c.want, got, cmp.AllowUnexported(wgAssign{})); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
}

// wireguard-blocked: node-a's handshakes go unanswered and its pod's packets die in its WireGuard
// device.
func TestWireGuardBlockedFindings(t *testing.T) {
	dir := "../testdata/lab/scenarios/wireguard-blocked"
	files, _ := filepath.Glob(dir + "/*.pcap")
	if len(files) == 0 {
		t.Skip("no wireguard-blocked scenario")
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	if r.Mode != "wireguard" {
		t.Errorf("mode %q", r.Mode)
	}
	got := map[string]Anomaly{}
	for _, a := range r.Anomalies {
		where := a.Where.Point
		if a.Where.From != "" {
			where = a.Where.From + "→" + a.Where.To
		}
		got[a.Kind+" "+where] = a
	}
	for _, want := range []string{"wireguard-handshake-failing node-a/eth0", "wireguard-no-session node-a/wireguard.cali→node-a/eth0",
		"underlay-drop router-1/eth0→router-1/eth1"} {
		a, ok := got[want]
		if !ok {
			t.Errorf("no %s in %v", want, keys(got))
			continue
		}
		if len(a.Evidence) == 0 {
			t.Errorf("%s: no evidence frames", want)
		}
	}
	if a := got["wireguard-handshake-failing node-a/eth0"]; a.Count != 3 {
		t.Errorf("handshake-failing: count %d, want the 3 initiations", a.Count)
	}
	// The retried initiation after the last request shows node-a's captures ran past it: every
	// packet is lost, none merely not captured.
	if r.Summary.NotCaptured != 0 || r.Summary.Lost != 12 {
		t.Errorf("%d lost, %d not captured; want the 12 packets lost", r.Summary.Lost, r.Summary.NotCaptured)
	}
	if _, ok := got["encap-drop node-a/wireguard.cali→node-a/eth0"]; ok {
		t.Error("encap-drop where no session existed")
	}
}

func keys(m map[string]Anomaly) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Every transport message of the healthy scenario joins the packet it carried: no journey is the
// message alone but the keepalive, and the sender's and receiver's eth0 hops sit between the devices.
func TestWireGuardJoins(t *testing.T) {
	files, _ := filepath.Glob("../testdata/lab/scenarios/healthy-wireguard/*.pcap")
	if len(files) == 0 {
		t.Skip("no healthy-wireguard scenario")
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{Journeys: true})
	alone := 0
	for _, j := range r.Journeys {
		if len(j.Hops) == 0 {
			continue
		}
		pts := ""
		for _, h := range j.Hops {
			pts += h.Point + " "
		}
		if j.Hops[0].Point == "node-a/cali5e1c4d6c68c" && j.Status == statusDelivered {
			want := "node-a/cali5e1c4d6c68c node-a/wireguard.cali node-a/eth0 router-1/eth0 router-1/eth1 node-b/eth0 node-b/wireguard.cali node-b/cali2f5353dd8c5 "
			if pts != want {
				t.Errorf("journey %d: %s", j.ID, pts)
			}
		}
		if j.Flow != "" && r.analysis.wg != nil {
			o, _ := r.analysis.obs(r.analysis.hops(j.ID)[0])
			if r.analysis.w.wgType(o) == decode.WGTransport && !r.analysis.offloadNew[int32(j.ID)] {
				alone++
			}
		}
	}
	// The handshake-less messages alone: the keepalive.
	if alone != 1 {
		t.Errorf("%d message journeys not joined to a packet, want 1 (the keepalive)", alone)
	}
	if r.analysis.wg.pairs == 0 {
		t.Error("no pairs")
	}
	kinds := map[string]string{}
	for _, s := range r.Segments {
		kinds[s.From+"→"+s.To] = s.Kind
	}
	for seg, want := range map[string]string{"node-a/wireguard.cali→node-a/eth0": "encrypt", "node-b/eth0→node-b/wireguard.cali": "decrypt",
		"node-a/cali5e1c4d6c68c→node-a/wireguard.cali": "encap", "node-b/wireguard.cali→node-b/cali2f5353dd8c5": "delivery"} {
		if kinds[seg] != want {
			t.Errorf("segment %s: kind %q, want %q", seg, kinds[seg], want)
		}
	}
}

// wireguard-mtu-blackhole at a --window far below the hops (20 µs): a message seen again past the
// window on router-1, where it died, is the packet it carried (exact by receiver index and counter),
// not a packet of the nodes' UDP flow lost without DF: the verdicts are the default window's, with
// the pmtu-blackhole.
func TestWireGuardBlackholeSmallWindow(t *testing.T) {
	files, _ := filepath.Glob("../testdata/lab/scenarios/wireguard-mtu-blackhole/*.pcap")
	if len(files) == 0 {
		t.Skip("no wireguard-mtu-blackhole scenario")
	}
	def := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	small := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{Window: 20 * time.Microsecond})
	d, g := def.Summary, small.Summary
	if g.Journeys != d.Journeys || g.Delivered != d.Delivered || g.Lost != d.Lost || g.NotCaptured != d.NotCaptured {
		t.Errorf("at 20µs: %d sent, %d delivered, %d lost, %d not captured; default window: %d, %d, %d, %d",
			g.Journeys, g.Delivered, g.Lost, g.NotCaptured, d.Journeys, d.Delivered, d.Lost, d.NotCaptured)
	}
	for _, r := range []*Result{def, small} {
		an := findKind(r, "pmtu-blackhole")
		if an == nil || an.Where.From != "router-1/eth1" || an.Where.To != "router-1/eth0" || an.Count != 6 {
			t.Errorf("pmtu-blackhole: %+v", an)
		}
		if an := findKind(r, "loss"); an != nil {
			t.Errorf("loss: %+v", an)
		}
	}
}

// A packet that died in the sender's device is followed by one of the same length: order and length
// alone would give the message to the dead one; the receiver's end pins it to the packet it carried.
func TestWGPinBothEnds(t *testing.T) {
	outs := []wgInner{{j: 1, t: 10, padded: 96}, {j: 2, t: 20, padded: 96}}
	ins := []wgInner{{j: 2, t: 40, padded: 96}}
	sent := []wgMsg{{j: 100, t: 25, padded: 96}}
	recvd := []wgMsg{{j: 100, t: 30, padded: 96}}
	if got := wgPin(outs, ins, sent, recvd, 1000); len(got) != 1 || got[0] != [2]int{1, 0} {
		t.Errorf("pinned %v, want the second packet with the message", got)
	}
	if got := alignWG(outs, sent, 1000, true); len(got) != 1 || got[0].inner != 0 {
		t.Fatalf("one end alone: %v (the test no longer shows why pinning is needed)", got)
	}
	// A message received after the packet left the receiver's device cannot have carried it.
	if got := wgPin(outs, ins, sent, []wgMsg{{j: 100, t: 50, padded: 96}}, 1000); len(got) != 0 {
		t.Errorf("pinned %v to a message that arrived too late", got)
	}
}

// Two messages of one session that reach the receiver out of counter order: wireguard-reordered at
// the receiver's underlay (the lab's captures, with two of node-b's eth0 timestamps swapped).
func TestWireGuardReordered(t *testing.T) {
	var files []string
	for _, f := range []string{"node-a-cali5e1c4d6c68c", "node-a-wireguard.cali", "node-a-eth0", "router-1-eth0",
		"router-1-eth1", "node-b-eth0", "node-b-wireguard.cali", "node-b-cali2f5353dd8c5"} {
		files = append(files, "../testdata/lab/scenarios/healthy-wireguard/"+f+".pcap")
	}
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	nb := slices.IndexFunc(c.Files, func(f *decode.FileInfo) bool { return filepath.Base(f.Path) == "node-b-eth0.pcap" })
	if len(c.Obs) != len(files) || nb < 0 || len(c.Obs[nb]) < 14 {
		t.Skip("no healthy-wireguard scenario")
	}
	obs := c.Obs[nb]                                        // node-b-eth0.pcap: frames 13 and 14 are node-a's counters 4 and 5
	obs[12].TsLo, obs[13].TsLo = obs[13].TsLo, obs[12].TsLo // one block: one base time (decode.Stamps)
	obs[12], obs[13] = obs[13], obs[12]
	r := Correlate(c, Options{})
	for _, a := range r.Anomalies {
		if a.Kind == "wireguard-reordered" {
			if a.Where.Point != "node-b/eth0" || a.Count != 1 || len(a.Evidence) != 1 || a.Evidence[0].Frame != 14 { // counter 4, now after counter 5 (frame 14: frame numbers go by position)
				t.Errorf("%+v", a)
			}
			return
		}
	}
	t.Errorf("no wireguard-reordered: %v", r.Anomalies)
}
