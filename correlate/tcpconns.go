package correlate

import (
	"fmt"
	"strings"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/units"
)

// connections lists the connections of TCP flow fl, which carried more than one on its 5-tuple
// (Flow.Connections): the first begins with the flow's first journey, each other with a SYN tcpSyn
// marked in connJ; each holds the journeys, either way, up to the next's first, and counts them as
// the flow counts its own (placeJourney: bytes but no packet for the pieces of a split or merge,
// nothing for an ICMP error about it; countFlow: lost where a segment follows the point it was last
// seen at, else not captured, as is a journey that left the captures or was not placed;
// retransmissions are tcpSyn's and tcpSegment's, retransJ).
func (a *analysis) connections(fl *flowAcc) []TCPConnection {
	out := make([]TCPConnection, 0, fl.conns+1)
	c2, s2 := a.dirJourneys(fl, c2s), a.dirJourneys(fl, s2c)
	var hs connHandshake
	for k := 0; len(c2) > 0 || len(s2) > 0; k++ {
		var j int32
		if len(s2) == 0 || len(c2) > 0 && c2[0] < s2[0] {
			j, c2 = c2[0], c2[1:]
		} else {
			j, s2 = s2[0], s2[1:]
		}
		a.w.trim(k)
		h := a.hops(int(j))
		o, _ := a.obs(a.w.pktHop(h))
		if k == 0 || a.connJ[j] {
			if k > 0 {
				out[len(out)-1].HandshakeRTT = hs.rtts()
			}
			c := TCPConnection{Journey: int(j), Ts: a.ts(h[0])}
			hs = connHandshake{}
			if syn := o.TCPFlags&decode.TCPSyn != 0; syn || k > 0 {
				// a SYN's sender opened it, a SYN-ACK's receiver
				hs.dir = a.jDir[j] ^ b2u8(syn && o.TCPFlags&decode.TCPAck != 0)
				c.OpenedBy, hs.opened = [2]string{"src", "dst"}[hs.dir], true
			}
			out = append(out, c)
		}
		c := &out[len(out)-1]
		if o.Flags&decode.FlagICMPError != 0 {
			continue // about the flow, not of it
		}
		c.Bytes += int64(o.Len)
		if a.mayOffload(j) && a.offloadNew[j] {
			continue // a piece of a split or a merge: its packet was counted when sent
		}
		c.Packets++
		switch a.jStatus[j] {
		case stLost:
			if a.jNext[j] < 0 { // no segment to count it on (a one-point path): countFlow's not captured
				c.NotCaptured++
			} else {
				c.Lost++
			}
		case stNotCaptured, stLeftCaptures, stUnplaced:
			c.NotCaptured++
		}
		if a.retransJ[j] {
			c.Retransmissions++
		}
		if o.Proto == 6 && o.Flags&decode.FlagFragment == 0 && o.TCPFlags&decode.TCPRst != 0 {
			c.Resets++
		}
		hs.step(a, a.jDir[j], o.TCPFlags, h)
	}
	out[len(out)-1].HandshakeRTT = hs.rtts()
	return out
}

// connHandshake measures one connection's handshake as handshake does the flow's first: its opener's
// SYN at each point that saw it, to the opener's first ACK there, once the other end's SYN-ACK was seen.
type connHandshake struct {
	dir          uint8 // the opener's direction
	opened       bool  // its opening is seen (dir is known)
	synAck, done bool  // the other end's SYN-ACK seen; the opener's ACK placed
	syn          []pointSyn
	rtt          []PointRTT
}

// step takes the connection's next journey: in direction d, its packet's flags, its hops h.
func (hs *connHandshake) step(a *analysis, d, flags uint8, h []uint32) {
	if !hs.opened || hs.done {
		return
	}
	synAck := flags&(decode.TCPSyn|decode.TCPAck) == decode.TCPSyn|decode.TCPAck
	isSyn := flags&(decode.TCPSyn|decode.TCPAck) == decode.TCPSyn
	isAck := flags&(decode.TCPSyn|decode.TCPAck|decode.TCPRst) == decode.TCPAck
	switch {
	case d != hs.dir:
		hs.synAck = hs.synAck || synAck
		return
	case isSyn:
		for _, g := range h {
			if k := hs.at(a.point(g)); k == len(hs.syn) {
				hs.syn = append(hs.syn, pointSyn{p: a.point(g), t: a.ts(g)})
			}
		}
	case isAck && hs.synAck && len(hs.syn) > 0:
		for _, g := range h {
			if k := hs.at(a.point(g)); k < len(hs.syn) && !hs.syn[k].done {
				hs.syn[k].done = true
				hs.rtt = append(hs.rtt, PointRTT{Point: a.w.c.Points[a.point(g)].ID, RTT: a.ts(g) - hs.syn[k].t})
			}
		}
		hs.done = true
	}
}

