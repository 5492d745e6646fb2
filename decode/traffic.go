package decode

import (
	"encoding/binary"
	"math"
)

// CalicoMAC is the MAC of every cali* host-side veth end (and of its proxy ARP replies).
var CalicoMAC = [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}

// CalicoGateway is 169.254.1.1, the pods' default gateway, answered by proxy ARP.
var CalicoGateway = [4]byte{169, 254, 1, 1}

// CalicoGateway6 is fe80::ecee:eeff:feee:eeee, the IPv6 pods' default gateway: the link-local address
// of the host end of their veth (made from its MAC, ee:ee:ee:ee:ee:ee), which the host answers
// neighbour solicitations for itself.
var CalicoGateway6 = [16]byte{0xfe, 0x80, 8: 0xec, 0xee, 0xee, 0xff, 0xfe, 0xee, 0xee, 0xee}

const maxPairs = 32

// Traffic summarises what one capture source carried, for inferring its role and its node's IPs.
// Add is called for every frame and costs a few comparisons; the address sets are small fixed arrays.
type Traffic struct {
	Frames     int
	First      int64
	Last       int64
	LinkTypes  []LinkType
	NoLinkAddr int // IP frames with no link-layer address (RAW, IPv4/IPv6 link types, SLL with none), not encapsulated
	GatewayARP int // ARP who-has 169.254.1.1 or is-at ee:ee:ee:ee:ee:ee
	GatewayND  int // IPv6 neighbour solicitation or advertisement for fe80::ecee:eeff:feee:eeee (CalicoGateway6)
	HostND     int // IPv6 neighbour solicitation or advertisement from fe80::ecee:eeff:feee:eeee: the host resolving its pod
	CalicoMAC  int // Ethernet/SLL frames from or to ee:ee:ee:ee:ee:ee
	VTEPMAC    int // Ethernet frames between two Calico VTEP MACs (66:…), or cooked ones from one, carrying IP without encapsulation
	IPIP       int // frames with an IP-in-IP outer header
	VXLAN      int // frames with a VXLAN outer header
	Plain      int // IP frames without encapsulation
	WireGuard  int // frames carrying a WireGuard message (UDP 51820; among Plain)
	// OtherMAC counts the Ethernet IP frames between two unicast MACs neither of which is
	// ee:ee:ee:ee:ee:ee: frames no pod's veth carries (a node's eth0, vxlan.calico), beside CalicoMAC
	// those of a file that holds several interfaces (LateMerged).
	OtherMAC int

	// PodSrcs are source addresses of IPv4 frames sent to ee:ee:ee:ee:ee:ee (a pod sending to its host);
	// PodDsts destination addresses of frames from ee:ee:ee:ee:ee:ee (the host delivering to its pod).
	PodSrcs [maxPairs][4]byte
	NPodSrc int
	PodDsts [maxPairs][4]byte
	NPodDst int
	// The same triples for IPv6 outer headers (VXLAN over IPv6, vxlan-v6.calico).
	OuterSrc6 [maxPods6][16]byte
	OuterDst6 [maxPods6][16]byte
	InnerSrc6 [maxPods6][16]byte
	NPairs6   int
	// PodSrcs6 and PodDsts6 are the same for IPv6 (pod addresses only: not multicast, link-local or ::).
	PodSrcs6 [maxPods6][16]byte
	NPodSrc6 int
	PodDsts6 [maxPods6][16]byte
	NPodDst6 int
	// Address triples (outer source, outer destination, inner source) of encapsulated IPv4 frames.
	OuterSrc [maxPairs][4]byte
	OuterDst [maxPairs][4]byte
	InnerSrc [maxPairs][4]byte
	NPairs   int

	// ARPs are the first distinct ARP packets seen (their sender's MAC and address, the address asked
	// for): which device an address belongs to (NodeIPConflicts).
	ARPs  [maxARPs]ARPFact
	NARPs int
	// MACs are link addresses of the sampled frames (the frames kept in Samples) and of ARP
	// senders: whether two captures can be of one interface (PointFileDoubts).
	MACs  [maxMACs][6]byte
	NMACs int
	// senders are the link addresses frames came from, 48 bits each (first byte lowest, as the fast
	// path reads them): an Ethernet frame's source, a cooked frame's sender unless the host sent it
	// (packet type outgoing); unicast ones only, the first maxSenders distinct (Senders). Every frame
	// counts, also those without a fingerprint (a pod's router solicitation): a pod's MAC among them
	// puts that pod behind the interface (PointConfig.PodMACs).
	senders  [maxSenders]uint64
	nSenders uint8

	// Samples of (fingerprint, time) for the frames whose fingerprint is ≡ 0 mod sampleMod: the same
	// packets in every capture, so two captures of one interface can be recognised.
	Samples  [maxSamples]FrameSample
	NSamples int

	// Outside counts the frames whose timestamps lie outside First..Last: a day or more away from
	// the rest of their file's frames (see settleTimes), so they cannot be right.
	Outside int

	// spans are the stretches of time the frames fell into while the file was read; First..Last is
	// the span with the most frames, until the end of the scan settles it over the whole file.
	spans  [maxSpans]tsSpan
	nSpans uint8
	cur    uint8 // the span the last frame joined
	main   uint8 // the span with the most frames
	// back says that a frame's time went back from the frame before it on this source (in file order),
	// or that a frame's time was odd, which the next is not compared with (so it may have): noted
	// where addTime takes such frames, off its path for frames in time order, so that a scan that
	// keeps no Stamps knows it for nothing (ScanPoints). Merge does not carry it.
	back    bool
	evicted int // frames of spans dropped to make room for new ones
	// hotLo, hotNotHi and hotN hold addTime's common case for addFast, when the current stretch of
	// time is the main one (cur == main): hotLo is its prev, Last its last, ^hotNotHi spanGap past
	// its last when they were set (at most MaxInt64: a frame past it is addTime's, which sets them
	// again), and hotN the frames addFast put in it that its frames does not count yet. addFast takes a frame of a time in hotLo..^hotNotHi (not odd) into it with two
	// comparisons, where the stretch's index, its tests and its three fields cost about twice as
	// much; addTime counts hotN into the stretch first (settleHot), and sets them again after
	// (armHot). Otherwise hotLo is 0 and hotNotHi 0 (^0 = -1: no time is in 0..-1), as in a zero
	// Traffic; endRuns counts hotN in too.
	hotLo, hotNotHi int64
	hotN            int

	// pairSlots index the triples kept in OuterSrc, OuterDst and InnerSrc by pairHash (open
	// addressing, 1 + the triple's index; 0: a free slot). Twice as many slots as triples, so that
	// one is always free.
	pairSlots [2 * maxPairs]uint8
	// pairsSeen are the two triples addPair met last that are in the set (each as pairKey packs it;
	// zero: none), the newest first: an underlay capture's frames run between a few pairs of
	// addresses, a flow's two directions one after the other.
	pairsSeen [2][2]uint64

	// runs are the runs of frames addFast counts at once (see endRuns), older the one to end next.
	runs  [2]trafficRun
	older uint8
}

