package correlate

import (
	"fmt"
	"math/bits"
	"net/netip"
	"sort"
	"strings"

	"github.com/calipath/calipath/decode"
)

// Captures of one direction only: tcpdump -Q in or -Q out, a router captured on its ingress only, a
// cooked capture filtered on its packet type. Such a point sees the packets that cross it one way and
// none of those that cross it the other way; taken as seeing both, it makes every packet of the other
// way "lost" just before it (or keeps the delivered ones out of a segment's count). findOneWay finds
// the flow directions a point is blind to, from clear evidence only, and takes the point out of their
// paths: there it is not captured, as if its file had not been given. A loss on a segment that now
// spans it is placed only between the points around it (loss-one-way-gap), and the point is named
// (capture-one-way).

const (
	minOneWay       = 8 // packets a point must have missed of one path, seeing none of it, with as many frames of its own
	minCookedFrames = 4 // frames of a cooked capture, all of one packet type, that make it one-sided
	minCookedMissed = 2 // packets of a path seen before a one-sided cooked point and not there
)

// Sides of a cooked capture's point: which packet types it recorded (cookedOut: only "outgoing").
const (
	cookedBoth = iota
	cookedOut
	cookedIn
)

// oneWayOut is what findOneWay found: the one-way points, and the segments made by taking them out of
// paths.
type oneWayOut struct {
	points map[int]*oneWayPoint
	side   []uint8          // per point: what a cooked capture recorded (cookedBoth, cookedOut, cookedIn)
	gaps   map[[2]int][]int // segment from→to → the one-way points taken out between them
}

// oneWayPoint is one point found to capture one direction only.
type oneWayPoint struct {
	missed int      // packets of the paths it was taken out of seen before it and not there (crossed it unseen, or lost before it)
	paths  []string // those paths, "node/iface → node/iface" by their ends
	why    string   // the evidence
}

// owCount is what one path's journeys showed at one of its points: seen there; not seen there but seen
// before and after it (or, at a pod veth that starts the path, at two points after it); not seen there
// but seen before it.
type owCount struct {
	seen, crossed, before int32
}

// oneWayScan is findOneWay's working state.
type oneWayScan struct {
	a      *analysis
	side   []uint8 // per point: cookedBoth, cookedOut or cookedIn
	cand   []bool  // per point: may be one-way (few frames beside a neighbour, or a one-sided cooked capture)
	arpOW  []bool  // per point: a router's capture that holds an ARP reply without its request (arpOneWay)
	pieces map[int32]bool
	counts map[*pathInfo][]owCount
	order  []*pathInfo
	flowOf map[*pathInfo][][2]int // the flow directions (flow, dir) on each path
	// fam is, per point, the IP families (famBit) of the journeys seen there: a point that never
	// carried a family (vxlan.calico beside vxlan-v6.calico) is not blind to a path of it that
	// crosses it, the path is wrong (see countJourney).
	fam []uint8
}

// famBit is the bit of an Observation's IP family in oneWayScan.fam.
func famBit(o *decode.Observation) uint8 {
	if o.Flags&decode.FlagIPv6 != 0 {
		return 2
	}
	return 1
}

// families records at each point the IP families of the journeys of fl seen there.
func (s *oneWayScan) families(fl *flowAcc) {
	a := s.a
	for _, j := range a.journeysOf(fl) { // both directions'
		for _, g := range a.hops(int(j)) {
			o, _ := a.obs(g)
			s.fam[a.point(g)] |= famBit(o)
		}
	}
}

// findOneWay finds the points that captured one direction only and takes them out of the paths they
// are blind to (see above). It reads the paths and the arena, so it runs after the paths, before
// placement. It walks the journeys only when some point may be one-way.
func (a *analysis) findOneWay() *oneWayOut {
	s := &oneWayScan{a: a, side: a.cookedSides()}
	ow := &oneWayOut{points: map[int]*oneWayPoint{}, gaps: map[[2]int][]int{}, side: s.side}
	if !s.candidates() {
		return ow
	}
	s.count()
	for _, pi := range s.order {
		s.judge(pi, ow)
	}
	return ow
}

