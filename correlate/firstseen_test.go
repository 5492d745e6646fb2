package correlate

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// TestOpenerNotShown: Result.OpenerNotShown marks exactly the UDP flows without NAT whose opening no
// capture could have shown, by the test natOpeners makes of a NAT flow (openingSeen) on the listing of
// every source's flows (srcFlowsIn, cor16's srcFlows.late), which OpenerNotShown makes over the flow's
// own sightings alone (flowSources): the two agree on every such flow of lab scenarios whose UDP
// begins well after the captures (healthy-ipip, underlay-loss, same-node: opening shown) and of
// generated captures, whose traffic begins with them (not shown). Flows with NAT, ICMP flows and
// TCP flows whose handshake was captured (all of these inputs') are not marked.
func TestOpenerNotShown(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Seed, cfg.Packets, cfg.Flows, cfg.Mode = 5, 400, 12, gen.ModeIPIP
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]string{"generated": g.Files}
	for _, sc := range []string{"healthy-ipip", "underlay-loss", "same-node", "snat-external"} {
		inputs[sc] = labFiles(t, sc, func(n string) bool { return !strings.HasSuffix(n, "-any.pcap") })
	}
	shown, notShown := 0, 0
	for name, files := range inputs {
		r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
		a := r.analysis
		for i := range r.Flows {
			f := &r.Flows[i]
			got := r.OpenerNotShown(f.ID)
			if f.Proto != "udp" || len(f.NAT) != 0 {
				if got != "" {
					t.Errorf("%s: %s flow %s %s → %s (NAT %d): marked %q", name, f.Proto, f.ID, f.Src, f.Dst, len(f.NAT), got)
				}
				continue
			}
			fl := a.flows[a.flowIndex(f.ID)]
			seen, _ := a.openingSeen(fl, map[uint16]*srcFlows{}) // every source's flows listed
			if seen == (got != "") {
				t.Errorf("%s: flow %s %s → %s: OpenerNotShown %q, the sources' listing says opening shown %v", name, f.ID,
					f.Src, f.Dst, got, seen)
			}
			if got != "" && got != firstSeenNote {
				t.Errorf("%s: flow %s: note %q", name, f.ID, got)
			}
			if seen {
				shown++
			} else {
				notShown++
			}
			if name != "generated" && !seen {
				t.Errorf("%s: UDP flow %s %s → %s, begun well after the captures, not shown opening", name, f.ID, f.Src, f.Dst)
			}
		}
	}
	t.Logf("UDP flows without NAT: %d opening shown, %d not", shown, notShown)
	if shown == 0 || notShown == 0 {
		t.Errorf("%d UDP flows without NAT with their opening shown, %d without: want some of each", shown, notShown)
	}
	if (&Result{}).OpenerNotShown("f1") != "" {
		t.Error("a Result without its analysis marks a flow")
	}
}

// tcpFlow returns r's TCP flow with one end on port port (nil for none).
func tcpFlow(r *Result, port uint16) *Flow {
	for i := range r.Flows {
		if f := &r.Flows[i]; f.Proto == "tcp" && (f.Src.Port == port || f.Dst.Port == port) {
			return f
		}
	}
	return nil
}

// cutAt keeps, of a capture's records, those at time cut (ns) or later: a capture begun then.
func cutAt(cut int64) func(string, []pcapRec) []pcapRec {
	return func(_ string, recs []pcapRec) []pcapRec {
		var out []pcapRec
		for _, r := range recs {
			if r.ts >= cut {
				out = append(out, r)
			}
		}
		return out
	}
}

