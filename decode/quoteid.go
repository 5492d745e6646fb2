package decode

import "encoding/binary"

// quoteID returns what tells apart the packets an ICMP error p quotes, as Fingerprint mixes it in,
// and whether the capture cut the quote before the bytes it reads (then Fingerprint leaves the quote
// out and snapClass says so).
//
// Errors of one kind between the same two hosts differ only in their quotes, and an ICMPv6 error has
// no IP id: without this, node-b's address-unreachable errors for pod-b's three UDP answers (the lab's
// state-neigh-failed6) were identical in all that calipath tells packets apart by. It takes what no
// NAT of the error and its quote changes (Linux's NAT rewrites the quoted addresses, ports, echo
// identifier and checksums with the error's own): of the innermost quoted IP header (inside a quoted
// IP-in-IP or VXLAN header) its version, protocol, IP id (IPv6: fragment id), fragment offset and MF,
// total length and IPv6 flow label; of its transport header, when quoted, the TCP sequence number,
// the UDP length, or the ICMP type, code and echo sequence; and the first 16 bytes of its payload (as
// many as the quote holds). So the same error seen at several points, encapsulated or not, before and
// after NAT, has one identity. The quoted addresses, ports and echo identifier are not in it: the
// exact fingerprint adds them (Tables.QuoteExact), so that two errors that differ only in those are
// two errors wherever no NAT lies between their sightings; the matcher takes an error rewritten so for
// the same error only across a NAT the quoted flows' own packets showed (correlate's errNATShown).
//
// The quote's bytes read are the same at every point unless a snaplen cut some: cut then reports
// whether the frame was cut before its error's quote ended and before the last byte read (or the
// quote's IP header could not be read at all).
func quoteID(p *Packet) (id uint64, cut bool) {
	ic := &p.ICMP
	q := p.Payload
	if len(q) > p.PayloadLen {
		q = q[:p.PayloadLen]
	}
	snapped := len(q) < p.PayloadLen
	if !ic.HasQuote {
		return 0, snapped
	}
	h := &ic.Quoted
	if ic.QuotedInner.Version != 0 {
		h = &ic.QuotedInner
	}
	a := uint64(h.Version)<<56 | uint64(h.Proto)<<48 | uint64(h.FragOff)<<32 | uint64(h.ID)
	if h.MF {
		a |= 1 << 63
	}
	b := uint64(h.TotalLen)<<32 | uint64(h.FlowLbl)
	if ic.QOff == 0 || int(ic.QOff) > len(q) {
		// The quote does not reach a transport header: a later fragment (its header is all there
		// is), or a quoted header cut.
		return mum(a^fpK[0], b^fpK[1]), snapped && h.FragOff == 0
	}
	off := int(ic.QOff)
	end := p.PayloadLen // where the quoted transport segment ends in the quote, as declared
	if h.TotalLen > uint16(h.HdrLen) && !(h.Version == 6 && h.TotalLen == 40) {
		end = min(end, off+int(h.TotalLen)-int(h.HdrLen))
	}
	t := q[off:min(end, len(q))]
	var tw uint64 // the transport fields
	hl := 0       // the transport header's length: the payload starts after it
	need := off   // how far the quote must be captured for what is read
	switch h.Proto {
	case 6:
		hl, need = 20, off+13
		if len(t) >= 8 {
			tw = uint64(binary.BigEndian.Uint32(t[4:8]))
		}
		if len(t) >= 13 {
			hl = max(int(t[12]>>4)*4, 20)
		}
	case 17:
		hl = 8
		if len(t) >= 6 {
			tw = uint64(binary.BigEndian.Uint16(t[4:6]))
		}
		// A quoted datagram with a VXLAN header's I flag might be VXLAN, which decodeQuote follows
		// only when the inner IP header was captured: read far enough for that to be decided alike
		// everywhere (to the inner IPv6 header's end, or an IPv4 one's longest).
		if len(t) < 16 {
			need = off + 16
		} else if t[8]&0x08 != 0 {
			need = off + 8 + 8 + 14 + 60
			if len(t) >= 30 && binary.BigEndian.Uint16(t[28:30]) == 0x86dd {
				need = off + 8 + 8 + 14 + 40
			}
		}
	case 1, 58:
		hl = 8
		if len(t) >= 8 {
			tw = uint64(t[0])<<40 | uint64(t[1])<<32
			if h.Proto == 1 && (t[0] == 0 || t[0] == 8) || h.Proto == 58 && (t[0] == 128 || t[0] == 129) {
				tw |= uint64(binary.BigEndian.Uint16(t[6:8])) // the echo sequence (not its identifier)
			}
		}
	}
	need = max(need, off+hl+payloadHashBytes)
	var buf [payloadHashBytes]byte
	n := 0
	if hl < len(t) {
		n = copy(buf[:], t[hl:])
	}
	lo, hi := binary.LittleEndian.Uint64(buf[0:8]), binary.LittleEndian.Uint64(buf[8:16])
	id = mum(a^fpK[0], b^fpK[1]) ^ mum(tw^fpK[2], uint64(n)^fpK[3]) ^ mum(lo^fpK[4], hi^fpK[5])
	return id, snapped && len(q) < min(need, end)
}
