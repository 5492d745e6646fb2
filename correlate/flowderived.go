package correlate

import (
	"runtime"
	"sync"
)

// flowDerived is what writing a flow out computes from its journeys beside its counts: its latency
// summary, its ICMP echo pairs or UDP datagram pairs, and where its handshake RTTs are.
type flowDerived struct {
	lat               Latency
	pairs, unanswered int32 // echo pairs and requests unanswered (ICMP), datagram pairs (UDP)
	hsFrom, hsTo      int32 // its handshake RTTs: in its block of flowsDerived.hs, [hsFrom:hsTo]
}

// derive computes flow fl's (flow fi's) flowDerived but its handshake RTTs: its UDP pairs from
// a.udpN when they were counted ahead (the journeys' first times are gone then).
func (a *analysis) derive(fi int, fl *flowAcc) flowDerived {
	d := flowDerived{lat: fl.e2e.summary()}
	switch fl.client.proto {
	case 1, 58:
		p, u := a.echoPairs(fl)
		d.pairs, d.unanswered = int32(p), int32(u)
	case 17:
		if a.udpN != nil {
			d.pairs = a.udpN[fi]
		} else {
			d.pairs = int32(a.udpPairs(fl))
		}
	}
	return d
}

// set writes d into f, a flow of protocol proto.
func (d *flowDerived) set(f *Flow, proto uint8) {
	f.LatencyNs = d.lat
	switch proto {
	case 1, 58:
		f.EchoPairs, f.EchoUnanswered = int(d.pairs), int(d.unanswered)
	case 17:
		f.UDPPairs = int(d.pairs)
	}
}

// flowsDerived is every flow's flowDerived, by rank, with their handshake RTTs in blocks: one per
// consecutive range of the flows (in the order they were made) deriveAll computed apart, the same
// number of flows each (but for rounding): flow fi's is block hsBlock(fi).
type flowsDerived struct {
	at []flowDerived
	hs [][]PointRTT
}

// hsBlock is the block of flow fi's handshake RTTs: block p holds flows [p*n/P, (p+1)*n/P) of n,
// so fi's is the last p with p*n/P ≤ fi.
func (fd *flowsDerived) hsBlock(fi int) []PointRTT {
	return fd.hs[((fi+1)*len(fd.hs)-1)/len(fd.at)]
}

// deriveAll computes every flow's flowDerived ahead of writing the flows out one at a time in rank
// order (EachFlow): in the order the flows were made, which is about the order of their first
// journeys, so that reading their journeys' hops and times goes through the arena nearly in order,
// where rank order (by address and port) jumps all over it for every flow.
//
// On more than one core (and with the arena in memory: bounded-memory mode trims it as it reads), a
// goroutine a core computes a consecutive range of the flows, with its own block of handshake RTTs:
// the same flows derived.
func (a *analysis) deriveAll() *flowsDerived {
	fd := &flowsDerived{at: make([]flowDerived, len(a.flows))}
	rank := idRanks(a.w.c.Points) // (handshake's sort)
	parts := runtime.GOMAXPROCS(0)
	if parts < 2 || a.w.big != nil || len(a.flows) < deriveParMin {
		fd.hs = [][]PointRTT{a.deriveRange(fd.at, 0, len(a.flows), rank)}
		return fd
	}
	fd.hs = make([][]PointRTT, parts)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			fd.hs[p] = a.deriveRange(fd.at, p*len(a.flows)/parts, (p+1)*len(a.flows)/parts, rank)
		})
	}
	wg.Wait()
	return fd
}

// deriveParMin is the fewest flows deriveAll computes on more than one goroutine.
const deriveParMin = 4096

