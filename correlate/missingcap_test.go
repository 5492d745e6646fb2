package correlate

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// labSubset loads a lab scenario's truth and correlates its pcap files less those whose base name is
// in drop, with repl replacing files by base name (a file's bytes written anew, e.g. truncated).
func labSubset(t *testing.T, sc string, drop []string, repl map[string][]byte) (*labTruth, *Result) {
	t.Helper()
	dir := filepath.Join("../testdata/lab/scenarios", sc)
	var tr labTruth
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	var files []string
	tmp := t.TempDir()
	for _, p := range all {
		base := filepath.Base(p)
		if strings.Contains(strings.Join(drop, " "), base) {
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
	return &tr, Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
}

// snat-external without router-1/eth0's capture: router-1 has three interfaces, two of them captured
// (eth1 toward node-b, which none of this traffic crosses, and eth2 toward ext-1). The requests reach
// ext-1, their destination, through eth2; that eth1 saw none of them does not make it their way out.
// Every packet was delivered (truth.json), and each path is the truth's less router-1/eth0.
func TestRouterUncapturedInterface(t *testing.T) {
	tr, r := labSubset(t, "snat-external", []string{"router-1-eth0.pcap"}, nil)
	sent, delivered := 0, 0
	for _, tf := range tr.Flows {
		sent, delivered = sent+tf.Sent, delivered+tf.Delivered
		f, dir := findFlow(r, tf.Proto, tf.Src, tf.Dst, tf.Sport, tf.Dport)
		if f == nil {
			t.Errorf("no flow %s %s → %s", tf.Proto, tf.Src, tf.Dst)
			continue
		}
		var want []string
		for _, p := range tf.Path {
			if p != "router-1/eth0" {
				want = append(want, p)
			}
		}
		if got := strings.Join(flowPath(r, f, dir), " "); got != strings.Join(want, " ") {
			t.Errorf("flow %s %s: path\n  %s\nwant\n  %s", f.ID, dir, got, strings.Join(want, " "))
		}
	}
	if s := r.Summary; s.Journeys != sent || s.Delivered != delivered || s.Lost != 0 {
		t.Errorf("summary %+v, want %d sent, %d delivered, none lost", s, sent, delivered)
	}
	for _, a := range r.Anomalies {
		if a.Severity == sevError || strings.Contains(a.Kind, "drop") && a.Kind != "capture-dropped" || a.Kind == "loss" {
			t.Errorf("anomaly %s %s at %+v: %s", a.Severity, a.Kind, a.Where, a.Message)
		}
	}
}

// A packet seen where its destination lives is never lost after it, whatever its path puts after that
// point. snat-external without router-1/eth0's capture, its paths set as they were built before
// TestRouterUncapturedInterface's fix (ext-1/eth0 before router-1/eth2, then router-1/eth1): the
// requests seen at ext-1/eth0, the host that answers for 203.0.113.10, were counted lost at
// router-1/eth2 → router-1/eth1. They arrived.
func TestSeenAtDestinationNotLost(t *testing.T) {
	dir := "../testdata/lab/scenarios/snat-external/"
	all, _ := filepath.Glob(dir + "*.pcap")
	var files []string
	for _, p := range all {
		if filepath.Base(p) != "router-1-eth0.pcap" {
			files = append(files, p)
		}
	}
	a := analysisBeforeFlows(t, files)
	w, clocks := a.w, a.clocks
	a.cov, a.capDrop = newCoverage(w, clocks), newCapDrops(w, clocks, &a.journeys)
	a.flowsOut, a.pairMode = a.assignFlows()
	pt := map[string]int{}
	for i, p := range w.c.Points {
		pt[p.ID] = i
	}
	bogus := [2][]string{
		{"node-a/cali5e1c4d6c68c", "node-a/eth0", "ext-1/eth0", "router-1/eth2", "router-1/eth1"},
		{"ext-1/eth0", "router-1/eth2", "router-1/eth1", "node-a/eth0", "node-a/cali5e1c4d6c68c"},
	}
	a.paths = (&pathStage{w: w, flows: a.flows, jAll: a.jAll, pairMode: a.pairMode}).buildPaths()
	for _, fl := range a.flows {
		for d, pi := range a.pathsOf(fl) {
			if pi != nil {
				pi.points = nil
				for _, id := range bogus[d] {
					pi.points = append(pi.points, pt[id])
				}
			}
		}
	}
	a.lateOut = (&lateStage{w: w, jo: &a.journeys, ar: a.arenaOut, fo: &a.flowsOut, nJ: a.nJ}).joinLate()
	placed, _ := placeJourneys(a)
	n := map[statusCode]int{}
	for j, st := range placed.jStatus {
		if a.jFlow[j] >= 0 {
			n[st]++
		}
	}
	if n[stLost] != 0 || n[stDelivered] != 24 {
		t.Errorf("statuses %v, want 24 delivered, none lost", n)
	}
}

// state-missing-route without node-b's eth0 (nor the -i any files): node-b's route to pod-a's block is
// deleted, so pod-b's replies leave node-b unencapsulated by its default route and die on the
// underlay (truth: underlay-drop node-b/eth0 → node-a/eth0). Without that capture they are seen at
// node-b's cali and nowhere else, and the encap-drop there must not say they vanished inside the node
// before the underlay (as it did) but that they did not reach the tunnel and may have left another way,
// which the uncaptured underlay cannot show. A drop inside the node with its underlay captured
// (state-blackhole-route) keeps the plain explanation; without its underlay, the same hedge.
// The hedged finding is a warning (encapNoUnderlaySev): it was an ERROR naming node-b's cali → tunl0
// as the drop's place, which the truth's drop (on the underlay) is not on, and state-blackhole-route
// less node-b's eth0 shows the same captures' view of a drop that was inside node-b. It stays an error
// where the node answered the packet with its own ICMP error (df-ping-refused less node-a's eth0: node-a
// refused pod-a's DF ping larger than the tunnel with a fragmentation-needed, truth encap-drop there).
func TestEncapDropUnderlayUncaptured(t *testing.T) {
	anys := []string{"node-a-any.pcap", "node-b-any.pcap"}
	check := func(sc string, drop []string, node string, hedged bool, sev string) {
		t.Helper()
		_, r := labSubset(t, sc, append(drop, anys...), nil)
		n := 0
		for _, a := range r.Anomalies {
			if a.Kind != "encap-drop" {
				continue
			}
			n++
			if a.Where.From != node+"/cali"+map[string]string{"node-a": "5e1c4d6c68c", "node-b": "2f5353dd8c5"}[node] ||
				a.Where.To != node+"/tunl0" || a.Severity != sev {
				t.Errorf("%s less %v: %s %s at %s → %s, want %s at %s's cali → tunl0", sc, drop, a.Severity, a.Kind,
					a.Where.From, a.Where.To, sev, node)
			}
			said := strings.Contains(a.Message, "or they left it another way than the tunnel, unencapsulated") &&
				strings.Contains(a.Message, "its underlay was not captured, so which cannot be told") &&
				strings.Contains(a.Next, "capture its underlay interface (eth0) too")
			plain := strings.Contains(a.Message, "Packets vanished inside the sending node")
			if said != hedged || plain == hedged {
				t.Errorf("%s less %v: hedged %v, plain %v, want hedged %v:\n%s\nnext: %s", sc, drop, said, plain, hedged, a.Message, a.Next)
			}
		}
		if n != 1 {
			t.Errorf("%s less %v: %d encap-drop anomalies, want 1", sc, drop, n)
		}
	}
	check("state-missing-route", []string{"node-b-eth0.pcap"}, "node-b", true, sevWarning)
	check("state-blackhole-route", nil, "node-b", false, sevError)
	check("state-blackhole-route", []string{"node-b-eth0.pcap"}, "node-b", true, sevWarning)
	check("df-ping-refused", []string{"node-a-eth0.pcap"}, "node-a", true, sevError)
}

// wireguard-mtu-blackhole without node-b's eth0 (and the -i any files): node-b's messages larger
// than router-1's eth0 MTU die at router-1/eth1 → router-1/eth0, but nothing ties them to the packets
// they carried (only node-b's own underlay could), so those packets ended at node-b's WireGuard device
// and were counted lost again at node-b/wireguard.cali → router-1/eth1, a pmtu-blackhole where none
// is. The one loss is the truth's: a pmtu-blackhole at router-1/eth1 → router-1/eth0 (its messages
// all larger than every one that crossed), none before router-1/eth1, and the finding says why the
// packets are not counted lost (wgstand.go).
func TestWGUntiedMessagesNotLostTwice(t *testing.T) {
	tr, r := labSubset(t, "wireguard-mtu-blackhole", append([]string{"node-b-eth0.pcap"}, anyFiles...), nil)
	var want string
	for _, e := range tr.Expected {
		if e.Kind == "pmtu-blackhole" {
			want = e.Where
		}
	}
	if want == "" {
		t.Fatal("truth.json expects no pmtu-blackhole")
	}
	found := false
	for _, an := range r.Anomalies {
		if an.Severity == "info" || an.Kind == "retransmission" || an.Kind == "path-incomplete" {
			continue
		}
		where := an.Where.From + "→" + an.Where.To
		switch {
		case an.Kind == "pmtu-blackhole" && where == want:
			found = true
			if !strings.Contains(an.Message, "6 packets last seen leaving node-b's WireGuard device") {
				t.Errorf("%s %s does not say which packets it counts as not captured: %s", an.Kind, where, an.Message)
			}
		default:
			t.Errorf("anomaly %s %s at %s (%d): want only pmtu-blackhole at %s", an.Severity, an.Kind, where, an.Count, want)
		}
	}
	if !found {
		t.Errorf("no pmtu-blackhole at %s", want)
	}
	seg := false
	for _, s := range r.Segments {
		if s.From == "node-b/wireguard.cali" && s.To == "router-1/eth1" {
			seg = true
			if s.Lost != 0 || s.NotCaptured != 6 {
				t.Errorf("%s → %s: %d lost, %d not captured; want 0 and 6", s.From, s.To, s.Lost, s.NotCaptured)
			}
		}
	}
	if !seg {
		t.Error("no segment node-b/wireguard.cali → router-1/eth1")
	}
}

// wireguard-underlay-loss without one node's eth0 (and the -i any files): the messages router-1 lost
// from that node are untied, and the packets they carried ended at its WireGuard device. Each loss is
// counted once, where the truth puts it: none between the device and router-1.
func TestWGUntiedScatteredNotLostTwice(t *testing.T) {
	for _, node := range []string{"node-a", "node-b"} {
		tr, r := labSubset(t, "wireguard-underlay-loss", append([]string{node + "-eth0.pcap"}, anyFiles...), nil)
		want := map[string]string{}
		for _, e := range tr.Expected {
			want[e.Where] = e.Kind
		}
		for _, an := range r.Anomalies {
			if an.Where.From == "" {
				continue // a point's or a node's finding
			}
			if where := an.Where.From + "→" + an.Where.To; want[where] != an.Kind {
				t.Errorf("without %s-eth0: %s %s at %s (%d), want none there", node, an.Severity, an.Kind, where, an.Count)
			}
		}
	}
}

// tunl0-cali-drop without node-a's pod veth (and the -i any files): no packet comes from an address
// calipath can put down to a node (no pod of node-a captured, no --node-ip), so node-a's clock is not
// corrected and no outer address names node-a. The packets were still seen at node-a's tunnel device
// bare and then at its eth0 encapsulated, on node-a's one clock: node-a put the header on, and the
// path starts there. It started at the first router, leaving out node-a's tunnel device and eth0 and
// node-b's tunnel device, each of which saw the packets, and placed the drop at node-b/eth0 → cali (a
// host-drop for the truth's delivery-drop at node-b/tunl0 → cali). Without node-b's veth too, node-b
// is found alike, taking the header off (eth0, then tunl0): the path was router-1's two points alone.
// The replies to pod-a that node-b dropped before its tunnel device (state-blackhole-route,
// state-neigh-failed6 without node-a's veth: encap-drop) go to an address carried through the tunnels
// from node-a, and are judged on the way through them, as they are with node-a's veth (they were
// judged between node-b's veth and eth0: a host-drop). wireguard-bypass without node-b's veth:
// pod-b's address was carried through node-b's WireGuard device, but the packets of node-a's pod that
// bypasses WireGuard crossed node-a's eth0 bare, which shows they were not tunnelled: their path stays
// without the devices (through them, it had a decap-drop at node-b/eth0 → wireguard.cali).
// Each path is the truth's less the points left out, and the drops are where the truth puts them
// (those next to a point left out cannot be seen).
func TestSourceNodeFromTunnel(t *testing.T) {
	for _, c := range []struct {
		sc    string
		files []string // left out, with the -i any files
		pts   []string // their points
	}{
		{"tunl0-cali-drop", []string{"node-a-cali5e1c4d6c68c.pcap"}, []string{"node-a/cali5e1c4d6c68c"}},
		{"tunl0-cali-drop", []string{"node-a-cali5e1c4d6c68c.pcap", "node-b-cali2f5353dd8c5.pcap"},
			[]string{"node-a/cali5e1c4d6c68c", "node-b/cali2f5353dd8c5"}},
		{"state-blackhole-route", []string{"node-a-cali5e1c4d6c68c.pcap"}, []string{"node-a/cali5e1c4d6c68c"}},
		{"state-neigh-failed6", []string{"node-a-cali5e1c4d6c68c.pcap"}, []string{"node-a/cali5e1c4d6c68c"}},
		{"wireguard-bypass", []string{"node-b-cali2f5353dd8c5.pcap"}, []string{"node-b/cali2f5353dd8c5"}},
	} {
		tr, r := labSubset(t, c.sc, append(c.files, anyFiles...), nil)
		left := func(p string) bool {
			for _, q := range c.pts {
				if strings.Contains(p, q) {
					return true
				}
			}
			return false
		}
		for _, tf := range tr.Flows {
			f, dir := findFlow(r, tf.Proto, tf.Src, tf.Dst, tf.Sport, tf.Dport)
			if f == nil {
				t.Errorf("%s less %v: no flow %s %s → %s", c.sc, c.files, tf.Proto, tf.Src, tf.Dst)
				continue
			}
			var want []string
			for _, p := range tf.Path {
				if !left(p) {
					want = append(want, p)
				}
			}
			if got := strings.Join(flowPath(r, f, dir), " "); got != strings.Join(want, " ") {
				t.Errorf("%s less %v: flow %s %s %s → %s: path\n  %s\nwant\n  %s", c.sc, c.files, f.ID, dir, tf.Src, tf.Dst,
					got, strings.Join(want, " "))
			}
		}
		want := map[string]bool{}
		for _, e := range tr.Expected {
			if strings.HasSuffix(e.Kind, "-drop") && !left(e.Where) {
				want[e.Kind+" "+e.Where] = true
			}
		}
		for _, an := range r.Anomalies {
			k := an.Kind + " " + an.Where.From + "→" + an.Where.To
			if an.Severity == sevError && !want[k] {
				t.Errorf("%s less %v: %s %s (%d), want none there", c.sc, c.files, an.Severity, k, an.Count)
			}
			delete(want, k)
		}
		for k := range want {
			t.Errorf("%s less %v: no %s", c.sc, c.files, k)
		}
	}
}

// An address carried through the tunnels is behind its node's tunnel (pathEnds.behindTunnel) only
// when no encapsulation shows it as an outer address, a node's own: a node's own address answering a
// pod through the tunnel (its host replying to a connection to its node IP) is reached from another
// node over the underlay, bare. state-blackhole-route without node-a's veth: pod-b's replies to
// pod-a's address are behind node-a's tunnel; with that address made the outer source of an
// encapsulation the captures hold, they are not.
func TestBehindTunnelNotNodeAddr(t *testing.T) {
	dir := "../testdata/lab/scenarios/state-blackhole-route/"
	all, _ := filepath.Glob(dir + "*.pcap")
	var files []string
	for _, p := range all {
		if b := filepath.Base(p); b != "node-a-cali5e1c4d6c68c.pcap" && !strings.HasSuffix(b, "-any.pcap") {
			files = append(files, p)
		}
	}
	a := analysisBeforeFlows(t, files)
	pod := ip4(netip.MustParseAddr("10.244.1.5"))
	behind := func() (n, marked int) {
		fo, modes := a.assignFlows()
		s := &pathStage{w: a.w, flows: fo.flows, jAll: fo.jAll, pairMode: modes}
		for fi, e := range s.allEnds() {
			for d := uint8(0); d < 2; d++ {
				if fo.flows[fi].nDir(d) > 0 && dirTuple(fo.flows[fi], d).dst == pod {
					n++
					if e[d].behindTunnel {
						marked++
					}
				}
			}
		}
		return n, marked
	}
	if n, marked := behind(); n == 0 || marked != n {
		t.Fatalf("%d of %d directions to pod-a behind its tunnel, want all", marked, n)
	}
	changed := false
	for i := range a.w.ctx {
		if x := &a.w.ctx[i]; x.Encap != decode.EncapNone && x.OuterV == 4 {
			copy(x.OuterSrc[:4], netip.MustParseAddr("10.244.1.5").AsSlice())
			changed = true
			break
		}
	}
	if !changed {
		t.Fatal("no IPv4 encapsulation")
	}
	if n, marked := behind(); n == 0 || marked != 0 {
		t.Errorf("%d of %d directions to pod-a's address, an outer one, behind a tunnel, want none", marked, n)
	}
}
