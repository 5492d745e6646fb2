package decode

import (
	"fmt"
	"slices"
	"strings"
)

// A router captured with tcpdump -i any in Linux cooked v1 (LINUX_SLL: tcpdump before 4.99, or -y
// LINUX_SLL) records no interface: each packet it forwarded is in the file twice, coming in and going
// out. Each frame still carries its packet type (4: outgoing) and one link address, the sender's: an
// outgoing frame's is the router's own interface's MAC, an incoming frame's the neighbour's that sent
// it. learnSLL reads the file once before it is scanned; when it shows a host that forwards packets
// (in from one MAC, out through another of its own within routedWin, the TTL one lower) and no sign
// of a Calico node (no pod learnt, no ee:ee:ee:ee:ee:ee, no 169.254.1.1, no tunnel device's frame),
// the neighbours are placed behind the router's interfaces by ARP (a reply to the interface's MAC, a
// request for its address), by the routes the forwarded packets show (a neighbour sending from
// addresses the router sends out through one interface is behind that one), or, on a router of two
// interfaces, by the packets it forwarded (in from a neighbour, out through the other interface). When
// every neighbour that sent forwarded packets is placed, and none is behind the interface its packets
// left through, the scan files each frame under its interface (IfAnyIface - k, k as in macs). If not
// (or when only one of its interfaces sent a frame), the frames' packet types still tell the router's
// way in from its way out: the file is split into two sides, "in" (every frame it took in, IfAnyIface)
// and "out" (every frame it sent, IfAnyIface-1), so that a forwarded packet's two sightings are two
// points and one it took in and never sent is lost inside it; through which interfaces is not known,
// and the file's problem (sidesProblem) says so and why.

// IfAnyIface is the pseudo interface index of a router's first interface split out of a cooked v1
// capture by link address (sllRouter); its k-th is IfAnyIface-k, for k below sllIfaceMax.
const IfAnyIface int32 = -16

// sllIfaceMax bounds the interfaces a cooked v1 router capture is split into.
const sllIfaceMax = 256

// sllRouter is how a router's cooked v1 capture is split into its interfaces.
type sllRouter struct {
	macs  [][6]byte          // the router's interface MACs, in the order of their first outgoing frame
	iface map[[6]byte]int32  // an interface MAC → its pseudo index
	nbr   map[[6]byte]int32  // a neighbour's MAC → the pseudo index of the interface it is behind
	why   map[[6]byte]string // a neighbour → how it was placed
	// sides says that the neighbours could not be placed: the frames are split by direction only.
	sides bool
}

// Pseudo interfaces of the two sides of a router's cooked v1 capture split by direction (sllRouter.sides).
const (
	sllSideIn  = IfAnyIface
	sllSideOut = IfAnyIface - 1
)

// index is a cooked v1 frame's pseudo interface: its interface's, or IfAnyUnderlay for a frame of a
// neighbour not placed (it sent no forwarded packet) or without a MAC.
func (r *sllRouter) index(p *Packet) int32 {
	if r.sides {
		if p.PktType == 4 {
			return sllSideOut
		}
		return sllSideIn
	}
	if p.SLLAlen != 6 {
		return IfAnyUnderlay
	}
	m := r.nbr
	if p.PktType == 4 {
		m = r.iface
	}
	if i, ok := m[[6]byte(p.SLLAddr[:6])]; ok {
		return i
	}
	return IfAnyUnderlay
}

// sllIndex is sllStage for a router's capture split by sllRouter.
func sllIndex(p *Packet, l *sllLocal) int32 {
	if l != nil && l.router != nil {
		return l.router.index(p)
	}
	return sllStage(p, l)
}

// fwdKey identifies one packet among those a router forwards (its routed header's fields but TTL).
type fwdKey struct {
	v, proto   uint8
	src, dst   [16]byte
	id, lbl    uint32
	total      uint16
	sport, dpt uint16
}

// fwdIn is a packet's incoming sighting not yet matched with its outgoing one.
type fwdIn struct {
	ts  int64
	ttl uint8
	mac [6]byte
}

