package correlate

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/calipath/calipath/decode"
)

// icmpKey groups ICMP error findings into anomalies.
type icmpKey struct {
	kind   string
	point  int
	self   bool
	own    bool
	beyond bool // sent by a hop past the point (icmpFinding.beyond)
	unsure bool // sent by the point's node or a hop past it (icmpFinding.unsure)
}

// segFlow is one flow's losses on one segment.
type segFlow struct {
	s    *segAcc
	flow int32
}

// lostEvidence is how many lost journeys of each flow a segment keeps as evidence: enough for an
// anomaly's list after the drops that ICMP errors answered are taken out.
const lostEvidence = 10

// lossEv is the evidence of one lost journey j: its last frame, and its flow.
type lossEv struct {
	flow int32
	j    int32
	ev   Evidence
}

// lossEvidence returns the first 10 frames of s's lost journeys, leaving out the first answered[flow]
// of each flow (the drops ICMP errors answered, counted in their anomaly).
func lossEvidence(s *segAcc, answered map[segFlow]int) []Evidence {
	var out []Evidence
	skipped := map[int32]int{}
	for _, e := range s.evidence {
		if skipped[e.flow] < answered[segFlow{s, e.flow}] {
			skipped[e.flow]++
			continue
		}
		if len(out) < 10 {
			out = append(out, e.ev)
		}
	}
	return out
}

// icmpBook is how the ICMP errors stand against the drops (icmpExplained).
type icmpBook struct {
	explained  map[*segAcc]int // per segment: drops an ICMP error answered
	answeredOn map[segFlow]int // per flow on a segment: the same
	answered   map[icmpKey]int // per ICMP group: the drops it answered
	// ownLocal holds the local findings (by index) that are their node's own: the drop they answer is
	// on a segment inside the node (icmpFinding.local).
	ownLocal map[int]bool
	// refusedOn lists, per segment inside a node, the node's own errors (own, or ownLocal) that answer
	// drops of it (by finding index): the node refused those packets and said why.
	refusedOn map[*segAcc][]int
	// unproven counts, per segment, the drops that local errors not found the node's own answer:
	// placement counted them refused by the node (segAcc.refused), which nothing shows.
	unproven map[*segAcc]int
}

// icmpExplained books each ICMP error (frag-needed, unreachable, time-exceeded) against one packet of
// the flow it quotes that was lost on a segment starting on the node that sent the error: the node
// dropped that packet and said why. It returns the answered drops per segment, per flow on a segment
// and per ICMP group. Errors a node addresses to itself answer nothing (they report the node's own
// sends). A node's own errors to its pods answer nothing either: the node's drop stays a loss of its
// segment (they are booked in refusedOn, against the segment inside the node where the packet they
// answer was lost, when it was: insideDrop). So does a local error (sent to a pod from an address no
// node is known by, first seen at the pod's veth) whose packet was lost on a segment inside the node,
// whose end was captured while the packet should have crossed it: a packet that never left the node
// was answered by the node, not by a hop past it.
func (a *analysis) icmpExplained() icmpBook {
	w := a.w
	b := icmpBook{explained: map[*segAcc]int{}, answeredOn: map[segFlow]int{}, answered: map[icmpKey]int{},
		ownLocal: map[int]bool{}, refusedOn: map[*segAcc][]int{}, unproven: map[*segAcc]int{}}
	segs := make([]*segAcc, 0, len(a.segs))
	for _, s := range a.segs {
		if s.lost > 0 {
			segs = append(segs, s)
		}
	}
	sort.Slice(segs, func(i, j int) bool {
		if segs[i].from != segs[j].from {
			return segs[i].from < segs[j].from
		}
		return segs[i].to < segs[j].to
	})
	used := b.answeredOn // losses of a flow on a segment already answered
	for i, f := range a.side.icmp.findings {
		if f.self || f.flow < 0 {
			continue
		}
		node := w.pointNode[f.point]
		if f.own || f.local {
			s := a.insideDrop(f)
			if s != nil {
				b.refusedOn[s] = append(b.refusedOn[s], i)
				if f.local {
					b.ownLocal[i] = true
				}
			}
			if f.own || s != nil {
				continue // a node's own refusals of its pods' packets stay losses of its segment
			}
			if s := a.refusedOn(f); s != nil && w.pointNode[s.from] == node {
				b.unproven[s]++ // placement counted it refused by the node (the error's sender, icmpSender)
			}
		}
		var pick *segAcc
		for _, s := range segs {
			if w.pointNode[s.from] != node || s.flows[f.flow] <= used[segFlow{s, f.flow}] {
				continue
			}
			if f.beyond && (s.from != f.point || w.pointNode[s.to] == node) {
				continue // a hop past the point answered: a packet lost past it, off the node
			}
			if pick == nil || (s.from == f.point && pick.from != f.point) {
				pick = s
			}
		}
		if pick == nil {
			continue
		}
		used[segFlow{pick, f.flow}]++
		b.explained[pick]++
		b.answered[icmpKey{f.kind, f.point, f.self, f.own, f.beyond, f.unsure}]++
	}
	return b
}

// insideDrop is the segment inside the node of ICMP error f's point on which the packet f answered
// (refused) was lost, nil when it was not lost inside that node. For an error from an address no node
// is known by (icmpFinding.local) the segment's end must have been captured when the packet was at its
// start (a refused packet is lost however close to the end of the captures, placement.go): only then
// did it demonstrably never leave the node.
func (a *analysis) insideDrop(f icmpFinding) *segAcc {
	w := a.w
	s := a.refusedOn(f)
	if s == nil || w.pointNode[s.from] != w.pointNode[f.point] || w.pointNode[s.to] != w.pointNode[f.point] {
		return nil
	}
	if !f.own {
		t, seen := int64(0), false
		for _, g := range a.hops(int(a.refusedFor[f.j])) {
			if a.point(g) == s.from {
				t, seen = a.ts(g), true
			}
		}
		if !seen || !a.covered(s.to, t) {
			return nil
		}
	}
	return s
}

// refusedOn is the segment on which the packet ICMP error f answered (refused) was lost, nil when it
// was not lost.
func (a *analysis) refusedOn(f icmpFinding) *segAcc {
	ans, ok := a.refusedFor[f.j]
	if !ok || a.jStatus[ans] != stLost || a.jLast[ans] < 0 || a.jNext[ans] < 0 {
		return nil
	}
	return a.segs[[2]int{int(a.jLast[ans]), int(a.jNext[ans])}]
}

