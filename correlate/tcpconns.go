package correlate

import (
	"fmt"
	"strings"

	"github.com/calipath/calipath/decode"
)

// connections lists the connections of TCP flow fl, which carried more than one on its 5-tuple
// (Flow.Connections): the first begins with the flow's first journey, each other with a SYN tcpSyn
// marked in connJ; each holds the journeys, either way, up to the next's first.
func (a *analysis) connections(fl *flowAcc) []TCPConnection {
	out := make([]TCPConnection, 0, fl.conns+1)
	c2, s2 := a.dirJourneys(fl, c2s), a.dirJourneys(fl, s2c)
	for k := 0; len(c2) > 0 || len(s2) > 0; k++ {
		var j int32
		if len(s2) == 0 || len(c2) > 0 && c2[0] < s2[0] {
			j, c2 = c2[0], c2[1:]
		} else {
			j, s2 = s2[0], s2[1:]
		}
		a.w.trim(k)
		if k == 0 || a.connJ[j] {
			h := a.hops(int(j))
			o, _ := a.obs(a.w.pktHop(h))
			c := TCPConnection{Journey: int(j), Ts: a.ts(h[0])}
			if syn := o.TCPFlags&decode.TCPSyn != 0; syn || k > 0 {
				// a SYN's sender opened it, a SYN-ACK's receiver
				c.OpenedBy = [2]string{"src", "dst"}[a.jDir[j]^b2u8(syn && o.TCPFlags&decode.TCPAck != 0)]
			}
			out = append(out, c)
		}
		if a.retransJ[j] {
			out[len(out)-1].Retransmissions++
		}
	}
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
// how many, who opened them (src and dst are its ends as shown) and what its counts are; "" for any
// other flow.
func ConnectionsNote(f *Flow, src, dst string) string {
	if len(f.Connections) < 2 {
		return ""
	}
	var by [3]int // src, dst, not shown
	for _, c := range f.Connections {
		switch c.OpenedBy {
		case "src":
			by[0]++
		case "dst":
			by[1]++
		default:
			by[2]++
		}
	}
	var who []string
	for k, end := range []string{"by " + src, "by " + dst, "before the captures began"} {
		if by[k] > 0 {
			who = append(who, fmt.Sprintf("%d opened %s", by[k], end))
		}
	}
	return fmt.Sprintf("%d TCP connections on one 5-tuple (a port reused): %s; its counts are theirs together "+
		"(a later connection's SYN is not a retransmission), its handshake RTTs the first's", len(f.Connections),
		strings.Join(who, ", "))
}
