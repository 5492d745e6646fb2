package correlate

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// TestEgressGateway reads the lab's egress-gateway scenario: node-a routes pod-a's packets to ext-1
// through its tunnel to node-b, which hands them to the egress gateway pod egw-1 (10.244.2.12); egw-1
// masquerades them to its own address in its own network namespace and sends them back out of its
// veth, on to router-1 and ext-1; the replies come back into egw-1's veth, are un-masqueraded there
// and go back out of it to pod-a, through the tunnel. From the per-interface captures, and from the
// -i any files with the routers' and ext-1's:
//   - egw-1's veth is one pod's, 10.244.2.12 (its ARP requests, from its MAC, say so), not the far
//     side's address, which its frames carry more often (each packet twice), nor a capture of several
//     pods (pod-veth-shared): every frame on it came from one MAC besides the host end's;
//   - each reply, delivered into egw-1 (sent to its address) and seen coming back out of its veth one
//     TTL lower rewritten to pod-a, is one journey (podForwarded): not a packet lost in egw-1 and
//     another first seen at its veth;
//   - every packet is delivered along the whole way, the SNAT is at egw-1's veth, from pod-a's address
//     to egw-1's, and nothing is lost, resent or an error.
//
// Before: egw-1's veth was "pod 203.0.113.10" with pod-veth-shared, the flows were said DNATed, a
// pmtu-blackhole ERROR and retransmissions were reported; with the pod right but the replies split
// at the veth, 10 of them were lost at router-1/eth1 → router-1/eth0 (another ERROR pmtu-blackhole) and
// a path-incomplete said the rest were first seen at node-b/tunl0.
func TestEgressGateway(t *testing.T) {
	dir := "../testdata/lab/scenarios/egress-gateway"
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	var per, anyShape []string
	for _, f := range all {
		switch b := filepath.Base(f); {
		case strings.HasSuffix(b, "-any.pcap"):
			anyShape = append(anyShape, f)
		case strings.HasPrefix(b, "node-"):
			per = append(per, f)
		default: // router-1's and ext-1's: in both shapes
			per = append(per, f)
			anyShape = append(anyShape, f)
		}
	}
	if len(per) != 11 || len(anyShape) != 6 {
		t.Fatalf("%d per-interface files and %d for the -i any shape, want 11 and 6", len(per), len(anyShape))
	}
	// Without node-b's tunl0: ext-1's GSO frame of the HTTP answer, un-masqueraded in egw-1, is seen next
	// as its pieces at node-b's eth0, encapsulated: the path's second passage there (indexPast). Before,
	// its first passage (the frame coming in bare) was taken, and the frame was lost on its way out.
	noTunl0 := slices.DeleteFunc(slices.Clone(per), func(f string) bool { return filepath.Base(f) == "node-b-tunl0.pcap" })
	const gw, podA, ext = "10.244.2.12", "10.244.1.5", "203.0.113.10"
	for _, tc := range []struct {
		name  string
		files []string
		veth  string // egw-1's veth as calipath names it
	}{
		{"per-interface", per, "node-b/calic48178a498b"},
		{"any", anyShape, "node-b/any#4"},
		{"no-node-b-tunl0", noTunl0, "node-b/calic48178a498b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Correlate(decode.Load(tc.files, decode.Options{}, decode.PointConfig{}), Options{})
			found := false
			for _, p := range r.Points {
				if p.ID == tc.veth {
					found = true
					if p.PodIP != gw {
						t.Errorf("%s: pod %q, want egw-1's %s", p.ID, p.PodIP, gw)
					}
				}
			}
			if !found {
				t.Fatalf("no point %s among %d", tc.veth, len(r.Points))
			}
			for _, an := range r.Anomalies {
				if an.Severity != "info" || an.Kind != "nat" {
					t.Errorf("%s %s at %+v: %s", an.Severity, an.Kind, an.Where, an.Message)
				}
			}
			n := 0
			for _, f := range r.Flows {
				if f.Proto == "icmp" {
					continue // pod-a's pings to pod-b, not through the gateway
				}
				n++
				if f.Src.IP != podA || f.Dst.IP != ext {
					t.Errorf("flow %s %s %s → %s: want pod-a's to ext-1", f.ID, f.Proto, f.Src.IP, f.Dst.IP)
				}
				if f.Packets == 0 || f.Delivered != f.Packets || f.Lost != 0 || f.Retransmissions != 0 {
					t.Errorf("flow %s: %d packets, %d delivered, %d lost, %d retransmitted: want all delivered", f.ID, f.Packets,
						f.Delivered, f.Lost, f.Retransmissions)
				}
				snat := false
				for _, m := range f.NAT {
					if m.At != tc.veth+"→"+tc.veth {
						t.Errorf("flow %s: %s at %s, want it at egw-1's veth", f.ID, m.Kind, m.At)
					}
					snat = snat || m.Kind == "snat" && strings.HasPrefix(m.From, podA+":") && strings.HasPrefix(m.To, gw+":")
				}
				if !snat {
					t.Errorf("flow %s: NAT %+v, want pod-a's address masqueraded to egw-1's", f.ID, f.NAT)
				}
				for _, j := range r.FlowJourneys(f.ID) {
					if j.Status != statusDelivered && j.Status != statusSplit { // (split: a GSO frame, continued in pieces)
						t.Errorf("flow %s journey %d (%s): %s at %s→%s", f.ID, j.ID, j.Dir, j.Status, j.LastSeen, j.NextExpected)
					}
				}
			}
			if n != 2 {
				t.Errorf("%d flows besides the pings, want 2 (pod-a's UDP and TCP to ext-1)", n)
			}
		})
	}
}

