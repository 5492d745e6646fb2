package correlate

import (
	"fmt"
	"net/netip"

	"github.com/calipath/calipath/decode"
)

// tuple is a packet's addresses, ports and protocol as one Observation shows it.
type tuple struct {
	v6       bool
	proto    uint8
	src, dst uint32
	sp, dp   uint16
}

// flowKey is a direction-free tuple: the lower endpoint first.
type flowKey struct {
	v6     bool
	proto  uint8
	a, b   uint32
	ap, bp uint16
}

func (t tuple) key() flowKey {
	if t.src < t.dst || (t.src == t.dst && t.sp <= t.dp) {
		return flowKey{t.v6, t.proto, t.src, t.dst, t.sp, t.dp}
	}
	return flowKey{t.v6, t.proto, t.dst, t.src, t.dp, t.sp}
}

// hash mixes a tuple's fields (for a direct-mapped cache).
func (t tuple) hash() int {
	h := uint64(t.src)<<32 | uint64(t.dst)
	h ^= uint64(t.sp)<<48 | uint64(t.dp)<<32 | uint64(t.proto)<<8
	if t.v6 {
		h ^= 1
	}
	h *= 0x9e3779b97f4a7c15
	return int(h >> 40)
}

// flowCacheEntry remembers a tuple's flow.
type flowCacheEntry struct {
	t  tuple
	fi int32
	ok bool
}

func (t tuple) reverse() tuple { return tuple{t.v6, t.proto, t.dst, t.src, t.dp, t.sp} }

// tupleOf returns the flow tuple of a matchable Observation. ICMP echo uses the echo id as both ports;
// an ICMP error belongs to the flow it quotes, in the reverse direction (it travels back to the sender).
func (w *world) tupleOf(o *decode.Observation) tuple {
	t := tuple{v6: o.Flags&decode.FlagIPv6 != 0, proto: o.Proto, src: o.Src, dst: o.Dst, sp: o.Sport, dp: o.Dport}
	if o.Flags&decode.FlagLaterFragment != 0 {
		// No transport header: take the ports of the first fragment of the same datagram.
		if p, ok := w.fragPorts[fragKey{t.src, t.dst, t.proto, o.Seq}]; ok {
			t.sp, t.dp = p[0], p[1]
		}
		return t
	}
	if o.Proto == 1 || o.Proto == 58 {
		if o.Flags&decode.FlagICMPError != 0 {
			if q, ok := w.quotedTuple(o); ok {
				return q.reverse()
			}
			t.sp, t.dp = uint16(o.Sport)<<8|o.Dport, 0
			return t
		}
		id := uint16(o.Seq >> 16)
		t.sp, t.dp = id, id
	}
	return t
}

// quotedTuple returns the tuple of the packet an ICMP error quotes (the inner packet when the quote
// is an IP-in-IP outer header).
func (w *world) quotedTuple(o *decode.Observation) (tuple, bool) {
	e := w.c.Tables.ICMPErr(o.Seq)
	h := &e.Quoted
	if e.QuotedInner.Version != 0 {
		h = &e.QuotedInner
	}
	if h.Version != 4 && h.Version != 6 {
		return tuple{}, false
	}
	t := tuple{proto: h.Proto, sp: e.QSport, dp: e.QDport}
	if h.Version == 4 {
		t.src, t.dst = ip4(h.SrcAddr()), ip4(h.DstAddr())
	} else {
		t.v6 = true
		t.src, t.dst = w.c.Tables.InternV6(h.Src), w.c.Tables.InternV6(h.Dst)
	}
	if h.Proto == 1 || h.Proto == 58 { // quoted echo: id in QSport
		t.sp, t.dp = e.QSport, e.QSport
	}
	return t, true
}

// addrString renders an address of an Observation (IPv4, or an IPv6 table index).
func (w *world) addrString(v6 bool, a uint32) string {
	if v6 {
		return w.c.Tables.V6(a).String()
	}
	return addrOf(a).String()
}

func (w *world) endpoint(v6 bool, a uint32, p uint16) string {
	if v6 {
		return netip.AddrPortFrom(w.c.Tables.V6(a), p).String()
	}
	return netip.AddrPortFrom(addrOf(a), p).String()
}

func protoName(p uint8) string {
	switch p {
	case 1:
		return "icmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 58:
		return "icmpv6"
	case 132:
		return "sctp"
	}
	return fmt.Sprintf("ip-proto-%d", p)
}

// unionFind joins flow keys that NAT links.
type unionFind struct{ parent map[flowKey]flowKey }

func (u *unionFind) find(k flowKey) flowKey {
	if len(u.parent) == 0 { // no NAT: every key is its own root
		return k
	}
	p, ok := u.parent[k]
	if !ok || p == k {
		return k
	}
	r := u.find(p)
	u.parent[k] = r
	return r
}

func (u *unionFind) union(a, b flowKey) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	// Deterministic: the smaller key becomes the root.
	if keyLess(rb, ra) {
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
	if _, ok := u.parent[ra]; !ok {
		u.parent[ra] = ra
	}
}

func keyLess(x, y flowKey) bool {
	if x.v6 != y.v6 {
		return !x.v6
	}
	if x.proto != y.proto {
		return x.proto < y.proto
	}
	if x.a != y.a {
		return x.a < y.a
	}
	if x.ap != y.ap {
		return x.ap < y.ap
	}
	if x.b != y.b {
		return x.b < y.b
	}
	return x.bp < y.bp
}

// fragKey identifies the fragments of one datagram.
type fragKey struct {
	src, dst uint32
	proto    uint8
	id       uint32
}

// learnFragments records the ports of every first fragment, for the later ones.
func (w *world) learnFragments() {
	w.fragPorts = map[fragKey][2]uint16{}
	for _, obs := range w.c.Obs {
		for i := range obs {
			o := &obs[i]
			if o.Flags&(decode.FlagFragment|decode.FlagLaterFragment) == decode.FlagFragment {
				w.fragPorts[fragKey{o.Src, o.Dst, o.Proto, o.Seq}] = [2]uint16{o.Sport, o.Dport}
			}
		}
	}
}
