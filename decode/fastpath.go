package decode

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// The scan's fast path. Almost every frame of a real capture has one shape: Ethernet (no VLAN tag),
// raw IP or an IPv4 link type; IPv4 without options, not a fragment, not a GSO super-frame, captured
// whole; at most one IP-in-IP header; TCP, UDP or an ICMP echo, with right checksums. For such a frame
// fastFrame reads the header bytes once and writes the Packet, the Observation and the fingerprint
// from the same values, instead of decoding the Packet (decodeFrame) and reading it back twice
// (Observe and Fingerprint). Any frame of another shape, and any frame for which a check fails or a
// finding could arise (a bad or unfinished checksum, a length that disagrees, a malformed TCP option,
// VXLAN, WireGuard, ARP, IPv6, a snapped frame), takes the usual path: the fast path leaves it
// before it writes anything (TCP options: before it returns), so the usual path decodes it as ever.
// TestFastPathLikeSlow and FuzzFastPath check that both paths give the same Packet, Observation and
// fingerprint.

// fastLen returns the total length of the IPv4 packet at the start of b when its header is of the
// usual shape (20 bytes, not a fragment, its checksum right; the packet no longer than what was
// captured, nor than the GSO threshold), and 0 when it is not.
func fastLen(b []byte) int {
	if len(b) < 20 || b[0] != 0x45 || b[6]&0x3f != 0 || b[7] != 0 { // no options; MF and offset zero
		return 0
	}
	tl := int(b[2])<<8 | int(b[3])
	if tl < 20 || tl > len(b) || tl > gsoThreshold || !sumOK(sum20(b)) {
		return 0
	}
	return tl
}

// putIPv4 writes the 20-byte IPv4 header at the start of b, of total length tl, into the zero IPHdr ip
// as parseIPv4 does.
func putIPv4(ip *IPHdr, b []byte, tl int) {
	_ = b[19]
	ip.Version = 4
	ip.TOS = b[1]
	ip.TotalLen = uint16(tl)
	ip.ID = uint32(b[4])<<8 | uint32(b[5])
	ip.DF = b[6]&0x40 != 0
	ip.TTL = b[8]
	ip.Proto = b[9]
	ip.Checksum = uint16(b[10])<<8 | uint16(b[11])
	*(*[4]byte)(ip.Src[:4]) = [4]byte(b[12:16])
	*(*[4]byte)(ip.Dst[:4]) = [4]byte(b[16:20])
	ip.HdrLen = 20
	ip.CsumOK = true
	ip.CapLen = len(b)
}

// Shapes of the frames the fast path takes, as fastShape packs them: link type, encapsulation,
// protocol, and whether the TCP header has options.
// shapeLink marks a frame of a link type with a VLAN tag or a cooked header (fastLink), shapeOther one
// with fields that fastOther writes.
const (
	shapeOptions    = 1 << 8
	shapeLean       = 1 << 9  // the Packet written lean (Options.leanPacket)
	shapeProbe      = 1 << 10 // and with what the merged probe reads of it (Decoder.leanShape)
	shapeEncapShift = 14
	shapeLink       = 1 << 16
	shapeOther      = shapeLink | uint32(EncapVXLAN)<<shapeEncapShift
	shapeLinkShift  = 20
	// shapeSumFirst marks fastShape while the transport checksum is tested first (Decoder.sumFirst):
	// no frame's shape has it, so that fastUsual's one comparison hands every such frame to fastFrame.
	shapeSumFirst = 1 << 31
)

// shapeRunKey is the part of a fast path frame's shape that holds its encapsulation and link type
// (p.Encap, p.LinkType: every link type the fast path takes is below 2^11; bit 31 is shapeSumFirst):
// Traffic.addFast keys its runs with it.
const shapeRunKey = 3<<shapeEncapShift | (1<<11-1)<<shapeLinkShift

// sumFirstShape is the part of fastShape that sumFirst n (not negative) sets: shapeSumFirst or 0.
func sumFirstShape(n int) uint32 {
	return uint32(min(n, 1)) << 31
}

