package decode

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Outer (underlay) IP fragments of tunnel packets.
//
// A VXLAN or IP-in-IP packet whose outer datagram is larger than an underlay link's MTU, and whose
// outer header does not forbid it (Linux sets no DF on VXLAN's outer header by default), is
// fragmented by the sending node or by a router: a capture after that point holds the outer
// fragments, the first with the UDP/VXLAN or IP-in-IP header and the start of the inner packet, the
// others payload only. The scan reassembles such datagrams per capture interface (fragTracker) and
// decodes each whole datagram as the tunnel packet it carries: its Observation takes the place of the
// fragment at offset 0 (its frame and capture time: a tunnel packet is seen at a point when its first
// fragment is, at every point alike), and the other fragments are accounted to it, no sightings of
// their own (their fingerprint is 0, see Capture.Loose). A datagram some fragment of which never
// arrived (none within fragTimeout of its first, or by the end of the file) is an underlay loss
// before the point: none of its fragments is a sighting there, and the file's problems name it. When
// the missing fragment is the first, the others cannot tell by their ports that they carried VXLAN:
// a UDP datagram between two addresses the file saw VXLAN between (either way, vxlanPairs) is taken
// for a tunnel packet all the same, decided at the end of the file, when every such pair is known.
// Fragments the tracker cannot take (overlapping, beyond the 65,535 bytes an IP datagram can hold,
// more in flight than fragMaxDatagrams or fragMaxBytes) are counted and named; their frames stay what
// they decode to on their own.
//
// Only fragments of the outermost header are looked at: an inner packet's fragments (a pod's UDP
// datagram, WireGuard's) are correlated as before (correlate's learnFragments).

const (
	fragTimeout      = 30e9    // ns: Linux's default ipfrag_time
	fragMaxBytes     = 8 << 20 // fragment payload bytes held at once per file
	fragMaxDatagrams = 1 << 12 // datagrams in flight at once per file
	fragMaxKeys      = 1 << 16 // datagrams, in flight or ended, remembered per file
	// fragDoneKeep is how long an ended datagram's key is remembered after its latest fragment: a
	// copy of a fragment (a frame captured twice) comes within it, and a busy node pair sends 65,536
	// other packets (its IP ids wrap) in no less.
	fragDoneKeep    = 1e9
	fragMaxLen      = 0xffff // the largest IPv4 datagram (and IPv6 payload without a jumbo option)
	maxFragProblems = 8      // incomplete and skipped datagrams named one by one per file
)

// Kinds of a datagram in flight.
const (
	fragUnknown  = iota // its offset-0 fragment not seen yet
	fragTunnel          // VXLAN or IP-in-IP: reassembled
	fragOther           // anything else: left alone
	fragRejected        // cannot be reassembled: left alone
)

// fragKey identifies one datagram's fragments at one capture interface.
type fragKey struct {
	iface    int
	ifIndex  int32 // a cooked v2 capture's interface (-1 otherwise)
	src, dst [16]byte
	id       uint32
	proto    uint8
	v6       bool
}

// fragPiece is one fragment: its payload bytes' declared range and the index of its Observation.
type fragPiece struct {
	off, end int
	capEnd   int // end of its captured bytes (< end: cut by the snaplen)
	idx      int
	frame    uint32
}

// fragDgram is a datagram in flight.
type fragDgram struct {
	key    fragKey
	kind   uint8
	total  int // payload length, from the last fragment (-1: not seen)
	first  int // index of pieces' offset-0 fragment (-1: not seen)
	pieces []fragPiece
	dups   []int // Observations of exact copies of a fragment already held
	data   []byte
	head   []byte // the offset-0 fragment's link-layer and IP headers (IPv6: the fixed header only)
	ipAt   int    // where head's IP header begins
	next   uint8  // IPv6: the fragment header's next header
	rec    Record // the offset-0 fragment's record (Data: nil)
	ts     int64  // capture time of its first fragment seen (fragTimeout)
	last   int64  // capture time of its latest fragment
	done   bool
	// vxlanPair: a UDP datagram without its first fragment, between addresses the file saw VXLAN
	// between: taken for a tunnel packet (fragTracker.end).
	vxlanPair bool
}