// findings lists the anomalies from what the earlier stages settled: each row of anomalyKinds detects
// its own kind. What several detectors share (the drops ICMP errors answered, the segments' losses) is
// worked out once, on first use.
type findings struct {
	a   *analysis
	ids []string // flow IDs by flow index
	res *Result  // the Result but its anomalies: what the cluster metadata's findings read (k8sfind.go)

	icmpDone bool
	icmpBook // the ICMP errors against the drops (icmpExplained)
	lossDone bool
	losses   []segLoss
}

// anomalies runs every kind's detector and orders the anomalies: most severe first, then by kind,
// place, count (largest first) and message.
func (f *findings) anomalies() []Anomaly {
	out := []Anomaly{}
	for i := range anomalyKinds {
		k := &anomalyKinds[i]
		out = append(out, k.detect(f, k)...)
	}
	sortAnomalies(out)
	return out
}

// sortAnomalies orders anomalies most severe first, then by kind, place (Where as fmt.Sprint writes
// it), count (largest first) and message, stably. Each anomaly's severity rank and place string are
// worked out once, not at every compare (on the 1 M-frame many-flow set 1,046 fmt.Sprint calls for
// 79 anomalies, about 3.3 M instructions): the indices are sorted by the same compares
// (sort.SliceStable, whose compares depend on their answers alone), so the order is the same.
func sortAnomalies(out []Anomaly) {
	type placed struct {
		rank  int
		where string
	}
	keys := make([]placed, len(out))
	idx := make([]int32, len(out))
	for i := range out {
		keys[i] = placed{severityRank[out[i].Severity], fmt.Sprint(out[i].Where)}
		idx[i] = int32(i)
	}
	sort.SliceStable(idx, func(i, j int) bool {
		x, y, kx, ky := &out[idx[i]], &out[idx[j]], &keys[idx[i]], &keys[idx[j]]
		if kx.rank != ky.rank {
			return kx.rank < ky.rank
		}
		if x.Kind != y.Kind {
			return x.Kind < y.Kind
		}
		if x.Where != y.Where {
			return kx.where < ky.where
		}
		if x.Count != y.Count {
			return x.Count > y.Count
		}
		return x.Message < y.Message
	})
	sorted := make([]Anomaly, len(out))
	for k, i := range idx {
		sorted[k] = out[i]
	}
	copy(out, sorted)
}

// icmp books the ICMP errors against the drops they answered (icmpExplained), once.
func (f *findings) icmp() {
	if !f.icmpDone {
		f.icmpBook = f.a.icmpExplained()
		f.icmpDone = true
	}
}

// segLoss is the unexplained loss on one segment, and the kind it is.
type segLoss struct {
	kind     string
	s        *segAcc
	flows    map[int32]bool
	lost     int
	evidence []Evidence
	detail   string
	next     string // what to check next, when not the kind's own (an IPv6 black hole's)
	text     string // the kind's text (%s: the place), when not its own (an IPv6 black hole's)
	sev      string // the anomaly's severity, when not the kind's (encapunsure.go)
}

// segLosses classifies every segment's losses, once: drops answered with an ICMP error are that
// error's anomaly, not a loss.
func (f *findings) segLosses() []segLoss {
	if f.lossDone {
		return f.losses
	}
	f.lossDone = true
	f.icmp()
	for _, s := range f.a.segs {
		if s.lost == 0 || f.explained[s] == s.lost {
			continue
		}
		f.losses = append(f.losses, f.segLoss(s))
	}
	return f.losses
}

// segLoss classifies the losses of segment s: a path-MTU black hole, a drop (at least half of the
// packets, or a flow stopped there), or scattered loss.
func (f *findings) segLoss(s *segAcc) segLoss {
	a := f.a
	flows := map[int32]bool{}
	icmpReached := false
	for fl, n := range s.flows {
		if n > f.answeredOn[segFlow{s, fl}] { // a flow whose every drop here was answered is not in it
			flows[fl] = true
		}
		if a.side.icmp.frag[fl] > 0 {
			icmpReached = true
		}
	}
	total := s.lost + s.delivered
	lost, detail := f.lossCount(s)
	detail += a.wgNoSessionNote(s) + a.wgCarrierNote(s) + a.sharedCaptureNote(s) + a.routedCookedNote(s) // anydrop.go, routedcooked.go
	chain, next, chainEv := f.hostUnreachChain(s)                                                        // hostunreach.go
	detail += chain
	ev := lossEvidence(s, f.answeredOn)
	if len(ev)+len(chainEv) > 10 {
		ev = ev[:10-len(chainEv)]
	}
	l := segLoss{s: s, flows: flows, lost: lost, evidence: append(ev, chainEv...), detail: detail, next: next}
	// A router's point beside the segment that captured one direction only (oneway.go), or one the TTLs
	// put on neither side of its end (paths.go), leaves the place of the loss within it unknown. A
	// path-MTU black hole is one still, however placed: it says so, and the other losses are warnings.
	beside := a.oneWayBeside(s)
	unplaced := ""
	switch {
	case len(beside) > 0:
		unplaced = a.besideDetail(s, beside)
	case s.kind == "side unknown":
		unplaced = a.sideUnknownDetail(s)
	case s.order != nil:
		unplaced = a.orderUnknownDetail(s) // openorder.go
	}
	switch {
	case s.kind == "one-way gap":
		l.kind = "loss-one-way-gap"
		l.detail = detail + a.oneWayGapDetail(s)
	case a.wgNoSession(s):
		l.kind = "wireguard-no-session"
	case lost >= 2 && s.lostMaxLen > s.passMaxLen && s.delivered > 0 && !icmpReached && a.mtuCanExplain(s) && a.wgEncrypted(s): // wgmtu.go
		l.kind = "pmtu-blackhole"
		l.detail = detail + " " + wgBlackholeDetail(s) + unplaced
		l.next, l.text = a.wgBlackholeNext(s), wgBlackholeText // wgmtu.go
	case s.lostDF == s.lost && lost >= 2 && s.lostMaxLen > s.passMaxLen && s.delivered > 0 && !icmpReached && a.mtuCanExplain(s):
		l.kind = "pmtu-blackhole"
		where, next := a.mtuWhere(s) // mtulink.go: between two nodes, which MTU and where
		l.detail = fmt.Sprintf("%s Lost packets were up to %d bytes with DF; the largest that passed was %d.%s", detail,
			s.lostMaxLen, s.passMaxLen, where+unplaced)
		if s.lostV6 > 0 {
			l.detail, l.next, l.text = a.pmtuDetail6(s, detail, where+unplaced) // ptb6.go
		}
		if next != "" {
			l.next = next
		}
	case len(beside) > 0:
		l.kind = "loss-one-way-gap"
		l.detail = detail + unplaced
	case s.kind == "side unknown":
		l.kind = "loss-router-side-unknown"
		l.detail = detail + unplaced
	case s.order != nil:
		l.kind = "loss-order-unknown"
		l.detail, l.next = detail+unplaced, a.orderUnknownNext(s)
	case lost*2 >= total || a.flowDropped(s, f.answeredOn):
		l.kind = map[string]string{"encap": "encap-drop", "underlay": "underlay-drop", "decap": "decap-drop",
			"delivery": "delivery-drop", "encrypt": "encap-drop", "decrypt": "decap-drop"}[s.kind]
		if l.kind == "" {
			l.kind = "host-drop"
		}
		if s.kind == "encap" && !a.nodeHasRole(a.w.pointNode[s.from], decode.RoleUnderlay) {
			l.text, l.next, l.sev = encapNoUnderlayText, encapNoUnderlayNext, f.encapNoUnderlay(s, lost) // lostspan.go
		}
	default:
		l.kind = "loss"
		f.ownDrop(&l) // ownmtu.go
	}
	return l
}

