package correlate

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/calipath/calipath/decode"
)

// A TCP segment that vanished before a point whose capture ran is lost, unless its receiver
// acknowledged it: then it crossed that point, and the capture there missed it (an -i any or pcapng
// capture that overflowed writes no word of it). Observations keep no acknowledgement numbers, so
// the ACKs that may answer such a segment are read again from their files (Options.Acks), once,
// before placement (prereadAcks): a pass over each file that holds one, for the TCP segments that
// stopped short of their path's end.
//
// The ACK proves that the data arrived, not that this copy did: the rule clears a copy only when it
// is the only one of its sequence range the flow shows (no resend, no overlapping segment, seen
// nowhere), and only when the capture of its first point ran until the ACK, so that a resend would
// have been seen there.

// Bounds of the work: a flow direction with more journeys is not looked through; the ACKs looked at
// per segment; the segments looked at (each is looked for among its flow's journeys, so thousands of
// them in long flows cost a tenth of the run); the frames and the file bytes read again in one correlation. Reading them again is a
// pass over each file that holds one (Observations keep no offsets): on 1.7 GB of generated captures
// with 8,000 losses that was a tenth more CPU. A run that would read more frames, or files of more
// bytes, reads none and applies the rule nowhere (its losses count as they did before the rule), so
// the result never depends on which segments came first.
const (
	ackScanMax         = 1 << 16
	ackCandidates      = 16
	ackReadMax         = 1 << 13
	ackSegMax          = 1 << 10 // TCP segments that stopped short of their path's end
	ackBytesMaxDefault = 256 << 20
)

// ackBytesMax is ackBytesMaxDefault; a test lowers it.
var ackBytesMax int64 = ackBytesMaxDefault

// ackState is the ACKs read again before placement, by observation id.
type ackState struct {
	read map[uint32]ackRead
}

// ackRead is one frame read again: its acknowledgement number, when it had one.
type ackRead struct {
	ack uint32
	ok  bool
}

// ackedMiss is a segment the rule cleared: the point whose capture missed it (the next on its path),
// its flow, its last sighting and the sighting of the ACK that answered it; j is its journey.
type ackedMiss struct {
	point int
	flow  int32
	seg   uint32
	ack   uint32
	j     int32
}

// ackCand is an ACK of the reverse direction that may answer a segment: its first sighting showing
// its own headers, and when (corrected).
type ackCand struct {
	g uint32
	t int64
}

// ackedLater reports whether journey p, about to be counted lost before point nx, is a TCP segment
// its receiver acknowledged (see above); if so it records the miss at nx.
func (pl *placement) ackedLater(p *placing, nx int) bool {
	j := int32(p.j)
	if pl.ack == nil || pl.retransJ[j] || !pl.ackable(j, p.o0) {
		return false
	}
	d := pl.jDir[j]
	end := p.o0.Seq + seqLen(p.o0)
	top, ok := pl.onlyCopy(pl.dirJourneys(p.fl, d), j, p.o0.Seq, end)
	if !ok {
		return false
	}
	c, ok := pl.ackCovering(pl.ackCands(pl.dirJourneys(p.fl, 1-d), pl.t0.at(int(j))), end, top)
	if !ok || !pl.covered(p.pi.points[p.first], c.t) {
		return false // no ACK answered it, or a resend could have passed its first point unseen
	}
	pl.ackedMiss = append(pl.ackedMiss, ackedMiss{point: nx, flow: p.fi, seg: p.h[p.reached[p.reach]], ack: c.g, j: j})
	return true
}

// ackable reports whether journey j, whose first frame showing its headers is o, is a TCP segment
// the rule may clear: one that takes sequence space, whole (no fragment, no cut header, no
// super-packet, no GRO merge; a piece of a split super-packet is a segment as sent on), neither a
// reset nor one its node refused.
func (pl *placement) ackable(j int32, o *decode.Observation) bool {
	if o.Proto != 6 || o.Flags&(decode.FlagFragment|decode.FlagTruncated|decode.FlagGSO|decode.FlagICMPError) != 0 ||
		o.TCPFlags&decode.TCPRst != 0 || pl.mayOffload(j) && !pl.splitPiece(j) || seqLen(o) == 0 {
		return false
	}
	_, refused := pl.refusedBy[j]
	return !refused
}

// splitPiece reports whether journey j is a piece of a split super-packet (pieceOf) and nothing
// else: not itself split again or merged, not a WireGuard message's fragment.
func (pl *placement) splitPiece(j int32) bool {
	_, piece := pl.pieceOf[j]
	_, parent := pl.offloadAt[j]
	return piece && !parent && !pl.fragOf[j] && !pl.fragChild[j]
}

