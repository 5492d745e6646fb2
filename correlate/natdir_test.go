package correlate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// truthNAT is truth.json's nat list as the lab's truth tool names each rewrite: as the side that opened
// the conversation made it (testdata/lab/truth's natOpeners), with where.
type truthNAT struct {
	Kind  string `json:"kind"`
	Proto string `json:"proto"`
	From  string `json:"from"`
	To    string `json:"to"`
	Where string `json:"where"`
}

func readTruthNAT(t *testing.T, sc string) []truthNAT {
	t.Helper()
	b, err := os.ReadFile("../testdata/lab/scenarios/" + sc + "/truth.json")
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		NAT []truthNAT `json:"nat"`
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	return tr.NAT
}

// nat-midstream with every capture (per interface, and with node-b's -any file in place of node-b's
// per-interface files): every capture begins in the middle of pod-a's UDP conversation to ext-1
// (masqueraded on node-a: truth.json's snat at the cali → node-a/eth0) and of ext-1's to node-a's node
// port (DNATed to pod-a). The first packet of pod-a's conversation seen anywhere is a reply, un-SNATed:
// calipath listed the flow reversed, ext-1 → node-a's port "(dnat)", and counted the replies' un-SNAT
// in a DNAT at node-a/eth0 → the cali. No capture could have shown either conversation's opening, so
// calipath must not name a client nor a NAT kind for them: each says its opener is not known, its
// mappings are "nat", and the nat INFOs claim neither SNAT nor DNAT for their rewrites. Whatever it
// says must not contradict the truth: a flow that names its client names the truth's opener, and a
// mapping that names its kind names the truth's.
func TestNATMidstreamOpenerUnknown(t *testing.T) { natMidstreamOpenerUnknown(t, "nat-midstream") }

// snat-address-midstream is nat-midstream with both rewrites away from addresses that are not node-a's
// own: pod-a's conversation to ext-1 SNATed to 192.168.10.50 (Calico's natOutgoingAddress, a second
// address of node-a's eth0) and ext-1's to a Service's external IP, 192.168.10.60:53, DNATed to pod-a.
// Both conversations' first packets seen arrive at node-a's eth0 with their destination rewritten
// away from an address no known node owns, on their way to pod-a's cali: the un-SNAT of pod-a's
// replies and the DNAT of ext-1's requests look alike. cor17's DNAT-only rule (a destination rewritten
// away from a non-node address can only be a DNAT) trusted that a masquerade takes the node's own
// address, and named both DNATs of conversations ext-1 opened: pod-a's reversed, its SNAT called a
// DNAT. Only a rewrite of packets sent from a pod on the NAT node (seen before it at a pod's veth)
// tells a DNAT so; these say their opener is not known, and contradict no truth. Each mapping is at
// the truth's place: four of pod-a's requests, which router-1's clock (fitted within its uncertainty)
// put at router-1/eth0 before node-a/eth0, were booked as a rewrite from their SNATed tuple to itself
// at node-a/eth0 → router-1/eth0 (natRewrite).
func TestSNATAddressMidstreamOpenerUnknown(t *testing.T) {
	natMidstreamOpenerUnknown(t, "snat-address-midstream")
}

// truthNATAt reports whether segment at ("A→B") holds one of the truth's rewrites, either way (a
// reply is un-NATed on the way back).
func truthNATAt(truth []truthNAT, at string) bool {
	for _, tn := range truth {
		a, b, _ := strings.Cut(tn.Where, "→")
		if at == tn.Where || at == b+"→"+a {
			return true
		}
	}
	return false
}

func natMidstreamOpenerUnknown(t *testing.T, sc string) {
	truth := readTruthNAT(t, sc)
	if len(truth) != 2 {
		t.Fatalf("%s: truth.json lists %d NAT rewrites, want 2 (pod-a's SNAT, ext-1's DNAT)", sc, len(truth))
	}
	for _, anyNode := range []string{"", "node-b"} {
		name := sc + " " + anyNode
		_, r := labSubset(t, sc, nodePortFiles(anyNode, "node-a.pcapng"), nil)
		for _, tn := range truth {
			opener := tn.From // the opener's own end: the SNAT's source before, the DNAT's destination's client
			var found *Flow
			for i := range r.Flows {
				f := &r.Flows[i]
				for _, m := range f.NAT {
					if strings.Contains(m.From, tn.From) || strings.Contains(m.To, tn.From) {
						found = f
					}
				}
			}
			if found == nil {
				t.Fatalf("%s: no flow with a mapping of %s (truth: %s %s → %s at %s)", name, tn.From, tn.Kind, tn.From, tn.To, tn.Where)
			}
			f := found
			if f.OpenerUnknown == "" {
				t.Errorf("%s: flow %s %s → %s names its opener (%s), but every capture began in its middle", name, f.ID,
					f.Src, f.Dst, f.Src)
				if tn.Kind == "snat" && f.Src.String() != opener {
					t.Errorf("%s: flow %s's client is %s; the truth's opener is %s (%s at %s)", name, f.ID, f.Src, opener, tn.Kind, tn.Where)
				}
			} else if !strings.Contains(f.OpenerUnknown, "Start the captures before the conversation begins") {
				t.Errorf("%s: flow %s: opener not known without the fix: %s", name, f.ID, f.OpenerUnknown)
			}
			for _, m := range f.NAT {
				if m.From == m.To || !truthNATAt(truth, m.At) {
					t.Errorf("%s: flow %s: mapping %+v: no rewrite of the truth's there", name, f.ID, m)
				}
				if m.Kind != "nat" && f.OpenerUnknown != "" {
					t.Errorf("%s: flow %s, opener not known, names a mapping's kind: %+v", name, f.ID, m)
				}
				if m.At == tn.Where && m.Kind != "nat" && m.Kind != tn.Kind {
					t.Errorf("%s: flow %s calls the rewrite at %s %s; the truth says %s", name, f.ID, m.At, m.Kind, tn.Kind)
				}
			}
		}
		nats := 0
		for _, a := range r.Anomalies {
			if a.Kind != "nat" {
				continue
			}
			nats++
			if strings.HasPrefix(a.Message, "DNAT.") || strings.HasPrefix(a.Message, "SNAT.") ||
				!strings.HasPrefix(a.Message, "NAT (SNAT or DNAT: the captures may have begun after") {
				t.Errorf("%s: nat INFO at %s → %s (%d) names a kind: %s", name, a.Where.From, a.Where.To, a.Count, a.Message)
			}
		}
		if nats == 0 {
			t.Errorf("%s: no nat INFO, want the rewrites listed", name)
		}
		for _, f := range r.Flows {
			if f.Proto == "icmp" && f.OpenerUnknown != "" {
				t.Errorf("%s: ICMP flow %s says its opener is not known (an echo request says it)", name, f.ID)
			}
		}
	}
}

