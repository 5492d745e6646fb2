package correlate

import (
	"cmp"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// withCutCopies returns pcap file target with a copy of Ethernet frame f (cut to n bytes, its original
// length kept) every 2 ms from 50 ms before its first record to its last, in time order: a point
// whose capture also carried, cut before its ports, other traffic than the scenario's.
func withCutCopies(t *testing.T, target, f []byte, n int) []byte {
	t.Helper()
	hdr, recs, unit := readPcapRecs(t, target)
	keep := min(n, len(f))
	rec := make([]byte, 16, 16+keep)
	binary.LittleEndian.PutUint32(rec[8:], uint32(keep))
	binary.LittleEndian.PutUint32(rec[12:], uint32(len(f)))
	rec = append(rec, f[:keep]...)
	first, last := recs[0].ts, recs[len(recs)-1].ts
	for ts := first - 50*int64(time.Millisecond); ts < last; ts += 2 * int64(time.Millisecond) {
		recs = append(recs, pcapRec{ts, rec})
	}
	slices.SortStableFunc(recs, func(a, b pcapRec) int { return cmp.Compare(a.ts, b.ts) })
	return writePcapRecs(hdr, recs, unit)
}

// labFrame returns a copy of the first Ethernet frame of pcap file path that match accepts.
func labFrame(t *testing.T, path string, match func(f []byte) bool) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, recs, _ := readPcapRecs(t, b)
	for _, r := range recs {
		if f := r.data[16:]; match(f) {
			return append([]byte{}, f...)
		}
	}
	t.Fatalf("%s: no such frame", path)
	return nil
}

// ipipFrame says whether Ethernet frame f is IPv4 in IPv4 with inner protocol proto from inner
// source address src (a.b.c.d as 4 bytes).
func ipipFrame(f []byte, proto byte, src [4]byte) bool {
	return len(f) > 54 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[23] == 4 && f[34+9] == proto &&
		[4]byte(f[34+12:34+16]) == src
}

