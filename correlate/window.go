package correlate

import (
	"fmt"
	"sort"
	"time"

	"github.com/calipath/calipath/decode"
)

// A --window shorter than the hops the captures show.
//
// The matcher follows a packet from point to point only while the sightings are at most --window
// apart; a packet whose next hop takes longer opens a new journey there, and its first half would
// end early on its path: lost (an encap-drop or underlay-drop ERROR) or not captured, for a packet
// that went on. The matcher notes such late sightings (noteLate); joinLate confirms them against the
// flows' paths and joins each pair again: the later journey continues the earlier one from its first
// point, as a segmentation offload's pieces continue their frame, so the packet is counted once, with
// the outcome of its second half, and the window-too-small warning says so and names a window that
// fits.

// lateJoin is a packet followed as two journeys because a hop took longer than --window: old ended at
// path point last, and new, the same packet, began further along the path at point first.
type lateJoin struct {
	old, new    int32
	gap         int64
	last, first int
}

// lateStage joins again the packets a --window shorter than a hop split in two. Its inputs are the
// world, the matcher's late sightings, the arena and the flows with their paths. It writes two things
// of the stages before it, as joining is what it is for: the direction of a joined journey whose half
// read as the other direction (jDir), and the joins as offload events (the journeys' gso), which
// placement reads.
type lateStage struct {
	w  *world
	jo *journeysOut
	ar *arenaOut
	fo *flowsOut
	nJ int
}

// lateOut is the late joins stage's output.
type lateOut struct {
	lateJoins []lateJoin // packets split in two by a too small --window, joined again (joinLate)
	// lateUnjoined: journeys that seemed to end early, seen again past a too small --window, not joined
	// (joinLate)
	lateUnjoined map[int32]bool
	// lateOrphans: the later halves of the packets a too small --window split and joinLate could not
	// join again (nil for none). Alone, such a half's place on its path is unknown: it may begin past
	// points its path crosses twice (a NodePort's request: the path is learnt from journeys that
	// crossed a point twice, and no journey of a split packet did), or read as the other direction
	// (after an SNAT its tuple alone is the reply's). It is never counted lost: placement counts it not
	// captured where it would be lost, as it does its first half.
	lateOrphans map[int32]bool
}

// joinLate confirms the matcher's late sightings — the older journey ended early on its path and the
// newer one, of the same flow and direction, begins further along that path — and records each as the
// older journey continuing as the newer one (an offload event), so that placeJourneys counts the
// packet once. A sighting it cannot confirm leaves both halves unjoined: the older in lateUnjoined, the
// newer in lateOrphans, neither counted lost. It runs once the paths are built and before the journeys
// are placed.
func (s *lateStage) joinLate() lateOut {
	var out lateOut
	joined := map[int32]bool{} // journeys already continued by a later one (each continues once)
	redir := map[int32]bool{}  // journeys whose direction their first half gave
	var unjoined []int32
	var orphans []int32
	for _, l := range s.jo.late {
		if !s.joinOne(l, joined, redir, &out) && l.gap <= lateNATWin && int(l.old) < s.nJ {
			unjoined = append(unjoined, l.old)
			if int(l.new) < s.nJ {
				orphans = append(orphans, l.new)
			}
		}
	}
	out.lateUnjoined = map[int32]bool{}
	for _, o := range unjoined {
		if !joined[o] {
			out.lateUnjoined[o] = true
		}
	}
	if len(orphans) > 0 {
		out.lateOrphans = map[int32]bool{}
		for _, n := range orphans {
			out.lateOrphans[n] = true
		}
	}
	return out
}