// encapNoUnderlayText is encap-drop's explanation where the sending node's underlay was not captured:
// packets that never reached its tunnel device may have left the node unencapsulated (a missing route
// to the remote block sends them out by the default route), which only that capture would show
// (state-missing-route without node-b's eth0: before, "vanished inside the sending node … before the
// underlay", and they had left it by eth0).
const (
	encapNoUnderlayText = "Packets did not reach the sending node's tunnel device, between %s. Either the node dropped them " +
		"there (routing, IP-in-IP/VXLAN encapsulation) or they left it another way than the tunnel, unencapsulated " +
		"(by its default route when its route to the remote block is missing): its underlay was not captured, so " +
		"which cannot be told. Likely causes: a missing route to the remote block, iptables/Felix policy, MTU (DF " +
		"packets larger than the tunnel), rp_filter."
	encapNoUnderlayNext = "Check `ip route get <dst>` and the Felix/iptables counters on the node; capture its underlay " +
		"interface (eth0) too to see whether the packets leave it unencapsulated."
)

// nodeHasRole says whether a capture point of node n has role r.
func (a *analysis) nodeHasRole(n int, r decode.Role) bool {
	for p, pn := range a.w.pointNode {
		if pn == n && a.w.pointRole[p] == r {
			return true
		}
	}
	return false
}

// lossCount is how many of segment s's losses no ICMP error explains, and the detail's first
// sentences: that count, those the ICMP errors explain or the node refused, and a receiving node whose
// captures hold no frame.
func (f *findings) lossCount(s *segAcc) (int, string) {
	a, w := f.a, f.a.w
	total := s.lost + s.delivered
	lost := s.lost - f.explained[s] // the unexplained drops
	detail := fmt.Sprintf("%d of %d packets lost.", lost, total)
	if n := f.explained[s]; n > 0 {
		detail = fmt.Sprintf("%d of %d packets lost (and %d dropped with an ICMP error, listed apart).", lost, total, n)
	}
	if n := s.refused - f.unproven[s]; n > 0 {
		detail += fmt.Sprintf(" %s refused %d of them itself and answered with an ICMP error (see the ICMP anomaly).",
			w.nodes[w.pointNode[s.from]], n)
	}
	if n := w.pointNode[s.to]; a.cov.nodeEmpty[n] {
		detail += fmt.Sprintf(" %s's captures hold no frame at all: calipath takes them to have run while the others did "+
			"(a pcap file records no start or stop time); if they did not, these packets were not captured there rather than lost.",
			w.nodes[n])
	}
	return lost, detail
}

// Path-MTU floors: every IPv4 link carries 576-byte packets in practice (RFC 791's datagram every host
// must accept; links below it are not met today), every IPv6 link 1280 (RFC 8200's minimum MTU).
// mtuHeadroom is the most an encapsulation on the way adds to a packet (WireGuard over IPv6: 80).
const (
	mtuFloor4, mtuFloor6 = 576, 1280
	mtuHeadroom          = 80
)

// sideUnknownDetail is what a loss on a "side unknown" segment s says: which router interface the TTLs
// put on neither side of which point, and the two ways the packets may have gone.
func (a *analysis) sideUnknownDetail(s *segAcc) string {
	pts := a.w.c.Points
	p, q := s.unplaced[0], s.unplaced[1]
	r := a.w.nodes[a.w.pointNode[p]]
	return fmt.Sprintf(" %s saw none of them, and the TTLs cannot tell which side of %s it is on: at %s the packets had crossed one "+
		"router, and none reached the destination to show whether another followed. Either %s is %s's way out and %s captured "+
		"the other direction only (tcpdump -Q out), and they were lost beyond %s; or it is its way in from a router no capture "+
		"names, and they died inside %s. calipath leaves %s off the path and does not say which.",
		pts[q].ID, pts[p].ID, pts[p].ID, pts[p].ID, r, pts[q].ID, r, r, pts[q].ID)
}

// mtuCanExplain reports whether the largest packet lost on segment s is large enough for some real
// link's MTU to have stopped it: larger than the floor of its family less the headroom (IPv6 when
// every flow that lost packets there is). Smaller packets lost while smaller ones passed are not a
// black hole, whatever their sizes.
func (a *analysis) mtuCanExplain(s *segAcc) bool {
	floor := mtuFloor6
	for fi := range s.flows {
		if !a.flows[fi].client.v6 {
			floor = mtuFloor4
		}
	}
	return s.lostMaxLen+mtuHeadroom > floor
}

// segWhere is the place of segment s.
func (f *findings) segWhere(s *segAcc) Where {
	w := f.a.w
	return Where{From: w.c.Points[s.from].ID, To: w.c.Points[s.to].ID}
}

