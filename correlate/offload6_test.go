package correlate

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// v6Addr is the IPv6 address an IPv4 lab address a.b.c.d stands for in the IPv6 copies of the lab
// (fd00:a:b:c::d, as testdata/generated/dualstack-vxlan numbers its pods and nodes).
func v6Addr(a []byte) [16]byte {
	return netip.MustParseAddr(fmt.Sprintf("fd00:%d:%d:%d::%d", a[0], a[1], a[2], a[3])).As16()
}

// l4Sum is the IPv6 checksum of upper-layer packet l4 (protocol nh) from src to dst, its checksum
// field (at off) taken as 0.
func l4Sum(src, dst [16]byte, nh byte, l4 []byte, off int) uint16 {
	l4[off], l4[off+1] = 0, 0
	p := make([]byte, 40, 40+len(l4))
	copy(p, src[:])
	copy(p[16:], dst[:])
	binary.BigEndian.PutUint32(p[32:], uint32(len(l4)))
	p[39] = nh
	c := csum(append(p, l4...))
	if c == 0 && nh == 17 {
		c = 0xffff
	}
	return c
}

// ip4to6 returns IPv4 packet b as the IPv6 packet the same sender would have sent: the traffic class
// the TOS, the hop limit the TTL, the addresses v6Addr's, the payload the same (a VXLAN frame's or an
// IP-in-IP packet's inner packet made IPv6 too, an ICMP echo an ICMPv6 echo) with its lengths and
// checksums made again. ok is false for what has no such copy: IPv4 fragments, ICMP errors, options.
//
// With decap, an IP-in-IP packet is its inner packet, with the outer hop limit: the packet as it
// crosses the underlay unencapsulated (Calico's IPv6 has no IP-in-IP; the routers route pod
// addresses, as in BGP mode).
func ip4to6(b []byte, decap bool) ([]byte, bool) {
	if len(b) < 20 || b[0] != 0x45 || binary.BigEndian.Uint16(b[6:])&0x3fff != 0 {
		return nil, false
	}
	end := int(binary.BigEndian.Uint16(b[2:]))
	if end == 0 || end > len(b) {
		end = len(b)
	}
	src, dst := v6Addr(b[12:16]), v6Addr(b[16:20])
	nh, pl := b[9], append([]byte(nil), b[20:end]...)
	switch nh {
	case 6:
		if len(pl) < 20 {
			return nil, false
		}
		binary.BigEndian.PutUint16(pl[16:], l4Sum(src, dst, 6, pl, 16))
	case 17:
		if len(pl) < 8 {
			return nil, false
		}
		if binary.BigEndian.Uint16(pl[2:]) == 4789 {
			f, ok := frame4to6(pl[16:], false, decap)
			if !ok {
				return nil, false
			}
			pl = append(pl[:16], f...)
		}
		binary.BigEndian.PutUint16(pl[4:], uint16(len(pl)))
		binary.BigEndian.PutUint16(pl[6:], l4Sum(src, dst, 17, pl, 6))
	case 1:
		if len(pl) < 8 || pl[0] != 8 && pl[0] != 0 {
			return nil, false
		}
		nh, pl[0] = 58, 128+pl[0]/8
		binary.BigEndian.PutUint16(pl[2:], l4Sum(src, dst, 58, pl, 2))
	case 4:
		in, ok := ip4to6(pl, decap)
		if !ok {
			return nil, false
		}
		if decap {
			in[7] = b[8]
			return in, true
		}
		nh, pl = 41, in
	default:
		return nil, false
	}
	h := make([]byte, 40, 40+len(pl))
	h[0], h[1] = 0x60|b[1]>>4, b[1]<<4
	binary.BigEndian.PutUint16(h[4:], uint16(len(pl)))
	h[6], h[7] = nh, b[8]
	copy(h[8:], src[:])
	copy(h[24:], dst[:])
	return append(h, pl...), true
}

