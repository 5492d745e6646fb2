package decode

import (
	"net/netip"
)

// Encap is the encapsulation a frame carries.
type Encap uint8

// Encapsulation kinds.
const (
	EncapNone  Encap = iota
	EncapIPIP        // IPv4 protocol 4 (tunl0)
	EncapVXLAN       // UDP 4789 carrying Ethernet (vxlan.calico)
)

// String returns "none", "ipip" or "vxlan".
func (e Encap) String() string {
	switch e {
	case EncapIPIP:
		return "ipip"
	case EncapVXLAN:
		return "vxlan"
	}
	return "none"
}

// Checksum is the verdict on a packet's checksums (IP headers and the innermost L4 checksum).
type Checksum uint8

// Checksum states. Unverifiable covers truncated frames, GSO frames, checksums left for a NIC to fill
// in (TX offload placeholders, which veths and virtual NICs carry to the receiving node unfinished)
// and VXLAN outer UDP checksums that only fit the packet once such an inner placeholder is finished
// (local checksum offload): such a checksum is never called bad.
const (
	CsumUnverifiable Checksum = iota
	CsumOK
	CsumBad
	CsumNone // nothing to verify (ARP, non-IP)
)

// String returns "unverifiable", "ok", "bad" or "none".
func (c Checksum) String() string {
	switch c {
	case CsumOK:
		return "ok"
	case CsumBad:
		return "bad"
	case CsumNone:
		return "none"
	}
	return "unverifiable"
}

// Err is a set of per-frame decoding problems. Problems are data, not failures: the frame is still
// reported, with whatever could be decoded.
type Err uint16

// Decoding problems.
const (
	ErrTruncated           Err = 1 << iota // captured bytes end inside a header
	ErrSnapped                             // captured length < length on the wire (cut by snaplen); headers may be complete
	ErrBadLength                           // a length field disagrees with the bytes (IP total length > captured, IHL < 5, …)
	ErrBadVersion                          // IP version field is not 4 or 6
	ErrUnknownLink                         // link type calipath cannot decode
	ErrNotIP                               // a link-layer protocol other than IP or ARP
	ErrBadIPChecksum                       // an IPv4 header checksum is wrong
	ErrBadL4Checksum                       // a TCP/UDP/ICMP checksum is wrong
	ErrBadOuterUDPChecksum                 // VXLAN outer UDP checksum is non-zero and wrong, also once the inner checksum is finished (calico#3145)
	ErrBadVXLAN                            // UDP to the VXLAN port without a valid VXLAN header
	ErrBadOption                           // malformed TCP option or IPv6 extension header
	// ErrTimestamp is set by the scan, not by decoding: the record's timestamp is not to be trusted
	// (its fraction field said a second or more, it went back more than a second on its interface, or
	// it lies a day or more from the rest of the capture read so far).
	ErrTimestamp
	// ErrBadWireGuard: UDP to the WireGuard port whose message has an unknown type, non-zero reserved
	// bytes, or a length its type cannot have (see WireGuard).
	ErrBadWireGuard
)

var errNames = [...]string{"truncated", "snapped", "bad-length", "bad-version", "unknown-link", "not-ip",
	"bad-ip-checksum", "bad-l4-checksum", "bad-outer-udp-checksum", "bad-vxlan", "bad-option", "bad-timestamp",
	"bad-wireguard"}