// tsSpan is a stretch of capture time: frames no more than spanGap apart.
type tsSpan struct {
	first, last int64  // its earliest and latest time
	prev        int64  // the time of its latest frame in file order
	frames      int    // frames in it
	frame       uint32 // its first frame (in file order)
}

const (
	// maxSpans is how many stretches of time a capture source tracks.
	maxSpans = 4
	// spanGap is how far apart in time two frames of one capture may be and still belong to one
	// stretch of its time. Farther apart, one of them has a timestamp that cannot be right (or the
	// capture saw nothing for a day).
	spanGap = uint64(24 * 3600 * 1e9)
	// backStep is how far a frame's time may go back from the frame before it (in the same stretch
	// of time) before it is flagged: captures reorder frames by microseconds, not by a second.
	backStep = uint64(1e9)
)

// FrameSample is one sampled frame.
type FrameSample struct {
	FP uint64
	Ts int64
	// Encap is the frame's encapsulation: a packet's fingerprint is its inner packet's, the same in
	// the underlay's encapsulated frame and in the tunnel device's decapsulated one (which a
	// receiving node's kernel stamps with the underlay frame's time), so the two are told apart by it.
	Encap Encap
}

// ARPFact is what one ARP packet says: its sender (SHA, SPA) and, for a request, the address asked
// for (TPA).
type ARPFact struct {
	Op       uint16
	SHA      [6]byte
	SPA, TPA [4]byte
}