// frame4to6 returns frame d (Ethernet, or raw IP when raw) with its IPv4 packet made IPv6 (ip4to6);
// ok is false for frames with no IPv6 copy (ARP among them: IPv6 has neighbour discovery instead).
func frame4to6(d []byte, raw, decap bool) ([]byte, bool) {
	if raw {
		return ip4to6(d, decap)
	}
	if len(d) < 14 || binary.BigEndian.Uint16(d[12:]) != 0x0800 {
		return nil, false
	}
	p, ok := ip4to6(d[14:], decap)
	if !ok {
		return nil, false
	}
	out := append(append([]byte(nil), d[:14]...), p...)
	binary.BigEndian.PutUint16(out[12:], 0x86dd)
	return out, true
}

// labTo6 rewrites the captures files (classic pcap) as their IPv6 copies (frame4to6) in a temporary
// directory, a vxlan.calico capture as vxlan-v6.calico's (Calico's IPv6 VXLAN device), and returns
// their paths. An IP-in-IP lab becomes one without encapsulation (ip4to6's decap): its tunl0 captures
// are left out.
func labTo6(t *testing.T, files []string) []string {
	t.Helper()
	out := t.TempDir()
	var paths []string
	decap := slices.ContainsFunc(files, func(f string) bool { return strings.HasSuffix(f, "-tunl0.pcap") })
	for _, p := range files {
		if strings.HasSuffix(p, "-tunl0.pcap") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		hdr, recs, unit := readPcapRecs(t, b)
		raw := binary.LittleEndian.Uint32(hdr[20:]) != 1
		var kept []pcapRec
		for _, r := range recs {
			f, ok := frame4to6(r.data[16:], raw, decap)
			if !ok {
				continue
			}
			rec := append([]byte(nil), r.data[:16]...)
			binary.LittleEndian.PutUint32(rec[8:], uint32(len(f)))
			binary.LittleEndian.PutUint32(rec[12:], uint32(len(f)))
			kept = append(kept, pcapRec{r.ts, append(rec, f...)})
		}
		name := strings.Replace(filepath.Base(p), "vxlan.calico", "vxlan-v6.calico", 1)
		paths = append(paths, filepath.Join(out, name))
		if err := os.WriteFile(paths[len(paths)-1], writePcapRecs(hdr, kept, unit), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

// perIfaceFiles returns lab scenario sc's per-interface captures (no -i any file).
func perIfaceFiles(sc string) []string {
	all, _ := filepath.Glob("../testdata/lab/scenarios/" + sc + "/*.pcap")
	var files []string
	for _, f := range all {
		if !strings.HasSuffix(f, "-any.pcap") {
			files = append(files, f)
		}
	}
	return files
}

// verdict6 is what a run says of its packets: the summary's counts and its loss findings.
func verdict6(r *Result) string {
	s := r.Summary
	return fmt.Sprintf("%d sent, %d delivered, %d lost, %d not captured, findings %q", s.Journeys, s.Delivered, s.Lost,
		s.NotCaptured, lossesOf(r))
}

// Segmentation offload across nodes with IPv6 (the lab's offload cases, TestOffloadAcrossNodes,
// TestOffloadAcrossNAT, TestOffloadRetransNotPiece, TestOffloadBlackholeKeepsError, on IPv6 copies of
// the lab: labTo6; VXLAN's outer headers IPv6 too, IP-in-IP's underlay routing the pods' IPv6
// packets): a super-frame on one node and its pieces on another must say what the unedited IPv6 copy
// says. tcp-retransmission's copy says what its truth does: 28 sent, the one the router dropped lost
// between router-1/eth1 and router-1/eth0.
//
// IPv6 has no IP id: the server's resend is byte for byte its first piece (TCP's timestamp is an
// option; the fingerprint holds the sequence number and the payload). Before, the resend, first seen
// at the server's veth after that piece was seen at node-b's eth0 (GRO on the router) or the
// router's eth1 (TSO on node-b), continued the piece's journey: the piece "delivered", 27 sent and
// nothing lost (with TSO also a clock-inconsistent warning), and mtu-blackhole with TSO on node-b
// 4 lost where its copy says 5.
func TestOffloadAcrossNodesIPv6(t *testing.T) {
	retrans := "28 sent, 27 delivered, 1 lost, 0 not captured, findings [\"loss router-1/eth1→router-1/eth0 1\"]"
	for _, c := range []struct {
		offloadCase
		want string // "": the unedited copy's verdict
	}{
		{offloadCase{"vxlan GRO node-a", "healthy-vxlan", []superEdit{{files: []string{"node-a-"}, src: "10.244.2.7", sport: 8080, n: 2}}}, ""},
		{offloadCase{"vxlan GSO node-b", "healthy-vxlan", []superEdit{{files: []string{"router-1-", "node-a-"}, src: "10.244.2.7", sport: 8080, split: 1448}}}, ""},
		{offloadCase{"vxlan GRO router", "healthy-vxlan", []superEdit{{files: []string{"node-b-vxlan", "node-b-eth0"}, src: "10.244.2.7", sport: 8080, split: 1448}}}, ""},
		{offloadCase{"routed GRO node-a", "healthy-ipip", []superEdit{{files: []string{"node-a-"}, src: "10.244.2.7", sport: 8080, n: 2}}}, ""},
		{offloadCase{"routed TSO node-b", "healthy-ipip", []superEdit{{files: []string{"node-b-tunl0", "node-b-eth0"}, src: "10.244.2.7", sport: 8080, n: 3, gso: true}}}, ""},
		{offloadCase{"dnat GRO cali", "clusterip-dnat", []superEdit{{files: []string{"node-a-cali"}, src: "10.96.0.10", sport: 80, n: 2}}}, ""},
		{offloadCase{"dnat GSO to cali", "clusterip-dnat", []superEdit{{files: []string{"node-b-tunl0", "node-b-eth0", "router-1-", "node-a-eth0", "node-a-tunl0"},
			src: "10.244.2.7", sport: 8080, n: 3, gso: true}}}, ""},
		{offloadCase{"snat GSO ext", "snat-external", []superEdit{{files: []string{"router-1-eth2", "router-1-eth0", "node-a-eth0", "node-a-cali"},
			src: "203.0.113.10", sport: 8080, split: 1448}}}, ""},
		{offloadCase{"retrans GRO router", "tcp-retransmission", []superEdit{{files: []string{"router-1-eth1"}, src: "10.244.2.7", sport: 8080, n: 2}}}, retrans},
		{offloadCase{"retrans TSO node-b", "tcp-retransmission", []superEdit{{files: []string{"node-b-tunl0", "node-b-eth0"}, src: "10.244.2.7", sport: 8080, n: 3, gso: true}}}, retrans},
		{offloadCase{"retrans TSO split at router", "tcp-retransmission", []superEdit{{files: []string{"node-b-tunl0", "node-b-eth0", "router-1-eth1"},
			src: "10.244.2.7", sport: 8080, n: 3, gso: true}}}, retrans},
		{offloadCase{"blackhole TSO node-b", "mtu-blackhole", []superEdit{{files: []string{"node-b-tunl0", "node-b-eth0"}, src: "10.244.2.7", sport: 8080, n: 3, gso: true}}}, ""},
	} {
		want := c.want
		if want == "" {
			base, _ := offloadVerdicts(labTo6(t, perIfaceFiles(c.sc)))
			want = verdict6(base)
		}
		r, lines := offloadVerdicts(labTo6(t, superLab(t, c.sc, c.edits, nil)))
		if got := verdict6(r); got != want {
			t.Errorf("%s: %s; want %s\n%s", c.name, got, want, strings.Join(lines, "\n"))
		}
	}
}