// joinOne confirms one late sighting and joins it (see joinLate), or reports that it could not.
func (s *lateStage) joinOne(l lateEv, joined, redir map[int32]bool, out *lateOut) bool {
	fo := s.fo
	o, nw := int(l.old), int(l.new)
	if o >= s.nJ || nw >= s.nJ || fo.jFlow[o] < 0 || fo.jFlow[o] != fo.jFlow[nw] || joined[l.old] {
		return false
	}
	if fo.jDir[o] != fo.jDir[nw] {
		// A packet rewritten by SNAT can read as the reply direction from its new tuple alone
		// (its source is no longer the client); its first half says which way it went, and so
		// does the half before for a packet split again after the rewrite.
		if !l.nat && !redir[l.old] {
			return false
		}
	}
	pi := fo.pathOf(fo.flows[fo.jFlow[o]], fo.jDir[o])
	hn := s.ar.hops(nw)
	if pi == nil || len(hn) == 0 {
		return false
	}
	last := -1 // the farthest point of the path the older journey reached
	for _, g := range s.ar.hops(o) {
		last = max(last, pi.index(s.w.pointOf(g)))
	}
	first := pi.index(s.w.pointOf(hn[0]))
	if last < 0 || first <= last {
		return false
	}
	joined[l.old] = true
	if fo.jDir[nw] != fo.jDir[o] {
		fo.jDir[nw] = fo.jDir[o]
		redir[l.new] = true
	}
	out.lateJoins = append(out.lateJoins, lateJoin{old: l.old, new: l.new, gap: l.gap, last: pi.points[last],
		first: pi.points[first]})
	s.jo.gso = append(s.jo.gso, gsoEvent{parent: l.old, child: l.new, at: hn[0]})
	return true
}

// lateNATWin bounds the time between a packet's last sighting before a NAT rewrite and its first one
// after it, for a split on the rewrite to be noted: the kernel rewrites within microseconds. Only a
// --window shorter than it can split a packet there, so longer windows (the default) skip this.
const lateNATWin = int64(10 * time.Millisecond)

// natLateCand reports whether sighting s at t (exact fingerprint e, at stage on node) may be open
// journey js's packet, rewritten by NAT on its node and seen past the window: the matcher joins such
// sightings within the window itself; past it, noteLateNAT notes them. Usually s is on js's node;
// on another node only as natLateOn allows.
func (m *matcher) natLateCand(js *jstate, s *sighting, e uint64, stage uint32, node int16, t int64) bool {
	return m.window < lateNATWin && js.exact != e && js.exact0 != e && t > js.lastTs &&
		t-js.lastTs <= lateNATWin && !js.visited(stage) && !m.w.arrived(js.lastG) &&
		(js.lastNode == node || m.natLateOn(js.lastG, js.stages[:js.nstages], s.o, node))
}

// natLateOn reports whether sighting o on node, past the window after a journey last seen (lastG,
// having passed stages) on another node, may be that journey's packet rewritten by NAT on its node and
// first seen again past it: the journey never passed node, o carries a lower TTL or hop limit (it is
// downstream of last, not upstream: the TTL never rises on a packet's way), and a NAT event already
// joined showed this very rewrite of last's flow into o's (natFlowSeen: conntrack rewrites every
// packet of a connection as it did the first). Within the window natBehind takes such a sighting on
// the same rule. A clock bounded within a few µs (a router's) can put the next node's copy of the
// rewritten packet before the rewriting node's own (its eth0); past a --window shorter than the
// rewrite, that copy then opened a journey no late sighting was noted for, the node's own copy joined
// it, and the packet's first half was counted lost before the rewrite (snat-address-midstream).
func (m *matcher) natLateOn(lastG uint32, stages []uint32, o *decode.Observation, node int16) bool {
	last, _ := m.w.obsAt(lastG)
	if last.TTL <= o.TTL {
		return false
	}
	for _, st := range stages {
		if m.w.pointNode[st>>12] == int(node) {
			return false
		}
	}
	return m.natFlowSeen(last, o)
}

// lateHairpin is hairpin for recently closed journey c: sighting o at a stage c visited may be its
// packet back through the point it left by, rewritten by NAT (stageBack), when that stage is c's latest,
// c has not come back there yet, and o's TTL or hop limit is lower. Past a --window shorter than that
// hop (hairpin-clusterip: 2 to 141µs), the sighting opens a journey of its own, which noteLateNAT notes
// so that joinLate joins it again or, when it cannot, counts neither half lost.
func (m *matcher) lateHairpin(c *closedJ, stage uint32, o *decode.Observation) bool {
	if c.nstages == 0 || c.stages[c.nstages-1] != stage || c.visitedStage(stage|stageBack) {
		return false
	}
	p, _ := m.w.obsAt(c.lastG)
	return o.TTL < p.TTL
}

