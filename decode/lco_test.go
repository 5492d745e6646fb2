package decode

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

// Real frames of a healthy VXLAN path with UDP checksums on (`ip link add vxlan.calico type vxlan
// ... udpcsum`) between two network namespaces joined by veth pairs, as captured by tcpdump on the
// receiving node's eth0 (node-b, 192.168.20.2) on Linux 6.x. Every packet was delivered. The inner
// TCP and UDP checksums are still the pseudo-header placeholders the sending pod's stack left for
// offload (veths pass them on unfinished); the outer UDP checksums of those frames were computed by
// local checksum offload, as if the inner checksum were finished; the ICMP echo's inner checksum is
// complete (ICMP is summed in software), so its outer UDP checksum is itself a placeholder. tshark
// calls every one of these outer checksums bad.

// lcoTCPSyn: 10.244.1.5:45856 → 10.244.2.7:8080 SYN; inner TCP checksum 0x1922 (placeholder), outer
// UDP checksum 0x72d3 (local checksum offload).
const lcoTCPSyn = `
0000  be 65 84 a2 32 65 02 f6 5e b7 08 c2 08 00 45 00
0010  00 6e 22 77 00 00 3f 11 b9 b3 c0 a8 0a 02 c0 a8
0020  14 02 92 ed 12 b5 00 5a 72 d3 08 00 00 00 00 10
0030  00 00 66 89 3a 22 7a ac 66 07 02 c1 cc 60 08 00
0040  45 00 00 3c e9 7a 40 00 3f 06 39 4e 0a f4 01 05
0050  0a f4 02 07 b3 20 1f 90 71 30 37 fe 00 00 00 00
0060  a0 02 fd 5c 19 22 00 00 02 04 05 82 04 02 08 0a
0070  f6 0c 02 4b 00 00 00 00 01 03 03 0a`

// lcoTCPData: the same connection's HTTP GET (115 bytes of payload); inner TCP checksum 0x198d
// (placeholder), outer UDP checksum 0x7268.
const lcoTCPData = `
0000  be 65 84 a2 32 65 02 f6 5e b7 08 c2 08 00 45 00
0010  00 d9 22 79 00 00 3f 11 b9 46 c0 a8 0a 02 c0 a8
0020  14 02 92 ed 12 b5 00 c5 72 68 08 00 00 00 00 10
0030  00 00 66 89 3a 22 7a ac 66 07 02 c1 cc 60 08 00
0040  45 00 00 a7 e9 7c 40 00 3f 06 38 e1 0a f4 01 05
0050  0a f4 02 07 b3 20 1f 90 71 30 37 ff 9c ba 09 be
0060  80 18 00 40 19 8d 00 00 01 01 08 0a f6 0c 02 4d
0070  21 54 91 10 47 45 54 20 2f 20 48 54 54 50 2f 31
0080  2e 31 0d 0a 48 6f 73 74 3a 20 31 30 2e 32 34 34
0090  2e 32 2e 37 3a 38 30 38 30 0d 0a 55 73 65 72 2d
00a0  41 67 65 6e 74 3a 20 47 6f 2d 68 74 74 70 2d 63
00b0  6c 69 65 6e 74 2f 31 2e 31 0d 0a 41 63 63 65 70
00c0  74 2d 45 6e 63 6f 64 69 6e 67 3a 20 67 7a 69 70
00d0  0d 0a 43 6f 6e 6e 65 63 74 69 6f 6e 3a 20 63 6c
00e0  6f 73 65 0d 0a 0d 0a`

// lcoUDP: 10.244.1.5:37796 → 10.244.2.7:9000, 64 bytes; inner UDP checksum 0x194d (placeholder),
// outer UDP checksum 0x81a4.
const lcoUDP = `
0000  be 65 84 a2 32 65 02 f6 5e b7 08 c2 08 00 45 00
0010  00 8e 22 80 00 00 3f 11 b9 8a c0 a8 0a 02 c0 a8
0020  14 02 84 07 12 b5 00 7a 81 a4 08 00 00 00 00 10
0030  00 00 66 89 3a 22 7a ac 66 07 02 c1 cc 60 08 00
0040  45 00 00 5c 9a 2b 40 00 3f 11 88 72 0a f4 01 05
0050  0a f4 02 07 93 a4 23 28 00 48 19 4d 72 65 71 2d
0060  30 30 30 30 2d 75 75 75 75 75 75 75 75 75 75 75
0070  75 75 75 75 75 75 75 75 75 75 75 75 75 75 75 75
0080  75 75 75 75 75 75 75 75 75 75 75 75 75 75 75 75
0090  75 75 75 75 75 75 75 75 75 75 75 75`