// cookedSides says, per point, whether the cooked captures (-i any) that hold it recorded only
// outgoing frames, or none: tcpdump -Q, or a filter on the packet type. A cooked file is one-sided when
// every one of its frames, on every interface of its node, is of one kind (a node that sends and
// receives nothing else for the whole capture is not met); a point is when every file that holds it
// is, on the same side. Frame-less points a -i any capture implies take their node's cooked files' side.
func (a *analysis) cookedSides() []uint8 {
	w := a.w
	side := make([]uint8, len(w.c.Points))
	fileSide := make([]int8, len(w.c.Files)) // -1: not one-sided cooked; else cookedOut or cookedIn
	found := false
	for f, fi := range w.c.Files {
		fileSide[f] = -1
		if cookedFile(fi) && f < len(w.c.Obs) {
			fileSide[f] = int8(obsSide(w.c.Obs[f]))
			found = found || fileSide[f] != cookedBoth
		}
	}
	if !found {
		return side
	}
	nodeSide := make([]int8, len(w.nodes)) // 0: none yet, -1: mixed or not one-sided
	pointSide := make([]int8, len(side))
	for src, p := range w.srcPoint {
		if src >= len(w.c.Sources) || int(w.c.Sources[src].File) >= len(fileSide) {
			continue
		}
		fs := fileSide[w.c.Sources[src].File]
		if fs == cookedBoth {
			fs = -1
		}
		for _, sd := range []*int8{&pointSide[p], &nodeSide[w.pointNode[p]]} {
			if *sd == 0 {
				*sd = fs
			} else if *sd != fs {
				*sd = -1
			}
		}
	}
	for p := range side {
		sd := pointSide[p]
		if w.inferred != nil && w.inferred[p] && w.c.Points[p].Traffic.Frames == 0 {
			sd = nodeSide[w.pointNode[p]]
		}
		if sd > 0 {
			side[p] = uint8(sd)
		}
	}
	return side
}

// obsSide says whether a cooked file's frames are all outgoing (cookedOut), all not (cookedIn), or
// both or too few to tell (cookedBoth).
func obsSide(obs []decode.Observation) uint8 {
	out := 0
	for i := range obs {
		if obs[i].Flags&decode.FlagOutbound != 0 {
			out++
		}
	}
	switch {
	case len(obs) < minCookedFrames:
		return cookedBoth
	case out == len(obs):
		return cookedOut
	case out == 0:
		return cookedIn
	}
	return cookedBoth
}

// cookedFile reports whether file fi holds Linux cooked frames (whose packet type says their direction).
func cookedFile(fi *decode.FileInfo) bool {
	for _, tr := range fi.Traffic {
		for _, lt := range tr.LinkTypes {
			if lt == decode.LinkLinuxSLL || lt == decode.LinkSLL2 {
				return true
			}
		}
	}
	return false
}

// candidates marks the points that may be one-way: a one-sided cooked capture, or a point with frames
// that has fewer than three quarters of a path neighbour's (a capture of both directions sees about
// what its neighbours see), unless it is a pod veth whose frames show both directions (a pod's veth
// sees its pod's share of what its node's tunnel and underlay carry). It reports whether there is any.
func (s *oneWayScan) candidates() bool {
	w := s.a.w
	s.cand = make([]bool, len(w.c.Points))
	found := false
	for p, sd := range s.side {
		if sd != cookedBoth {
			s.cand[p], found = true, true
		}
	}
	s.arpOW = make([]bool, len(w.c.Points))
	for p := range w.c.Points {
		if !w.cluster[w.pointNode[p]] && arpOneWay(&w.c.Points[p].Traffic) != "" {
			s.cand[p], s.arpOW[p], found = true, true, true // a router's capture that holds an ARP reply without its request
		}
	}
	frames := func(p int) int { return w.c.Points[p].Traffic.Frames }
	// flows share paths: each is looked at once, by its index (a path at two indexes would be looked
	// at twice, to the same effect)
	done := make([]bool, len(s.a.paths))
	for _, fl := range s.a.flows {
		for _, x := range fl.pathAt {
			pi := s.a.paths[x]
			if pi == nil || done[x] {
				continue
			}
			done[x] = true
			for k, p := range pi.points {
				if w.pointRole[p] == decode.RolePodVeth && bothWays(&w.c.Points[p].Traffic) {
					continue // one pod's share of its node's traffic, in both directions
				}
				for _, q := range [2]int{k - 1, k + 1} {
					if q >= 0 && q < len(pi.points) && frames(p) > 0 && frames(p)*4 < frames(pi.points[q])*3 {
						s.cand[p], found = true, true
					}
				}
			}
		}
	}
	return found
}