// fastUsual is fastFrame for any frame (see there): it takes the frames of the commonest shapes
// itself, with no call on their way but sum16's at the end, and hands the others to fastFrame at
// the point where it finds them other (its only other call, a tail call: no value lives across it).
// Every rare case's call in a function has the values live across it stored on every frame (the
// compiler stores a value where it is made when the loads after the calls are on many branches):
// fastFrame stored and loaded about 45 a frame so.
//
// It does not test its stack (go:nosplit: two instructions a frame); its frame and sum16's are small,
// and the functions it calls test theirs (the linker checks that the chain without a test fits).
//
//go:nosplit
func (d *Decoder) fastUsual(rec *Record, p *Packet, o *Observation) bool {
	data := rec.Data
	if len(data) < rec.OrigLen {
		return false // snapped
	}
	// The link header's length (fastHdrLen); the Packet written in full (fastFrame), or no fast path; the IP
	// packet b, its capacity its length, at least 20 bytes (its pointer not masked, as that of data[h:]
	// would be), each link type's length tested in its branch: an untagged Ethernet frame's with its
	// EtherType (IPv4: 0x08 0x00, one 16-bit compare), as 14+20 (one Ethernet frame of 14 to 33 bytes
	// is fastLink's, which takes none shorter than 40), so that no length is computed and tested again
	// for the slice.
	// The link types are compared with the Decoder's leanEth, leanRaw and leanIPv4 (LinkEthernet,
	// LinkRaw, LinkIPv4, or noLeanLink, which no link type is, with fullPacket: setFullPacket), so that
	// a frame whose Packet is written in full (fullPacket, or a cooked or VLAN-tagged frame) goes to
	// fastFull from the link's branches, where fullPacket was loaded and tested after the IP header for
	// every frame.
	var b []byte
	if lt := uint32(rec.LinkType); lt == d.leanEth && len(data) >= 34 && binary.LittleEndian.Uint16(data[12:14]) == 0x0008 {
		b = data[14:len(data):len(data)]
	} else if lt == d.leanRaw || lt == d.leanIPv4 {
		if len(data) < 20 {
			return false
		}
		b = data[:len(data):len(data)]
	} else {
		return d.fastFull(rec, p, o)
	}
	// fastLen(b), written out (fastLen is inlined only where default.pgo names its call).
	ob := (*[20]byte)(unsafe.Pointer(unsafe.SliceData(b))) // (len(b) >= 20, tested in each link's branch, which the conversion tested again after their join; its first 8 bytes in two words: head8, written out, as len16 and sum20w)
	var w0, w1 uint32
	if w0, w1 = binary.LittleEndian.Uint32(ob[0:4]), binary.LittleEndian.Uint32(ob[4:8]); byte(w0) != 0x45 || w1&0xff3f0000 != 0 {
		return false // (the test on the loads' line: the loads' inline marks take its instructions, not NOPs of their own)
	}
	tl := int(binary.BigEndian.Uint16(ob[2:4]))
	if tl > len(b) || tl > gsoThreshold || !sumOKFrom(uint64(w0)+uint64(w1)+sum12(ob)) { // (tl < 20: below; sumOKFrom: see sum20w)
		return false
	}
	// (A frame whose Packet is not written lean went to fastFull above.)
	//
	//
	//
	//
	//
	var in []byte // a tunnel packet's: b is its outer IP header, in the inner one
	var encap Encap
	if ob[9] == 4 { // (the outer header read through ob alone: b is not known to be 20 bytes long)
		if tl < 40 { // len(in) < 20
			return false
		}
		in, encap = b[20:tl:tl], EncapIPIP
		ib := (*[20]byte)(in) // fastLen(in), as above
		if w0, w1 = binary.LittleEndian.Uint32(ib[0:4]), binary.LittleEndian.Uint32(ib[4:8]); byte(w0) != 0x45 || w1&0xff3f0000 != 0 {
			return false
		}
		if tl = int(binary.BigEndian.Uint16(ib[2:4])); tl > len(in) || tl > gsoThreshold || !sumOKFrom(uint64(w0)+uint64(w1)+sum12(ib)) {
			return false
		}
		in = in[:tl:tl]
	} else if ob[9] == 17 && len(b) >= 24 && binary.LittleEndian.Uint16(b[22:24]) == d.vxlanWire {
		// VXLAN: fastVXLAN(b[:tl]) without its call. The outer datagram, UDP(8) VXLAN(8) Ethernet(14),
		// carries an IPv4 header (tl >= 70: len(in) >= 20 below); one with an outer UDP checksum is
		// fastFrame's, which verifies it (sum16: a call here).
		if tl < 70 {
			return false
		}
		u := (*[50]byte)(b[20:tl])
		if u[8]&0x08 == 0 || binary.LittleEndian.Uint16(u[28:30]) != 0x0008 { // (the EtherType, as the checksum below, one 16-bit compare)
			return false // no VNI (ErrBadVXLAN), or not IPv4
		}
		if binary.LittleEndian.Uint16(u[6:8]) != 0 {
			return d.fastFrame(rec, p, o)
		}
		// The VNI, written here (p is reset or written whole by the path the frame takes if it leaves
		// fastUsual after this), is read back for the header context's key below.
		in, encap, p.VNI = b[50:tl:tl], EncapVXLAN, binary.BigEndian.Uint32(u[12:16])>>8
		ib := (*[20]byte)(in) // fastLen(in), as above
		if w0, w1 = binary.LittleEndian.Uint32(ib[0:4]), binary.LittleEndian.Uint32(ib[4:8]); byte(w0) != 0x45 || w1&0xff3f0000 != 0 {
			return false
		}
		if tl = int(binary.BigEndian.Uint16(ib[2:4])); tl > len(in) || tl > gsoThreshold || !sumOKFrom(uint64(w0)+uint64(w1)+sum12(ib)) {
			return false
		}
		in = in[:tl:tl]
	} else {
		in, encap = b[:tl:tl], EncapNone
	}
	// A total length below 20 (fastLen's first test) is one below 28, as is one below 40 or 70 above:
	// tested here once, before anything is written (or fastFrame called) for the frame, for each header.
	// tl is in's total length from here, and in ends there (its length and capacity tl: the transport
	// segment, in[20:], is read at offsets into in, through arrays of the header's length, and sliced
	// only for the checksum's call, so that no slice of it with its masked pointer is made and kept).
	// Each branch above ends in at tl (found there to be no more than its length: no bounds test), and
	// the test here is of len(in), the same value, which proves t's length (a slice to tl after the
	// branches took a bounds test and a move a frame).
	// Every protocol taken below needs the transport header's first 8 bytes (tl >= 28): tested once
	// here, the IP header and those bytes are read through t without a test of in's length each.
	if len(in) < 28 {
		return false
	}
	t := (*[28]byte)(in)
	proto := t[9]
	// The transport header: complete, its checksum right (an offload placeholder is not), summed at the end.
	// (Tested in the order UDP, TCP, ICMP, as ifs: a switch of three cases tests them in their
	// numeric order, three comparisons for UDP; here it takes one, TCP two as before.)
	hl := 8
	if proto == 17 {
		// (NewDecoder set both ports, their defaults where unset: fastFrame's tests for 0 are moot; the
		// ports compared in network order, as they lie in the frame: vxlanWire, wgWire)
		if sp, dp := binary.LittleEndian.Uint16(t[20:22]), binary.LittleEndian.Uint16(t[22:24]); dp == d.vxlanWire || sp == d.wgWire || dp == d.wgWire {
			return false
		}
	} else if proto == 6 {
		if len(in) < 40 { // (tl, as len(in): the bound of in[32] below proved, where tl's test left its test)
			return false
		}
		if hl = int(in[32]&0xf0) >> 2; hl != 20 { // (the data offset times 4: one shift, no zero-extension after it)
			if hl < 20 || hl > tl-20 {
				return false
			}
			// TCP options: nothing reads them of a lean Packet, but a malformed one is the usual
			// path's (ErrBadOption), as tcpOptions finds it: tested here without a call (no value
			// lives across one), and such a frame handed to fastFrame as before.
			for op := in[40 : 20+hl]; len(op) > 0 && op[0] != 0; {
				if op[0] == 1 {
					op = op[1:]
				} else if len(op) < 2 || op[1] < 2 || int(op[1]) > len(op) {
					return d.fastFrame(rec, p, o)
				} else {
					op = op[op[1]:]
				}
			}
		}
	} else if proto != 1 || t[20] != 0 && t[20] != 8 { // ICMP: echo reply or request only
		return false
	}
	// The shape of the frame before's but maybe its protocol, written lean: p holds that frame's
	// fields, of which this one writes those that differ from frame to frame (its link type,
	// encapsulation and HasEth are the shape's, its parts d.parts; a lean Packet holds no field of the
	// protocol's that anything reads: a TCP header's options, which fastFrame writes (tcpOptions) but
	// fastUsual does not, are no part of its shape).
	shape := uint32(rec.LinkType)<<shapeLinkShift | uint32(encap)<<shapeEncapShift | uint32(proto) | d.leanShape
	if (shape^d.fastShape)&^0xff != 0 { // (shapeSumFirst too: the frames after a failed checksum are fastFrame's)
		return d.fastFrame(rec, p, o)
	}
	d.fastShape = shape
	// (o: the Observation's place, the collector's slot in the scan, written here in full but Source and TsLo)
	*o = Observation{}
	tos := t[1]
	if encap != EncapNone || tos != 0 { // the header context
		// (p.VNI: this frame's, written above, or 0: p was reset when the shape changed, and the
		// shape says whether a frame is VXLAN)
		// (Before the first context, lastKey is the zero key, which no key of a context is, as each
		// has ctxKeyValid: k differs from it, and haveCtx is tested below, only then.)
		if k := fastCtxKey(encap, tos, p.VNI, ob[:]); d.lastKey != k {
			// switchCtx when k is one of the recent contexts (the two directions of a tunnel alternate
			// so); any other change is fastFrame's. The three slots in turn, written out (a loop kept its
			// index, d and the shape on the stack). A slot is recentOK only once haveCtx is set (switchCtx,
			// and nothing clears it): no test of haveCtx. (nc: d.cur not loaded again after the stores)
			// Each slot's swap written out (recentSwap, inlined: a constant slot, no bounds test).
			if d.recentOK[0] && d.ctxs[d.recent[0]&3].key == k {
				d.recentSwap(0, k)
			} else if d.recentOK[1] && d.ctxs[d.recent[1]&3].key == k {
				d.recentSwap(1, k)
			} else if d.recentOK[2] && d.ctxs[d.recent[2]&3].key == k {
				d.recentSwap(2, k)
			} else {
				return d.fastFrame(rec, p, o)
			}
		} else if d.ctxIdx == ctxOverflow { // (a recent slot's context is not: recentOK; fastFrame takes no such frame, so this is the last frame's, with no context)
			return false // the usual path's, as fastFrame hands it: the scan tests for ctxOverflow only there
		}
		o.Ctx = d.ctxIdx
	}
	p.Errs = 0              // (p.Loose: the caller's, from d.fastLoose)
	if encap != EncapNone { // of putIPv4(&p.Outer, b, tl), what is read of a lean Packet's outer header (Options.leanPacket)
		ip := &p.Outer                               // (ob: the outer header)
		ip.TTL = ob[8]                               // (the merged probe's)
		*(*[4]byte)(ip.Src[:4]) = [4]byte(ob[12:16]) // (Traffic.addFast's; one assignment each: as one, the first went through the stack)
		*(*[4]byte)(ip.Dst[:4]) = [4]byte(ob[16:20])
	}
	ih := &p.Inner
	*(*[4]byte)(ih.Src[:4]) = [4]byte(t[12:16])
	*(*[4]byte)(ih.Dst[:4]) = [4]byte(t[16:20])
	ih.TOS = tos
	probeFields(p, rec, in, shape&shapeProbe != 0) // (the test on the call's line: its inline mark takes it, not a NOP of its own)

	// The Observation, as Observe makes it (Observe adds the Source), and the fingerprint.
	// (t: the IP header and the transport header's first 8 bytes, tl >= 28 above)
	// The ports, Sport and Dport side by side, as one 4-byte load, byte swap, rotation and store:
	// the two big-endian halves' words in their order (the compiler joins the two stores).
	pp := bits.RotateLeft32(binary.BigEndian.Uint32(t[20:24]), 16)
	o.Sport, o.Dport = uint16(pp), uint16(pp>>16)
	var tw, tf uint64 // the fingerprint's transport fields (see Fingerprint)
	// (UDP, TCP, ICMP: as above)
	if proto == 17 {
		tf = uint64(binary.BigEndian.Uint16(t[24:26])) // the UDP length
	} else if proto == 6 {
		th := (*[40]byte)(unsafe.Pointer(unsafe.SliceData(in))) // (len(in) >= 40: the TCP branch above; the conversion tested it again)
		seq, flags := binary.BigEndian.Uint32(th[24:28]), th[33]
		tw, tf = uint64(seq)<<32|uint64(binary.BigEndian.Uint32(th[28:32])), uint64(flags)
		o.Seq = seq
		o.TCPFlags = flags
	} else { // ICMP (decodeL4 sets no ports for it)
		typ, code, seq := t[20], t[21], binary.BigEndian.Uint16(t[26:28])
		tf = uint64(typ)<<40 ^ uint64(code)<<32 ^ uint64(seq)
		o.Sport, o.Dport = uint16(typ), uint16(code)
		o.Seq = uint32(binary.BigEndian.Uint16(t[24:26]))<<16 | uint32(seq)
	}
	i := 20 + hl // the payload's offset in in, and its length
	n := tl - i
	var lo, hi, m uint64 // its first m = min(payloadHashBytes, n) bytes (see fastFingerprint)
	if j := i + payloadHashBytes; j <= tl {
		q := (*[payloadHashBytes]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(in)), i)) // in[i:j], n >= payloadHashBytes: 28 <= i < j <= tl, its length (in[i:j:j] tested i <= j <= tl again: three instructions a frame)
		lo, hi, m = binary.LittleEndian.Uint64(q[0:8]), binary.LittleEndian.Uint64(q[8:16]), payloadHashBytes
	} else {
		lo, hi = payloadShort(in, i, n)
		m = uint64(n) // (m in each branch: no min of n)
	}
	hdr := uint64(4)<<56 | uint64(proto)<<48 | uint64(binary.BigEndian.Uint16(t[4:6]))
	fp := mum(hdr^fpK[0], uint64(uint32(n))^fpK[1]) ^ mum(tw^fpK[2], tf^fpK[3])
	fp ^= mum(lo^fpK[4], hi^m^fpK[5])
	d.fastLoose = mix64(fp) // fastFingerprint
	// (DF, 0x40 of byte 6, shifted to FlagDF, 0x80: no branch)
	o.Flags = Flags(encap) | Flags(CsumOK)<<FlagCsumShift | Flags(t[6]&0x40)<<1
	sd := bits.RotateLeft64(binary.BigEndian.Uint64(t[12:20]), 32) // (Src and Dst side by side: as the ports)
	o.Src, o.Dst = uint32(sd), uint32(sd>>32)
	o.Proto = t[9] // (read again here and for the checksum's test: proto is not live past the fingerprint, nor stored to the stack for these)
	o.TTL = t[8]
	o.Len = uint16(tl)
	o.HdrLen = uint8(20 + hl)
	// The transport segment's checksum, tested last (across the call only d is live).
	// TCP's and UDP's pseudo-header (pseudoSum4): its addresses are the IP header's last 8 bytes, just
	// before the segment and at an even offset from it (the same 16-bit words), summed with it; its
	// protocol and length added to the sum the call starts from.
	// Its sum starts from that, not 0: sum16's is not 0 then, and the verdict is its divisibility by
	// 0xffff alone (sumOKFrom), which is that of sumSwap's sum from the start times 2^8 (see sumSwap:
	// the segment's words without sum16's rotation and fold, its pointer and length, not a slice).
	// sumTransport4 makes that start, the words' pointer and their count from the header's pointer and
	// tl itself (two arguments stored, where three were computed and stored: five instructions a frame).
	// ICMP's checksum has no pseudo-header: its sum, from 0, is sumOK's.
	// (A UDP datagram sent without a checksum is not summed.)
	if proto := t[9]; proto == 1 {
		if !sumOK(sum16(0, in[20:])) {
			d.sumFirst = sumFirstRun
			return false // (d.parts and d.fastShape are this frame's: the same shape's as the frame before's)
		}
	} else if (proto != 17 || binary.LittleEndian.Uint16(t[26:28]) != 0) && sumTransport4(&t[0], tl)%0xffff != 0 { // (tl >= 28: sumTransport4)
		d.sumFirst = sumFirstRun
		return false // (as above)
	}
	return true
}