// snat-external: the captures began before every conversation, so calipath names each NAT flow's
// client and the kinds as before: pod-a's masqueraded UDP and TCP flows "snat" at the cali →
// node-a/eth0, their replies' "dnat" back, and no flow says its opener is not known.
func TestSNATExternalOpenerKnown(t *testing.T) {
	const sc = "snat-external"
	_, r := labSubset(t, sc, nodePortFiles("", "node-a.pcapng"), nil)
	udp := false
	for _, f := range r.Flows {
		if f.OpenerUnknown != "" {
			t.Errorf("%s: flow %s %s → %s: opener not known, but the captures began before it: %s", sc, f.ID, f.Src, f.Dst,
				f.OpenerUnknown)
		}
		if f.Proto != "udp" || len(f.NAT) == 0 {
			continue
		}
		udp = true
		if !strings.HasPrefix(f.Src.IP, "10.244.1.") {
			t.Errorf("%s: UDP flow %s's client is %s, want pod-a", sc, f.ID, f.Src)
		}
		for _, m := range f.NAT {
			if m.Kind == "nat" {
				t.Errorf("%s: flow %s: mapping %+v without its kind", sc, f.ID, m)
			}
		}
	}
	if !udp {
		t.Fatalf("%s: no UDP flow with NAT", sc)
	}
}

// TestDNATOnlyNeedsNodeAddrs: a flow's destination rewritten away from an address no known node has
// names a DNAT (dnatOnly) only where the NAT node's addresses are known; without the nodes' eth0 (no
// outer header, so no node address known) the address may be the NAT node's own and the rewrite the
// un-SNAT of a masquerade, so a flow whose opening the captures cannot show says its opener is not
// known. Generated VXLAN traffic to Services (as report's gen-vxlan-dnat; its captures begin with
// the traffic, so no capture could show an opening by its timing): with every capture the Service
// flows keep their DNAT, without the eth0 captures they do not claim it.
func TestDNATOnlyNeedsNodeAddrs(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Seed, cfg.Packets, cfg.Flows, cfg.Mode, cfg.DNAT, cfg.Nodes = 3, 200, 6, gen.ModeVXLAN, 0.5, 3
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var inner []string // the veths and vxlan.calico
	for _, f := range g.Files {
		if !strings.Contains(filepath.Base(f), "-eth0") {
			inner = append(inner, f)
		}
	}
	if len(inner) == 0 || len(inner) == len(g.Files) {
		t.Fatalf("%d captures but eth0 of %d files", len(inner), len(g.Files))
	}
	for _, tc := range []struct {
		name  string
		files []string
		known bool
	}{{"every capture", g.Files, true}, {"without eth0", inner, false}} {
		r := Correlate(decode.Load(tc.files, decode.Options{}, decode.PointConfig{}), Options{})
		n := 0
		for _, f := range r.Flows {
			if f.Proto != "udp" || !strings.HasPrefix(f.Dst.IP, "10.96.") {
				continue
			}
			n++
			if known := f.OpenerUnknown == ""; known != tc.known {
				t.Errorf("%s: flow %s %s → %s: opener known %v, want %v (NAT %+v)", tc.name, f.ID, f.Src, f.Dst, known,
					tc.known, f.NAT)
			}
			if len(f.NAT) == 0 {
				t.Errorf("%s: flow %s %s → %s: no NAT", tc.name, f.ID, f.Src, f.Dst)
			}
			for _, m := range f.NAT {
				if (m.Kind == "nat") == tc.known {
					t.Errorf("%s: flow %s: mapping %+v", tc.name, f.ID, m)
				}
			}
			// Its first packets came from a pod's veth, rewritten away from a non-node address: knowing the
			// NAT node's addresses would tell the DNAT, and the note says so, naming the node and --node-ip.
			if len(f.Path) == 0 {
				t.Fatalf("%s: flow %s: no path", tc.name, f.ID)
			}
			node, _, _ := strings.Cut(f.Path[0], "/") // the client pod's node, which DNATs
			if !tc.known && f.OpenerUnknown != "" && (!strings.Contains(f.OpenerUnknown, "Start the captures before") ||
				!strings.Contains(f.OpenerUnknown, "--node-ip "+node+"=IP") || !strings.Contains(f.OpenerUnknown, "capture "+node+"'s eth0")) {
				t.Errorf("%s: flow %s's note does not say that the NAT node's addresses would answer: %s", tc.name, f.ID, f.OpenerUnknown)
			}
		}
		if n == 0 {
			t.Fatalf("%s: no UDP flow to a Service", tc.name)
		}
	}
}