// lcoICMP: a ping 10.244.1.5 → 10.244.2.7; inner ICMP checksum 0xdbad (correct), outer UDP checksum
// 0x9fd8 (the outer pseudo-header placeholder).
const lcoICMP = `
0000  be 65 84 a2 32 65 02 f6 5e b7 08 c2 08 00 45 00
0010  00 86 21 38 00 00 3f 11 ba da c0 a8 0a 02 c0 a8
0020  14 02 ea ba 12 b5 00 72 9f d8 08 00 00 00 00 10
0030  00 00 66 89 3a 22 7a ac 66 07 02 c1 cc 60 08 00
0040  45 00 00 54 b2 bf 40 00 3f 01 6f f6 0a f4 01 05
0050  0a f4 02 07 08 00 db ad 44 5d 00 01 08 09 0a 0b
0060  0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b
0070  1c 1d 1e 1f 20 21 22 23 24 25 26 27 28 29 2a 2b
0080  2c 2d 2e 2f 30 31 32 33 34 35 36 37 38 39 3a 3b
0090  3c 3d 3e 3f`

// Offsets in these frames: Ethernet 14, outer IPv4 20, UDP 8, VXLAN 8, inner Ethernet 14, inner IPv4 20.
const (
	lcoOuterIP = 14
	lcoUDPHdr  = 34
	lcoVXLAN   = 42
	lcoInnerEt = 50
	lcoInnerIP = 64
	lcoL4      = 84
)

// hexDump parses a hex dump (an offset, then bytes, per line).
func hexDump(t testing.TB, s string) []byte {
	t.Helper()
	var out []byte
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		fields := strings.Fields(line)
		b, err := hex.DecodeString(strings.Join(fields[1:], ""))
		if err != nil {
			t.Fatalf("hex dump line %q: %v", line, err)
		}
		out = append(out, b...)
	}
	return out
}