// fragFix is what reassembly changes in a file's Observations once it is read: the Observation at idx
// becomes o (its capture time kept) with fingerprint loose; with drop, it keeps its fields and gets
// fingerprint 0 (no sighting).
type fragFix struct {
	idx   int
	o     Observation
	loose uint64
	drop  bool
}

// fragTracker reassembles one file's outer fragments.
type fragTracker struct {
	d      *Decoder
	fi     *FileInfo
	vxlan  uint16
	m      map[fragKey]*fragDgram
	order  []*fragDgram // in order of their first fragment (for the timeout and the limits)
	bytes  int
	live   int // datagrams in flight
	fixes  []fragFix
	lastTs int64
	// Counts, for the file's problems.
	reassembled, incomplete, skipped int
	named                            int
	// headless holds the UDP datagrams that ended without their first fragment, for end to judge
	// once the file's VXLAN pairs are known; atEnd: they were in flight when the file ended.
	headless []headless
}

// headless is a UDP datagram that ended without its offset-0 fragment (fragTracker.lost).
type headless struct {
	g     *fragDgram
	atEnd bool
}

// vxlanPairs are the outer address pairs a file saw VXLAN between (the outer source first). The
// file's Decoder notes them as it meets header contexts new to it (switchCtx): the outer addresses
// are part of a VXLAN packet's context, so every pair is noted, at no cost per packet.
type vxlanPairs map[[2][16]byte]bool

// note adds the pair of VXLAN packet p.
func (v *vxlanPairs) note(p *Packet) {
	if *v == nil {
		*v = vxlanPairs{}
	}
	(*v)[[2][16]byte{p.Outer.Src, p.Outer.Dst}] = true
}

// has reports whether VXLAN went between a and b, either way.
func (v vxlanPairs) has(a, b [16]byte) bool {
	return v[[2][16]byte{a, b}] || v[[2][16]byte{b, a}]
}

func newFragTracker(d *Decoder, fi *FileInfo, vxlanPort uint16) *fragTracker {
	return &fragTracker{d: d, fi: fi, vxlan: vxlanPort, m: map[fragKey]*fragDgram{}}
}

// add takes frame rec, decoded into p as the idx-th Observation of the file, whose outermost IP
// header is a fragment (p.Encap is none and p.Inner has MF or an offset).
func (t *fragTracker) add(rec *Record, p *Packet, idx int) {
	h := &p.Inner
	t.lastTs = rec.Ts
	t.expire(rec.Ts)
	ipStart := len(rec.Data) - h.CapLen
	if ipStart < 0 || h.CapLen < int(h.HdrLen) || h.HdrLen == 0 {
		return
	}
	b := rec.Data[ipStart:]
	off := int(h.FragOff)
	// This fragment's payload length as its header says (IPv6: 40 + payload length, less 40 and the
	// extension headers up to the fragment header's end).
	declared := int(h.TotalLen) - int(h.HdrLen)
	if declared <= 0 || p.GSO {
		return // a zeroed length, a GSO frame: nothing to reassemble
	}
	pl := b[h.HdrLen:min(len(b), int(h.HdrLen)+declared)]
	k := fragKey{iface: rec.Iface, ifIndex: -1, src: h.Src, dst: h.Dst, id: h.ID, proto: h.Proto, v6: h.Version == 6}
	if p.LinkType == LinkSLL2 {
		k.ifIndex = p.IfIndex
	}
	g := t.m[k]
	if g != nil && g.done && rec.Ts-g.last > fragDoneKeep {
		g = nil // the id of a datagram ended a while ago, used again
	}
	if g == nil {
		g = &fragDgram{key: k, total: -1, first: -1, ts: rec.Ts}
		t.m[k] = g
		t.live++
		t.order = append(t.order, g)
	}
	g.last = rec.Ts
	switch g.kind {
	case fragOther, fragRejected:
		return
	}
	end := off + declared
	hdr, limit := int(h.HdrLen), fragMaxLen-int(h.HdrLen) // IPv4: the total length holds the header
	if h.Version == 6 {
		hdr, limit = 40, fragMaxLen // the payload length does not
		if b[6] != 44 {
			t.skip(g, rec.Frame, "IPv6 extension headers come before its fragment header")
			return
		}
	}
	switch why, dup := g.refuse(off, end, limit, h.MF); {
	case dup:
		g.dups = append(g.dups, idx) // an exact copy (the same frame captured twice)
		return
	case why != "":
		t.reject(g, rec.Frame, why)
		return
	}
	if !h.MF {
		g.total = end
	}
	if off == 0 {
		g.kind = t.tunnelKind(p, pl)
		if g.kind == fragOther {
			t.release(g)
			return
		}
		g.first = len(g.pieces)
		g.rec = *rec
		g.rec.Data = nil
		g.head = append(g.head[:0], rec.Data[:ipStart+hdr]...)
		g.ipAt = ipStart
		if h.Version == 6 {
			g.next = b[40]
		}
	}
	grow := max(off+len(pl)-len(g.data), 0) // bytes held grow from the lowest offset to the highest
	if t.bytes+grow > fragMaxBytes || t.live > fragMaxDatagrams {
		t.skip(g, rec.Frame, fmt.Sprintf("more than %d datagrams or %d bytes of fragments in flight", fragMaxDatagrams, fragMaxBytes))
		return
	}
	g.data = append(g.data, make([]byte, grow)...)
	copy(g.data[off:], pl)
	t.bytes += grow
	g.pieces = append(g.pieces, fragPiece{off: off, end: end, capEnd: off + len(pl), idx: idx, frame: rec.Frame})
	if g.complete() {
		t.finish(g)
	}
}

