package decode

import (
	"encoding/binary"
	"io"
	"math/bits"
)

// Options tune decoding.
type Options struct {
	VXLANPort uint16 // UDP port that carries VXLAN; 0 means 4789
	// WireGuardPort is the UDP port that carries WireGuard; 0 means 51820 (DefaultWireGuardPort).
	WireGuardPort uint16
	// SnapMatch, when not SnapWhole, fingerprints every frame on the fields that frames cut to that
	// Snap level still have (see HeaderFingerprint). Load sets it when a first read found such frames.
	SnapMatch uint8
	// Limits bound how much of each input file is read (zero values: the defaults).
	Limits Limits
	// Done, when closed (a context's Done), stops reading: each file's scan looks at it every 64 Ki
	// frames and stops with ErrStopped, and files not yet begun are not opened.
	Done <-chan struct{}
	// Open, if set, opens each input but "-" (stdin) instead of os.Open: a capture inside a bundle
	// (package bundle's Open streams one out of a tarball). A *os.File it returns is read as a file.
	Open func(path string) (io.ReadCloser, error)
	// splitMerged are the files (by index) to read as a node's captures merged into one file whatever
	// their first records show: a first read found them so (lateMerged).
	splitMerged map[uint16]bool
	// probeInScan says that every input can be read again (Load sets it): a file the scan keeps the
	// frames of (Load's) has its merged probe read the scan's frames (inscan.go) rather than its prefix
	// read and decoded once more before the scan; one it finds merged is read again split.
	probeInScan bool
	// mergedStop, set with probeInScan, is raised by the probe that finds a file merged on the scan's
	// frames: every input is then read again (loadSnapped), so every scan stops (mergeStop).
	mergedStop *mergeStop
	// leanPacket says that nothing reads a frame's Packet after the scan but its Loose (the scan sets it
	// when it keeps the frames in a frameKeeper, as Load does): the fast path then writes only what
	// the scan, the Traffic and the header contexts read of it (link type, encapsulation, outer
	// header, inner addresses and TOS, a VXLAN packet's VNI; of the outer header fastUsual writes only
	// the addresses and the TTL, as it takes only a frame of a recent header context, whose key it
	// reads from the frame, and fastFrame writes the whole header for a frame whose context is made
	// from the Packet), not the rest, for a frame that is not
	// cooked or VLAN-tagged, of a file not split as merged captures (while the merged probe reads the
	// scan's frames, also what it reads: Decoder.leanShape). The Observation and the fingerprint are
	// the same (fastPair: TestFastPathLikeSlow, FuzzFastPath).
	leanPacket bool
}

