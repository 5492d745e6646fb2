package correlate

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/calipath/calipath/decode"
)

// A capture whose snaplen cut frames before their inner ports (decode.CutBeforePorts: VXLAN over IPv6
// at -s 96, say) holds frames no fingerprint can match: a packet that vanished before such a point
// when a cut frame crossed it may be that frame, so it is not captured there, not lost ("capture-cut"
// says how many and asks for whole frames). Without this, a dual-stack pair's IPv6 packets lost at a
// router were an encap-drop on the sending node. A cut frame stands only for a packet it could be
// (cutFits): of its IP family and protocol, between its addresses (as the packet's flow was seen,
// NAT included), of its length, inside a tunnel between the packet's nodes.

// snapCuts is, per point, its frames cut before their inner ports (sorted by corrected time), and how
// many packets that vanished before it were counted as not captured for them.
type snapCuts struct {
	at       [][]cutFrame
	used     [][]bool // per point, per frame of at: it already accounts for a vanished packet
	vanished []int
	snapLen  []int   // per point: the largest snaplen of its files that cut such frames
	bound    []int64 // per point: its node's clock bound (how far before a packet's sighting its frame may lie)
}

// cutFrame is a frame cut before its inner ports: its corrected time, its Observation (what was read
// before the cut), and the nodes of its outer addresses when it is a tunnel frame (IP-in-IP, VXLAN or
// WireGuard: -1 for an address of no known node; both -2 when it is none).
type cutFrame struct {
	t        int64
	o        decode.Observation
	from, to int
	outer    [2]netip.Addr // its outer addresses, when it is a tunnel frame
}

// cutLead is how long after a packet's last sighting a cut frame at the next point may be its own.
const cutLead = int64(10 * time.Millisecond)

// newSnapCuts finds the frames cut before their inner ports in the files whose decoding counted some
// (FileInfo.SnapBlind), their times corrected with their nodes' clocks.
func newSnapCuts(w *world, clocks []clockModel, jo *journeysOut) snapCuts {
	sc := snapCuts{}
	for f, fi := range w.c.Files {
		if fi.SnapBlind == 0 || f >= len(w.c.Obs) {
			continue
		}
		if sc.at == nil {
			n := len(w.c.Points)
			sc.at, sc.vanished, sc.snapLen, sc.bound = make([][]cutFrame, n), make([]int, n), make([]int, n), make([]int64, n)
			sc.used = make([][]bool, n)
			for p := range sc.bound {
				sc.bound[p] = max(clocks[w.pointNode[p]].bound, int64(time.Millisecond))
			}
		}
		for i := range w.c.Obs[f] {
			w.trimAt(i)
			if o := &w.c.Obs[f][i]; decode.CutBeforePorts(o) {
				p := w.srcPoint[o.Source]
				cf := cutFrame{t: jo.corrected(o, f, i), o: *o}
				cf.from, cf.to, cf.outer = w.cutOuter(o)
				sc.at[p] = append(sc.at[p], cf)
				sc.snapLen[p] = max(sc.snapLen[p], fi.SnapLen)
			}
		}
	}
	for p, cs := range sc.at {
		slices.SortStableFunc(cs, func(a, b cutFrame) int { return cmp.Compare(a.t, b.t) })
		if len(cs) > 0 {
			sc.used[p] = make([]bool, len(cs))
		}
	}
	return sc
}

// cutOuter returns the outer addresses of a cut tunnel frame and their nodes (-1 for an address of
// no known node), or -2, -2 when it is no tunnel frame: an IP-in-IP or VXLAN frame cut inside its
// inner headers (the outer ones are in its context), or a UDP datagram cut inside its VXLAN or
// WireGuard header (its addresses are the outer ones: a UDP datagram whose ports were read is cut
// before ports only there, decode.snapClass).
func (w *world) cutOuter(o *decode.Observation) (int, int, [2]netip.Addr) {
	var a [2]netip.Addr
	switch {
	case o.Encap() != decode.EncapNone:
		c := w.ctxOf(o)
		a = [2]netip.Addr{c.OuterSrcAddr(), c.OuterDstAddr()}
	case o.Len != 0 && o.Proto == 17 && o.Sport|o.Dport != 0:
		a = [2]netip.Addr{w.addrOf(o, o.Src), w.addrOf(o, o.Dst)}
	default:
		return -2, -2, a
	}
	return w.nodeOfOuter(a[0]), w.nodeOfOuter(a[1]), a
}

// addrOf returns address a (Src or Dst) of Observation o.
func (w *world) addrOf(o *decode.Observation, a uint32) netip.Addr {
	if o.Flags&decode.FlagIPv6 != 0 {
		return w.c.Tables.V6(a)
	}
	return addrOf(a)
}