// Strings lists the names of the set problems, in bit order.
func (e Err) Strings() []string {
	var out []string
	for i, n := range errNames {
		if e&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// IPHdr holds the fields of one IPv4 or IPv6 header. For IPv4, Src and Dst use the first 4 bytes.
type IPHdr struct {
	Version  uint8 // 4 or 6; 0 when absent
	Src, Dst [16]byte
	Proto    uint8  // IPv4 protocol, or IPv6 final next header (after extension headers)
	TTL      uint8  // TTL / hop limit
	TOS      uint8  // DSCP<<2 | ECN (IPv6 traffic class)
	HdrLen   uint8  // header bytes (IPv4 IHL*4; IPv6 40 + extension headers)
	TotalLen uint16 // IPv4 total length; IPv6 40 + payload length
	ID       uint32 // IPv4 identification; IPv6 fragment header identification
	DF, MF   bool
	FragOff  uint16 // fragment offset in bytes
	Checksum uint16 // IPv4 header checksum as captured
	CsumOK   bool   // IPv4 header checksum verified correct
	FlowLbl  uint32 // IPv6 flow label
	CapLen   int    // bytes captured from the start of this header
}

// SrcAddr returns the source address.
func (h *IPHdr) SrcAddr() netip.Addr { return h.addr(&h.Src) }

// DstAddr returns the destination address.
func (h *IPHdr) DstAddr() netip.Addr { return h.addr(&h.Dst) }

func (h *IPHdr) addr(a *[16]byte) netip.Addr {
	switch h.Version {
	case 4:
		return netip.AddrFrom4([4]byte(a[:4]))
	case 6:
		return netip.AddrFrom16(*a)
	}
	return netip.Addr{}
}

// DSCP returns the differentiated services code point.
func (h *IPHdr) DSCP() uint8 { return h.TOS >> 2 }

// ECN returns the ECN bits.
func (h *IPHdr) ECN() uint8 { return h.TOS & 3 }

// ARP holds an ARP packet (Ethernet/IPv4 only).
type ARP struct {
	Op       uint16 // 1 request, 2 reply
	SHA, THA [6]byte
	SPA, TPA [4]byte
}

// Where an ARP frame's link layer sent it, as far as its capture shows (Observation.Dport of an ARP
// frame): 0 when it does not tell (a cooked capture's outgoing frame).
const (
	ARPBroadcast = 1 // Ethernet destination ff:ff:ff:ff:ff:ff, or cooked packet type "broadcast"
	ARPUnicast   = 2 // any other destination the capture shows (cooked: to us, to another host, multicast)
)

// linkCast is where packet p's frame was sent: ARPBroadcast, ARPUnicast or 0.
func linkCast(p *Packet) uint16 {
	switch {
	case p.HasEth && p.DstMAC == [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}:
		return ARPBroadcast
	case p.HasEth:
		return ARPUnicast
	case p.HasSLL && p.PktType == 1:
		return ARPBroadcast
	case p.HasSLL && p.PktType != 4:
		return ARPUnicast
	}
	return 0
}

// Gratuitous reports a gratuitous ARP (sender and target protocol addresses equal).
func (a *ARP) Gratuitous() bool { return a.SPA == a.TPA }

// TCP holds a TCP header.
type TCP struct {
	Seq, Ack   uint32
	Flags      uint8 // FIN=1 SYN=2 RST=4 PSH=8 ACK=16 URG=32 ECE=64 CWR=128
	HdrLen     uint8
	Window     uint16
	Checksum   uint16
	MSS        uint16 // 0 when absent
	WScale     uint8  // 0xff when absent
	SACKPerm   bool
	SACKBlocks uint8 // number of SACK blocks
	HasTS      bool
	TSVal      uint32
	TSEcr      uint32
}

// TCP flag bits.
const (
	TCPFin = 1 << iota
	TCPSyn
	TCPRst
	TCPPsh
	TCPAck
	TCPUrg
	TCPEce
	TCPCwr
)

// ICMP holds an ICMPv4 or ICMPv6 header and, for errors, the quoted packet.
type ICMP struct {
	Type, Code uint8
	Checksum   uint16
	ID, Seq    uint16 // echo request/reply
	MTU        uint16 // next-hop MTU (IPv4 type 3 code 4; ICMPv6 packet too big, truncated to 16 bits)
	// Quoted is the IP header inside an ICMP error; QuotedInner is the IP header inside it when the quote
	// is an IP-in-IP outer header or a VXLAN datagram (QVXLAN). QSport/QDport are the quoted TCP/UDP
	// ports, or ICMP id/seq, of the innermost quoted packet.
	Quoted      IPHdr
	QuotedInner IPHdr
	QSport      uint16
	QDport      uint16
	QSeq        uint32 // quoted TCP sequence number, when quoted
	// QOff is where the innermost quoted packet's transport header starts in the quote (the error's
	// payload), 0 when the quote does not reach it (a quoted header cut, or a later fragment quoted).
	QOff     uint16
	HasQuote bool
	// QVXLAN: the quote is a VXLAN datagram, whose UDP ports are QOuterSport and QOuterDport and VNI
	// QVNI; the packet it carries is QuotedInner (a router's error about the nodes' tunnel datagram).
	QVXLAN                   bool
	QOuterSport, QOuterDport uint16
	QVNI                     uint32
}

// IsError reports whether this is an ICMP error message (it quotes an earlier packet).
func (i *ICMP) IsError(v6 bool) bool {
	if v6 {
		return i.Type < 128
	}
	switch i.Type {
	case 3, 4, 5, 11, 12:
		return true
	}
	return false
}

// WireGuard message types.
const (
	WGInitiation = 1 // handshake initiation
	WGResponse   = 2 // handshake response
	WGCookie     = 3 // cookie reply
	WGTransport  = 4 // transport data (a keepalive when it carries no inner packet)
)

// WireGuard holds the clear-text header of one WireGuard message. calipath holds no keys: the inner
// packet of a transport message is ciphertext, and only its padded length is known.
//
// A UDP datagram to or from the WireGuard port (Options.WireGuardPort, 51820 by default) is decoded as
// one. A datagram to the port is flagged
//   - ErrTruncated when the capture ends inside the message's header (8 bytes for an initiation or a
//     cookie reply, 12 for a response, 16 for a transport message);
//   - ErrBadWireGuard when its message has an unknown type, non-zero reserved bytes, or a length its
//     type cannot have (initiation 148, response 92, cookie reply 64, transport 32 plus a multiple of
//     16).
//
// One that only comes from the port is left as plain UDP then: an ephemeral source port may be the
// WireGuard port by chance. A first fragment is decoded from the bytes it holds, with the length its
// UDP header declares; later fragments carry no UDP header and are not decoded.
type WireGuard struct {
	Type     uint8  // WGInitiation … WGTransport
	Sender   uint32 // sender index (initiation and response), as on the wire (little-endian)
	Receiver uint32 // receiver index (response, cookie reply, transport)
	Counter  uint64 // transport: the session's per-message counter
	Len      int    // message length in bytes (UDP payload; for a first fragment, as the UDP header declares)
}

// PaddedLen returns the length of a transport message's encrypted inner packet, padded to 16 bytes:
// the message length less the 16-byte header and the 16-byte authentication tag (0 for a keepalive,
// and for other message types).
func (w *WireGuard) PaddedLen() int {
	if w.Type != WGTransport || w.Len < wgTransportMin {
		return 0
	}
	return w.Len - wgTransportMin
}

// Keepalive reports whether w is a transport message without an inner packet.
func (w *WireGuard) Keepalive() bool { return w.Type == WGTransport && w.Len == wgTransportMin }

// Packet is everything calipath decodes from one frame. A Decoder fills one Packet again and again;
// nothing in it points into the frame's bytes except Payload.
type Packet struct {
	LinkType LinkType
	CapLen   int // captured bytes
	OrigLen  int // bytes on the wire

	// Link layer.
	HasEth    bool
	SrcMAC    [6]byte
	DstMAC    [6]byte
	EtherType uint16    // after VLAN tags
	VLANs     [2]uint16 // VLAN IDs, outermost first
	NVLAN     uint8
	// Linux cooked captures (SLL/SLL2).
	HasSLL  bool
	PktType uint8 // 0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing
	IfIndex int32 // SLL2 interface index (0 for SLL v1)
	SLLAddr [8]byte
	SLLAlen uint8
	HasARP  bool
	ARP     ARP

	// Encapsulation: Outer is the outer IP header when Encap != EncapNone.
	Encap                    Encap
	Outer                    IPHdr
	OuterSprt                uint16 // VXLAN outer UDP source port
	OuterDprt                uint16
	OuterUCsm                uint16 // VXLAN outer UDP checksum as captured
	VNI                      uint32
	InnerSrcMAC, InnerDstMAC [6]byte // VXLAN inner Ethernet

	// Inner is the innermost IP header (the only one when there is no tunnel).
	Inner IPHdr

	// Transport of the innermost IP packet.
	Sport, Dport uint16 // TCP/UDP ports
	HasTCP       bool
	TCP          TCP
	HasUDP       bool
	UDPLen       uint16
	UDPChecksum  uint16
	HasICMP      bool
	ICMP         ICMP
	// ICMPEchoCut: an echo request or reply cut (by the snaplen) after its identifier, before its
	// sequence number: ICMP holds its type, code and identifier, HasICMP is false.
	ICMPEchoCut bool
	// TunnelCut: a UDP datagram to the VXLAN port, long enough to be VXLAN, cut (by the snaplen)
	// inside its UDP header, after the ports: Sport and Dport are the outer ones, HasUDP is false.
	TunnelCut bool
	// Payload is the transport payload as captured (aliases the frame: valid until the next read).
	Payload    []byte
	PayloadLen int // transport payload length declared by the headers (≥ len(Payload))

	// WireGuard message in the innermost UDP datagram (see WireGuard).
	HasWG bool
	WG    WireGuard

	GSO      bool     // frame larger than its MTU or with IPv4 total length 0 (segmentation offload)
	Checksum Checksum // overall verdict
	Errs     Err

	// Loose is the NAT-tolerant fingerprint of the innermost IP packet (see Fingerprint), set by
	// Decoder.Observe. It is kept beside the Observation (Capture.Loose), not in it: only correlation's
	// matching needs it.
	Loose uint64
}

// Reset clears p for reuse.
func (p *Packet) Reset() { *p = Packet{} }
