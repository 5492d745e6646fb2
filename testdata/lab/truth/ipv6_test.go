package main

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// frames6 reads a capture file's frames.
func frames6(t *testing.T, name string) [][]byte {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
}

// TestIPv6Checksums checks the IPv6 checksum arithmetic on healthy-vxlan6's real frames: every
// ICMPv6 checksum verifies, and the VXLAN outer UDP checksums over IPv6 verify once the inner
// placeholder is completed (local checksum offload), which needs the IPv6 pseudo-header right in
// both headers; a flipped bit is then bad.
func TestIPv6Checksums(t *testing.T) {
	dir := scenarioDir(t, "healthy-vxlan6")
	l, err := computeLab(dir)
	if err != nil {
		t.Fatal(err)
	}
	for pt, classes := range l.csums {
		for c := range classes {
			if strings.Contains(c, "bad") || strings.Contains(c, "not-ipv4") || strings.Contains(c, "truncated") {
				t.Errorf("%s: %d frames %s", pt, classes[c], c)
			}
		}
	}
	for pt, want := range map[string]string{"node-b/eth0": "udp:lco/udp:placeholder", "node-a/cali5e1c4d6c68c": "icmp6:ok"} {
		if l.csums[pt][want] == 0 {
			t.Errorf("%s: no %s frame; classes %v", pt, want, l.csums[pt])
		}
	}
	flipped := 0
	for _, data := range frames6(t, filepath.Join(dir, "node-b-eth0.pcap")) {
		network := data[14:]
		if c := csumClass(network); c != "udp:lco/udp:placeholder" && c != "icmp6:ok" {
			continue
		}
		b := append([]byte{}, network...)
		at := len(b) - 1 // ICMPv6: the last payload byte
		if csumClass(network) != "icmp6:ok" {
			// Under the inner placeholder a payload bit cannot be seen (the completed inner checksum
			// would absorb it): a bit of the inner Ethernet header, which only the outer sum covers.
			at = 40 + 8 + 8 + 2
		}
		b[at] ^= 0x10
		if c := csumClass(b); !strings.Contains(c, "bad") {
			t.Errorf("%s with a flipped payload bit: %s", csumClass(network), c)
		}
		flipped++
	}
	if flipped == 0 {
		t.Fatal("no frame to flip a bit in")
	}
}

// TestIPv6NeighbourDiscovery reads healthy-vxlan6's neighbour discovery on pod-a's cali: pod-a's
// solicitation for its gateway fe80::ecee:eeff:feee:eeee and the host's advertisement with MAC
// ee:ee:ee:ee:ee:ee; and names an unanswered one.
func TestIPv6NeighbourDiscovery(t *testing.T) {
	dir := scenarioDir(t, "healthy-vxlan6")
	l := &lab{}
	var arps []arpSeen
	for _, data := range frames6(t, filepath.Join(dir, "node-a-cali5e1c4d6c68c.pcap")) {
		pkt := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		ip, ok := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		ic, ok2 := pkt.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
		if !ok || !ok2 {
			continue
		}
		if typ := int(ic.TypeCode.Type()); typ == 135 || typ == 136 {
			src, _ := netip.AddrFromSlice(ip.SrcIP)
			l.nd("node-a/cali5e1c4d6c68c", typ, src, ic.Payload, &arps)
		}
	}
	if len(l.errs) != 0 {
		t.Fatal(l.errs)
	}
	var ns, na bool
	for _, a := range arps {
		switch {
		case a.request && a.targetIP == gateway6 && a.senderIP == netip.MustParseAddr("fd00:244::5") && a.senderMAC != "":
			ns = true
		case !a.request && a.senderIP == gateway6 && a.senderMAC == "ee:ee:ee:ee:ee:ee":
			na = true
		}
	}
	if !ns || !na {
		t.Errorf("solicitation for the gateway %v, advertisement from ee:ee:ee:ee:ee:ee %v: %+v", ns, na, arps)
	}
	// Without the advertisement, the gateway went unanswered.
	l = &lab{}
	l.t.Points = []Point{{Node: "node-a", Iface: "cali5e1c4d6c68c", Role: "workload"}}
	var asks []arpSeen
	for _, a := range arps {
		if a.request {
			asks = append(asks, a)
		}
	}
	l.arpAnomalies(asks)
	if len(l.t.ExpectedAnomalies) != 1 || l.t.ExpectedAnomalies[0] != (Anomaly{"nd-gateway-unanswered", "node-a/cali5e1c4d6c68c"}) {
		t.Errorf("unanswered: %+v", l.t.ExpectedAnomalies)
	}
}

// TestPacketTooBig pins the ICMPv6 Packet Too Big messages of the IPv6 MTU scenarios, read from the
// captures: in pmtu-discovery6 router-1 (fd00:20::1) tells node-b the MTU of its 1400-byte eth0, and
// node-b then refuses pod-b's big packets itself, from its VTEP address, with that MTU less VXLAN over
// IPv6's 70 bytes; in mtu-blackhole6 router-1's messages are dropped before any capture sees them.
func TestPacketTooBig(t *testing.T) {
	want := map[string][]ICMPSeen{
		"pmtu-discovery6": {
			{ICMPv6: true, Type: 2, MTU: 1400, Src: "fd00:20::1", Dst: "fd00:20::2", Where: "router-1/eth1"},
			{ICMPv6: true, Type: 2, MTU: 1330, Src: "fd00:244::40", Dst: "fd00:244::47", Where: "node-b/cali2f5353dd8c5"},
		},
		"mtu-blackhole6": nil,
	}
	for sc, w := range want {
		tr, err := compute(scenarioDir(t, sc))
		if err != nil {
			t.Fatal(err)
		}
		var got []ICMPSeen
		for _, s := range tr.ICMP {
			s.Count = 0
			got = append(got, s)
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: ICMP errors (-want +got):\n%s", sc, diff)
		}
		// The packet router-1 dropped and answered with Packet Too Big (quoting pod-b's TCP inside the
		// VXLAN datagram) is path-MTU discovery working: the error's finding, not a loss; unanswered, it is
		// the black hole.
		for _, x := range tr.ExpectedAnomalies {
			if x.Where == "router-1/eth1→router-1/eth0" && (sc == "pmtu-discovery6" || x.Kind != "pmtu-blackhole") {
				t.Errorf("%s: %s at %s", sc, x.Kind, x.Where)
			}
		}
	}
}
