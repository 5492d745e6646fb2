package decode

import "encoding/binary"

// payloadHashBytes is how many leading transport-payload bytes the fingerprint hashes.
const payloadHashBytes = 16

// Fingerprint returns the NAT-tolerant fingerprint of p's innermost IP packet and whether the payload
// bytes took part in it.
//
// It covers the fields that no router, tunnel or NAT along a Calico path changes: IP version and
// protocol, IP identification (IPv6: fragment id), fragment offset and MF, the transport payload
// length, TCP sequence, acknowledgement and flags, UDP length, ICMP type, code and echo sequence, and
// a hash of the first 16 payload bytes. Addresses, ports and the ICMP echo identifier are left out
// (NAT rewrites them; Observation.Exact adds them); so are TTL, checksums and DSCP/ECN, which change
// hop by hop.
//
// Linux sends IP id 0 on many DF packets, so the id alone never identifies a packet: the sequence
// numbers, lengths and payload bytes carry the rest. When fewer than min(16, payload length) payload
// bytes were captured the payload is left out and hashed reports false (Observations get
// FlagNoPayloadHash): such a fingerprint only matches others that also left it out.
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
	h := uint64(in.Version)<<56 | uint64(in.Proto)<<48 | uint64(in.FragOff)<<32 | uint64(in.ID)
	if in.MF {
		h |= 1 << 63
	}
	h = mix64(h ^ uint64(uint32(p.PayloadLen))<<1)
	switch {
	case p.HasTCP:
		h = mix64(h ^ uint64(p.TCP.Seq)<<32 ^ uint64(p.TCP.Ack))
		h = mix64(h ^ uint64(p.TCP.Flags))
	case p.HasUDP:
		h = mix64(h ^ uint64(p.UDPLen))
	case p.HasICMP:
		// The echo identifier is left to the exact fingerprint: SNAT rewrites it like a port.
		ic := &p.ICMP
		h = mix64(h ^ uint64(ic.Type)<<40 ^ uint64(ic.Code)<<32 ^ uint64(ic.Seq))
	}
	n := min(payloadHashBytes, p.PayloadLen)
	if len(p.Payload) < n {
		return mix64(h ^ 0x6e6f2d7061796c64), false // "no-payld": distinct from any hashed value
	}
	var buf [payloadHashBytes]byte
	copy(buf[:], p.Payload[:n])
	h = mix64(h ^ binary.LittleEndian.Uint64(buf[0:8]))
	h = mix64(h ^ binary.LittleEndian.Uint64(buf[8:16]) ^ uint64(n))
	return h, true
}

func macU64(m [6]byte) uint64 {
	return uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
}