// bothWays reports whether a pod veth's capture holds frames both to and from ee:ee:ee:ee:ee:ee: what
// the pod sent and what its host handed it.
func bothWays(tr *decode.Traffic) bool {
	return tr.NPodSrc+tr.NPodSrc6 > 0 && tr.NPodDst+tr.NPodDst6 > 0
}

// count counts, on each path with a candidate point, what its journeys showed at its points.
func (s *oneWayScan) count() {
	a := s.a
	s.pieces = map[int32]bool{}
	for _, ev := range a.journeys.gso {
		s.pieces[ev.child] = true
	}
	s.counts, s.flowOf = map[*pathInfo][]owCount{}, map[*pathInfo][][2]int{}
	s.fam = make([]uint8, len(a.w.c.Points))
	for _, fl := range a.flows {
		if s.onPath(s.a.pathOf(fl, c2s)) || s.onPath(s.a.pathOf(fl, s2c)) {
			s.families(fl)
		}
	}
	for fi, fl := range a.flows {
		for d, pi := range s.a.pathsOf(fl) {
			if pi == nil || len(pi.points) < 2 || len(pi.points) > 64 || !s.onPath(pi) {
				continue
			}
			cs, ok := s.counts[pi]
			if !ok {
				cs = make([]owCount, len(pi.points))
				s.counts[pi] = cs
				s.order = append(s.order, pi)
			}
			s.flowOf[pi] = append(s.flowOf[pi], [2]int{fi, d})
			for _, j := range a.dirJourneys(fl, uint8(d)) {
				s.countJourney(int(j), pi, cs)
			}
		}
	}
}

// onPath reports whether path pi (nil for a direction without one) has a candidate point.
func (s *oneWayScan) onPath(pi *pathInfo) bool {
	if pi == nil {
		return false
	}
	for _, p := range pi.points {
		if s.cand[p] {
			return true
		}
	}
	return false
}

// countJourney counts journey j of path pi at the path's points, where the captures ran when it was
// first seen.
func (s *oneWayScan) countJourney(j int, pi *pathInfo, cs []owCount) {
	a := s.a
	if s.pieces[int32(j)] {
		return
	}
	h := a.hops(j)
	o, _ := a.obs(a.w.pktHop(h))
	if o.Flags&decode.FlagICMPError != 0 {
		return
	}
	fb := famBit(o)
	base := int(a.jStart[j])
	var seen uint64
	i := -1
	for _, pt := range a.hopPt[base : base+len(h)] {
		if i = pi.indexAfter(int(pt), i); i >= 0 {
			seen |= 1 << i
		}
	}
	t0 := a.hopTs.t0.at(j)
	for k, p := range pi.points {
		if !s.cand[p] || s.fam[p]&fb == 0 && a.w.c.Points[p].Traffic.Frames > 0 && !s.arpOW[p] {
			continue
		}
		switch lo, hi := s.span(p); {
		case seen>>k&1 != 0:
			cs[k].seen++
		case t0 < lo || t0 > hi:
		case seen&(1<<k-1) != 0 && seen>>(k+1) != 0,
			k == 0 && a.w.pointRole[p] == decode.RolePodVeth && bits.OnesCount64(seen) >= 2:
			cs[k].crossed++
			cs[k].before++
		case seen&(1<<k-1) != 0:
			cs[k].before++
		}
	}
}

