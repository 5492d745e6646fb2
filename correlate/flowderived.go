package correlate

// flowDerived is what writing a flow out computes from its journeys beside its counts: its latency
// summary, its ICMP echo pairs or UDP datagram pairs, and where its handshake RTTs are.
type flowDerived struct {
	lat               Latency
	pairs, unanswered int32 // echo pairs and requests unanswered (ICMP), datagram pairs (UDP)
	hsFrom, hsTo      int32 // its handshake RTTs: flowsDerived.hs[hsFrom:hsTo]
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

// flowsDerived is every flow's flowDerived, by rank, with their handshake RTTs in one array.
type flowsDerived struct {
	at []flowDerived
	hs []PointRTT
}

// deriveAll computes every flow's flowDerived ahead of writing the flows out one at a time in rank
// order (EachFlow): in the order the flows were made, which is about the order of their first
// journeys, so that reading their journeys' hops and times goes through the arena nearly in order,
// where rank order (by address and port) jumps all over it for every flow.
func (a *analysis) deriveAll() *flowsDerived {
	fd := &flowsDerived{at: make([]flowDerived, len(a.flows))}
	for fi, fl := range a.flows {
		d := a.derive(fi, fl)
		d.hsFrom = int32(len(fd.hs))
		fd.hs = a.handshake(fl, fd.hs)
		d.hsTo = int32(len(fd.hs))
		fd.at[a.rank[fi]] = d
	}
	return fd
}

// setDerived sets what flow fi's journeys give of f: from the flows derived ahead (b.derived), else
// computed now.
func (b *flowOutBuf) setDerived(f *Flow, fi int, fl *flowAcc) {
	if fd := b.derived; fd != nil {
		d := &fd.at[b.a.rank[fi]]
		d.set(f, fl.client.proto)
		f.HandshakeRTT = []PointRTT{}
		if d.hsTo > d.hsFrom {
			f.HandshakeRTT = fd.hs[d.hsFrom:d.hsTo:d.hsTo]
		}
		return
	}
	d := b.a.derive(fi, fl)
	d.set(f, fl.client.proto)
	f.HandshakeRTT = b.handshake(fl)
}
