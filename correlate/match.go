package correlate

import (
	"math"
	"math/bits"
	"runtime"
	"sort"
	"time"
	"unsafe"

	"github.com/calipath/calipath/decode"

	"github.com/calipath/calipath/internal/hugepage"
	"github.com/calipath/calipath/internal/prefault"
)

const maxStages = 16

// jstate is a journey while it is open for matching.
type jstate struct {
	exact  uint64 // exact fingerprint of its latest sighting (after any NAT)
	exact0 uint64 // exact fingerprint of its first sighting
	loose  uint64 // NAT-tolerant fingerprint, its key in the loose index
	// nextSame is the next older journey in its bucket of the loose index (multimap), beside loose:
	// a walk past a journey of another key reads both together.
	nextSame int32
	lastG    uint32 // global id of the latest hop's observation
	lastTs   int64  // corrected time of the latest hop
	seq      uint32 // TCP sequence number and payload length of the first hop (segmentation offload)
	plen     uint32
	stages   [maxStages]uint32
	nstages  uint8
	flags    uint8 // jDupRec, jIndexed
	lastNode int16
	id1      int32 // the journey's id + 1: a closed journey's state stays in the ring until its slot is reused
	// stageBits has stageBit(s) set for each stage s in stages: most stages a sighting asks about
	// were not visited, and most of those are told so by their bit, without the stages read.
	stageBits uint32
	// hops counts the sightings attached (attach): the journey's hops, duplicate copies aside, kept
	// in hopsOf as it closes (keepHops), and mod 256 each one's rank in the journey, which its slot
	// carries (rankShift) for the arena to lay the hops out in this order (fill). In the room of two
	// bools, now flags' bits: jstate stays 128 bytes.
	hops uint32
}

// jstate flags.
const (
	jDupRec  = 1 << iota // it may have an entry in dupRecs (set when one is added)
	jIndexed             // it is in the loose index (multimap; open journeys only)
	jMoved               // a sighting was attached on another node than the one before it (attach)
	// jOutOfOrder: the journey's hops, in the order attached (their ranks), may not be in path order
	// (see outOfOrder): a sighting attached not later than the latest before it, or on a node after
	// the journey had moved once already (jMoved; it may have come back to a node). keepHops lists it.
	jOutOfOrder
	// jAlone: no open journey of its NAT-tolerant fingerprint was in the loose index when it was put
	// there (beginUsual, and stepKeys' new journey: the walk before found none), so none is after it
	// in its chain as long as it is open: the chain's journeys after it are older (put before it; a
	// new table puts them again in id order, and unindex only takes journeys out), and those of its
	// fingerprint were closed then, and stay closed (base only rises). stepKeys' walk then need not
	// look past it for another. (Not set where a journey begins otherwise: begin does not walk.)
	jAlone
)

// open makes js the state of a journey opening at t on node with exact fingerprint e and NAT-tolerant
// fingerprint loose, id1 its id + 1: every field as jstate{exact: e, exact0: e, loose: loose, lastTs:
// t, lastNode: node, id1: id1} has it but stages, left as the ring's slot had them: nothing past
// nstages (0 here) is ever read (the 64 bytes a new journey cleared, out of its 128). (Its node, so
// that attaching its first sighting does not count as a move: jMoved.) beginUsual writes what open,
// put and first write, written out: to be changed with them.
func (js *jstate) open(e, loose uint64, t int64, node int16, id1 int32) {
	js.exact, js.exact0, js.loose, js.nextSame, js.lastG, js.lastTs = e, e, loose, 0, 0, t
	js.seq, js.plen, js.nstages, js.flags, js.lastNode, js.id1, js.stageBits, js.hops = 0, 0, 0, 0, node, id1, 0, 0
}

// first attaches sighting s, at stage (s.stage, its bit s.bit), to js, journey j just opened on s's
// node (open): attach for a journey's first sighting (place's call of attach, grown past the inline
// budget, was not inlined).
func (js *jstate) first(j int32, s *sighting, stage uint32) {
	js.stages[0], js.nstages, js.stageBits = stage, 1, s.bit
	js.lastG, js.hops = s.g, 1
	*s.slot = uint64(j) + 1 // (rank 0)
}

// stageBit is stage s's bit in a journey's stageBits: one of 32, its bits mixed first (a stage is
// a point's number shifted left, with the encapsulation and TTL below it for -i any captures).
func stageBit(s uint32) uint32 { return 1 << (uint64(s) * 0x9e3779b97f4a7c15 >> 59) }

// inherit adds the stages p holds to the journey's own, as passed: after them (its first stage stays
// stages[0]), each once, up to maxStages.
func (j *jstate) inherit(p *passedStages) {
	for _, s := range p.stages[:p.n] {
		if j.nstages < maxStages && !j.visited(s) {
			j.stages[j.nstages] = s
			j.nstages++
			j.stageBits |= stageBit(s)
		}
	}
}

func (j *jstate) visited(s uint32) bool { return j.visitedBit(s, stageBit(s)) }

// visitedBit is visited for stage s whose stageBit is bit.
func (j *jstate) visitedBit(s, bit uint32) bool {
	if j.stageBits&bit == 0 {
		return false
	}
	for i := uint8(0); i < j.nstages; i++ {
		if j.stages[i] == s {
			return true
		}
	}
	return false
}

// gsoEvent records segmentation offload: a large TCP frame (parent) seen as several smaller ones
// (children, each a journey of its own) from one point on — or, for a merge (GRO), several
// journeys that continue as one larger frame.
type gsoEvent struct {
	parent, child int32
	at            uint32 // global id of the observation where it happened
	merge         bool   // child is the merged (larger) journey; parent one of the segments
	// frag: child is a later IP fragment of parent's datagram (a WireGuard message, wgfrag.go): a
	// piece beside it, not its continuation; parent goes on itself, and at is the fragment's frame.
	frag bool
}

// natEvent records that journey j's packet was rewritten between two observations.
type natEvent struct {
	j        int32
	from, to uint32 // global observation ids
	// ahead: from, the packet before the rewrite, was joined to the journey after the sightings past
	// the rewrite, which the clocks put first within their bounds (natAhead); to is then the journey's
	// latest sighting when it was joined, and aheadFirst (arena) makes from's node's hops the journey's
	// first and to the hop after them.
	ahead bool
}

// natRefusal records an ICMP error that would have continued journey j as rewritten by NAT (the
// NAT-tolerant fingerprint matched, on j's node) but that errNATShown refused, and so began journey
// nj: last seen as global observation from, seen again as to. See icmpNATUnknown.
type natRefusal struct {
	j, nj    int32
	from, to uint32
}

// natReversal records journey j, begun by a sighting of journey of's packet before a NAT rewrite that
// the clocks put after of's rewritten sightings (see matcher.natReversed).
type natReversal struct{ j, of int32 }

// matcher joins Observations into journeys.
type matcher struct {
	w        *world
	clocks   []clockModel
	srcClock []clockModel // clocks by source
	srcAt    []srcStage   // stage and node by source
	window   int64
	dupWin   int64
	// loose indexes open journeys by NAT-tolerant fingerprint; an exact match is an entry whose
	// journey has the sighting's exact fingerprint (identical packets share the loose one).
	loose *multimap
	// tcp holds each TCP connection direction's data journeys (by tuple hash) that may still be part
	// of a GSO split or GRO merge: open, and opened within offloadWin. Oldest first; expired ones are
	// dropped from the front when the connection is next looked at, or by a sweep.
	tcp      map[uint64][]int32
	tcpSweep int // journeys added until the next sweep
	// natTuple maps a TCP connection direction's tuple hash to the one NAT rewrote it to (nil: none
	// seen), so that pieces and super-frames on either side of the rewrite meet (offload).
	natTuple map[uint64]uint64
	gso      []gsoEvent
	// ring holds the state of open journeys: ids base..next-1 (journeys are created and closed in id
	// order, so the open ones are a contiguous range), at index id mod len(ring).
	ring []jstate
	mask int32 // len(ring)-1
	base int32
	next int32
	// evictAt is when the oldest open journey becomes idle past the window (its last sighting's time
	// plus the window; never, when none is open): step calls evict only for a sighting after it. The
	// oldest journey's last sighting can only move later, so evictAt is early if anything, never late.
	evictAt int64
	// winEnd is 2*window+1 (0 for a negative window): step's walk takes an open journey last seen at
	// lastTs as within the window of a sighting at t when uint64(t-lastTs+window) < winEnd, one test
	// where scanPlain makes two. It holds exactly when -window <= t-lastTs <= window, which scanPlain's
	// two tests say too, but where t-lastTs is the lowest int64 (its negation overflows): step leaves
	// that sighting to stepRare, as any it does not take (see step).
	winEnd uint64
	// fp holds each Observation's fingerprint until the merge has read it; the matcher then writes the
	// Observation's journey + 1 (0: none) in its place, so the journey ids take no memory of their own.
	// It is the Capture's (Options.Lean) or a copy.
	fp  []decode.Fingerprints
	jOf []int32 // after matching: global observation id → journey + 1 (0: none) | its rank << 24 (jRank), from fp
	// jRank is the bits of jOf's values that hold each hop's rank in its journey (rankBits), or 0
	// when the journey ids need them (2^24 journeys or more; a matcher made without collectJourneys).
	jRank uint32
	jHops []uint32 // after matching: hops of journey j (duplicates aside) at j+1
	// hopsOf holds the hops of each closed journey (jstate.hops) at j+1 (0 at 0) while matching: evict
	// adds those it closes, run those still open at its end; collectJourneys lays them out as jHops.
	hopsOf hopCounts
	// outOfOrder lists the journeys whose hops, in the order attached (their ranks: see rankShift),
	// may not be in path order (keepHops, in id order; wgMerge appends the journeys it joins others
	// into). Every other journey's were attached at strictly rising times, on one node or two (one
	// move: its nodes together), at most maxQuickHops of them: laid out by rank, hopsInOrder passes
	// it but for a time in hopTs's side map, which the fill alone knows of (sortHops).
	outOfOrder []int32
	jDups      map[int32]int // after matching: duplicate copies per journey
	jT0        times         // each journey's first sighting in corrected time (sightings come in time order)
	dup        []uint64      // bitset: the observation is a duplicate copy at a point already visited
	nat        []natEvent
	// closed remembers recently closed journeys by exact fingerprint (direct-mapped, overwritten), and
	// late the new journeys that were the same packet seen past the window (see noteLate).
	closed []closedJ
	// closedExact is each closed slot's exact fingerprint (closed[i].exact): most new journeys look
	// for none, and find that in 8 bytes rather than in an 80-byte entry.
	closedExact []uint64
	// recent remembers, only with a --window below lateNATWin, every journey closed within lateNATWin
	// by exact and NAT-tolerant fingerprint (recent.go): what closed forgets on a collision.
	recent *recentClosed
	late   []lateEv
	// lateForgotten counts the late sightings not kept because late had reached maxLate.
	lateForgotten int
	// passed holds, from noteLate to place, the stages of the older journey a new one continues past
	// the window (see passedStages); its n is 0 otherwise.
	passed passedStages
	// Byte-identical packets (see ambiguous.go): duplicate copies taken per open journey, the exact
	// fingerprints matched by position, and the journeys matched so (bitset).
	dupRecs    map[int32][]provDup
	amb        map[uint64]*ambGroup
	ambByLoose map[uint64][]*ambGroup // the same, by NAT-tolerant fingerprint
	// natFlows holds the flow rewrites (decode.Tables.FlowKeys, before and after, both directions) that
	// NAT events of packets other than ICMP errors showed: an ICMP error's NAT candidate must show one
	// of them (errNATShown).
	natFlows map[[2]uint64]struct{}
	// natReversed holds the journeys begun by a sighting that is, by a flow rewrite a joined NAT event
	// showed, an open journey's packet before that rewrite, with a higher TTL, where the clocks put the
	// rewritten sightings first by more than both clocks' bounds allow (within them natAhead joins
	// it): the reply of a NodePort whose endpoint is on the node that DNATs, un-DNATed on that node,
	// whose eth0 is not captured, and seen first at the router past it when the node's clock is off by
	// more than the way between them and more than its bound says (a given --offset claims none). Such
	// a journey is not joined (the clocks say the router came first), and it is never counted lost: placement counts it not captured where it would be
	// lost, and detectClockInconsistent says why. natRevG is the global id + 1 of the sighting natBehind
	// last found so, natRevOf the open journey it found.
	natReversed []natReversal
	natRevG     uint32
	natRevOf    int32
	// flowFirst holds, for each source dnatOpens asked about, each flow's first sighting there and
	// each conversation's span (natopens.go).
	flowFirst map[uint16]*srcFlows
	// natUnsure holds the NAT sightings dnatOpens could not tell an opening from a reply (natopens.go).
	natUnsure []openUnsure
	// natRefused holds the errors errNATShown kept from a NAT candidate that then began a journey.
	natRefused []natRefusal
	// errCopies holds the ICMP errors taken for copies of a frame (copyWin): two errors sent that close
	// together look the same when one capture holds both (icmpcopies.go).
	errCopies []errCopy
	ambJ      []uint64
	// cameBack: some journey came back through a point it left by (stageBack): the arena's revisit.
	cameBack bool
	batch    int   // how many sightings the merge hands over at a time (0: sightingBatch; tests set others)
	sliceCap int   // how many sightings a slice of the merge holds at most (0: sliceCap; tests set others)
	touched  int32 // the values read ahead (matchBatch), kept so that the reads are made
	unsized  bool  // prepare leaves the loose index at its first size (the tests': see sizeIndex)
	taken    int   // sightings matched (runDirect)
	// usualLeft is how many more new journeys beginUsual may begin without its tests of the rooms, of
	// recent and of an open journey before them (usualRoom: 0, to be made again).
	usualLeft int32
}

