package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runHash hashes every file a run writes (names and bytes, in order) and its truth as JSON.
func runHash(t *testing.T, c Config) string {
	t.Helper()
	res := generate(t, c)
	h := sha256.New()
	for _, f := range res.Files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(filepath.Base(f)))
		h.Write(b)
	}
	j, err := json.Marshal(res.Truth)
	if err != nil {
		t.Fatal(err)
	}
	h.Write(j)
	return hex.EncodeToString(h.Sum(nil))
}

// TestDefaultMixPinned pins the bytes of the default mix (captures and truth) as they were before the
// other mixes existed: adding a mix must not change what existing commands write. (vxlan-knobs changed
// once since, on purpose: its TCP receivers no longer acknowledge segments that were lost, tcprcv.go.)
func TestDefaultMixPinned(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Config)
		want string
	}{
		{"ipip", func(c *Config) {}, "61802d9e31d37014c69b472d51c63a52fee63e7e2794d84f4da1790ace8ee673"},
		{"vxlan-knobs", func(c *Config) {
			c.Mode, c.LossPerHop, c.DupRate, c.RetransRate, c.DNAT, c.IPID0DF = ModeVXLAN, 0.02, 0.05, 0.05, 0.5, 0.3
			c.Nodes, c.PodsPerNode = 3, 2
		}, "973f0485896e143bca27b3ddbe68a470096dbaa43997aadbf6167aefbd4a8543"},
		{"bgp-pcapng-ns", func(c *Config) {
			c.Mode, c.Format, c.Nanosecond, c.PartialCsum, c.Identical = ModeBGP, FormatPcapNG, true, true, 2
		}, "fcaa876446b8d4ee3df35486debff3e53c865e42700950bd1945a6c9cb795759"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := smallConfig(t)
			tc.set(&c)
			if got := runHash(t, c); got != tc.want {
				t.Errorf("default mix wrote other bytes: hash %s, want %s", got, tc.want)
			}
		})
	}
}

func manyFlowsConfig(t *testing.T) Config {
	c := DefaultConfig()
	c.Dir = t.TempDir()
	c.Mix = MixManyFlows
	c.Nodes, c.PodsPerNode = 3, 5
	c.Flows = 600
	c.Packets = 4000
	return c
}

// The many-flow mix: every flow sends, the budgets add up to the packets, servers are the first pod of
// each node and clients the others, mostly DNS-like UDP to port 53, TCP connections complete in 8
// packets, and flows start over the whole run; the files agree with the truth.
func TestManyFlows(t *testing.T) {
	c := manyFlowsConfig(t)
	res := generate(t, c)
	tr := res.Truth
	ck := newChecker(t, c, res)
	ck.checkAll()
	checkTCPProgression(t, tr, ck)
	if len(tr.Flows) != c.Flows {
		t.Fatalf("%d flows in the truth, want %d", len(tr.Flows), c.Flows)
	}
	sent, udp := 0, 0
	clients := map[string]bool{}
	for _, f := range tr.Flows {
		sent += f.Packets
		clients[f.Client] = true
		if !strings.HasSuffix(f.Server, "-1") || strings.HasSuffix(f.Client, "-1") {
			t.Errorf("flow %d: client %s, server %s: want servers the first pod of a node only", f.ID, f.Client, f.Server)
		}
		switch f.Proto {
		case protoUDP:
			udp++
			if f.Dport != 53 || f.Packets < 2 {
				t.Errorf("UDP flow %d: port %d, %d packets; want 53 and at least a request and its response", f.ID, f.Dport, f.Packets)
			}
		case protoTCP:
			if f.Packets != manyFlowsTCP {
				t.Errorf("TCP flow %d: %d packets, want %d", f.ID, f.Packets, manyFlowsTCP)
			}
		default:
			t.Errorf("flow %d: protocol %d in the many-flow mix", f.ID, f.Proto)
		}
	}
	if sent != c.Packets {
		t.Errorf("flows sent %d packets, want %d", sent, c.Packets)
	}
	if frac := float64(udp) / float64(c.Flows); frac < 0.8 || frac > 0.9 {
		t.Errorf("%.2f of the flows are UDP, want about %.2f", frac, ManyFlowsUDP)
	}
	if len(clients) != c.Nodes*(c.PodsPerNode-1) {
		t.Errorf("%d client pods, want %d", len(clients), c.Nodes*(c.PodsPerNode-1))
	}
	// DNS-like sizes: queries ≤ 64 bytes of payload, answers at least 40.
	for i := range tr.Packets {
		p := &tr.Packets[i]
		if tr.Flows[p.Flow].Proto != protoUDP {
			continue
		}
		pay := p.Len - 28
		if p.Dir == 0 && (pay < 17 || pay > 64) || p.Dir == 1 && pay < 40 {
			t.Fatalf("packet %d dir %d: %d bytes of payload, not DNS-like", p.ID, p.Dir, pay)
		}
	}
	// Flows start over the whole run, not all in its first second.
	first := map[int]int64{}
	var last int64
	for i := range tr.Packets {
		p := &tr.Packets[i]
		t0 := p.Captures[0].True
		if _, ok := first[p.Flow]; !ok {
			first[p.Flow] = t0
		}
		last = max(last, t0)
	}
	late := 0
	for _, t0 := range first {
		if t0-tr.Start > (last-tr.Start)/2 {
			late++
		}
	}
	if late < c.Flows/4 {
		t.Errorf("%d of %d flows start in the second half of the run", late, c.Flows)
	}
}

