package decode

import (
	"encoding/binary"
	"net/netip"
	"sync"
)

// HdrCtx is the per-frame header context that is shared by many frames and so is interned:
// the encapsulation and outer header, the innermost header's DSCP/ECN, and a WireGuard message's
// type, receiver index and counter's high 32 bits (an Observation's Seq holds the low 32: see
// Observation). A WireGuard session keeps its receiver index and, for its first 2³² messages, a zero
// high counter: its messages share one context.
type HdrCtx struct {
	Encap    Encap
	OuterV   uint8 // outer IP version (4 or 6)
	OuterSrc [16]byte
	OuterDst [16]byte
	OuterTTL uint8
	OuterTOS uint8
	OuterDF  bool
	VNI      uint32
	InnerTOS uint8

	WGType      uint8  // WireGuard message type (WGInitiation … WGTransport); 0: not WireGuard
	WGReceiver  uint32 // WireGuard receiver index (response, cookie reply, transport)
	WGCounterHi uint32 // high 32 bits of a WireGuard transport message's counter
}

// WGCounter returns the full counter of a WireGuard transport message whose Observation has Seq seq.
func (c *HdrCtx) WGCounter(seq uint32) uint64 { return uint64(c.WGCounterHi)<<32 | uint64(seq) }

// OuterSrcAddr returns the outer source address (invalid when there is no encapsulation).
func (c *HdrCtx) OuterSrcAddr() netip.Addr { return verAddr(c.OuterV, &c.OuterSrc) }

// OuterDstAddr returns the outer destination address.
func (c *HdrCtx) OuterDstAddr() netip.Addr { return verAddr(c.OuterV, &c.OuterDst) }

func verAddr(v uint8, a *[16]byte) netip.Addr {
	switch v {
	case 4:
		return netip.AddrFrom4([4]byte(a[:4]))
	case 6:
		return netip.AddrFrom16(*a)
	}
	return netip.Addr{}
}

// ICMPErr is the side-table entry of an ICMP error Observation.
type ICMPErr struct {
	Type, Code  uint8
	MTU         uint16
	Quoted      IPHdr // the quoted IP header (CapLen is the number of quoted bytes from it)
	QuotedInner IPHdr // the IP header inside a quoted IP-in-IP outer header, when quoted
	QSport      uint16
	QDport      uint16
	QSeq        uint32
}

// Source is a capture source: one interface of one input file. For Linux cooked v2 captures (-i any)
// every interface index is its own source.
type Source struct {
	File    uint16 // index of the input file
	Iface   uint16 // pcapng interface index (0 for pcap)
	IfIndex int32  // SLL2 interface index; -1 when the link type carries none; IfAny* for SLL v1
}

// Tables holds the side tables that Observations refer to. One Tables serves every file of a run, so
// indexes are comparable across files. It is safe for concurrent use; decoders keep small caches so
// that the common case takes no lock.
type Tables struct {
	mu      sync.Mutex
	v6      []netip.Addr
	v6idx   map[[16]byte]uint32
	ctx     []HdrCtx
	ctxIdx  map[HdrCtx]uint16
	arp     []ARP
	arpIdx  map[ARP]uint32 // the first arpInterned distinct packets' indexes
	icmpErr []ICMPErr
	nd      []ND          // IPv6 neighbour discovery messages (nd.go); nil until the first
	ndIdx   map[ND]uint32 // the first ndInterned distinct messages' indexes
	src     []Source
	srcIdx  map[Source]uint16
	wgFrag  map[uint64]uint32 // (source, frame) of a WireGuard message's first fragment → counter's low bits (wgfrag.go)
	// CtxOverflow counts frames whose header context did not fit the 65,535-entry table.
	CtxOverflow int
	// SourceOverflow counts capture sources beyond what Observation.Source can tell apart.
	SourceOverflow int
}

// NewTables returns empty tables. Index 0 of Ctx is the zero HdrCtx (no encapsulation, TOS 0).
func NewTables() *Tables {
	return &Tables{
		v6:      []netip.Addr{{}},
		v6idx:   map[[16]byte]uint32{},
		ctx:     []HdrCtx{{}},
		ctxIdx:  map[HdrCtx]uint16{{}: 0},
		arp:     []ARP{{}},
		arpIdx:  map[ARP]uint32{},
		icmpErr: []ICMPErr{{}},
		srcIdx:  map[Source]uint16{},
	}
}

// reset empties t, as NewTables makes it, for a second read of the inputs (no other goroutine uses it).
func (t *Tables) reset() {
	n := NewTables()
	t.v6, t.v6idx, t.ctx, t.ctxIdx, t.arp, t.arpIdx = n.v6, n.v6idx, n.ctx, n.ctxIdx, n.arp, n.arpIdx
	t.icmpErr, t.src, t.srcIdx, t.wgFrag = n.icmpErr, n.src, n.srcIdx, n.wgFrag
	t.nd, t.ndIdx = nil, nil
	t.CtxOverflow, t.SourceOverflow = 0, 0
}

