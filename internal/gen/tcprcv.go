package gen

import "encoding/binary"

// A TCP flow's receivers acknowledge only what reached them: the acknowledgement number a segment
// carries is the end of the bytes its sender received from its peer, in order and without a hole, by
// the moment it is sent (cumulative ACK). A segment lost on the way is a hole: the ACKs stay at its
// start until a resend of it arrives, and then cover what arrived after it in the meantime.
//
// Arrival is the true time of a segment's capture at the last point of its path (its receiver's
// cali); a segment counts as received by a packet sent at t when it arrived strictly before t. Every
// segment that arrives before t was launched before t, so the receiver knows it from the launch (its
// fate is drawn then) and no event order decides the number.

// rcvSeg is a segment of sequence space [seq, end) that reaches its receiver at arr.
type rcvSeg struct {
	arr      int64
	seq, end uint32
}

// tcpRcv is the receiving side of one direction of a TCP flow.
type tcpRcv struct {
	next    uint32   // the first byte not received yet, in order (the acknowledgement number)
	transit []rcvSeg // launched and delivered later (few: the segments in flight), in launch order
	held    []rcvSeg // arrived past a hole, sorted by seq (serial arithmetic)
}

// seqBefore reports a < b in serial arithmetic (sequence numbers wrap).
func seqBefore(a, b uint32) bool { return int32(a-b) < 0 }

// deliver notes a segment that reaches the receiver at arr.
func (r *tcpRcv) deliver(arr int64, seq, end uint32) {
	if seq != end {
		r.transit = append(r.transit, rcvSeg{arr: arr, seq: seq, end: end})
	}
}

// ackAt returns the acknowledgement number of a segment its receiver's peer sends at t: the end of the
// bytes in order that arrived before t.
func (r *tcpRcv) ackAt(t int64) uint32 {
	keep := r.transit[:0]
	for _, s := range r.transit {
		if s.arr >= t {
			keep = append(keep, s)
			continue
		}
		// Arrived: into held, in sequence order (mostly at the end: segments arrive in order).
		i := len(r.held)
		r.held = append(r.held, s)
		for ; i > 0 && seqBefore(s.seq, r.held[i-1].seq); i-- {
			r.held[i] = r.held[i-1]
		}
		r.held[i] = s
	}
	clear(r.transit[len(keep):])
	r.transit = keep
	n := 0
	for n < len(r.held) && !seqBefore(r.next, r.held[n].seq) { // it starts at or before next: no hole
		if seqBefore(r.next, r.held[n].end) {
			r.next = r.held[n].end
		}
		n++
	}
	if n > 0 {
		r.held = append(r.held[:0], r.held[n:]...)
	}
	return r.next
}

// tcpSeqLen is the sequence space a TCP segment takes: its payload, and one for SYN and for FIN.
func (pk *packet) tcpSeqLen() uint32 {
	n := uint32(pk.payLen)
	if pk.l4[13]&(tcpSYN) != 0 {
		n++
	}
	if pk.l4[13]&(tcpFIN) != 0 {
		n++
	}
	return n
}

// tcpLaunch, at pk's launch at t (a first sending or a resend), writes its acknowledgement number (what
// its sender received by t) and, when pk will reach its receiver, tells that receiver when.
func (g *generator) tcpLaunch(pk *packet, t int64) {
	fl := pk.fl
	if fl.rcv == nil {
		return
	}
	if pk.l4[13]&tcpACK != 0 {
		b := pk.l4[8:12]
		old := uint64(binary.BigEndian.Uint16(b)) + uint64(binary.BigEndian.Uint16(b[2:]))
		a := fl.rcv[1-pk.dir].ackAt(t)
		binary.BigEndian.PutUint32(b, a)
		pk.sum = pk.sum - old + uint64(a>>16) + uint64(a&0xffff)
	}
	if pk.seen == g.hops {
		fl.rcv[pk.dir].deliver(pk.t[g.hops-1], pk.seq, pk.seq+pk.tcpSeqLen())
	}
}