// nodeOfOuter returns the node whose IP outer address a is, or -1. It interns nothing (the side
// findings read the Tables meanwhile).
func (w *world) nodeOfOuter(a netip.Addr) int {
	if a.Is4() {
		return w.nodeOfIPOnly(false, ip4(a))
	}
	for k, n := range w.nodeOfIP6 {
		if w.c.Tables.V6(k) == a {
			return n
		}
	}
	return -1
}

// cut reports whether a frame cut before its inner ports that fits the vanished packet (fits), not
// yet taken for another packet, crossed point p from a little before corrected time t (its node's
// clock bound, at least a millisecond) to cutLead after it; if so the frame is taken, and the packet
// last seen then counts as vanished before p. One cut frame stands for one packet at most: a single
// cut frame of another flow made every loss within its window "not captured" (review10 #2: one cut
// UDP frame at each router interface of underlay-loss took 3 of its 9 losses). fits nil: any frame.
func (sc *snapCuts) cut(p int, t int64, fits func(*cutFrame) bool) bool {
	if sc.at == nil || len(sc.at[p]) == 0 {
		return false
	}
	cs := sc.at[p]
	i, _ := slices.BinarySearchFunc(cs, t-sc.bound[p], func(c cutFrame, t int64) int { return cmp.Compare(c.t, t) })
	for ; i < len(cs) && cs[i].t <= t+cutLead; i++ {
		if !sc.used[p][i] && (fits == nil || fits(&cs[i])) {
			sc.used[p][i] = true
			sc.vanished[p]++
			return true
		}
	}
	return false
}

// cutFits reports whether cut frame c may be packet o (its last sighting), of a flow direction whose
// sightings showed what seen holds, on path pi. What the cut left of c must agree with o: the inner IP
// family, protocol, addresses (as the flow direction showed them: after its NAT too) and length when
// its inner IP header was read (the length not for GSO super-frames or fragments, whose size changes
// on the way). A tunnel frame (IP-in-IP, VXLAN, or a UDP datagram cut inside its VXLAN or WireGuard
// header) must be of the packet's tunnel: between the outer addresses its encapsulated sightings
// showed, of their kind, or else between its path's nodes where their addresses are known; IP-in-IP
// carries IPv4 only; and a UDP datagram cut inside its tunnel header must be of the size that carries
// o (VXLAN: o in an Ethernet frame; WireGuard: a transport message, o padded to 16 bytes: a handshake
// or a keepalive is of no packet's size). The frame may also be the datagram o itself (a VXLAN or
// WireGuard message that vanished). A frame cut inside its outermost IP header shows nothing: it fits
// any packet.
func cutFits(c *cutFrame, o *decode.Observation, seen *cutSeen, pi *pathInfo) bool {
	co := &c.o
	const fam = decode.FlagIPv6
	if co.Len == o.Len && co.Proto == o.Proto && co.Src == o.Src && co.Dst == o.Dst && co.Sport == o.Sport &&
		co.Dport == o.Dport && co.Flags&fam == o.Flags&fam && co.Encap() == o.Encap() {
		return true // the same datagram as far as it was read
	}
	if c.from != -2 {
		udp := co.Encap() == decode.EncapNone // a UDP datagram cut inside its VXLAN or WireGuard header
		if !seen.tunnelFits(c, udp, pi) {
			return false
		}
		if co.Encap() == decode.EncapIPIP && o.Flags&fam != 0 {
			return false
		}
		if udp {
			if sized(o) {
				return true
			}
			n, l := co.PayloadLen(), int(o.Len)
			vxlan := n == l+8+14 || n == l+8+18 // the inner Ethernet header, with a VLAN tag or not
			// WireGuard pads to 16 bytes, less only where that passes its device's MTU (1280 at least).
			wg := n == 32+(l+15)&^15 || l > 1200 && n >= 32+l && n < 32+(l+15)&^15
			return vxlan || wg
		}
	}
	if co.Len == 0 { // the inner IP header was not read
		return true
	}
	if co.Flags&fam != o.Flags&fam || co.Proto != o.Proto {
		return false
	}
	if !sized(o) && co.Flags&(decode.FlagFragment|decode.FlagGSO) == 0 && co.Len != o.Len {
		return false
	}
	return co.Src == o.Src && co.Dst == o.Dst || seen.pairs[[2]uint32{co.Src, co.Dst}]
}

