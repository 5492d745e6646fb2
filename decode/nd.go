package decode

import "encoding/binary"

// ND is an IPv6 neighbour solicitation or advertisement (ICMPv6 135, 136, code 0; RFC 4861 §4.3,
// §4.4): IPv6's ARP. An ND Observation's Seq indexes Tables.ND (0: too short to read its target).
type ND struct {
	Type   uint8    // 135 solicitation, 136 advertisement
	Target [16]byte // the address asked for, or advertised
	// Flags are an advertisement's router, solicited and override flags as the message holds them
	// (NARouter, NASolicited, NAOverride); 0 for a solicitation.
	Flags uint8
	// LLAddr is the link-layer address option's: a solicitation's source link-layer address (the
	// asker's MAC), an advertisement's target link-layer address (the MAC the target is at). HasLL
	// says whether the message carried one.
	LLAddr   [6]byte
	HasLL    bool
	Src, Dst [16]byte // the IPv6 source and destination, so that identical frames share one entry
	// FrameMAC is the frame's link-layer source (Ethernet, or a cooked capture's 6-byte address), when
	// HasFrameMAC: the sender's interface.
	FrameMAC    [6]byte
	HasFrameMAC bool
}

// Neighbour advertisement flags (RFC 4861 §4.4), in ND.Flags.
const (
	NARouter    = 0x80
	NASolicited = 0x40
	NAOverride  = 0x20
)

// AdvertisedMAC is the MAC an advertisement n says its target is at: its target link-layer address
// option, or, without one, the frame's source when n is solicited (RFC 4861 §7.2.4: an answer to a
// unicast solicitation may leave the option out, as Linux does; the target's own interface sent
// it). ok is false for a solicitation, an unsolicited advertisement without the option, or a frame
// whose source is not known.
func (n *ND) AdvertisedMAC() (mac [6]byte, ok bool) {
	switch {
	case n.Type != 136:
		return mac, false
	case n.HasLL:
		return n.LLAddr, true
	case n.Flags&NASolicited != 0 && n.HasFrameMAC:
		return n.FrameMAC, true
	}
	return mac, false
}

// FlagString is an advertisement's flags as letters, R, S, O, in that order ("-" for none).
func (n *ND) FlagString() string {
	var b []byte
	for i, c := range "RSO" {
		if n.Flags&(0x80>>i) != 0 {
			b = append(b, byte(c))
		}
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

// ndOf reads p's neighbour solicitation or advertisement, when p is one whose target was captured;
// data is the frame p was decoded from (an advertisement's flags sit in its ICMPv6 header, before
// p.Payload).
func ndOf(p *Packet, data []byte) (ND, bool) {
	if !p.HasICMP || p.Inner.Version != 6 || (p.ICMP.Type != 135 && p.ICMP.Type != 136) || p.ICMP.Code != 0 ||
		len(p.Payload) < 16 {
		return ND{}, false
	}
	n := ND{Type: p.ICMP.Type, Target: [16]byte(p.Payload[:16]), Src: p.Inner.Src, Dst: p.Inner.Dst}
	if at := cap(data) - cap(p.Payload); n.Type == 136 && at >= 4 && at < len(data) && &data[at] == &p.Payload[0] {
		n.Flags = data[at-4] & (NARouter | NASolicited | NAOverride)
	}
	switch {
	case p.HasEth:
		n.FrameMAC, n.HasFrameMAC = p.SrcMAC, true
	case p.HasSLL && p.SLLAlen == 6:
		n.FrameMAC, n.HasFrameMAC = [6]byte(p.SLLAddr[:6]), true
	}
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
		if hostND(p) {
			t.HostND++
		}
		return false
	}
	if fp := ndSample(p); t.NSamples < maxSamples && (t.NSamples < maxSamples/2 || fp%sampleMod == 0) {
		t.Samples[t.NSamples] = FrameSample{fp, ts, EncapNone}
		t.NSamples++
	}
	return true
}

// hostND reports whether p is a neighbour solicitation or advertisement (ICMPv6 135, 136) sent from
// the pods' gateway address, CalicoGateway6: a host asking for (or answering about) its pod's address
// on the pod's veth. A pod that sends before its host asks for it (its replies, with its gateway
// already known) shows nothing else of Calico's on a -i any capture, which records no destination
// MAC: node-b's veth in pmtu-discovery6 (TestHostNDPodVeth).
func hostND(p *Packet) bool {
	return p.HasICMP && p.Inner.Version == 6 && (p.ICMP.Type == 135 || p.ICMP.Type == 136) && p.ICMP.Code == 0 &&
		[16]byte(p.Inner.Src) == CalicoGateway6
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
