package decode

import "encoding/binary"

// ND is an IPv6 neighbour solicitation or advertisement (ICMPv6 135, 136, code 0; RFC 4861 §4.3,
// §4.4): IPv6's ARP. An ND Observation's Seq indexes Tables.ND (0: too short to read its target).
type ND struct {
	Type   uint8    // 135 solicitation, 136 advertisement (its R, S and O flags are not read)
	Target [16]byte // the address asked for, or advertised
	// LLAddr is the link-layer address option's: a solicitation's source link-layer address (the
	// asker's MAC), an advertisement's target link-layer address (the MAC the target is at). HasLL
	// says whether the message carried one.
	LLAddr   [6]byte
	HasLL    bool
	Src, Dst [16]byte // the IPv6 source and destination, so that identical frames share one entry
}

// ndOf reads p's neighbour solicitation or advertisement, when p is one whose target was captured.
func ndOf(p *Packet) (ND, bool) {
	if !p.HasICMP || p.Inner.Version != 6 || (p.ICMP.Type != 135 && p.ICMP.Type != 136) || p.ICMP.Code != 0 ||
		len(p.Payload) < 16 {
		return ND{}, false
	}
	n := ND{Type: p.ICMP.Type, Target: [16]byte(p.Payload[:16]), Src: p.Inner.Src, Dst: p.Inner.Dst}
	want := byte(1) // source link-layer address (solicitation)
	if n.Type == 136 {
		want = 2 // target link-layer address (advertisement)
	}
	// Options: type, length in units of 8 bytes (0 is invalid: stop), value.
	for opts := p.Payload[16:]; len(opts) >= 8 && opts[1] != 0 && int(opts[1])*8 <= len(opts); opts = opts[int(opts[1])*8:] {
		if opts[0] == want && opts[1] == 1 && !n.HasLL {
			n.LLAddr, n.HasLL = [6]byte(opts[2:8]), true
		}
	}
	return n, true
}

// ndInterned bounds the distinct ND messages the table looks up before storing one again (as
// arpInterned).
const ndInterned = 1 << 16

// AddND stores a neighbour discovery message and returns its index (never 0). Identical messages share
// one index (up to ndInterned distinct ones).
func (t *Tables) AddND(n ND) uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ndIdx == nil {
		t.nd, t.ndIdx = []ND{{}}, map[ND]uint32{}
	}
	if i, ok := t.ndIdx[n]; ok {
		return i
	}
	i := uint32(len(t.nd))
	t.nd = append(t.nd, n)
	if len(t.ndIdx) < ndInterned {
		t.ndIdx[n] = i
	}
	return i
}

// NDAll returns a copy of the ND table, indexed as an ND Observation's Seq (index 0 is the zero ND).
func (t *Tables) NDAll() []ND {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.nd) == 0 {
		return []ND{{}}
	}
	return append([]ND(nil), t.nd...)
}

// IsND reports whether o is an IPv6 neighbour solicitation or advertisement whose Seq indexes
// Tables.ND.
func (o *Observation) IsND() bool {
	return o.Flags&(FlagIPv6|FlagICMPError|FlagNotIP) == FlagIPv6 && o.Proto == 58 && (o.Sport == 135 || o.Sport == 136) &&
		o.Dport == 0
}

// gatewayND reports whether p is a neighbour solicitation or advertisement for the pods' gateway
// (gatewayND), and samples it as add samples a frame with a fingerprint: the decoder gives such a
// message none (no sighting to follow), yet a pod whose gateway goes unanswered sends nothing else,
// and a -i any capture of its veth is named after the veth's own capture only by frames both hold at
// the same moments (Traffic.SameFrames).
func (t *Traffic) gatewayND(ts int64, p *Packet) bool {
	if !gatewayND(p) {
		return false
	}
	if fp := ndSample(p); t.NSamples < maxSamples && (t.NSamples < maxSamples/2 || fp%sampleMod == 0) {
		t.Samples[t.NSamples] = FrameSample{fp, ts}
		t.NSamples++
	}
	return true
}

// ndSample is the fingerprint a neighbour discovery message p is sampled with: its addresses, type and
// message (never 0).
func ndSample(p *Packet) uint64 {
	in := &p.Inner
	h := mum(binary.BigEndian.Uint64(in.Src[:8])^fpK0, binary.BigEndian.Uint64(in.Src[8:])^fpK1)
	h = mum(h^binary.BigEndian.Uint64(in.Dst[:8]), binary.BigEndian.Uint64(in.Dst[8:])^uint64(p.ICMP.Type)<<56)
	m := p.Payload[:16] // gatewayND: the target
	h = mum(h^binary.BigEndian.Uint64(m[:8]), binary.BigEndian.Uint64(m[8:]))
	return h | 1
}
