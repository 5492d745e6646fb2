package correlate

import (
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/decode"
)

// wgTransport6 is an IPv6 WireGuard transport message (UDP 51820 to 51820) in Ethernet: receiver
// index, counter, and 32 bytes of ciphertext (an empty inner packet's tag and 16 bytes).
func wgTransport6(dst, src [6]byte, sip, dip [16]byte, hops uint8, receiver uint32, counter uint64) []byte {
	m := make([]byte, 16+32)
	m[0] = 4
	binary.LittleEndian.PutUint32(m[4:], receiver)
	binary.LittleEndian.PutUint64(m[8:], counter)
	for i := 16; i < len(m); i++ {
		m[i] = byte(i*7 + int(counter))
	}
	return udp6Frame(dst, src, sip, dip, hops, 51820, 51820, string(m))
}

// Nodes that talk WireGuard over IPv6 (wg-v6.cali) and whose IPv6 address nothing else gave: each
// learns it from its messages, the source of those that left it with the higher hop limit.
func TestWireGuardIPv6NodeIPs(t *testing.T) {
	dir := t.TempDir()
	cali := [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}
	macA, macB := [6]byte{0x0a, 0x58, 0, 0, 0, 1}, [6]byte{0x0a, 0x58, 0, 0, 0, 2}
	nicA, nicB, gwA, gwB := [6]byte{2, 0, 0, 0, 0, 0xa}, [6]byte{2, 0, 0, 0, 0, 0xb}, [6]byte{2, 0, 0, 0, 1, 0xa}, [6]byte{2, 0, 0, 0, 1, 0xb}
	podA := netip.MustParseAddr("fd00:10:244:1::5").As16()
	podB := netip.MustParseAddr("fd00:10:244:2::7").As16()
	nodeA := netip.MustParseAddr("fd00:192:168:10::2").As16()
	nodeB := netip.MustParseAddr("fd00:192:168:20::2").As16()
	const t0 = int64(1_700_000_000_000_000_000)
	var ts [4][]int64
	var fr [4][][]byte
	add := func(k int, at int64, f []byte) { ts[k], fr[k] = append(ts[k], at), append(fr[k], f) }
	for i := 0; i < 5; i++ {
		at := t0 + int64(i)*10_000_000
		q, r := "request "+string(rune('a'+i)), "response "+string(rune('a'+i))
		add(0, at, udp6Frame(cali, macA, podA, podB, 64, 40000, 53, q))
		add(1, at+100_000, wgTransport6(gwA, nicA, nodeA, nodeB, 64, 0x1111, uint64(i)))
		add(2, at+200_000, wgTransport6(nicB, gwB, nodeA, nodeB, 63, 0x1111, uint64(i)))
		add(3, at+300_000, udp6Frame(macB, cali, podA, podB, 63, 40000, 53, q))
		add(3, at+1_000_000, udp6Frame(cali, macB, podB, podA, 64, 53, 40000, r))
		add(2, at+1_100_000, wgTransport6(gwB, nicB, nodeB, nodeA, 64, 0x2222, uint64(i)))
		add(1, at+1_200_000, wgTransport6(nicA, gwA, nodeB, nodeA, 63, 0x2222, uint64(i)))
		add(0, at+1_300_000, udp6Frame(macA, cali, podB, podA, 63, 53, 40000, r))
	}
	names := []string{"node-a-cali1111111111a.pcap", "node-a-eth0.pcap", "node-b-eth0.pcap", "node-b-cali2222222222b.pcap"}
	var paths []string
	for k, n := range names {
		paths = append(paths, filepath.Join(dir, n))
		writePcap(t, paths[k], ts[k], fr[k])
	}
	r := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{})
	got := map[string]string{}
	for _, ip := range r.NodeIPs {
		got[ip.Node] = ip.IP + " (" + ip.Reason + ")"
	}
	why := " (the source of the WireGuard messages that left its underlay (their TTL not yet decremented by a router))"
	if got["node-a"] != "fd00:192:168:10::2"+why || got["node-b"] != "fd00:192:168:20::2"+why {
		t.Errorf("node IPs %v", got)
	}
}