// refSum is the RFC 1071 sum of b's 16-bit words plus s, folded.
func refSum(s uint32, b []byte) uint16 {
	for ; len(b) >= 2; b = b[2:] {
		s += uint32(b[0])<<8 | uint32(b[1])
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// refPseudo is the IPv4 pseudo-header sum for the IPv4 header at ip and its payload of n bytes.
func refPseudo(ip []byte, proto uint8, n int) uint32 {
	return uint32(refSum(0, ip[12:20])) + uint32(proto) + uint32(n)
}

// lcoSet writes, in the frame f, the checksum at off covering f[from:] (with a pseudo-header from the
// IPv4 header at ip, if ip ≥ 0) so that it verifies over the bytes as they now are.
func lcoSet(f []byte, ip, from, off int, proto uint8) {
	f[off], f[off+1] = 0, 0
	var s uint32
	if ip >= 0 {
		s = refPseudo(f[ip:], proto, len(f)-from)
	}
	c := ^refSum(s, f[from:])
	if c == 0 && proto == 17 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(f[off:], c)
}

// lcoInnerOff is the inner checksum field's offset in a frame of lcoTCP*/lcoUDP.
func lcoInnerOff(f []byte) int {
	if f[lcoInnerIP+9] == 6 {
		return lcoL4 + 16
	}
	return lcoL4 + 6
}

// lcoComplete finishes the inner transport checksum, as a NIC would on the wire.
func lcoComplete(f []byte) []byte {
	f = append([]byte(nil), f...)
	lcoSet(f, lcoInnerIP, lcoL4, lcoInnerOff(f), f[lcoInnerIP+9])
	return f
}

// lcoVariant is a VXLAN frame with an offload artefact or a corruption, and its verdict.
type lcoVariant struct {
	name  string
	frame []byte
	want  Checksum
	errs  Err
}

// lcoVariants returns the real frames above as captured, and edited: finished, corrupted, rewritten.
func lcoVariants(t testing.TB) []lcoVariant {
	type variant = lcoVariant
	syn, data, udp, icmp := hexDump(t, lcoTCPSyn), hexDump(t, lcoTCPData), hexDump(t, lcoUDP), hexDump(t, lcoICMP)
	edit := func(f []byte, fn func(f []byte)) []byte {
		f = append([]byte(nil), f...)
		fn(f)
		return f
	}
	cases := []variant{
		// As captured: placeholders and local-checksum-offload artefacts, unverifiable, never bad.
		{"tcp-syn", syn, CsumUnverifiable, 0},
		{"tcp-data", data, CsumUnverifiable, 0},
		{"udp", udp, CsumUnverifiable, 0},
		// The outer checksum is itself a placeholder: the inner ICMP checksum is right, but the
		// headers between (outer UDP, VXLAN, inner Ethernet) are covered by no finished checksum.
		{"icmp-outer-placeholder", icmp, CsumUnverifiable, 0},
		// Finishing the inner checksum (what a NIC sends) makes the captured outer checksum verify:
		// the reading of the artefact is right.
		{"tcp-data-completed", lcoComplete(data), CsumOK, 0},
		{"udp-completed", lcoComplete(udp), CsumOK, 0},
		{"icmp-outer-completed", edit(icmp, func(f []byte) { lcoSet(f, lcoOuterIP, lcoUDPHdr, lcoUDPHdr+6, 17) }), CsumOK, 0},
		// The inner placeholder in its complemented form, the outer checksum fitting its completion.
		{"tcp-data-complement-placeholder", edit(data, func(f []byte) {
			o := lcoInnerOff(f)
			binary.BigEndian.PutUint16(f[o:], ^refSum(refPseudo(f[lcoInnerIP:], 6, len(f)-lcoL4), nil))
		}), CsumUnverifiable, 0},
		// Real corruption. One flipped payload bit in a finished packet: both checksums catch it.
		{"tcp-data-completed-flipped-payload", edit(lcoComplete(data), func(f []byte) { f[len(f)-3] ^= 0x08 }),
			CsumBad, ErrBadL4Checksum | ErrBadOuterUDPChecksum},
		{"udp-completed-flipped-payload", edit(lcoComplete(udp), func(f []byte) { f[lcoL4+20] ^= 0x01 }),
			CsumBad, ErrBadL4Checksum | ErrBadOuterUDPChecksum},
		// A flipped bit outside the inner segment (inner MAC, VXLAN header): no completion fits.
		{"tcp-data-flipped-inner-mac", edit(data, func(f []byte) { f[lcoInnerEt+3] ^= 0x40 }), CsumBad, ErrBadOuterUDPChecksum},
		{"udp-flipped-vxlan-reserved", edit(udp, func(f []byte) { f[lcoVXLAN+2] ^= 0x01 }), CsumBad, ErrBadOuterUDPChecksum},
		// calico#3145: the outer source rewritten (MASQUERADE) without the UDP checksum following
		// (the IP header checksum is right): a non-zero wrong outer checksum that fits no completion.
		{"tcp-syn-masquerade", edit(syn, func(f []byte) {
			copy(f[lcoOuterIP+12:], []byte{203, 0, 113, 1})
			lcoSet(f[:lcoUDPHdr], -1, lcoOuterIP, lcoOuterIP+10, 0) // the IPv4 header checksum
		}), CsumBad, ErrBadOuterUDPChecksum},
		{"udp-masquerade-completed", edit(lcoComplete(udp), func(f []byte) {
			copy(f[lcoOuterIP+12:], []byte{203, 0, 113, 1})
			lcoSet(f[:lcoUDPHdr], -1, lcoOuterIP, lcoOuterIP+10, 0)
		}), CsumBad, ErrBadOuterUDPChecksum},
		// An outer checksum that fits nothing.
		{"tcp-data-wrong-outer", edit(data, func(f []byte) { f[lcoUDPHdr+6] ^= 0x11 }), CsumBad, ErrBadOuterUDPChecksum},
		{"icmp-wrong-outer", edit(icmp, func(f []byte) { f[lcoUDPHdr+7] ^= 0x01 }), CsumBad, ErrBadOuterUDPChecksum},
		// The inner checksum is neither finished nor a placeholder: bad, whatever the outer says.
		{"tcp-data-wrong-inner", edit(data, func(f []byte) { f[lcoInnerOff(f)] ^= 0x20 }), CsumBad, ErrBadL4Checksum | ErrBadOuterUDPChecksum},
		// A flipped bit inside an unfinished inner segment is covered by no checksum at all: the
		// outer one was computed as if the inner segment summed to its completion, whatever its
		// bytes. Unverifiable, not ok and not bad.
		{"tcp-data-flipped-payload-unfinished", edit(data, func(f []byte) { f[len(f)-3] ^= 0x08 }), CsumUnverifiable, 0},
	}
	return cases
}

// TestOffloadChecksums: an offload placeholder is unverifiable wherever it is captured, and so is a
// VXLAN outer UDP checksum that verifies once the inner checksum is finished; real corruption is bad.
func TestOffloadChecksums(t *testing.T) {
	for _, c := range lcoVariants(t) {
		for _, slow := range []bool{false, true} {
			var p Packet
			name := "fast"
			if slow {
				name = "slow"
				DecodeSlow(LinkEthernet, c.frame, len(c.frame), 0, &p)
			} else {
				DecodeFast(LinkEthernet, c.frame, len(c.frame), 0, &p)
			}
			if p.Encap != EncapVXLAN {
				t.Fatalf("%s (%s): encap %v, want vxlan", c.name, name, p.Encap)
			}
			if p.Checksum != c.want || p.Errs != c.errs {
				t.Errorf("%s (%s): checksum %v %v, want %v %v", c.name, name, p.Checksum, p.Errs.Strings(), c.want, c.errs.Strings())
			}
		}
	}
}
