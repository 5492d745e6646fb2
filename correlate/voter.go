package correlate

import "github.com/calipath/calipath/decode"

// voteChunk is how many journeys the keyer keys at a time, whose votes the flow stage hands to its
// voter in the keyer's chunk.
const voteChunk = 4096

// voteJob is one journey's vote for its flow direction's path: the journey j, its hops h, its flow,
// its first sighting o and o's tuple t; the voter sets its direction d. On more than one core the keyer finds
// the flow's index fi, and its root key when the journey starts it (fresh) (assignKeyed).
type voteJob struct {
	fl    *flowAcc
	o     *decode.Observation
	h     []uint32 // a.hops(j), found once for the keyer and the voter
	t     tuple
	root  flowKey
	j, fi int32
	d     uint8
	fresh bool
}

// voter takes the journeys' votes for their paths (flowStage.votePath) in journey order: inline, or
// on a goroutine of its own, a chunk at a time, while the flow stage assigns the next journeys their
// flows. On its goroutine it takes the keyer's chunks themselves, once the flow stage has recorded
// them (assignKeyed): the chunks go round between the keyer, the flow stage and the voter (keyPool
// of them, the voter's pipe's pool), and a chunk is keyed again once the voter has taken its votes. A flow's votes are written by the voter alone (its other fields by the flow stage, before
// the chunk that first names it is handed over), so the votes are the same either way. The voter also
// sets each journey's direction (jDir, written by the voter alone, from the flow's client tuple) and
// takes its step of the node pairs' modes (modeFinder), in journey order, as it reads the journey's
// frames for its vote.
type voter struct {
	s     *flowStage
	p     *pipe[[]voteJob] // nil: inline
	modes *modeFinder      // the node pairs' modes, a step per journey with its vote
	ends  *[endSlots]endsEnt
}

// endsEnt is an entry of the voter's cache of a journey's two usual ends: the first sighting's source
// and the last packet hop's destination (key: the addresses, src<<32|dst, and kind: their IPv6 flags,
// the source's << 1, | 1, 0 for an empty entry), and their nodes and owner points as ownerCache.both
// gives them. A flow's journeys repeat their pair of addresses, and the pods of a run talk in few
// pairs: one look-up a journey, where there were two (the world does not change while the voter
// runs: the nodes' addresses the flows show are adopted after it, adoptOwn).
type endsEnt struct {
	key                              uint64
	srcNode, srcPod, dstNode, dstPod int32
	// seen: where the modes count the journeys of the pods' nodes (modeFinder.seen; -1 where either
	// end is no pod's): once modeSample are counted there, modeFinder.step would return at once
	seen int32
	kind decode.Flags
}

// endSlots is how many entries the voter's cache of ends has (32 bytes each).
const (
	endBits  = 10
	endSlots = 1 << endBits
)

// endsSlot is the entry of the cache for the addresses key (endsEnt.key).
func endsSlot(key uint64) uint { return uint(key * 0x9e3779b97f4a7c15 >> (64 - endBits)) }

// fillEnds sets entry c to the ends of first sighting o's source and last packet hop ol's destination,
// whose key and kind they are (take).
//
//go:noinline
func (v *voter) fillEnds(c *endsEnt, o, ol *decode.Observation, key uint64, kind decode.Flags) {
	sn, sp := v.s.owners.both(o.Flags&decode.FlagIPv6 != 0, o.Src)
	dn, dp := v.s.owners.both(ol.Flags&decode.FlagIPv6 != 0, ol.Dst)
	seen := -1
	if w := v.s.a.w; sp >= 0 && dp >= 0 {
		seen = w.pointNode[sp]*v.modes.nn + w.pointNode[dp]
	}
	*c = endsEnt{key, int32(sn), int32(sp), int32(dn), int32(dp), int32(seen), kind}
}

// lastEnds returns the node and owner point of hop g's destination (the last hop's, where it is not
// the last packet hop's), as ownerCache.both gives them.
func (v *voter) lastEnds(g uint32) (node, owner int) {
	last, _ := v.s.a.obs(g)
	return v.s.owners.both(last.Flags&decode.FlagIPv6 != 0, last.Dst)
}