// TestEgressGatewayNodeBAlone reads the egress-gateway scenario's -i any shape with node-a's file left
// out (leave-one-capture-out): node-b's alone. The replies from ext-1, un-masqueraded in egw-1, leave
// node-b encapsulated to 192.168.10.2 (node-a, which no capture names); their votes make node-b their
// end (egw-1's address, their destination before the un-masquerade, is node-b's), but node-b sent
// them on through its tunnel, so pod-a's address is not learnt on node-b (sentAway). Before, it was:
// the pings' replies from pod-b were "headed for 10.244.1.5, which lives on node-b itself", left the
// captures at pod-b's veth, and the pings' path was that veth alone. Now they are judged on their way
// out through node-b's tunnel and underlay, where the captures show them leaving encapsulated.
func TestEgressGatewayNodeBAlone(t *testing.T) {
	f := filepath.Join("../testdata/lab/scenarios/egress-gateway", "node-b-any.pcap")
	r := Correlate(decode.Load([]string{f}, decode.Options{}, decode.PointConfig{}), Options{})
	for _, an := range r.Anomalies {
		if strings.Contains(an.Message, "lives on node-b") {
			t.Errorf("%s %s at %+v: %s", an.Severity, an.Kind, an.Where, an.Message)
		}
	}
	n := 0
	for _, fl := range r.Flows {
		if fl.Proto != "icmp" {
			continue
		}
		n++
		if !slices.Contains(fl.Path, "node-b/any#2") || !slices.Contains(fl.Path, "node-b/any#3") {
			t.Errorf("flow %s: path %v, want node-b's underlay to pod-b's veth", fl.ID, fl.Path)
		}
		for _, j := range r.FlowJourneys(fl.ID) {
			if j.Status == statusLeft && j.LastSeen != "node-b/any#2" {
				t.Errorf("flow %s journey %d (%s): left the captures at %s, want node-b's underlay (encapsulated to node-a)",
					fl.ID, j.ID, j.Dir, j.LastSeen)
			}
			if j.Status != statusLeft && j.Status != statusDelivered {
				t.Errorf("flow %s journey %d (%s): %s at %s", fl.ID, j.ID, j.Dir, j.Status, j.LastSeen)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d ping flows, want 2", n)
	}
}

// TestEgressGatewayNATInPod: egw-1's masquerade, and its un-masquerade of the replies, happen inside
// egw-1 (in its own network namespace, between its veth's way in and way out), and the nat findings
// at its veth say so (rewrittenInPod), in every leave-one-capture-out run of both shapes that keeps
// that veth; a nat finding placed elsewhere (without egw-1's veth, between node-b's tunnel device and
// underlay) does not, nor does hairpin-clusterip's, a pod's own packet DNATed on its node back into
// it (its NAT is also at one pod veth, both sides). Before, the finding said only "SNAT." and
// "DNAT." at the veth, as for a node's rewrite.
func TestEgressGatewayNATInPod(t *testing.T) {
	dir := "../testdata/lab/scenarios/egress-gateway"
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	var per, anyShape []string
	for _, f := range all {
		b := filepath.Base(f)
		if !strings.HasSuffix(b, "-any.pcap") {
			per = append(per, f)
		}
		if strings.HasSuffix(b, "-any.pcap") || !strings.HasPrefix(b, "node-") {
			anyShape = append(anyShape, f)
		}
	}
	const inPod = "Rewritten inside pod 10.244.2.12 (it forwards traffic: an egress gateway or a proxy pod?)"
	type run struct {
		name  string
		files []string
	}
	runs := []run{{"per-interface", per}, {"any", anyShape}}
	for _, set := range []run{{"per-interface", per}, {"any", anyShape}} {
		for i := range set.files {
			out := slices.Delete(slices.Clone(set.files), i, i+1)
			runs = append(runs, run{set.name + "-without-" + filepath.Base(set.files[i]), out})
		}
	}
	said := 0
	for _, tc := range runs {
		t.Run(tc.name, func(t *testing.T) {
			r := Correlate(decode.Load(tc.files, decode.Options{}, decode.PointConfig{}), Options{})
			veth := ""
			for _, p := range r.Points {
				if p.PodIP == "10.244.2.12" && (p.ID == "node-b/calic48178a498b" || p.ID == "node-b/any#4") {
					veth = p.ID
				}
			}
			kinds := map[string]bool{}
			for _, an := range r.Anomalies {
				if an.Kind != "nat" {
					continue
				}
				at := veth != "" && an.Where.From == veth && an.Where.To == veth
				if has := strings.Contains(an.Message, inPod); has != at {
					t.Errorf("nat at %s → %s (egw-1's veth %q): %q", an.Where.From, an.Where.To, veth, an.Message)
				}
				if at {
					kinds[strings.SplitN(an.Message, ".", 2)[0]] = true
					said++
				}
			}
			if veth != "" && (!kinds["SNAT"] || !kinds["DNAT"]) {
				t.Errorf("nat findings inside egw-1: %v, want its SNAT and the replies' un-SNAT", kinds)
			}
		})
	}
	if said == 0 {
		t.Error("no run said the NAT was inside egw-1")
	}
	hp, _ := filepath.Glob("../testdata/lab/scenarios/hairpin-clusterip/*.pcap")
	r := Correlate(decode.Load(hp, decode.Options{}, decode.PointConfig{}), Options{})
	nat := 0
	for _, an := range r.Anomalies {
		if an.Kind == "nat" {
			nat++
			if strings.Contains(an.Message, "inside pod") {
				t.Errorf("hairpin-clusterip: nat at %s → %s: %q", an.Where.From, an.Where.To, an.Message)
			}
		}
	}
	if nat == 0 {
		t.Error("hairpin-clusterip: no nat finding")
	}
}

// TestEgressGatewayNodesOnly reads the egress-gateway scenario's per-interface captures of the two
// nodes alone (no router-1, no ext-1). ext-1's address (203.0.113.10) is no node's and no pod's: the
// requests, taken out of the tunnel on node-b and masqueraded in egw-1, leave node-b's eth0 bare
// toward it, and the replies come into node-b's eth0 bare from it before node-b tunnels them back to
// node-a. Before, the encapsulation put ext-1 on node-b (the replies' first encapsulated hop's outer
// source is node-b's; the GSO answer's pieces, first seen at node-b's tunnel device, have nothing
// before it), and the path-incomplete findings said the requests were "headed for 203.0.113.10 on
// node-b (the destination's node ...)" and the replies "coming from 203.0.113.10 on node-b", asking
// for node-b's pod captures: node-b only passed them on (outerNode's beyond, allEnds' passedOn).
func TestEgressGatewayNodesOnly(t *testing.T) {
	all, _ := filepath.Glob("../testdata/lab/scenarios/egress-gateway/node-*.pcap")
	files := slices.DeleteFunc(all, func(f string) bool { return strings.HasSuffix(f, "-any.pcap") })
	if len(files) != 7 {
		t.Fatalf("%d files, want node-a's and node-b's 7 per-interface captures", len(files))
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	open := 0
	for _, an := range r.Anomalies {
		if strings.Contains(an.Message, "203.0.113.10 on node-") || strings.Contains(an.Message, "lives on node-b") {
			t.Errorf("%s %s at %+v: %s", an.Severity, an.Kind, an.Where, an.Message)
		}
		if an.Kind == "path-incomplete" && strings.Contains(an.Message, "203.0.113.10 (whose node none of the captures shows)") {
			open++
		}
	}
	if open != 2 {
		t.Errorf("%d path-incomplete findings say 203.0.113.10's node is not shown, want 2 (the requests' way out, the replies' way in)", open)
	}
	for _, f := range r.Flows {
		if f.Proto == "icmp" {
			continue
		}
		if f.Lost != 0 || f.Delivered+f.NotCaptured != f.Packets {
			t.Errorf("flow %s: %d packets, %d delivered, %d not captured, %d lost", f.ID, f.Packets, f.Delivered, f.NotCaptured, f.Lost)
		}
	}
}

// TestEgressGatewayNodeBAloneLate is TestEgressGatewayNodeBAlone's capture with the encapsulated
// copies at node-b's eth0 of every TCP reply but the last cut out (as a capture that dropped them
// would show them): the replies' journeys but the last end at node-b's tunnel device, and only the
// last shows node-b sending them on, encapsulated, toward node-a. sentAway read the direction's first
// four journeys, and so learnt pod-a's address on node-b again from the TCP replies (the UDP ones,
// whole, do not teach it): "headed for 10.244.1.5, which lives on node-b itself". Any journey sent
// away now says it does not live there.
func TestEgressGatewayNodeBAloneLate(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("../testdata/lab/scenarios/egress-gateway", "node-b-any.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	// A TCP reply from ext-1 encapsulated by node-b (a pcap of LINUX_SLL2 frames: 20-byte headers).
	encReply := func(rec []byte) bool {
		ip := rec[16+20:]
		if len(ip) <= 40 || ip[0]>>4 != 4 || ip[9] != 4 || string(ip[12:16]) != string([]byte{192, 168, 20, 2}) {
			return false
		}
		in := ip[int(ip[0]&15)*4:]
		return in[9] == 6 && string(in[12:16]) == string([]byte{203, 0, 113, 10})
	}
	var recs [][]byte
	last, n := -1, 0
	for off := 24; off+16 <= len(b); {
		l := int(binary.LittleEndian.Uint32(b[off+8:]))
		recs = append(recs, b[off:off+16+l])
		off += 16 + l
		if encReply(recs[len(recs)-1]) {
			last, n = len(recs)-1, n+1
		}
	}
	if n < 5 {
		t.Fatalf("%d encapsulated TCP replies, want more than sentAway's old sample of 4", n)
	}
	out := append([]byte{}, b[:24]...)
	for i, rec := range recs {
		if i == last || !encReply(rec) {
			out = append(out, rec...)
		}
	}
	f := filepath.Join(t.TempDir(), "node-b-any.pcap")
	if err := os.WriteFile(f, out, 0o644); err != nil {
		t.Fatal(err)
	}
	r := Correlate(decode.Load([]string{f}, decode.Options{}, decode.PointConfig{}), Options{})
	for _, an := range r.Anomalies {
		if strings.Contains(an.Message, "lives on node-b") {
			t.Errorf("%s %s at %+v: %s", an.Severity, an.Kind, an.Where, an.Message)
		}
	}
}