// recentSwap makes the context of recent slot slot, of key k, the last one, as switchCtx does: the last
// one moves to that slot (recentOK when it was kept: not ctxOverflow). The last key is k (the slot's
// context's, which fastUsual found equal), not loaded again.
func (d *Decoder) recentSwap(slot int, k ctxKey) {
	nc := d.recent[slot]
	d.cur, d.recent[slot] = nc, d.cur
	d.recentOK[slot] = d.ctxIdx != ctxOverflow
	d.lastKey, d.ctxIdx = k, d.ctxs[nc&3].idx
}

// sumOKFrom is sumOK of a sum16 sum that started from a value other than 0, which is not 0 itself
// (sum16's words are added with end-around carry: a sum of two terms not both 0 is not 0, and the fold
// of a 64-bit value not 0 is not 0 either): its test of 0 left out.
func sumOKFrom(s uint64) bool {
	return s%0xffff == 0
}

// fastUsual's flags take DF (0x40 of an IPv4 header's byte 6) shifted left by one as FlagDF: a compile
// error if FlagDF is not 0x80.
var _ = [1]struct{}{}[FlagDF-0x80]

// fastUsual reads an IPv4 header's first 8 bytes as two little-endian words, w0 (the version and
// header length in its low byte) and w1 (the flags and fragment offset in its high half: w1&0xff3f0000
// is 0 when MF and the offset are): its tests and its sum (sum20: w0 + w1 + sum12) from them, each
// byte loaded once, where a test of each byte (b[0], b[6], b[7]) was a load of its own and the sum's
// first word was made again from the bytes loaded for the tests and the length (about 10 instructions
// a header more). TestHead8 holds the words' tests to the bytes'.