// detectLosses lists the segments whose losses are of kind k (encap-drop … loss, pmtu-blackhole).
func detectLosses(f *findings, k *kindRow) []Anomaly {
	var out []Anomaly
	for _, l := range f.segLosses() {
		if l.kind == k.kind {
			sev := k.severity
			if l.sev != "" {
				sev = l.sev
			}
			an := k.anomaly(sev, f.segWhere(l.s), l.flows, f.ids, l.lost, l.evidence, l.detail)
			if l.next != "" {
				an.Next = l.next
			}
			// The node named: the destination pod's (the segment's end) for a delivery-drop, the
			// sending node (its start) for an encap-drop. Other next steps say which node themselves.
			node := ""
			switch {
			case l.next == "" && k.kind == "delivery-drop":
				node = f.a.w.nodes[f.a.w.pointNode[l.s.to]]
			case l.next == "" || l.next == encapNoUnderlayNext:
				node = f.a.w.nodes[f.a.w.pointNode[l.s.from]]
			}
			dst := f.a.lostDst(l.s)
			an.named(node, "<dst>", dst, "<pod IP>", dst)
			if l.text != "" {
				retext(&an, k, l.text) // ptb6.go
			}
			out = append(out, an)
		}
	}
	return out
}

// detectClockInconsistent lists the cross-node segments where corrected latencies came out negative.
// Not where a clock bounded on one side only leaves the latencies lower bounds (a true latency may be
// larger than a negative bound) or not known (segClock): nothing is inconsistent there. An upper
// bound below zero is: the true latency would be below it, and the message says so (negativeUpper).
func detectClockInconsistent(f *findings, k *kindRow) []Anomaly {
	var out []Anomaly
	w := f.a.w
	for _, s := range f.a.segs {
		x, y := w.pointNode[s.from], w.pointNode[s.to]
		if s.negative == 0 || x == y {
			continue
		}
		switch f.a.pairBound(x, y) {
		case BoundLower, BoundNone:
			continue
		case BoundUpper:
			an := k.anomaly(k.severity, f.segWhere(s), nil, f.ids, s.negative, nil, "")
			an.Message, an.Next = negativeUpper(f.a, x, y, s.negative, s.lat.min)
			out = append(out, an)
			continue
		}
		out = append(out, k.anomaly(k.severity, f.segWhere(s), nil, f.ids, s.negative, nil,
			fmt.Sprintf("%d packets had negative latency.", s.negative)))
	}
	return append(out, natReversedClocks(f, k)...)
}

// natReversedClocks says, per pair of points, why the journeys of matcher.natReversed were not joined:
// each is a packet seen at the first point before a NAT rewrite (by a rewrite a NAT event showed on its
// flow) and at the second after it, where the corrected clocks put the second first although the
// packet's TTL is lower there. Neither half is counted lost (placement's natRev).
func natReversedClocks(f *findings, k *kindRow) []Anomaly {
	a := f.a
	if len(a.journeys.natReversed) == 0 {
		return nil
	}
	type pair struct{ from, to int }
	type acc struct {
		n     int
		most  int64
		flows map[int32]bool
		ev    []Evidence
	}
	by := map[pair]*acc{}
	var order []pair
	for _, r := range a.journeys.natReversed {
		hb, ha := a.hops(int(r.of)), a.hops(int(r.j))
		if len(ha) == 0 || len(hb) == 0 {
			continue
		}
		before, after := ha[0], hb[0]
		p := pair{a.point(before), a.point(after)}
		x := by[p]
		if x == nil {
			x = &acc{flows: map[int32]bool{}}
			by[p] = x
			order = append(order, p)
		}
		x.n++
		x.most = max(x.most, a.ts(before)-a.ts(after))
		x.flows[a.jFlow[r.j]] = true
		if len(x.ev) < 10 {
			x.ev = append(x.ev, a.evidence(before))
		}
	}
	var out []Anomaly
	w := a.w
	for _, p := range order {
		x := by[p]
		from, to := w.c.Points[p.from].ID, w.c.Points[p.to].ID
		nf, nt := w.nodes[w.pointNode[p.from]], w.nodes[w.pointNode[p.to]]
		an := k.anomaly(k.severity, Where{From: from, To: to}, x.flows, f.ids, x.n, x.ev, "")
		an.Message = fmt.Sprintf("%d packets seen at %s are, by the rewrite NAT showed on their flow's other packets, "+
			"packets seen rewritten at %s, where their TTL is lower; but the corrected clocks put them at %s first, by up "+
			"to %s. calipath did not join them: each half is counted as not captured, neither delivered nor lost. The "+
			"offset between %s's and %s's clocks is off by at least that much (asymmetric delays in the packets that set "+
			"it, e.g. a node set against the others only through its tunnel device, its eth0 not captured, carries the "+
			"device's encapsulation and decapsulation delays as an offset).", x.n, from, to, to, time.Duration(x.most), nf, nt)
		// Not --offset: the true offset contradicts the packets that set the estimate (offset-contradicted
		// refuses it in the lab, whose hosts share one clock).
		an.Next = fmt.Sprintf("Capture %s's eth0 too (or tcpdump -i any there): its packets set %s's clock against %s's "+
			"without the delays inside %s.", nf, nf, nt, nf)
		out = append(out, an)
	}
	return out
}

// negativeUpper is the message and the fix of a clock-inconsistent segment whose latencies, from node x
// to node y, are upper bounds (pairBound) and n of them below zero, the lowest low: a clock bounded on
// one side only is taken at its limit, which can only make these latencies longer than they were, so
// no offset the samples allow explains them. The clocks named by --offset on the way (x, y and the
// nodes their limits came through) may be wrong; else the clocks did not run as the limits assume.
func negativeUpper(a *analysis, x, y, n int, low int64) (msg, next string) {
	w := a.w
	var open, given, names []string
	seen := map[int]bool{}
	for _, start := range []int{x, y} {
		for m, i := start, 0; m >= 0 && m < len(a.clocks) && !seen[m] && i <= len(a.clocks); i++ {
			seen[m] = true
			c := &a.clocks[m]
			switch {
			case c.open != sideNone:
				open = append(open, a.openClock(m))
				names = append(names, w.nodes[m])
			case c.method == "--offset":
				given = append(given, fmt.Sprintf("%s=%s", w.nodes[m], time.Duration(c.offset)))
			}
			if c.open == sideNone {
				break
			}
			m = c.openVia - 1
		}
	}
	msg = fmt.Sprintf("%d packets from %s to %s arrived before they left, by up to %s, though these latencies are "+
		"upper bounds: %s, and a clock taken at its limit can only make the latencies shown longer than they were. "+
		"No offset the packets allow explains them: ", n, w.nodes[x], w.nodes[y], time.Duration(-low),
		strings.Join(open, "; "))
	if len(given) > 0 {
		msg += fmt.Sprintf("the --offset %s is at least %s off, or ", strings.Join(given, " or "), time.Duration(-low))
	}
	msg += "a clock stepped or did not run at a steady rate while the packets that set the limit crossed."
	next = ""
	if len(given) > 0 {
		next = "Check the --offset " + strings.Join(given, " and ") + " (measure it, e.g. with chronyc tracking on both " +
			"nodes, or leave it out). "
	}
	offs := make([]string, len(names))
	for i, nm := range names {
		offs[i] = "--offset " + nm + "=DURATION"
	}
	next += "Give " + strings.Join(offs, " and ") + " so that no clock is taken at a limit, and check the nodes' time " +
		"service for steps (the clock-step anomaly)."
	return msg, next
}