// Decoder turns Records of one input file into Packets and Observations. It keeps small caches of the
// last capture source and header context so that the common case takes no lock on the shared Tables.
// A Decoder is not safe for concurrent use; use one per file.
type Decoder struct {
	opts Options
	t    *Tables
	file uint16
	// vxlanWire and wgWire are opts.VXLANPort and opts.WireGuardPort as a little-endian 16-bit load of
	// a UDP header's port reads them (byte-swapped: the port in network order), which fastUsual
	// compares with the frame's ports without swapping those.
	vxlanWire, wgWire uint16

	haveSrc bool
	lastSrc Source
	srcIdx  uint16
	// plainIface is 1 + the record interface of lastSrc when lastSrc is that interface's alone (no
	// cooked or merged stage), 0 otherwise; plainLink is the link type of the frame it came from.
	// A frame of that interface and link type has that source again: sourceOf returns it at once.
	plainIface int
	plainLink  LinkType

	// The last header context is ctxs[cur] (once haveCtx); lastKey and ctxIdx are its key and index,
	// which the fast path compares and takes.
	haveCtx bool
	lastKey ctxKey
	ctxIdx  uint16
	cur     uint8
	// recent holds the cells of ctxs with header contexts seen before the last one (those of its slots
	// that are recentOK), so that traffic that alternates between a few contexts (the two directions
	// of a tunnel) takes no lock. A context that overflowed the table is not kept there: each change
	// to it calls InternCtx, which counts it. Switching contexts moves cell numbers, not contexts.
	ctxs       [4]recentCtx
	recent     [3]uint8 // the cells other than cur (NewDecoder)
	recentOK   [3]bool
	recentNext int // the slot to fill next

	v6  map[[16]byte]uint32 // IPv6 addresses this decoder interned already (no lock for those)
	arp map[ARP]uint32      // ARP packets this decoder stored already, as v6
	sll *sllLocal           // a cooked v1 file's local pods (nil until its first such frame)
	// merged is a merged capture's stages (merged.go): nil for another file, or before its first
	// Ethernet frame (mergeChecked: looked for).
	merged       *mergedLocal
	mergeChecked bool
	// fullPacket: every Packet the fast path makes is written in full (fastFrame), none lean: without
	// Options.leanPacket, and in a merged capture's file (merged, whose stages read it) from the
	// scan's look for one on; and with Options.SnapMatch other than SnapWhole, for which the fast path
	// takes no frame (fastUsual tests it then). One test a frame in fastUsual, where it tested three.
	fullPacket bool
	// leanEth, leanRaw and leanIPv4: the link types of the frames fastUsual writes a lean Packet of, as
	// setFullPacket sets them with fullPacket (fastUsual compares a frame's with them).
	leanEth, leanRaw, leanIPv4 uint32
	// inScan is the merged probe reading the scan's own frames (inscan.go), nil when none is.
	inScan *scanProbe
	// vx: the outer address pairs this decoder's file saw VXLAN between (outerfrag.go).
	vx vxlanPairs
	// parts: the parts of the Packet decodeReused filled last that may be non-zero (reset.go).
	parts uint8
	// fastDone: decodeReusedObs took the fast path (fastpath.go) for the frame Observe is to see next,
	// and fastObs and fastLoose are its Observation and fingerprint (the scan calls decodeReused with
	// its Observation's place and takes fastLoose itself: it sets neither fastDone nor fastObs; the
	// merged probe, inscan.go, tells a fast path frame by fastShape, not 0). fastShape is the shape of the
	// frame the fast path decoded last into the Packet of decodeReused (0: the frame there came by
	// the usual path).
	fastDone  bool
	fastObs   Observation
	fastLoose uint64
	fastShape uint32
	// sumFirst counts down the frames for which fastFrame tests the transport checksum before it
	// writes anything (sumEarly), after one whose checksum failed; at 0 it tests it last.
	sumFirst int
	// leanShape is a lean Packet's shape bits: shapeLean, and shapeProbe while the merged probe reads the
	// scan's frames (inScan): the fast path then writes a lean Packet with what the probe reads of it too
	// (probeFields). (One field, where shapeLean was or-ed to a probeShape: an instruction a frame.)
	leanShape uint32
	// probeUsual: sourceNew's first case may be taken (see sourceNew; scanProbe.done clears it).
	probeUsual bool
}

// internARP is Tables.AddARP through the decoder's own cache: an ARP storm repeats a few packets.
func (d *Decoder) internARP(a ARP) uint32 {
	if i, ok := d.arp[a]; ok {
		return i
	}
	if d.arp == nil || len(d.arp) >= 1<<12 { // bounded: start afresh
		d.arp = map[ARP]uint32{}
	}
	i := d.t.AddARP(a)
	d.arp[a] = i
	return i
}

// internV6 is Tables.InternV6 through the decoder's own cache: a flow's addresses recur on every frame.
func (d *Decoder) internV6(a [16]byte) uint32 {
	if i, ok := d.v6[a]; ok {
		return i
	}
	if d.v6 == nil || len(d.v6) >= 1<<16 { // bounded: start afresh
		d.v6 = map[[16]byte]uint32{}
	}
	i := d.t.InternV6(a)
	d.v6[a] = i
	return i
}

// NewDecoder returns a Decoder for input file number file, interning into t.
func NewDecoder(opts Options, t *Tables, file uint16) *Decoder {
	opts.VXLANPort, opts.WireGuardPort = opts.tunnelPorts()
	d := &Decoder{opts: opts, t: t, file: file, vxlanWire: bits.ReverseBytes16(opts.VXLANPort), wgWire: bits.ReverseBytes16(opts.WireGuardPort),
		recent: [3]uint8{1, 2, 3}, leanShape: shapeLean}
	d.setFullPacket(!opts.leanPacket || opts.SnapMatch != SnapWhole)
	return d
}