// refuse says why a fragment of g with payload bytes [off, end) (mf: not the last) cannot be one of
// its datagram's, whose payload can hold limit bytes ("": it can), or that it is a copy of one held.
func (g *fragDgram) refuse(off, end, limit int, mf bool) (why string, dup bool) {
	switch {
	case end > limit:
		return fmt.Sprintf("a fragment ends at payload byte %d, beyond the %d an IP datagram can hold", end, limit), false
	case mf && (end-off)%8 != 0:
		return fmt.Sprintf("a fragment other than the last holds %d bytes, not a multiple of 8", end-off), false
	case !mf && g.total >= 0 && g.total != end:
		return fmt.Sprintf("two last fragments end at bytes %d and %d", g.total, end), false
	case mf && g.total >= 0 && end >= g.total:
		return fmt.Sprintf("a fragment ends at byte %d, at or past the last fragment's end %d", end, g.total), false
	}
	for _, q := range g.pieces {
		if q.off == off && q.end == end {
			return "", true
		}
		if off < q.end && q.off < end {
			return fmt.Sprintf("fragments overlap (bytes %d–%d and %d–%d; Linux discards such a datagram)", q.off, q.end, off, end), false
		}
		if !mf && q.end > end {
			return fmt.Sprintf("the last fragment ends at byte %d, before another fragment", end), false
		}
	}
	return "", false
}

// tunnelKind tells from a datagram's offset-0 fragment (decoded into p, its payload pl) whether it
// carries a tunnel packet.
func (t *fragTracker) tunnelKind(p *Packet, pl []byte) uint8 {
	h := &p.Inner
	switch {
	case h.Version == 4 && h.Proto == 4:
		return fragTunnel
	case h.Proto == 17 && len(pl) >= 16 && binary.BigEndian.Uint16(pl[2:4]) == t.vxlan && pl[8]&0x08 != 0:
		return fragTunnel
	}
	return fragOther
}

// complete reports whether every byte of g has arrived (its pieces do not overlap).
func (g *fragDgram) complete() bool {
	if g.total < 0 || g.first < 0 {
		return false
	}
	n := 0
	for _, q := range g.pieces {
		n += q.end - q.off
	}
	return n == g.total
}