// stageOf identifies where on the path an Observation is: its point and its encapsulation, and for -i
// any captures without interface indexes (one point for every interface) also its TTL. A packet may
// cross one point twice, once in a tunnel and once not: a node that takes it in on eth0 and sends it
// out of eth0 in its tunnel (a NodePort DNATed to a pod on another node), and the router interface
// before that node, see it so, as two stages of its journey.
func (m *matcher) stageOf(o *decode.Observation) uint32 {
	src := &m.srcAt[o.Source]
	s := src.stage | uint32(o.Encap())<<8
	if src.anyRole {
		s |= uint32(o.TTL)
	}
	return s
}

// stageBack marks the stage of a packet's second passage through a point it left by, rewritten by NAT
// in between, in the same encapsulation (hairpin): a pod reaching a Service whose only endpoint is
// itself sends the packet out of its veth to the node, which DNATs it to the pod and masquerades it
// (to the node's address) and sends it back into the same veth; the answer comes back so too. Such a
// sighting is a stage of its own in the packet's journey (hairpin), not a copy of its frame nor
// another packet. (Below the point's number, above the encapsulation: see stageOf.)
const stageBack = 1 << 11

// hairpin reports whether sighting s, at a stage journey js has visited, is js's packet coming back
// through that point rewritten by NAT (stageBack): the journey's latest stage is that point's, where
// it has not come back yet, and the node forwarded it in between (its TTL or hop limit is lower).
func (m *matcher) hairpin(js *jstate, s *sighting, stage uint32) bool {
	if js.nstages == 0 || js.stages[js.nstages-1] != stage || js.visited(stage|stageBack) {
		return false
	}
	p, _ := m.w.obsAt(js.lastG)
	return s.o.TTL < p.TTL
}

// podForwarded reports whether sighting s, at the pod veth where journey js was last seen delivered
// into its pod (arrived), is its packet coming back out of that veth forwarded by the pod, rewritten
// by NAT in the pod's own network namespace: an egress gateway pod un-masquerades the replies sent to
// its address and routes them on to the client pod. The packet left the pod by the veth it came in
// by, at the same stage, with a TTL (or hop limit) one lower: the pod's routing; a packet the pod sent
// itself carries an initial TTL, above the delivered one, and one out of another pod's veth is at
// another stage (TestNoNATAfterDelivery).
func (m *matcher) podForwarded(js *jstate, s *sighting, stage uint32) bool {
	if js.nstages == 0 || js.stages[js.nstages-1] != stage {
		return false
	}
	p, _ := m.w.obsAt(js.lastG)
	return s.o.TTL+1 == p.TTL
}

// natBehind reports whether open journey js, last seen on another node than node, may be the packet
// of NAT sighting o all the same: the journey passed node before (a stage of one of its points), and
// its latest sighting carries a higher TTL or hop limit than o, so it was upstream of o, not past it.
// A clock not corrected (a host outside the cluster) or bounded on one side can put the sender's copy
// of a packet after the router's that forwarded it; the packet then goes on from the router to a node
// no capture shows, which rewrites it (a NodePort's DNAT and masquerade) and sends it back through the
// router: the rewritten sighting is on the router's node, the journey's latest on the sender's. The
// TTL never rises on a packet's way (NAT and encapsulation keep the inner one).
//
// Or the journey never passed node but was on its way there: its latest sighting, unencapsulated,
// was headed for node's own address, and o, rewritten, is headed for an address that is not node's
// (nodeSendsOn): a NodePort's request, last seen at the router toward the node, DNATed (and
// masqueraded) on the node before any of its captures shows it (its eth0 not captured), and first
// seen rewritten on its way on to the endpoint's node (at its tunnel device). Not the reply to a
// pod's connection that the node masqueraded (SNAT to its own address): un-SNATed, that reply is
// headed for a pod on the node, where it ends. Its request's halves, split at the SNAT no capture
// shows (the pod's veth, then past the node's eth0 with the node's address), stay apart; joining
// the reply's would make the flow one and the request's first halves, seen at the pod's veth only,
// lost on their way to the router.
//
// Or, the NodePort's endpoint on the node that DNATs (externalTrafficPolicy: Local, or a cluster
// endpoint there) when the node's eth0 is not captured: the request, last seen at the router headed
// for the node's own address, is first seen again at the pod's veth, headed for the pod; so is the
// un-SNATed reply above. What tells them apart is the direction: a DNAT rewrites the packets of the
// side that opened the connection, an un-SNAT those of the side that answered. So such a journey is
// taken when o opens its conversation (dnatOpens), or when an earlier NAT event, joined, showed the
// same rewrite of the same flow (natFlowSeen): the request's later packets, and the replies, un-DNATed
// on the node and first seen again past it (at the router, from the node's address and port).
//
// Not inlined: scan calls it only for a NAT candidate last seen on another node.
//
//go:noinline
func (m *matcher) natBehind(js *jstate, s *sighting, node int16) bool {
	o := s.o
	last, _ := m.w.obsAt(js.lastG)
	if last.TTL <= o.TTL {
		if last.TTL < o.TTL && m.natFlowSeen(o, last) {
			if m.natAhead(js, s, node) {
				return true
			}
			m.natRevG, m.natRevOf = s.g+1, js.id1-1 // see natReversed
		}
		return false
	}
	for _, st := range js.stages[:js.nstages] {
		if m.w.pointNode[st>>12] == int(node) {
			return true
		}
	}
	return m.nodeSendsOn(last, o, int(node)) || m.natFlowSeen(last, o) || m.dnatOpens(last, js, s, int(node))
}

// natAhead reports whether NAT sighting s on node, by a rewrite natFlowSeen knows the packet of open
// journey js before it (js's latest sighting, on another node, has a lower TTL), may be joined to js
// although the clocks put s after js's sightings: the reversal, from js's first sighting to s, is
// within both clocks' bounds (and negTolerance, as a segment's negative latencies are counted:
// pathSeg), js never passed node, and both clocks are bounded both ways, fit their samples and were
// estimated (not blind, no step left uncorrected). A NodePort's reply un-DNATed on the node that
// DNATed its request, whose eth0 is not captured: the node's clock, set against the others through
// its tunnel device only, puts the reply at the pod's veth after the router's copy past the node,
// within its bound (nodeport-local). Beyond the bounds the clocks say the order, and s begins a
// journey of its own (natReversed). The arena puts s's node's hops first (aheadFirst).
func (m *matcher) natAhead(js *jstate, s *sighting, node int16) bool {
	if js.nstages == 0 || node < 0 || int(node) >= len(m.clocks) {
		return false
	}
	for _, st := range js.stages[:js.nstages] {
		if m.w.pointNode[st>>12] == int(node) {
			return false
		}
	}
	first := m.w.pointNode[js.stages[0]>>12]
	if first < 0 || first >= len(m.clocks) {
		return false
	}
	a, b := &m.clocks[node], &m.clocks[first]
	if !a.ordersWithin() || !b.ordersWithin() {
		return false
	}
	return s.t-m.jT0.at(int(js.id1-1)) <= a.bound+b.bound+negTolerance
}

// ordersWithin reports whether the clock's bound says how far off its corrected times may be: bounded
// both ways, every sample fitted, estimated (not blind nor uncrossed), no step left uncorrected.
func (c *clockModel) ordersWithin() bool {
	return c.bound >= 0 && c.disagree == 0 && !c.blind && c.method != methodUncrossed && len(c.tied) == 0 && !c.jumped
}

// natFlowSeen reports whether a NAT event already joined showed the rewrite of last's flow into o's
// (noteNATFlow: either direction of a connection NAT rewrote): conntrack rewrites every packet of a
// connection as it did the first. Not for ICMP errors (errNATShown has their rule).
func (m *matcher) natFlowSeen(last, o *decode.Observation) bool {
	if len(m.natFlows) == 0 || o.Flags&decode.FlagICMPError != 0 {
		return false
	}
	t := m.w.c.Tables
	lf, _, ok1 := t.FlowKeys(last)
	of, _, ok2 := t.FlowKeys(o)
	if !ok1 || !ok2 {
		return false
	}
	_, ok := m.natFlows[[2]uint64{lf, of}]
	return ok
}

// nodeSendsOn reports whether NAT sighting o on node is packet last (its latest sighting elsewhere,
// with a higher TTL) after the node's DNAT sent it on: last, unencapsulated, was headed for node's
// own address, and o is headed for an address not known to be node's (a pod on another node). See
// natBehind.
func (m *matcher) nodeSendsOn(last, o *decode.Observation, node int) bool {
	v6 := last.Flags&decode.FlagIPv6 != 0
	return last.Encap() == decode.EncapNone && m.w.nodeOfIPOnly(v6, last.Dst) == node &&
		m.w.nodeOf(o.Flags&decode.FlagIPv6 != 0, o.Dst) != node
}

// srcStage is what the matcher needs of a source's point, in one place: its stage (the point's,
// before any encapsulation and TTL), its node, whether it is a point for every interface, and whether
// it is the point's only source (secondPacket).
type srcStage struct {
	stage   uint32
	node    int16
	anyRole bool
	sole    bool
}

// corrected returns the corrected timestamp of Observation o, file f's i-th.
func (m *matcher) corrected(o *decode.Observation, f, i int) int64 {
	return m.srcClock[o.Source].correctAt(m.w.c.Stamps[f].Ts(i, o), i)
}

// correctedG returns the corrected timestamp of Observation g.
func (m *matcher) correctedG(g uint32) int64 {
	o, f := m.w.obsAt(g)
	return m.corrected(o, f, int(g-m.w.fileBase[f]))
}

// journeysOut is what matching found that the stages after the arena read: each source's clock (for
// corrected times), the NAT rewrites and offload events seen, the sightings seen again past the
// window, and the journeys matched by position.
type journeysOut struct {
	srcClock []clockModel
	stamps   []decode.Stamps // the Capture's, for the times
	nat      []natEvent
	gso      []gsoEvent // GSO splits and GRO merges (and, once lateStage has run, the late joins)
	late     []lateEv
	// lateForgotten counts the late sightings forgotten past maxLate (lateUncertain)
	lateForgotten int
	ambJ          []uint64 // bitset: journeys matched by position (ambiguous.go)
	natRefused    []natRefusal
	errCopies     []errCopy     // the ones still taken for copies once matching ended
	natReversed   []natReversal // see matcher.natReversed
	natUnsure     []openUnsure  // see matcher.natUnsure
}

// out returns matching's output for the stages after the arena.
func (m *matcher) out() journeysOut {
	var copies []errCopy
	for _, c := range m.errCopies { // a provisional copy may have turned out a second packet (ambiguous.go)
		if m.isDup(c.g) {
			copies = append(copies, c)
		}
	}
	return journeysOut{srcClock: m.srcClock, stamps: m.w.c.Stamps, nat: m.nat, gso: m.gso, late: m.late, lateForgotten: m.lateForgotten, ambJ: m.ambJ, natRefused: m.natRefused,
		errCopies: copies, natReversed: m.natReversed, natUnsure: m.natUnsure}
}

// corrected returns the corrected timestamp of Observation o, file f's i-th.
func (jo *journeysOut) corrected(o *decode.Observation, f, i int) int64 {
	return jo.srcClock[o.Source].correctAt(jo.stamps[f].Ts(i, o), i)
}