// addARP keeps f among ARPs unless it is there already or they are full.
func (t *Traffic) addARP(f ARPFact) {
	for i := 0; i < t.NARPs; i++ {
		if t.ARPs[i] == f {
			return
		}
	}
	if t.NARPs < maxARPs {
		t.ARPs[t.NARPs] = f
		t.NARPs++
	}
}

// addMAC keeps m among MACs unless it is there already, is a broadcast or multicast address, or
// they are full.
func (t *Traffic) addMAC(m [6]byte) {
	if m[0]&1 != 0 || m == ([6]byte{}) {
		return
	}
	for i := 0; i < t.NMACs; i++ {
		if t.MACs[i] == m {
			return
		}
	}
	if t.NMACs < maxMACs {
		t.MACs[t.NMACs] = m
		t.NMACs++
	}
}

// addSender keeps m, a sender's link address (see senders), unless it is there already, is a
// broadcast or multicast address, or they are full.
func (t *Traffic) addSender(m uint64) {
	if m&1 != 0 || m == 0 {
		return
	}
	for i := uint8(0); i < t.nSenders; i++ {
		if t.senders[i] == m {
			return
		}
	}
	if t.nSenders < maxSenders {
		t.senders[t.nSenders] = m
		t.nSenders++
	}
}

// Senders returns the link addresses frames came from (see senders), in the order first seen.
func (t *Traffic) Senders() [][6]byte {
	out := make([][6]byte, t.nSenders)
	for i := range out {
		out[i] = macOf(t.senders[i])
	}
	return out
}

// mac48 is a MAC in 48 bits, first byte lowest (as macOf reads it back).
func mac48(m [6]byte) uint64 {
	return uint64(binary.LittleEndian.Uint32(m[0:4])) | uint64(binary.LittleEndian.Uint16(m[4:6]))<<32
}

const (
	maxSenders = 8
	maxMACs    = 8
	maxARPs    = 16
	maxPods6   = 8
	maxSamples = 32
	sampleMod  = 16
)

// Add accounts for one decoded frame with fingerprint fp.
func (t *Traffic) Add(ts int64, p *Packet, fp uint64) { t.add(0, ts, false, p, fp) }