// sum20w: fastUsual's sum of an IPv4 header, w0 + w1 + sum12, adds its five 32-bit words without
// carries lost (in 64 bits), after its first byte was found to be 0x45: it is not 0, and sumOKFrom, the
// divisibility test alone, gives sumOK's verdict (TestHead8 holds the two to each other).

// sum12 is the sum (as sum20's) of the IPv4 header h's last 12 bytes.
func sum12(h *[20]byte) uint64 {
	// (one line: each load's inline mark takes an addition of the line, not a NOP of its own)
	return uint64(binary.LittleEndian.Uint32(h[8:12])) + uint64(binary.LittleEndian.Uint32(h[12:16])) + uint64(binary.LittleEndian.Uint32(h[16:20]))
}

// probeFields writes into the lean Packet p of a frame rec of shape shape (in: its inner IPv4 packet) what the merged probe reads of it besides the lean Packet's fields, when the probe reads
// the scan's frames (shapeProbe): an Ethernet frame's MACs, the inner header's version and TTL (the
// outer header's TTL is the lean Packet's). probeState.add and hop read nothing else of a frame of the
// fast path's (IPv4 without fragments, TCP, UDP or ICMP echo, no ARP, no WireGuard): the probe tells a
// file so as on the Packet in full (TestFastPathLikeSlow's probe Decoder, TestProbeInScanVerdict).
// It reads the frame through rec, not as a slice its caller holds: fastUsual's frame is then not live
// (nor kept on the stack) past its link header for the few frames the probe reads.
func probeFields(p *Packet, rec *Record, in []byte, probe bool) {
	if !probe {
		return
	}
	if p.HasEth {
		data := rec.Data
		p.DstMAC = [6]byte(data[0:6]) // (one assignment each: as one, both went through the stack)
		p.SrcMAC = [6]byte(data[6:12])
	}
	p.Inner.Version, p.Inner.TTL = 4, in[8]
}

// leanVNI returns the VNI of a packet of encapsulation encap whose outer IPv4 header is at the start
// of b (0 but for VXLAN), as a lean Packet holds it: the one field of the VXLAN header that anything
// reads of such a Packet (its header context's).
func leanVNI(b []byte, encap Encap) uint32 {
	if encap != EncapVXLAN {
		return 0
	}
	return binary.BigEndian.Uint32(b[32:36]) >> 8
}

// payloadShort is payloadTail(w, n) for a payload of n < payloadHashBytes bytes at offset i of w, which
// ends there and is at least 8 bytes long: its last n%8 bytes (the word after a first whole one when
// n >= 8) as the last 8 bytes of w shifted down by 64-8(n%8) bits, by 1 and then by 63-8(n%8), which
// is ^(8n) modulo 64 (as sum16's tail: no shift of 64, which x86 would take as 0), so that the
// compiler masks no shift, where payloadTail's shifts of up to 128 bits cost about 20 instructions
// of masks and moves. TestPayloadShort holds it to payloadTail.
func payloadShort(w []byte, i, n int) (lo, hi uint64) {
	x := binary.LittleEndian.Uint64(w[len(w)-8:]) >> 1 >> (^(uint(n) << 3) & 63)
	if n >= 8 {
		return binary.LittleEndian.Uint64(w[i : i+8 : i+8]), x
	}
	return x, 0
}

