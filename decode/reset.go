package decode

import "unsafe"

// Resetting a Packet for the next frame. Zeroing all of it (544 bytes) took more instructions per
// frame than any header's decoding, though most frames leave its largest parts zero: the outer IP
// header (only a tunnel packet's), the ICMP header with the two IP headers an error quotes (only an
// ICMP packet's) and the WireGuard message (only a WireGuard datagram's). A Decoder that decodes
// frame after frame into the same Packet (decodeReused) notes which of those parts the last frame
// wrote, and the next reset zeroes the rest of the Packet and only those parts.

// The parts of a Packet that resetDecoded zeroes only when the frame decoded into it wrote them.
const (
	partOuter uint8 = 1 << iota // Outer
	partICMP                    // ICMP
	partWG                      // WG
	// partsKnown: the other bits say which of the parts may be non-zero (without it: any may be)
	partsKnown
)

// decodedParts returns the parts of p, decoded from zero by decodeZeroed, that may be non-zero:
// decodeIP writes Outer only with Encap, decodeL4 writes ICMP only for protocols 1 and 58 of the
// innermost header, decodeWireGuard writes WG only with HasWG.
func decodedParts(p *Packet) uint8 {
	parts := partsKnown
	if p.Encap != EncapNone {
		parts |= partOuter
	}
	if p.Inner.Proto == 1 || p.Inner.Proto == 58 || p.HasICMP || p.ICMPEchoCut {
		parts |= partICMP
	}
	if p.HasWG {
		parts |= partWG
	}
	return parts
}

// Packet's layout around the parts (checked by TestResetLayout). Between them, and after the last,
// lie only fields without pointers but Payload, which is zeroed as a slice (with the write barrier a
// pointer store needs): the rest is zeroed as plain bytes.
const (
	offOuter      = unsafe.Offsetof(Packet{}.Outer)
	endOuter      = offOuter + unsafe.Sizeof(IPHdr{})
	offICMP       = unsafe.Offsetof(Packet{}.ICMP)
	endICMP       = offICMP + unsafe.Sizeof(ICMP{})
	offPayload    = unsafe.Offsetof(Packet{}.Payload)
	endPayload    = offPayload + unsafe.Sizeof([]byte(nil))
	offWG         = unsafe.Offsetof(Packet{}.WG)
	endWG         = offWG + unsafe.Sizeof(WireGuard{})
	packetSize    = unsafe.Sizeof(Packet{})
	beforeOuter   = offOuter
	outerToICMP   = offICMP - endOuter
	icmpToPayload = offPayload - endICMP
	payloadToWG   = offWG - endPayload
	afterWG       = packetSize - endWG
)

// resetDecoded zeroes p, whose non-zero parts are parts (decodedParts of the frame decoded into it
// last; 0: not known). The result is Packet{}, as *p = Packet{} makes it.
func resetDecoded(p *Packet, parts uint8) {
	if parts&partsKnown == 0 {
		*p = Packet{}
		return
	}
	b := unsafe.Pointer(p)
	*(*[beforeOuter]byte)(b) = [beforeOuter]byte{}
	*(*[outerToICMP]byte)(unsafe.Add(b, endOuter)) = [outerToICMP]byte{}
	*(*[icmpToPayload]byte)(unsafe.Add(b, endICMP)) = [icmpToPayload]byte{}
	p.Payload = nil
	*(*[payloadToWG]byte)(unsafe.Add(b, endPayload)) = [payloadToWG]byte{}
	*(*[afterWG]byte)(unsafe.Add(b, endWG)) = [afterWG]byte{}
	if parts&partOuter != 0 {
		p.Outer = IPHdr{}
	}
	if parts&partICMP != 0 {
		p.ICMP = ICMP{}
	}
	if parts&partWG != 0 {
		p.WG = WireGuard{}
	}
}