// newMatcher makes a matcher. Each source gets its node's clock model (one lookup per timestamp).
func newMatcher(w *world, clocks []clockModel, opts Options) *matcher {
	m := &matcher{w: w, clocks: clocks, window: int64(opts.Window), dupWin: int64(time.Millisecond), evictAt: never,
		loose: newMultimap(), tcp: map[uint64][]int32{}, srcClock: make([]clockModel, len(w.srcPoint))}
	if m.window >= 0 {
		m.winEnd = uint64(m.window)*2 + 1 // (below 2^64: window is below 2^63)
	}
	m.srcAt = make([]srcStage, len(w.srcPoint))
	perPoint := make([]int, len(w.pointNode))
	for _, p := range w.srcPoint {
		perPoint[p]++
	}
	for s, p := range w.srcPoint {
		m.srcClock[s] = clocks[w.pointNode[p]]
		m.srcClock[s].srcSteps(w, s)
		m.srcAt[s] = srcStage{stage: uint32(p) << 12, node: int16(w.pointNode[p]), anyRole: w.pointRole[p] == decode.RoleAny,
			sole: perPoint[p] == 1}
	}
	m.jT0.mp = w.big
	m.hopsOf.mp = w.big
	m.fp = w.c.Loose
	if !opts.Lean { // the Capture keeps its fingerprints
		m.fp = make([]decode.Fingerprints, len(w.c.Loose))
		for f := range w.c.Loose {
			m.fp[f] = w.c.Loose[f].Clone()
		}
	}
	return m
}

// collectJourneys gathers from fp, after matching, every Observation's journey + 1 by global id into
// jOf (4 bytes each), lays out each journey's hops (at jHops[j+1], as counted while matching:
// hopsOf), counts its duplicate copies from the duplicate bits, and drops fp. On more than one core a
// second goroutine gathers a share of the files (collect.go).
func (m *matcher) collectJourneys() {
	m.jOf = makeBig[int32](m.w.big, m.w.nObs, m.w.nObs)
	if m.next < 1<<24 {
		m.jRank = rankBits
	}
	m.jHops = m.hopsOf.flat(int(m.next + 1))
	m.hopsOf = hopCounts{}
	if !m.collectSplit() {
		all := make([]int, len(m.fp))
		for f := range all {
			all[f] = f
		}
		m.collectFiles(all)
	}
	m.jDups = map[int32]int{}
	for i, d := range m.dup { // (nearly every word 0)
		for ; d != 0; d &= d - 1 {
			g := i*64 + bits.TrailingZeros64(d)
			m.jDups[m.journeyOf(uint32(g))]++
		}
	}
	m.fp = nil
}

// collectFiles gathers the journeys of files into jOf.
func (m *matcher) collectFiles(files []int) {
	for _, f := range files {
		g := int(m.w.fileBase[f])
		for _, ch := range m.fp[f].Chunks {
			m.w.trimNow() // a chunk is FingerprintChunk of them
			m.collectChunk(ch, g)
			g += len(ch)
		}
	}
}

// collectChunk is collectFiles for one chunk of fingerprint slots, ch, of the Observations from
// global id g on: each slot's journey + 1, its hop's rank above it (rankShift) where jRank has room.
// (The hops are counted as they are attached, and the duplicate copies from their bits: no test
// here but of the loop's end.)
func (m *matcher) collectChunk(ch []uint64, g int) {
	journeysOf(m.jOf[g:g+len(ch)], ch, m.jRank)
}

// journeysOf writes into out (as long as ch at least) each fingerprint slot's journey + 1 with, in
// rk's bits, its hop's rank (rankShift): journeysOfN (journeysof_amd64.s on amd64, eight slots a turn
// in SSE2, about 2.5 instructions a slot; journeysOfGo elsewhere, about 6.7).
func journeysOf(out []int32, ch []uint64, rk uint32) {
	if out = out[:len(ch)]; len(ch) > 0 {
		journeysOfN(&out[0], &ch[0], len(ch), rk)
	}
}

// journeysOfGo is journeysOf in Go, four slots at a time. Not inlined: in collectFiles' loop, its
// values did not stay in registers (12 instructions a slot; about 6.7 here).
//
//go:noinline
func journeysOfGo(out []int32, ch []uint64, rk uint32) {
	out = out[:len(ch)]
	i := 0
	for n := len(ch) - 3; i < n; i += 4 { // (i below len(ch)-3: no bounds check, where ch[i:i+4] took two)
		c0, c1, c2, c3 := ch[i], ch[i+1], ch[i+2], ch[i+3]
		out[i] = int32(uint32(c0) | uint32(c0>>32)&rk)
		out[i+1] = int32(uint32(c1) | uint32(c1>>32)&rk)
		out[i+2] = int32(uint32(c2) | uint32(c2>>32)&rk)
		out[i+3] = int32(uint32(c3) | uint32(c3>>32)&rk)
	}
	for ; i < len(ch); i++ {
		v := ch[i]
		out[i] = int32(uint32(v) | uint32(v>>32)&rk)
	}
}

// matchable reports whether an Observation with NAT-tolerant fingerprint loose takes part in journeys.
// (IPv6 neighbour discovery and multicast listener messages do not: the decoder gives them loose 0,
// as ARP, each belongs to one link and no router forwards it: decode.LinkScopeICMPv6.)
func matchable(o *decode.Observation, loose uint64) bool {
	return o.Flags&(decode.FlagNotIP|decode.FlagARP) == 0 && loose != 0
}

func (m *matcher) run() {
	if runtime.GOMAXPROCS(0) == 1 {
		m.runDirect()
		return
	}
	batches, free := m.start()
	n := 0 // sightings matched
	for b := range batches {
		m.matchBatch(b)
		free <- b[:0]
		if n/trimRun != (n+len(b))/trimRun { // the merge reads the frames as the matcher does
			m.w.trimNow()
		}
		n += len(b)
	}
	m.keepHops(m.base, m.next) // the journeys still open
}

// matchBatch matches a batch of sightings. The buckets of the loose index where the sightings' journeys
// are looked up are read first, one after another: the index is far larger than the caches on a set of
// many flows, and that read, the first of each step, would otherwise wait for memory every time; read
// together, the reads wait for memory at the same time, and the steps find the buckets in the caches.
func (m *matcher) matchBatch(b []sighting) {
	var touched int32
	if head := m.loose.head; len(head) > 0 { // (always: the test tells the compiler the reads are in bounds)
		for i := range b {
			touched += head[int(hash32(b[i].loose))&(len(head)-1)]
		}
	}
	m.touched += touched
	for len(b) > 0 { // (stepKeys for the usual sightings, in the batch's order: batchKeys)
		n := min(len(b), len(batchKeys))
		m.stepAll(b[:n], batchKeys[:n])
		b = b[n:]
	}
}

// batchKeys names the sightings of a batch in its order, as keys (a place, below bit 32: keyOf): matchBatch's
// sightings go through stepKeys as a slice's do.
var batchKeys = func() (k [sightingBatch]uint64) {
	for i := range k {
		k[i] = keyOf(i)
	}
	return k
}()

// runDirect is run on one core, where the merge and the matcher would take turns: the merge calls the
// matcher itself with each batch, on this goroutine, and the matcher reads a slice's sightings where
// the merge made them (through their sorted keys) rather than copies of them in a batch.
func (m *matcher) runDirect() {
	sm := m.newSliceMerge(m.mergeFiles(m.prepare()), nil, nil)
	sm.take = m.takeDirect
	sm.run()
	m.keepHops(m.base, m.next) // the journeys still open
}

// takeDirect matches the sightings the merge hands over on one core (runDirect): those of stage that
// keys name, in that order, or stage's own in its order when keys is nil.
func (m *matcher) takeDirect(stage []sighting, keys []uint64) {
	n := len(keys)
	if keys == nil {
		n = len(stage)
		m.matchBatch(stage)
	} else {
		m.matchKeys(stage, keys)
	}
	if m.taken/trimRun != (m.taken+n)/trimRun { // the merge reads the frames as the matcher does
		m.w.trimNow()
	}
	m.taken += n
}

// matchKeys is matchBatch for the sightings of stage that keys name (a slice's sorted keys: a time's
// offset in the slice at the top, its place in stage below bit 32: see sliceMerge.mul), in the keys' order once keysInOrder has
// put each run of equal times in its packets' order.
//
// The usual sightings (a clean journey's next hop) are attached by stepKeys, a loop with no call in
// it, which stops at the first sighting it leaves to step (a new journey, or any case step leaves to
// stepRare); matchKeys steps that one, and stepKeys goes on after it. Where a call of step each
// sighting took about 22 instructions for the call, step's frame and its reloads of the matcher's
// fields, the loop keeps them in registers.
func (m *matcher) matchKeys(stage []sighting, keys []uint64) {
	m.touched += m.keysInOrder(stage, keys)
	m.stepAll(stage, keys)
}

// stepAll steps the sightings of stage that keys name, in that order: stepKeys, and step for each it
// leaves.
func (m *matcher) stepAll(stage []sighting, keys []uint64) {
	for len(keys) > 0 {
		if m.amb == nil { // (stepKeys' walk is step's with no ambiguous group: see step)
			n, fresh := m.stepKeys(stage, keys)
			if keys = keys[n:]; len(keys) == 0 {
				return
			}
			if fresh { // (step's walk would find what stepKeys' found: no open journey of its fingerprint)
				s := sightingAt(stage, keys[0])
				m.stepNew(s, s.e)
				keys = keys[1:]
				continue
			}
		}
		m.step(sightingAt(stage, keys[0]))
		keys = keys[1:]
	}
}

// stepKeysGo is stepKeys (step for the sightings of stage that keys name, in that order, for as long as each is
// the usual one step attaches itself (the same tests: see step, and attach for what it writes), with
// m.amb nil. It returns how many it attached: the next key's sighting, if any, is left to step, nothing
// of it written, or to stepNew when fresh (its walk found no open journey of its fingerprint: step's
// new journey, in a case other than beginUsual's usual one, which stepKeys begins itself)) in Go: on
// amd64, stepKeys is this in assembly (stepkeys_amd64.s), which TestStepKeysAsGo holds to it. What it reads of the matcher once, before its loop (the ring, its mask, base, the loose
// index, evictAt, the window), only a new journey (newJourney, beginUsual: the index's bucket of another
// fingerprint), evict or regrow changes, none of which an attach makes. step's test of a window below
// dupWin before beginUsual is usualLeft's here: only usualRoom sets it above 0, and only beginUsual
// calls that, which stepNew calls only with the window not below dupWin. The visited test reads
// s.stage only when the journey has its bit (read before, it took a register the loop's values
// needed).
func (m *matcher) stepKeysGo(stage []sighting, keys []uint64) (n int, fresh bool) {
	ring, head, hmask := unsafe.Pointer(unsafe.SliceData(m.ring)), unsafe.Pointer(unsafe.SliceData(m.loose.head)), m.loose.mask
sightings:
	for i, k := range keys {
		s := sightingAt(stage, k)
		if s.t > m.evictAt || s.kind&(sMatchable|sTCPData6) != sMatchable {
			return i, false
		}
		// The chain's first journey of s's fingerprint, its tests, and no other open journey of that
		// fingerprint after it in the chain (none when it is jAlone): step's walk in two loops, with
		// nothing carried from one journey of the chain to the next. With none, a new journey.
		var js *jstate
		b := (*int32)(unsafe.Add(head, (uintptr(hash32(s.loose))&hmask)*4))
		for j := *b - 1; ; j = js.nextSame {
			if j < m.base {
				// step's new journey, in beginUsual's usual case (its tests, as step and beginUsual make
				// them; any other case is left to step), beginUsual's body written out: to be changed with it.
				e := s.e
				if m.usualLeft == 0 || m.closedExact[e&(closedSlots-1)] == e || s.kind&sTCPData != 0 ||
					m.natRevG == s.g+1 || m.passed.n > 0 {
					return i, true
				}
				m.usualLeft--
				j, ft := m.next, &m.jT0
				t, n := s.t, uint(ft.n)
				m.next++                                  // newJourney
				ft.blocks[n/timesBlock][n%timesBlock] = t // (jT0.append)
				ft.n++
				js = (*jstate)(unsafe.Add(ring, uintptr(uint32(j&m.mask))*unsafe.Sizeof(jstate{})))
				js.exact, js.exact0, js.loose, js.nextSame, js.lastG, js.lastTs = e, e, s.loose, *b-1, s.g, t
				js.seq, js.plen, js.nstages, js.flags, js.lastNode, js.id1, js.stageBits, js.hops = 0, 0, 1, jIndexed|jAlone, s.node, j+1, s.bit, 1
				js.stages[0] = s.stage
				*b = j + 1
				*s.slot = uint64(j) + 1 // (rank 0)
				continue sightings
			}
			js = (*jstate)(unsafe.Add(ring, uintptr(uint32(j&m.mask))*unsafe.Sizeof(jstate{})))
			if js.loose == s.loose {
				break
			}
		}
		if js.exact != s.e && js.exact0 != s.e || uint64(s.t-js.lastTs+m.window) >= m.winEnd || js.stageBits&s.bit != 0 && js.visitedBit(s.stage, s.bit) {
			return i, false
		}
		if js.flags&jAlone == 0 { // (with jAlone, none)
			for c := js.nextSame; c >= m.base; {
				cs := (*jstate)(unsafe.Add(ring, uintptr(uint32(c&m.mask))*unsafe.Sizeof(jstate{})))
				if cs.loose == s.loose {
					return i, false
				}
				c = cs.nextSame
			}
		}
		t := s.t
		// attach(j, s, s.stage, s.node), as step writes it out.
		if t > js.lastTs {
			js.lastTs = t
		} else if js.hops != 0 {
			js.flags |= jOutOfOrder
		}
		if n := js.nstages; n < maxStages {
			js.stages[n] = s.stage
			js.nstages = n + 1
			js.stageBits |= s.bit
		}
		if node := s.node; node != js.lastNode {
			js.flags |= js.flags&jMoved<<1 | jMoved // (jOutOfOrder is jMoved<<1)
			js.lastNode = node
		}
		js.lastG = s.g
		*s.slot = uint64(uint32(js.id1)) | uint64(js.hops)<<rankShift // (id1, j + 1: positive)
		js.hops++
	}
	return len(keys), false
}

