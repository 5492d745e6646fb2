package correlate

import (
	"fmt"
	"math/bits"
	"sort"
	"strings"
	"time"

	"github.com/calipath/calipath/decode"
)

// Byte-identical packets (issue 13): a sender that repeats one datagram (IP id 0 with DF, the same
// ports and payload) at a high rate puts many packets with one exact fingerprint in flight at once.
// Nothing in the frames tells them apart, so the nearest-journey rule of step can only guess, and each
// sighting scanned every open journey of the fingerprint (quadratic in the packets per window).
//
// A duplicated capture (one frame written twice at a point) gives a journey one extra copy at one
// point from one source; several captures of one point (a -i any file, a pcapng file and the
// interface's own) give it one copy from each. A journey that collects a second copy from one source
// at one point is not one packet: its fingerprint is then ambiguous, and from that sighting on its
// packets are matched by position, in order: at every point
// the k-th sighting of the fingerprint belongs to its k-th journey (the oldest open journey that has not
// been seen there, nor further along its path). Each capture of a point counts its own sightings so
// (a -i any file and the interface's own see the same packets in the same order), and a sighting of a
// journey another capture of the point saw there is a copy of that packet (ambCopy), not the next one. Each fingerprint keeps its open journeys in a FIFO with
// a cursor per point, so a sighting costs O(1) amortised whatever the number in flight. The copies taken
// for duplicates before are matched again that way. A fingerprint with ambScan open journeys becomes
// ambiguous too (identical packets one after another), so no sighting scans more than that. The
// journeys counted so are marked, and the ambiguous-packets anomaly names their flows. NAT (a Service's
// DNAT on the sending node) gives the same packets another exact fingerprint from one point on: a
// sighting that finds no journey in its own group takes, in order, one of another ambiguous group
// with the same NAT-tolerant fingerprint on the same node (ambNAT).

// ambScan is how many open journeys with one exact fingerprint make it ambiguous too: identical
// packets sent one after another (not in flight together) over the window, which step would scan
// for every sighting. Position in order follows them as well (the anomaly says so).
const ambScan = 64

// provDup is a sighting taken as a duplicate copy of a journey: kept while the journey is open, in
// case its fingerprint turns out to be ambiguous.
type provDup struct {
	s     sighting
	stage uint32
	node  int16
}

// ambGroup is an ambiguous exact fingerprint's open journeys, oldest first, with a cursor per stage.
type ambGroup struct {
	exact, loose uint64
	js           []int32 // open journeys in creation order; js[0] is at position off
	maxr         []uint8 // per journey: the highest path rank (pathRank) of a stage it was matched at here
	off          int
	stages       []stageSrc // the stages its packets were seen at, per capture source, in the order first seen
	cur          []int      // per stage and source: every journey before this position has been seen there or cannot be
	// seen holds, per journey of the group, the stages at which a capture that shares its point with
	// another (a -i any file beside the interface's own) saw it, and which capture: a copy of that
	// frame from the point's other capture is the same packet (ambCopy), not the next one.
	seen map[int32][]stageSrc
}

// stageSrc is a stage and the capture source of a sighting there.
type stageSrc struct {
	stage uint32
	src   uint16
}

// slot returns the index of a stage and capture source in stages and cur, adding it when new: each
// capture of a point counts its sightings by position on its own.
func (g *ambGroup) slot(stage uint32, src uint16) int {
	for r, s := range g.stages {
		if s == (stageSrc{stage, src}) {
			return r
		}
	}
	if len(g.stages) == 255 {
		return 254 // more stages than a path has: they share the last cursor
	}
	g.stages = append(g.stages, stageSrc{stage, src})
	g.cur = append(g.cur, g.off)
	return len(g.stages) - 1
}

// note records that journey j was seen at stage by capture src, which shares its point with another.
func (g *ambGroup) note(j int32, stage uint32, src uint16) {
	if g.seen == nil {
		g.seen = map[int32][]stageSrc{}
	}
	g.seen[j] = append(g.seen[j], stageSrc{stage, src})
}

