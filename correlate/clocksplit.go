package correlate

import (
	"math/bits"
	"runtime"

	"github.com/calipath/calipath/decode"
)

// clockSplit is how many sampled frames make it worth collecting their packets on two goroutines.
const clockSplit = 1 << 13

// samplePackets collects the sampled frames refs into packets by exact fingerprint, each frame added
// to its packet in the order of refs, and returns them in no particular order (each fingerprint once);
// n sizes the list. On more than one core, with many frames, the work is split (samplePacketsSplit).
func (w *world) samplePackets(refs []clockRef, n int) []fpPkt {
	if runtime.GOMAXPROCS(0) < 2 || len(refs) < clockSplit {
		return w.addSamples(refs, n, 0, 0)
	}
	return w.samplePacketsSplit(refs, n)
}

// samplePacketsIn is samplePackets, split or not as told (for tests).
func (w *world) samplePacketsIn(refs []clockRef, n int, split bool) []fpPkt {
	if !split {
		return w.addSamples(refs, n, 0, 0)
	}
	return w.samplePacketsSplit(refs, n)
}

// samplePacketsSplit is samplePackets on two goroutines: the frames' exact fingerprints worked out
// first, each goroutine those of half the frames (refFps), then each goroutine takes the packets of
// half the fingerprints (all of a packet's frames go to one, in the same order), and the halves are
// joined after: every packet is what one pass makes of it, and the clocks come first, with nothing
// else to do beside them.
func (w *world) samplePacketsSplit(refs []clockRef, n int) []fpPkt {
	fps, mid := make([]uint64, len(refs)), len(refs)/2
	wait := beside(func() { w.refFps(refs[mid:], fps[mid:]) })
	w.refFps(refs[:mid], fps[:mid])
	wait()
	var odd []fpPkt
	wait = beside(func() { odd = w.addSamplesOf(refs, fps, n/2, 1) })
	pkts := w.addSamplesOf(refs, fps, n, 0)
	wait()
	return append(pkts, odd...)
}

// refFps sets fps[k] to the exact fingerprint of the sampled frame refs[k] (exactOf).
func (w *world) refFps(refs []clockRef, fps []uint64) {
	fps = fps[:len(refs)]
	for k := range refs {
		r := &refs[k]
		o := &w.c.Obs[r.f][r.i]
		fp := o.Exact(w.c.Loose[r.f].At(int(r.i))) // exactOf, written out: inlined
		if o.Flags&decode.FlagICMPError != 0 {
			fp = w.c.Tables.QuoteExact(o, fp)
		}
		fps[k] = fp
	}
}

// clockSlab is how many sampled packets addSamples allocates at once.
const clockSlab = 1024

// fpPkt is a sampled packet and its exact fingerprint.
type fpPkt struct {
	fp uint64
	p  *clockPkt
}

// addSamples returns the packets of the frames of refs whose exact fingerprint fp has fp&mask ==
// part (n sizes the list).
func (w *world) addSamples(refs []clockRef, n int, mask, part uint64) []fpPkt {
	s := newSampleSet(n, len(refs))
	for k := range refs {
		r := &refs[k]
		o := &w.c.Obs[r.f][r.i]
		lf := w.c.Loose[r.f].At(int(r.i))
		fp := o.Exact(lf) // exactOf, written out: inlined
		if o.Flags&decode.FlagICMPError != 0 {
			fp = w.c.Tables.QuoteExact(o, fp)
		}
		if fp&mask != part {
			continue
		}
		s.add(w, r, o, lf, fp)
	}
	return s.pkts
}

// addSamplesOf is addSamples of the frames of refs whose exact fingerprint, fps[k] for refs[k]
// (refFps), has fp&1 == part: each frame's fingerprint read, not worked out (the goroutines of
// samplePacketsIn each read every frame's).
func (w *world) addSamplesOf(refs []clockRef, fps []uint64, n int, part uint64) []fpPkt {
	s := newSampleSet(n, len(refs))
	for k := range refs {
		fp := fps[k]
		if fp&1 != part {
			continue
		}
		r := &refs[k]
		o := &w.c.Obs[r.f][r.i]
		s.add(w, r, o, w.c.Loose[r.f].At(int(r.i)), fp)
	}
	return s.pkts
}