// keysInOrder is tiesInOrder for the sightings of stage that keys name, moving keys (equal offsets are
// equal times), with matchBatch's read-ahead of the loose index's buckets: the loop that reads them
// (aheadKeys), which reads each sighting's NAT-tolerant fingerprint anyway, looks for the first
// sighting that ties with the one before it (of one packet, at its time: rare), and the keys are put
// in order from there (tiesInKeys). It returns the sum of the buckets read.
func (m *matcher) keysInOrder(stage []sighting, keys []uint64) int32 {
	touched, tie := aheadKeys(m.loose.head, unsafe.Pointer(unsafe.SliceData(stage)), keys)
	if tie < len(keys) {
		m.tiesInKeys(stage, keys[tie-1:])
	}
	return touched
}

// aheadKeys reads the buckets of head (the loose index's: its length a power of two) of the sightings
// at stage (a slice's) that keys name, and returns the sum of what it read (so that the reads are
// made) and the place in keys of the first sighting at the time of the one before it and with its
// NAT-tolerant fingerprint (len(keys): none). The fingerprints are compared first: two neighbours
// in time order with one fingerprint are few (a packet's sightings at two points are seldom next to
// each other among those of the other flows), where two at one time are not (over 40% of the
// many-flow set's keys: microsecond stamps), so the time is looked at only then. Four keys a turn,
// their fingerprints compared with the one before each (16 instructions a key one at a time, about
// 10 here); a turn where two neighbours share one is taken again a key at a time (aheadKey), and
// four at a time go on after it. (The reads without bounds checks: too many values for the
// registers otherwise.)
func aheadKeys(head []int32, stage unsafe.Pointer, keys []uint64) (int32, int) {
	if len(keys) == 0 {
		return 0, 0
	}
	h, mask := unsafe.Pointer(unsafe.SliceData(head)), uintptr(len(head)-1)
	kp := unsafe.Pointer(unsafe.SliceData(keys))
	var touched int32
	loose := looseAt(stage, keys[0]) ^ 1 // the key before's fingerprint: none, before the first
	for i := 0; ; {
		for n := len(keys) - 3; i < n; i += 4 { // (i+3 below len(keys))
			k := (*[4]uint64)(unsafe.Add(kp, uintptr(i)*8))
			l0, l1, l2, l3 := looseAt(stage, k[0]), looseAt(stage, k[1]), looseAt(stage, k[2]), looseAt(stage, k[3])
			if l0 == loose || l1 == l0 || l2 == l1 || l3 == l2 {
				break
			}
			touched += bucketAt(h, mask, l0) + bucketAt(h, mask, l1) + bucketAt(h, mask, l2) + bucketAt(h, mask, l3)
			loose = l3
		}
		for end := min(i+4, len(keys)); i < end; i++ {
			l := looseAt(stage, keys[i])
			touched += bucketAt(h, mask, l)
			if l == loose && (keys[i]^keys[i-1])>>32 == 0 { // (i > 0: the first's l is not loose)
				for j := i + 1; j < len(keys); j++ {
					touched += bucketAt(h, mask, looseAt(stage, keys[j]))
				}
				return touched, i
			}
			loose = l
		}
		if i == len(keys) {
			return touched, i
		}
	}
}

// looseAt is the NAT-tolerant fingerprint of the sighting at stage (a slice's) that key k names
// (aheadKeys').
func looseAt(stage unsafe.Pointer, k uint64) uint64 {
	return (*sighting)(unsafe.Add(stage, uintptr(uint32(k)))).loose
}

// bucketAt is the bucket of head (its data h, its mask) of NAT-tolerant fingerprint loose (aheadKeys'):
// hash32(loose)&mask, its low 32 bits, as mask is below 1<<32 (without the truncation's MOVL).
func bucketAt(h unsafe.Pointer, mask uintptr, loose uint64) int32 {
	return *(*int32)(unsafe.Add(h, (uintptr(loose)&mask)*4))
}

// sightingAt returns the sighting of stage at key k's place (its low 32 bits: the sighting's offset in
// bytes, keyOf), without a bounds check: a slice's keys are made with places below its length
// (stageSlice).
func sightingAt(stage []sighting, k uint64) *sighting {
	return (*sighting)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(stage)), uintptr(uint32(k))))
}

// sightingSize is a sighting's size in bytes: a key's place (its low 32 bits) is its sighting's
// offset in the slice's stage, place × sightingSize (keyOf), so that a sighting is found from its key
// without a multiply (sightingAt, looseAt). A stage's sightingCap sightings (sliceCap, sightingBatch)
// take less than 1<<18 bytes: the place stays below bit 32.
const sightingSize = uint64(unsafe.Sizeof(sighting{}))

// keyOf is the low bits of the key of the sighting at place i of a stage (its offset in bytes).
func keyOf(i int) uint64 { return uint64(i) * sightingSize }

// placeOf is the place in its stage of the sighting key k names (keyOf's inverse: the tests').
func placeOf(k uint64) int { return int(uint32(k) / uint32(sightingSize)) }

// start makes the matcher's state and starts the merge: a second goroutine merges the files' streams
// by corrected time and sends the sightings on batches, in batches handed back on free, while this one
// matches them: on two cores the merge is off the matcher's path.
func (m *matcher) start() (<-chan []sighting, chan<- []sighting) {
	perm := m.prepare()
	depth := sightingBatches
	if runtime.GOMAXPROCS(0) == 1 {
		depth = sightingBatches1
	}
	batches := make(chan []sighting, depth)
	free := make(chan []sighting, depth)
	for range cap(free) {
		free <- make([]sighting, 0, m.batch)
	}
	go m.merge(perm, batches, free)
	return batches, free
}

// prepare makes the matcher's state and the size of its batches, and returns the files' orders by
// corrected time (orders).
func (m *matcher) prepare() [][]uint32 {
	w := m.w
	m.dup = makeBig[uint64](w.big, (w.nObs+63)/64, (w.nObs+63)/64)
	m.closed = make([]closedJ, closedSlots)
	m.closedExact = make([]uint64, closedSlots)
	if m.window < lateNATWin {
		m.recent = newRecentClosed()
	}
	perm := m.orders()
	ring := 1 << 12
	if !m.unsized {
		m.sizeIndex(perm)
		// The ring sized with the index: for as many open journeys as it keeps buckets for before it
		// grows (bucketsPerOpen), a window of such sightings' journeys. On the many-flow set the ring
		// grew from its first size six times to that, each time every open journey's state copied
		// (newJourney); a window of fewer journeys leaves states unused (128 bytes each: at most 32 MiB,
		// at maxIndexStart).
		ring = max(ring, len(m.loose.head)/bucketsPerOpen)
	}
	if ring > 1<<12 {
		m.ring = newRing(ring)
	} else {
		m.ring = make([]jstate, ring)
	}
	m.mask = int32(len(m.ring) - 1)
	if m.batch <= 0 {
		m.batch = sightingBatch
		if runtime.GOMAXPROCS(0) == 1 {
			m.batch = sightingBatch1
		}
	}
	return perm
}

// sizeIndex makes the loose index, from the start, about as many buckets as there are sightings in
// one window (a power of two, from the index's first size to maxIndexStart; the capture's sightings
// spread evenly over its span): room for a window's journeys when each has bucketsPerOpen sightings
// or more, as on the many-flow set (six), where the table grew from its first size ten times, each
// time a new table mapped and every open journey's state read to put it in again (regrow). Fewer
// journeys open than that leave buckets unused (4 bytes each), more grow it as before; which
// buckets hold which journeys does not change what a walk of a chain finds (each journey's
// fingerprint is checked), nor its order (a chain's journeys are in id order either way).
func (m *matcher) sizeIndex(perm [][]uint32) {
	n, lo, hi := 0, int64(math.MaxInt64), int64(math.MinInt64)
	for f, obs := range m.w.c.Obs {
		if len(obs) == 0 {
			continue
		}
		first, last := 0, len(obs)-1
		if p := perm[f]; p != nil {
			first, last = int(p[first]), int(p[last])
		}
		lo, hi = min(lo, m.corrected(&obs[first], f, first)), max(hi, m.corrected(&obs[last], f, last))
		n += len(obs)
	}
	if n == 0 || m.window <= 0 {
		return
	}
	est := float64(n)
	if span := float64(hi) - float64(lo); span > float64(m.window) {
		est *= float64(m.window) / span
	}
	if size := 1 << bits.Len64(uint64(max(1, min(est, maxIndexStart)))-1); size > len(m.loose.head) {
		m.loose.init(size)
	}
}

// maxIndexStart is the most buckets sizeIndex gives the loose index (4 MiB).
const maxIndexStart = 1 << 20

// orders returns each file's iteration order by corrected time, nil for a file in that order already
// (files nearly always are). The files are checked on as many goroutines as there are cores, each
// reading its share of the files alone; the orders of any out of order are made after, on this one.
func (m *matcher) orders() [][]uint32 {
	inOrder := make([]bool, len(m.w.c.Obs))
	check := func(files []int) {
		for _, f := range files {
			inOrder[f] = m.inOrder(f)
		}
	}
	shares := m.shares(min(runtime.GOMAXPROCS(0), len(inOrder)))
	var waits []func()
	for _, files := range shares[min(1, len(shares)):] {
		waits = append(waits, beside(func() { check(files) }))
	}
	if len(shares) > 0 {
		check(shares[0])
	}
	for _, wait := range waits {
		wait()
	}
	perm := make([][]uint32, len(inOrder))
	for f, ok := range inOrder {
		if !ok {
			perm[f] = m.order(f)
		}
	}
	return perm
}

// shares splits the files into k shares of about as many Observations each (the largest files
// first, each to the share with the fewest so far), the same every time.
func (m *matcher) shares(k int) [][]int {
	obs := m.w.c.Obs
	files := make([]int, len(obs))
	for f := range files {
		files[f] = f
	}
	sort.SliceStable(files, func(a, b int) bool { return len(obs[files[a]]) > len(obs[files[b]]) })
	shares, sizes := make([][]int, k), make([]int, k)
	for _, f := range files {
		i := 0
		for s := range sizes {
			if sizes[s] < sizes[i] {
				i = s
			}
		}
		shares[i], sizes[i] = append(shares[i], f), sizes[i]+len(obs[f])
	}
	return shares
}

// inOrder reports whether file f's Observations are in corrected-time order. A file of one node in
// capture-time order is in corrected-time order too: a node's correction never reverses two of its
// times (the drift is far below 1). Capture-time order was noted as the file was read (its Stamps),
// so only a file of several nodes takes a pass: checked corrected, each time worked out once and kept
// for the comparison with the next.
func (m *matcher) inOrder(f int) bool {
	obs, st := m.w.c.Obs[f], &m.w.c.Stamps[f]
	if len(obs) < 2 {
		return true
	}
	if !st.InOrder() {
		return false
	}
	if !m.w.oneNode(f) {
		prev := m.corrected(&obs[0], f, 0)
		for i := 1; i < len(obs); i++ {
			m.w.trimAt(i)
			t := m.corrected(&obs[i], f, i)
			if t < prev {
				return false
			}
			prev = t
		}
	}
	return true
}