// cutSeen is what a flow direction's sightings showed, for cutFits: its inner address pairs, and
// the outer address pairs and kinds (decode.Encap bits) of its encapsulated sightings.
type cutSeen struct {
	pairs map[[2]uint32]bool
	outer map[[2]netip.Addr]bool
	kinds uint8
}

// tunnelFits reports whether tunnel frame c (udp: a UDP datagram cut inside its tunnel header) may
// be of the tunnel of a flow direction that showed seen, on path pi.
func (seen *cutSeen) tunnelFits(c *cutFrame, udp bool, pi *pathInfo) bool {
	if len(seen.outer) == 0 { // never seen encapsulated (WireGuard, or a tunnel point not captured)
		return !(c.from >= 0 && pi.srcNode >= 0 && c.from != pi.srcNode || c.to >= 0 && pi.dstNode >= 0 && c.to != pi.dstNode)
	}
	if udp {
		return seen.kinds&(1<<decode.EncapVXLAN) != 0 && seen.outer[c.outer]
	}
	return seen.kinds&(1<<c.o.Encap()) != 0 && seen.outer[c.outer]
}

// sized reports whether o's length may differ from that of its packet's sightings elsewhere: a GSO
// super-frame (split on the way) or a fragment.
func sized(o *decode.Observation) bool {
	return o.Flags&(decode.FlagGSO|decode.FlagFragment) != 0
}

// detectCaptureCuts says, for each point before which packets vanished when frames it could not match
// crossed it, how many are therefore counted as not captured.
func detectCaptureCuts(f *findings, k *kindRow) []Anomaly {
	sc := &f.a.capDrop.cuts
	var out []Anomaly
	for p, v := range sc.vanished {
		if v == 0 {
			continue
		}
		detail := fmt.Sprintf("%d frame%s there %s cut to %d bytes; %d packet%s that vanished before it then: not captured.",
			len(sc.at[p]), plural(len(sc.at[p])), map[bool]string{true: "was", false: "were"}[len(sc.at[p]) == 1], sc.snapLen[p], v, plural(v))
		out = append(out, k.anomaly(k.severity, Where{Point: f.a.w.c.Points[p].ID}, nil, f.ids, v, nil, detail))
	}
	return out
}

// cutFit returns what tells whether a cut frame may be journey p, vanished past its last path point
// reached (cutFits), or nil when no capture has such frames. What its flow direction showed is
// gathered once per flow direction (cutSeenOf).
func (pl *placement) cutFit(p *placing) func(*cutFrame) bool {
	if pl.capDrop.cuts.at == nil {
		return nil
	}
	return func(c *cutFrame) bool {
		o, _ := pl.obs(p.h[p.reached[p.reach]])
		return cutFits(c, o, pl.cutSeenOf(p), p.pi)
	}
}

// pieceCutFit is cutFit for a piece of split frame j (o its sighting, on path pi) that no journey
// holds: a cut frame may be it when it may be the frame, but for its length, which is a piece's
// (no more than the frame's).
func (pl *placement) pieceCutFit(j int32, o *decode.Observation, pi *pathInfo) func(*cutFrame) bool {
	if pl.capDrop.cuts.at == nil {
		return nil
	}
	fi := pl.jFlow[j]
	seen := pl.cutSeenOf(&placing{j: int(j), fi: fi, fl: pl.flows[fi], pi: pi})
	return func(c *cutFrame) bool {
		po := *o
		if c.o.Len != 0 && c.o.Len <= o.Len {
			po.Len = c.o.Len
		}
		return cutFits(c, &po, seen, pi)
	}
}

// cutSeenOf returns what journey p's flow direction showed at any sighting of any of its journeys:
// after a NAT rewrite too, when one of them was seen past it.
func (pl *placement) cutSeenOf(p *placing) *cutSeen {
	d := pl.jDir[p.j]
	key := int64(p.fi)<<1 | int64(d)
	if s, ok := pl.cutSeen[key]; ok {
		return s
	}
	s := &cutSeen{pairs: map[[2]uint32]bool{}, outer: map[[2]netip.Addr]bool{}}
	for _, j := range pl.dirJourneys(p.fl, d) {
		for _, g := range pl.hops(int(j)) {
			o, _ := pl.obs(g)
			s.pairs[[2]uint32{o.Src, o.Dst}] = true
			if e := o.Encap(); e != decode.EncapNone {
				c := pl.w.ctxOf(o)
				s.outer[[2]netip.Addr{c.OuterSrcAddr(), c.OuterDstAddr()}] = true
				s.kinds |= 1 << e
			}
		}
	}
	if pl.cutSeen == nil {
		pl.cutSeen = map[int64]*cutSeen{}
	}
	pl.cutSeen[key] = s
	return s
}