// add is Add for frame number frame; it returns how far the frame's time went back from the frame
// before it, when that is more than backStep (0 otherwise). A frame whose timestamp is known to be
// odd (its record's fraction field overflowed) is not the frame before the next one.
// addFast (decode/fastpath.go) counts the fast path's frames as add and addTime do, from what the
// fast path read: a change to what add or addTime count is made there too (TestFastPathLikeSlow and
// FuzzFastPath compare the two Traffics).
func (t *Traffic) add(frame uint32, ts int64, odd bool, p *Packet, fp uint64) (back uint64) {
	// The first frames (small captures), then a fingerprint-chosen sample (the same packets in
	// every capture, whenever each started).
	sampled := false
	if fp != 0 && t.NSamples < maxSamples && (t.NSamples < maxSamples/2 || fp%sampleMod == 0) {
		t.Samples[t.NSamples] = FrameSample{fp, ts, p.Encap}
		t.NSamples++
		sampled = true
	}
	back = t.addTime(frame, ts, odd)
	t.Frames++
	if n := len(t.LinkTypes); n == 0 || t.LinkTypes[n-1] != p.LinkType {
		t.addLink(p.LinkType)
	}
	var src, dst [6]byte
	haveMAC := false
	switch {
	case p.HasEth:
		src, dst, haveMAC = p.SrcMAC, p.DstMAC, true
	case p.HasSLL && p.SLLAlen == 6:
		copy(src[:], p.SLLAddr[:6])
		haveMAC = true
	}
	cali := haveMAC && (src == CalicoMAC || dst == CalicoMAC)
	if cali {
		t.CalicoMAC++
	}
	if sampled && haveMAC {
		t.addMAC(src)
		if p.HasEth {
			t.addMAC(dst)
		}
	}
	if p.HasARP && p.Encap == EncapNone {
		a := &p.ARP
		if (a.Op == 1 && a.TPA == CalicoGateway) || (a.Op == 2 && a.SHA == CalicoMAC) {
			t.GatewayARP++
		}
		if t.NARPs < maxARPs {
			t.addARP(ARPFact{Op: a.Op, SHA: a.SHA, SPA: a.SPA, TPA: a.TPA})
			t.addMAC(a.SHA)
		}
		return back
	}
	in := &p.Inner
	if in.Version == 0 {
		return back
	}
	if in.Version == 6 && p.Encap == EncapNone && t.gatewayND(ts, p) { // (one line: default.pgo)
		t.GatewayND++
	}
	switch p.Encap {
	case EncapIPIP:
		t.IPIP++
	case EncapVXLAN:
		t.VXLAN++
	default:
		t.Plain++
		if p.HasWG {
			t.WireGuard++
		}
		if !haveMAC && !p.HasEth && (!p.HasSLL || p.SLLAlen == 0) {
			t.NoLinkAddr++
		}
		// A cooked capture (-i any) records one link address, the sender's: on vxlan.calico a VTEP's.
		if (p.HasEth && src[0] == 0x66 && dst[0] == 0x66) || (p.HasSLL && p.SLLAlen == 6 && src[0] == 0x66) {
			t.VTEPMAC++
		}
		// Cooked (-i any): the sender's address only; one the host received (packet type 0) was to it (a veth: ee:ee:…).
		toHost := haveMAC && (dst == CalicoMAC || (p.HasSLL && p.PktType == 0 && src != CalicoMAC))
		if in.Version == 4 && toHost {
			addAddr(&t.PodSrcs, &t.NPodSrc, [4]byte(in.Src[:4]))
		}
		if in.Version == 4 && haveMAC && src == CalicoMAC {
			addAddr(&t.PodDsts, &t.NPodDst, [4]byte(in.Dst[:4]))
		}
		if in.Version == 6 && toHost && PodAddr6(in.Src) {
			addAddr6(&t.PodSrcs6, &t.NPodSrc6, in.Src)
		}
		if in.Version == 6 && haveMAC && src == CalicoMAC && PodAddr6(in.Dst) {
			addAddr6(&t.PodDsts6, &t.NPodDst6, in.Dst)
		}
	}
	if p.Encap != EncapNone && p.Outer.Version == 4 && in.Version == 4 && t.NPairs < maxPairs {
		if osrc, odst, inner := addr32((*[4]byte)(p.Outer.Src[:4])), addr32((*[4]byte)(p.Outer.Dst[:4])), addr32((*[4]byte)(in.Src[:4])); t.newPair(osrc, odst, inner) {
			t.addPair(osrc, odst, inner)
		}
	}
	if p.Encap != EncapNone && p.Outer.Version == 6 && in.Version == 6 {
		t.addPair6(p.Outer.Src, p.Outer.Dst, in.Src)
	}
	if p.HasEth && !cali && dst[0]&1 == 0 { // last, and a comment line above merged: default.pgo's lines stay
		t.OtherMAC++
	}
	if m := mac48(src); haveMAC && (!p.HasSLL || p.PktType != 4) && m != t.senders[0] && m != t.senders[1] { // after every call above (default.pgo)
		t.addSender(m)
	}
	return back
}

// addTime puts a frame's time into its stretch of time and keeps First..Last on the stretch with
// the most frames. It returns how far the time went back from the stretch's previous frame, when
// that is more than backStep.
func (t *Traffic) addTime(frame uint32, ts int64, odd bool) uint64 {
	t.settleHot()
	back := t.addTimeIn(frame, ts, odd)
	t.armHot()
	return back
}