// routerLearn gathers, over a cooked v1 file's frames, what sllRouter needs.
type routerLearn struct {
	calico   string // the first sign of a Calico node ("" when none)
	out      map[[6]byte]int
	outOrder [][6]byte
	ipOf     map[[4]byte][6]byte          // an interface's IPv4 address → its MAC (its outgoing ARP)
	arp      map[[6]byte]map[[6]byte]bool // a neighbour → the interface MACs ARP puts it behind
	reqs     map[[6]byte]map[[4]byte]bool // a neighbour → the addresses it asked for
	pend     map[fwdKey]fwdIn             // incoming sightings awaiting their way out
	pairs    int                          // packets seen in and out one router apart
	fwd      map[[6]byte]map[[6]byte]int  // a neighbour → interface MAC → its packets forwarded out there
	via      map[ipKey][6]byte            // a forwarded packet's destination → the interface MAC it left by
	srcs     map[[6]byte]map[ipKey]bool   // a neighbour → the source addresses of its frames
	viaBad   map[ipKey]bool               // destinations sent out through several interfaces
	hairpin  int                          // packets forwarded back to the MAC they came from
	nbrOrder [][6]byte                    // neighbours in the order first seen
	nbrSeen  map[[6]byte]bool
}

func newRouterLearn() *routerLearn {
	return &routerLearn{out: map[[6]byte]int{}, ipOf: map[[4]byte][6]byte{}, arp: map[[6]byte]map[[6]byte]bool{},
		reqs: map[[6]byte]map[[4]byte]bool{}, pend: map[fwdKey]fwdIn{}, fwd: map[[6]byte]map[[6]byte]int{},
		via: map[ipKey][6]byte{}, srcs: map[[6]byte]map[ipKey]bool{}, viaBad: map[ipKey]bool{},
		nbrSeen: map[[6]byte]bool{}}
}

// sllRouterMax bounds what routerLearn keeps (pending sightings, addresses per neighbour).
const sllRouterMax = 1 << 16

// learn notes what one cooked v1 frame (at time ts) shows of a router.
func (rl *routerLearn) learn(p *Packet, ts int64) {
	if !p.HasSLL {
		return
	}
	var mac [6]byte
	if p.SLLAlen == 6 {
		mac = [6]byte(p.SLLAddr[:6])
	}
	switch {
	case rl.calico != "":
		return
	case mac == CalicoMAC:
		rl.calico = "frames from ee:ee:ee:ee:ee:ee (a pod veth's host end)"
		return
	case p.SLLAlen != 6 && !p.HasARP:
		rl.calico = "frames without a link address (a tunnel device)"
		return
	case p.HasARP && (p.ARP.TPA == CalicoGateway || p.ARP.SHA == CalicoMAC || p.ARP.THA == CalicoMAC):
		rl.calico = "ARP for 169.254.1.1 (a pod's gateway)"
		return
	}
	out := p.PktType == 4
	if out && p.SLLAlen == 6 {
		if _, ok := rl.out[mac]; !ok && len(rl.out) < sllIfaceMax {
			rl.out[mac] = len(rl.outOrder)
			rl.outOrder = append(rl.outOrder, mac)
		}
	}
	if p.HasARP {
		rl.learnARP(p, mac, out)
		return
	}
	h := &p.Inner
	if p.Encap != EncapNone {
		h = &p.Outer
	}
	if h.Version == 0 || p.SLLAlen != 6 {
		return
	}
	k := fwdKey{v: h.Version, proto: h.Proto, src: h.Src, dst: h.Dst, id: h.ID, lbl: h.FlowLbl, total: h.TotalLen}
	if p.Encap == EncapNone {
		k.sport, k.dpt = p.Sport, p.Dport
	}
	if !out {
		rl.neighbour(mac)
		if s := rl.srcs[mac]; len(s) < sllRouterMax {
			if s == nil {
				s = map[ipKey]bool{}
				rl.srcs[mac] = s
			}
			s[keyOf(h.Version, h.Src)] = true
		}
		if len(rl.pend) >= sllRouterMax {
			clear(rl.pend)
		}
		rl.pend[k] = fwdIn{ts: ts, ttl: h.TTL, mac: mac}
		return
	}
	in, ok := rl.pend[k]
	if !ok || ts-in.ts > routedWin || ts < in.ts || in.ttl != h.TTL+1 {
		return
	}
	delete(rl.pend, k)
	rl.forwarded(in.mac, mac, keyOf(h.Version, h.Dst))
}

// neighbour notes a neighbour's MAC.
func (rl *routerLearn) neighbour(mac [6]byte) {
	if !rl.nbrSeen[mac] && len(rl.nbrOrder) < sllRouterMax {
		rl.nbrSeen[mac] = true
		rl.nbrOrder = append(rl.nbrOrder, mac)
	}
}

