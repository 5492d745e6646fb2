package correlate

import "github.com/calipath/calipath/decode"

// A WireGuard transport message's counter tells more than its time: the messages of one direction of
// a session leave their sender in counter order, so a point that saw a later counter of the session
// was capturing after the message would have crossed it. A message that vanished before such a point
// was lost there, however close to the end of the captures.

// wgPointSess names one direction of a session at one underlay point.
type wgPointSess struct {
	point    int
	from, to int
	recv     uint32
}

// sawMsg notes a transport message of the session (from, to, receiver index) at underlay point p.
func (st *wgState) sawMsg(p, from, to int, recv uint32, counter uint64) {
	if st.topAt == nil {
		st.topAt = map[wgPointSess]uint64{}
	}
	k := wgPointSess{p, from, to, recv}
	if c, ok := st.topAt[k]; !ok || counter > c {
		st.topAt[k] = counter
	}
}

// wgRanPast reports whether the capture at point nx ran past the moment the transport message seen at
// g would have crossed it: nx saw a later counter of the message's session.
func (a *analysis) wgRanPast(g uint32, nx int) bool {
	if a.wg == nil || a.wg.topAt == nil {
		return false
	}
	w := a.w
	o, _ := a.obs(g)
	if w.wgType(o) != decode.WGTransport || o.Flags&decode.FlagFragment != 0 {
		return false
	}
	v6 := o.Flags&decode.FlagIPv6 != 0
	from, to := w.nodeOf(v6, o.Src), w.nodeOf(v6, o.Dst)
	if from < 0 || to < 0 {
		return false
	}
	ctx := w.ctxOf(o)
	top, ok := a.wg.topAt[wgPointSess{nx, from, to, ctx.WGReceiver}]
	return ok && top > ctx.WGCounter(o.Seq)
}