// order returns file f's Observations' indexes in corrected-time order (stable).
func (m *matcher) order(f int) []uint32 {
	obs := m.w.c.Obs[f]
	p := makeBig[uint32](m.w.big, len(obs), len(obs))
	for i := range p {
		p[i] = uint32(i)
	}
	sort.SliceStable(p, func(a, b int) bool {
		return m.corrected(&obs[p[a]], f, int(p[a])) < m.corrected(&obs[p[b]], f, int(p[b]))
	})
	return p
}

// sighting is one Observation in merge order: its fingerprint, global id and corrected time, and
// where its journey is to be written (its fingerprint's slot, read already); and, worked out by the
// merge (on its own goroutine) from the Observation alone, what step reads of it: whether it is
// matchable, its exact fingerprint, the loose one's hash in the loose index, its stage and node, and
// whether it is TCP data.
type sighting struct {
	o     *decode.Observation
	slot  *uint64
	loose uint64
	e     uint64 // exact fingerprint (matchable only)
	t     int64
	g     uint32
	stage uint32 // stageOf(o) (matchable only)
	bit   uint32 // stageBit(stage) (matchable only): a run's is worked out once (sightRun)
	node  int16  // o's node (matchable only)
	kind  uint8  // sMatchable, sTCPData
}

// sighting kinds.
const (
	sMatchable = 1 << iota // matchable(o, loose)
	sTCPData               // unfragmented TCP with payload: a segmentation offload candidate
	sTCPData6              // sTCPData over IPv6 (no IP id: see climbs)
)

// sight fills s with Observation o's sighting: its fingerprint's slot slot, global id g, corrected
// time t (every field, s being a slot used before).
func (m *matcher) sight(s *sighting, o *decode.Observation, slot *uint64, g uint32, t int64) {
	loose := *slot
	s.o, s.slot, s.loose, s.t, s.g = o, slot, loose, t, g
	if !matchable(o, loose) {
		s.e, s.stage, s.bit, s.node, s.kind = 0, 0, 0, 0, 0
		return
	}
	s.e, s.stage, s.node, s.kind = o.Exact(loose), m.stageOf(o), m.srcAt[o.Source].node, sMatchable
	s.bit = stageBit(s.stage)
	if o.Flags&decode.FlagICMPError != 0 { // the quoted addresses and ports too (see QuoteExact)
		s.e = m.w.c.Tables.QuoteExact(o, s.e)
	}
	if o.Proto == 6 && o.Flags&decode.FlagFragment == 0 && o.PayloadLen() > 0 {
		s.kind |= sTCPData
		if o.Flags&decode.FlagIPv6 != 0 {
			s.kind |= sTCPData6
		}
	}
}

// sightRun is sight for run, Observations of one source that is not a point for every interface
// (its stage is then the point's, stage), with global ids from g on, their fingerprints' slots slots
// and their corrected times ts, into out: the source's stage and node, the same for all, are looked
// up once. (sight's body, written out again: as a call in this loop, it is not inlined.)
func (m *matcher) sightRun(out []sighting, run []decode.Observation, slots []uint64, g uint32, ts []int64, stage uint32, node int16) {
	out, slots, ts = out[:len(run)], slots[:len(run)], ts[:len(run)]
	var at [4]struct{ stage, bit uint32 } // by encapsulation: a sighting in a tunnel is at a stage of its own (stageOf)
	for e := range at {
		at[e].stage = stage | uint32(e)<<8
		at[e].bit = stageBit(at[e].stage)
	}
	for k := range run {
		s, o, slot := &out[k], &run[k], &slots[k]
		loose := *slot
		s.o, s.slot, s.loose, s.t, s.g = o, slot, loose, ts[k], g+uint32(k)
		if !matchable(o, loose) {
			s.e, s.stage, s.bit, s.node, s.kind = 0, 0, 0, 0, 0
			continue
		}
		x := &at[o.Flags&decode.FlagEncapMask]
		s.e, s.stage, s.bit, s.node, s.kind = o.Exact(loose), x.stage, x.bit, node, sMatchable
		if o.Flags&decode.FlagICMPError != 0 { // the quoted addresses and ports too (see QuoteExact)
			s.e = m.w.c.Tables.QuoteExact(o, s.e)
		}
		if o.Proto == 6 && o.Flags&decode.FlagFragment == 0 && o.Len > uint16(o.HdrLen) { // (PayloadLen() > 0)
			s.kind = sMatchable | sTCPData | uint8(o.Flags>>tcpData6Shift)&sTCPData6 // (sTCPData6 over IPv6)
		}
	}
}

// tcpData6Shift moves decode.FlagIPv6 to sTCPData6: sightRun's TCP data without a second test.
const tcpData6Shift = 2

var _ = [1]struct{}{}[decode.FlagIPv6>>tcpData6Shift-sTCPData6] // (fails to build unless the shift gives sTCPData6)

// sightingBatch is how many sightings the merge hands over at a time; sightingBatch1 on one core,
// where the merge and the matcher take turns: the batches the merge fills ahead then stay in the
// core's caches until the matcher reads them.
const (
	sightingBatch  = 4096
	sightingBatch1 = 256
)

// sightingBatches is how many batches are in flight between the merge and the matcher on more than
// one core (4 MB of sightings): the merge, the faster of the two, runs up to that far ahead, so that
// the matcher, which sets the pace, rarely finds no batch ready when the merge's goroutine was held
// up a moment (a collection ran, or another process). On one core, where they take turns,
// sightingBatches1, which stay in the core's caches.
const (
	sightingBatches  = 16
	sightingBatches1 = 4
)

// mergeFile is a file in the merge: its Observations, their order (perm, nil meaning their own),
// fingerprints and global id base, and the corrected times of its next Observations in that order
// (the next at k).
type mergeFile struct {
	obs  []decode.Observation
	p    []uint32
	fp   *decode.Fingerprints
	base uint32
	k    int // the next Observation's place in the times ahead (k == n: the file is done)
	// chunk is the chunk of fp that held the last fingerprint slot taken, its first at chunkFrom: a
	// file in its own order takes the next slot from it nearly every time.
	chunk     []uint64
	chunkFrom int
	// one: every Observation of the file is of one source (oneSourceFiles): fillRunTo need not look.
	one bool
	mergeAhead
}

// slot returns where the fingerprint of the file's idx-th Observation is kept (fp.Slot).
func (mf *mergeFile) slot(idx int) *uint64 {
	if k := idx - mf.chunkFrom; uint(k) < uint(len(mf.chunk)) {
		return &mf.chunk[k]
	}
	c := idx / decode.FingerprintChunk
	mf.chunk, mf.chunkFrom = mf.fp.Chunks[c], c*decode.FingerprintChunk
	return &mf.chunk[idx-mf.chunkFrom]
}

// mergeFiles returns the files of the merge at their start, with their first times ahead.
func (m *matcher) mergeFiles(perm [][]uint32) []mergeFile {
	w := m.w
	files, one := make([]mergeFile, len(w.c.Obs)), oneSourceFiles(w.c.Sources, len(w.c.Obs))
	for f, obs := range w.c.Obs {
		files[f] = mergeFile{obs: obs, p: perm[f], fp: &m.fp[f], base: w.fileBase[f], one: one[f]}
		if len(obs) > 0 {
			m.fillAhead(&files[f], f, 0)
		}
	}
	return files
}

// mergeAhead holds the corrected times of a file's next Observations in the merge, worked out a few
// dozen at a time (fillAhead), and what their sightings share when they are a run of one source
// whose times fillRun took (run): sightAhead then makes their sightings a run at a time (sightRun),
// the source's stage and node looked up once.
type mergeAhead struct {
	ts   [mergeFillN]int64 // their corrected times
	from int               // the file position (in merge order) of ts[0]
	n    int               // times held
	// ordered: the times held never fall (sliceMerge takes a file a slice at a time only so)
	ordered bool
	run     bool   // a run for sightRun: the file's own order, one source, not a point for every interface
	stage   uint32 // the run's source's stage and node (run only)
	node    int16
	slots   []uint64 // the run's fingerprint slots (run only: one chunk's, as a run never crosses one)
}

// mergeAheadN is how many frames the arena takes a run at a time (fillSlice: its runs fit a 64-bit
// word of the duplicate bits); mergeFillN how many the merge's times ahead hold (fillAhead), a
// multiple of it. 128 rather than 32: each fill, stageKeys' call, sightRun's call and the slice's
// loop around them cost about 200 instructions a turn, taken less often (a file gives a slice about
// 70 frames on the many-flow set); 1 KiB of times a file. A run still never crosses a Stamps block
// (stampBlock, 256) nor a fingerprint chunk (decode.FingerprintChunk).
const (
	mergeAheadN = 32
	mergeFillN  = 128
)

// fillAhead works out the corrected times of file f's Observations from position i on (in merge
// order) into mf's times ahead, from mf.k = 0 on.
// A file in its own order has its times taken a run at a time where it can (fillRun: nearly always);
// otherwise each is corrected, with the file's Stamps looked up once and a source's clock once for
// the Observations of that source in a row (a file's are nearly always of one source).
func (m *matcher) fillAhead(mf *mergeFile, f, i int) {
	obs, p, a := mf.obs, mf.p, &mf.mergeAhead
	// Up to the next multiple of mergeFillN: a file in its own order then fills whole runs of its
	// Stamps' blocks, which fillRunTo takes at once.
	n := min(mergeFillN-i%mergeFillN, len(obs)-i)
	st, src, clk := &m.w.c.Stamps[f], -1, (*clockModel)(nil)
	a.from, a.n, a.run, mf.k = i, n, false, 0
	if p == nil && fillRunTo(a.ts[:], obs[i:i+n], st, i, m.srcClock, mf.one) {
		if src := &m.srcAt[obs[i].Source]; !src.anyRole { // (a run is in one chunk: see mergeFillN)
			c := i % decode.FingerprintChunk
			a.run, a.stage, a.node, a.slots = true, src.stage, src.node, mf.fp.Chunks[i/decode.FingerprintChunk][c:c+n]
		}
		// A file in its own order is in capture-time order (orders), and a run's times are then its
		// capture times less one offset, when its clock does not drift: they never fall.
		if m.srcClock[obs[i].Source].drift == 0 {
			a.ordered = true
			return
		}
	} else {
		for k := range n {
			idx := i + k
			if p != nil {
				idx = int(p[idx])
			}
			o := &obs[idx]
			if int(o.Source) != src {
				src, clk = int(o.Source), &m.srcClock[o.Source]
			}
			ts, ok := st.TsPlain(idx, o)
			if !ok {
				ts = st.Ts(idx, o)
			}
			a.ts[k] = clk.correctAt(ts, idx)
		}
	}
	a.ordered = rising(a.ts[:n])
}

// rising reports whether ts never falls.
func rising(ts []int64) bool {
	for i := 1; i < len(ts); i++ {
		if ts[i] < ts[i-1] {
			return false
		}
	}
	return true
}

// sightAhead makes into out the sightings of the Observations at places k0 to k1 (excluded) of mf's
// times ahead: a run's with sightRun, any other's one at a time (sight).
func (m *matcher) sightAhead(out []sighting, mf *mergeFile, k0, k1 int) {
	a := &mf.mergeAhead
	if a.run {
		i := a.from + k0
		m.sightRun(out, mf.obs[i:a.from+k1], a.slots[k0:k1], mf.base+uint32(i), a.ts[k0:k1], a.stage, a.node)
		return
	}
	for k := k0; k < k1; k++ {
		idx := a.from + k
		if mf.p != nil {
			idx = int(mf.p[idx])
		}
		m.sight(&out[k-k0], &mf.obs[idx], mf.slot(idx), mf.base+uint32(idx), a.ts[k])
	}
}

// seek puts file f's next Observation at position i (in merge order) of its times ahead.
func (m *matcher) seek(mf *mergeFile, f, i int) {
	if k := i - mf.from; k >= 0 && k < mf.n {
		mf.k = k
		return
	}
	m.fillAhead(mf, f, i)
}

// fillRun computes into ts the corrected times of run, a file's Observations from its i-th on, in
// one pass with no test per Observation but of its source, when the run's times share one base (one
// of its Stamps' blocks without a rebase) and its first Observation's source's clock takes no step at
// any of them: its times are then the base plus each TsLo, less the clock's offset and drift, as
// correctAt gives them. It reports false (ts to be filled again) when that does not hold, or when an
// Observation of the run is of another source. (The arena's runs: fillRunTo, the merge's.)
func fillRun(ts *[mergeAheadN]int64, run []decode.Observation, st *decode.Stamps, i int, clocks []clockModel) bool {
	return fillRunTo(ts[:], run, st, i, clocks, false)
}