// ambCopy reports whether a sighting at t from capture src at stage is a copy of the i-th journey of
// group g's frame: the journey is open, was seen at that stage by another capture of the point (see
// ambGroup.seen), not by src, within the window. A stage whose capture is not known (seen before
// the group was formed, but for its latest) takes no copy: the sighting is then the next packet.
func (m *matcher) ambCopy(g *ambGroup, i int, stage uint32, src uint16, t int64) bool {
	j := g.js[i]
	if j < m.base {
		return false
	}
	if js := m.st(j); !js.visited(stage) || t-js.lastTs > m.window {
		return false
	}
	other := false
	for _, x := range g.seen[j] {
		if x.stage == stage {
			if x.src == src {
				return false
			}
			other = true
		}
	}
	return other
}

// noteDup records that sighting s was taken as a duplicate copy of journey j at stage. It reports
// whether that made the fingerprint ambiguous, in which case s has been matched by position already.
func (m *matcher) noteDup(j int32, s *sighting, stage uint32, node int16, e uint64) bool {
	if m.dupRecs == nil {
		m.dupRecs = map[int32][]provDup{}
	}
	recs := m.dupRecs[j]
	again := false
	for i := range recs {
		if recs[i].stage == stage && recs[i].s.o.Source == s.o.Source {
			again = true
			break
		}
	}
	if !again {
		if m.secondPacket(j, recs, s, stage) {
			m.ambStep(m.ambiguate(e, m.st(j).loose, s.o), s, stage, node)
			return true
		}
		m.dupRecs[j] = append(recs, provDup{s: *s, stage: stage, node: node})
		m.st(j).flags |= jDupRec // so that evict drops the entry (a closed j's slot may be another's: no harm)
		return false
	}
	g := m.ambiguate(e, m.st(j).loose, s.o)
	m.ambStep(g, s, stage, node)
	return true
}

// copyGap is how long after a journey's first sighting a copy of that frame from the same capture may
// come and still be taken for a duplicated capture: a capture that writes a frame twice does so within
// microseconds (the lab's duplicated sets: at the same time), a sender repeating a datagram does not.
const copyGap = int64(10 * time.Microsecond)

// secondPacket reports whether sighting s, taken as a copy of open journey j's frame at stage, and the
// copies taken before (recs) show a second packet rather than duplicated captures: a copy at j's first
// stage more than copyGap after its first sighting (the second packet's first sighting), and one
// after it at another point, no nearer the path's start (pathRank). A duplicated capture is a copy at one point, or (a whole capture written
// twice) copies at the same times; an identical packet sent moments later gives a copy at every
// point, as late as it was sent. The fingerprint is then ambiguous, and its packets are counted by
// position (review9 #1: a flow's 34 packets, all delivered, were 29, five taken for duplicated
// captures, and no warning). Only copies from the sole
// capture of a point count: two captures of one point (a pcapng file and the interface's own) stamp
// one frame tens of microseconds apart.
func (m *matcher) secondPacket(j int32, recs []provDup, s *sighting, stage uint32) bool {
	if j < m.base || len(recs) == 0 || !m.srcAt[s.o.Source].sole {
		return false
	}
	t1, ok := m.secondStart(j, recs, s, stage)
	if !ok {
		return false
	}
	first := int(m.st(j).stages[0] >> 12)
	rank := m.pathRank(s.o, first)
	after := func(x *sighting, st uint32) bool { // a copy further along the path, later
		p := int(st >> 12)
		return m.srcAt[x.o.Source].sole && x.t >= t1 && p != first && m.pathRank(x.o, p) >= rank
	}
	for i := range recs {
		if after(&recs[i].s, recs[i].stage) {
			return true
		}
	}
	return after(s, stage)
}

// secondStart returns the time of the earliest copy, among recs and s (at stage), at open journey j's
// first stage from its sole capture more than copyGap after j's first sighting: where a second packet
// would have begun; false when there is none.
func (m *matcher) secondStart(j int32, recs []provDup, s *sighting, stage uint32) (int64, bool) {
	first, t0 := m.st(j).stages[0], m.jT0.at(int(j))
	t1, ok := int64(0), false
	try := func(x *sighting, st uint32) {
		if st == first && m.srcAt[x.o.Source].sole && x.t-t0 > copyGap && (!ok || x.t < t1) {
			t1, ok = x.t, true
		}
	}
	try(s, stage)
	for i := range recs {
		try(&recs[i].s, recs[i].stage)
	}
	return t1, ok
}