// finish decodes complete datagram g as the tunnel packet it carries.
func (t *fragTracker) finish(g *fragDgram) {
	firstIdx := g.pieces[g.first].idx
	// The bytes captured from the start on: a fragment cut by the snaplen ends them.
	slices.SortFunc(g.pieces, func(a, b fragPiece) int { return a.off - b.off })
	got := 0
	for _, q := range g.pieces {
		if q.off > got {
			break
		}
		got = max(got, q.capEnd)
		if q.capEnd < q.end {
			break
		}
	}
	frame := make([]byte, 0, len(g.head)+got)
	frame = append(frame, g.head...)
	ip := frame[g.ipAt:]
	if g.key.v6 {
		binary.BigEndian.PutUint16(ip[4:6], uint16(g.total))
		ip[6] = g.next
	} else {
		hl := int(ip[0]&0x0f) * 4
		sumOK := fold(sum16(0, ip[:hl])) == 0xffff
		binary.BigEndian.PutUint16(ip[2:4], uint16(hl+g.total))
		binary.BigEndian.PutUint16(ip[6:8], binary.BigEndian.Uint16(ip[6:8])&0x4000) // DF kept; no MF, offset 0
		// The header a reassembling host holds; a bad checksum stays bad.
		if sumOK {
			ip[10], ip[11] = 0, 0
			binary.BigEndian.PutUint16(ip[10:12], ^fold(sum16(0, ip[:hl])))
		}
	}
	frame = append(frame, g.data[:got]...)
	rec := g.rec
	rec.Data = frame
	rec.CapLen = len(frame)
	rec.OrigLen = len(g.head) + g.total
	var p Packet
	var o Observation
	t.d.decodePacket(&rec, &p)
	p.GSO = false // reassembled from fragments that each fitted their link: no GSO super-frame
	t.d.Observe(&rec, &p, &o)
	if p.Encap == EncapNone {
		// Not a tunnel packet once whole (a UDP datagram to the VXLAN port without a VXLAN frame in
		// it): every fragment stays what it decoded to.
		t.release(g)
		return
	}
	t.reassembled++
	t.fixes = append(t.fixes, fragFix{idx: firstIdx, o: o, loose: p.Loose})
	for _, q := range g.pieces {
		if q.idx != firstIdx {
			t.fixes = append(t.fixes, fragFix{idx: q.idx, drop: true})
		}
	}
	for _, i := range g.dups {
		t.fixes = append(t.fixes, fragFix{idx: i, drop: true})
	}
	t.release(g)
}

// release forgets g's bytes; its key stays known (a late copy of one of its fragments is then
// not taken for a new datagram) for fragDoneKeep after its latest fragment.
func (t *fragTracker) release(g *fragDgram) {
	t.retire(g)
	g.pieces, g.dups = nil, nil
	if g.kind == fragUnknown || g.kind == fragTunnel {
		g.kind = fragOther
	}
}

// retire ends datagram g in flight: its bytes are given back and it no longer counts as live.
func (t *fragTracker) retire(g *fragDgram) {
	t.bytes -= len(g.data)
	g.data, g.head = nil, nil
	if !g.done {
		t.live--
	}
	g.done = true
}

// reject gives up datagram g: its fragments cannot make one datagram (why).
func (t *fragTracker) reject(g *fragDgram, frame uint32, why string) {
	t.skip(g, frame, why)
	g.kind = fragRejected
}

// skip gives up datagram g without a judgement on it: its frames stay what they decoded to.
func (t *fragTracker) skip(g *fragDgram, frame uint32, why string) {
	t.skipped++
	if t.named < maxFragProblems {
		t.named++
		t.fi.problem("frame %d: the outer IP datagram %s not reassembled: %s (its fragments are correlated one by one)",
			frame, g.name(), why)
	}
	t.release(g)
}

// name describes g's key.
func (g *fragDgram) name() string {
	k := &g.key
	a, b := netip.AddrFrom16(k.src), netip.AddrFrom16(k.dst)
	if !k.v6 {
		a, b = netip.AddrFrom4([4]byte(k.src[:4])), netip.AddrFrom4([4]byte(k.dst[:4]))
	}
	return fmt.Sprintf("%s → %s protocol %d id %d", a, b, k.proto, k.id)
}

// expire ends the datagrams whose first fragment came more than fragTimeout before now (and the
// oldest ones beyond fragMaxKeys), and forgets the ones ended.
func (t *fragTracker) expire(now int64) {
	n := 0
	for ; n < len(t.order); n++ {
		g := t.order[n]
		timedOut := now-g.ts > fragTimeout
		if !timedOut && len(t.order)-n <= fragMaxKeys {
			break
		}
		switch {
		case g.done:
		case timedOut:
			t.lost(g, false)
		default:
			t.skip(g, g.pieces0Frame(), fmt.Sprintf("more than %d datagrams' fragments within %s", fragMaxKeys, fmtAgo(uint64(fragTimeout))))
		}
		if t.m[g.key] == g {
			delete(t.m, g.key)
		}
	}
	if n > 0 {
		t.order = append(t.order[:0], t.order[n:]...)
	}
}