// TestTCPOpenerFromHandshake: a TCP flow's opening is its handshake. tcp-retransmission's captures
// (pod-a's HTTP GET from 10.244.1.5:52384 to 10.244.2.7:8080, traffic.log), each cut to begin at one
// moment: before everything (the flow's client is pod-a, shown); between the SYN's last sighting and
// the SYN-ACK's first (no capture shows the SYN: the SYN-ACK tells that pod-a opened it, and the flow
// is listed from pod-a, not marked); after the handshake (pod-a's request is the first packet seen:
// its opener is not known, although the guess is right); and where pod-b's packets are the first seen
// (the first packet's direction is the wrong one: marked, with tcpFirstSeenNote). Before, the SYN-ACK
// cut listed the flow from pod-b's 8080, and neither of the last two was marked.
func TestTCPOpenerFromHandshake(t *testing.T) {
	client := "10.244.1.5:52384"
	for _, tc := range []struct {
		name     string
		cut      int64
		src      string // the flow's Src, "" for either end
		notShown string
	}{
		{"whole", 0, client, ""},
		{"syn-ack first", 1795626059_455760000, client, ""},
		{"after the handshake", 1795626059_456300000, "", tcpFirstSeenNote},
		{"pod-b's packets first", 1795626059_457100000, "10.244.2.7:8080", tcpFirstSeenNote},
	} {
		r := Correlate(labEditedIn(t, "tcp-retransmission", cutAt(tc.cut)), Options{})
		f := tcpFlow(r, 8080)
		if f == nil {
			t.Fatalf("%s: no TCP flow to port 8080", tc.name)
		}
		if tc.src != "" && f.Src.String() != tc.src {
			t.Errorf("%s: flow %s listed from %s, want %s", tc.name, f.ID, f.Src, tc.src)
		}
		if got := r.OpenerNotShown(f.ID); got != tc.notShown {
			t.Errorf("%s: flow %s %s → %s: OpenerNotShown %q, want %q", tc.name, f.ID, f.Src, f.Dst, got, tc.notShown)
		}
		if f.OpenerUnknown != tc.notShown { // JSON's opener_unknown says it too
			t.Errorf("%s: flow without NAT has OpenerUnknown %q, want %q", tc.name, f.OpenerUnknown, tc.notShown)
		}
	}
}

// TestWireGuardInitiatorOpens: healthy-wireguard's 51820 ↔ 51820 flow is first seen through node-a's
// handshake initiation (message type 1), at the captures' start: its sender opened the session, so the
// flow, listed from node-a, is not marked (before, the timing test marked it). With every capture cut
// to begin between the initiation and its response, the first packet seen is node-b's response, and
// the flow is marked as before.
func TestWireGuardInitiatorOpens(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cut      int64
		src      string
		notShown string
	}{
		{"whole", 0, "192.168.10.2:51820", ""},
		{"after the initiation", 1796211806_763000000, "192.168.20.2:51820", firstSeenNote},
	} {
		r := Correlate(labEditedIn(t, "healthy-wireguard", cutAt(tc.cut)), Options{})
		var f *Flow
		for i := range r.Flows {
			if g := &r.Flows[i]; g.Proto == "udp" && g.Src.Port == 51820 && g.Dst.Port == 51820 {
				f = g
			}
		}
		if f == nil {
			t.Fatalf("%s: no 51820 ↔ 51820 flow", tc.name)
		}
		if f.Src.String() != tc.src {
			t.Errorf("%s: flow %s listed from %s, want %s", tc.name, f.ID, f.Src, tc.src)
		}
		if got := r.OpenerNotShown(f.ID); got != tc.notShown {
			t.Errorf("%s: flow %s %s → %s: OpenerNotShown %q, want %q", tc.name, f.ID, f.Src, f.Dst, got, tc.notShown)
		}
	}
}

// tcpSyn reports whether data (a frame) holds an IPv4 TCP segment to or from port port with SYN set
// (a SYN or a SYN-ACK), encapsulated or not.
func tcpSyn(data []byte, port uint16) bool {
	for k := 0; k+40 <= len(data); k++ {
		if data[k] != 0x45 || data[k+9] != 6 || int(binary.BigEndian.Uint16(data[k+2:])) > len(data)-k {
			continue
		}
		tcp := data[k+20:]
		if (binary.BigEndian.Uint16(tcp) == port || binary.BigEndian.Uint16(tcp[2:]) == port) && tcp[13]&0x02 != 0 {
			return true
		}
	}
	return false
}