// detectARP groups the ARP findings of kind k by point. At a point whose capture recorded one
// direction only (hidesReply) an unanswered request proves nothing: other targets' are left out (the
// point's capture-one-way says why, where packets crossed it), and the gateway's is a warning that says
// so (oneSidedARP), never silence and never an error: a node with proxy ARP off sends its pod nothing,
// so its -i any capture looks one-way, and nothing else would be said.
func detectARP(f *findings, k *kindRow) []Anomaly {
	groups := map[int][]arpFinding{}
	for _, af := range f.a.side.arp.findings {
		if af.kind == k.kind {
			groups[af.point] = append(groups[af.point], af)
		}
	}
	var out []Anomaly
	for p, fs := range groups {
		var ev []Evidence
		for _, af := range fs {
			if len(ev) < 10 {
				ev = append(ev, af.ev)
			}
		}
		detail := fmt.Sprintf("%d requests for %s.", len(fs), fs[0].who)
		if k.kind == "arp-unexpected-mac" {
			detail = fmt.Sprintf("%s is-at %s.", fs[0].who, fs[0].mac)
		}
		w := f.a.w
		var an Anomaly
		switch {
		case !f.a.oneWay.hidesReply(p):
			an = k.anomaly(k.severity, Where{Point: w.c.Points[p].ID}, nil, f.ids, len(fs), ev, detail)
		case k.kind == "proxy-arp-missing":
			an = oneSidedARP(k, Where{Point: w.c.Points[p].ID}, f.ids, len(fs), ev, fs[0].who)
		default:
			continue
		}
		an.named(w.nodes[w.pointNode[p]], "<cali>", w.podIface(p))
		out = append(out, an)
	}
	return out
}

// oneSidedARP is an unanswered gateway-request finding (kind k, n requests for who) at a point whose capture
// recorded only frames of one direction (tcpdump -Q, or a cooked capture with one packet type): the
// reply, had there been one, would not be in it. A proxy-arp-off node's -i any capture looks the
// same (the pod's requests and nothing else), so it is a warning saying both, not silence.
func oneSidedARP(k *kindRow, where Where, ids []string, n int, ev []Evidence, who string) Anomaly {
	an := k.anomaly(sevWarning, where, nil, ids, n, ev, "")
	an.Message = fmt.Sprintf("%d requests for %s at %s got no reply in this capture, but it recorded frames of one "+
		"direction only (tcpdump -Q, or a filter on direction; or the host sent nothing at all): whether "+
		"anything answered cannot be told from it.", n, who, where.Point)
	an.Next = "Capture both directions on that interface (no -Q) and look again. If no reply shows there: " + k.next
	return an
}

// detectICMP groups the ICMP errors of kind k by point and by who sent them to whom; an error a node
// sent itself is information only.
func detectICMP(f *findings, k *kindRow) []Anomaly {
	w := f.a.w
	f.icmp()
	groups := map[icmpKey][]icmpFinding{}
	for i, fi := range f.a.side.icmp.findings {
		if fi.kind == k.kind {
			key := icmpKey{fi.kind, fi.point, fi.self, fi.own || f.ownLocal[i], fi.beyond, fi.unsure}
			groups[key] = append(groups[key], fi)
		}
	}
	var out []Anomaly
	for key, fs := range groups {
		flows := map[int32]bool{}
		var ev []Evidence
		for _, fi := range fs {
			flows[fi.flow] = true
			if len(ev) < 10 {
				ev = append(ev, fi.ev)
			}
		}
		detail := ""
		if key.kind == "icmp-frag-needed" {
			detail = fragDetail(fs) // ptb6.go
		}
		if n := f.answered[key]; n > 0 {
			what := "a packet"
			if n > 1 {
				what = fmt.Sprintf("%d packets", n)
			}
			where := "on that node"
			if key.beyond {
				where = "past that point"
			} else if key.unsure {
				where = "on that node or past that point"
			}
			detail += fmt.Sprintf(" It answered %s dropped %s (not counted again as loss).", what, where)
		}
		node := w.nodes[w.pointNode[key.point]]
		if key.beyond {
			detail += fmt.Sprintf(" %s: it came in from the wire, sent by a hop past %s "+
				"(a router), whose capture is not among the inputs; %s only saw it arrive.", fs[0].why, w.c.Points[key.point].ID, node)
		}
		detail += icmpUnsureNote(key, fs[0].src, node, w.c.Points[key.point].ID) // refused.go
		detail += cutQuoteNote(fs)                                               // quotecut.go
		if key.own {
			detail += fmt.Sprintf(" Sent by %s to its own pod: the node refused the pod's packet itself (its drop counts as loss on %s's segment).",
				node, node)
			if !fs[0].own {
				detail += ownLocalNote(w, fs[0], node)
			}
		}
		sev := k.severity
		if key.self {
			sev = sevInfo
			detail += fmt.Sprintf(" Sent by %s to itself: its own stack reporting a local send failure, not a hop on the path.", node)
		}
		an := k.anomaly(sev, Where{Point: w.c.Points[key.point].ID}, flows, f.ids, len(fs), ev, strings.TrimSpace(detail))
		an.Message = w.icmpSentence(an.Message, k, key, fs) // refused.go
		if fs[0].ptb.next != "" && !key.self {
			an.Next = fs[0].ptb.next
		}
		out = append(out, an)
	}
	return out
}

// ownLocalNote says why an error fi from an address no node is known by is node's own (icmpBook.ownLocal).
func ownLocalNote(w *world, fi icmpFinding, node string) string {
	return fmt.Sprintf(" Its source, %s, is no known node's address (--node-ip names them), but it was first seen at %s, "+
		"the way %s's own errors to its pods leave, and the packets it answers never left %s: no hop past the node saw them.",
		fi.src, w.c.Points[fi.point].ID, node, node)
}