// tunnelPorts returns the VXLAN and WireGuard UDP ports of opts, the defaults where unset.
func (opts Options) tunnelPorts() (vxlan, wireguard uint16) {
	vxlan, wireguard = opts.VXLANPort, opts.WireGuardPort
	if vxlan == 0 {
		vxlan = DefaultVXLANPort
	}
	if wireguard == 0 {
		wireguard = DefaultWireGuardPort
	}
	return vxlan, wireguard
}

// Decode decodes rec into the full Packet p and the compact Observation o.
func (d *Decoder) Decode(rec *Record, p *Packet, o *Observation) {
	d.decodePacket(rec, p)
	d.Observe(rec, p, o)
}

// decodePacket decodes rec into the full Packet p.
func (d *Decoder) decodePacket(rec *Record, p *Packet) {
	decodeFast(rec.LinkType, rec.Data, rec.OrigLen, d.opts.VXLANPort, d.opts.WireGuardPort, p)
	d.fastDone = false // (after the call: default.pgo names it by its line)
}

// decodeReused is decodePacket into the Packet of this Decoder's last decodeReused call (or a zero
// one), changed since by nothing but Observe and what it holds beyond Outer, ICMP and WG: the frame
// before's parts are zeroed, not the whole Packet (see reset.go). The scan decodes every frame so.
// It reports whether the fast path took the frame: its Observation is then made in o but for its
// Source and TsLo (as Observe would make it), its fingerprint in d.fastLoose, fastShape not 0; else
// fastShape is 0 and o is as it was or was written (Observe or observe makes it whole). Without fast,
// the caller called fastUsual itself, which did not take the frame: the usual path alone (the scan).
func (d *Decoder) decodeReused(rec *Record, p *Packet, o *Observation, fast bool) bool {
	if fast && d.fastUsual(rec, p, o) {
		return true
	}
	d.fastDone, d.fastShape = false, 0
	resetDecoded(p, d.parts)
	decodeFrame(rec.LinkType, rec.Data, rec.OrigLen, d.opts.VXLANPort, p)
	if wg := d.opts.WireGuardPort; p.HasUDP && (p.Sport == wg || p.Dport == wg || wg == 0) { // as decodeFast
		decodeWireGuard(p, wg)
	}
	d.parts = decodedParts(p)
	return false
}

// decodeReusedObs is decodeReused for a caller that calls Observe after it (the scan does not: it
// takes the fast path's Observation in its place): the fast path's Observation is kept in d.fastObs,
// and fastDone says it was made.
func (d *Decoder) decodeReusedObs(rec *Record, p *Packet) {
	d.fastDone = d.decodeReused(rec, p, &d.fastObs, true)
}

// sourceOf returns the index in the Tables of the capture source of a decoded frame. Small enough to
// inline: the usual case here, any other in sourceNew.
func (d *Decoder) sourceOf(rec *Record, p *Packet) uint16 {
	if rec.Iface+1 == d.plainIface && p.LinkType == d.plainLink {
		return d.srcIdx // the common case: the interface of the frame before, alone
	}
	return d.sourceNew(rec, p)
}

// sourceNew is sourceOf for a frame whose source is not plainly the frame before's.
//
// Its first case is an Ethernet frame of interface 0 while probeUsual is set: the merged probe reads
// the scan's frames (inScan), merged is nil, the look is not done (mergeChecked), and lastSrc is the
// file's interface 0 alone. sourceNew sets probeUsual where it sets lastSrc, and scanProbe.done clears
// it (nothing else sets inScan, merged or mergeChecked while it is set: the look is done only before a
// probe begins). Where it is false but could be true, the frame takes the longer way to the same source.
func (d *Decoder) sourceNew(rec *Record, p *Packet) uint16 {
	if d.probeUsual && rec.Iface == 0 && p.LinkType == LinkEthernet { // (probeUsual: set below, one test where six tested its parts)
		// (probeUsual holds the test of the Decoder's state for this case, made where that state is set)
		// The usual frame while the merged probe reads the scan's frames (every frame comes here then:
		// plainIface is 0), of the source of the frame before: what the rest does for it, in short.
		d.plainIface, d.plainLink = 0, LinkEthernet
		d.inScan.frame(d, rec, p)
		return d.srcIdx
	}
	src := Source{File: d.file, Iface: uint16(min(rec.Iface, 0xffff)), IfIndex: -1}
	plain := 0
	switch {
	case p.LinkType == LinkSLL2 && p.HasSLL:
		src.IfIndex = p.IfIndex
	case p.LinkType == LinkLinuxSLL && p.HasSLL:
		src.IfIndex = sllIndex(p, d.sll)
	case d.merged != nil && p.LinkType == LinkEthernet:
		src.Iface = uint16(d.merged.stage(p))
	case p.LinkType != LinkSLL2 && p.LinkType != LinkLinuxSLL && (p.LinkType != LinkEthernet || d.mergeChecked):
		// The interface alone, whatever the next frame of its link type holds. Not so for a cooked
		// frame (this one was cut before its cooked header), nor for an Ethernet frame before the
		// scan has looked for merged captures (d.merged is settled then, before any such frame).
		plain = rec.Iface + 1
	}
	if !d.haveSrc || src != d.lastSrc {
		d.lastSrc, d.srcIdx, d.haveSrc = src, d.t.InternSource(src), true
	}
	d.plainIface, d.plainLink, d.probeUsual = plain, p.LinkType, d.inScan != nil && d.merged == nil && !d.mergeChecked && src == (Source{File: d.file, IfIndex: -1})
	if d.inScan != nil { // the merged probe reads the scan's frames (inscan.go)
		d.inScan.frame(d, rec, p)
	}
	return d.srcIdx
}