// at is the index in hs.syn of point p's SYN, len(hs.syn) for none.
func (hs *connHandshake) at(p int) int {
	k := 0
	for k < len(hs.syn) && hs.syn[k].p != p {
		k++
	}
	return k
}

// rtts are the connection's handshake RTTs, by point (never nil: JSON's empty list).
func (hs *connHandshake) rtts() []PointRTT {
	out := append([]PointRTT{}, hs.rtt...)
	sortRTTs(out, nil, false)
	return out
}

// b2u8 is 1 for true, 0 for false.
func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// ConnectionsNote says, for a flow whose 5-tuple carried several TCP connections (Flow.Connections),
// how many, who opened them (src and dst are its ends as shown), that the flow's counts are theirs
// together, and each one's own counts and handshake RTTs (their least and largest over the points
// that measured one); "" for any other flow.
func ConnectionsNote(f *Flow, src, dst string) string {
	if len(f.Connections) < 2 {
		return ""
	}
	var by [3]int // src, dst, not shown
	each := make([]string, len(f.Connections))
	for i, c := range f.Connections {
		who := "opened before the captures began"
		switch c.OpenedBy {
		case "src":
			by[0]++
			who = "by " + src
		case "dst":
			by[1]++
			who = "by " + dst
		default:
			by[2]++
		}
		hs := "handshake not captured"
		if len(c.HandshakeRTT) > 0 {
			lo, hi := c.HandshakeRTT[0].RTT, c.HandshakeRTT[0].RTT
			for _, r := range c.HandshakeRTT {
				lo, hi = min(lo, r.RTT), max(hi, r.RTT)
			}
			hs = "handshake RTT " + units.Dur(lo)
			if hi > lo {
				hs += " to " + units.Dur(hi)
			}
		}
		nc := ""
		if c.NotCaptured > 0 {
			nc = fmt.Sprintf(", not captured %d", c.NotCaptured)
		}
		each[i] = fmt.Sprintf("#%d %s: %d packets, lost %d%s, retransmitted %d, resets %d, %s", i+1, who,
			c.Packets, c.Lost, nc, c.Retransmissions, c.Resets, hs)
	}
	var who []string
	for k, end := range []string{"by " + src, "by " + dst, "before the captures began"} {
		if by[k] > 0 {
			who = append(who, fmt.Sprintf("%d opened %s", by[k], end))
		}
	}
	return fmt.Sprintf("%d TCP connections on one 5-tuple (a port reused): %s; the flow's counts and latencies "+
		"are theirs together (a later connection's SYN is not a retransmission), its handshake RTTs the first's. "+
		"Each: %s", len(f.Connections), strings.Join(who, ", "), strings.Join(each, "; "))
}

// OpenedBothWays reports whether both ends of flow f opened some of its TCP connections on its
// 5-tuple (Flow.Connections): then its OpenerUnknown says so, not that the captures began in its
// middle.
func OpenedBothWays(f *Flow) bool {
	src, dst := openedBy(f.Connections)
	return src > 0 && dst > 0
}

// openedBy counts the connections cs that the flow's src opened, and those its dst opened.
func openedBy(cs []TCPConnection) (src, dst int) {
	for _, c := range cs {
		switch c.OpenedBy {
		case "src":
			src++
		case "dst":
			dst++
		}
	}
	return src, dst
}

// connectionsOpener is Flow.OpenerUnknown for a flow whose connections (Flow.Connections) both ends
// opened: its Src and Dst are its first connection's, no client and server of the flow; through a NAT
// (nat), no one kind of NAT either. "" when one end opened them all.
func connectionsOpener(cs []TCPConnection, nat bool) string {
	src, dst := openedBy(cs)
	if src == 0 || dst == 0 {
		return ""
	}
	if nat {
		return fmt.Sprintf("both ends opened its TCP connections on this 5-tuple through its NAT (a port reused: %d by "+
			"its first connection's client, %d by its server), so it has no one client, nor its NAT one kind: a "+
			"rewrite of one end's packets is a SNAT or a DNAT in the connections that end opened, and undoes the "+
			"other end's in the others; its ends are listed as its first connection's (who opened each: its "+
			"connections)", src, dst)
	}
	return fmt.Sprintf("both ends opened its TCP connections on this 5-tuple (a port reused: %d by its first "+
		"connection's client, %d by its server), so it has no one client: its ends are listed as its "+
		"first connection's (who opened each: its connections)", src, dst)
}
