package decode

import "math/bits"

// Observation is the compact, fixed-size record of one frame at one capture source: 32 bytes, no
// pointers. Its capture time and frame number are kept beside it, in its file's Stamps. Fields that are rare or wide (IPv6 addresses, ARP and ICMP-error details, outer headers)
// live in per-file side Tables and are referred to by index.
//
// Addresses: Src and Dst hold the innermost IPv4 address as a big-endian uint32, or, with FlagIPv6,
// an index into Tables.V6. For ARP frames they hold the sender and target protocol addresses.
//
// Seq holds the TCP sequence number; for ICMP echo, ID<<16 | Seq; for ARP frames and ICMP errors, an
// index into Tables.ARP or Tables.ICMPErr; for IPv6 neighbour solicitations and advertisements (IsND),
// an index into Tables.ND; for IP fragments, the IP identification (so that later
// fragments, which carry no ports, can be joined to the first). Sport and Dport hold TCP/UDP ports, or
// the ICMP type and code; for ARP frames, the operation and where the link layer sent the frame
// (ARPBroadcast, ARPUnicast, or 0 when the capture does not tell).
//
// WireGuard (UDP to or from the WireGuard port, see WireGuard): the fields describe the UDP
// datagram as for any other (PayloadLen is the message length), and Ctx's HdrCtx holds the message
// type, the receiver index and the counter's high 32 bits. Seq holds a transport message's counter's
// low 32 bits (HdrCtx.WGCounter joins them), or the sender index of a handshake initiation or
// response; a first fragment's Seq is its IP identification, as for every fragment (Tables.WGFragCounter
// keeps its counter).
type Observation struct {
	TsLo     uint32 // the capture time's low bits: see Stamps.Ts (the time as recorded, no clock correction)
	Src      uint32
	Dst      uint32
	Seq      uint32
	Sport    uint16
	Dport    uint16
	Source   uint16 // index of the capture source (file, interface) in the Sources table
	Len      uint16 // innermost IP total length, saturated at 65535 (GSO frames: captured IP bytes)
	Ctx      uint16 // index into Tables.Ctx: encapsulation, outer header, DSCP/ECN (0 = none recorded)
	Flags    Flags
	Proto    uint8 // innermost IP protocol
	TTL      uint8 // innermost TTL / hop limit
	HdrLen   uint8 // innermost IP header + transport header bytes (saturated at 255)
	TCPFlags uint8
}

// Flags are per-Observation bits.
type Flags uint16

// Observation flags. The low two bits hold the Encap kind and the next two the Checksum state.
const (
	FlagEncapMask Flags = 0x3
	FlagCsumShift       = 2
	FlagCsumMask  Flags = 0x3 << FlagCsumShift

	FlagIPv6          Flags = 1 << 4  // Src/Dst are Tables.V6 indexes
	FlagARP           Flags = 1 << 5  // an ARP frame; Seq indexes Tables.ARP
	FlagICMPError     Flags = 1 << 6  // an ICMP error; Seq indexes Tables.ICMPErr
	FlagDF            Flags = 1 << 7  // innermost header has DF set
	FlagFragment      Flags = 1 << 8  // innermost packet is a fragment (MF or offset > 0)
	FlagGSO           Flags = 1 << 9  // larger than its MTU, or total length 0
	FlagNoPayloadHash Flags = 1 << 10 // too little payload captured to hash it (see Fingerprint)
	FlagTruncated     Flags = 1 << 11 // a header was cut short; fields after it are zero
	FlagError         Flags = 1 << 12 // some other decode problem (see Err on re-decode)
	FlagNotIP         Flags = 1 << 13 // neither IP nor ARP (or undecodable link layer), or cut before its inner ports (CutBeforePorts)
	FlagOutbound      Flags = 1 << 14 // Linux cooked capture: packet type "outgoing"
	FlagLaterFragment Flags = 1 << 15 // a fragment other than the first (offset > 0): no transport header
)

// Encap returns the encapsulation kind.
func (o *Observation) Encap() Encap { return Encap(o.Flags & FlagEncapMask) }

// Checksum returns the checksum verdict.
func (o *Observation) Checksum() Checksum { return Checksum((o.Flags & FlagCsumMask) >> FlagCsumShift) }

// Exact returns the exact fingerprint: the Observation's NAT-tolerant fingerprint loose (see
// Fingerprint and Capture.Loose) mixed with addresses and ports. Two Observations of the same IP packet
// at different points of its path have equal Exact fingerprints unless NAT rewrote it (then only the
// loose one matches).
//
// Sport<<16|Dport and Src<<32|Dst are each read as one word, rotated: the fields lie side by side
// (Dst after Src, Dport after Sport), so that Dport<<16|Sport and Dst<<32|Src are one load each (the
// compiler joins them), and the rotation swaps their halves (the same values on any byte order). The
// whole is within the inlining budget (cost 78 of 80): it is inlined in the matcher's loop (sightRun).
func (o *Observation) Exact(loose uint64) uint64 {
	ports := uint64(bits.RotateLeft32(uint32(o.Dport)<<16|uint32(o.Sport), 16)) | uint64(o.Flags&FlagIPv6)<<32
	if echoProto[o.Proto] && o.Flags&(FlagICMPError|FlagARP) == 0 {
		ports ^= uint64(o.Seq>>16) << 40 // the echo identifier
	}
	hi, lo := bits.Mul64(loose^bits.RotateLeft64(uint64(o.Dst)<<32|uint64(o.Src), 32)^fpK0, ports^fpK1) // mum, written out: inlined
	return hi ^ lo
}

// echoProto marks the protocols whose echo identifier Exact mixes in: ICMP and ICMPv6 (a table, so that
// Exact is small enough to be inlined in the matcher's loop).
var echoProto = [256]bool{1: true, 58: true}

// PayloadLen returns the transport payload length implied by Len and HdrLen.
func (o *Observation) PayloadLen() int {
	if int(o.Len) < int(o.HdrLen) {
		return 0
	}
	return int(o.Len) - int(o.HdrLen)
}

// mix64 is the SplitMix64 finaliser: a fast bijective mixer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