// pieces0Frame is the frame of g's first fragment held (0: none).
func (g *fragDgram) pieces0Frame() uint32 {
	if len(g.pieces) == 0 {
		return 0
	}
	return g.pieces[0].frame
}

// lost ends datagram g, some fragment of which never arrived: if it carried a tunnel packet (its
// first fragment said so, or every fragment is IP-in-IP), it is an underlay loss before this point
// and none of its fragments is a sighting.
func (t *fragTracker) lost(g *fragDgram, atEnd bool) {
	tunnel := g.kind == fragTunnel || g.kind == fragUnknown && g.key.proto == 4 && !g.key.v6 || g.vxlanPair
	if !tunnel && g.kind == fragUnknown && g.key.proto == 17 && len(g.pieces) > 0 {
		// Its first fragment, with the ports, never came: end judges it by its node pair.
		t.retire(g) // its pieces are kept for end
		t.headless = append(t.headless, headless{g, atEnd})
		return
	}
	if !tunnel || len(g.pieces) == 0 {
		t.release(g)
		return
	}
	t.incomplete++
	have := 0
	frames := make([]string, 0, len(g.pieces))
	slices.SortFunc(g.pieces, func(a, b fragPiece) int { return a.off - b.off })
	for _, q := range g.pieces {
		have += q.end - q.off
		frames = append(frames, fmt.Sprintf("%d (bytes %d–%d)", q.frame, q.off, q.end))
		t.fixes = append(t.fixes, fragFix{idx: q.idx, drop: true})
	}
	for _, i := range g.dups {
		t.fixes = append(t.fixes, fragFix{idx: i, drop: true})
	}
	whole := fmt.Sprintf("%d payload bytes of its %d", have, g.total)
	if g.total < 0 {
		whole = fmt.Sprintf("%d payload bytes, its length unknown (its last fragment never came)", have)
	}
	if g.first < 0 {
		whole += ", its first fragment among the missing"
		if g.vxlanPair {
			whole += " (a UDP datagram between addresses this file saw VXLAN between)"
		}
	}
	when := fmt.Sprintf("no other fragment came within %s of its first", fmtAgo(uint64(fragTimeout)))
	if atEnd {
		when = fmt.Sprintf("the capture ends %s after its latest fragment", fmtAgo(uint64(max(t.lastTs-g.last, 0))))
	}
	if t.named < maxFragProblems {
		t.named++
		t.fi.problem("frame %d: the outer IP datagram %s, a tunnel packet, arrived incomplete: frames %s hold %s; "+
			"%s: a fragment was lost before this point, so the tunnel packet never arrived whole here and is not "+
			"counted as seen here", g.pieces[0].frame, g.name(), strings.Join(frames, ", "), whole, when)
	}
	t.release(g)
}

// end ends every datagram still in flight at the end of the file, judges the UDP datagrams that
// ended without their first fragment by the file's VXLAN pairs, and reports the counts.
func (t *fragTracker) end() {
	for _, g := range t.order {
		if !g.done {
			t.lost(g, true)
		}
	}
	for _, h := range t.headless {
		if h.g.vxlanPair = t.d.vx.has(h.g.key.src, h.g.key.dst); h.g.vxlanPair {
			t.lost(h.g, h.atEnd)
		}
	}
	t.order, t.m = nil, nil
	if t.named < t.incomplete+t.skipped {
		t.fi.problem("%d outer IP datagrams in all arrived incomplete and %d were not reassembled", t.incomplete, t.skipped)
	}
	t.fi.OuterReassembled, t.fi.OuterIncomplete, t.fi.OuterSkipped = t.reassembled, t.incomplete, t.skipped
	t.fi.fragFixes = t.fixes
}

// applyFragFixes applies file fi's reassembly changes to its Observations and fingerprints.
func applyFragFixes(fi *FileInfo, obs []Observation, loose *Fingerprints) {
	if fi == nil {
		return
	}
	for _, x := range fi.fragFixes {
		if x.idx >= len(obs) {
			continue
		}
		if x.drop {
			*loose.Slot(x.idx) = 0
			continue
		}
		ts := obs[x.idx].TsLo
		obs[x.idx] = x.o
		obs[x.idx].TsLo = ts
		*loose.Slot(x.idx) = x.loose
	}
	fi.fragFixes = nil
}