// detectNAT groups the flows' address rewrites by kind (DNAT, SNAT, both) and place.
func detectNAT(f *findings, k *kindRow) []Anomaly {
	type nkey struct {
		kind, at string
		opener   bool // the flows' openers not known (natOpeners): SNAT or DNAT
	}
	groups := map[nkey]map[int32]bool{}
	count := map[nkey]int{}
	evs := map[nkey][]Evidence{}
	inPod := map[nkey]int{}         // natPodOf's, every mapping's of the group the same; -1 when not
	for fi, fl := range f.a.flows { // flows in first-seen order, so the evidence is too
		for _, nk := range sortedNAT(fl.nat.counts()) {
			g := nkey{nk.kind, nk.at, f.a.openerUnknown[int32(fi)]}
			if p, seen := inPod[g]; !seen || p == f.a.natPodOf(nk) {
				inPod[g] = f.a.natPodOf(nk)
			} else {
				inPod[g] = -1
			}
			if groups[g] == nil {
				groups[g] = map[int32]bool{}
			}
			groups[g][int32(fi)] = true
			count[g] += fl.nat.n[nk]
			for _, e := range fl.nat.ev[nk] {
				if len(evs[g]) < 10 {
					evs[g] = append(evs[g], e)
				}
			}
		}
	}
	var out []Anomaly
	for g, flows := range groups {
		from, to, _ := strings.Cut(g.at, "→")
		detail := strings.ToUpper(g.kind) + "."
		if g.opener {
			detail = natOpenerDetail
		}
		detail += f.a.inPodText(inPod[g])
		out = append(out, k.anomaly(k.severity, Where{From: from, To: to}, flows, f.ids, count[g], evs[g], detail))
	}
	return out
}

// detectClockSkew lists the nodes whose clock is more than 1 ms off the reference node's.
func detectClockSkew(f *findings, k *kindRow) []Anomaly {
	var out []Anomaly
	for n, m := range f.a.clocks {
		if m.offset > int64(time.Millisecond) || m.offset < -int64(time.Millisecond) {
			detail := fmt.Sprintf("Offset %s", time.Duration(m.offset))
			switch m.open { // bounded on one side only: a limit, not a measured offset
			case sideUpper:
				detail = fmt.Sprintf("Offset at most %s (bounded on one side only)", time.Duration(m.offset))
			case sideLower:
				detail = fmt.Sprintf("Offset at least %s (bounded on one side only)", time.Duration(m.offset))
			}
			if m.bound >= 0 {
				detail += fmt.Sprintf(" ± %s", time.Duration(m.bound))
			}
			if m.drift != 0 {
				detail += fmt.Sprintf(", drift %.1f ppm", m.drift*1e6)
			}
			out = append(out, k.anomaly(k.severity, Where{Node: f.a.w.nodes[n]}, nil, f.ids, 1, nil, detail+" ("+m.method+")."))
		}
	}
	return out
}

// detectRetransmissions groups TCP retransmissions at the first point of the direction that resent;
// a warning when more than 1% of the packets there.
func detectRetransmissions(f *findings, k *kindRow) []Anomaly {
	a, w := f.a, f.a.w
	type rgroup struct {
		flows          map[int32]bool
		count, packets int
		ev             []Evidence
	}
	rg := map[string]*rgroup{}
	for fi, fl := range a.flows {
		if fl.retrans == 0 {
			continue // none of its journeys resent (tcpStep counts each it marks in retransJ)
		}
		for d := uint8(0); d < 2; d++ {
			n := 0
			var ev []Evidence
			for _, j := range a.dirJourneys(fl, d) {
				if a.retransJ[j] {
					n++
					if len(ev) < 10 {
						ev = append(ev, a.evidence(a.hops(int(j))[0]))
					}
				}
			}
			if n == 0 {
				continue
			}
			where := ""
			if pi := f.a.pathsOf(fl)[d]; pi != nil && len(pi.points) > 0 {
				where = w.c.Points[pi.points[0]].ID
			}
			g := rg[where]
			if g == nil {
				g = &rgroup{flows: map[int32]bool{}}
				rg[where] = g
			}
			g.flows[int32(fi)] = true
			g.count += n
			g.packets += fl.nDir(d)
			if len(g.ev) < 10 {
				g.ev = append(g.ev, ev[:min(len(ev), 10-len(g.ev))]...)
			}
		}
	}
	var out []Anomaly
	for where, g := range rg {
		sev := k.severity
		if g.count*100 > g.packets {
			sev = sevWarning
		}
		out = append(out, k.anomaly(sev, Where{Point: where}, g.flows, f.ids, g.count, g.ev,
			fmt.Sprintf("%d retransmitted segments in %d flows.", g.count, len(g.flows))))
	}
	return out
}

// detectCaptureGaps lists the points whose capture is shown to have stopped early or started late
// (coverage.stop: a warning), and those where packets followed on their path were due, unseen, at
// moments their capture is not taken to have run (coverage.gaps): a warning when such packets are
// counted not captured there.
func detectCaptureGaps(f *findings, k *kindRow) []Anomaly {
	a, w := f.a, f.a.w
	nc := a.notCapturedAtGaps()
	var out []Anomaly
	for i, p := range w.c.Points {
		if p.Traffic.Frames == 0 {
			continue
		}
		g := a.cov.gaps[i]
		var ev []Evidence
		if g != nil {
			for _, j := range g.js {
				ev = append(ev, a.evidence(a.hops(int(j))[0]))
			}
		}
		if why := a.cov.stop[i]; why != 0 {
			n, flows := 1, map[int32]bool(nil)
			if g != nil {
				n, flows = g.before+g.after, g.flows
			}
			out = append(out, k.anomaly(sevWarning, Where{Point: p.ID}, flows, f.ids, n, ev, a.stopNote(i, why)))
			continue
		}
		if g == nil {
			continue
		}
		sev := k.severity
		if nc[i] > 0 {
			sev = sevWarning
		}
		out = append(out, k.anomaly(sev, Where{Point: p.ID}, g.flows, f.ids, g.before+g.after, ev, a.gapNote(i, g, nc[i])))
	}
	return out
}