// InternV6 returns the index of an IPv6 address.
func (t *Tables) InternV6(a [16]byte) uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, ok := t.v6idx[a]; ok {
		return i
	}
	i := uint32(len(t.v6))
	t.v6 = append(t.v6, netip.AddrFrom16(a))
	t.v6idx[a] = i
	return i
}

// V6 returns the IPv6 address with index i.
func (t *Tables) V6(i uint32) netip.Addr {
	t.mu.Lock()
	defer t.mu.Unlock()
	if int(i) < len(t.v6) {
		return t.v6[i]
	}
	return netip.Addr{}
}

// ctxOverflow is the header-context index of frames whose context did not fit the table.
const ctxOverflow = 0xffff

// InternCtx returns the index of a header context; on overflow it returns ctxOverflow and counts it.
func (t *Tables) InternCtx(c HdrCtx) uint16 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, ok := t.ctxIdx[c]; ok {
		return i
	}
	if len(t.ctx) >= ctxOverflow {
		t.CtxOverflow++
		return ctxOverflow
	}
	i := uint16(len(t.ctx))
	t.ctx = append(t.ctx, c)
	t.ctxIdx[c] = i
	return i
}

// Ctx returns the header context with index i (the zero HdrCtx for an unknown index).
func (t *Tables) Ctx(i uint16) HdrCtx {
	t.mu.Lock()
	defer t.mu.Unlock()
	if int(i) < len(t.ctx) {
		return t.ctx[i]
	}
	return HdrCtx{}
}

// CtxAll returns a copy of the header-context table, indexed as Observation.Ctx, for lock-free reads.
func (t *Tables) CtxAll() []HdrCtx {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]HdrCtx(nil), t.ctx...)
}

// arpInterned is how many distinct ARP packets the table looks up before storing one again: an ARP
// storm repeats a few packets millions of times, while a capture of that many distinct ones would
// only grow the index beside the table.
const arpInterned = 1 << 16

// AddARP stores an ARP packet and returns its index. Identical packets share one index (up to
// arpInterned distinct ones; past that, new packets are stored once each time).
func (t *Tables) AddARP(a ARP) uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, ok := t.arpIdx[a]; ok {
		return i
	}
	i := uint32(len(t.arp))
	t.arp = append(t.arp, a)
	if len(t.arpIdx) < arpInterned {
		t.arpIdx[a] = i
	}
	return i
}

// ARPAll returns a copy of the ARP table, indexed as an ARP Observation's Seq, for lock-free reads.
func (t *Tables) ARPAll() []ARP {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]ARP(nil), t.arp...)
}

// ARP returns the ARP packet with index i.
func (t *Tables) ARP(i uint32) ARP {
	t.mu.Lock()
	defer t.mu.Unlock()
	if int(i) < len(t.arp) {
		return t.arp[i]
	}
	return ARP{}
}

// AddICMPErr stores an ICMP error's details and returns its index.
func (t *Tables) AddICMPErr(e ICMPErr) uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.icmpErr = append(t.icmpErr, e)
	return uint32(len(t.icmpErr) - 1)
}

// ICMPErrAll returns a copy of the ICMP error table, indexed as an ICMP error Observation's Seq.
func (t *Tables) ICMPErrAll() []ICMPErr {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]ICMPErr(nil), t.icmpErr...)
}

// ICMPErr returns the ICMP error details with index i.
func (t *Tables) ICMPErr(i uint32) ICMPErr {
	t.mu.Lock()
	defer t.mu.Unlock()
	if int(i) < len(t.icmpErr) {
		return t.icmpErr[i]
	}
	return ICMPErr{}
}

// maxSources is how many capture sources Observation.Source can tell apart; the last index holds
// every source beyond (a capture with that many interface indexes is hostile or broken).
const maxSources = 0xffff

// InternSource returns the index of a capture source. Past maxSources-1 distinct sources, every new
// one shares the last index (an overflow source) and SourceOverflow counts them.
func (t *Tables) InternSource(s Source) uint16 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, ok := t.srcIdx[s]; ok {
		return i
	}
	if len(t.src) >= maxSources-1 {
		if len(t.src) == maxSources-1 {
			t.src = append(t.src, Source{File: s.File, Iface: 0xffff, IfIndex: IfOverflow})
		}
		t.SourceOverflow++
		return maxSources - 1
	}
	i := uint16(len(t.src))
	t.src = append(t.src, s)
	t.srcIdx[s] = i
	return i
}

// Sources returns a copy of the capture sources, indexed as Observation.Source.
func (t *Tables) Sources() []Source {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Source(nil), t.src...)
}

// QuoteExact returns exact fingerprint e (Observation.Exact) of Observation o with, when o is an
// ICMP error whose quote was captured as far as its fingerprint reads (no FlagNoPayloadHash), what
// tells apart the packets it quotes that the NAT-tolerant fingerprint leaves out mixed in: the quoted
// addresses (of both headers of a quoted tunnel packet), ports, or echo identifier and sequence. The
// quote is the same at every point of the error's path where no NAT rewrote it, as the error's
// addresses are: two errors that differ only there are errors about two packets (the same query to two
// servers, pings from two sockets with one sequence), not one error's sightings. Other Observations'
// e is returned as it is.
func (t *Tables) QuoteExact(o *Observation, e uint64) uint64 {
	if o.Flags&(FlagICMPError|FlagNoPayloadHash) != FlagICMPError {
		return e
	}
	t.mu.Lock()
	var k uint64
	ok := int(o.Seq) < len(t.icmpErr)
	if ok {
		k = quoteTuple(&t.icmpErr[o.Seq])
	}
	t.mu.Unlock()
	if !ok {
		return e
	}
	return mum(e^fpK[4], k^fpK[5])
}