// keyPool is how many chunks of journeys go round between the keyer, the flow stage and the voter:
// the keyer, faster than the flow stage, keeps chunks keyed ahead, so that the flow stage, which
// sets the pace, rarely waits on it when the three goroutines of the stage share two cores, and the
// flow stage hands on its chunks without waiting for the voter.
const keyPool = 16

// startVoter starts the voter of s: with a goroutine taking chunks of up to n journeys from a pool
// of keyPool (v.p.free, which the keyer fills), or inline for n 0.
func (s *flowStage) startVoter(n int) *voter {
	v := &voter{s: s, modes: s.a.newModeFinder(), ends: new([endSlots]endsEnt)}
	if n > 0 {
		v.p = startPool(keyPool, func() *[]voteJob { c := make([]voteJob, 0, n); return &c }, v.work)
	}
	return v
}

// vote takes journey job's vote: inline (startVoter with n 0) only.
func (v *voter) vote(job *voteJob) { v.take(job) }

// voteChunk hands chunk c, recorded, to the voter's goroutine, which gives it back to the pool once
// it has taken its votes.
func (v *voter) voteChunk(c *[]voteJob) { v.p.pass(c) }

// wait returns once every vote is taken.
func (v *voter) wait() {
	if v.p != nil {
		v.p.wait()
	}
}

// work takes the votes of a chunk, in order.
func (v *voter) work(c *[]voteJob) {
	for i := range *c {
		v.take(&(*c)[i])
	}
}

// take sets job's journey's direction, and takes its step of the modes and its vote.
//
// The owners of the packet's source and last destination are looked up once for both: the modes take
// the first sighting's source and the last packet hop's destination; the vote the tuple's source (an
// ICMP error's is the quoted packet's) and the last hop's destination (a WireGuard message's after the
// last packet hop). The usual pair of them is one look-up in the voter's cache of ends (endsEnt),
// written out, so that its answer takes no call; the lines of the calls after it (modes.step,
// votePath) keep their offsets in take, by which default.pgo's inlining goes.
func (v *voter) take(job *voteJob) {
	a := v.s.a
	job.d = direction(job.fl, &job.t)
	v.s.jDir[job.j] = job.d
	h := job.h
	gl := a.w.pktLast(h)
	ol, _ := a.obs(gl)
	o, t, e := job.o, &job.t, voteEnds{}
	key, kind := uint64(o.Src)<<32|uint64(ol.Dst), (o.Flags&decode.FlagIPv6)<<1|ol.Flags&decode.FlagIPv6|1
	c := &v.ends[endsSlot(key)] // (written out: endsOf, with the call to fillEnds, is not inlined)
	if c.key != key || c.kind != kind {
		v.fillEnds(c, o, ol, key, kind)
	}
	e.srcNode, e.srcPod, e.dstNode, e.dstPod = int(c.srcNode), int(c.srcPod), int(c.dstNode), int(c.dstPod)
	// (these lines as many as the two look-ups in ownerCache the cache replaced: see above)
	if dst := -1; c.seen < 0 || v.modes.seen[c.seen] < modeSample { // (else the pair's mode is settled: step returns)
		if e.dstPod >= 0 {
			dst = a.w.pointNode[e.dstPod]
		} else if e.dstNode < 0 && e.srcPod >= 0 && a.opts.Cluster != nil {
			dst = v.s.k8sPodNode(ol.Flags&decode.FlagIPv6 != 0, ol.Dst) // no capture shows where it lives
		}
		v.modes.step(h, e.srcPod, dst)
	}
	if e.firstPod = e.srcPod; t.src != o.Src || t.v6 != (o.Flags&decode.FlagIPv6 != 0) {
		e.srcNode, e.srcPod = v.s.owners.both(t.v6, t.src)
	}
	if g := h[len(h)-1]; g != gl {
		e.dstNode, e.dstPod = v.lastEnds(g)
	}
	v.s.votePath(job.fl, job.d, int(job.j), &job.t, job.o, h, &e)
}

// voteEnds are the node and owner point (-1 for none) of a journey's source (its tuple's) and last
// destination (its last hop's), as ownerCache.both gives them, and the owner point of its first
// sighting's source (firstPod: the tuple's but for an ICMP error, whose tuple is the quoted packet's).
type voteEnds struct{ srcNode, srcPod, dstNode, dstPod, firstPod int }