// setIPv4 writes address a at offset at of the IPv4 header starting at hdr in f, and its checksum.
func setIPv4(f []byte, hdr, at int, a [4]byte) {
	copy(f[hdr+at:], a[:])
	f[hdr+10], f[hdr+11] = 0, 0
	var s uint32
	for i := 0; i < 20; i += 2 {
		s += uint32(binary.BigEndian.Uint16(f[hdr+i:]))
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	binary.BigEndian.PutUint16(f[hdr+10:], ^uint16(s))
}

// A frame cut before its inner ports excuses only a vanished packet it may be. underlay-loss (truth: 6
// packets from pod-a lost at router-1/eth0 → router-1/eth1, 4 ICMP echoes and 2 UDP datagrams, and 3 of
// pod-b's the other way), its router-1/eth1 capture also holding, every 2 ms, a frame of other traffic
// cut before its ports: on main every one of the 6 losses was "not captured" (capture-cut 6 at
// router-1/eth1), hidden by a frame that could not be it. Each case says how many of the 6 stay lost.
func TestSnapCutFitsPacket(t *testing.T) {
	dir := "../testdata/lab/scenarios/underlay-loss"
	podA, podB := [4]byte{10, 244, 1, 5}, [4]byte{10, 244, 2, 7}
	eth1 := filepath.Join(dir, "router-1-eth1.pcap")
	udp := func() []byte { return labFrame(t, eth1, func(f []byte) bool { return ipipFrame(f, 17, podA) }) }
	for _, c := range []struct {
		name     string
		frame    []byte
		n        int
		lost     int // of the 6 lost at router-1/eth0 → router-1/eth1
		cutExcus int // capture-cut at router-1/eth1
	}{
		// pod-b's UDP datagram, the other way through the tunnel (node-b → node-a).
		{"other-direction", labFrame(t, eth1, func(f []byte) bool { return ipipFrame(f, 17, podB) }), 54, 6, 0},
		// pod-a's UDP datagram encapsulated to another node (192.168.30.2), cut inside the inner header.
		{"other-node-pair", func() []byte { f := udp(); setIPv4(f, 14, 16, [4]byte{192, 168, 30, 2}); return f }(), 48, 6, 0},
		// a UDP datagram from pod-a to another pod (10.244.2.9) on node-b.
		{"other-pod", func() []byte { f := udp(); setIPv4(f, 34, 16, [4]byte{10, 244, 2, 9}); return f }(), 54, 6, 0},
		// pod-a's UDP datagram to pod-b cut before its ports: it may be either lost datagram, not an echo.
		{"udp-not-icmp", udp(), 56, 4, 2},
		// pod-a's echo request cut before its identifier: it may be any of the 4 lost echoes (on main no
		// ICMP frame excused a loss: decode and correlate disagreed on what is cut before its ports).
		{"icmp-echo", labFrame(t, eth1, func(f []byte) bool { return ipipFrame(f, 1, podA) }), 56, 2, 4},
		// an IPv6 datagram between two pods (the dual-stack set's), cut before its ports, between the
		// link addresses of router-1/eth1's own frames (a pod veth's ee:ee:ee:ee:ee:ee beside
		// encapsulated frames would make the file one of a node's merged captures).
		{"ipv6", func() []byte {
			f := labFrame(t, "../testdata/generated/dualstack-vxlan/node-a-cali1a2b3c4d5e6.pcap", func(f []byte) bool {
				return len(f) > 60 && binary.BigEndian.Uint16(f[12:]) == 0x86dd && f[20] == 17
			})
			copy(f, udp()[:12])
			return f
		}(), 56, 6, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := os.ReadFile(eth1)
			if err != nil {
				t.Fatal(err)
			}
			_, r := labSubset(t, "underlay-loss", []string{"node-a-any.pcap", "node-b-any.pcap"},
				map[string][]byte{"router-1-eth1.pcap": withCutCopies(t, b, c.frame, c.n)})
			lost := 0
			for _, f := range r.Flows {
				for _, l := range f.LostAt {
					if l.From == "router-1/eth0" && l.To == "router-1/eth1" {
						lost += l.Count
					}
				}
			}
			errs, cuts := errorsAndCuts(r)
			if lost != c.lost || cuts["router-1/eth1"] != c.cutExcus || len(errs) > 0 {
				t.Errorf("%d lost at router-1/eth0 → router-1/eth1, capture-cut %v, errors %q; want %d lost, %d not captured at router-1/eth1",
					lost, cuts, errs, c.lost, c.cutExcus)
			}
			said := false
			for _, in := range r.Inputs {
				said = said || strings.HasSuffix(in.File, "router-1-eth1.pcap") && strings.Contains(strings.Join(in.Errors, " "), "before their inner ports")
			}
			if !said {
				t.Error("router-1-eth1.pcap does not say its frames were cut before their inner ports")
			}
		})
	}
}

// One capture of a lab scenario cut inside its tunnel headers: healthy-vxlan's node-a/eth0 at 46
// bytes (inside the VXLAN header) and 60 (inside the inner Ethernet header), healthy-wireguard's at 46
// (inside the WireGuard header), underlay-loss's router-1/eth1 and router-1/eth0 at 54 (the inner IPv4
// header whole, no port). Before, their frames made flows of their own (UDP to 4789 or 51820, or TCP,
// UDP and ICMP between the pods with port 0) that went nowhere: ERROR underlay-drop 11 of 11
// (healthy-vxlan), 15 of 15 (healthy-wireguard), 6 of 6 router-1/eth0 → router-1/eth1 (underlay-loss,
// whose truth is a 15% loss there). Now no error, no flow the truth has not, and the truth's losses
// (less one: with router-1/eth1 cut, pod-a's first echo, lost at router-1 50 ms before any capture
// past router-1/eth0 began, is not captured) and no more.
func TestSnapCutTunnelFrames(t *testing.T) {
	for _, c := range []struct {
		sc, file string
		n        int
		unseen   int // of the truth's losses, not captured
	}{
		{"healthy-vxlan", "node-a-eth0.pcap", 46, 0}, {"healthy-vxlan", "node-a-eth0.pcap", 60, 0},
		{"healthy-wireguard", "node-a-eth0.pcap", 46, 0}, {"underlay-loss", "router-1-eth1.pcap", 54, 1},
		{"underlay-loss", "router-1-eth0.pcap", 54, 0},
	} {
		t.Run(c.sc+"-"+c.file+"-"+strconv.Itoa(c.n), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("../testdata/lab/scenarios", c.sc, c.file))
			if err != nil {
				t.Fatal(err)
			}
			tr, r := labSubset(t, c.sc, []string{"node-a-any.pcap", "node-b-any.pcap"}, map[string][]byte{c.file: snapPcap(t, b, c.n, true)})
			lost := -c.unseen
			for _, f := range tr.Flows {
				lost += f.Sent - f.Delivered
			}
			if errs, _ := errorsAndCuts(r); len(errs) > 0 || r.Summary.Lost != lost {
				t.Errorf("errors %q, %d lost; want none, %d lost", errs, r.Summary.Lost, lost)
			}
			for _, f := range r.Flows {
				if f.Proto != "icmp" && (f.Src.Port == 0 || f.Dst.Port == 4789 || f.Src.Port == 4789) {
					t.Errorf("flow %s %s:%d → %s:%d of frames cut before their ports", f.Proto, f.Src.IP, f.Src.Port, f.Dst.IP, f.Dst.Port)
				}
			}
			if want := len(tr.Flows); len(r.Flows) > want {
				t.Errorf("%d flows, the truth's %d directions make at most %d", len(r.Flows), len(tr.Flows), want)
			}
		})
	}
}