// noteLateNAT is called, when noteLate noted nothing, before a sighting at t opens journey next: when
// an open journey (open ≥ 0) or a recently closed one carried the same NAT-tolerant fingerprint with
// another exact one, was last seen on the same node (or on another as natLateOn allows) within
// lateNATWin before t but past the window,
// and never at this stage (for a closed one: unless it left by this point and comes back, lateHairpin),
// the sighting may be its packet after a NAT rewrite, seen again after the window closed. It records
// the rewrite (so both tuples are one flow, as when the window holds the rewrite) and notes the pair
// for joinLate.
func (m *matcher) noteLateNAT(open int32, loose, e uint64, stage uint32, node int16, t int64, g uint32, next int32) {
	if m.recent == nil {
		return
	}
	old, lastTs, lastG := open, int64(0), uint32(0)
	if open >= 0 {
		js := m.st(open)
		lastTs, lastG = js.lastTs, js.lastG
	} else {
		c := m.recent.latestLoose(loose)
		if c == nil || c.loose != loose || c.nstages == 0 || c.exact == e || c.exact0 == e ||
			t-c.lastTs <= m.window || t-c.lastTs > lateNATWin || m.w.arrived(c.lastG) {
			return
		}
		o, _ := m.w.obsAt(g)
		if c.node != node && !m.natLateOn(c.lastG, c.stages[:c.nstages], o, node) {
			return
		}
		if c.visitedStage(stage) && !m.lateHairpin(c, stage, o) {
			return
		}
		old, lastTs, lastG = c.j, c.lastTs, c.lastG
	}
	if len(m.late) >= maxLate {
		m.lateForgotten++
		return
	}
	o, _ := m.w.obsAt(g)
	if !m.natShownAt(lastG, o) {
		return // an ICMP error about another flow, not this one rewritten
	}
	m.nat = append(m.nat, natEvent{j: old, from: lastG, to: g})
	m.noteNATFlow(lastG, o)
	m.late = append(m.late, lateEv{old: old, new: next, gap: t - lastTs, nat: true})
}

// sortedJourneys lists a set of journeys in id order.
func sortedJourneys(set map[int32]bool) []int32 {
	out := make([]int32, 0, len(set))
	for j := range set {
		out = append(out, j)
	}
	sort.Slice(out, func(i, k int) bool { return out[i] < out[k] })
	return out
}

// lateWindowHint is the --window to name once packets were split by a too small one: twice the longest
// gap a joined packet showed, rounded up, or, when none was joined, one that holds a NAT rewrite.
func (a *analysis) lateWindowHint() time.Duration {
	hi := int64(0)
	for _, l := range a.lateJoins {
		hi = max(hi, l.gap)
	}
	if hi == 0 {
		hi = lateNATWin
	}
	return niceCeil(2 * hi)
}

// lateUncertain: once maxLate late sightings were kept, later ones were forgotten, and a packet whose
// late sighting was forgotten is counted lost where its first half ended. Which losses are such
// packets is unknown, so every loss finding (the errors of blindKinds, and loss, loss-one-way-gap) is
// a warning that starts "Unreliable:" and names the window to use, and the summary says the counts
// are unreliable. Without a forgotten sighting it does nothing.
func (a *analysis) lateUncertain(ans []Anomaly) {
	if a.journeys.lateForgotten == 0 {
		return
	}
	win := a.lateWindowHint()
	for i := range ans {
		an := &ans[i]
		if !blindKinds[an.Kind] && !lossWarnings[an.Kind] {
			continue
		}
		an.Severity = sevWarning
		an.Message = fmt.Sprintf("Unreliable: --window %s is shorter than the hops and more than %d packets were seen "+
			"again past it, so calipath forgot %d such sightings; any of these packets may be one of them, not lost. %s",
			time.Duration(a.opts.Window), maxLate, a.journeys.lateForgotten, an.Message)
		an.Next = fmt.Sprintf("Re-run with --window %s or more (the default, 1s, fits most captures). %s", win, an.Next)
	}
}

// lateUnreliable is the summary's Unreliable when late sightings were forgotten (lateUncertain), else "".
func (a *analysis) lateUnreliable() string {
	if a.journeys.lateForgotten == 0 {
		return ""
	}
	return fmt.Sprintf("--window %s is shorter than the hops: %d packets seen again past it were forgotten, so the "+
		"lost and sent counts are unreliable (some lost packets were delivered, and counted as sent twice); re-run "+
		"with --window %s or more", time.Duration(a.opts.Window), a.journeys.lateForgotten, a.lateWindowHint())
}