// settleHot counts the frames addFast took in at once (hotN) into the main stretch of time, with its
// prev and last, and clears the range addFast takes them in (see Traffic.hotLo).
func (t *Traffic) settleHot() {
	if t.hotN != 0 {
		s := &t.spans[t.main]
		s.prev, s.last, s.frames = t.hotLo, t.Last, s.frames+t.hotN
		t.hotN = 0
	}
	t.hotLo, t.hotNotHi = 0, 0
}

// armHot sets the range of times addFast takes in at once (see Traffic.hotLo), when the current
// stretch of time is the main one: from its prev to its last plus spanGap.
func (t *Traffic) armHot() {
	if t.nSpans != 0 && t.cur == t.main {
		s := &t.spans[t.cur]
		t.hotLo, t.hotNotHi = s.prev, ^spanEnd(s.last)
	}
}

// spanEnd is the latest time within spanGap after last (at most MaxInt64).
func spanEnd(last int64) int64 {
	if last > math.MaxInt64-int64(spanGap) {
		return math.MaxInt64
	}
	return last + int64(spanGap)
}

// addTimeIn is addTime without addFast's range (Traffic.hotLo).
func (t *Traffic) addTimeIn(frame uint32, ts int64, odd bool) uint64 {
	if t.nSpans != 0 {
		// The common case: in order, within spanGap of the last frame's stretch.
		s := &t.spans[t.cur]
		if ts >= s.prev && (ts <= s.last || uint64(ts)-uint64(s.last) <= spanGap) {
			if !odd {
				s.prev = ts
			} else {
				t.back = true // the next frame is not compared with this one's time
			}
			s.last = max(s.last, ts)
			s.frames++
			if t.cur == t.main {
				t.Last = s.last
				return 0
			}
			t.promote()
			return 0
		}
	}
	return t.addTimeSlow(frame, ts, odd)
}

func (t *Traffic) addTimeSlow(frame uint32, ts int64, odd bool) uint64 {
	if odd || t.nSpans != 0 && ts < t.spans[t.cur].prev {
		t.back = true
	}
	for i := range t.nSpans {
		s := &t.spans[i]
		if !spanNear(ts, s.first, s.last) {
			continue
		}
		var back uint64
		if ts < s.prev && !odd {
			back = uint64(s.prev) - uint64(ts)
		}
		s.first, s.last = min(s.first, ts), max(s.last, ts)
		if !odd {
			s.prev = ts
		}
		s.frames++
		t.cur = i
		t.promote()
		if back > backStep {
			return back
		}
		return 0
	}
	// A new stretch of time: in a free slot, or in place of the one with the fewest frames (whose
	// frames stay counted, in no stretch).
	slot := t.nSpans
	if slot < maxSpans {
		t.nSpans++
	} else {
		slot = 0
		for i := range t.nSpans {
			if i != t.main && (slot == t.main || t.spans[i].frames < t.spans[slot].frames) {
				slot = i
			}
		}
		t.evicted += t.spans[slot].frames
	}
	t.spans[slot] = tsSpan{first: ts, last: ts, prev: ts, frames: 1, frame: frame}
	t.cur = slot
	t.promote()
	return 0
}

// promote makes the current stretch of time the main one if it has more frames, and First..Last
// the main one's bounds.
func (t *Traffic) promote() {
	if t.spans[t.cur].frames > t.spans[t.main].frames {
		t.main = t.cur
	}
	m := &t.spans[t.main]
	t.First, t.Last = m.first, m.last
}

// spanNear reports whether ts is within spanGap of the stretch first..last (without overflow).
func spanNear(ts, first, last int64) bool {
	return (ts >= first || uint64(first)-uint64(ts) <= spanGap) && (ts <= last || uint64(ts)-uint64(last) <= spanGap)
}

func (t *Traffic) addLink(l LinkType) {
	for _, x := range t.LinkTypes {
		if x == l {
			return
		}
	}
	t.LinkTypes = append(t.LinkTypes, l)
}