// splitPieces fills pieceOf: each piece of a super-packet split by segmentation offload → the
// journey it was split from. A piece of more than one journey (a merge, a late join) is none.
func (pl *placement) splitPieces() {
	pl.pieceOf = map[int32]int32{}
	many := map[int32]bool{}
	for _, ev := range pl.journeys.gso {
		if ev.frag || ev.merge {
			many[ev.child] = true
			continue
		}
		if _, ok := pl.pieceOf[ev.child]; ok {
			many[ev.child] = true
		}
		pl.pieceOf[ev.child] = ev.parent
	}
	for j := range many {
		delete(pl.pieceOf, j)
	}
}

// splitFrom reports whether journey k is one journey j was split from, or one that was split from
// (a packet split twice): the same packet as sent, not another copy of its bytes.
func (pl *placement) splitFrom(j, k int32) bool {
	for n := 0; n < 8; n++ {
		p, ok := pl.pieceOf[j]
		if !ok {
			return false
		}
		if p == k {
			return true
		}
		j = p
	}
	return false
}

// seqLen is how much sequence space a TCP segment takes: its payload, and one for SYN and for FIN.
func seqLen(o *decode.Observation) uint32 {
	n := uint32(o.PayloadLen())
	if o.TCPFlags&decode.TCPSyn != 0 {
		n++
	}
	if o.TCPFlags&decode.TCPFin != 0 {
		n++
	}
	return n
}

// onlyCopy reports whether no journey of js but j carries any of the sequence range [seq, end), and
// returns the highest end the journeys reached (serial arithmetic: ranges wrap).
func (pl *placement) onlyCopy(js []int32, j int32, seq, end uint32) (top uint32, ok bool) {
	if len(js) > ackScanMax {
		return 0, false
	}
	top = end
	for _, k := range js {
		if k == j {
			continue
		}
		o, _ := pl.obs(pl.w.pktHop(pl.hops(int(k))))
		if pl.splitFrom(j, k) { // the super-packet j is a piece of: its end bounds the ACK all the same
			if ke := o.Seq + seqLen(o); int32(ke-top) > 0 {
				top = ke
			}
			continue
		}
		if o.Proto != 6 || o.Flags&(decode.FlagFragment|decode.FlagICMPError) != 0 {
			continue
		}
		kn := seqLen(o)
		if kn == 0 {
			continue
		}
		ks, ke := o.Seq, o.Seq+kn
		if int32(ks-end) < 0 && int32(seq-ke) < 0 {
			return 0, false // another copy (or part) of the range
		}
		if int32(ke-top) > 0 {
			top = ke
		}
	}
	return top, true
}

// ackCands lists the first ackCandidates ACKs of js seen from t less the window on (in corrected
// time: an ACK that answers a segment comes after it, within the clocks' error).
func (pl *placement) ackCands(js []int32, t int64) []ackCand {
	if len(js) > ackScanMax {
		return nil
	}
	var cs []ackCand
	from := t - int64(pl.opts.Window)
	for _, k := range js {
		g := pl.w.pktHop(pl.hops(int(k)))
		o, _ := pl.obs(g)
		if o.Proto != 6 || o.Flags&(decode.FlagFragment|decode.FlagICMPError) != 0 || o.TCPFlags&decode.TCPAck == 0 {
			continue
		}
		if tk := pl.t0.at(int(k)); tk >= from {
			cs = append(cs, ackCand{g: g, t: tk})
		}
	}
	sort.Slice(cs, func(a, b int) bool { return cs[a].t < cs[b].t || cs[a].t == cs[b].t && cs[a].g < cs[b].g })
	return cs[:min(len(cs), ackCandidates)]
}

// ackCovering returns the first of cs (read again) whose acknowledgement number covers end and does
// not pass top, the most the sender sent (an ACK of another connection on the same ports falls in
// between only by chance).
func (pl *placement) ackCovering(cs []ackCand, end, top uint32) (ackCand, bool) {
	for _, c := range cs {
		if r := pl.ack.read[c.g]; r.ok && int32(r.ack-end) >= 0 && int32(top-r.ack) >= 0 {
			return c, true
		}
	}
	return ackCand{}, false
}

// prereadAcks reads again, before placement, the ACKs that may answer the TCP segments that stopped
// short of their path's last point (those placement may count lost, and more): a pass over each file
// that holds one, up to the last such frame. Nothing without Options.Acks, or without such segments.
func (pl *placement) prereadAcks() {
	if pl.opts.Acks == nil {
		return
	}
	pl.splitPieces()
	var cands []int
	for j := 0; j < pl.nJ; j++ {
		fi := pl.jFlow[j]
		if fi < 0 || pl.flows[fi].client.proto != 6 {
			continue
		}
		pi := pl.pathOf(pl.flows[fi], pl.jDir[j])
		if pi == nil || len(pi.points) < 2 || int(pl.hopPt[pl.jStart[j+1]-1]) == pi.points[len(pi.points)-1] {
			continue // it reached its path's end
		}
		if cands = append(cands, j); len(cands) > ackSegMax {
			return // each is looked for among its flow's journeys: too much work, the rule applies nowhere
		}
	}
	need := map[uint32]bool{}
	for _, j := range cands {
		fl, d := pl.flows[pl.jFlow[j]], pl.jDir[j]
		o, _ := pl.obs(pl.w.pktHop(pl.hops(j)))
		if !pl.ackable(int32(j), o) {
			continue
		}
		if _, ok := pl.onlyCopy(pl.dirJourneys(fl, d), int32(j), o.Seq, o.Seq+seqLen(o)); !ok {
			continue
		}
		for _, c := range pl.ackCands(pl.dirJourneys(fl, 1-d), pl.t0.at(j)) {
			need[c.g] = true
		}
	}
	if len(need) > 0 && len(need) <= ackReadMax && pl.ackBytes(need) <= ackBytesMax {
		pl.readAcks(need)
	}
}