// Observe fills o from a decoded Packet, and sets p.Loose (after decodeReusedObs's fast path, which
// made both, it takes the Observation made then, adding its Source). Small enough to inline: the
// Observation of any other frame is observe's, whose stack frame (for the Packet's many cases) this
// one's usual frame does not set up.
func (d *Decoder) Observe(rec *Record, p *Packet, o *Observation) {
	if d.fastDone { // o is the fast path's (fastpath.go) but its Source
		*o, p.Loose = d.fastObs, d.fastLoose
		o.Source = d.sourceOf(rec, p) // (while fastDone: the merged probe, inscan.go, takes d.fastLoose)
		d.fastDone = false
		return
	}
	d.observe(rec, p, o)
}

// observe is Observe for a frame the fast path did not take.
func (d *Decoder) observe(rec *Record, p *Packet, o *Observation) {
	*o = Observation{} // TsLo: the collector's (Stamps)
	o.Source = d.sourceOf(rec, p)

	f := Flags(p.Encap) | Flags(p.Checksum)<<FlagCsumShift | errFlags(p.Errs)
	if p.GSO {
		f |= FlagGSO
	}
	if p.HasSLL && p.PktType == 4 {
		f |= FlagOutbound
	}
	fp, hashed := Fingerprint(p)
	if d.opts.SnapMatch != SnapWhole { // every fingerprint leaves the payload out alike
		fp, hashed = HeaderFingerprint(p, d.opts.SnapMatch), true
	}
	p.Loose = fp
	if !hashed {
		f |= FlagNoPayloadHash
	}

	in := &p.Inner
	switch {
	case p.HasARP && p.Encap == EncapNone:
		f |= FlagARP
		o.Src = binary.BigEndian.Uint32(p.ARP.SPA[:])
		o.Dst = binary.BigEndian.Uint32(p.ARP.TPA[:])
		o.Sport = p.ARP.Op
		o.Dport = linkCast(p)
		o.Len = 28
		o.Seq = d.internARP(p.ARP)
	case in.Version == 0:
		f |= FlagNotIP
	default:
		if in.Version == 6 {
			f |= FlagIPv6
			o.Src = d.internV6(in.Src)
			o.Dst = d.internV6(in.Dst)
		} else {
			o.Src = binary.BigEndian.Uint32(in.Src[:4])
			o.Dst = binary.BigEndian.Uint32(in.Dst[:4])
		}
		if in.DF {
			f |= FlagDF
		}
		if in.MF || in.FragOff != 0 {
			f |= FlagFragment
			if in.FragOff != 0 {
				f |= FlagLaterFragment
			}
		}
		o.Proto = in.Proto
		o.TTL = in.TTL
		n := int(in.TotalLen)
		if n == 0 || (in.Version == 6 && n == 40) {
			n = in.CapLen
		}
		o.Len = uint16(min(n, 0xffff))
		hl := int(in.HdrLen)
		switch {
		case p.HasTCP:
			hl += int(p.TCP.HdrLen)
			o.Seq = p.TCP.Seq
			o.TCPFlags = p.TCP.Flags
		case p.HasUDP:
			hl += 8
		case p.HasICMP:
			hl += 8
		}
		o.HdrLen = uint8(min(hl, 255))
		o.Sport, o.Dport = p.Sport, p.Dport
		if p.HasICMP {
			ic := &p.ICMP
			o.Sport, o.Dport = uint16(ic.Type), uint16(ic.Code)
			if ic.IsError(in.Version == 6) {
				f |= FlagICMPError
				o.Seq = d.t.AddICMPErr(ICMPErr{Type: ic.Type, Code: ic.Code, MTU: ic.MTU, Quoted: ic.Quoted,
					QuotedInner: ic.QuotedInner, QSport: ic.QSport, QDport: ic.QDport, QSeq: ic.QSeq})
			} else {
				o.Seq = uint32(ic.ID)<<16 | uint32(ic.Seq)
			}
		}
		if p.ICMPEchoCut {
			o.Sport, o.Dport, o.Seq = uint16(p.ICMP.Type), uint16(p.ICMP.Code), uint32(p.ICMP.ID)<<16
		}
		if p.HasWG {
			switch p.WG.Type {
			case WGTransport:
				o.Seq = uint32(p.WG.Counter)
			case WGInitiation, WGResponse:
				o.Seq = p.WG.Sender
			}
		}
		if f&FlagFragment != 0 && f&FlagICMPError == 0 {
			if p.HasWG && p.WG.Type == WGTransport {
				d.t.AddWGFragCounter(o.Source, rec.Frame, p.WG.Counter) // Seq cannot hold it (wgfrag.go)
			}
			o.Seq = in.ID
		}
	}
	if p.Errs&(ErrSnapped|ErrTruncated) == ErrSnapped|ErrTruncated && f&FlagNotIP == 0 && snapClass(p) == SnapHeaders {
		// Cut before its inner ports: no fingerprint can match it, so it is no packet to follow
		// (CutBeforePorts). What was read before the cut stays, for what such a frame may be.
		f |= FlagNotIP
	}
	o.Flags = f

	// The header context is compared field by field with p: building it first and comparing the
	// whole struct reads it back in wider loads than it was written with, which stalls.
	if p.Encap == EncapNone && in.TOS == 0 && p.VNI == 0 && !p.HasWG { // hdrCtx(p) == HdrCtx{}
		o.Ctx = 0
	} else {
		if !d.haveCtx || !ctxOf(&d.ctxs[d.cur].c, p) {
			d.switchCtx(p, noCtxKey)
		}
		o.Ctx = d.ctxIdx
	}
	if linkScope6(p) { // last: the lines above keep their offsets (default.pgo)
		p.Loose = 0 // a message of one link (IPv6 neighbour discovery, LinkScopeICMPv6): no sighting to follow
		// A neighbour solicitation or advertisement: its Seq indexes Tables.ND (0: too short to tell its target).
		if o.IsND() {
			o.Seq = 0
			if n, ok := ndOf(p, rec.Data); ok {
				o.Seq = d.t.AddND(n)
			}
		}
	}
}