// sampleSet is the packets addSamples and addSamplesOf collect. The packets and their first two
// sightings come out of slabs (one allocation per clockSlab packets, not two or three per packet); an
// index of its own finds a frame's packet (a map cost several times as much).
type sampleSet struct {
	slab   []clockPkt
	sights []clockSight
	pkts   []fpPkt
	idx    fpIndex
}

// newSampleSet returns a set sized for n packets of at most frames frames.
func newSampleSet(n, frames int) sampleSet {
	return sampleSet{pkts: make([]fpPkt, 0, min(n, frames)), idx: newFpIndex(frames)} // no more packets than frames
}

// add adds the sampled frame r (its Observation o, loose fingerprint lf and exact fingerprint fp) to
// its packet.
func (s *sampleSet) add(w *world, r *clockRef, o *decode.Observation, lf, fp uint64) {
	slot := s.idx.slot(fp, s.pkts)
	if *slot == 0 { // a new packet: its first sighting written here (addSighting's, without a call)
		if len(s.slab) == 0 {
			s.slab, s.sights = make([]clockPkt, clockSlab), make([]clockSight, 2*clockSlab)
		}
		p := &s.slab[0]
		s.slab = s.slab[1:]
		ttl := w.hopTTL(o)
		s.sights[0] = clockSight{w.pointNode[r.point], r.ts, r.ts, ttl, ambiguousKey(o, ttl), 1, r.ts}
		snd, rcv := -1, -1 // senderNode and receiverNode, their encapsulated frame's case without a call
		if o.Encap() != decode.EncapNone && int(o.Ctx) < len(w.ctxNodes) {
			snd, rcv = w.ctxNodes[o.Ctx][0], w.ctxNodes[o.Ctx][1]
		}
		if snd < 0 {
			snd = w.nodeOf(o.Flags&decode.FlagIPv6 != 0, o.Src)
		}
		if rcv < 0 {
			rcv = w.nodeOf(o.Flags&decode.FlagIPv6 != 0, o.Dst)
		}
		*p = clockPkt{sender: snd, receiver: rcv, loose: lf, seen: s.sights[:1:2]}
		s.sights = s.sights[2:]
		s.pkts = append(s.pkts, fpPkt{fp, p})
		*slot = int32(len(s.pkts))
		return
	}
	p := s.pkts[*slot-1].p
	if p.sender < 0 {
		p.sender = w.senderNode(o)
	}
	if p.receiver < 0 {
		p.receiver = w.receiverNode(o)
	}
	if node := w.pointNode[r.point]; len(p.seen) == 1 && p.seen[0].node != node {
		// The packet's second sighting, on another node (addSighting's usual case, without a call).
		ttl := w.hopTTL(o)
		p.seen = append(p.seen, clockSight{node, r.ts, r.ts, ttl, ambiguousKey(o, ttl), 1, r.ts})
	} else {
		p.addSighting(node, r.ts, w.hopTTL(o), o)
	}
}

// fpIndex finds packets in a list by exact fingerprint: open addressing with linear probing, each
// slot the packet's position in the list + 1 (0: empty), at least twice as many slots as packets.
type fpIndex struct {
	slots []int32
	shift uint
}

// newFpIndex returns an index for up to n packets.
func newFpIndex(n int) fpIndex {
	b := max(bits.Len(uint(2*n)), 1)
	return fpIndex{slots: make([]int32, 1<<b), shift: uint(64 - b)}
}

// slot returns the slot of the packet of list with fingerprint fp, or the empty slot where it goes.
func (x *fpIndex) slot(fp uint64, list []fpPkt) *int32 {
	mask := len(x.slots) - 1
	for i := int(fp * 0x9e3779b97f4a7c15 >> x.shift); ; i = (i + 1) & mask {
		if k := x.slots[i]; k == 0 || list[k-1].fp == fp {
			return &x.slots[i]
		}
	}
}