// fillRunTo is fillRun into ts, as long as run at least: the merge's times ahead (mergeFillN). one
// says that every Observation of run's file is of one source (mergeFile.one): then none is of
// another, and the times of a clock that does not drift are taken without looking (addTimesOne).
func fillRunTo(ts []int64, run []decode.Observation, st *decode.Stamps, i int, clocks []clockModel, one bool) bool {
	if len(run) == 0 || len(run) > len(ts) {
		return false
	}
	base, ok := st.Base(i, i+len(run))
	src := run[0].Source
	clk := &clocks[src]
	if !ok || i+len(run) > clk.stepIdx {
		return false
	}
	var other uint16     // nonzero when some Observation's source is not src
	out := ts[:len(run)] // (out: no bounds check a frame)
	if clk.drift == 0 && one {
		addTimesOne(out, run, base-clk.offset)
	} else if clk.drift == 0 {
		other = addTimes(out, run, base-clk.offset, src)
	} else {
		for k := range run {
			out[k] = clk.unskew(base + int64(run[k].TsLo))
			other |= run[k].Source ^ src
		}
	}
	return other == 0
}

// addTimes is fillRunTo's loop for a clock that does not drift: each of run's times, add plus its
// TsLo, into out (as long as run); it returns the or of each Observation's Source ^ src (0: all of
// src). Four frames a turn, in a function of its own: one at a time, in fillRunTo beside the drifting
// clock's call, it took 12 instructions a frame (about 9 here).
func addTimes(out []int64, run []decode.Observation, add int64, src uint16) uint16 {
	out = out[:len(run)]
	var other uint16
	k := 0
	for n := len(run) - 3; k < n; k += 4 {
		r, o := (*[4]decode.Observation)(run[k:]), (*[4]int64)(out[k:])
		o[0] = add + int64(r[0].TsLo)
		o[1] = add + int64(r[1].TsLo)
		o[2] = add + int64(r[2].TsLo)
		o[3] = add + int64(r[3].TsLo)
		other |= (r[0].Source ^ src) | (r[1].Source ^ src) | (r[2].Source ^ src) | (r[3].Source ^ src)
	}
	for ; k < len(run); k++ {
		out[k] = add + int64(run[k].TsLo)
		other |= run[k].Source ^ src
	}
	return other
}

// addTimesOne is addTimes for a run all of one source (fillRunTo's one): the times alone, four
// frames a turn through pointers from one index each, about 4 instructions a frame.
func addTimesOne(out []int64, run []decode.Observation, add int64) {
	out = out[:len(run)]
	rp, op := unsafe.Pointer(unsafe.SliceData(run)), unsafe.Pointer(unsafe.SliceData(out))
	k := 0
	for n := len(run) - 3; k < n; k += 4 { // (k+3 below len(run): the four are in run and out)
		r := (*[4]decode.Observation)(unsafe.Add(rp, uintptr(k)*unsafe.Sizeof(decode.Observation{})))
		o := (*[4]int64)(unsafe.Add(op, uintptr(k)*8))
		o[0] = add + int64(r[0].TsLo)
		o[1] = add + int64(r[1].TsLo)
		o[2] = add + int64(r[2].TsLo)
		o[3] = add + int64(r[3].TsLo)
	}
	for ; k < len(run); k++ {
		out[k] = add + int64(run[k].TsLo)
	}
}

// step matches one sighting, and writes its journey + 1 (0: none) to its slot. The usual sighting
// (matchable, not IPv6 TCP data, no eviction due, no ambiguous group made) whose NAT-tolerant
// fingerprint's chain holds at most one open journey with that fingerprint is matched here, with no
// call on its way: that journey, when it has its exact fingerprint, is within the window and has not
// visited its stage, is the one scanPlain would find (the only candidate), and it is attached; with
// none, a new journey begins (stepOther, as for scanPlain's -1). Any other case is left, unchanged,
// to stepRare, which looks again from the start (nothing was written here). Without a call in the
// walk, no value is kept on the stack across one. (A loop over a batch's sightings with this written
// out in it, in place of matchKeys' call of step, took 12 M instructions more on the many-flow set:
// every value the loop carries was reloaded from the stack at each sighting, after the calls of the
// other paths.)
func (m *matcher) step(s *sighting) {
	t, e, loose := s.t, s.e, s.loose
	if t > m.evictAt || s.kind&(sMatchable|sTCPData6) != sMatchable || m.amb != nil {
		m.stepRare(s)
		return
	}
	var js *jstate
	j := int32(-1)
	ring, mask := unsafe.Pointer(unsafe.SliceData(m.ring)), m.mask // (m.st's, read once for the walk)
	for k, base := m.loose.first(hash32(loose)), m.base; k >= base; {
		ks := (*jstate)(unsafe.Add(ring, uintptr(uint32(k&mask))*unsafe.Sizeof(jstate{})))
		if ks.loose == loose {
			if js != nil || ks.exact != e && ks.exact0 != e || uint64(t-ks.lastTs+m.window) >= m.winEnd || ks.visitedBit(s.stage, s.bit) {
				m.stepRare(s)
				return
			}
			js, j = ks, k
		}
		k = ks.nextSame
	}
	if js == nil {
		m.stepNew(s, e)
		return
	}
	// attach(j, s, s.stage, s.node), written out with js at hand.
	if t > js.lastTs {
		js.lastTs = t
	} else if js.hops != 0 {
		js.flags |= jOutOfOrder
	}
	if n := js.nstages; n < maxStages { // (n read once: the compiler reads a field again after any store through js)
		js.stages[n] = s.stage
		js.nstages = n + 1
		js.stageBits |= s.bit
	}
	if node := s.node; node != js.lastNode {
		js.flags |= js.flags&jMoved<<1 | jMoved // (jOutOfOrder is jMoved<<1)
		js.lastNode = node
	}
	js.lastG = s.g
	*s.slot = uint64(j) + 1 | uint64(js.hops)<<rankShift
	js.hops++
}

// stepNew is step for a sighting whose walk found no open journey of its NAT-tolerant fingerprint
// (step's usual case otherwise: see step), e its exact fingerprint: a new journey. stepAll calls it
// for such a sighting that stepKeys leaves, without step's walk again.
func (m *matcher) stepNew(s *sighting, e uint64) {
	*s.slot = 0
	// place's cases but the last rule themselves out: with the window not below dupWin, and no
	// ambiguous group (ambByLoose is made with amb, which step found nil).
	if m.window >= m.dupWin {
		m.beginUsual(s, e)
	} else {
		m.stepOther(s, true, e, s.stage, s.node)
	}
}

// stepRare is step for any sighting: the usual one first (scanPlain), the rest in stepOther. Not
// inlined: step calls it for few sightings.
//
//go:noinline
func (m *matcher) stepRare(s *sighting) {
	t := s.t
	*s.slot = 0
	if t > m.evictAt { // the oldest open journey may be idle too long
		m.evict(t)
	}
	if s.kind&sMatchable == 0 {
		return
	}
	node, stage, e := s.node, s.stage, s.e
	if m.amb != nil { // (made for its first group, and never emptied: one test, not a map's length)
		if g := m.amb[e]; g != nil {
			m.ambStep(g, s, stage, node)
			return
		}
	}
	// The usual sighting first (its tests as branches to attach, no flags); the rest in stepOther.
	best := m.scanPlain(s, e, stage)
	if best >= 0 && s.kind&sTCPData6 == 0 || best >= 0 && !m.climbs(best, s, node) { // the usual sighting: its packet's next hop (as place would join it)
		m.attach(best, s, stage, node)
		return
	}
	m.stepOther(s, best != notPlain, e, stage, node)
}

// stepOther is step for any but the usual sighting (kept apart, so that step's own frame is small):
// plain is whether scanPlain answered (not notPlain): then no open journey continues s (none was found, or the nearest is ruled
// out by climbs), and scan need not look again. Not inlined, for the same reason.
//
//go:noinline
func (m *matcher) stepOther(s *sighting, plain bool, e uint64, stage uint32, node int16) {
	t := s.t
	var c candidates
	if plain {
		c = candidates{best: -1, dupJ: -1, nat: -1, late: -1, natLate: -1, refused: -1}
	} else if c, plain = m.scan(s, e, stage, node); !plain {
		return
	}
	if c.best < 0 && c.dupJ < 0 && m.window < m.dupWin { // (pastDup finds none past a longer window)
		// Before a NAT candidate too: a copy of a frame this stage saw moments ago, as the open
		// journey would give with a window of dupWin, not the packet rewritten (see pastDup).
		c.dupJ = m.pastDup(e, stage, t, m.copyWin(s.o))
	}
	m.place(s, &c, e, stage, node)
}

// candidates are the open journeys a sighting may continue (-1: none), as scan found them.
type candidates struct {
	best    int32 // the same packet, not yet seen at this stage: the nearest in time
	dupJ    int32 // a journey this sighting is a duplicate copy of
	nat     int32 // the same packet rewritten by NAT on this node
	late    int32 // the same packet seen before the window (see noteLate)
	natLate int32 // the same packet before a NAT rewrite, seen before the window (see noteLateNAT)
	refused int32 // an ICMP error's NAT candidate that errNATShown refused (see natRefusal)
}

// scanPlain is scan for the usual sighting, with less to keep track of: every open journey with its
// NAT-tolerant fingerprint and its exact one is within the window and not yet seen at its stage (fewer
// than ambScan of them), and the others have another NAT-tolerant fingerprint. It returns the nearest
// of them in time (-1: none), as scan's best, or notPlain as soon as it meets any other case, for scan
// to look again.
func (m *matcher) scanPlain(s *sighting, e uint64, stage uint32) int32 {
	loose, t := s.loose, s.t
	best, same := int32(-1), 0
	for j, next, base := m.loose.first(hash32(loose)), int32(0), m.base; j >= base; j = next {
		js := m.st(j)
		next = js.nextSame
		if js.loose != loose {
			continue
		}
		if js.exact != e && js.exact0 != e || t-js.lastTs > m.window || js.lastTs-t > m.window || js.visitedBit(stage, s.bit) {
			return notPlain
		}
		if same++; same == ambScan {
			return notPlain
		}
		if best < 0 || m.nearer(j, best, t) {
			best = j
		}
	}
	return best
}

// notPlain is scanPlain's answer for a sighting it leaves to scan.
const notPlain = -2

// scan looks through the open journeys with sighting s's NAT-tolerant fingerprint (exact fingerprint e,
// at stage on node) for the ones it may continue. It returns false when s turned out to be one of a
// group of identical packets, which it then matched by position (ambiguous.go).
func (m *matcher) scan(s *sighting, e uint64, stage uint32, node int16) (candidates, bool) {
	loose, t := s.loose, s.t
	best, dupJ, nat, late, natLate := int32(-1), int32(-1), int32(-1), int32(-1), int32(-1) // locals: registers in the loop
	refused := int32(-1)
	same, again := 0, false
	for j, next, base := m.loose.first(hash32(loose)), int32(0), m.base; j >= base; j = next {
		js := m.st(j)
		next = js.nextSame
		if js.loose != loose {
			continue
		}
		if js.exact == e || js.exact0 == e {
			if same++; same == ambScan {
				m.ambStep(m.ambiguate(e, loose, s.o), s, stage, node)
				return candidates{}, false
			}
		}
		if t-js.lastTs > m.window || js.lastTs-t > m.window {
			if t > js.lastTs && (js.exact == e || js.exact0 == e) {
				if js.visited(stage) && t-js.lastTs <= m.copyWin(s.o) {
					if j > dupJ {
						dupJ = j // a copy of its frame, past a --window shorter than dupWin: see pastDup
					}
				} else if !js.visited(stage) && m.nearer(j, late, t) {
					// This packet, seen before the window (see noteLate): the latest such journey, as a
					// packet split several times is continued by the last of its pieces.
					late = j
				}
			} else if m.natLateCand(js, s, e, stage, node, t) && m.nearer(j, natLate, t) {
				natLate = j // this packet before a NAT rewrite, seen before the window: see noteLateNAT
			}
			continue
		}
		if js.exact != e && js.exact0 != e {
			// NAT: the same packet with other addresses or ports, on the same node.
			if (js.lastNode == node || m.natBehind(js, s, node)) && (!js.visited(stage) || m.hairpin(js, s, stage)) && m.nearer(j, nat, t) && (!m.w.arrived(js.lastG) || m.podForwarded(js, s, stage)) {
				if s.o.Flags&decode.FlagICMPError == 0 || m.errNATShown(js.lastG, s.o) {
					nat = j
				} else if m.nearer(j, refused, t) {
					refused = j
				}
			}
			continue
		}
		if js.visited(stage) {
			// A second copy of a frame at a point the journey already passed, moments later (the
			// journey may have moved on meanwhile): a duplicate, not a new packet. An ICMP error
			// past copyWin but within dupWin is a second error alike in all the frames say: the
			// fingerprint is ambiguous (as secondPacket finds a second packet).
			if d := t - js.lastTs; d <= m.copyWin(s.o) {
				if j > dupJ {
					dupJ = j
				}
			} else if d <= m.dupWin {
				again = true
			}
			continue
		}
		// Among identical packets in flight (IP id 0, duplicate ACKs, resends) take the journey seen
		// most recently before this sighting: the nearest plausible one in time.
		if m.nearer(j, best, t) {
			best = j
		}
	}
	if again && best < 0 && dupJ < 0 {
		m.ambStep(m.ambiguate(e, loose, s.o), s, stage, node)
		return candidates{}, false
	}
	return candidates{best: best, dupJ: dupJ, nat: nat, late: late, natLate: natLate, refused: refused}, true
}