// errFlags returns the Observation flags for decoding problems errs: FlagTruncated, FlagError.
func errFlags(errs Err) Flags {
	var f Flags
	if errs&ErrTruncated != 0 {
		f |= FlagTruncated
	}
	if errs&^(ErrTruncated|ErrSnapped|ErrNotIP) != 0 {
		f |= FlagError
	}
	return f
}

// recentCtx is a header context, its key (ctxKeyOf) and its index in the Tables.
type recentCtx struct {
	c   HdrCtx
	key ctxKey
	idx uint16
}

// ctxKey packs a header context of the fast path's shape (no WireGuard message; an IPv4 outer header,
// or none; a VNI of 24 bits) into two words, so that two such contexts are equal when their keys are:
// hi holds the outer addresses (bytes 12 to 19 of the outer header, loaded little-endian), lo the rest
// and ctxKeyValid, by bits: the outer TOS (0-7), the VNI (8-31), the inner TOS (32-39), the
// encapsulation (40-45), DF (46), ctxKeyValid (47) and the outer TTL (56-63). The outer TOS, DF and TTL
// lie where a little-endian load of the outer header's bytes 1 to 8 has them (byte 1, bit 0x40 of byte
// 6, byte 8), so that fastCtxKey takes them with one load and a mask (ctxOuterMask), where it shifted
// each into place. The key of any other context is noCtxKey, which equals no key of the fast path's
// shape.
type ctxKey struct{ hi, lo uint64 }

