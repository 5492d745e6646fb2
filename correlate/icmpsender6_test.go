package correlate

import (
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// icmp6Frame builds Ethernet/IPv6/ICMPv6 packet-too-big (type 2) with next-hop MTU mtu, quoting
// packet quote (an IPv6 packet), cut so that the error fits in 1280 bytes.
func icmp6Frame(dst, src [6]byte, sip, dip [16]byte, mtu uint32, quote []byte) []byte {
	quote = quote[:min(len(quote), 1280-40-8)]
	m := make([]byte, 8+len(quote))
	m[0] = 2
	binary.BigEndian.PutUint32(m[4:], mtu)
	copy(m[8:], quote)
	pseudo := append(append(append([]byte{}, sip[:]...), dip[:]...), 0, 0, byte(len(m)>>8), byte(len(m)), 0, 0, 0, 58)
	binary.BigEndian.PutUint16(m[2:], csum(append(pseudo, m...)))
	ip := make([]byte, 40)
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(len(m)))
	ip[6], ip[7] = 58, 64
	copy(ip[8:], sip[:])
	copy(ip[24:], dip[:])
	return append(append(append(dst[:], src[:]...), 0x86, 0xdd), append(ip, m...)...)
}

// IPv6 pods on two nodes routed on the underlay (BGP mode), no node address given: calipath knows
// the pods but not the nodes' addresses. A router (fd00:192:168:10::1, not captured) answers pod-a's
// big datagram with packet-too-big, seen arriving at node-a/eth0 on its way to pod-a. A node's own
// errors to its pods leave through their veths, never its underlay: the router sent it, not node-a
// ("It answered a packet dropped on that node", "node-a refused 1 of them itself" were said). And an
// error at node-a/eth0 to an address calipath cannot place (node-a's own, unknown, or another host's)
// from an unknown source has a sender that cannot be told: the report must say so and what tells.
func TestICMPv6SenderNoNodeIPs(t *testing.T) {
	r := icmp6NoNodeIPs(t)
	var fromRouter, unsure *Anomaly
	for i, a := range r.Anomalies {
		if a.Kind != "icmp-frag-needed" {
			continue
		}
		if strings.Contains(a.Message, "fd00:192:168:10::1") && strings.Contains(a.Message, "cannot be told") {
			unsure = &r.Anomalies[i]
		} else {
			fromRouter = &r.Anomalies[i]
		}
		if strings.Contains(a.Message, "dropped on that node ") || strings.Contains(a.Message, "dropped on that node (") {
			t.Errorf("the router's packet-too-big is put down to node-a: %s", a.Message)
		}
	}
	if fromRouter == nil || !strings.Contains(fromRouter.Message, "came in from the wire") || fromRouter.Count != 1 {
		t.Errorf("packet-too-big to pod-a: %+v; want it said to come in from the wire", fromRouter)
	}
	if unsure == nil || !strings.Contains(unsure.Next+unsure.Message, "--node-ip") || unsure.Count != 1 {
		t.Errorf("packet-too-big to node-a's address: %+v; want its sender said unknown, and --node-ip", unsure)
	}
	for _, a := range r.Anomalies {
		if strings.Contains(a.Message, "node-a refused") {
			t.Errorf("%s at %+v: %s", a.Kind, a.Where, a.Message)
		}
	}
	checkSums(t, "IPv6 BGP without node addresses", r)
}