// place joins sighting s (exact fingerprint e, at stage on node) to the journey c says it continues:
// the same packet, else as a duplicate, else as the packet after a NAT rewrite; or, when none, starts
// a new journey (begin).
func (m *matcher) place(s *sighting, c *candidates, e uint64, stage uint32, node int16) {
	o, loose, g := s.o, s.loose, s.g
	switch {
	case c.best >= 0 && (s.kind&sTCPData6 == 0 || !m.climbs(c.best, s, node)):
		m.attach(c.best, s, stage, node)
	case c.dupJ >= 0:
		if js := m.st(c.dupJ); e == js.exact && e != js.exact0 && js.visited(stage|stageBack) {
			stage |= stageBack // a copy of the frame of its packet's way back through the point (hairpin)
		}
		if m.noteDup(c.dupJ, s, stage, node, e) {
			return
		}
		if o.Flags&decode.FlagICMPError != 0 { // a copy from the same capture or the point's other (icmpcopies.go)
			m.errCopies = append(m.errCopies, errCopy{j: c.dupJ, g: g})
		}
		*s.slot = uint64(c.dupJ) + 1
		m.dup[g/64] |= 1 << (g % 64)
	case c.nat >= 0:
		js := m.st(c.nat)
		if js.visited(stage) { // its packet back through the point it left by (hairpin)
			stage |= stageBack
			s.bit = stageBit(stage)
			m.cameBack = true
		}
		ev := natEvent{j: c.nat, from: js.lastG, to: g}
		to := o
		if last, _ := m.w.obsAt(js.lastG); js.lastNode != node && last.TTL < o.TTL {
			// s is the packet before the rewrite, ahead of js's sightings (natBehind's natAhead)
			ev = natEvent{j: c.nat, from: g, to: js.lastG, ahead: true}
			to = last
		}
		m.nat = append(m.nat, ev)
		m.noteNATFlow(ev.from, to)
		if o.Proto == 6 {
			m.learnNAT(ev.from, to)
		}
		js.exact = e
		m.attach(c.nat, s, stage, node)
	case len(m.ambByLoose) > 0 && len(m.ambByLoose[loose]) > 0 && m.ambNATShown(loose, o):
		// The same packets as an ambiguous group's with other addresses or ports (NAT): ambiguous too.
		m.ambStep(m.ambiguate(e, loose, o), s, stage, node)
	default:
		refused := c.refused
		if c.nat >= 0 {
			refused = -1
		}
		m.begin(s, c.late, c.natLate, refused, e, stage, node)
	}
}

// begin starts a new journey with sighting s (exact fingerprint e, at stage on node), which continues
// no open journey: noting it as the packet of late (or natLate, -1: none) seen before the window,
// and the ICMP error NAT candidate refused (-1: none) that it is not (natRefusal). place's last case,
// and step's for a sighting whose fingerprint no open journey has (all three -1 then; with a window
// not below dupWin, where pastDup finds nothing, and no ambiguous group by NAT-tolerant fingerprint).
func (m *matcher) begin(s *sighting, late, natLate, refused int32, e uint64, stage uint32, node int16) {
	o, loose, g, t := s.o, s.loose, s.g, s.t
	// (without recent, no open late candidate and no closed slot of e: both notes would note nothing)
	if (late >= 0 || m.recent != nil || m.closedExact[e&(closedSlots-1)] == e) && !m.noteLate(late, e, stage, t, m.next) {
		m.noteLateNAT(natLate, loose, e, stage, node, t, g, m.next)
	}
	j := m.newJourney(t)
	js := m.st(j)
	js.open(e, loose, t, node, j+1)
	m.put(hash32(loose), j)
	if refused >= 0 {
		m.natRefused = append(m.natRefused, natRefusal{j: refused, nj: j, from: m.st(refused).lastG, to: g})
	}
	js.first(j, s, stage)
	if m.passed.n > 0 { // its packet was seen before the window (noteLate): it passed those stages
		js.inherit(&m.passed)
		m.passed.n = 0
	}
	if s.kind&sTCPData != 0 {
		m.offload(j, o, g, t, stage, node)
	}
	if m.natRevG == g+1 {
		m.natReversed = append(m.natReversed, natReversal{j: j, of: m.natRevOf})
	}
}

// beginUsual is begin(s, -1, -1, -1, e, s.stage, s.node), step's new journey, with its usual case
// written out, no call on its way: nothing to note as late (no recent journeys kept, e's slot of the
// closed ones not e), room in the ring, in the loose index and in the current block of the journeys'
// first times, an open journey before it (evictAt stays), nothing passed (m.passed), not TCP data
// (offload) and not the sighting of a NAT reversal. Then the journey's state is written once (what
// open, put and first write, in that order) where begin wrote it through newJourney, open, put and
// first, three calls (about 180 instructions a new journey, 90 here). Any other case goes to begin,
// nothing written before. The tests that do not depend on the sighting (no recent journeys kept, the
// rooms, an open journey before it) are made once for a run of new journeys (usualRoom, usualLeft).
// Its journey is jAlone: its only caller, stepNew, is called after a walk that found no open journey
// of s's NAT-tolerant fingerprint.
//
//go:noinline
func (m *matcher) beginUsual(s *sighting, e uint64) {
	if m.usualLeft == 0 && !m.usualRoom() || m.closedExact[e&(closedSlots-1)] == e || s.kind&sTCPData != 0 ||
		m.natRevG == s.g+1 || m.passed.n > 0 {
		m.begin(s, -1, -1, -1, e, s.stage, s.node)
		return
	}
	m.usualLeft--
	j, lm, ft := m.next, m.loose, &m.jT0
	t, loose, n := s.t, s.loose, uint(ft.n)
	m.next++                                  // newJourney
	ft.blocks[n/timesBlock][n%timesBlock] = t // (jT0.append, n unsigned: no fix-up of a sign)
	ft.n++
	js, b := m.st(j), lm.bucket(hash32(loose)) // (put's)
	js.exact, js.exact0, js.loose, js.nextSame, js.lastG, js.lastTs = e, e, loose, *b-1, s.g, t
	js.seq, js.plen, js.nstages, js.flags, js.lastNode, js.id1, js.stageBits, js.hops = 0, 0, 1, jIndexed|jAlone, s.node, j+1, s.bit, 1
	js.stages[0] = s.stage
	*b = j + 1
	*s.slot = uint64(j) + 1 // (rank 0)
}

// usualRoom sets usualLeft to how many new journeys, from the next (m.next) on, beginUsual may begin
// one after another with room in the ring (journeys below base+len(ring)), in the loose index (below
// base+len(head)/bucketsPerOpen) and in the current block of the first times, no recent journeys kept,
// and an open journey before the next: the tests of beginUsual that do not depend on the sighting.
// It reports false (usualLeft 0) when the next has none of that. What a run so counted rests on: only
// beginUsual opens journeys in it (newJourney, which grows the ring and the first times, sets usualLeft
// to 0, as regrow does for the index), and base only rises, which makes room; evict sets usualLeft to 0
// when it closes every open journey (base reaches next: no open journey before the next).
//
//go:noinline
func (m *matcher) usualRoom() bool {
	j, r := m.next, m.jT0.n%timesBlock
	if m.recent != nil || m.base == j || r == 0 {
		return false
	}
	left := min(int(m.base)+len(m.ring), int(m.base)+len(m.loose.head)/bucketsPerOpen, int(j)+timesBlock-r) - int(j)
	if left <= 0 {
		return false
	}
	m.usualLeft = int32(left)
	return true
}

// copyWin is how long after a journey's last sighting a sighting of its exact fingerprint at a point
// it passed may come and be a copy of its frame (a duplicated capture): dupWin; for an ICMP error from
// the sole capture of its point, copyGap. An error has no IP id over IPv6, and over IPv4 its sender's
// may repeat: a router's two errors for two identical packets (a resend quoting the same bytes) are
// identical but for their time, and a capture that writes a frame twice does so at the same moment.
// Within copyGap the two cannot be told apart: such a copy is counted as a duplicate (Hop.Dup), and
// icmp-error-copies says so, as it does for a copy that a point's other capture did not make (two
// frames of one capture there, within dupWin).
func (m *matcher) copyWin(o *decode.Observation) int64 {
	if o.Flags&decode.FlagICMPError != 0 && m.srcAt[o.Source].sole {
		return min(copyGap, m.dupWin)
	}
	return m.dupWin
}

// noteNATFlow records the flow rewrite that a NAT event from global observation g to o shows (when
// neither is an ICMP error, and the flows are TCP, UDP or ICMP echo): see errNATShown.
func (m *matcher) noteNATFlow(g uint32, o *decode.Observation) {
	if o.Flags&decode.FlagICMPError != 0 {
		return
	}
	p, _ := m.w.obsAt(g)
	t := m.w.c.Tables
	pf, pr, ok1 := t.FlowKeys(p)
	of, or, ok2 := t.FlowKeys(o)
	if !ok1 || !ok2 || pf == of {
		return
	}
	if m.natFlows == nil {
		m.natFlows = map[[2]uint64]struct{}{}
	}
	m.natFlows[[2]uint64{pf, of}] = struct{}{}
	m.natFlows[[2]uint64{or, pr}] = struct{}{} // the other direction's packets, rewritten back
}

// errNATShown reports whether ICMP error o may be the error last seen as global observation g
// rewritten by NAT: the packets they quote are of one flow, or of two flows that a NAT event of
// their packets rewrote one into the other (noteNATFlow). Linux's NAT rewrites an error's quote as
// it rewrote the packet quoted; two errors that quote two flows no NAT was seen to join are errors
// about two packets (the same query to two servers, pings from two sockets), whatever the rest.
// When a quote does not reach the ports, nothing tells: as before, the NAT-tolerant match stands.
func (m *matcher) errNATShown(g uint32, o *decode.Observation) bool {
	p, _ := m.w.obsAt(g)
	t := m.w.c.Tables
	a, ok1 := t.QuotedFlowKey(p)
	b, ok2 := t.QuotedFlowKey(o)
	if !ok1 || !ok2 || a == b {
		return true
	}
	_, ab := m.natFlows[[2]uint64{a, b}]
	_, ba := m.natFlows[[2]uint64{b, a}]
	return ab || ba
}

// climbs reports whether IPv6 TCP data sighting s (sTCPData6, on node) would take journey j back upstream: j
// was last seen with a lower hop limit, so s is another packet with the same bytes, not j again (the
// hop limit never rises on a packet's way; NAT and encapsulation keep the inner one). On another node
// than j's last sighting only when s comes later by more than both clocks' uncertainty (a bounded,
// fitting clock each): an upstream sighting that the clocks put later is j all the same.
//
// IPv6 has no IP id to tell a TCP resend from its original. A resend of a piece of a frame split by
// segmentation offload is first seen at the sender's veth after the piece was seen further on, at
// the sender's eth0 or on a router, and was taken for the piece come back: the piece "delivered" by
// the resend's hops, the loss it resent for unseen. IPv4's id tells them apart.
func (m *matcher) climbs(j int32, s *sighting, node int16) bool {
	js := m.st(j)
	if js.lastNode != node {
		if js.lastNode < 0 || node < 0 || int(max(js.lastNode, node)) >= len(m.clocks) {
			return false
		}
		a, b := &m.clocks[js.lastNode], &m.clocks[node]
		if a.bound < 0 || b.bound < 0 || a.disagree != 0 || b.disagree != 0 || s.t-js.lastTs <= a.bound+b.bound {
			return false
		}
	}
	last, _ := m.w.obsAt(js.lastG)
	return s.o.TTL > last.TTL
}