// gapNote says what gapsFromPaths found at point i, and how many of them are counted not captured.
func (a *analysis) gapNote(i int, g *gapCount, nc int) string {
	_, _, known := a.gapSpan(i)
	var when []string
	if g.before > 0 {
		when = append(when, fmt.Sprintf("%d packet%s before its capture's start (up to %s before)", g.before, plural(g.before),
			time.Duration(g.early).Round(time.Millisecond)))
	}
	if g.after > 0 {
		when = append(when, fmt.Sprintf("%d packet%s after its end (up to %s after)", g.after, plural(g.after),
			time.Duration(g.late).Round(time.Millisecond)))
	}
	s := fmt.Sprintf("Packets followed on its path, not seen there, were due there outside its capture: %s.", strings.Join(when, ", "))
	if known {
		s += " Its file says when its capture ran (pcapng interface statistics): they crossed it while it did not."
	} else {
		s += " Its file records no start or stop (pcap does not), and its node's other captures did not run then either: nothing shows it ran."
	}
	if nc > 0 {
		s += fmt.Sprintf(" %d of them vanished just before it and are counted not captured, not lost.", nc)
	}
	return s
}

// notCapturedAtGaps counts, per point with gaps, the journeys counted not captured just before it (it
// was the next point expected) whose last sighting lies outside its span (gapSpan).
func (a *analysis) notCapturedAtGaps() map[int]int {
	out := map[int]int{}
	if len(a.cov.gaps) == 0 {
		return out
	}
	for j := 0; j < a.nJ; j++ {
		if a.jStatus[j] != stNotCaptured || a.jNext[j] < 0 {
			continue
		}
		p := int(a.jNext[j])
		if a.cov.gaps[p] == nil {
			continue
		}
		h := a.hops(j)
		if t := a.ts(h[len(h)-1]); t < a.cov.first[p]-coverageGrace || t > a.cov.last[p]+coverageGrace {
			out[p]++
		}
	}
	return out
}

// stopNote says why point i's capture is taken to have stopped early or started late (coverage.stop),
// and what follows for the packets there.
func (a *analysis) stopNote(i int, why uint8) string {
	w, c := a.w, &a.cov
	n := w.nodes[w.pointNode[i]]
	var msg []string
	if why&(stopCut|stopSkipped) != 0 {
		s := fmt.Sprintf("Its capture stopped %s before %s's other captures ended", time.Duration(c.nodeLast(w, i)-c.ownLast[i]).Round(time.Millisecond), n)
		if why&stopCut != 0 {
			s += " (its file is cut short)"
		} else {
			s += " (packets crossed it after its last frame, seen before and after it on their path but not there)"
		}
		msg = append(msg, s+".")
	}
	if why&startLate != 0 {
		msg = append(msg, fmt.Sprintf("Its capture started %s after %s's other captures (packets crossed it before its first frame unseen).",
			time.Duration(c.ownFirst[i]-c.nodeFirst(w, i)).Round(time.Millisecond), n))
	}
	return strings.Join(msg, " ") + " Packets that vanished before it while it did not run are counted as not captured, not lost."
}

// flowDropped reports whether some flow lost at least half of the packets it sent on segment s
// (leaving out the drops ICMP errors answered): a flow stopped there while others pass (a DF packet
// over the tunnel MTU, policy) is a drop, not scattered loss.
func (a *analysis) flowDropped(s *segAcc, answered map[segFlow]int) bool {
	for f, n := range s.flows {
		if n -= answered[segFlow{s, f}]; n > 0 && n*2 >= int(a.flows[f].nSent) && !a.wgCarrierPassed(s, f, n) {
			return true
		}
	}
	return false
}

// frameKey is a kind of single-frame anomaly at a point.
type frameKey struct {
	kind  string
	point int
}

// frameFinding is what frameChecks found of one kind at one point: how many frames, and the first ten.
type frameFinding struct {
	count int
	ev    []Evidence
}

// frameChecks checks single frames: bad checksums at receivers and outer addresses that are not node
// IPs.
func (a *analysis) frameChecks() map[frameKey]*frameFinding {
	w := a.w
	found := map[frameKey]*frameFinding{}
	note := func(kind string, p, f, i int) {
		k := frameKey{kind, p}
		ff := found[k]
		if ff == nil {
			ff = &frameFinding{}
			found[k] = ff
		}
		ff.count++
		if len(ff.ev) < 10 {
			ff.ev = append(ff.ev, Evidence{File: w.c.Files[f].Path, Frame: w.c.Stamps[f].Frame(i)})
		}
	}
	// Whether a frame's outer addresses fit depends on its (context, inner source, inner destination):
	// remembered in a direct-mapped cache (frames of a flow repeat theirs), the addresses as one word
	// and the context + 1 (0: an empty entry).
	fits := new([fitSlots]frameFit)
	// An IPv4 frame in an encapsulation, when the nodes' IPs are known: its Flags' encapsulation and
	// IPv6 bits (encapAt) are one of 1 to 3 (decode.FlagEncapMask; FlagIPv6 is above it), or never.
	const encapAt = decode.FlagEncapMask | decode.FlagIPv6
	encapMax := decode.Flags(decode.FlagEncapMask)
	if len(w.nodeOfIP) == 0 {
		encapMax = 0
	}
	cls := fitClassesFor(encapMax)
	for f, obs := range w.c.Obs {
		for lo := 0; lo < len(obs); lo += trimRun {
			chunk := trimChunk(obs, lo)
			for b := 0; b < len(chunk); b += flagBlock {
				if !w.blockHas(f, lo+b, checkedFlags) { // (most of a pod's veth, a tunnel device)
					continue
				}
				// A block's usual frames (neither test below can hold, or the cache says the outer
				// addresses fit) passed over by fitScan, in registers, without a block test, index or bounds
				// check at each frame; the loop's body looks at the others alone (the frame's index in the
				// file, lo+b+k, is worked out for a finding alone).
				blk := chunk[b:min(b+flagBlock, len(chunk))]
				for k := fitScan(blk, 0, fits, &cls); k < len(blk); k = fitScan(blk, k+1, fits, &cls) {
					o := &blk[k]
					if o.Checksum() == decode.CsumBad {
						if s, p := w.senderNode(o), w.srcPoint[o.Source]; s >= 0 && s != w.pointNode[p] {
							note("checksum-bad", p, f, lo+b+k)
						}
					}
					if o.Flags&encapAt-1 < encapMax { // (encapsulated, not IPv6, the nodes' IPs known)
						// The outer source must be an IP of the node whose pod sent the packet, and the outer
						// destination one of the node whose pod receives it (where those nodes' IPs are known).
						addrs, ctx1 := fitKey(o), uint32(o.Ctx)+1
						e := &fits[fitSlot(addrs, ctx1)]
						if e.addrs != addrs || e.tag&^fitNot != ctx1 {
							c := w.ctxOf(o)
							*e = frameFit{addrs, ctx1}
							if c.OuterV == 4 && !(a.outerFits(ip4(c.OuterSrcAddr()), o.Src) && a.outerFits(ip4(c.OuterDstAddr()), o.Dst)) {
								e.tag |= fitNot
							}
						}
						if e.tag&fitNot != 0 {
							note("wrong-outer-address", w.srcPoint[o.Source], f, lo+b+k)
						}
					}
				}
			}
			w.trimAt(lo + len(chunk) - 1)
		}
	}
	return found
}