// span is when point p's capture ran, in corrected time: its own frames' span, or its node's when it
// has none or is a router's capture that holds an ARP reply without its request (a capture of the
// other direction, whose own frames may be that reply alone).
func (s *oneWayScan) span(p int) (int64, int64) {
	c := &s.a.cov
	if s.a.w.c.Points[p].Traffic.Frames == 0 || s.arpOW[p] {
		return c.first[p], c.last[p]
	}
	return c.ownFirst[p], c.ownLast[p]
}

// judge decides, at each point of path pi, whether the point is blind to pi, and takes the blind ones
// out of it.
func (s *oneWayScan) judge(pi *pathInfo, ow *oneWayOut) {
	cs := s.counts[pi]
	var keep []int
	blind := map[int]bool{}
	for k, p := range pi.points {
		why, arrived := s.blindTo(pi, k, cs[k])
		if why == "" {
			keep = append(keep, p)
			continue
		}
		blind[k] = true
		pi.blindStart = pi.blindStart || k == 0
		pi.blindEnd = pi.blindEnd || k == len(pi.points)-1 && !arrived
		op := ow.points[p]
		if op == nil {
			op = &oneWayPoint{why: why}
			ow.points[p] = op
		}
		op.missed += int(cs[k].before)
		op.paths = append(op.paths, s.pathName(pi))
	}
	if len(blind) == 0 {
		return
	}
	for k := 0; k < len(pi.points); k++ {
		if !blind[k] || k == 0 {
			continue
		}
		e := k
		for e < len(pi.points) && blind[e] {
			e++
		}
		if e < len(pi.points) && !blind[k-1] {
			g := [2]int{pi.points[k-1], pi.points[e]}
			ow.gaps[g] = append(ow.gaps[g], pi.points[k:e]...)
		}
		k = e
	}
	pi.points = keep
}

// blindTo says why the point at index k of path pi is blind to it ("" when it is not): it saw none of
// the path's packets while they crossed it, and its capture recorded the other direction. arrived says
// that the path's packets that reached the point before it arrived: never claimed today (see below).
func (s *oneWayScan) blindTo(pi *pathInfo, k int, c owCount) (why string, arrived bool) {
	w := s.a.w
	p := pi.points[k]
	if c.seen > 0 || !s.cand[p] {
		return "", false
	}
	frames := w.c.Points[p].Traffic.Frames
	if sd := s.side[p]; sd != cookedBoth {
		out, ok := senseAt(w, pi, k)
		if ok && out != (sd == cookedOut) && c.before >= minCookedMissed {
			dir := map[uint8]string{cookedOut: "outgoing", cookedIn: "incoming (host, broadcast or other-host)"}[sd]
			return fmt.Sprintf("its cooked capture recorded %s frames only (packet type)", dir), false
		}
		return "", false
	}
	switch {
	case c.crossed >= minOneWay && frames >= minOneWay:
		return fmt.Sprintf("it saw none of %d packets that crossed it (seen on both sides of it) in one direction, while it saw %d frames",
			c.crossed, frames), false
	case k > 0 && k < len(pi.points)-1 && c.before > 0 && s.arpOW[p]:
		// The ARP reply says the capture recorded one direction; which one it does not say, so the
		// packets' absence there says nothing of where they were lost (k < last: a point after it
		// bounds the loss).
		return fmt.Sprintf("it saw none of %d packets seen before it, and its capture holds %s: it recorded one direction only",
			c.before, arpOneWay(&w.c.Points[p].Traffic)), false
	case k == len(pi.points)-1 && c.before >= minOneWay && s.answeredBlind(pi, p):
		// The pod's answers show its veth was captured one way, not which packets reached it (an answer
		// to one request says nothing of the next): what reached the point before stays not captured.
		return fmt.Sprintf("it saw none of %d packets that reached the point before it, while the pod answered on their flows there and no frame the host sent the pod was captured",
			c.before), false
	}
	return "", false
}

// arpOneWay describes the ARP replies a capture holds without the requests they answer ("" for none):
// a reply goes out only for a request, so a capture that recorded the reply and not the request saw
// one direction only (tcpdump -Q in at the asker's interface, -Q out at the answerer's).
func arpOneWay(tr *decode.Traffic) string {
	if un := arpUnasked(tr); len(un) > 0 {
		return fmt.Sprintf("an ARP reply for %s without the request it answers", netip.AddrFrom4(un[0]))
	}
	return ""
}

