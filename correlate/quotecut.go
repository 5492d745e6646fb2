package correlate

import (
	"fmt"

	"github.com/calipath/calipath/decode"
)

// A capture whose snaplen cut an ICMP error inside its quote (tcpdump -s 64 keeps 22 bytes of it
// behind Ethernet) shows the quoted packet's IP header but not its ports, or, for a quoted IP-in-IP
// packet, not even the inner header. Its flow tuple would then name a flow of its own (no ports, or the
// nodes' IP-in-IP "flow"), beside the flow of the packet it quotes. learnCutQuotes names that flow from
// what the quote kept: the other packets with the quoted addresses, protocol and IP length (for a
// quoted IP-in-IP packet: the inner packets encapsulated between the quoted addresses, with the inner
// length), else with the quoted addresses and protocol, when all of them are of one flow. An error
// whose quote names no one flow is left out of the flows (never one of its own) and its ICMP anomaly
// says so.

// cutQuotes is what learnCutQuotes found, by Tables.ICMPErr index: the tuple of the packet each cut
// quote names, and the cut quotes that name no one flow (left). Both nil when no quote was cut.
type cutQuotes struct {
	named map[uint32]tuple
	left  map[uint32]bool
}

// cutKey is what a cut quote shows of the packet it quotes: its addresses and protocol (4: an IP-in-IP
// packet whose inner header was cut; the addresses are then the outer ones) and its IP length (of the
// inner packet for IP-in-IP; 0 for the key that leaves the length out).
type cutKey struct {
	v6       bool
	proto    uint8
	src, dst uint32
	n        uint16
}

// cutPick is the flow tuple the packets of a cutKey carried; several when they were not all one.
type cutPick struct {
	t       tuple
	several bool
}

// cutQuoteKey returns the cutKey of ICMP error e when its quote was cut before the quoted packet's
// ports (ICMP: its echo id and sequence).
func (w *world) cutQuoteKey(e *decode.ICMPErr) (cutKey, bool) {
	h := &e.Quoted
	if h.Version == 4 && h.Proto == 4 && h.FragOff == 0 && e.QuotedInner.Version == 0 && h.CapLen >= int(h.HdrLen) &&
		h.TotalLen > uint16(h.HdrLen) {
		return cutKey{proto: 4, src: ip4(h.SrcAddr()), dst: ip4(h.DstAddr()), n: h.TotalLen - uint16(h.HdrLen)}, true
	}
	if e.QuotedInner.Version != 0 {
		h = &e.QuotedInner
	}
	need := 0
	switch h.Proto {
	case 6, 17:
		need = 4
	case 1, 58:
		need = 8
	}
	if (h.Version != 4 && h.Version != 6) || h.FragOff != 0 || need == 0 || h.CapLen-int(h.HdrLen) >= need {
		return cutKey{}, false
	}
	k := cutKey{proto: h.Proto, n: h.TotalLen}
	if h.Version == 4 {
		k.src, k.dst = ip4(h.SrcAddr()), ip4(h.DstAddr())
	} else {
		k.v6, k.src, k.dst = true, w.c.Tables.InternV6(h.Src), w.c.Tables.InternV6(h.Dst)
	}
	return k, true
}

// learnCutQuotes fills cutQ: the tuple of the packet each cut quote names (see the top of the
// file). Nothing is done, and no frame read, when no ICMP error's quote was cut.
func (w *world) learnCutQuotes() {
	want := map[uint32]cutKey{}
	picks := map[cutKey]*cutPick{}
	for i, e := range w.c.Tables.ICMPErrAll() {
		if k, ok := w.cutQuoteKey(&e); ok && i > 0 {
			want[uint32(i)] = k
			picks[k] = nil
			k.n = 0
			picks[k] = nil
		}
	}
	if len(want) == 0 {
		return
	}
	for _, obs := range w.c.Obs {
		for i := range obs {
			w.trimAt(i)
			w.cutPickOf(&obs[i], picks)
		}
	}
	w.cutQ = cutQuotes{named: map[uint32]tuple{}, left: map[uint32]bool{}}
	for i, k := range want {
		p := picks[k]
		if p == nil {
			k.n = 0
			p = picks[k]
		}
		if p != nil && !p.several {
			w.cutQ.named[i] = p.t
		} else {
			w.cutQ.left[i] = true
		}
	}
}

// cutPickOf notes the tuple of packet o under the cutKeys it has (with and without its length) that a
// cut quote asks for.
func (w *world) cutPickOf(o *decode.Observation, picks map[cutKey]*cutPick) {
	if o.Flags&(decode.FlagNotIP|decode.FlagARP|decode.FlagICMPError) != 0 {
		return
	}
	k := cutKey{v6: o.Flags&decode.FlagIPv6 != 0, proto: o.Proto, src: o.Src, dst: o.Dst, n: o.Len}
	if o.Encap() == decode.EncapIPIP {
		c := w.ctxOf(o)
		if c.OuterV == 4 {
			w.cutPick(cutKey{proto: 4, src: ip4(c.OuterSrcAddr()), dst: ip4(c.OuterDstAddr()), n: o.Len}, o, picks)
		}
	}
	w.cutPick(k, o, picks)
	k.n = 0
	w.cutPick(k, o, picks)
}

// cutPick notes packet o's tuple under key k, if a cut quote asks for it.
func (w *world) cutPick(k cutKey, o *decode.Observation, picks map[cutKey]*cutPick) {
	p, asked := picks[k]
	if !asked {
		return
	}
	t := w.tupleOf(o)
	switch {
	case p == nil:
		picks[k] = &cutPick{t: t}
	case p.t != t:
		p.several = true
	}
}

// cutLeft reports whether ICMP error o's quote was cut before its ports and names no one flow.
func (w *world) cutLeft(o *decode.Observation) bool {
	return o.Flags&decode.FlagICMPError != 0 && w.cutQ.left[o.Seq]
}

// cutQuoteNote says, for ICMP errors of one anomaly, how many quote a packet the snaplen cut before its
// ports that no one flow has (their anomaly names no flow for them), and how to name it.
func cutQuoteNote(fs []icmpFinding) string {
	n := 0
	for _, f := range fs {
		if f.cut {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	which := "The error quotes"
	if len(fs) > 1 {
		which = fmt.Sprintf("%d of the %d errors quote", n, len(fs))
	}
	return " " + which + " a packet the capture's snaplen cut before its ports, and several flows have " +
		"its addresses, protocol and length: counted here, in no flow. Capture with -s 0 (whole frames) to " +
		"tell which flow it answers."
}