// TestTCPNATOpenerWithoutHandshake: snat-external's HTTP GET (pod-a 10.244.1.5 → ext-1 203.0.113.10:8080,
// masqueraded by node-a) with its SYN and SYN-ACK removed from every capture (captures that missed the
// handshake): the connection's first packet seen, pod-a's ACK, comes long after the captures began,
// which the timing test for UDP takes for an opening; but a TCP connection opens with its SYN, so
// no capture shows who opened it: the flow carries OpenerUnknown (tcpOpenerNote) and its mappings
// are of kind nat. Before, it said snat and dnat as if the handshake had been seen. The whole captures
// keep their answer.
func TestTCPNATOpenerWithoutHandshake(t *testing.T) {
	for _, tc := range []struct {
		name    string
		noSyn   bool
		unknown bool
	}{{"whole", false, false}, {"without the handshake", true, true}} {
		removed := 0
		r := Correlate(labEditedIn(t, "snat-external", func(_ string, recs []pcapRec) []pcapRec {
			if !tc.noSyn {
				return recs
			}
			var out []pcapRec
			for _, rec := range recs {
				if tcpSyn(rec.data[16:], 8080) {
					removed++
					continue
				}
				out = append(out, rec)
			}
			return out
		}), Options{})
		if tc.noSyn && removed == 0 {
			t.Fatalf("%s: no SYN removed", tc.name)
		}
		f := tcpFlow(r, 8080)
		if f == nil || len(f.NAT) == 0 {
			t.Fatalf("%s: no TCP flow with NAT to port 8080: %+v", tc.name, f)
		}
		if got := f.OpenerUnknown != ""; got != tc.unknown {
			t.Errorf("%s: flow %s %s → %s: opener unknown %v (%q), want %v", tc.name, f.ID, f.Src, f.Dst, got, f.OpenerUnknown, tc.unknown)
		}
		if tc.unknown && f.OpenerUnknown != tcpOpenerNote {
			t.Errorf("%s: note %q, want tcpOpenerNote", tc.name, f.OpenerUnknown)
		}
		for _, m := range f.NAT {
			if (m.Kind == "nat") != tc.unknown {
				t.Errorf("%s: mapping %s %s → %s at %s", tc.name, m.Kind, m.From, m.To, m.At)
			}
		}
		if r.OpenerNotShown(f.ID) != "" {
			t.Errorf("%s: a NAT flow answered by OpenerNotShown", tc.name)
		}
	}
}