// checkedFlags are the flags of which frameChecks needs one set to look at a frame: a bad checksum
// (every Flags with Checksum CsumBad has these of its bits) or an encapsulation.
const checkedFlags = decode.Flags(decode.CsumBad)<<decode.FlagCsumShift | decode.FlagEncapMask

// frameFit is an entry of frameChecks' cache of whether a frame's outer addresses fit, which depends
// on its (context, inner source, inner destination): the addresses as one word and, in tag, the
// context + 1 (0: an empty entry), with fitNot set when they do not fit, so that an entry matches a
// fitting frame's key in two compares.
type frameFit struct {
	addrs uint64 // inner destination << 32 | inner source (fitKey)
	tag   uint32 // the context + 1 (at most 1<<16), | fitNot when the outer addresses do not fit
}

// fitNot is the bit of frameFit.tag that says the outer addresses do not fit.
const fitNot = 1 << 31

// fitBits is the log2 of the number of entries of frameChecks' cache (direct-mapped: frames of a
// flow repeat their addresses and context).
const fitBits = 13

// fitSlots is the number of entries of frameChecks' cache.
const fitSlots = 1 << fitBits

// fitSlot is the entry of frameChecks' cache for inner addresses addrs (fitKey) and context + 1
// ctx1. (A multiplier of 32 bits, sign-extended, which the multiply would take as an immediate, missed
// the cache at about half the many-flow set's encapsulated frames: 163,945 misses, not 120.)
func fitSlot(addrs uint64, ctx1 uint32) uint64 {
	return (addrs ^ uint64(ctx1)<<48) * 0x9e3779b97f4a7c15 >> (64 - fitBits)
}

// fitKey is frameChecks' cache key of frame o's inner addresses: its destination << 32 | its source,
// the two adjacent fields read as one word.
func fitKey(o *decode.Observation) uint64 { return uint64(o.Src) | uint64(o.Dst)<<32 }

// fitClasses is, for each value of a frame's Flags' low five bits (encapsulation, checksum, IPv6),
// what fitScan does with the frame: fitPass (neither of frameChecks' tests can hold), fitLook (an
// encapsulated IPv4 frame with the nodes' IPs known and its checksum not bad: the cache says) or
// fitStop (a bad checksum).
type fitClasses [32]uint8

const (
	fitPass = iota
	fitLook
	fitStop
)

// fitClassesFor is the fitClasses of frameChecks with encapMax (0 when the nodes' IPs are not known,
// else decode.FlagEncapMask).
func fitClassesFor(encapMax decode.Flags) fitClasses {
	const encapAt, csumBad = decode.FlagEncapMask | decode.FlagIPv6, decode.Flags(decode.CsumBad) << decode.FlagCsumShift
	var c fitClasses
	for f := range decode.Flags(len(c)) {
		switch {
		case f&decode.FlagCsumMask == csumBad:
			c[f] = fitStop
		case f&encapAt-1 < encapMax:
			c[f] = fitLook
		}
	}
	return c
}

// fitScan returns the index of the first of blk's frames from k on that frameChecks must look at
// (len(blk) for none): one with a bad checksum, or an encapsulated IPv4 one (with the nodes' IPs
// known: cls, fitClassesFor) whose fit the cache fits does not hold or holds as not fitting. The usual
// frames (no checked flag, or a fit the cache holds) are passed over in a loop of their own, its
// values in registers, apart from frameChecks' findings and its cache's misses. A frame's two tests
// of its flags are one look-up of their five low bits in cls. The frames are read through a pointer
// moved a frame at a time and counted down (n), never past the last frame: an index took a shift and
// a bounds check a frame.
func fitScan(blk []decode.Observation, k int, fits *[fitSlots]frameFit, cls *fitClasses) int {
	n := len(blk) - k // the frames left, the one at p with them
	if n <= 0 {
		return len(blk)
	}
	_, _ = fits[0], cls[0] // (the nil checks before the loop, not in it)
	p := unsafe.Pointer(&blk[k])
	for {
		o := (*decode.Observation)(p)
		if c := cls[o.Flags&decode.Flags(len(cls)-1)]; c != fitLook {
			if c != fitPass {
				return len(blk) - n
			}
		} else if addrs, ctx1 := fitKey(o), uint32(o.Ctx)+1; fits[fitSlot(addrs, ctx1)].addrs != addrs ||
			fits[fitSlot(addrs, ctx1)].tag != ctx1 { // (not held, or held as not fitting)
			return len(blk) - n
		}
		if n--; n == 0 {
			return len(blk)
		}
		p = unsafe.Add(p, unsafe.Sizeof(decode.Observation{}))
	}
}

// detectFrames lists the points where frameChecks found frames of kind k.
func detectFrames(f *findings, k *kindRow) []Anomaly {
	var out []Anomaly
	for key, ff := range f.a.side.frames {
		if key.kind == k.kind {
			out = append(out, k.anomaly(k.severity, Where{Point: f.a.w.c.Points[key.point].ID}, nil, f.ids, ff.count, ff.ev,
				fmt.Sprintf("%d frames.", ff.count)))
		}
	}
	return out
}

// outerFits reports whether an outer address can belong to the node of the inner address's pod:
// true when that node's IPs are unknown.
func (a *analysis) outerFits(outer, inner uint32) bool {
	w := a.w
	pi, ok := w.podOwner[inner]
	if !ok {
		return true
	}
	ips := w.ipsOf[w.pointNode[pi]]
	for _, ip := range ips {
		if ip == outer {
			return true
		}
	}
	return len(ips) == 0
}

// sortedNAT returns a flow's NAT keys in a fixed order.
func sortedNAT(m map[natKey]int) []natKey {
	if len(m) == 0 {
		return nil
	}
	ks := make([]natKey, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		x, y := ks[i], ks[j]
		if x.at != y.at {
			return x.at < y.at
		}
		if x.from != y.from {
			return x.from < y.from
		}
		if x.to != y.to {
			return x.to < y.to
		}
		return x.kind < y.kind // two kinds of rewrite between the same tuples: still one order
	})
	return ks
}