// ambiguate turns exact fingerprint e into an ambiguous group: its open journeys leave the loose
// index, and the copies taken for their duplicates are matched again by position. o is one of its
// packets' observations (for the path ranks, which the group's packets share).
func (m *matcher) ambiguate(e, loose uint64, o *decode.Observation) *ambGroup {
	g := &ambGroup{exact: e, loose: loose}
	h := hash32(loose)
	for j, next := m.loose.first(h), int32(0); j >= m.base; j = next {
		js := m.st(j)
		next = js.nextSame
		// By the latest fingerprint: a journey rewritten by NAT since goes on with its new one.
		if js.loose == loose && js.exact == e {
			g.js = append(g.js, j)
		}
	}
	sort.Slice(g.js, func(a, b int) bool { return g.js[a] < g.js[b] })
	var dups []provDup
	for _, j := range g.js {
		m.unindex(h, j)
		m.markAmbiguous(j)
		dups = append(dups, m.dupRecs[j]...)
		delete(m.dupRecs, j)
	}
	g.maxr = make([]uint8, len(g.js))
	for i, j := range g.js {
		js := m.st(j)
		if last, _ := m.w.obsAt(js.lastG); !m.srcAt[last.Source].sole {
			g.note(j, m.stageOf(last), last.Source) // its latest sighting's capture (attach): the one stage known
		}
		for k := uint8(0); k < js.nstages; k++ {
			g.maxr[i] = max(g.maxr[i], m.pathRank(o, int(js.stages[k]>>12)))
		}
	}
	if m.amb == nil {
		m.amb, m.ambByLoose = map[uint64]*ambGroup{}, map[uint64][]*ambGroup{}
	}
	m.amb[e] = g
	m.ambByLoose[loose] = append(m.ambByLoose[loose], g)
	sort.Slice(dups, func(a, b int) bool {
		if dups[a].s.t != dups[b].s.t {
			return dups[a].s.t < dups[b].s.t
		}
		return dups[a].s.g < dups[b].s.g
	})
	for i := range dups {
		d := &dups[i]
		m.dup[d.s.g/64] &^= 1 << (d.s.g % 64)
		m.ambStep(g, &d.s, d.stage, d.node)
	}
	return g
}

// ambStep matches sighting s of an ambiguous fingerprint by position: to the oldest open journey of
// the group not seen at this stage, nor at a stage further along its path (pathRank), nor idle longer
// than the window; or to a new journey.
func (m *matcher) ambStep(g *ambGroup, s *sighting, stage uint32, node int16) {
	for len(g.js) > 0 && g.js[0] < m.base { // closed
		delete(g.seen, g.js[0])
		g.js, g.maxr = g.js[1:], g.maxr[1:]
		g.off++
	}
	src := s.o.Source
	shared := !m.srcAt[src].sole // the point has other captures: its frames may be copies
	r, ord := g.slot(stage, src), m.pathRank(s.o, int(m.w.srcPoint[src]))
	p := max(g.cur[r], g.off)
	end := g.off + len(g.js)
	for ; p < end; p++ {
		if m.ambCandidate(g, p-g.off, stage, ord, s.t, -1) {
			break
		}
		if shared && m.ambCopy(g, p-g.off, stage, src, s.t) {
			j := g.js[p-g.off]
			g.note(j, stage, src)
			g.cur[r] = p + 1
			*s.slot = uint64(j) + 1 // a copy of its frame from the point's other capture, as place takes one
			m.dup[s.g/64] |= 1 << (s.g % 64)
			return
		}
	}
	g.cur[r] = p
	if p == end {
		j, ok := m.ambNAT(g, s, stage, ord, node)
		if !ok {
			j = m.newJourney(s.t)
			*m.st(j) = jstate{exact: g.exact, exact0: g.exact, loose: g.loose, lastTs: s.t}
			m.markAmbiguous(j)
		}
		g.js = append(g.js, j)
		g.maxr = append(g.maxr, 0)
	}
	i := p - g.off
	m.attach(g.js[i], s, stage, node)
	if shared {
		g.note(g.js[i], stage, src)
	}
	g.maxr[i] = max(g.maxr[i], ord)
	g.cur[r] = p + 1
}