func (t *Traffic) addPair6(osrc, odst, inner [16]byte) {
	for i := 0; i < t.NPairs6; i++ {
		if t.OuterSrc6[i] == osrc && t.OuterDst6[i] == odst && t.InnerSrc6[i] == inner {
			return
		}
	}
	if t.NPairs6 < maxPods6 {
		t.OuterSrc6[t.NPairs6], t.OuterDst6[t.NPairs6], t.InnerSrc6[t.NPairs6] = osrc, odst, inner
		t.NPairs6++
	}
}

// addAddr6 adds an IPv6 address to a small set of *n (dropped when full).
func addAddr6(set *[maxPods6][16]byte, n *int, a [16]byte) {
	for i := 0; i < *n; i++ {
		if set[i] == a {
			return
		}
	}
	if *n < maxPods6 {
		set[*n] = a
		*n++
	}
}

// addAddr adds a to a small set of *n (dropped when full). (Taking the set by pointer: by value it
// was copied in and out on every frame.)
func addAddr(set *[maxPairs][4]byte, n *int, a [4]byte) {
	for i := 0; i < *n; i++ {
		if set[i] == a {
			return
		}
	}
	if *n < maxPairs {
		set[*n] = a
		*n++
	}
}

// newPair reports whether a triple is not one of the two addPair met last (pairsSeen), which are in
// the set. Its callers call addPair only then, and only while the set has room (a full set takes no
// more: addPair would search it and drop the triple not found): an underlay capture carries a triple
// on every frame, one of a few (a flow's two directions), and of many pods fills the set early; the
// call and addPair's search cost about 45 instructions a frame.
func (t *Traffic) newPair(osrc, odst, inner uint32) bool {
	a, b := pairKey(osrc, odst, inner)
	return (a != t.pairsSeen[0][0] || b != t.pairsSeen[0][1]) && (a != t.pairsSeen[1][0] || b != t.pairsSeen[1][1])
}

// pairKey packs a triple as pairsSeen keeps it: the outer addresses in a, the inner source in b's
// low half with bit 32 set (a zero key is none).
func pairKey(osrc, odst, inner uint32) (a, b uint64) {
	return uint64(osrc) | uint64(odst)<<32, uint64(inner) | 1<<32
}

// seenPair makes the triple (a, b: pairKey), which is in the set, the newest of pairsSeen.
func (t *Traffic) seenPair(a, b uint64) {
	t.pairsSeen[1], t.pairsSeen[0] = t.pairsSeen[0], [2]uint64{a, b}
}

// addPair adds a triple to OuterSrc, OuterDst and InnerSrc (dropped when they are full), each address
// given as its four bytes read little-endian (addr32), so that the three go in registers: an array of
// more than one element is passed in memory. It finds a triple through pairSlots rather than by
// comparing it with each kept one: an underlay capture carries a triple on every frame, and holds as
// many as the set does. The triple, once in the set, is the newest of pairsSeen (newPair).
func (t *Traffic) addPair(osrc, odst, inner uint32) {
	h := pairHash(osrc, odst, inner)
	for {
		j := t.pairSlots[h]
		if j == 0 {
			break
		}
		i := (j - 1) % maxPairs // (j is at most maxPairs: the modulo, an AND, leaves out the bounds tests)
		if binary.LittleEndian.Uint32(t.OuterSrc[i][:]) == osrc && binary.LittleEndian.Uint32(t.OuterDst[i][:]) == odst &&
			binary.LittleEndian.Uint32(t.InnerSrc[i][:]) == inner {
			t.seenPair(pairKey(osrc, odst, inner))
			return
		}
		h = (h + 1) % uint(len(t.pairSlots))
	}
	if n := t.NPairs; n < maxPairs {
		binary.LittleEndian.PutUint32(t.OuterSrc[n][:], osrc)
		binary.LittleEndian.PutUint32(t.OuterDst[n][:], odst)
		binary.LittleEndian.PutUint32(t.InnerSrc[n][:], inner)
		t.NPairs++
		t.pairSlots[h] = uint8(t.NPairs)
		t.seenPair(pairKey(osrc, odst, inner))
	}
}