// forwarded notes a packet that came in from neighbour in and left through interface out to dst.
func (rl *routerLearn) forwarded(in, out [6]byte, dst ipKey) {
	rl.pairs++
	if in == out {
		rl.hairpin++
		return
	}
	m := rl.fwd[in]
	if m == nil {
		m = map[[6]byte]int{}
		rl.fwd[in] = m
	}
	m[out]++
	if v, ok := rl.via[dst]; ok && v != out {
		rl.viaBad[dst] = true
	} else if !ok && len(rl.via) < sllRouterMax {
		rl.via[dst] = out
	}
}

// learnARP notes what an ARP frame through link address mac (outgoing or not) shows: an interface's
// address, and which interface a neighbour is behind.
func (rl *routerLearn) learnARP(p *Packet, mac [6]byte, out bool) {
	a := &p.ARP
	if out {
		if a.SHA == mac && a.SPA != ([4]byte{}) {
			rl.ipOf[a.SPA] = mac
		}
		if a.Op == 2 && a.THA != ([6]byte{}) && a.THA != mac {
			rl.behind(a.THA, mac) // our reply to a neighbour's request
		}
		return
	}
	if p.SLLAlen != 6 {
		return
	}
	rl.neighbour(mac)
	switch a.Op {
	case 2:
		if a.THA != ([6]byte{}) {
			rl.behind(mac, a.THA) // a reply to an interface's request (place keeps the router's MACs)
		}
	case 1:
		r := rl.reqs[mac]
		if r == nil {
			r = map[[4]byte]bool{}
			rl.reqs[mac] = r
		}
		if len(r) < 64 {
			r[a.TPA] = true
		}
	}
}

// behind notes that ARP puts neighbour n behind the interface of MAC iface.
func (rl *routerLearn) behind(n, iface [6]byte) {
	m := rl.arp[n]
	if m == nil {
		m = map[[6]byte]bool{}
		rl.arp[n] = m
	}
	if len(m) < 8 {
		m[iface] = true
	}
}

// fmtMACs formats a MAC address list for a problem.
func fmtMACs(ms [][6]byte) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = fmtMAC(m)
	}
	return strings.Join(s, ", ")
}

// place returns the interface MAC neighbour n is behind and how that is known; ok is false when
// nothing places it, or when what does disagrees.
func (rl *routerLearn) place(n [6]byte) (iface [6]byte, why string, ok bool) {
	var cands [][6]byte
	for m := range rl.arp[n] {
		if _, ours := rl.out[m]; ours {
			cands = append(cands, m)
		}
	}
	for tpa := range rl.reqs[n] {
		if m, ours := rl.ipOf[tpa]; ours {
			cands = append(cands, m)
		}
	}
	if one, ok := only(cands); ok {
		return one, "ARP", true
	} else if len(cands) > 0 {
		return iface, "", false
	}
	for s := range rl.srcs[n] {
		if v, ok := rl.via[s]; ok && !rl.viaBad[s] {
			cands = append(cands, v)
		}
	}
	if one, ok := only(cands); ok {
		return one, "the routes: it sends from addresses the router sends out there", true
	} else if len(cands) > 0 {
		return iface, "", false
	}
	if len(rl.outOrder) == 2 && len(rl.fwd[n]) == 1 {
		for m := range rl.fwd[n] {
			other := rl.outOrder[0]
			if other == m {
				other = rl.outOrder[1]
			}
			return other, "the packets it sent: forwarded out through the router's other interface", true
		}
	}
	return iface, "", false
}

// only returns the one MAC of ms (all equal), ok false when ms is empty or holds several.
func only(ms [][6]byte) ([6]byte, bool) {
	if len(ms) == 0 {
		return [6]byte{}, false
	}
	for _, m := range ms[1:] {
		if m != ms[0] {
			return [6]byte{}, false
		}
	}
	return ms[0], true
}