const (
	ctxKeyValid  = 1 << 47
	ctxOuterMask = 0xff00_4000_0000_00ff // of bytes 1-8 of an IPv4 header: TOS, DF, TTL
)

// noCtxKey is the key of a context not of the fast path's shape, and the key switchCtx is given for a
// packet whose key is not known: it then compares the contexts themselves.
var noCtxKey = ctxKey{}

// ctxKeyOf returns the key of c (noCtxKey when c is not of the fast path's shape).
func ctxKeyOf(c *HdrCtx) ctxKey {
	if c.WGType != 0 || c.WGReceiver != 0 || c.WGCounterHi != 0 || c.VNI >= 1<<24 ||
		[12]byte(c.OuterSrc[4:]) != [12]byte{} || [12]byte(c.OuterDst[4:]) != [12]byte{} {
		return noCtxKey
	}
	if c.Encap == EncapNone {
		if c.OuterV != 0 || c.OuterSrc != [16]byte{} || c.OuterDst != [16]byte{} || c.OuterTTL != 0 ||
			c.OuterTOS != 0 || c.OuterDF {
			return noCtxKey
		}
	} else if c.OuterV != 4 {
		return noCtxKey
	}
	return packCtxKey(c.Encap, c.InnerTOS, c.VNI, [4]byte(c.OuterSrc[:4]), [4]byte(c.OuterDst[:4]), c.OuterTTL,
		c.OuterTOS, c.OuterDF)
}

// fastCtxKey is ctxKeyOf(hdrCtx(p)) for a packet p the fast path decoded (no WireGuard message;
// VNI below 1<<24), of encapsulation e, inner TOS tos and VNI vni, whose outer IPv4 header (for e
// not EncapNone) is at the start of b, as putIPv4 reads it: the addresses are bytes 12-19.
func fastCtxKey(e Encap, tos uint8, vni uint32, b []byte) ctxKey {
	lo := ctxKeyValid | uint64(vni&(1<<24-1))<<8 | uint64(tos)<<32 | uint64(e)<<40
	if e == EncapNone {
		return ctxKey{lo: lo}
	}
	return ctxKey{hi: binary.LittleEndian.Uint64(b[12:20]), lo: lo | binary.LittleEndian.Uint64(b[1:9])&ctxOuterMask}
}

func packCtxKey(e Encap, innerTOS uint8, vni uint32, src, dst [4]byte, ttl, tos uint8, df bool) ctxKey {
	lo := ctxKeyValid | uint64(vni&(1<<24-1))<<8 | uint64(innerTOS)<<32 | uint64(e)<<40 | uint64(ttl)<<56 | uint64(tos)
	if df {
		lo |= 1 << 46
	}
	return ctxKey{hi: uint64(binary.LittleEndian.Uint32(src[:])) | uint64(binary.LittleEndian.Uint32(dst[:]))<<32, lo: lo}
}

// switchCtx makes p's header context the last one: from the recent ones, or else from the Tables.
// The last one moves to the recent ones (into the slot of p's context, when that was one of them).
// k is fastCtxKey(p) when known (the fast path), noCtxKey otherwise: a known key is compared with the
// recent ones' instead of their contexts.
func (d *Decoder) switchCtx(p *Packet, k ctxKey) {
	slot := -1
	for i, cell := range d.recent {
		r := &d.ctxs[cell]
		if d.recentOK[i] && (k.lo&ctxKeyValid != 0 && r.key == k || k.lo&ctxKeyValid == 0 && ctxOf(&r.c, p)) {
			slot = i
			break
		}
	}
	keep := d.haveCtx && d.ctxIdx != ctxOverflow // the last one moves to the recent ones
	if slot >= 0 {
		d.cur, d.recent[slot] = d.recent[slot], d.cur
		d.recentOK[slot] = keep
	} else {
		slot = d.recentNext
		d.recentNext = (d.recentNext + 1) % len(d.recent)
		if keep { // in place of the slot's context; else the last one's cell takes p's
			d.cur, d.recent[slot] = d.recent[slot], d.cur
			d.recentOK[slot] = true
		}
		r := &d.ctxs[d.cur]
		r.c = hdrCtx(p)
		r.key, r.idx = ctxKeyOf(&r.c), d.t.InternCtx(r.c)
		if p.Encap == EncapVXLAN {
			d.vx.note(p)
		}
	}
	d.haveCtx = true
	d.lastKey, d.ctxIdx = d.ctxs[d.cur].key, d.ctxs[d.cur].idx
}