// ambCandidate reports whether the i-th journey of group g can take a sighting at t at stage (of path
// rank ord): open, not seen there nor further along, not idle longer than the window, and on node
// when node ≥ 0. Once false it stays false (a journey's node is taken as settled for NAT), so a
// cursor passes each journey once.
func (m *matcher) ambCandidate(g *ambGroup, i int, stage uint32, ord uint8, t int64, node int16) bool {
	j := g.js[i]
	if j < m.base { // closed: a journey taken over from another group (NAT) can lag behind
		return false
	}
	js := m.st(j)
	return !js.visited(stage) && t-js.lastTs <= m.window && g.maxr[i] <= ord && (node < 0 || js.lastNode == node)
}

// ambNAT finds, when no journey of g can take sighting s, one of another ambiguous group with the
// same NAT-tolerant fingerprint on the same node, or else of the loose index: the same packets with
// other addresses or ports (a Service's DNAT), matched by position as well. The journey is rewritten to g's fingerprint, the
// NAT recorded, and the caller adds it to g.
func (m *matcher) ambNAT(g *ambGroup, s *sighting, stage uint32, ord uint8, node int16) (int32, bool) {
	for _, o := range m.ambByLoose[g.loose] {
		if o == g {
			continue
		}
		for len(o.js) > 0 && o.js[0] < m.base {
			o.js, o.maxr = o.js[1:], o.maxr[1:]
			o.off++
		}
		r := o.slot(stage, s.o.Source)
		p := max(o.cur[r], o.off)
		end := o.off + len(o.js)
		for ; p < end && !m.ambCandidate(o, p-o.off, stage, ord, s.t, node); p++ {
		}
		o.cur[r] = p
		if p == end || !m.natShown(o.js[p-o.off], s.o) { // an error about another flow: not this one's
			continue
		}
		o.cur[r] = p + 1
		j := o.js[p-o.off]
		js := m.st(j)
		m.nat = append(m.nat, natEvent{j: j, from: js.lastG, to: s.g})
		m.noteNATFlow(js.lastG, s.o)
		js.exact = g.exact
		return j, true
	}
	// Or an open journey of the loose index (its fingerprint not ambiguous, so there are few): the
	// oldest one that fits, as step's NAT case takes it. It leaves the index for g.
	best := int32(-1)
	h := hash32(g.loose)
	for j, next := m.loose.first(h), int32(0); j >= m.base; j = next {
		js := m.st(j)
		next = js.nextSame
		if js.loose != g.loose || js.exact == g.exact || js.lastNode != node || js.visited(stage) ||
			s.t-js.lastTs > m.window || js.lastTs > s.t || !m.natShown(j, s.o) {
			continue
		}
		if best < 0 || j < best {
			best = j
		}
	}
	if best < 0 {
		return -1, false
	}
	m.unindex(h, best)
	js := m.st(best)
	m.nat = append(m.nat, natEvent{j: best, from: js.lastG, to: s.g})
	m.noteNATFlow(js.lastG, s.o)
	js.exact = g.exact
	m.markAmbiguous(best)
	return best, true
}

// natShown is errNATShown for ICMP error o and open journey j's last sighting; true for any other o.
func (m *matcher) natShown(j int32, o *decode.Observation) bool {
	return m.natShownAt(m.st(j).lastG, o)
}

// natShownAt is errNATShown for ICMP error o and global observation g; true for any other o.
func (m *matcher) natShownAt(g uint32, o *decode.Observation) bool {
	return o.Flags&decode.FlagICMPError == 0 || m.errNATShown(g, o)
}

// ambNATShown reports whether a sighting of o (NAT-tolerant fingerprint loose) may be a packet of an
// ambiguous group of that fingerprint rewritten by NAT: any o but an ICMP error; an error when an
// open journey of such a group quotes its flow or one NAT was seen to rewrite into it (natShown).
func (m *matcher) ambNATShown(loose uint64, o *decode.Observation) bool {
	if o.Flags&decode.FlagICMPError == 0 {
		return true
	}
	for _, g := range m.ambByLoose[loose] {
		for _, j := range g.js {
			if j >= m.base && m.natShown(j, o) {
				return true
			}
		}
	}
	return false
}