// deriveRange computes the flowDerived of flows [from, to) into at (by rank) and returns their
// handshake RTTs (sorted by the points' ranks by id, rank: idRanks), in one block that each flow's hsFrom and hsTo index. The block is made with room for
// one RTT a TCP flow (a handshake seen at one point) and, when short, takes the room the TCP flows so
// far say the rest need (hsRoom): grown by append, a quarter at a time once large, it was allocated
// several times over while the flows are written out, where no collection comes before the end (on
// the 10.2 M-frame many-flow set 20 MB for the 4 MB kept).
func (a *analysis) deriveRange(at []flowDerived, from, to int, rank []int32) []PointRTT {
	tcp := 0
	for _, fl := range a.flows[from:to] {
		if fl.client.proto == 6 {
			tcp++
		}
	}
	hs := make([]PointRTT, 0, tcp)
	var one []PointRTT // one flow's, appended to hs
	seen := 0          // TCP flows so far
	for fi := from; fi < to; fi++ {
		fl := a.flows[fi]
		d := a.derive(fi, fl)
		d.hsFrom = int32(len(hs))
		if fl.client.proto == 6 {
			seen++
		}
		if one = a.handshake(fl, one[:0], rank); len(one) > 0 {
			if len(hs)+len(one) > cap(hs) {
				hs = append(make([]PointRTT, 0, hsRoom(len(hs)+len(one), cap(hs), seen, tcp)), hs...)
			}
			hs = append(hs, one...)
		}
		d.hsTo = int32(len(hs))
		at[a.rank[fi]] = d
	}
	return hs
}

// hsRoom is the new capacity of a block of handshake RTTs that must hold n, c before, when seen of the
// range's tcp TCP flows have given theirs: what they gave a flow, for every TCP flow, and an eighth
// more; at least a quarter more than c.
func hsRoom(n, c, seen, tcp int) int {
	est := n * max(tcp, seen) / seen
	return max(n, est+est/8, c+c/4)
}

// setDerived sets what flow fi's journeys give of f: from the flows derived ahead (b.derived), else
// computed now.
// Its latencies are marked with what one-sided clocks make of them (flowBound), and left out when they
// are no measurement.
func (b *flowOutBuf) setDerived(f *Flow, fi int, fl *flowAcc) {
	b.setDerivedRaw(f, fi, fl)
	if b.a.flowClocks != nil { // else every clock bounded both ways: every latency is a measurement
		if f.ClockBound, f.ClockNote = b.a.flowBound(fi); f.ClockBound == BoundNone {
			f.LatencyNs = Latency{} // no measurement: never a latency shown as one
			f.Dirs = b.a.dirLatencies(fi)
		}
	}
	if b.a.flowLoose != nil {
		b.setLoose(f, fi)
	}
}

// setLoose hedges flow f's latencies, measurements by the one-sided clocks' marks (ClockBound ""),
// when loose clocks leave them uncertain (flowLooseAcc): Flow.ClockUncertainNs and ClockNote.
func (b *flowOutBuf) setLoose(f *Flow, fi int) {
	a := b.a
	if a.flowLoose == nil || fi >= len(a.flowLoose) || f.ClockBound != "" || f.LatencyNs.N == 0 {
		return
	}
	if l := a.flowLoose[fi]; l.b > 0 {
		f.ClockUncertainNs = l.b
		f.ClockNote = a.looseNote(int(l.x), int(l.y), l.b, f.LatencyNs.Min, "the flow's")
	}
}

// setDerivedRaw is setDerived but for the clocks' marks.
func (b *flowOutBuf) setDerivedRaw(f *Flow, fi int, fl *flowAcc) {
	if fd := b.derived; fd != nil {
		d := &fd.at[b.a.rank[fi]]
		d.set(f, fl.client.proto)
		f.HandshakeRTT = []PointRTT{}
		if d.hsTo > d.hsFrom {
			f.HandshakeRTT = fd.hsBlock(fi)[d.hsFrom:d.hsTo:d.hsTo]
		}
		return
	}
	d := b.a.derive(fi, fl)
	d.set(f, fl.client.proto)
	f.HandshakeRTT = b.handshake(fl)
}