// nearer reports whether open journey j is a better match for a sighting at t than cur (-1: none):
// see closer; on a tie the later-opened journey wins.
func (m *matcher) nearer(j, cur int32, t int64) bool {
	if cur < 0 {
		return true
	}
	x, y := m.st(j).lastTs, m.st(cur).lastTs
	if x == y {
		return j > cur
	}
	return closer(x, y, t)
}

// tupleHash identifies a TCP connection direction.
func tupleHash(o *decode.Observation) uint64 {
	h := uint64(o.Src)<<32 | uint64(o.Dst)
	h ^= uint64(o.Sport)<<48 | uint64(o.Dport)<<32 | uint64(o.Flags&decode.FlagIPv6)
	return h*0x9e3779b97f4a7c15 + 6
}

// offload links a new TCP data journey j to open journeys of the same connection whose bytes it
// splits (a GSO/TSO frame seen as MSS segments from here on) or merges (GRO: segments seen as one
// frame from here on): on the same node within offloadWin; failing that, on another node, where j
// is downstream of them (offloadAcross). A connection rewritten by NAT is one connection: a journey
// is listed under its tuple as first seen and under the tuple NAT gives it (natTuple).
func (m *matcher) offload(j int32, o *decode.Observation, g uint32, t int64, stage uint32, node int16) {
	js := m.st(j)
	tuple := tupleHash(o)
	js.seq, js.plen = o.Seq, uint32(o.PayloadLen())
	conn := m.tcp[tuple]
	conn = conn[m.expired(conn, t):]
	across := false
	for _, k := range conn {
		ks := m.st(k)
		if ks.visited(stage) || t-ks.lastTs > offloadWin || ks.lastTs-t > offloadWin {
			continue
		}
		split := ks.plen > js.plen && within(js.seq, js.plen, ks.seq, ks.plen) // k was split; j is a piece
		merge := js.plen > ks.plen && within(ks.seq, ks.plen, js.seq, js.plen) // k merged into j
		switch {
		case !split && !merge:
		case ks.lastNode != node:
			across = true
		case split:
			m.gso = append(m.gso, gsoEvent{parent: k, child: j, at: g})
		default:
			m.gso = append(m.gso, gsoEvent{parent: k, child: j, at: g, merge: true})
		}
	}
	if across && (len(m.gso) == 0 || m.gso[len(m.gso)-1].child != j) {
		m.offloadAcross(conn, j, o, g, t, stage, node)
	}
	m.tcp[tuple] = append(conn, j)
	if len(m.natTuple) > 0 {
		if to, ok := m.natTuple[tuple]; ok { // pieces past the rewrite carry the other tuple
			m.tcp[to] = append(m.tcp[to], j)
		}
	}
	if m.tcpSweep--; m.tcpSweep <= 0 { // connections no longer seen would keep their last journeys
		for k, c := range m.tcp {
			if c = c[m.expired(c, t):]; len(c) == 0 {
				delete(m.tcp, k)
			} else {
				m.tcp[k] = c
			}
		}
		m.tcpSweep = 2*len(m.tcp) + 4096
	}
}

// offloadAcross links new TCP data journey j (no offload on its own node) to open journeys of its
// connection last seen on another node: a super-frame that node sent before segmentation (TSO, or
// GSO split past it) of which j is a piece, or segments GRO merged into j on j's node. j must be
// downstream of them: seen after them and with no higher TTL than at their last sighting (the TTL
// falls at each router and node; an encapsulated packet keeps its inner one). A real resend of the
// same bytes is seen first at its sender's points, where the super-frame was seen already: it is a
// journey of its own there, never a new one here. Where several journeys hold j's bytes, j is a piece
// of the latest seen (a super-frame split into smaller super-frames goes on as them); where j holds
// several, each was merged into it.
func (m *matcher) offloadAcross(conn []int32, j int32, o *decode.Observation, g uint32, t int64, stage uint32, node int16) {
	js := m.st(j)
	parent, merged := int32(-1), false
	for _, k := range conn {
		ks := m.st(k)
		if ks.lastNode == node || ks.visited(stage) || ks.lastTs > t || t-ks.lastTs > offloadWin {
			continue
		}
		if last, _ := m.w.obsAt(ks.lastG); o.TTL > last.TTL {
			continue
		}
		switch {
		case ks.plen > js.plen && within(js.seq, js.plen, ks.seq, ks.plen):
			if parent < 0 || ks.lastTs > m.st(parent).lastTs {
				parent = k
			}
		case js.plen > ks.plen && within(ks.seq, ks.plen, js.seq, js.plen):
			m.gso = append(m.gso, gsoEvent{parent: k, child: j, at: g, merge: true})
			merged = true
		}
	}
	if parent >= 0 && !merged {
		m.gso = append(m.gso, gsoEvent{parent: parent, child: j, at: g})
	}
}

// learnNAT notes, for offload, that NAT rewrote a TCP packet last seen as Observation g into o: the
// connection's journeys listed from then on are listed under both tuples.
func (m *matcher) learnNAT(g uint32, o *decode.Observation) {
	p, _ := m.w.obsAt(g)
	from, to := tupleHash(p), tupleHash(o)
	if from == to {
		return
	}
	if m.natTuple == nil {
		m.natTuple = map[uint64]uint64{}
	}
	if m.natTuple[from] != to {
		m.natTuple[from] = to
	}
}

// expired returns how many of a connection's journeys (oldest first) can no longer take part in
// segmentation offload at t: opened more than offloadWin before t, or closed with their state gone
// from the ring. A journey closed by a --window shorter than the kernel's offload (its state still in
// the ring) stays a candidate, so a GSO frame's later segments are not taken for new packets.
func (m *matcher) expired(conn []int32, t int64) int {
	n := 0
	for n < len(conn) && ((conn[n] < m.base && m.st(conn[n]).id1 != conn[n]+1) || t-m.jT0.at(int(conn[n])) > offloadWin) {
		n++
	}
	return n
}

// offloadWin is how far apart a GSO frame and its segments (or GRO segments and their merge) may be
// seen on one node: the kernel splits and merges within microseconds.
const offloadWin = int64(10 * time.Millisecond)

// within reports whether [s, s+n) lies inside [S, S+N), in sequence-number arithmetic.
func within(s, n, S, N uint32) bool {
	off := s - S
	return int32(off) >= 0 && off+n <= N
}

// attach joins sighting s, at stage (s.stage, its bit s.bit) on node, to open journey j, and writes j
// + 1 to s's slot. step writes this body out for the usual sighting (as a shared jstate method it costs
// 84 to inline, past the budget of 80, and a call a sighting): a change here is made there too.
func (m *matcher) attach(j int32, s *sighting, stage uint32, node int16) {
	js := m.st(j)
	if s.t > js.lastTs {
		js.lastTs = s.t
	} else if js.hops != 0 {
		js.flags |= jOutOfOrder
	}
	if js.nstages < maxStages {
		js.stages[js.nstages] = stage
		js.nstages++
		js.stageBits |= s.bit
	}
	if node != js.lastNode {
		js.flags |= js.flags&jMoved<<1 | jMoved // (jOutOfOrder is jMoved<<1)
		js.lastNode = node
	}
	js.lastG = s.g
	*s.slot = uint64(j) + 1 | uint64(js.hops)<<rankShift
	js.hops++
}

// A hop's rank in its journey (the order the matcher attached its journey's sightings in, mod 256)
// rides in its fingerprint slot from rankShift on, above the journey + 1, and collectChunk moves it
// to jOf's top byte (rankBits) when the journey ids leave that free. The arena puts each hop of a
// journey of at most maxRanked hops in the slot of its rank (fill): the hops then come in time order,
// as the matcher took them, and sortQuick finds them in order without moving them. A rank is only a
// place, not a promise: ranks are distinct within a journey and below its hop count, as every hop
// counted (collectChunk) was attached once and no attached sighting becomes a duplicate or moves to
// another journey but through wgMerge, which ranks the hops it moves after the target's own.
const (
	rankShift = 56
	rankBits  = 0xff000000
	maxRanked = 256
)

// journeyOf returns the journey of global observation g (-1: none) from jOf.
func (m *matcher) journeyOf(g uint32) int32 { return int32(uint32(m.jOf[g])&^m.jRank) - 1 }

// evict closes journeys idle for longer than the window, so the open maps hold only the window.
// It takes evictAt again, and ages the recently closed journeys (recent) only when it closed one.
// Not inlined: step calls it for few sightings, and its closed journeys' copies would make step's
// own frame large.
//
//go:noinline
func (m *matcher) evict(now int64) {
	base := m.base
	for m.base < m.next {
		j := m.base
		js := m.st(j)
		if now-js.lastTs <= m.window {
			break
		}
		if js.flags&jDupRec != 0 {
			delete(m.dupRecs, j)
		}
		m.closed[js.exact&(closedSlots-1)] = closedJ{exact: js.exact, lastTs: js.lastTs, j: j, stages: js.stages, nstages: js.nstages}
		m.closedExact[js.exact&(closedSlots-1)] = js.exact
		if m.recent != nil {
			m.recent.add(closedJ{exact: js.exact, exact0: js.exact0, loose: js.loose,
				lastTs: js.lastTs, j: j, stages: js.stages, nstages: js.nstages, node: js.lastNode, lastG: js.lastG})
		}
		m.base++
	}
	if m.base != base {
		m.keepHops(base, m.base)
		if m.base == m.next { // no open journey before the next (usualRoom)
			m.usualLeft = 0
		}
	}
	m.evictAt = never
	if m.base < m.next {
		m.evictAt = m.idleAfter(m.st(m.base).lastTs)
	}
	if m.recent != nil && m.base != base {
		m.recent.expire(now)
	}
}

// never is a time no sighting comes after.
const never = 1<<63 - 1

// idleAfter returns the time after which a journey last seen at t is idle past the window (t plus
// the window, or never when that is out of range): a sighting at now comes after it exactly when
// now-t > window.
func (m *matcher) idleAfter(t int64) int64 {
	if m.window > 0 && t > never-m.window {
		return never
	}
	return t + m.window
}

func (m *matcher) isDup(g uint32) bool { return m.dup[g/64]&(1<<(g%64)) != 0 }

// closer reports whether a journey last seen at x is a better match for a sighting at t than one
// last seen at y: the latest one not after t wins; failing that, the nearest.
func closer(x, y, t int64) bool {
	switch {
	case x <= t && y <= t:
		return x > y
	case x <= t:
		return true
	case y <= t:
		return false
	}
	return x < y
}

// st returns the state of open journey j. It reads the ring without a bounds check (three
// instructions of about ten, at two or three lookups a sighting): j&mask is below len(ring), as mask
// is always len(ring)-1 (set with the ring, a power of two, in start and newJourney).
func (m *matcher) st(j int32) *jstate {
	return (*jstate)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(m.ring)), uintptr(uint32(j&m.mask))*unsafe.Sizeof(jstate{})))
}

// newRing returns a ring of n journey states for newJourney to grow into, its memory mapped into the
// process in one call (prefault): the ring's old states are copied into it at once, and the new ones
// written there as journeys open, which would otherwise take a page fault for each of its pages, on
// the matcher's goroutine.
func newRing(n int) []jstate {
	r := hugepage.Make[jstate](n, n)
	prefault.Slice(r, 0, n)
	return r
}

// newJourney opens a journey first seen at t and returns its id, growing the ring when the window
// holds more journeys than it has room for.
func (m *matcher) newJourney(t int64) int32 {
	if int(m.next-m.base) == len(m.ring) {
		old, bigger := m.ring, newRing(2*len(m.ring))
		for id := m.base; id < m.next; { // in runs contiguous in both rings
			o, b := int(id)&(len(old)-1), int(id)&(len(bigger)-1)
			n := min(len(old)-o, len(bigger)-b, int(m.next-id))
			copy(bigger[b:b+n], old[o:o+n])
			id += int32(n)
		}
		m.ring, m.mask = bigger, int32(len(bigger)-1)
	}
	j := m.next
	if m.base == j { // the only open journey: the oldest
		m.evictAt = m.idleAfter(t)
	}
	m.next++
	m.jT0.append(t)
	m.usualLeft = 0 // (the ring and the first times may have grown: see usualRoom)
	return j
}

// exactOf is o's exact fingerprint as the matcher takes it (sight): Exact, and for an ICMP error
// QuoteExact.
func (w *world) exactOf(o *decode.Observation, loose uint64) uint64 {
	if o.Flags&decode.FlagICMPError != 0 {
		return w.c.Tables.QuoteExact(o, o.Exact(loose))
	}
	return o.Exact(loose)
}