// pathRank orders point pi along the path of o's packet from what the captures say of the nodes
// and points, not from journeys: the sending node's points first (pod veth, tunnel, underlay), then
// other nodes' (routers), the receiving node's last (underlay, tunnel, pod veth). Points whose role
// does not tell (a -i any capture) rank with the tunnel; the points of one node's same role share a
// rank, and so do a node's points when it both sends and receives.
func (m *matcher) pathRank(o *decode.Observation, pi int) uint8 {
	w := m.w
	node := w.pointNode[pi]
	r := uint8(1)
	switch w.pointRole[pi] {
	case decode.RolePodVeth:
		r = 0
	case decode.RoleUnderlay:
		r = 2
	}
	switch node {
	case w.senderNode(o):
		return r
	case w.receiverNode(o):
		return 8 - r
	}
	return 4
}

// markAmbiguous records that journey j was matched by position.
func (m *matcher) markAmbiguous(j int32) {
	for int(j)/64 >= len(m.ambJ) {
		m.ambJ = append(m.ambJ, 0)
	}
	m.ambJ[j/64] |= 1 << (j % 64)
}

// detectAmbiguous says which flows had packets matched by position (see ambiguous.go): how many per
// flow, and that their counts and latencies pair packets by their order at each point.
func detectAmbiguous(f *findings, k *kindRow) []Anomaly {
	a, ids := f.a, f.ids
	perFlow := map[int32]int{}
	n, errs, first := 0, 0, int32(-1)
	var ev []Evidence
	for wi, word := range a.journeys.ambJ {
		for ; word != 0; word &= word - 1 {
			j := int32(wi*64 + bits.TrailingZeros64(word))
			if int(j) >= a.nJ || a.jStart[j] == a.jStart[j+1] {
				continue
			}
			n++
			perFlow[a.jFlow[j]]++
			if o, _ := a.obs(a.hops(int(j))[0]); o.Flags&decode.FlagICMPError != 0 {
				errs++
			}
			if first < 0 {
				first = j
			}
			if len(ev) < 10 {
				ev = append(ev, a.evidence(a.hops(int(j))[0]))
			}
		}
	}
	if n == 0 {
		return nil
	}
	fl := make([]int32, 0, len(perFlow))
	flows := map[int32]bool{}
	for f := range perFlow {
		fl = append(fl, f)
		flows[f] = true
	}
	sort.Slice(fl, func(i, j int) bool {
		if perFlow[fl[i]] != perFlow[fl[j]] {
			return perFlow[fl[i]] > perFlow[fl[j]]
		}
		return fl[i] < fl[j]
	})
	var names []string
	for i, f := range fl {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more flows", len(fl)-3))
			break
		}
		name := "packets of no flow"
		if f >= 0 {
			name = "flow " + ids[f]
		}
		names = append(names, fmt.Sprintf("%d of %s", perFlow[f], name))
	}
	detail := fmt.Sprintf("%d packets (%s) were identical to others in flight or within --window in all that calipath "+
		"tells packets apart by (IP id, addresses, ports, lengths, TCP sequence numbers and the first 16 payload bytes), "+
		"so nothing tells them apart.", n, strings.Join(names, ", "))
	if errs > 0 {
		// decode.Fingerprint: an error's payload is its quote, read for what NAT leaves alone in it
		detail += fmt.Sprintf(" %d of them are ICMP errors, told apart by the packet each quotes: its IP id, lengths, "+
			"IPv6 flow label, TCP sequence number, UDP length or echo sequence and first 16 payload bytes, and its "+
			"addresses, ports and echo identifier except across a NAT the flows' packets showed (it rewrites those with the error).", errs)
	}
	an := k.anomaly(k.severity, Where{Point: a.w.c.Points[a.point(a.hops(int(first))[0])].ID},
		flows, ids, n, ev, detail)
	return []Anomaly{an}
}