// fastFrame decodes rec into p, as resetDecoded(p, d.parts), decodeFrame and decodeWireGuard do, when
// rec is a frame of the usual shape (see above), and writes its Observation into o (all but TsLo and
// Source, as Observe would make it) and keeps its fingerprint in d.fastLoose (decodeReusedObs passes
// d.fastObs for Observe; the scan its Observation's place, and takes the rest itself). It returns
// false for any other frame; p and d are then as they were, but that p may be changed (d.parts then
// says which of its parts: 0, unknown, or those of a frame whose checksum failed, tested last), and a
// frame whose checksum failed may have made its header context the last one (as the usual path makes
// it, finding it so: the same context, interned at the same frame).
//
// When the frame before was one of the same shape (d.fastShape), p is not reset: this frame writes
// every field that one wrote (but Errs and Loose, which the scan and Observe set since and which are
// zeroed here), and leaves the others zero as they are.
//
// The calls in fastFrame keep their line offsets in it, by which default.pgo names them.
func (d *Decoder) fastFrame(rec *Record, p *Packet, o *Observation) bool {
	// fastUsual, which calls it, read the frame's link header and its IP header (of the usual shape:
	// fastLen) already: the lines that did so here before it are these now (the calls below keep their offsets).
	h := fastHdrLen(rec.LinkType, rec.Data) // the link header's length, as fastUsual found it (not kept there: a register a frame)
	b := rec.Data[h:]                       // the IP packet, after the link header
	tl := int(b[2])<<8 | int(b[3])
	shape := uint32(rec.LinkType) << shapeLinkShift
	if h != 0 && h != 14 {
		shape |= shapeLink // a link header that fastLink read
	}
	// The frames fastUsual hands over: cooked and VLAN-tagged frames, VXLAN, TCP options, a Packet
	// in full (the merged probe reads it), a change of shape or of header context not met recently,
	// and the frames after a failed checksum. Few in a capture of one interface but VXLAN: the same
	// shape and context run on for thousands of frames.
	//
	// (These comment lines stand where the lines that read the link header and the IP header were
	// before fastUsual read them, so that the calls below keep their offsets in fastFrame, by which
	// default.pgo names them: Go's profile-guided inlining finds a call by its line's offset from
	// the function's first line.)
	//
	in, encap, shape := b, EncapNone, shape|uint32(b[9]) // a tunnel packet's: b is its outer IP header, in the inner one
	if b[9] == 4 || b[9] == 17 && len(b) >= 24 && binary.BigEndian.Uint16(b[22:24]) == d.opts.VXLANPort {
		in, encap = b[20:tl], EncapIPIP // IP-in-IP, or VXLAN: this header is the outer one
		if b[9] == 17 {
			in, encap = fastVXLAN(b[:tl]), EncapVXLAN // nil: not of the usual shape
		}
		if tl = fastLen(in); tl == 0 {
			return false
		}
		shape = shape&^0xff | uint32(encap)<<shapeEncapShift | uint32(in[9])
	}
	pl := in[20:tl]
	// The transport header: complete, its checksum right (an offload placeholder is not), summed below.
	ps := uint64(binary.BigEndian.Uint32(in[12:16])) + uint64(binary.BigEndian.Uint32(in[16:20])) +
		uint64(in[9]) + uint64(len(pl)) // pseudoSum4
	hl := 8
	switch in[9] {
	case 6:
		if len(pl) < 20 {
			return false
		}
		hl = int(pl[12]>>4) * 4
		if hl < 20 || hl > len(pl) {
			return false
		}
		if hl > 20 {
			shape |= shapeOptions
		}
	case 17:
		if len(pl) < 8 {
			return false
		}
		sp, dp := binary.BigEndian.Uint16(pl[0:2]), binary.BigEndian.Uint16(pl[2:4])
		vx, wg := d.opts.VXLANPort, d.opts.WireGuardPort
		if vx == 0 {
			vx = DefaultVXLANPort
		}
		if dp == vx || sp == wg || dp == wg || wg == 0 {
			return false
		}
		if pl[6] == 0 && pl[7] == 0 {
			ps = noSum // a UDP datagram sent without a checksum
		}
	case 1:
		if len(pl) < 8 || (pl[0] != 0 && pl[0] != 8) { // echo reply or request only
			return false
		}
		ps = 0 // ICMP's checksum has no pseudo-header
	default:
		return false
	}
	if d.sumFirst != 0 { // the sum is tested at the end (fewer values live across the call), but here after a failed one
		if ps = d.sumEarly(ps, pl); ps == sumFailed {
			return false
		}
	}
	lean := d.opts.leanPacket && d.merged == nil && shape&shapeLink == 0 // the Packet in full unless lean: see Options.leanPacket
	if lean {
		shape = shape&^shapeOptions | d.leanShape // (a lean Packet's TCP options are read by no one)
	}
	if shape&shapeOptions != 0 || shape != d.fastShape&^shapeSumFirst {
		resetDecoded(p, d.parts)
	}
	d.parts, d.fastShape = 0, 0 // until the frame is done
	p.Errs, p.Loose = 0, 0
	p.LinkType = rec.LinkType
	parts := partsKnown
	if encap != EncapNone {
		p.Encap = encap
		putIPv4(&p.Outer, b, int(b[2])<<8|int(b[3]))
		parts |= partOuter
	}
	proto := in[9]
	if !lean {
		parts |= fastPacket(p, rec, b, in, pl, tl, hl, encap, shape)
	} else {
		// What the scan, the Traffic and a header context read of the Packet besides the above.
		p.HasEth = rec.LinkType == LinkEthernet
		ih := &p.Inner
		*(*[4]byte)(ih.Src[:4]), *(*[4]byte)(ih.Dst[:4]) = [4]byte(in[12:16]), [4]byte(in[16:20])
		ih.TOS, p.VNI = in[1], leanVNI(b, encap)       // (the VNI: hdrCtx, switchCtx below)
		probeFields(p, rec, in, shape&shapeProbe != 0) // (on the line of one of the two above before: the calls below keep their offsets)
		if hl > 20 {
			tcpOptions(pl[20:hl], p, false)
		}
	}
	if p.Errs != 0 { // a malformed TCP option: the usual path records it
		return false
	}

	// The Observation, as Observe makes it (Observe adds the Source), and the fingerprint.
	// (o: as fastUsual's)
	*o = Observation{}
	o.Sport = binary.BigEndian.Uint16(pl[0:2])
	o.Dport = binary.BigEndian.Uint16(pl[2:4])
	var tw, tf uint64 // the fingerprint's transport fields (see Fingerprint)
	switch proto {
	case 6:
		seq, flags := binary.BigEndian.Uint32(pl[4:8]), pl[13]
		tw, tf = uint64(seq)<<32|uint64(binary.BigEndian.Uint32(pl[8:12])), uint64(flags)
		o.Seq = seq
		o.TCPFlags = flags
	case 17:
		tf = uint64(binary.BigEndian.Uint16(pl[4:6])) // the UDP length
	case 1: // decodeL4 sets no ports for ICMP
		typ, code, seq := pl[0], pl[1], binary.BigEndian.Uint16(pl[6:8])
		tf = uint64(typ)<<40 ^ uint64(code)<<32 ^ uint64(seq)
		o.Sport, o.Dport = uint16(typ), uint16(code)
		o.Seq = uint32(binary.BigEndian.Uint16(pl[4:6]))<<16 | uint32(seq)
	}
	d.parts, d.fastShape = parts, shape|sumFirstShape(d.sumFirst) // (fastUsual hands the frame after to fastFrame while sumFirst runs)
	d.fastLoose = fastFingerprint(uint64(4)<<56|uint64(proto)<<48|uint64(binary.BigEndian.Uint16(in[4:6])), len(pl)-hl,
		tw, tf, pl[hl:])
	f := Flags(encap) | Flags(CsumOK)<<FlagCsumShift
	if in[6]&0x40 != 0 {
		f |= FlagDF
	}
	o.Flags = f
	o.Src = binary.BigEndian.Uint32(in[12:16])
	o.Dst = binary.BigEndian.Uint32(in[16:20])
	o.Proto = proto
	o.TTL = in[8]
	o.Len = uint16(tl)
	o.HdrLen = uint8(20 + hl)
	if tos := in[1]; encap != EncapNone || tos != 0 {
		if k := fastCtxKey(encap, tos, p.VNI, b); !d.haveCtx || d.lastKey != k { // ctxOf(&d.ctxs[d.cur].c, p)
			d.switchCtx(p, k)
		}
		if o.Ctx = d.ctxIdx; o.Ctx == ctxOverflow { // a context that did not fit: the frame is the usual path's, where the scan tests for it (as the checksum's failure below: d.parts and fastShape this frame's)
			return false
		}
	}
	if p.PktType == 4 { // (set by cooked frames only)
		o.Flags |= FlagOutbound
	}
	// The transport segment's checksum, once for the three protocols (a TCP/UDP placeholder left for offload fails), tested last: across the call only d is live, where a test before the writes above kept a dozen values live across it (spilled and loaded again: about 40 instructions a frame).
	if ps != noSum && !sumOK(sum16(ps, pl)) {
		d.sumFirst = sumFirstRun
		return false
	}
	return true
}