// icmp6NoNodeIPs builds and correlates TestICMPv6SenderNoNodeIPs' captures.
func icmp6NoNodeIPs(t *testing.T) *Result {
	dir := t.TempDir()
	cali := [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}
	macA, macB := [6]byte{0x0a, 0x58, 0, 0, 0, 1}, [6]byte{0x0a, 0x58, 0, 0, 0, 2}
	nicA, nicB, rtrA, rtrB := [6]byte{2, 0, 0, 0, 0, 0xa}, [6]byte{2, 0, 0, 0, 0, 0xb}, [6]byte{2, 0, 0, 0, 1, 0xa}, [6]byte{2, 0, 0, 0, 1, 0xb}
	a16 := func(s string) [16]byte { return netip.MustParseAddr(s).As16() }
	podA, podB, router := a16("fd00:10:244:1::5"), a16("fd00:10:244:2::7"), a16("fd00:192:168:10::1")
	nodeA, far := a16("fd00:192:168:10::2"), a16("fd00:203:0:113::10")
	const t0 = int64(1_700_000_000_000_000_000)
	var ts [4][]int64 // node-a cali, node-a eth0, node-b eth0, node-b cali
	var fr [4][][]byte
	add := func(k int, at int64, f []byte) { ts[k], fr[k] = append(ts[k], at), append(fr[k], f) }
	for i := 0; i < 12; i++ {
		at := t0 + int64(i)*100_000_000
		q := "request " + string(rune('a'+i))
		if i%3 == 0 {
			q += strings.Repeat("x", 1400)
		}
		add(0, at, udp6Frame(cali, macA, podA, podB, 64, 40000, 5353, q))
		out := udp6Frame(rtrA, nicA, podA, podB, 63, 40000, 5353, q)
		add(1, at+10_000, out)
		if i == 3 || i == 7 { // lost past node-a; the router says why for the big one
			if len(q) > 1000 {
				add(1, at+40_000, icmp6Frame(nicA, rtrA, router, podA, 1280, out[14:]))
			}
			continue
		}
		add(2, at+60_000, udp6Frame(nicB, rtrB, podA, podB, 62, 40000, 5353, q))
		add(3, at+70_000, udp6Frame(macB, cali, podA, podB, 61, 40000, 5353, q))
		r := "response " + string(rune('a'+i))
		add(3, at+200_000, udp6Frame(cali, macB, podB, podA, 64, 5353, 40000, r))
		add(2, at+210_000, udp6Frame(rtrB, nicB, podB, podA, 63, 5353, 40000, r))
		add(1, at+260_000, udp6Frame(nicA, rtrA, podB, podA, 62, 5353, 40000, r))
		add(0, at+270_000, udp6Frame(macA, cali, podB, podA, 61, 5353, 40000, r))
	}
	// node-a's own big datagram to a far host, and the router's packet-too-big back to node-a.
	big := udp6Frame(rtrA, nicA, nodeA, far, 64, 41000, 9000, strings.Repeat("y", 1400))
	add(1, t0+1_300_000_000, big)
	add(1, t0+1_300_040_000, icmp6Frame(nicA, rtrA, router, nodeA, 1280, big[14:]))
	var paths []string
	for k, name := range []string{"node-a-cali1111.pcap", "node-a-eth0.pcap", "node-b-eth0.pcap", "node-b-cali2222.pcap"} {
		paths = append(paths, filepath.Join(dir, name))
		writePcap(t, paths[k], ts[k], fr[k])
	}
	return Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{})
}

// An ICMPv6 error's sentence says what the captures show: packet-too-big (ICMPv6's name), and "seen
// at" node-a/eth0 where a router sent it or its sender cannot be told, never "sent from node-a/eth0"
// (the message says who sent it, or that it cannot be told).
func TestICMPv6Sentence(t *testing.T) {
	r := icmp6NoNodeIPs(t)
	n := 0
	for _, a := range r.Anomalies {
		if a.Kind != "icmp-frag-needed" {
			continue
		}
		n++
		if strings.Contains(a.Message, "sent from") || strings.Contains(a.Message, "fragmentation-needed") ||
			!strings.Contains(a.Message, "ICMPv6 packet-too-big was seen at node-a/eth0") {
			t.Errorf("%s", a.Message)
		}
	}
	if n != 2 {
		t.Errorf("%d icmp-frag-needed anomalies, want 2: %v", n, kinds(r))
	}
}

// pmtu-discovery without router-1's captures: router-1's fragmentation-needed (from 192.168.20.1) is
// first seen arriving at node-b/eth0. The message says a hop past node-b/eth0 sent it; the sentence
// after it must not say it was sent from node-b/eth0.
func TestICMPRouterSentenceLab(t *testing.T) {
	r := Correlate(labLoad(t, "pmtu-discovery", "node-*.pcap", true), Options{})
	found := false
	for _, a := range r.Anomalies {
		if a.Kind != "icmp-frag-needed" || a.Where.Point != "node-b/eth0" {
			continue
		}
		found = true
		if !strings.Contains(a.Message, "sent by a hop past node-b/eth0") || strings.Contains(a.Message, "sent from node-b/eth0") ||
			!strings.Contains(a.Message, "ICMP fragmentation-needed was seen at node-b/eth0") {
			t.Errorf("%s", a.Message)
		}
	}
	if !found {
		t.Errorf("no icmp-frag-needed at node-b/eth0: %v", kinds(r))
	}
}
