package correlate

import "runtime"

// clockSplit is how many sampled frames make it worth collecting their packets on two goroutines.
const clockSplit = 1 << 13

// samplePackets collects the sampled frames refs into packets by exact fingerprint, each frame added
// to its packet in the order of refs; n sizes the map. On more than one core, with many frames, two
// goroutines each take the packets of half the fingerprints (all of a packet's frames go to one, in
// the same order), and the halves are joined after: every packet is what one pass makes of it, and
// the clocks come first, with nothing else to do beside them.
func (w *world) samplePackets(refs []clockRef, n int) map[uint64]*clockPkt {
	pkts := make(map[uint64]*clockPkt, n)
	if runtime.GOMAXPROCS(0) < 2 || len(refs) < clockSplit {
		w.addSamples(pkts, refs, 0, 0)
		return pkts
	}
	odd := make(map[uint64]*clockPkt, n/2)
	wait := beside(func() { w.addSamples(odd, refs, 1, 1) })
	w.addSamples(pkts, refs, 1, 0)
	wait()
	for fp, p := range odd {
		pkts[fp] = p
	}
	return pkts
}

// clockSlab is how many sampled packets addSamples allocates at once.
const clockSlab = 1024

// addSamples adds to pkts the frames of refs whose packet's exact fingerprint fp has fp&mask == part.
// The packets and their first two sightings come out of slabs (one allocation per clockSlab
// packets, not two or three per packet).
func (w *world) addSamples(pkts map[uint64]*clockPkt, refs []clockRef, mask, part uint64) {
	var slab []clockPkt
	var sights []clockSight
	for _, r := range refs {
		o := &w.c.Obs[r.f][r.i]
		lf := w.c.Loose[r.f].At(int(r.i))
		fp := o.Exact(lf)
		if fp&mask != part {
			continue
		}
		p := pkts[fp]
		if p == nil {
			if len(slab) == 0 {
				slab, sights = make([]clockPkt, clockSlab), make([]clockSight, 2*clockSlab)
			}
			p, slab = &slab[0], slab[1:]
			*p = clockPkt{sender: -1, receiver: -1, loose: lf, seen: sights[:0:2]}
			sights = sights[2:]
			pkts[fp] = p
		}
		if p.sender < 0 {
			p.sender = w.senderNode(o)
		}
		if p.receiver < 0 {
			p.receiver = w.receiverNode(o)
		}
		p.addSighting(w.pointNode[r.point], r.ts, w.hopTTL(o), o)
	}
}