// hdrCtx returns the header context of p.
func hdrCtx(p *Packet) HdrCtx {
	c := HdrCtx{Encap: p.Encap, InnerTOS: p.Inner.TOS, VNI: p.VNI}
	c.WGType, c.WGReceiver, c.WGCounterHi = wgCtx(p)
	if p.Encap != EncapNone {
		c.OuterV = p.Outer.Version
		c.OuterSrc, c.OuterDst = p.Outer.Src, p.Outer.Dst
		c.OuterTTL, c.OuterTOS, c.OuterDF = p.Outer.TTL, p.Outer.TOS, p.Outer.DF
	}
	return c
}

// wgCtx returns the WireGuard fields of p's header context (zeros when p carries no WireGuard
// message).
func wgCtx(p *Packet) (typ uint8, receiver, counterHi uint32) {
	if !p.HasWG {
		return 0, 0, 0
	}
	return p.WG.Type, p.WG.Receiver, uint32(p.WG.Counter >> 32)
}

// ctxOf reports whether c == hdrCtx(p).
func ctxOf(c *HdrCtx, p *Packet) bool {
	if c.Encap != p.Encap || c.InnerTOS != p.Inner.TOS || c.VNI != p.VNI {
		return false
	}
	if t, r, hi := wgCtx(p); c.WGType != t || c.WGReceiver != r || c.WGCounterHi != hi {
		return false
	}
	if p.Encap == EncapNone {
		return c.OuterV == 0 && c.OuterSrc == [16]byte{} && c.OuterDst == [16]byte{} && c.OuterTTL == 0 &&
			c.OuterTOS == 0 && !c.OuterDF
	}
	o := &p.Outer
	return c.OuterV == o.Version && c.OuterSrc == o.Src && c.OuterDst == o.Dst && c.OuterTTL == o.TTL &&
		c.OuterTOS == o.TOS && c.OuterDF == o.DF
}

// Pseudo interface indexes for Linux cooked v1 captures (tcpdump -i any before 4.99), which record no
// interface: each packet appears once per interface it crossed, so frames are told apart by what
// they carry.
const (
	IfAnyPod      int32 = -2 // frames without encapsulation to and from the node's pods (the cali side)
	IfAnyTunnel   int32 = -3 // frames without a link address, or between VXLAN VTEPs (the tunnel)
	IfAnyUnderlay int32 = -4 // encapsulated frames, WireGuard messages, and anything else (the underlay)
	// IfAnyVLAN: frames with an 802.1Q tag, which only a VLAN sub-interface's parent shows (tcpdump -y
	// LINUX_SLL keeps its tag); the same packets cross the sub-interface untagged, filed by what they
	// carry, so the tagged copies are a point of their own.
	IfAnyVLAN int32 = -5
	// IfOverflow marks the shared source of every interface beyond the 65,534th (see InternSource).
	IfOverflow int32 = -1 << 31
)

// sllStage classifies a Linux cooked v1 frame into one of the pseudo interfaces, with what the file
// shows of its node's pods (l; nil or unresolved: a frame without encapsulation coming in is filed
// under the pod side).
func sllStage(p *Packet, l *sllLocal) int32 {
	switch {
	case p.NVLAN > 0:
		return IfAnyVLAN
	case p.HasARP && p.Encap == EncapNone:
		if p.ARP.TPA == CalicoGateway || p.ARP.SHA == CalicoMAC || p.ARP.THA == CalicoMAC ||
			(l != nil && l.macs[p.ARP.SHA]) {
			return IfAnyPod
		}
		return IfAnyUnderlay
	case p.Encap != EncapNone || p.HasWG || p.Inner.Version == 0: // WireGuard's UDP is the underlay's
		return IfAnyUnderlay
	case p.SLLAlen == 0 || (p.SLLAlen == 6 && p.SLLAddr[0] == 0x66):
		return IfAnyTunnel
	case l == nil || (l.unresolved && p.PktType != 4):
		return IfAnyPod
	case l.podSide(p):
		return IfAnyPod
	}
	return IfAnyUnderlay
}