// arpUnasked returns the addresses of the ARP replies a capture holds without a request for them.
// Gratuitous replies (sender address asked for itself) do not count, nor any of a capture whose table
// of distinct ARP packets is full.
func arpUnasked(tr *decode.Traffic) [][4]byte {
	if tr.NARPs >= len(tr.ARPs) {
		return nil
	}
	var out [][4]byte
	for _, r := range tr.ARPs[:tr.NARPs] {
		if r.Op == 2 && r.SPA != r.TPA && !arpAsked(tr, r.SPA) {
			out = append(out, r.SPA)
		}
	}
	return out
}

// arpAsked reports whether a capture holds an ARP request for address ip.
func arpAsked(tr *decode.Traffic, ip [4]byte) bool {
	for _, q := range tr.ARPs[:tr.NARPs] {
		if q.Op == 1 && q.TPA == ip {
			return true
		}
	}
	return false
}

// oneWayBeside returns the routers' points on no path of segment s's flows whose capture holds an
// ARP reply without its request (one direction only) for an address asked for at s's first point:
// they are on that point's link, a way the lost packets may have gone, and their captures could not
// show whether the packets reached them. Only for a segment between two nodes (underlay).
func (a *analysis) oneWayBeside(s *segAcc) []int {
	w := a.w
	if s.kind != "underlay" {
		return nil
	}
	from := &w.c.Points[s.from].Traffic
	var out []int
	for q := range w.c.Points {
		n := w.pointNode[q]
		if w.cluster[n] || n == w.pointNode[s.from] || n == w.pointNode[s.to] {
			continue
		}
		for _, ip := range arpUnasked(&w.c.Points[q].Traffic) {
			if arpAsked(from, ip) {
				out = append(out, q)
				break
			}
		}
	}
	return out
}

// answeredBlind reports whether point p, a pod's veth at the end of path pi, recorded nothing the host
// sent the pod (no frame from ee:ee:ee:ee:ee:ee) while the pod answered the path's packets there: a
// TCP segment with ACK, an ICMP echo reply, or a UDP datagram from the server. A pod answers only what
// reached it.
func (s *oneWayScan) answeredBlind(pi *pathInfo, p int) bool {
	a, w := s.a, s.a.w
	tr := &w.c.Points[p].Traffic
	if w.pointRole[p] != decode.RolePodVeth || s.side[p] != cookedBoth || tr.NPodDst != 0 || tr.NPodDst6 != 0 ||
		tr.Frames < minOneWay || tr.NPodSrc+tr.NPodSrc6 == 0 {
		return false
	}
	for _, fd := range s.flowOf[pi] {
		fl := a.flows[fd[0]]
		for _, j := range a.dirJourneys(fl, uint8(1-fd[1])) {
			h := a.hops(int(j))
			if a.point(h[0]) != p {
				continue
			}
			if o, _ := a.obs(h[0]); answers(o, fd[1]) {
				return true
			}
		}
	}
	return false
}

// answers reports whether o, sent back on a flow whose direction d it answers, shows that what was
// sent on d arrived: a TCP segment with ACK, an ICMP echo reply, or a UDP datagram from the server.
func answers(o *decode.Observation, d int) bool {
	switch {
	case o.Flags&(decode.FlagICMPError|decode.FlagARP|decode.FlagNotIP) != 0:
		return false
	case o.Proto == 6:
		return o.TCPFlags&0x10 != 0
	case o.Proto == 1:
		return o.Sport == 0
	case o.Proto == 58:
		return o.Sport == 129
	case o.Proto == 17:
		return d == c2s
	}
	return false
}

