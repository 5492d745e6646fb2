package correlate

import (
	"cmp"
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/hugepage"
)

func (a *analysis) inputs() []Input {
	var out []Input
	for _, fi := range a.w.c.Files {
		in := Input{File: fi.Path, Format: fi.Format.String(), Compressed: fi.Compressed, Records: fi.Records,
			Skipped: fi.Skipped, Damaged: fi.Damaged, Errors: append([]string{}, fi.Problems...), LinkTypes: []string{},
			CutTo: fi.SnapLen}
		if more := fi.NProblems - len(fi.Problems); more > 0 {
			in.Errors = append(in.Errors, fmt.Sprintf("%d more problems not listed", more))
		}
		seen := map[decode.LinkType]bool{}
		var lts []decode.LinkType
		for _, t := range fi.Traffic {
			for _, l := range t.LinkTypes {
				if !seen[l] {
					seen[l] = true
					lts = append(lts, l)
				}
			}
		}
		sort.Slice(lts, func(i, j int) bool { return lts[i] < lts[j] })
		for _, l := range lts {
			in.LinkTypes = append(in.LinkTypes, l.String())
		}
		out = append(out, in)
	}
	return out
}

func (a *analysis) points() []Point {
	w := a.w
	out := make([]Point, 0, len(w.c.Points))
	for i, p := range w.c.Points {
		files := map[string]bool{}
		for _, s := range p.Sources {
			if int(s) < len(w.c.Sources) {
				if f := int(w.c.Sources[s].File); f < len(w.c.Files) {
					files[w.c.Files[f].Path] = true
				}
			}
		}
		pt := Point{ID: p.ID, Node: p.Node, Iface: p.Iface, Role: p.Role.String(), Reason: p.Reason + a.oneWay.note(i), Pod: p.Pod,
			Files: sortedKeys(files), Frames: p.Traffic.Frames, First: a.cov.ownFirst[i], Last: a.cov.ownLast[i]}
		pt.MoreReasons = w.moreReasons(&p)
		var ips []string
		if w.podOf[i] != 0 {
			ips = append(ips, addrOf(w.podOf[i]).String())
		}
		if w.podOf6[i] != 0 {
			ips = append(ips, w.c.Tables.V6(w.podOf6[i]).String())
		}
		if pods, ok := w.podsOf[i]; ok {
			ips = ips[:0]
			for _, a := range pods {
				ips = append(ips, addrOf(a).String())
			}
		}
		pt.PodIP = strings.Join(ips, ", ")
		pt.Inferred = w.inferred != nil && w.inferred[i]
		out = append(out, pt)
	}
	return out
}