// fastFull is fastUsual for a frame whose Packet is not written lean (a cooked or VLAN-tagged frame,
// one without Options.leanPacket, a merged capture's: Decoder.fullPacket), or with every fingerprint
// made from the headers alone (SnapMatch other than SnapWhole), which the fast path does not make: the
// frame goes to fastFrame when its link header is one fastUsual takes (fastHdrLen's: an untagged
// Ethernet frame of IPv4, a raw or IPv4 link type, fastLink's) and its IPv4 header is of fastLen's
// shape, as fastUsual's tests found it before it handed such a frame to fastFrame. rec's frame is not
// snapped (fastUsual's first test).
func (d *Decoder) fastFull(rec *Record, p *Packet, o *Observation) bool {
	data := rec.Data
	h := 0
	if lt := rec.LinkType; lt == LinkEthernet && len(data) >= 34 && binary.LittleEndian.Uint16(data[12:14]) == 0x0008 {
		h = 14
	} else if lt == LinkRaw || lt == LinkIPv4 {
		if len(data) < 20 {
			return false
		}
	} else if h = fastLink(lt, data); h == 0 || len(data)-h < 20 {
		return false
	}
	if d.opts.SnapMatch != SnapWhole || fastLen(data[h:]) == 0 { // (fastFrame's frame is of fastLen's shape)
		return false
	}
	return d.fastFrame(rec, p, o)
}

// noLeanLink is the Decoder's leanEth, leanRaw and leanIPv4 with fullPacket: above every link type.
const noLeanLink = 1 << 16

// setFullPacket sets the Decoder's fullPacket to full, and the link types fastUsual writes a lean Packet
// of with it: LinkEthernet, LinkRaw and LinkIPv4, or none (noLeanLink) when full.
func (d *Decoder) setFullPacket(full bool) {
	d.fullPacket = full
	d.leanEth, d.leanRaw, d.leanIPv4 = uint32(LinkEthernet), uint32(LinkRaw), uint32(LinkIPv4)
	if full {
		d.leanEth, d.leanRaw, d.leanIPv4 = noLeanLink, noLeanLink, noLeanLink
	}
}

// fastHdrLen is the length of the link header of the frame data of link type lt, as fastUsual finds it
// before it hands the frame to fastFrame: 14 for an untagged Ethernet frame of IPv4, 0 for a raw or
// IPv4 link type, fastLink's for a cooked or VLAN-tagged frame.
func fastHdrLen(lt LinkType, data []byte) int {
	switch {
	case lt == LinkEthernet && len(data) >= 34 && binary.LittleEndian.Uint16(data[12:14]) == 0x0008:
		return 14
	case lt == LinkRaw || lt == LinkIPv4:
		return 0
	}
	return fastLink(lt, data)
}

// sumEarly tests the checksum of a transport segment pl (ps: the sum its check starts from, noSum for
// none) before fastFrame writes anything, as it does for the sumFirstRun frames after a frame whose
// checksum failed. It returns noSum when the checksum is right (or there is none) and sumFailed when
// it is not.
func (d *Decoder) sumEarly(ps uint64, pl []byte) uint64 {
	d.sumFirst--
	if ps == noSum || sumOK(sum16(ps, pl)) {
		return noSum
	}
	d.sumFirst = sumFirstRun
	return sumFailed
}

// sumFirstRun is how many frames fastFrame tests the checksum of first, before it writes anything,
// after a frame whose checksum failed. A capture with checksum offload holds many such frames (those a
// pod or the node sends leave the placeholder), which the usual path decodes: testing them last would
// have fastFrame write the Packet, the Observation and the fingerprint of each for nothing (about 120
// instructions); where every checksum is right, it tests them last.
const sumFirstRun = 256

// sumFailed is what sumEarly returns for a checksum that is wrong (above any sum, as noSum).
const sumFailed = noSum - 1

