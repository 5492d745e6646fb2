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
}

// keyPool is how many chunks of journeys go round between the keyer, the flow stage and the voter:
// the keyer, faster than the flow stage, keeps chunks keyed ahead, so that the flow stage, which
// sets the pace, rarely waits on it when the three goroutines of the stage share two cores, and the
// flow stage hands on its chunks without waiting for the voter.
const keyPool = 16

// startVoter starts the voter of s: with a goroutine taking chunks of up to n journeys from a pool
// of keyPool (v.p.free, which the keyer fills), or inline for n 0.
func (s *flowStage) startVoter(n int) *voter {
	v := &voter{s: s, modes: s.a.newModeFinder()}
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
// last packet hop). The two usual look-ups are written out (known, else both), so that the cache's
// answer takes no call; the lines of the calls after them (modes.step, votePath) keep their offsets in
// take, by which default.pgo's inlining goes.
func (v *voter) take(job *voteJob) {
	a := v.s.a
	job.d = direction(job.fl, &job.t)
	v.s.jDir[job.j] = job.d
	h := job.h
	gl := a.w.pktLast(h)
	ol, _ := a.obs(gl)
	o, t, e := job.o, &job.t, voteEnds{}
	sv6, dv6, ok := o.Flags&decode.FlagIPv6 != 0, ol.Flags&decode.FlagIPv6 != 0, false
	if e.srcNode, e.srcPod, ok = v.s.owners.known(sv6, o.Src); !ok {
		e.srcNode, e.srcPod = v.s.owners.both(sv6, o.Src)
	}
	if e.dstNode, e.dstPod, ok = v.s.owners.known(dv6, ol.Dst); !ok {
		e.dstNode, e.dstPod = v.s.owners.both(dv6, ol.Dst)
	}
	dst := -1
	if e.dstPod >= 0 {
		dst = a.w.pointNode[e.dstPod]
	} else if e.dstNode < 0 && e.srcPod >= 0 && a.opts.Cluster != nil {
		dst = v.s.k8sPodNode(ol.Flags&decode.FlagIPv6 != 0, ol.Dst) // no capture shows where it lives
	}
	v.modes.step(h, e.srcPod, dst)
	if e.firstPod = e.srcPod; t.src != o.Src || t.v6 != (o.Flags&decode.FlagIPv6 != 0) {
		e.srcNode, e.srcPod = v.s.owners.both(t.v6, t.src)
	}
	if g := h[len(h)-1]; g != gl {
		last, _ := a.obs(g)
		e.dstNode, e.dstPod = v.s.owners.both(last.Flags&decode.FlagIPv6 != 0, last.Dst)
	}
	v.s.votePath(job.fl, job.d, int(job.j), &job.t, job.o, h, &e)
}

// voteEnds are the node and owner point (-1 for none) of a journey's source (its tuple's) and last
// destination (its last hop's), as ownerCache.both gives them, and the owner point of its first
// sighting's source (firstPod: the tuple's but for an ICMP error, whose tuple is the quoted packet's).
type voteEnds struct{ srcNode, srcPod, dstNode, dstPod, firstPod int }