// A UDP datagram the snaplen cut inside its WireGuard header (between the packet's nodes, which it
// was never seen encapsulated between: WireGuard) stands only for a packet of the size a transport
// message carries: 16 bytes of header and 16 of tag around the packet padded to 16 bytes. A handshake
// initiation (148 bytes), response (92) or keepalive (32) is no data packet, whatever its time.
func TestSnapCutWireGuardSize(t *testing.T) {
	pkt := &decode.Observation{Src: 1, Dst: 2, Proto: 6, Len: 60, Flags: decode.FlagDF}
	pi := &pathInfo{srcNode: 0, dstNode: 1}
	seen := &cutSeen{pairs: map[[2]uint32]bool{}}
	for _, c := range []struct {
		n    int // the UDP payload: the WireGuard message
		fits bool
	}{{148, false}, {92, false}, {32, false}, {32 + 64, true}, {32 + 80, false}} {
		wg := cutFrame{o: decode.Observation{Src: 100, Dst: 200, Proto: 17, Sport: 51820, Dport: 51820, Len: uint16(28 + c.n),
			HdrLen: 28, Flags: decode.FlagTruncated | decode.FlagNotIP}, from: 0, to: 1}
		if got := cutFits(&wg, pkt, seen, pi); got != c.fits {
			t.Errorf("a %d-byte WireGuard message cut in its header stands for a 60-byte packet: %v, want %v", c.n, got, c.fits)
		}
	}
	wg := cutFrame{o: decode.Observation{Src: 100, Dst: 200, Proto: 17, Sport: 51820, Dport: 51820, Len: 28 + 96,
		HdrLen: 28, Flags: decode.FlagTruncated | decode.FlagNotIP}, from: 2, to: 1}
	if cutFits(&wg, pkt, seen, pi) {
		t.Error("a WireGuard message from another node stands for the packet")
	}
}

// A cut frame whose inner header was read stands for a packet between other addresses only when its
// flow direction showed them: a known DNAT or SNAT rewrite (pod-a → a ClusterIP seen as pod-a → pod-b
// past the node's DNAT), not any other pair.
func TestSnapCutFitsNAT(t *testing.T) {
	const podA, clusterIP, podB, other = 0x0af40105, 0x0a600001, 0x0af40207, 0x0af40209
	pkt := &decode.Observation{Src: podA, Dst: clusterIP, Proto: 6, Len: 60}
	seen := &cutSeen{pairs: map[[2]uint32]bool{{podA, clusterIP}: true, {podA, podB}: true}}
	pi := &pathInfo{srcNode: 0, dstNode: 1}
	for _, c := range []struct {
		dst  uint32
		fits bool
	}{{clusterIP, true}, {podB, true}, {other, false}} {
		cf := cutFrame{o: decode.Observation{Src: podA, Dst: c.dst, Proto: 6, Len: 60, HdrLen: 20,
			Flags: decode.FlagTruncated | decode.FlagNotIP}, from: -2, to: -2}
		if got := cutFits(&cf, pkt, seen, pi); got != c.fits {
			t.Errorf("a cut TCP frame to %#x stands for pod-a's packet to the ClusterIP: %v, want %v", c.dst, got, c.fits)
		}
	}
}