// The many-flow mix with loss, duplicates, retransmissions, DNAT and the other modes still agrees with
// its truth, and is deterministic by seed.
func TestManyFlowsKnobs(t *testing.T) {
	for _, m := range []Mode{ModeIPIP, ModeVXLAN, ModeBGP} {
		t.Run(m.String(), func(t *testing.T) {
			c := manyFlowsConfig(t)
			c.Mode, c.LossPerHop, c.DupRate, c.RetransRate, c.DNAT, c.IPID0DF = m, 0.02, 0.05, 0.05, 0.3, 0.2
			res := generate(t, c)
			ck := newChecker(t, c, res)
			ck.checkAll()
			if checkTCPProgression(t, res.Truth, ck) == 0 {
				t.Error("no ACK held back by a lost segment; the test proves nothing")
			}
			c2 := c
			c2.Dir = t.TempDir()
			if runHash(t, c) != runHash(t, c2) {
				t.Error("same seed, other bytes")
			}
			c2.Seed = 2
			if runHash(t, c) == runHash(t, c2) {
				t.Error("seed 2 wrote the same bytes as seed 1")
			}
		})
	}
}

// Too few packets for the flows is an error, not a silent cut.
func TestManyFlowsTooFewPackets(t *testing.T) {
	c := manyFlowsConfig(t)
	c.Packets = c.Flows
	if _, err := Generate(c); err == nil || !strings.Contains(err.Error(), "many-flows") {
		t.Errorf("got %v, want the many-flows packet shortage", err)
	}
}

// At bench scale (shortened): the flow count asked is the flow count written, each with packets.
func TestManyFlowsScale(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	c := DefaultConfig()
	c.Dir = t.TempDir()
	c.Mix, c.Nodes, c.PodsPerNode, c.Flows, c.Packets, c.Rate = MixManyFlows, 2, 16, 20000, 170000, 200000
	c.KeepTruth = false
	res := generate(t, c)
	n := 0
	for _, f := range res.Truth.Flows {
		if f.Packets > 0 {
			n++
		}
	}
	if n != c.Flows || res.Packets != int64(c.Packets) || res.Frames < 6*int64(c.Packets) {
		t.Errorf("%d flows with packets, %d packets, %d frames; want %d, %d, ≥ %d", n, res.Packets, res.Frames,
			c.Flows, c.Packets, 6*c.Packets)
	}
}

// The ARP-heavy mix: proxy ARP exchanges at about ARPRate beside the traffic, several per pod, every
// one a request and its reply on the pod's cali, all in the truth.
func TestARPHeavy(t *testing.T) {
	c := smallConfig(t)
	c.Mix, c.Nodes, c.PodsPerNode, c.Rate = MixARPHeavy, 2, 3, 100000
	res := generate(t, c)
	tr := res.Truth
	ck := newChecker(t, c, res)
	ck.checkAll()
	if res.Frames != int64(6*c.Packets+2*len(tr.ARP)) {
		t.Errorf("%d frames, want 6×packets + 2×%d ARP", res.Frames, len(tr.ARP))
	}
	// ARPRate 0 means Rate: about as many exchanges as packets (the first per pod aside).
	if n := len(tr.ARP); n < c.Packets*8/10 || n > c.Packets*12/10 {
		t.Errorf("%d ARP exchanges, want about %d", n, c.Packets)
	}
	per := map[string]int{}
	for _, a := range tr.ARP {
		per[a.Pod]++
		if a.ReplyFrame == 0 || a.ReplyTime-a.RequestTime > int64(c.Latency.ARPReply.Max)+1000 {
			t.Errorf("ARP %+v: no reply or a late one", a)
		}
	}
	if len(per) != c.Nodes*c.PodsPerNode {
		t.Errorf("ARP from %d pods, want %d", len(per), c.Nodes*c.PodsPerNode)
	}
	// An explicit rate; the default mix with ARPRate set gets the same exchanges.
	c2 := smallConfig(t)
	c2.Nodes, c2.PodsPerNode, c2.Rate, c2.ARPRate = 2, 3, 100000, 300000
	r2 := generate(t, c2)
	if n := len(r2.Truth.ARP); n < 3*c.Packets*8/10 || n > 3*c.Packets*12/10 {
		t.Errorf("ARPRate 3×Rate: %d ARP exchanges, want about %d", n, 3*c.Packets)
	}
}

func TestParseMix(t *testing.T) {
	for _, m := range []Mix{MixDefault, MixManyFlows, MixARPHeavy} {
		if got, err := ParseMix(m.String()); err != nil || got != m {
			t.Errorf("ParseMix(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseMix("dns"); err == nil {
		t.Error("ParseMix accepted dns")
	}
	c := smallConfig(t)
	c.Mix = 9
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "mix") {
		t.Errorf("mix 9: %v", err)
	}
	c = smallConfig(t)
	c.ARPRate = -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "ARP rate") {
		t.Errorf("ARP rate -1: %v", err)
	}
}