// fastPacket writes into p what fastFrame's Packet holds besides what fastFrame writes itself (its
// link type, encapsulation and outer header), as decodeFrame does: data is rec's frame, b its IP packet
// (the outer one of a tunnel packet), in the inner IP packet (of total length tl), pl its transport
// segment (a header of hl bytes). It returns the parts it wrote (see resetDecoded); a malformed TCP
// option leaves its error in p.Errs.
func fastPacket(p *Packet, rec *Record, b, in, pl []byte, tl, hl int, encap Encap, shape uint32) uint8 {
	data := rec.Data
	var parts uint8
	p.CapLen = len(data)
	p.OrigLen = rec.OrigLen
	p.Checksum = CsumOK
	if rec.LinkType == LinkEthernet {
		p.HasEth = true
		p.DstMAC = [6]byte(data[0:6])
		p.SrcMAC = [6]byte(data[6:12])
		p.EtherType = 0x0800
	}
	if shape&shapeOther != 0 {
		fastOther(p, data, b, encap)
	}
	putIPv4(&p.Inner, in, tl)
	p.Payload = pl[hl:]
	p.PayloadLen = len(pl) - hl
	sport, dport := binary.BigEndian.Uint16(pl[0:2]), binary.BigEndian.Uint16(pl[2:4])
	switch in[9] {
	case 6:
		p.Sport, p.Dport = sport, dport
		t := &p.TCP
		p.HasTCP = true
		t.Seq = binary.BigEndian.Uint32(pl[4:8])
		t.Ack = binary.BigEndian.Uint32(pl[8:12])
		t.Flags = pl[13]
		t.Window = binary.BigEndian.Uint16(pl[14:16])
		t.Checksum = binary.BigEndian.Uint16(pl[16:18])
		t.WScale = 0xff
		t.HdrLen = uint8(hl)
		if hl > 20 {
			tcpOptions(pl[20:hl], p, false)
		}
	case 17:
		p.Sport, p.Dport = sport, dport
		p.HasUDP = true
		p.UDPLen = binary.BigEndian.Uint16(pl[4:6])
		p.UDPChecksum = binary.BigEndian.Uint16(pl[6:8])
	case 1: // decodeL4 sets no ports for ICMP
		p.HasICMP = true
		ic := &p.ICMP
		ic.Type, ic.Code = pl[0], pl[1]
		ic.Checksum = binary.BigEndian.Uint16(pl[2:4])
		ic.ID = binary.BigEndian.Uint16(pl[4:6])
		ic.Seq = binary.BigEndian.Uint16(pl[6:8])
		parts |= partICMP
	}
	return parts
}

// fastFingerprint is Fingerprint of an IP packet that is neither ARP nor WireGuard, whose payload's
// first min(payloadHashBytes, payloadLen) bytes were captured: hdr is its header word, payloadLen its
// payload length, tw and tf its transport word and fields. Fingerprint ends with it too.
func fastFingerprint(hdr uint64, payloadLen int, tw, tf uint64, payload []byte) uint64 {
	h := mum(hdr^fpK[0], uint64(uint32(payloadLen))^fpK[1]) ^ mum(tw^fpK[2], tf^fpK[3])
	n := min(payloadHashBytes, payloadLen)
	var lo, hi uint64
	if n == payloadHashBytes {
		lo, hi = binary.LittleEndian.Uint64(payload[0:8]), binary.LittleEndian.Uint64(payload[8:16])
	} else {
		var buf [payloadHashBytes]byte
		copy(buf[:], payload[:n])
		lo, hi = binary.LittleEndian.Uint64(buf[0:8]), binary.LittleEndian.Uint64(buf[8:16])
	}
	h ^= mum(lo^fpK[4], hi^uint64(n)^fpK[5])
	return mix64(h)
}

// noSum is fastFrame's starting sum for a transport segment without a checksum (above any real one,
// which is below 2^35).
const noSum = ^uint64(0)

// noFast is what Traffic.addFast returns for a frame the fast path did not take.
const noFast = ^uint64(0)

// calicoMAC48 is CalicoMAC as macBits reads it.
const calicoMAC48 = 0xeeeeeeeeeeee

// addFast is t.add(rec.Frame, rec.Ts, rec.FracOver, p, p.Loose) for the frame the fast path decoded
// into p (shape: its Decoder's fastShape), counting from what the fast path read: such a frame is
// IPv4, neither ARP nor WireGuard, its outer header (if any) IPv4, its link header Ethernet (rec.Data
// holding its MACs, at least 40 bytes), cooked or none, so add's other cases cannot arise. For a frame
// of the usual path (shape 0) it counts nothing and returns noFast: the scan then calls add. The
// counts that a frame's link type, link addresses and encapsulation decide (CalicoMAC, IPIP, VXLAN,
// Plain, NoLinkAddr, VTEPMAC, OtherMAC) are added for a run of such frames alike at once, when the
// run ends (endRun). hot reports a frame taken into the main stretch of time in addFast's range
// (Traffic.hotLo): back is then 0, its fraction field did not overflow and the current stretch is the
// main one (the range is set only when it is, and cleared by any other frame's addTime), so that the
// scan need not test those (TestAddFastTimes, checkHot).
func (t *Traffic) addFast(shape uint32, rec *Record, p *Packet) (back uint64, hot bool) {
	if shape == 0 {
		return noFast, false
	}
	//
	// The frame is sampled (as add samples it: its fingerprint and time kept, its MACs added) once
	// its run is known, below, by sampleFrame: where it was sampled here, the flag that said so to
	// there, its fingerprint and its time were stored to the stack on every frame. Samples and MACs
	// are not read in between (addTime, startRun), so what is kept is the same. (These comment lines
	// keep the calls below on the lines default.pgo names.)
	//
	// The frame's time (addTime's usual case, or addTime) is taken last, after the runs, the sample and
	// the address sets (none of which reads the times): its results, back and hot, and the shape are
	// then made after every call here, where before them each was live across the calls below and
	// stored to the stack on every frame (three stores a frame). Nothing between reads or writes what
	// the time block does (hotLo, Last, hotN, the stretches: addTime's), so the counts are the same.
	//
	//
	//
	//
	//
	//
	//
	//
	//
	//
	t.Frames++
	// The link addresses as add takes them, in the low 48 bits (first byte lowest): an Ethernet
	// frame's both, a cooked frame's sender's. With the link type and encapsulation they decide all
	// of add's counts but the address sets: those are counted for a run of frames alike at once.
	var k0, k1 uint64
	switch {
	case p.HasEth:
		k0, k1 = binary.LittleEndian.Uint64((*[12]byte)(rec.Data)[0:8]), uint64(binary.LittleEndian.Uint32((*[12]byte)(rec.Data)[8:12]))
	case p.HasSLL:
		k0, k1 = binary.LittleEndian.Uint64(p.SLLAddr[:]), 1<<32|uint64(p.SLLAlen)|uint64(p.PktType)<<8
	}
	k1 |= uint64(shape&shapeRunKey) << 20 // the encapsulation and link type (as p.Encap and p.LinkType), from bit 34 on
	r := &t.runs[0]
	if r.n == 0 || k0 != r.k0 || k1 != r.k1 {
		if r = &t.runs[1]; r.n == 0 || k0 != r.k0 || k1 != r.k1 {
			r = t.startRun(k0, k1, p)
		}
	}
	r.n++
	if t.NSamples < maxSamples && p.Loose != 0 && (t.NSamples < maxSamples/2 || p.Loose%sampleMod == 0) { // (full: one test)
		t.sampleFrame(rec, p, r)
	}
	// (The frame's MACs are added where add adds them: for a sampled frame, in sampleFrame, as its run
	// says; these comment lines keep the calls below on the lines default.pgo names.)
	//
	//
	in, w := &p.Inner, r.what // (w: loaded once; addAddr's stores could alias r.what)
	if w&runPodSrc != 0 {
		addAddr(&t.PodSrcs, &t.NPodSrc, [4]byte(in.Src[:4]))
	}
	if w&runPodDst != 0 {
		addAddr(&t.PodDsts, &t.NPodDst, [4]byte(in.Dst[:4]))
	}
	if p.Encap != EncapNone && t.NPairs < maxPairs { // (a full set takes no more; newPair: a triple not met just before)
		if osrc, odst, inner := addr32((*[4]byte)(p.Outer.Src[:4])), addr32((*[4]byte)(p.Outer.Dst[:4])), addr32((*[4]byte)(in.Src[:4])); t.newPair(osrc, odst, inner) {
			t.addPair(osrc, odst, inner)
		}
	}
	// addTime's usual case here (in order, in the main stretch of time, which is the current one):
	// its stretch's prev, last and frames kept in hotLo, Last and hotN (see Traffic.hotLo), two
	// comparisons and a store or two; any other frame there (which settles hotN into the stretch).
	// (back and hot: the results, named above)
	if ts := rec.Ts; ts >= t.hotLo && ts <= ^t.hotNotHi && !rec.FracOver {
		t.hotLo = ts // the stretch's prev
		if ts > t.Last {
			t.Last = ts // its last (the range's end stays spanGap past the last when it was set: a
			// frame past it, a day on, is addTime's, which sets it again)
		}
		t.hotN++ // its frames
		return 0, true
		// (an odd frame, FracOver, is addTime's: the next one is not compared with it)
	}
	return t.addTime(rec.Frame, rec.Ts, rec.FracOver), false
}