// QuoteAddrs returns a hash of the addresses ICMP error o quotes (of both headers of a quoted tunnel
// packet), and false when o is no ICMP error with a quote.
func (t *Tables) QuoteAddrs(o *Observation) (uint64, bool) {
	if o.Flags&FlagICMPError == 0 {
		return 0, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if int(o.Seq) >= len(t.icmpErr) || t.icmpErr[o.Seq].Quoted.Version == 0 {
		return 0, false
	}
	return quoteAddrs(&t.icmpErr[o.Seq]), true
}

// quoteTuple hashes the quoted addresses, ports (or echo identifier and sequence) of ICMP error e.
func quoteTuple(e *ICMPErr) uint64 {
	return mum(quoteAddrs(e)^fpK[2], (uint64(e.QSport)<<16|uint64(e.QDport))^fpK[3])
}

// quoteAddrs hashes the quoted addresses of ICMP error e.
func quoteAddrs(e *ICMPErr) uint64 {
	h := uint64(0x71742d6164647273) // "qt-addrs"
	for _, a := range [...]*[16]byte{&e.Quoted.Src, &e.Quoted.Dst, &e.QuotedInner.Src, &e.QuotedInner.Dst} {
		h = mum(h^binary.LittleEndian.Uint64(a[0:8])^fpK[0], binary.LittleEndian.Uint64(a[8:16])^fpK[1])
	}
	return h
}

// FlowKeys returns what identifies TCP, UDP or ICMP echo Observation o's flow as NAT rewrites it
// (protocol, addresses, ports or echo identifier), for its own direction and the reverse, comparable
// with QuotedFlowKey's; false for any other Observation.
func (t *Tables) FlowKeys(o *Observation) (fwd, rev uint64, ok bool) {
	if o.Flags&(FlagICMPError|FlagARP|FlagNotIP|FlagLaterFragment) != 0 {
		return 0, 0, false
	}
	var a, b uint16
	switch o.Proto {
	case 6, 17:
		a, b = o.Sport, o.Dport
	case 1, 58:
		if ty := o.Sport; o.Proto == 1 && ty != 0 && ty != 8 || o.Proto == 58 && ty != 128 && ty != 129 {
			return 0, 0, false
		}
		a = uint16(o.Seq >> 16) // the echo identifier, the same both ways
	default:
		return 0, 0, false
	}
	src, dst := t.addr16(o, o.Src), t.addr16(o, o.Dst)
	if o.Proto == 1 || o.Proto == 58 {
		return flowKey(o.Proto, src, dst, a, 0), flowKey(o.Proto, dst, src, a, 0), true
	}
	return flowKey(o.Proto, src, dst, a, b), flowKey(o.Proto, dst, src, b, a), true
}

// QuotedFlowKey returns FlowKeys' key of the packet ICMP error o quotes (the innermost quoted one),
// false when o is no ICMP error or its quote does not reach the ports.
func (t *Tables) QuotedFlowKey(o *Observation) (uint64, bool) {
	if o.Flags&(FlagICMPError|FlagNoPayloadHash) != FlagICMPError {
		return 0, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if int(o.Seq) >= len(t.icmpErr) {
		return 0, false
	}
	e := &t.icmpErr[o.Seq]
	h := &e.Quoted
	if e.QuotedInner.Version != 0 {
		h = &e.QuotedInner
	}
	switch h.Proto {
	case 6, 17:
		return flowKey(h.Proto, h.Src, h.Dst, e.QSport, e.QDport), true
	case 1, 58:
		return flowKey(h.Proto, h.Src, h.Dst, e.QSport, 0), true
	}
	return 0, false
}

// addr16 returns address a of Observation o (its Src or Dst) as an IPHdr holds it.
func (t *Tables) addr16(o *Observation, a uint32) [16]byte {
	var b [16]byte
	if o.Flags&FlagIPv6 != 0 {
		return t.V6(a).As16()
	}
	binary.BigEndian.PutUint32(b[:4], a)
	return b
}

func flowKey(proto uint8, src, dst [16]byte, a, b uint16) uint64 {
	h := mum(binary.LittleEndian.Uint64(src[0:8])^fpK[0], binary.LittleEndian.Uint64(src[8:16])^fpK[1])
	h = mum(h^binary.LittleEndian.Uint64(dst[0:8])^fpK[2], binary.LittleEndian.Uint64(dst[8:16])^fpK[3])
	return mum(h^fpK[4], (uint64(proto)<<32|uint64(a)<<16|uint64(b))^fpK[5])
}
