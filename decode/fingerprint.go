package decode

import (
	"encoding/binary"
	"math/bits"
)

// payloadHashBytes is how many leading transport-payload bytes the fingerprint hashes.
const payloadHashBytes = 16

// Fingerprint returns the NAT-tolerant fingerprint of p's innermost IP packet and whether the payload
// bytes took part in it.
//
// It covers the fields that no router, tunnel or NAT along a Calico path changes: IP version and
// protocol, IP identification (IPv6: fragment id), fragment offset and MF, the transport payload
// length, TCP sequence, acknowledgement and flags, UDP length, ICMP type, code and echo sequence, and
// a hash of the first 16 payload bytes. An ICMP error's payload is its quote: in place of its first
// bytes (the quoted addresses, which NAT rewrites), it is fingerprinted by what tells apart the
// packets it quotes whatever NAT did (quoteID: the quoted IP id, lengths and flow label, TCP sequence,
// UDP length or echo sequence, and the quoted packet's first 16 payload bytes). A WireGuard transport
// message (p.HasWG) is fingerprinted by what identifies it wherever it is seen: its receiver index,
// counter and length, also where only its first IP fragment is seen. Addresses, ports and the ICMP
// echo identifier are left out (NAT rewrites them; Observation.Exact adds them); so are TTL,
// checksums and DSCP/ECN, which change hop by hop.
//
// Linux sends IP id 0 on many DF packets, so the id alone never identifies a packet: the sequence
// numbers, lengths and payload bytes carry the rest. When fewer than min(16, payload length) payload
// bytes were captured (for an ICMP error, the quote's bytes that quoteID reads) the payload is left
// out and hashed reports false (Observations get FlagNoPayloadHash): such a fingerprint only matches
// others that also left it out.
func Fingerprint(p *Packet) (fp uint64, hashed bool) {
	if p.HasARP {
		a := &p.ARP
		h := mix64(0xa29 ^ uint64(a.Op)<<48 ^ uint64(binary.BigEndian.Uint32(a.SPA[:]))<<16)
		h = mix64(h ^ uint64(binary.BigEndian.Uint32(a.TPA[:])) ^ macU64(a.SHA)<<8)
		return mix64(h ^ macU64(a.THA)), true
	}
	in := &p.Inner
	if in.Version == 0 {
		return 0, false
	}
	if p.HasWG && p.WG.Type == WGTransport && in.FragOff == 0 {
		// A transport message is (receiver index, counter): the counter never repeats in a session
		// and the receiver index names the session. The IP header is left out like a tunnel's outer
		// one; the message length is kept, which a replay with other contents would change. The
		// first IP fragment of a message that a router fragmented carries its header and the length
		// its UDP header declares: it is the same message, seen fragmented (the later fragments,
		// which carry no UDP header, keep a fingerprint of their own).
		w := &p.WG
		h := mum(uint64(w.Receiver)<<32^uint64(uint32(w.Len))^fpK[0]^0x7767, w.Counter^fpK[1])
		return mix64(h ^ 0x77672d7472616e73), true // "wg-trans": distinct from any other packet's
	}
	hdr := uint64(in.Version)<<56 | uint64(in.Proto)<<48 | uint64(in.FragOff)<<32 | uint64(in.ID)
	if in.MF {
		hdr |= 1 << 63
	}
	// What the transport protocol adds: a word and a few small fields.
	var tw, tf uint64
	switch {
	case p.HasTCP:
		tw, tf = uint64(p.TCP.Seq)<<32|uint64(p.TCP.Ack), uint64(p.TCP.Flags)
	case p.HasUDP:
		tf = uint64(p.UDPLen)
	case p.HasICMP:
		// The echo identifier is left to the exact fingerprint: SNAT rewrites it like a port.
		ic := &p.ICMP
		tf = uint64(ic.Type)<<40 ^ uint64(ic.Code)<<32 ^ uint64(ic.Seq)
		if ic.HasQuote || len(p.Payload) < p.PayloadLen && ic.IsError(in.Version == 6) {
			// an error: its quote's identity instead of its first bytes (quoteid.go)
			q, cut := quoteID(p)
			h := mum(hdr^fpK[0], uint64(uint32(p.PayloadLen))^fpK[1])
			if cut { // as any packet whose payload was cut
				return mix64(h ^ mum(tw^fpK[2], tf^fpK[3]) ^ 0x6e6f2d7061796c64), false
			}
			return mix64(h ^ mum(q^fpK[2], tf^fpK[3]) ^ 0x71756f74652d6964), true // "quote-id"
		}
	}
	// Independent lanes, each a 128-bit multiply folded in half, combined at the end: the CPU works
	// on them at once (fastFingerprint, when the payload's first bytes were captured).
	if len(p.Payload) < min(payloadHashBytes, p.PayloadLen) {
		h := mum(hdr^fpK[0], uint64(uint32(p.PayloadLen))^fpK[1]) ^ mum(tw^fpK[2], tf^fpK[3])
		return mix64(h ^ 0x6e6f2d7061796c64), false // "no-payld": distinct from any hashed value
	}
	return fastFingerprint(hdr, p.PayloadLen, tw, tf, p.Payload), true // fastpath.go
}

// fpK are the lanes' keys (wyhash's primes and more odd constants with their top bits set, so that no
// small field equals one and zeroes its lane).
var fpK = [6]uint64{fpK0, fpK1, 0x8ebc6af09c88c6e3, 0x589965cc75374cc3, 0x9e3779b97f4a7c15, 0xd6e8feb86659fd93}

// fpK0 and fpK1 are fpK's first two as constants, for Exact: small enough then to be inlined in the
// matcher's loop.
const (
	fpK0 = 0xa0761d6478bd642f
	fpK1 = 0xe7037ed1a0b428db
)

// mum multiplies two words into 128 bits and folds the halves together (wyhash's mixer).
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func macU64(m [6]byte) uint64 {
	return uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
}
