package correlate

import (
	"cmp"
	"slices"
	"time"

	"github.com/calipath/calipath/decode"
)

// Packets that may be WireGuard messages no packet was tied to.
//
// joinWireGuard ties a packet on its sender's WireGuard device to the message that carried it on the
// sender's own underlay. When that underlay was not captured, nothing ties them: the packet's journey
// ends at the device, and its message, seen further on (a router's interface, the receiver's eth0),
// keeps a journey of its own (a carrier flow, wgcarrier.go). The packet then looks lost between the
// device and the next point, and the same loss, where the message died further on, is counted twice
// at two places. So a packet last seen leaving its sender's device toward a point on another node is
// not counted lost there when a message from its node that nothing was tied to, of the size that
// carries it (the packet padded to 16 bytes), was seen at that point or past it, from a little before
// the packet's last sighting (the point's node's clock bound, at least a millisecond) to --window
// after it: it may be that message, so it is not captured there (as for a cut frame, snapcuts.go),
// and its loss, if any, is the message's own. Each such message stands for one packet at most.

// wgStand is, per point, the WireGuard transport messages first seen there that no packet was tied
// to (sorted by corrected time), which of them already stand for a packet, and, per sending node, how
// many packets were counted as not captured for them.
type wgStand struct {
	at    [][]wgLooseMsg
	used  [][]bool
	bound []int64 // per point: its node's clock bound, at least a millisecond
	stood map[int]int
}

// wgLooseMsg is one message no packet was tied to: its first sighting's corrected time, the node that
// sent it, and the padded length of the packet it carried.
type wgLooseMsg struct {
	t      int64
	from   int
	padded int
}

// newWGStand lists the messages no packet was tied to, by the point of their first sighting; nil
// without WireGuard or without such messages from a known node.
func (a *analysis) newWGStand() *wgStand {
	if a.wg == nil {
		return nil
	}
	w := a.w
	var ws *wgStand
	for j := 0; j < a.nJ; j++ {
		h := a.hops(j)
		if len(h) == 0 {
			continue
		}
		o, _ := a.obs(w.pktHop(h))
		if w.wgType(o) != decode.WGTransport || o.Flags&decode.FlagFragment != 0 || o.PayloadLen() <= 32 {
			continue // a packet seen in clear (tied, or no message), a keepalive, a fragment
		}
		from := w.nodeOf(o.Flags&decode.FlagIPv6 != 0, o.Src)
		if from < 0 {
			continue
		}
		if ws == nil {
			n := len(w.c.Points)
			ws = &wgStand{at: make([][]wgLooseMsg, n), used: make([][]bool, n), bound: make([]int64, n), stood: map[int]int{}}
			for p := range ws.bound {
				ws.bound[p] = max(a.clocks[w.pointNode[p]].bound, int64(time.Millisecond))
			}
		}
		p := a.point(h[0])
		ws.at[p] = append(ws.at[p], wgLooseMsg{t: a.ts(h[0]), from: from, padded: o.PayloadLen() - 32})
	}
	if ws == nil {
		return nil
	}
	for p, ms := range ws.at {
		slices.SortStableFunc(ms, func(x, y wgLooseMsg) int { return cmp.Compare(x.t, y.t) })
		ws.used[p] = make([]bool, len(ms))
	}
	return ws
}

// wgStands reports whether journey p, last seen leaving its sender's WireGuard device toward a point
// on another node, may be a message no packet was tied to, seen at that point or past it on its path
// (see above); if so the message is taken and counted.
func (pl *placement) wgStands(p *placing) bool {
	ws := pl.capDrop.wgLoose
	pi := p.pi
	if ws == nil {
		return false
	}
	dev := pi.points[p.reach]
	n := pl.w.pointNode[dev]
	if !pl.w.wgDevice(dev) || n != pi.srcNode || pl.w.pointNode[pi.points[p.reach+1]] == n {
		return false
	}
	o, _ := pl.obs(p.h[p.reached[p.reach]])
	if pl.w.wgType(o) != 0 {
		return false
	}
	x := wgInner{padded: (int(o.Len) + 15) &^ 15, payload: o.PayloadLen(), hdr: int(o.HdrLen), gso: o.Flags&decode.FlagGSO != 0}
	t, win := p.when[p.reach], int64(pl.opts.Window)
	for _, q := range pi.points[p.reach+1:] {
		if ws.take(q, n, t, win, &x) {
			ws.stood[n]++
			return true
		}
	}
	return false
}

// take finds at point q, from a little before corrected time t to win after it, the unused message
// from node n that may carry packet x: of its padded length; for a segmentation-offload super-packet,
// the run of smaller messages that carries its bytes (as alignWG takes them). It marks what it takes.
func (ws *wgStand) take(q, n int, t, win int64, x *wgInner) bool {
	ms := ws.at[q]
	i, _ := slices.BinarySearchFunc(ms, t-ws.bound[q], func(m wgLooseMsg, t int64) int { return cmp.Compare(m.t, t) })
	var run []int
	got := 0
	for ; i < len(ms) && ms[i].t <= t+win; i++ {
		if ws.used[q][i] || ms[i].from != n {
			continue
		}
		switch {
		case !x.gso && ms[i].padded == x.padded:
			ws.used[q][i] = true
			return true
		case x.gso && ms[i].padded < x.padded:
			run = append(run, i)
			if got += ms[i].padded - x.hdr; got >= x.payload {
				for _, k := range run {
					ws.used[q][k] = true
				}
				return true
			}
		}
	}
	return false
}