// finish decides: a router split into its interfaces (r), or none; why says, for a router's capture
// that cannot be split, what stops it ("" when the file does not look like a router's).
func (rl *routerLearn) finish() (r *sllRouter, why string) {
	if rl.calico != "" || rl.pairs < minMergedDup {
		return nil, ""
	}
	if rl.hairpin*4 > rl.pairs {
		return nil, fmt.Sprintf("%d of its %d forwarded packets left through the MAC they came in from", rl.hairpin, rl.pairs)
	}
	if len(rl.outOrder) < 2 {
		return &sllRouter{sides: true, macs: rl.outOrder}, fmt.Sprintf("it sent frames through one interface "+
			"only (%s), so the neighbours that sent the %d packets it forwarded cannot be placed behind another",
			fmtMACs(rl.outOrder), rl.pairs)
	}
	r = &sllRouter{macs: rl.outOrder, iface: map[[6]byte]int32{}, nbr: map[[6]byte]int32{}, why: map[[6]byte]string{}}
	for k, m := range rl.outOrder {
		r.iface[m] = IfAnyIface - int32(k)
	}
	var unplaced [][6]byte
	for _, n := range rl.nbrOrder {
		if _, ours := rl.out[n]; ours {
			continue
		}
		iface, how, ok := rl.place(n)
		if !ok || rl.fwd[n][iface] > 0 {
			if len(rl.fwd[n]) > 0 {
				unplaced = append(unplaced, n)
			}
			continue
		}
		r.nbr[n], r.why[n] = r.iface[iface], how
	}
	if len(unplaced) > 0 {
		return &sllRouter{sides: true, macs: rl.outOrder}, fmt.Sprintf("the neighbours %s sent packets it forwarded, but neither ARP nor the routes "+
			"its packets show place them behind one of its interfaces (%s)", fmtMACs(unplaced), fmtMACs(rl.outOrder))
	}
	return r, ""
}

// ifaces lists r's interfaces for FileInfo.CookedIfaces (nil for a nil r).
func (r *sllRouter) ifaces() []CookedIface {
	if r == nil {
		return nil
	}
	if r.sides {
		return []CookedIface{{Side: "in"}, {Side: "out"}}
	}
	out := make([]CookedIface, len(r.macs))
	for k, m := range r.macs {
		out[k].MAC = m
	}
	for n, i := range r.nbr {
		k := int(IfAnyIface - i)
		out[k].Neighbours = append(out[k].Neighbours, fmtMAC(n)+" ("+r.why[n]+")")
	}
	for k := range out {
		slices.Sort(out[k].Neighbours)
	}
	return out
}

// cookedIface names an interface of a router's cooked v1 capture split by link address: by its MAC in
// the router's link dump (links, from where), or "any:" and its MAC. It adds to reason how the frames
// were told apart.
func cookedIface(reason *string, c CookedIface, links map[[6]byte]string, from string) (string, Role) {
	if c.Side != "" {
		what := map[string]string{"in": "took in", "out": "sent"}[c.Side]
		*reason += "; -i any without interface indexes (LINUX_SLL) of a router whose neighbours could not be placed " +
			"behind its interfaces, split by packet type: every frame it " + what + ", through any of its interfaces " +
			"(which one is not known)"
		return "any:" + c.Side, RoleUnderlay
	}
	name := "any:" + fmtMAC(c.MAC)
	*reason += "; -i any without interface indexes (LINUX_SLL) of a router, split by link address: the frames it sent " +
		"from " + fmtMAC(c.MAC)
	if len(c.Neighbours) > 0 {
		*reason += " and those it took in from the neighbours behind it, " + strings.Join(c.Neighbours, ", ")
	}
	if n, ok := links[c.MAC]; ok {
		if from == "" {
			from = "--links"
		}
		name = n
		*reason += fmt.Sprintf("; %s is %s (%s)", fmtMAC(c.MAC), n, from)
	}
	return name, RoleUnderlay
}

// sidesProblem is the problem of a router's cooked v1 capture split by direction only (why: what kept
// its neighbours from being placed).
func sidesProblem(fi *FileInfo, why string) {
	fi.problem("a Linux cooked v1 capture (tcpdump -i any before 4.99, or -y LINUX_SLL) of a router, which records "+
		"no interface; it could not be split into its interfaces by link address, as calipath does when each "+
		"frame's sender shows it: %s. calipath splits it by packet type into the router's way in (any:in, every "+
		"frame it took in) and its way out (any:out, every frame it sent): a packet lost inside the router is "+
		"seen as such, but through which of its interfaces packets came in and left is not known. Capture the "+
		"router with tcpdump 4.99 or later (cooked v2, LINUX_SLL2, which records each frame's interface), or each "+
		"of its interfaces to its own file (<router>-<iface>.pcap)", why)
}

// cookedUnsplit says, for a router's cooked v1 capture routedJudge flags, why it was not split by
// link address ("" when the pre-read saw nothing to split).
func cookedUnsplit(fi *FileInfo) string {
	if fi.cookedWhy == "" {
		return ""
	}
	return "; it could not be split into its interfaces by link address, as calipath does when each frame's " +
		"sender shows it: " + fi.cookedWhy
}