// moreReasons returns the reasons of point p's captures after its first that say something else than
// its first's, each "FILE: reason", once each (see Point.MoreReasons). A role found later (from other
// points, see infer.go) takes a source's "role unknown" out, as it does from Reason.
func (w *world) moreReasons(p *decode.Point) []string {
	var out []string
	for k := 1; k < len(p.SourceReasons) && k < len(p.Sources); k++ {
		r := p.SourceReasons[k]
		if p.Role != decode.RoleUnknown {
			r = dropUnknownReason(r)
		}
		if r == p.SourceReasons[0] || r == p.Reason {
			continue
		}
		if s := int(p.Sources[k]); s < len(w.c.Sources) {
			if f := int(w.c.Sources[s].File); f < len(w.c.Files) {
				r = filepath.Base(w.c.Files[f].Path) + ": " + r
			}
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func (a *analysis) nodeIPs() []NodeIP {
	out := []NodeIP{}
	for _, ip := range a.w.c.NodeIPs {
		out = append(out, NodeIP{Node: ip.Node, IP: ip.IP.String(), Reason: ip.Reason})
	}
	return append(out, a.w.wgNodeIPsOut()...)
}

func (a *analysis) clockOut() []Clock {
	out := []Clock{}
	for n, m := range a.clocks {
		out = append(out, Clock{Node: a.w.nodes[n], OffsetNs: m.offset, BoundNs: m.bound,
			DriftPPM: float64(int64(m.drift*1e6*1000)) / 1000, Method: m.method, Samples: m.samples})
		if v := m.openVia - 1; m.open != sideNone && v >= 0 && v != n && v < len(a.w.nodes) {
			out[len(out)-1].Via = a.w.nodes[v]
		}
		if j := a.jumpedOn(n, n); j >= 0 {
			out[len(out)-1].OrderUnsureNs, out[len(out)-1].OrderUnsureBy = max(a.clocks[j].jump.far, a.clocks[j].jump.size), a.w.nodes[j]
		}
	}
	return out
}

// modeOut returns the per-pair modes, the overall mode and, when no pair shows one, how the overall
// mode was found instead.
func (a *analysis) modeOut() ([]PairMode, string, string) {
	out := []PairMode{}
	kinds := map[string]bool{}
	for k, m := range a.pairMode {
		out = append(out, PairMode{From: a.w.nodes[k[0]], To: a.w.nodes[k[1]], Mode: m})
		kinds[m] = true
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].From != out[j].From {
			return out[i].From < out[j].From
		}
		return out[i].To < out[j].To
	})
	switch {
	case len(kinds) == 0:
		// No pod-to-pod traffic crossed the nodes: go by the tunnel devices that were captured.
		mode, dev := "unknown", ""
		for _, p := range a.w.c.Points {
			switch {
			case strings.HasPrefix(p.Iface, "tunl"):
				mode, dev = "ipip", p.ID
			case strings.HasPrefix(p.Iface, "vxlan") && strings.HasSuffix(p.Iface, ".calico") && mode == "unknown":
				mode, dev = "vxlan", p.ID
			}
		}
		if dev != "" {
			return out, mode, "from the tunnel device " + dev + " (no pod traffic between two nodes was captured)"
		}
		// Or by the encapsulated frames captured (a -i any capture names no device without --links).
		for _, p := range a.w.c.Points {
			switch t := &p.Traffic; {
			case t.IPIP > 0 && t.IPIP >= t.VXLAN:
				return out, "ipip", "from the IP-in-IP frames at " + p.ID + " (no pod traffic between two captured nodes)"
			case t.VXLAN > 0:
				return out, "vxlan", "from the VXLAN frames at " + p.ID + " (no pod traffic between two captured nodes)"
			}
		}
		return out, mode, "no pod traffic between two nodes was captured, and no tunnel device or encapsulated frame"
	case len(kinds) == 1:
		return out, out[0].Mode, ""
	case len(kinds) == 2 && kinds["same-node"]:
		for k := range kinds {
			if k != "same-node" {
				return out, k, ""
			}
		}
	}
	return out, "mixed", ""
}

// flowIDs numbers flows in a stable order: by protocol, client, server (flows with equal clients in
// first-seen order). It sorts the flows' indices by a key packed from the client tuple, and writes
// the ids ("f1", "f2", …) into one string that each id is a piece of. It records each flow's rank.
func (a *analysis) flowIDs() []string {
	order := hugepage.Make[flowRank](len(a.flows), len(a.flows))
	v6 := a.v6Ranks()
	for fi, fl := range a.flows {
		t := fl.client
		if t.v6 { // by address, not by table index: the indexes follow the order the files were read in
			t.src, t.dst = v6[t.src], v6[t.dst]
		}
		r := flowRank{hi: uint64(t.proto)<<32 | uint64(t.src), lo: uint64(t.sp)<<48 | uint64(t.dst)<<16 | uint64(t.dp), fi: int32(fi)}
		if t.v6 {
			r.hi |= 1 << 40
		}
		order[fi] = r
	}
	sortRanks(order)
	a.rank, a.byRank = make([]int32, len(a.flows)), make([]int32, len(a.flows))
	ends := make([]int, len(a.flows))
	buf := make([]byte, 0, len(a.flows)*8)
	for rank, r := range order {
		a.rank[r.fi], a.byRank[rank] = int32(rank), r.fi
		buf = strconv.AppendInt(append(buf, 'f'), int64(rank+1), 10)
		ends[rank] = len(buf)
	}
	all := string(buf)
	ids := make([]string, len(a.flows))
	for fi, rank := range a.rank {
		from := 0
		if rank > 0 {
			from = ends[rank-1]
		}
		ids[fi] = all[from:ends[rank]]
	}
	return ids
}

// flowRank is a flow's key in the flows' order: its client tuple packed in two words, then its index.
type flowRank struct {
	hi, lo uint64 // v6, protocol, source; source port, destination, destination port
	fi     int32
}

// compareRanks orders flowRanks by hi, lo, then fi.
func compareRanks(x, y flowRank) int {
	if c := cmp.Compare(x.hi, y.hi); c != 0 {
		return c
	}
	if c := cmp.Compare(x.lo, y.lo); c != 0 {
		return c
	}
	return cmp.Compare(x.fi, y.fi)
}

// radixRanks is how many flows sortRanks sorts by radix rather than by comparisons: below, the
// comparisons cost less than the radix sort's counts.
const radixRanks = 1 << 12

// sortRanks sorts order, whose fi are ascending, by compareRanks. Many flows are sorted by radix
// (least significant 16 bits first: lo's four digits, then hi's, each pass stable), which gives the
// same order as the comparisons: a stable sort by hi and lo keeps equal keys in fi order, as given.
// A digit all the flows share (the protocol, most of the addresses' high bits), told by the AND and
// the OR of every key (the digit's bits the same in both), takes no pass; the others count and sum
// only the buckets between the digit of the AND and that of the OR, between which every flow's lies.
func sortRanks(order []flowRank) {
	if len(order) < radixRanks {
		slices.SortFunc(order, compareRanks)
		return
	}
	and, or := [2]uint64{^uint64(0), ^uint64(0)}, [2]uint64{}
	for i := range order {
		r := &order[i]
		and[0], or[0], and[1], or[1] = and[0]&r.lo, or[0]|r.lo, and[1]&r.hi, or[1]|r.hi
	}
	count := make([]int32, 1<<16)
	src, dst := order, make([]flowRank, len(order))
	for pass := range 8 {
		shift, hi := 16*uint(pass%4), pass >= 4
		key := func(r *flowRank) uint64 { // inlined: a word and a test
			if hi {
				return r.hi
			}
			return r.lo
		}
		from, to := and[pass/4]>>shift&0xffff, or[pass/4]>>shift&0xffff
		if from == to {
			continue
		}
		c := count[from : to+1]
		clear(c)
		for i := range src {
			count[key(&src[i])>>shift&0xffff]++
		}
		var sum int32
		for d, n := range c {
			c[d], sum = sum, sum+n
		}
		for i := range src {
			d := key(&src[i]) >> shift & 0xffff
			dst[count[d]] = src[i]
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &order[0] {
		copy(order, src)
	}
}

// v6Ranks returns, for the IPv6 table index of each address the flows' client tuples carry, that
// address's rank among them in address order (nil without IPv6 flows): the table's indexes are handed
// out as the files are decoded, in parallel or in whatever order the inputs were named, so sorting by
// them would number the same flows differently from run to run.
func (a *analysis) v6Ranks() map[uint32]uint32 {
	var idx []uint32
	seen := map[uint32]bool{}
	for _, fl := range a.flows {
		if t := fl.client; t.v6 {
			for _, i := range [2]uint32{t.src, t.dst} {
				if !seen[i] {
					seen[i] = true
					idx = append(idx, i)
				}
			}
		}
	}
	if len(idx) == 0 {
		return nil
	}
	addr := make(map[uint32]netip.Addr, len(idx))
	for _, i := range idx {
		addr[i] = a.w.c.Tables.V6(i)
	}
	slices.SortFunc(idx, func(x, y uint32) int { return addr[x].Compare(addr[y]) })
	rank := make(map[uint32]uint32, len(idx))
	for r, i := range idx {
		rank[i] = uint32(r)
	}
	return rank
}

// flowOut writes the flows out in the order of their ids (flowIDs' ranks).
func (a *analysis) flowOut(ids []string) []Flow {
	out := hugepage.Make[Flow](len(a.flows), len(a.flows))
	ob := newFlowOutBuf(a, true)
	for fi := range a.flows {
		a.flowAt(&out[a.rank[fi]], ob, fi, ids)
	}
	return out
}

// flowAt writes flow fi out into *f (all of it), its lists in pieces of ob's arrays. *f is cleared in
// place and its fields set one by one: a Flow literal was built whole on the stack (cleared, then
// filled) and moved into *f (about 250 instructions a flow, the move with its write barriers' test).
func (a *analysis) flowAt(f *Flow, ob *flowOutBuf, fi int, ids []string) {
	fl := a.flows[fi]
	t := fl.client
	f.clearOptional() // the other fields are all set below (TestFlowAtOverwrites)
	f.ID, f.Proto, f.Src = ids[fi], protoName(t.proto), Endpoint{ob.addr(t.v6, t.src), t.sp}
	f.Dst, f.NAT, f.LostAt = Endpoint{ob.addr(t.v6, t.dst), t.dp}, []NATMapping{}, ob.lostAt(fl)
	f.PerPoint, f.Path, f.Bytes = ob.perPoint(fl), ob.path(fl.pathAt[c2s]), fl.bytes
	f.Packets, f.Delivered, f.Lost = int(fl.nSent), int(fl.delivered), int(fl.lost)
	f.NotCaptured, f.Retransmissions, f.Resets = int(fl.notCaptured), int(fl.retrans), int(fl.resets)
	f.ARPWaitNs = a.flowARPWait[fi]
	if fl.conns > 0 {
		f.Connections = a.connections(fl)
	}
	if t.proto == 1 || t.proto == 58 {
		f.Src.Port, f.Dst.Port = 0, 0
	}
	if len(fl.nat.counts()) > 0 {
		f.NAT = natOut(fl.nat.n)
		if a.openerUnknown[int32(fi)] {
			f.OpenerUnknown = a.openerText(fi)
		}
		if fl.conns > 0 {
			f.OpenerUnknown = cmp.Or(connectionsOpener(f.Connections, true), f.OpenerUnknown)
		}
	} else if a.firstSeenAt(fi) {
		f.OpenerUnknown = tcpFirstSeenNote
	} else if fl.conns > 0 {
		f.OpenerUnknown = connectionsOpener(f.Connections, false)
	}
	ob.setDerived(f, fi, fl)
	if pi := a.pathOf(fl, c2s); pi != nil && pi.unordered != nil { // after the hot calls: PGO places them by line
		f.PathUnordered = pi.unorderedAt()
	}
}

// clearOptional zeroes the fields of f that flowAt sets only for some flows, where clearing all of f
// (about 400 bytes) took a call to memclr a flow.
func (f *Flow) clearOptional() {
	f.EchoPairs, f.EchoUnanswered, f.UDPPairs, f.PathUnordered = 0, 0, 0, nil
	f.ClockBound, f.ClockUncertainNs, f.ClockNote, f.Dirs, f.OpenerUnknown, f.Connections = "", 0, "", nil, "", nil
}

// EachFlow calls fn with every flow of the Result in the order of Result.Flows (by ID); it stops when
// fn returns false. A Result whose flows were streamed (Options.StreamFlows, FlowsStreamed) renders
// them one at a time from the state it keeps: fn must not keep the pointer, nor the Flow's lists,
// past its call, as the next flow is rendered into the same arrays.
func (r *Result) EachFlow(fn func(*Flow) bool) {
	if !r.flowsStreamed {
		for i := range r.Flows {
			if !fn(&r.Flows[i]) {
				return
			}
		}
		return
	}
	a := r.analysis
	if runtime.GOMAXPROCS(0) > 1 && len(a.byRank) > flowAheadBatch {
		a.eachFlowAhead(fn, flowAheadBatch)
		return
	}
	ob := newFlowOutBuf(a, false)
	ob.derived = a.deriveAll()
	var f Flow // one for all the flows: fn's pointer makes it escape, and one per flow would be allocated
	for i, fi := range a.byRank {
		if i%touchFlowsN == 0 {
			ob.touched += a.touchFlows(i, min(i+touchFlowsN, len(a.byRank)))
		}
		ob.pp, ob.hs = ob.pp[:0], ob.hs[:0] // the flow before is done with them
		a.flowAt(&f, ob, int(fi), a.ids)
		if !fn(&f) {
			return
		}
	}
}

// touchFlows reads, for the flows at positions [from, to) of the order (byRank), the lines of their
// state that flowAt reads and their ids, one flow after another, and returns a sum of what it read
// (kept by the caller, so that the reads are made). The order is by tuple, so the flows' states are
// far apart in memory: read together, they wait for memory at the same time, rather than each in
// turn as flowAt reads it.
func (a *analysis) touchFlows(from, to int) uint64 {
	var s uint64
	for _, fi := range a.byRank[from:to] {
		fl := a.flows[fi]
		s += uint64(fl.client.sp) + uint64(fl.bytes) + uint64(len(fl.perPoint)) + uint64(len(a.ids[fi]))
	}
	return s
}

// touchFlowsN is how many flows touchFlows reads at a time.
const touchFlowsN = 32

// FlowsStreamed reports whether the Result leaves its flows to EachFlow (Options.StreamFlows): then
// Flows is nil and Summary.Flows counts them.
func (r *Result) FlowsStreamed() bool { return r.flowsStreamed }

// natOut lists a flow's NAT mappings in sortedNAT's order (by where, then before and after).
func natOut(nat map[natKey]int) []NATMapping {
	out := make([]NATMapping, 0, len(nat))
	for _, k := range sortedNAT(nat) {
		out = append(out, NATMapping{Kind: k.kind, At: k.at, From: k.from, To: k.to, Count: nat[k]})
	}
	return out
}

// flowIDLess orders flow ids ("f" and a number without leading zeros) by their numbers.
func flowIDLess(x, y string) bool {
	if len(x) != len(y) {
		return len(x) < len(y)
	}
	return x < y
}

func (a *analysis) segmentOut() []Segment {
	w := a.w
	out := []Segment{}
	for _, s := range a.segs {
		sg := Segment{From: w.c.Points[s.from].ID, To: w.c.Points[s.to].ID, Kind: s.kind, Packets: s.packets,
			Delivered: s.delivered, Lost: s.lost, NotCaptured: s.notCaptured, LatencyNs: s.lat.summary()}
		if sg.ClockBound, sg.ClockNote = a.segClock(s.from, s.to, sg.LatencyNs.N > 0); sg.ClockBound == BoundNone {
			sg.LatencyNs = Latency{} // no measurement: never a negative (or any) latency shown as one
		} else if sg.ClockBound == "" && a.looseClocks && sg.LatencyNs.N > 0 {
			sg.ClockUncertainNs, sg.ClockNote = a.segLoose(s.from, s.to, sg.LatencyNs.Min)
		}
		out = append(out, sg)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].From != out[j].From {
			return out[i].From < out[j].From
		}
		return out[i].To < out[j].To
	})
	return out
}

// echoPairs pairs ICMP echo requests with replies by sequence number.
func (a *analysis) echoPairs(fl *flowAcc) (pairs, unanswered int) {
	req := map[uint16]bool{}
	rep := map[uint16]bool{}
	for d := 0; d < 2; d++ {
		for k, j := range a.dirJourneys(fl, uint8(d)) {
			a.w.trim(k) // a flow's journeys are spread over the whole capture
			h := a.hops(int(j))
			o, _ := a.obs(a.w.pktHop(h))
			if o.Flags&decode.FlagICMPError != 0 {
				continue
			}
			switch o.Sport {
			case 8, 128:
				req[uint16(o.Seq)] = true
			case 0, 129:
				rep[uint16(o.Seq)] = true
			}
		}
	}
	for s := range req {
		if rep[s] {
			pairs++
		} else {
			unanswered++
		}
	}
	return pairs, unanswered
}

// handshake measures SYN → handshake ACK at every point that saw both, appending them to out (by point
// id): the flow's first connection whose handshake completed (a SYN of another ISN, before an ACK, is
// another connection's). rank is each point's rank by id (idRanks), by which a few are sorted; nil: by
// their ids.
func (a *analysis) handshake(fl *flowAcc, out []PointRTT, rank []int32) []PointRTT {
	if fl.client.proto != 6 {
		return out
	}
	from := len(out)
	var rk [insertionMax]int32 // the ranks of out[from:]'s points, while there are no more
	var synBuf [8]pointSyn
	syn := synBuf[:0] // points that saw the SYN (a flow crosses few points)
	var synSeq uint32 // its sequence number
	var synAck bool
	for k, j := range a.dirJourneys(fl, s2c) {
		a.w.trim(k)
		o, _ := a.obs(a.hops(int(j))[0])
		if o.TCPFlags&(decode.TCPSyn|decode.TCPAck) == decode.TCPSyn|decode.TCPAck {
			synAck = true
			break
		}
	}
	if !synAck {
		return out
	}
	for k, j := range a.dirJourneys(fl, c2s) {
		a.w.trim(k)
		h := a.hops(int(j))
		o, _ := a.obs(a.w.pktHop(h))
		isSyn := o.TCPFlags&(decode.TCPSyn|decode.TCPAck) == decode.TCPSyn
		isAck := o.TCPFlags&(decode.TCPSyn|decode.TCPAck|decode.TCPRst) == decode.TCPAck
		if !isSyn && (!isAck || len(syn) == 0) {
			continue // its hops would change nothing: not read (in bounded-memory mode each read maps pages)
		}
		if isSyn && len(syn) > 0 && o.Seq != synSeq {
			syn = syn[:0] // a connection of its own on the 5-tuple (a port reused), after one unanswered
		}
		synSeq = o.Seq
		for _, g := range h {
			p := a.point(g)
			t := a.ts(g)
			k := 0
			for k < len(syn) && syn[k].p != p {
				k++
			}
			switch {
			case isSyn:
				if k == len(syn) {
					syn = append(syn, pointSyn{p: p, t: t})
				}
			case isAck:
				if k < len(syn) && !syn[k].done {
					syn[k].done = true
					if n := len(out) - from; n < len(rk) && rank != nil {
						rk[n] = rank[p]
					}
					out = append(out, PointRTT{Point: a.w.c.Points[p].ID, RTT: t - syn[k].t})
				}
			}
		}
		if isAck && len(syn) > 0 {
			break // the handshake's final ACK has been placed at every point it reached
		}
	}
	sortRTTs(out[from:], rk[:], rank != nil)
	return out
}

// insertionMax is the longest list slices.SortFunc sorts by insertion (pdqsort's maxInsertion): a
// stable sort, whose order of equal elements is theirs as they come.
const insertionMax = 12

// sortRTTs sorts a flow's handshake RTTs by point id as slices.SortFunc with strings.Compare does:
// when ranked and no more than len(rk) (insertionMax), by an insertion sort of their points' ranks
// by id (rk, in list's order; equal ids, equal ranks), as SortFunc's own insertion sort would order
// them by id, without comparing strings; else by SortFunc.
func sortRTTs(list []PointRTT, rk []int32, ranked bool) {
	if !ranked || len(list) > len(rk) || len(rk) > insertionMax {
		slices.SortFunc(list, func(x, y PointRTT) int { return strings.Compare(x.Point, y.Point) })
		return
	}
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && rk[j] < rk[j-1]; j-- {
			rk[j], rk[j-1] = rk[j-1], rk[j]
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
}

// pointSyn is when a point saw a flow's SYN, and whether it has seen the handshake's ACK.
type pointSyn struct {
	p    int
	t    int64
	done bool
}

// tcpStep counts a TCP flow's retransmissions (a segment whose data was already sent, or a resent
// SYN: tcpSyn, seen at the journey's first point), resets and connections (tcpSyn), journey by journey
// in order: j, with first hop o, in direction d. Inlined where it is called, so that a journey of
// another protocol's flow (most of them) takes no call: tcpSegment does the work.
func (pl *placement) tcpStep(fl *flowAcc, d uint8, j int32, o *decode.Observation) {
	if fl.client.proto == 6 {
		pl.tcpSegment(fl, d, j, o)
	}
}

// tcpSegment is tcpStep of a TCP flow's journey.
func (pl *placement) tcpSegment(fl *flowAcc, d uint8, j int32, o *decode.Observation) {
	if pl.mayOffload(j) && pl.offloadNew[j] || pl.lateOrphans != nil && pl.lateOrphans[j] || pl.natRev != nil && pl.natRev[j] {
		// A piece of a split or a GRO merge, or a packet's later half (lateOrphans) or its half before a
		// NAT the clocks put after the rewritten one (natRev): the bytes were counted when first sent.
		return
	}
	if o.Proto != 6 || o.Flags&decode.FlagFragment != 0 {
		return // an ICMP error about the flow, or a fragment (Seq holds its IP id)
	}
	st := &fl.tcp[d]
	if o.TCPFlags&decode.TCPRst != 0 {
		fl.resets++
		if st.syn && o.Seq == st.maxEnd {
			// a reset at its sender's next sequence number, past its SYN: the connection ended (a
			// reset a stack sends in SYN-SENT, to an answer that did not acknowledge its SYN, carries
			// that answer's acknowledgement number, never the SYN's sequence number + 1)
			st.end, fl.tcp[1-d].end = true, true
		}
	}
	if o.TCPFlags&decode.TCPSyn != 0 {
		pl.tcpSyn(fl, d, j, o)
		return
	}
	st.past = true
	n := uint32(o.PayloadLen())
	if o.TCPFlags&decode.TCPFin != 0 {
		n++
		st.end = true
	}
	if n == 0 {
		return
	}
	end := o.Seq + n
	if st.have && int32(end-st.maxEnd) <= 0 {
		fl.retrans++
		pl.retransJ[j] = true
		return
	}
	st.maxEnd, st.have = end, true
}

// tcpSyn is tcpSegment of a SYN, with or without ACK, in direction d. A SYN of a direction that has
// sent one in the flow's current connection is resent (a retransmission) when it carries that SYN's
// sequence number (its ISN: a stack resends a SYN or SYN-ACK with it), unless it is a SYN without ACK
// and the connection ended since, both ends' sides (each sent a FIN, or one a reset at its next
// sequence number past its SYN: tcpSeqState.end): no stack resends a SYN after that, so it opens a
// new connection with the old ISN (a prober's that sends every SYN from one port with one sequence
// number, as a SYN scanner's cookie of the tuple, then resets the answer; or a replayed capture, whose
// SYN-ACK then answers it as a new one's). A SYN-ACK of the old ISN after the close stays resent: a
// new connection would need both its SYN unseen and the old ISN again. Of another ISN, a SYN without
// ACK opens a new connection on the flow's 5-tuple (a port reused: a new connect() takes a new ISN);
// a SYN-ACK answers a SYN of the other end with an ISN of its own: a new connection whose SYN no
// capture shows when the other end has gone past its SYN in the current connection (sent a segment
// without SYN since) or sent none, and else the same connection's answer to its resent SYN (a SYN
// cookie's, or the answer of a server that had given the first up), neither resent nor new. A
// direction's first SYN in the current connection, before any other segment of it there, answers the
// other's (its SYN-ACK, or the SYN put after it); when neither sent one, it is the flow's first
// connection on the flow's first journey, and else a new connection after one whose opening no
// capture showed (a SYN-ACK's: its receiver's SYN was not seen). A new connection is not a
// resend: fl.conns counts it, connJ marks it, and the other direction's state, the earlier
// connection's, is forgotten.
func (pl *placement) tcpSyn(fl *flowAcc, d uint8, j int32, o *decode.Observation) {
	st, ot := &fl.tcp[d], &fl.tcp[1-d]
	switch {
	case st.syn && o.Seq == st.synSeq && !(st.end && ot.end && o.TCPFlags&decode.TCPAck == 0):
		fl.retrans++
		pl.retransJ[j] = true
	case st.syn && o.TCPFlags&decode.TCPAck != 0 && ot.syn && !ot.past:
	case !st.syn && !st.past && (ot.syn || j == pl.firstJourney(fl)):
	default:
		fl.conns++
		if pl.connJ == nil {
			pl.connJ = map[int32]bool{}
		}
		pl.connJ[j] = true
		ot.have, ot.syn, ot.past, ot.end = false, false, false, false
	}
	st.synSeq, st.syn, st.past, st.end = o.Seq, true, false, false
	st.maxEnd, st.have = o.Seq+1, true
}

// firstJourney is the flow's first journey, either way (-1 for none).
func (fo *flowsOut) firstJourney(fl *flowAcc) int32 { return firstJourneyIn(fo.jAll, fl) }

// firstJourneyIn is firstJourney with the flows' journeys all (flowsOut.jAll): splitFlows' too.
func firstJourneyIn(all []int32, fl *flowAcc) int32 {
	end := fl.jAt + fl.nC2S + fl.nS2C
	js, first := all[fl.jAt:end:end], int32(-1)
	if fl.nC2S > 0 {
		first = js[0]
	}
	if fl.nS2C > 0 && (first < 0 || js[fl.nC2S] < first) {
		first = js[fl.nC2S]
	}
	return first
}

// tcpReset counts a TCP reset of a flow whose journey tcpStep leaves out (placeJourney).
func (pl *placement) tcpReset(fl *flowAcc, o *decode.Observation) {
	if fl.client.proto == 6 && o.Proto == 6 && o.Flags&decode.FlagFragment == 0 && o.TCPFlags&decode.TCPRst != 0 {
		fl.resets++
	}
}

// tcpSeqState is what tcpStep keeps per flow direction: the end of the data sent so far (maxEnd, when
// have), its last SYN's sequence number, when it sent one in the flow's current connection (syn),
// whether it sent a segment without SYN since (past), and whether its side of the connection ended
// since: it sent a FIN, or either end a reset at its next sequence number past its SYN (end).
type tcpSeqState struct {
	maxEnd, synSeq       uint32
	have, syn, past, end bool
}

// natStats turns NAT events into mappings per flow.
func (a *analysis) natStats() {
	w := a.w
	for _, ev := range a.journeys.nat {
		fi := a.jFlow[ev.j]
		if fi < 0 {
			continue
		}
		from, to := a.natRewrite(ev)
		of, _ := a.obs(from)
		ot, _ := a.obs(to)
		tf, tt := w.tupleOf(of), w.tupleOf(ot)
		kind := "nat"
		switch {
		case tf.src == tt.src && tf.sp == tt.sp:
			kind = "dnat"
		case tf.dst == tt.dst && tf.dp == tt.dp:
			kind = "snat"
		}
		pf, pt := w.srcPoint[of.Source], w.srcPoint[ot.Source]
		k := natKey{kind: kind, at: w.c.Points[pf].ID + "→" + w.c.Points[pt].ID,
			from: w.endpoint(tf.v6, tf.src, tf.sp) + " → " + w.endpoint(tf.v6, tf.dst, tf.dp),
			to:   w.endpoint(tt.v6, tt.src, tt.sp) + " → " + w.endpoint(tt.v6, tt.dst, tt.dp)}
		fl := a.flows[fi]
		if fl.nat == nil {
			fl.nat = &flowNAT{map[natKey]int{}, map[natKey][]Evidence{}}
		}
		fl.nat.n[k]++
		a.noteInPod(k, a.rewrittenInPod(from, to))
		if len(fl.nat.ev[k]) < 10 {
			fl.nat.ev[k] = append(fl.nat.ev[k], a.evidence(to))
		}
	}
}

// natFrom is the sighting NAT event ev rewrote: its from, or, when that is on another node than its
// to (a sender's copy that its uncorrected clock put after the router's that forwarded it: natBehind),
// the journey's latest hop before to on to's node, where the packet left for the NAT. When none is
// on to's node (a NodePort's request DNATed on a node whose way in no capture shows: nodeSendsOn),
// the latest hop before to with the lowest TTL, the nearest to the NAT on the packet's way (the TTL
// never rises on it), not a sender's copy that an uncorrected clock put after the router's.
func (a *analysis) natFrom(ev natEvent) uint32 {
	w := a.w
	n := w.pointNode[w.pointOf(ev.to)]
	if w.pointNode[w.pointOf(ev.from)] == n {
		return ev.from
	}
	from, on := ev.from, false
	near, nearTTL := ev.from, uint16(256)
	for _, g := range a.hops(int(ev.j)) {
		if g == ev.to {
			break
		}
		if w.pointNode[w.pointOf(g)] == n {
			from, on = g, true
		}
		if o, _ := a.obs(g); uint16(o.TTL) <= nearTTL {
			near, nearTTL = g, uint16(o.TTL)
		}
	}
	if !on {
		return near
	}
	return from
}

// changes lists what changed in the headers between two hops of a journey.
func (a *analysis) changes(p, o *decode.Observation) []string {
	w := a.w
	var out []string
	if p.TTL != o.TTL {
		out = append(out, fmt.Sprintf("ttl %d→%d", p.TTL, o.TTL))
	}
	tp, to := w.tupleOf(p), w.tupleOf(o)
	if tp.src != to.src || tp.sp != to.sp {
		out = append(out, "src "+w.endpoint(tp.v6, tp.src, tp.sp)+"→"+w.endpoint(to.v6, to.src, to.sp))
	}
	if tp.dst != to.dst || tp.dp != to.dp {
		out = append(out, "dst "+w.endpoint(tp.v6, tp.dst, tp.dp)+"→"+w.endpoint(to.v6, to.dst, to.dp))
	}
	cp, co := w.ctxOf(p), w.ctxOf(o)
	switch {
	case cp.Encap == decode.EncapNone && co.Encap != decode.EncapNone:
		out = append(out, fmt.Sprintf("+%s %s→%s", co.Encap, co.OuterSrcAddr(), co.OuterDstAddr()))
	case cp.Encap != decode.EncapNone && co.Encap == decode.EncapNone:
		out = append(out, "-"+cp.Encap.String())
	case cp.Encap != decode.EncapNone:
		if cp.OuterSrc != co.OuterSrc || cp.OuterDst != co.OuterDst {
			out = append(out, fmt.Sprintf("outer %s→%s became %s→%s", cp.OuterSrcAddr(), cp.OuterDstAddr(),
				co.OuterSrcAddr(), co.OuterDstAddr()))
		}
		if cp.OuterTTL != co.OuterTTL {
			out = append(out, fmt.Sprintf("outer ttl %d→%d", cp.OuterTTL, co.OuterTTL))
		}
	}
	if cp.InnerTOS>>2 != co.InnerTOS>>2 {
		out = append(out, fmt.Sprintf("dscp %d→%d", cp.InnerTOS>>2, co.InnerTOS>>2))
	}
	if cp.InnerTOS&3 != co.InnerTOS&3 {
		out = append(out, fmt.Sprintf("ecn %d→%d", cp.InnerTOS&3, co.InnerTOS&3))
	}
	return out
}

func (a *analysis) summary(res *Result) Summary {
	s := Summary{Anomalies: map[string]int{"error": 0, "warning": 0, "info": 0}, Flows: len(res.Flows)}
	if res.flowsStreamed {
		s.Flows = len(a.flows)
	}
	for _, in := range res.Inputs {
		s.Frames += in.Records
		s.Skipped += in.Skipped
	}
	for _, f := range a.flows {
		s.Journeys += int(f.nSent)
		s.Delivered += int(f.delivered)
		s.Lost += int(f.lost)
		s.NotCaptured += int(f.notCaptured)
	}
	for _, an := range res.Anomalies {
		s.Anomalies[an.Severity]++
	}
	s.Unreadable = Unreadable(a.w.c)
	var why []string
	for _, w := range []string{a.lateUnreliable(), a.clockUnreliable(), a.unsureUnreliable(), unsplitUnreliable(a.w.c), routedUnreliable(a.w.c)} {
		if w != "" {
			why = append(why, w)
		}
	}
	s.Unreliable = strings.Join(why, "; and ")
	return s
}

// udpPairWindow is how long after a request its response may come.
const udpPairWindow = int64(time.Second)

// allUDPPairs returns udpPairs of every UDP flow, by flow index (0 for the others).
func (a *analysis) allUDPPairs() []int32 {
	n := make([]int32, len(a.flows))
	for fi, fl := range a.flows {
		if fl.client.proto == 17 {
			n[fi] = int32(a.udpPairs(fl))
		}
	}
	return n
}

// udpPairs pairs each client→server datagram with the first unpaired server→client datagram that
// follows it within udpPairWindow (first sightings, in corrected time; journeys are in time order).
func (a *analysis) udpPairs(fl *flowAcc) int {
	blocks := a.hopTs.t0.blocks // first sightings' times (times.at, its index unsigned)
	if len(a.offloadNew) == 0 { // no journey is a GSO/GRO piece (most runs): no response is passed over
		return udpPairsWhole(blocks, a.dirJourneys(fl, c2s), a.dirJourneys(fl, s2c))
	}
	first := func(j int32) int64 { return blocks[uint32(j)/timesBlock][uint32(j)%timesBlock] }
	resp, k := a.dirJourneys(fl, s2c), 0 // the responses: server→client journeys less GSO/GRO pieces
	pairs := 0
	for _, j := range a.dirJourneys(fl, c2s) {
		t := first(j)
		// The first response from k on that is no piece and not before this request (one before it
		// answered nothing later), paired with it when within the window.
		for ; k < len(resp); k++ {
			if r := resp[k]; a.mayOffload(r) && a.offloadNew[r] {
				continue
			}
			if tr := first(resp[k]); tr >= t {
				if tr-t <= udpPairWindow {
					pairs++
					k++
				}
				break
			}
		}
	}
	return pairs
}

// udpPairsWhole is udpPairs of requests req and responses resp where no journey is a GSO/GRO piece:
// its loop without the pieces' test, its values in registers (about 80 instructions a request with
// the test, whose look-ups kept the loop's values on the stack).
func udpPairsWhole(blocks [][]int64, req, resp []int32) int {
	pairs, k := 0, 0
	for _, j := range req {
		t := blocks[uint32(j)/timesBlock][uint32(j)%timesBlock]
		for ; k < len(resp); k++ {
			r := uint32(resp[k])
			if tr := blocks[r/timesBlock][r%timesBlock]; tr >= t {
				if tr-t <= udpPairWindow {
					pairs++
					k++
				}
				break
			}
		}
	}
	return pairs
}