// TestTCPOpenerUnknownEveryScenario: Flow.OpenerUnknown (JSON's opener_unknown) marks exactly the TCP
// flows without NAT whose opening no capture shows (openingSeen: their first journey is neither a SYN
// nor a SYN-ACK), with tcpFirstSeenNote, as Result.OpenerNotShown says, and no UDP flow without NAT,
// on every lab scenario (all its captures, and its per-interface captures cut to begin a third and
// two thirds of the way through them, where connections are first seen in their middle) and on
// generated captures (IP-in-IP, VXLAN, BGP). Before, no flow without NAT carried it.
func TestTCPOpenerUnknownEveryScenario(t *testing.T) {
	type input struct {
		name string
		c    func() *decode.Capture
	}
	var inputs []input
	for _, m := range []gen.Mode{gen.ModeIPIP, gen.ModeVXLAN, gen.ModeBGP} {
		cfg := gen.DefaultConfig()
		cfg.Seed, cfg.Packets, cfg.Flows, cfg.Mode = 7, 600, 16, m
		cfg.Dir = t.TempDir()
		g, err := gen.Generate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, input{fmt.Sprint("generated ", m), func() *decode.Capture {
			return decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
		}})
	}
	scs, err := os.ReadDir("../testdata/lab/scenarios")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range scs {
		sc := d.Name()
		files, _ := filepath.Glob(filepath.Join("../testdata/lab/scenarios", sc, "*.pcap*"))
		if !d.IsDir() || len(files) == 0 {
			continue
		}
		inputs = append(inputs, input{sc, func() *decode.Capture {
			return decode.Load(files, decode.Options{}, decode.PointConfig{})
		}})
		var perIface []string
		pcaps, _ := filepath.Glob(filepath.Join("../testdata/lab/scenarios", sc, "*.pcap"))
		for _, p := range pcaps {
			if !strings.HasSuffix(p, "-any.pcap") {
				perIface = append(perIface, p)
			}
		}
		if len(perIface) == 0 {
			continue
		}
		var lo, hi int64
		for _, p := range perIface {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			_, recs, _ := readPcapRecs(t, b)
			for _, r := range recs {
				if lo == 0 || r.ts < lo {
					lo = r.ts
				}
				hi = max(hi, r.ts)
			}
		}
		for _, part := range []int64{1, 2} {
			cut := lo + (hi-lo)*part/3
			inputs = append(inputs, input{fmt.Sprintf("%s cut %d/3", sc, part), func() *decode.Capture {
				return labEditedIn(t, sc, cutAt(cut))
			}})
		}
	}
	marked, unmarked := 0, 0
	for _, in := range inputs {
		r := Correlate(in.c(), Options{})
		a := r.analysis
		for i := range r.Flows {
			f := &r.Flows[i]
			if len(f.NAT) != 0 {
				continue
			}
			fl := a.flows[a.flowIndex(f.ID)]
			want, notShown := "", ""
			if f.Proto == "tcp" {
				if seen, _ := a.openingSeen(fl, nil); !seen {
					want, notShown = tcpFirstSeenNote, tcpFirstSeenNote
				} else if by := openers(f); by["src"] > 0 && by["dst"] > 0 {
					want = connectionsOpener(f.Connections, false) // a port reused by both ends (TestPortReuseOpener)
				}
			}
			if f.OpenerUnknown != want {
				t.Errorf("%s: %s flow %s %s → %s: OpenerUnknown %q, want %q", in.name, f.Proto, f.ID, f.Src, f.Dst,
					f.OpenerUnknown, want)
			}
			if f.Proto != "tcp" {
				continue
			}
			if got := r.OpenerNotShown(f.ID); got != notShown {
				t.Errorf("%s: TCP flow %s: OpenerNotShown %q, want %q", in.name, f.ID, got, notShown)
			}
			if notShown != "" {
				marked++
			} else {
				unmarked++
			}
		}
	}
	t.Logf("%d inputs: TCP flows without NAT %d marked, %d not", len(inputs), marked, unmarked)
	if marked == 0 || unmarked == 0 {
		t.Errorf("TCP flows without NAT: %d marked, %d not: want some of each", marked, unmarked)
	}
}

// TestTCPOpenerThroughWireGuard: in the WireGuard scenarios' -i any captures without node-a's, pod-a's
// connection to pod-b:8080 is first seen inside WireGuard messages, and in the clear only after node-b
// decrypts them. The handshake is read at the first hop that shows the
// packet's own headers (pktHop), as newFlow reads it, so the flow is listed from pod-a and not marked
// (opener_unknown said no capture showed the SYN, reading the encrypted first hop).
func TestTCPOpenerThroughWireGuard(t *testing.T) {
	for _, sc := range []string{"healthy-wireguard", "wireguard-mtu-blackhole", "wireguard-fragmented",
		"wireguard-underlay-loss", "wireguard-bypass"} {
		files := labFiles(t, sc, func(n string) bool {
			return strings.HasSuffix(n, "-any.pcap") && n != "node-a-any.pcap"
		})
		r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
		f := tcpFlow(r, 8080)
		if f == nil {
			t.Fatalf("%s: no TCP flow to port 8080", sc)
		}
		if f.Src.IP != "10.244.1.5" || f.OpenerUnknown != "" {
			t.Errorf("%s: flow %s %s → %s, OpenerUnknown %q; want it from 10.244.1.5, not marked", sc, f.ID, f.Src, f.Dst, f.OpenerUnknown)
		}
		if got := r.OpenerNotShown(f.ID); got != "" {
			t.Errorf("%s: flow %s: OpenerNotShown %q, want none", sc, f.ID, got)
		}
	}
}