// sampleFrame is addFast's sample of the frame of rec and p (t.Samples not full), of run r: its
// fingerprint, time and encapsulation kept, and its MACs added when its run counts them (as add does).
func (t *Traffic) sampleFrame(rec *Record, p *Packet, r *trafficRun) {
	t.Samples[t.NSamples] = FrameSample{p.Loose, rec.Ts, p.Encap}
	t.NSamples++
	if r.what&runMAC != 0 {
		t.addMAC(macOf(r.src))
		if p.HasEth {
			t.addMAC(macOf(r.dst))
		}
	}
}

// trafficRun is a run of frames that Traffic.addFast counts at once: frames of one link type,
// encapsulation and link addresses (k0, k1, as addFast packs them), of which n were met since the run
// began, each adding one to the counts in what; the MACs (src and dst, as addFast reads them) for
// the sampled frames.
type trafficRun struct {
	k0, k1   uint64
	n        int
	what     uint16
	src, dst uint64
}

// The counts and sets a frame of a run adds to (trafficRun.what).
const (
	runCalico = 1 << iota
	runIPIP
	runVXLAN
	runPlain
	runNoLinkAddr
	runVTEP
	runOther
	runMAC    // it has link addresses (sampled: addMAC)
	runPodSrc // its inner source goes into PodSrcs
	runPodDst // its inner destination into PodDsts
)

// startRun ends the older of the two runs (the other is kept: a conversation's frames alternate
// between two link address pairs) and starts one for p in its place (the first frame of it, whose
// link addresses and encapsulation addFast packed into k0 and k1): what it adds to each count, as add
// decides it from them, and its link type and sender put in, as add puts them.
func (t *Traffic) startRun(k0, k1 uint64, p *Packet) *trafficRun {
	r := &t.runs[t.older]
	t.older ^= 1
	t.endRun(r)
	var src, dst uint64
	haveMAC := false
	switch {
	case p.HasEth:
		dst, src = k0&(1<<48-1), k0>>48|k1&0xffffffff<<16
		haveMAC = true
	case p.HasSLL && p.SLLAlen == 6:
		src = k0 // (sllAddr left its last two bytes zero)
		haveMAC = true
	}
	var w uint16
	cali := haveMAC && (src == calicoMAC48 || dst == calicoMAC48)
	if cali {
		w |= runCalico
	}
	if haveMAC {
		w |= runMAC
	}
	switch p.Encap {
	case EncapIPIP:
		w |= runIPIP
	case EncapVXLAN:
		w |= runVXLAN
	default:
		w |= runPlain
		if !haveMAC && !p.HasEth && (!p.HasSLL || p.SLLAlen == 0) {
			w |= runNoLinkAddr
		}
		if (p.HasEth && byte(src) == 0x66 && byte(dst) == 0x66) || (p.HasSLL && p.SLLAlen == 6 && byte(src) == 0x66) {
			w |= runVTEP
		}
		if haveMAC && (dst == calicoMAC48 || (p.HasSLL && p.PktType == 0 && src != calicoMAC48)) {
			w |= runPodSrc
		}
		if haveMAC && src == calicoMAC48 {
			w |= runPodDst
		}
	}
	if p.HasEth && !cali && dst&1 == 0 {
		w |= runOther
	}
	*r = trafficRun{k0: k0, k1: k1, what: w, src: src, dst: dst}
	if n := len(t.LinkTypes); n == 0 || t.LinkTypes[n-1] != p.LinkType {
		t.addLink(p.LinkType)
	}
	if haveMAC && (!p.HasSLL || p.PktType != 4) { // a sender put in once is there for the run's other frames
		t.addSender(src)
	}
	return r
}

// endRuns adds the frames of the runs addFast counts to the counts, and forgets them. Every count but
// Frames is complete only after it: the scan calls it at the end of each file.
func (t *Traffic) endRuns() {
	t.settleHot()
	t.armHot() // (as addTime leaves it)
	t.endRun(&t.runs[0])
	t.endRun(&t.runs[1])
	t.older = 0
}

// endRun adds the frames of run r (if any) to the counts, and forgets it.
func (t *Traffic) endRun(r *trafficRun) {
	if r.n == 0 {
		return
	}
	n, w := r.n, r.what
	add := func(c *int, bit uint16) {
		if w&bit != 0 {
			*c += n
		}
	}
	add(&t.CalicoMAC, runCalico)
	add(&t.IPIP, runIPIP)
	add(&t.VXLAN, runVXLAN)
	add(&t.Plain, runPlain)
	add(&t.NoLinkAddr, runNoLinkAddr)
	add(&t.VTEPMAC, runVTEP)
	add(&t.OtherMAC, runOther)
	*r = trafficRun{}
}

// macOf is the MAC in the low 48 bits of m (first byte lowest).
func macOf(m uint64) (a [6]byte) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], m)
	copy(a[:], b[:6])
	return a
}