// addr32 is IPv4 address a as addPair takes it: its four bytes read little-endian (one load).
func addr32(a *[4]byte) uint32 { return binary.LittleEndian.Uint32(a[:]) }

// pairHash is where a triple's search in Traffic.pairSlots begins.
func pairHash(osrc, odst, inner uint32) uint {
	k := (uint64(osrc)<<32 | uint64(odst)) ^ uint64(inner)*0x9e3779b97f4a7c15
	return uint(k*0xbf58476d1ce4e5b9>>32) % (2 * maxPairs) // len(Traffic.pairSlots)
}

// Merge adds u's counts into t.
func (t *Traffic) Merge(u *Traffic) {
	if u.Frames == 0 {
		return
	}
	if t.Frames == 0 || u.First < t.First {
		t.First = u.First
	}
	if u.Last > t.Last {
		t.Last = u.Last
	}
	t.Frames += u.Frames
	t.Outside += u.Outside
	for _, l := range u.LinkTypes {
		t.addLink(l)
	}
	t.NoLinkAddr += u.NoLinkAddr
	t.GatewayARP += u.GatewayARP
	t.GatewayND += u.GatewayND
	t.HostND += u.HostND
	t.CalicoMAC += u.CalicoMAC
	t.OtherMAC += u.OtherMAC
	t.VTEPMAC += u.VTEPMAC
	t.IPIP += u.IPIP
	t.VXLAN += u.VXLAN
	t.WireGuard += u.WireGuard
	t.Plain += u.Plain
	for i := 0; i < u.NPodSrc; i++ {
		addAddr(&t.PodSrcs, &t.NPodSrc, u.PodSrcs[i])
	}
	for i := 0; i < u.NPodDst; i++ {
		addAddr(&t.PodDsts, &t.NPodDst, u.PodDsts[i])
	}
	for i := 0; i < u.NPairs6; i++ {
		t.addPair6(u.OuterSrc6[i], u.OuterDst6[i], u.InnerSrc6[i])
	}
	for i := 0; i < u.NPodSrc6; i++ {
		addAddr6(&t.PodSrcs6, &t.NPodSrc6, u.PodSrcs6[i])
	}
	for i := 0; i < u.NPodDst6; i++ {
		addAddr6(&t.PodDsts6, &t.NPodDst6, u.PodDsts6[i])
	}
	for i := 0; i < u.NPairs; i++ {
		t.addPair(addr32(&u.OuterSrc[i]), addr32(&u.OuterDst[i]), addr32(&u.InnerSrc[i]))
	}
	for i := 0; i < u.NARPs; i++ {
		t.addARP(u.ARPs[i])
	}
	for i := 0; i < u.NMACs; i++ {
		t.addMAC(u.MACs[i])
	}
	for i := uint8(0); i < u.nSenders; i++ {
		t.addSender(u.senders[i])
	}
	for i := 0; i < u.NSamples && t.NSamples < maxSamples; i++ {
		t.Samples[t.NSamples] = u.Samples[i]
		t.NSamples++
	}
}

// SameFrames counts the sampled frames of t that u captured at the same moment (within 1 µs) and in
// the same form (encapsulated alike): two captures of one interface see each frame with the kernel's
// one timestamp. A tunnel device's decapsulated packet and the underlay's encapsulated frame it came
// in are the same packet at the same moment (decapsulation keeps the frame's receive time), but not
// the same frame: they are not counted.
func (t *Traffic) SameFrames(u *Traffic) int {
	n := 0
	for i := 0; i < t.NSamples; i++ {
		for j := 0; j < u.NSamples; j++ {
			d := t.Samples[i].Ts - u.Samples[j].Ts
			if t.Samples[i].FP == u.Samples[j].FP && d <= 1000 && d >= -1000 && t.Samples[i].Encap == u.Samples[j].Encap {
				n++
				break
			}
		}
	}
	return n
}