// senseAt says whether a packet on path pi leaves the node through the point at index k (outgoing, as
// a cooked capture marks it) or enters through it, as far as the point's role and place say; ok is
// false when they do not.
func senseAt(w *world, pi *pathInfo, k int) (out, ok bool) {
	p := pi.points[k]
	n, role := w.pointNode[p], w.pointRole[p]
	last := len(pi.points) - 1
	switch {
	case role == decode.RolePodVeth && k == 0:
		return false, true // the pod sent it into its host
	case role == decode.RolePodVeth && k == last:
		return true, true // the host handed it to the pod
	case k > 0 && w.pointNode[pi.points[k-1]] != n:
		return false, true // from another node
	case k < last && w.pointNode[pi.points[k+1]] != n:
		return true, true // to another node
	case role != decode.RoleTunnel:
		return false, false
	}
	for i, q := range pi.points {
		if w.pointNode[q] == n && w.pointRole[q] == decode.RoleUnderlay {
			return i > k, true // encapsulated before its underlay (outgoing), decapsulated after it
		}
	}
	return false, false
}

// pathName names path pi by its ends.
func (s *oneWayScan) pathName(pi *pathInfo) string {
	pts := s.a.w.c.Points
	return pts[pi.points[0]].ID + " → " + pts[pi.points[len(pi.points)-1]].ID
}

// note is what the Capture points table says of one-way point p ("" for others).
func (ow *oneWayOut) note(p int) string {
	if ow == nil || ow.points[p] == nil {
		return ""
	}
	return "; captured one direction only: " + ow.points[p].why + " (capture-one-way)"
}

// gapOf is the one-way points a segment made by taking them out of a path spans (nil for others).
func (ow *oneWayOut) gapOf(from, to int) []int {
	if ow == nil {
		return nil
	}
	return ow.gaps[[2]int{from, to}]
}

// detectOneWay lists the points that captured one direction only.
func detectOneWay(f *findings, k *kindRow) []Anomaly {
	ow := f.a.oneWay
	if ow == nil {
		return nil
	}
	ps := make([]int, 0, len(ow.points))
	for p := range ow.points {
		ps = append(ps, p)
	}
	sort.Ints(ps)
	var out []Anomaly
	for _, p := range ps {
		op := ow.points[p]
		paths := append([]string(nil), op.paths...)
		sort.Strings(paths)
		detail := fmt.Sprintf("%s. It is left out of the path %s: the %d packets seen before it there and not at it are judged without it (not captured there, not lost there).",
			upperFirst(op.why), strings.Join(paths, "; "), op.missed)
		out = append(out, k.anomaly(k.severity, Where{Point: f.a.w.c.Points[p].ID}, nil, f.ids, op.missed, nil, detail))
	}
	return out
}

// upperFirst returns s with its first letter in upper case.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// oneWayGapDetail is what a loss on segment s says when s spans one-way points ("" when it does not).
func (a *analysis) oneWayGapDetail(s *segAcc) string {
	gap := a.oneWay.gapOf(s.from, s.to)
	if len(gap) == 0 {
		return ""
	}
	var ids []string
	for _, p := range gap {
		ids = append(ids, a.w.c.Points[p].ID)
	}
	return fmt.Sprintf(" Between them, %s captured the other direction only (capture-one-way): where on the way they were lost is unknown.",
		strings.Join(ids, " and "))
}

// besideDetail is what a loss on segment s says when routers' one-way points qs may lie on it
// (oneWayBeside).
func (a *analysis) besideDetail(s *segAcc, qs []int) string {
	var ids []string
	for _, q := range qs {
		ids = append(ids, a.w.c.Points[q].ID)
	}
	return fmt.Sprintf(" %s captured one direction only: it holds an ARP reply without the request it answers, for an address asked for at %s, "+
		"so it is on that link, a way they may have gone. It saw none of them, which says nothing of whether they reached it "+
		"(it is on no path, so no capture-one-way names it): where between these two points they were lost is unknown.",
		strings.Join(ids, " and "), a.w.c.Points[s.from].ID)
}

// hidesReply reports whether point p captured one direction only: an ARP request there may have had
// its reply in the direction it did not capture.
func (ow *oneWayOut) hidesReply(p int) bool {
	return ow != nil && (ow.points[p] != nil || p < len(ow.side) && ow.side[p] != cookedBoth)
}