// ackBytes is the size of the files that hold the frames need names.
func (pl *placement) ackBytes(need map[uint32]bool) int64 {
	files := map[int]bool{}
	var n int64
	for g := range need {
		if _, f := pl.obs(g); !files[f] {
			files[f] = true
			if f >= 0 && f < len(pl.w.c.Files) {
				n += pl.w.c.Files[f].Bytes
			}
		}
	}
	return n
}

// readAcks reads the acknowledgement numbers of the frames need names, a file at a time.
func (pl *placement) readAcks(need map[uint32]bool) {
	pl.ack = &ackState{read: make(map[uint32]ackRead, len(need))}
	byFile := map[int][]uint32{}
	for g := range need {
		_, f := pl.obs(g)
		byFile[f] = append(byFile[f], g)
	}
	for f, gs := range byFile {
		sort.Slice(gs, func(a, b int) bool { return gs[a] < gs[b] })
		frames := make([]uint32, len(gs))
		for i, g := range gs {
			frames[i] = pl.w.frameOf(g)
		}
		acks, ok := pl.opts.Acks(f, frames)
		for i, g := range gs {
			if i < len(ok) && ok[i] {
				pl.ack.read[g] = ackRead{ack: acks[i], ok: true}
			}
		}
	}
}

// ackedEvidence bounds the segments an anomaly cites (each with its ACK).
const ackedEvidence = 3

// ackedDrops adds to the capture-dropped anomalies out the points whose capture missed a TCP segment
// its receiver acknowledged: to the point's anomaly when it has one, else as one of its own. Either is
// a warning: a packet was judged by it.
func ackedDrops(f *findings, k *kindRow, out []Anomaly) []Anomaly {
	byPoint := map[int][]ackedMiss{}
	var points []int
	for _, m := range f.a.ackedMiss {
		if byPoint[m.point] == nil {
			points = append(points, m.point)
		}
		byPoint[m.point] = append(byPoint[m.point], m)
	}
	sort.Ints(points)
	for _, p := range points {
		ms := byPoint[p]
		flows := map[int32]bool{}
		var ev []Evidence
		for i, m := range ms {
			flows[m.flow] = true
			if i < ackedEvidence {
				ev = append(ev, f.a.evidence(m.seg), f.a.evidence(m.ack))
			}
		}
		id := f.a.w.c.Points[p].ID
		i := pointAnomaly(out, id)
		if i == len(out) {
			out = append(out, k.anomaly(k.severity, Where{Point: id}, flows, f.ids, len(ms), ev,
				"The capture missed "+ackedText(len(ms))))
			continue
		}
		an := &out[i]
		extra := k.anomaly(k.severity, Where{Point: id}, flows, f.ids, len(ms), ev, "")
		msg := strings.Replace(an.Message, " No packet vanished before it while it dropped.", " No other packet vanished before it while it dropped.", 1)
		an.Message = "It also missed " + ackedText(len(ms)) + " " + msg
		an.Severity, an.Count = k.severity, an.Count+len(ms)
		an.Flows = mergeIDs(an.Flows, extra.Flows)
		an.Evidence = append(an.Evidence, ev...)
	}
	return out
}

// ackedText says what n segments a capture missed were, and how they are counted.
func ackedText(n int) string {
	if n == 1 {
		return "1 TCP segment last seen before it, which its receiver acknowledged later (the evidence: the " +
			"segment's last sighting, then the ACK): it crossed the point unseen, so it is counted as not captured, not lost."
	}
	return fmt.Sprintf("%d TCP segments last seen before it, which their receiver acknowledged later (the evidence: "+
		"each segment's last sighting, then its ACK): they crossed the point unseen, so they are counted as not "+
		"captured, not lost.", n)
}

// mergeIDs returns the flow IDs of a and b, once each, in flow order.
func mergeIDs(a, b []string) []string {
	out := append([]string{}, a...)
	for _, id := range b {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return flowIDLess(out[i], out[j]) })
	return out
}

// pointAnomaly is the index of the anomaly of out placed at point id, len(out) when there is none: where
// a capture-dropped finding of one kind of evidence (ACKs, ARP proofs) joins the point's own.
func pointAnomaly(out []Anomaly, id string) int {
	i := 0
	for i < len(out) && out[i].Where.Point != id {
		i++
	}
	return i
}
