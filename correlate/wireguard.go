package correlate

import (
	"fmt"
	"sort"
	"time"

	"github.com/calipath/calipath/decode"
)

// Following packets through Calico's WireGuard (wireguard.cali, wg-v6.cali), without any key.
//
// The matcher sees one packet as up to three journeys: the inner packet on the sender's pod veth and
// WireGuard device (and, matched exactly as today, on the receiver's device and pod veth), and the
// transport message that carried it on the underlay, matched exactly from the sender's eth0 to the
// receiver's by (receiver index, counter). joinWireGuard, run on the matcher's journeys before the
// arena is built, joins them into one journey per packet:
//
//   - on the sender, the inner packets leaving through its WireGuard device toward one peer and the
//     transport messages its eth0 sent to that peer are two sequences in the same order (WireGuard
//     gives a peer's packets their counters as it encrypts them, one by one). They are aligned once,
//     in order: an inner packet takes the next message sent after it whose padded length is its own
//     length rounded up to 16 (a segmentation-offload super-packet takes the run of messages that
//     carry its bytes); a message before the inner packet, or of another length, carried a packet the
//     device's capture did not see; an inner packet that no message follows in time never left.
//   - on the receiver, the messages its eth0 received from the peer and the inner packets its device
//     delivered are aligned the same way (decryption follows arrival);
//   - the message's journey then joins the inner packet's: the same journey on both nodes in the
//     common case, pinned from both ends.
//
// One assignment per node pair and direction, consistent in order: never a guess per packet.

// wgDevice reports whether point p is a WireGuard device (wireguard.cali, wg-v6.cali, or an -i any
// file's unnamed interface taken for one: wgAnyDevices).
func (w *world) wgDevice(p int) bool {
	if w.pointRole[p] != decode.RoleTunnel {
		return false
	}
	i := w.c.Points[p].Iface
	return i == "wireguard.cali" || i == "wg-v6.cali" || w.wgAnyDev != nil && w.wgAnyDev[p]
}

// wgType returns the WireGuard message type an Observation carries (0: none).
func (w *world) wgType(o *decode.Observation) uint8 {
	if o.Ctx == 0 || o.Flags&(decode.FlagLaterFragment|decode.FlagARP|decode.FlagICMPError) != 0 {
		return 0
	}
	return w.ctxOf(o).WGType
}

// wgLearnNodeIPs learns the address of each Calico node whose IP (of that family) no other evidence
// gave, from the WireGuard messages at its underlay points (IPv4 and IPv6 apart: wireguard.cali and
// wg-v6.cali): the address every one of them comes from or goes to; when two addresses share that
// (one peer), the one whose messages left with the higher TTL (hop limit), that is, before any router
// decremented it. Then wgOrphanIP. One pass over the frames gathers what both need: each node's
// addresses of WireGuard messages.
func (w *world) wgLearnNodeIPs() {
	some := false
	for i := range w.c.Points {
		some = some || w.c.Points[i].Traffic.WireGuard > 0
	}
	if !some {
		return // no WireGuard message anywhere: nothing to learn, and no pass over the frames
	}
	w.wgOn = true
	w.wgAnyDevices() // wgproxy.go
	ad := w.wgAddrs()
	for n, cs := range ad.per {
		if len(w.ipsOf[n]) > 0 {
			continue
		}
		ip, why := wgNodeIP(cs, ad.total[n])
		if why == "" {
			continue
		}
		if _, taken := w.nodeOfIP[ip]; taken {
			continue
		}
		w.nodeOfIP[ip] = n
		w.ipsOf[n] = append(w.ipsOf[n], ip)
		w.wgIPs = append(w.wgIPs, decode.NodeIP{Node: w.nodes[n], IP: addrOf(ip), Reason: why})
	}
	w.wgLearnNodeIPs6(ad)
	w.wgOrphanIP(ad)
	sort.SliceStable(w.wgIPs, func(x, y int) bool { return w.wgIPs[x].Node < w.wgIPs[y].Node })
}

// wgLearnNodeIPs6 is wgLearnNodeIPs for the IPv6 messages: nodes without an IPv6 address.
func (w *world) wgLearnNodeIPs6(ad wgAddrSets) {
	has6 := make([]bool, len(w.nodes))
	for _, n := range w.nodeOfIP6 {
		has6[n] = true
	}
	for n, cs := range ad.per6 {
		if has6[n] {
			continue
		}
		ip, why := wgNodeIP(cs, ad.total6[n])
		if why == "" {
			continue
		}
		if _, taken := w.nodeOfIP6[ip]; taken {
			continue
		}
		w.nodeOfIP6[ip] = n
		w.wgIPs = append(w.wgIPs, decode.NodeIP{Node: w.nodes[n], IP: w.c.Tables.V6(ip), Reason: why})
	}
}

// wgAddr is one address of the WireGuard messages at a node's underlay: how many messages came from
// or went to it, and the highest TTL of those that came from it (-1: none).
type wgAddr struct {
	n      int
	srcTTL int
}

// wgAddrSets are, per Calico node, the addresses of the WireGuard messages at its underlay points and
// how many messages there were: IPv4 (per, total) and IPv6 (per6, total6: addresses as Tables.V6
// indexes).
type wgAddrSets struct {
	per, per6     []map[uint32]*wgAddr
	total, total6 []int
}

// wgAddrs goes once over the frames and gathers the addresses of the WireGuard messages at each
// Calico node's underlay points.
func (w *world) wgAddrs() wgAddrSets {
	nn := len(w.nodes)
	ad := wgAddrSets{per: make([]map[uint32]*wgAddr, nn), per6: make([]map[uint32]*wgAddr, nn),
		total: make([]int, nn), total6: make([]int, nn)}
	for _, obs := range w.c.Obs {
		for i := range obs {
			w.trimAt(i)
			o := &obs[i]
			if w.wgType(o) == 0 {
				continue
			}
			p := w.srcPoint[o.Source]
			n := w.pointNode[p]
			if w.pointRole[p] != decode.RoleUnderlay || !w.cluster[n] {
				continue
			}
			per, total := ad.per, ad.total
			if o.Flags&decode.FlagIPv6 != 0 {
				per, total = ad.per6, ad.total6
			}
			if per[n] == nil {
				per[n] = map[uint32]*wgAddr{}
			}
			total[n]++
			for k, a := range [2]uint32{o.Src, o.Dst} {
				c := per[n][a]
				if c == nil {
					c = &wgAddr{srcTTL: -1}
					per[n][a] = c
				}
				c.n++
				if k == 0 {
					c.srcTTL = max(c.srcTTL, int(o.TTL))
				}
			}
		}
	}
	return ad
}

// wgNodeIP picks a node's address among those of its WireGuard messages (see wgLearnNodeIPs); why is
// empty when none can be told.
func wgNodeIP(cs map[uint32]*wgAddr, total int) (ip uint32, why string) {
	var all []uint32
	for a, c := range cs {
		if c.n == total {
			all = append(all, a)
		}
	}
	sort.Slice(all, func(x, y int) bool { return all[x] < all[y] })
	switch {
	case len(all) == 1:
		return all[0], "the address of every WireGuard message at its underlay"
	case len(all) == 2 && cs[all[0]].srcTTL != cs[all[1]].srcTTL:
		ip = all[0]
		if cs[all[1]].srcTTL > cs[all[0]].srcTTL {
			ip = all[1]
		}
		return ip, "the source of the WireGuard messages that left its underlay (their TTL not yet decremented by a router)"
	}
	return 0, ""
}

// wgOrphanIP gives the only Calico node without an address the only address WireGuard messages went
// to or came from that no node has (typically a peer no message reached: its captures show none), and
// notes each node's only WireGuard peer (wgPeer), over IPv4 or IPv6. ad holds each node's message
// addresses (wgAddrs).
func (w *world) wgOrphanIP(ad wgAddrSets) {
	orphans := map[uint32]bool{}
	talks := make([]map[int]bool, len(w.nodes))
	for n, cs := range ad.per {
		if cs == nil {
			continue
		}
		talks[n] = map[int]bool{}
		for a := range cs {
			if m, ok := w.nodeOfIP[a]; ok {
				talks[n][m] = true
			} else {
				orphans[a] = true
			}
		}
	}
	for n, cs := range ad.per6 {
		for a := range cs {
			if m, ok := w.nodeOfIP6[a]; ok {
				if talks[n] == nil {
					talks[n] = map[int]bool{}
				}
				talks[n][m] = true
			}
		}
	}
	var bare []int
	for n := range w.nodes {
		if w.cluster[n] && len(w.ipsOf[n]) == 0 {
			bare = append(bare, n)
		}
	}
	if len(orphans) == 1 && len(bare) == 1 {
		n := bare[0]
		var orphan uint32
		for a := range orphans {
			orphan = a
		}
		w.nodeOfIP[orphan] = n
		w.ipsOf[n] = append(w.ipsOf[n], orphan)
		w.wgIPs = append(w.wgIPs, decode.NodeIP{Node: w.nodes[n], IP: addrOf(orphan),
			Reason: "the only address of WireGuard messages that no node has, and the only Calico node without an address"})
		for m := range talks {
			if talks[m] != nil {
				talks[m][n] = true
			}
		}
	}
	w.wgPeer = make([]int, len(w.nodes))
	for n := range w.nodes {
		w.wgPeer[n] = -1
		if len(talks[n]) == 0 {
			continue
		}
		others := 0
		for m := range talks[n] {
			if m != n {
				others++
				w.wgPeer[n] = m
			}
		}
		if others != 1 {
			w.wgPeer[n] = -1
		}
	}
}

// wgMsg is one WireGuard message journey at one node's underlay.
type wgMsg struct {
	j       int32  // the message's journey
	g       uint32 // its first sighting at the node's underlay
	t       int64  // corrected time then
	counter uint64
	padded  int // the padded length of the inner packet (0: keepalive)
}

// wgInner is one inner packet sighting on a WireGuard device.
type wgInner struct {
	j       int32
	g       uint32
	t       int64
	padded  int  // its length rounded up to 16
	payload int  // transport payload bytes (segmentation offload)
	hdr     int  // IP and transport header bytes
	gso     bool // a super-packet the device passes whole: it leaves as several messages
}

// wgSession is one direction of a WireGuard session: the messages one node sent to another under one
// receiver index.
type wgSession struct {
	from, to int // nodes, or a peer known only by its address (wgghost.go)
	receiver uint32
	sent     []wgMsg // at the sender's underlay, in time order
	recvd    []wgMsg // at the receiver's underlay, in arrival order
}

// wgHandshake is one handshake message seen on the underlay.
type wgHandshake struct {
	typ          uint8
	sender, recv uint32 // indexes
	from, to     int    // nodes (-1 unknown)
	g            uint32 // its first sighting
	j            int32
	t            int64
}

// wgState is what joinWireGuard worked out, for the findings and the report.
type wgState struct {
	sessions   []*wgSession
	handshakes []wgHandshake
	// innerOf maps a message journey (before the join) to the inner journey it carried (-1: none known).
	pairs    int                    // messages joined to an inner packet
	msgs     int                    // transport messages (keepalives aside)
	innerOut map[int32]bool         // inner journeys that left their node's WireGuard device encrypted
	noMsg    []int32                // inner journeys that entered a WireGuard device and no message carried
	frags    []wgFrag               // messages seen in IP fragments (wgfrag.go)
	topAt    map[wgPointSess]uint64 // the highest counter of each session seen at each underlay point
	noSess   map[int32]bool         // noMsg journeys that entered the device while no session existed
	ghosts   []wgGhost              // peers known only by their address (wgghost.go)
	proxy    []bool                 // nodes whose pod veths stand in for their uncaptured device (wgproxy.go)
	loose    map[int]int            // such a node → its messages sent that no inner packet was tied to
}

// joinWireGuard joins each WireGuard transport message's journey to the journey of the inner packet it
// carried (see the top of this file). It runs on the matcher's journeys before the arena is built, and
// returns what it found; nil without a WireGuard device's capture.
func joinWireGuard(w *world, m *matcher, opts Options) *wgState {
	dev := false
	for p := range w.c.Points {
		dev = dev || w.wgDevice(p)
	}
	proxy := w.wgProxyNodes() // wgproxy.go
	if !dev && proxy == nil {
		return nil
	}
	devFrames := 0 // the inner packets' list takes at most the devices' frames: sized once
	for p := range w.c.Points {
		if w.wgDevice(p) || proxy != nil && proxy[w.pointNode[p]] && w.pointRole[p] == decode.RolePodVeth {
			devFrames += w.c.Points[p].Traffic.Frames
		}
	}
	wj := &wgJoin{w: w, m: m, st: &wgState{innerOut: map[int32]bool{}, proxy: proxy}, sess: map[wgSessKey]*wgSession{},
		seen: map[[2]int32]bool{}, msgG: map[int32]uint32{}, hsAt: map[int32]int{}, pending: make([]wgPendingInner, 0, devFrames)}
	wj.collect()                                         // the messages, handshakes and inner packets
	peers := wj.orderSessions()                          // the sessions in a stable order, each node's peers
	outTo, inFrom := wj.innerByPair(peers)               // the inner packets by node and peer
	sender, recvr, piece := wj.alignPairs(outTo, inFrom, // messages ↔ inner packets
		max(int64(opts.Window), wgMaxDelay))
	wj.noMessage(outTo)
	wj.noSession(outTo)
	wj.join(sender, recvr, piece)
	return wj.st
}

// wgSessKey names one direction of a session: sender and receiver nodes, receiver index.
type wgSessKey struct {
	from, to int
	recv     uint32
}

// wgPendingInner is an inner packet on node's device, headed out (or in) to (from) peer (-1 unknown).
type wgPendingInner struct {
	node int
	out  bool
	x    wgInner
	peer int
	veth bool // seen on a pod veth standing in for the device: not if the node's underlay saw it in clear (wgproxy.go)
}

// wgJoin is joinWireGuard's working state.
type wgJoin struct {
	w       *world
	m       *matcher
	st      *wgState
	sess    map[wgSessKey]*wgSession
	seen    map[[2]int32]bool // (journey, 0 sent / 1 received) already listed
	msgG    map[int32]uint32  // message journey → its first sighting at the sender's underlay
	hsAt    map[int32]int     // handshake journey → its place in st.handshakes
	pending []wgPendingInner
	ghostOf map[wgGhost]int // peer address → its id (wgghost.go)
	clear   map[int32]bool  // journeys seen in clear at a proxy node's underlay (wgproxy.go)
	wgFragWork
}

// collect goes once over every frame (WireGuard devices only: the caller checked there is one) and
// lists the transport messages by session, the handshakes and the inner packets on the devices.
func (wj *wgJoin) collect() {
	w, m := wj.w, wj.m
	for f, obs := range w.c.Obs {
		base := w.fileBase[f]
		for i := range obs {
			w.trimAt(i)
			g := base + uint32(i)
			j := m.journeyOf(g)
			if j < 0 || m.isDup(g) {
				continue
			}
			o := &obs[i]
			p := w.srcPoint[o.Source]
			n := w.pointNode[p]
			t := m.corrected(o, f, i)
			switch typ := w.wgType(o); {
			case typ == decode.WGTransport && w.pointRole[p] == decode.RoleUnderlay && o.Flags&decode.FlagFragment == 0:
				wj.transport(o, g, j, p, n, t)
			case w.pointRole[p] == decode.RoleUnderlay && o.Flags&decode.FlagFragment != 0 && o.Proto == 17:
				wj.fragment(o, typ, g, j, p, t) // wgfrag.go
			case typ != 0 && typ != decode.WGTransport && w.pointRole[p] == decode.RoleUnderlay:
				wj.handshake(o, typ, g, j, p, t)
			case typ == 0 && w.wgDevice(p):
				wj.inner(o, g, j, n, t)
			case typ == 0 && wj.st.proxy != nil && wj.st.proxy[n] && w.pointRole[p] == decode.RolePodVeth:
				wj.proxyInner(o, g, j, n, t) // wgproxy.go
			case typ == 0 && wj.st.proxy != nil && wj.st.proxy[n] && w.pointRole[p] == decode.RoleUnderlay:
				wj.proxyClear(j) // wgproxy.go
			}
		}
	}
	wj.proxySure()
	wj.fragments()
}

// transport notes a transport message seen at underlay point p (on node n) for its session's
// counters, and, at the sender's or receiver's underlay, lists it in its session, once per end.
func (wj *wgJoin) transport(o *decode.Observation, g uint32, j int32, p, n int, t int64) {
	w := wj.w
	v6 := o.Flags&decode.FlagIPv6 != 0
	from, to := w.nodeOf(v6, o.Src), w.nodeOf(v6, o.Dst)
	ctx := w.ctxOf(o)
	counter := ctx.WGCounter(o.Seq)
	if o.Flags&decode.FlagFragment != 0 {
		counter = w.fragCounter(o, w.frameOf(g))
	}
	if from >= 0 && to >= 0 {
		wj.st.sawMsg(p, from, to, ctx.WGReceiver, counter)
	}
	from, to = wj.peerEnds(v6, o, from, to)
	if from == -1 || to == -1 || from == to {
		return
	}
	if !w.cluster[n] || (n != from && n != to) {
		return
	}
	k := wgSessKey{from, to, ctx.WGReceiver}
	s := wj.sess[k]
	if s == nil {
		s = &wgSession{from: from, to: to, receiver: ctx.WGReceiver}
		wj.sess[k] = s
	}
	side := int32(0)
	if n == to {
		side = 1
	}
	if wj.seen[[2]int32{j, side}] {
		return
	}
	wj.seen[[2]int32{j, side}] = true
	msg := wgMsg{j: j, g: g, t: t, counter: counter, padded: max(0, o.PayloadLen()-32)}
	if o.Flags&decode.FlagFragment != 0 {
		msg.padded = wj.fragPadded(j, o, g)
	} else {
		wj.noteMsg(j, msg)
	}
	if side == 0 {
		wj.msgG[j] = g
		s.sent = append(s.sent, msg)
	} else {
		s.recvd = append(s.recvd, msg)
	}
}

// handshake lists a handshake message (initiation, response or cookie reply) seen at point p at
// corrected time t, once: as its earliest sighting (the earlier point on a tie), whatever the order
// of the files it was seen in.
func (wj *wgJoin) handshake(o *decode.Observation, typ uint8, g uint32, j int32, p int, t int64) {
	w := wj.w
	if i, ok := wj.hsAt[j]; ok {
		h := &wj.st.handshakes[i]
		if ho, _ := w.obsAt(h.g); t < h.t || t == h.t && p < w.srcPoint[ho.Source] {
			h.g, h.t = g, t
		}
		return
	}
	wj.hsAt[j] = len(wj.st.handshakes)
	ctx := w.ctxOf(o)
	v6 := o.Flags&decode.FlagIPv6 != 0
	from, to := wj.peerEnds(v6, o, w.nodeOf(v6, o.Src), w.nodeOf(v6, o.Dst))
	h := wgHandshake{typ: typ, recv: ctx.WGReceiver, from: from, to: to, g: g, j: j, t: t}
	if typ == decode.WGInitiation || typ == decode.WGResponse {
		h.sender = o.Seq
	}
	wj.st.handshakes = append(wj.st.handshakes, h)
}

// innerOf describes an IP packet seen in clear (on a WireGuard device, or a pod veth standing in for
// one) for the join, with the nodes its source's and destination's pods are on (-1: none known); ok
// false for what is not such a packet (ARP, not IP, an ICMP error).
func (wj *wgJoin) innerOf(o *decode.Observation, g uint32, j int32, t int64) (x wgInner, sn, dn int, ok bool) {
	w := wj.w
	if o.Flags&(decode.FlagARP|decode.FlagNotIP|decode.FlagICMPError) != 0 {
		return x, -1, -1, false
	}
	v6 := o.Flags&decode.FlagIPv6 != 0
	sn, dn = -1, -1
	if q, ok := w.ownerOf(v6, o.Src); ok {
		sn = w.pointNode[q]
	}
	if q, ok := w.ownerOf(v6, o.Dst); ok {
		dn = w.pointNode[q]
	}
	x = wgInner{j: j, g: g, t: t, padded: (int(o.Len) + 15) &^ 15, payload: o.PayloadLen(), hdr: int(o.HdrLen),
		gso: o.Flags&decode.FlagGSO != 0}
	return x, sn, dn, true
}

// inner lists an IP packet seen in clear on node n's WireGuard device, headed out or in by the nodes
// its addresses' pods are on.
func (wj *wgJoin) inner(o *decode.Observation, g uint32, j int32, n int, t int64) {
	x, sn, dn, ok := wj.innerOf(o, g, j, t)
	if !ok {
		return
	}
	switch {
	case dn == n:
		wj.pending = append(wj.pending, wgPendingInner{node: n, out: false, x: x, peer: sn})
	case sn == n:
		wj.pending = append(wj.pending, wgPendingInner{node: n, out: true, x: x, peer: dn})
	case sn >= 0:
		wj.pending = append(wj.pending, wgPendingInner{node: n, out: false, x: x, peer: sn})
	case dn >= 0:
		wj.pending = append(wj.pending, wgPendingInner{node: n, out: true, x: x, peer: dn})
	}
}

// orderSessions puts the sessions in a stable order, sorts their messages, and returns each node's
// peers (for inner packets whose peer no pod address names): those of its sessions and those its
// handshake initiations went to.
func (wj *wgJoin) orderSessions() []map[int]bool {
	st := wj.st
	for _, s := range wj.sess {
		st.sessions = append(st.sessions, s)
	}
	sort.Slice(st.sessions, func(x, y int) bool {
		p, q := st.sessions[x], st.sessions[y]
		if p.from != q.from {
			return p.from < q.from
		}
		if p.to != q.to {
			return p.to < q.to
		}
		return p.receiver < q.receiver
	})
	peers := make([]map[int]bool, len(wj.w.nodes))
	for _, s := range st.sessions {
		for _, pr := range [][2]int{{s.from, s.to}, {s.to, s.from}} {
			if pr[0] < 0 {
				continue // a peer known only by its address (wgghost.go): no inner packet of its own
			}
			if peers[pr[0]] == nil {
				peers[pr[0]] = map[int]bool{}
			}
			peers[pr[0]][pr[1]] = true
		}
		sortMsgs(s.sent)
		sortMsgs(s.recvd)
	}
	for _, h := range st.handshakes {
		// A node's initiations name its peer too, when no session came of them.
		if h.typ == decode.WGInitiation && h.from >= 0 && h.to != -1 && h.to != h.from {
			if peers[h.from] == nil {
				peers[h.from] = map[int]bool{}
			}
			peers[h.from][h.to] = true
		}
	}
	return peers
}

// innerByPair files the inner packets by (node, peer): those leaving through the node's device, and
// those entering through it. A packet whose peer is unknown goes to the node's only peer, if it has one.
func (wj *wgJoin) innerByPair(peers []map[int]bool) (outTo, inFrom map[[2]int][]wgInner) {
	// Each packet's peer first, and how many packets each list takes, so that each is sized once.
	peerOf := make([]int, len(wj.pending))
	nOut, nIn := map[[2]int]int{}, map[[2]int]int{}
	for i, pi := range wj.pending {
		peer := pi.peer
		if peer < 0 || peer == pi.node {
			peer = -1
			if len(peers[pi.node]) == 1 {
				for q := range peers[pi.node] {
					peer = q
				}
			}
		}
		peerOf[i] = peer
		if peer == -1 {
			continue
		}
		if pi.out {
			nOut[[2]int{pi.node, peer}]++
		} else {
			nIn[[2]int{pi.node, peer}]++
		}
	}
	outTo, inFrom = make(map[[2]int][]wgInner, len(nOut)), make(map[[2]int][]wgInner, len(nIn))
	for k, n := range nOut {
		outTo[k] = make([]wgInner, 0, n)
	}
	for k, n := range nIn {
		inFrom[k] = make([]wgInner, 0, n)
	}
	for i, pi := range wj.pending {
		if peer := peerOf[i]; peer == -1 {
			continue
		} else if pi.out {
			outTo[[2]int{pi.node, peer}] = append(outTo[[2]int{pi.node, peer}], pi.x)
		} else {
			inFrom[[2]int{pi.node, peer}] = append(inFrom[[2]int{pi.node, peer}], pi.x)
		}
	}
	return outTo, inFrom
}

// alignPairs aligns each node pair and direction on both ends: it returns, by message journey, the
// sender's and the receiver's inner journey, and whether the message carried one piece of a
// super-packet.
func (wj *wgJoin) alignPairs(outTo, inFrom map[[2]int][]wgInner, win int64) (sender, recvr map[int32]int32, piece map[int32]bool) {
	type pair struct{ from, to int }
	var pairs []pair
	have := map[pair]bool{}
	for _, s := range wj.st.sessions {
		if !have[pair{s.from, s.to}] {
			have[pair{s.from, s.to}] = true
			pairs = append(pairs, pair{s.from, s.to})
		}
	}
	sender, recvr, piece = map[int32]int32{}, map[int32]int32{}, map[int32]bool{}
	for _, pr := range pairs {
		var sent, recvd []wgMsg
		for _, s := range wj.st.sessions {
			if s.from == pr.from && s.to == pr.to {
				sent = append(sent, s.sent...)
				recvd = append(recvd, s.recvd...)
			}
		}
		sortMsgs(sent)
		sortMsgs(recvd)
		outs := sortInner(outTo[[2]int{pr.from, pr.to}])
		ins := sortInner(inFrom[[2]int{pr.to, pr.from}])
		wj.alignPair(outs, ins, sent, recvd, win, sender, recvr, piece)
		for _, ms := range sent {
			if ms.padded > 0 {
				wj.st.msgs++
			}
		}
		wj.untied(pr.from, sent, sender) // wgproxy.go
	}
	return sender, recvr, piece
}

// alignPair aligns one node pair's direction: the messages sent and received with the inner packets
// that left the sender's device (outs) and entered the receiver's (ins).
func (wj *wgJoin) alignPair(outs, ins []wgInner, sent, recvd []wgMsg, win int64, sender, recvr map[int32]int32, piece map[int32]bool) {
	st := wj.st
	// Pinned from both ends first: a packet whose inner journey was seen on both devices takes,
	// in order, the first message sent after it entered the sender's device and received before
	// it left the receiver's, of its padded length.
	pinned := wgPin(outs, ins, sent, recvd, win)
	for _, pn := range pinned {
		mj := sent[pn[1]].j
		sender[mj], recvr[mj] = outs[pn[0]].j, outs[pn[0]].j
		st.innerOut[outs[pn[0]].j] = true
	}
	// The rest (one end lost or not captured, super-packets) side by side, within the delays the
	// pinned packets showed (twice the longest, and a millisecond): far fewer packets are left, and
	// a long bound would let a packet that died in the device take a message seconds later.
	encWin, decWin := wgDelays(pinned, outs, ins, sent, recvd, win)
	outs2, sent2 := wgUnpinned(outs, sent, pinned, 0, 1)
	for _, as := range alignWG(outs2, sent2, encWin, true) {
		sender[sent2[as.msg].j] = outs2[as.inner].j
		piece[sent2[as.msg].j] = as.piece
		st.innerOut[outs2[as.inner].j] = true
	}
	usedIn := map[int32]bool{}
	for _, pn := range pinned {
		usedIn[outs[pn[0]].j] = true
	}
	ins2 := make([]wgInner, 0, max(0, len(ins)-len(pinned)))
	for _, x := range ins {
		if !usedIn[x.j] {
			ins2 = append(ins2, x)
		}
	}
	recvd2 := make([]wgMsg, 0, max(0, len(recvd)-len(pinned)))
	for _, m := range recvd {
		if _, ok := recvr[m.j]; !ok {
			recvd2 = append(recvd2, m)
		}
	}
	for _, as := range alignWG(ins2, recvd2, decWin, false) {
		recvr[recvd2[as.msg].j] = ins2[as.inner].j
	}
}

// noMessage lists the inner packets that entered a device toward a peer and left in no message.
func (wj *wgJoin) noMessage(outTo map[[2]int][]wgInner) {
	st := wj.st
	for _, ins := range outTo {
		for _, x := range ins {
			if !st.innerOut[x.j] {
				st.noMsg = append(st.noMsg, x.j)
			}
		}
	}
	sort.Slice(st.noMsg, func(x, y int) bool { return st.noMsg[x] < st.noMsg[y] })
}

// join merges each message journey into the journey of the inner packet it carried (a piece of a
// super-packet: a journey of its own that the super-packet continues as).
func (wj *wgJoin) join(sender, recvr map[int32]int32, piece map[int32]bool) {
	into := map[int32]int32{}
	find := func(j int32) int32 {
		for {
			k, ok := into[j]
			if !ok {
				return j
			}
			j = k
		}
	}
	var msgJs []int32
	for j := range sender {
		msgJs = append(msgJs, j)
	}
	for j := range recvr {
		if _, ok := sender[j]; !ok {
			msgJs = append(msgJs, j)
		}
	}
	sort.Slice(msgJs, func(x, y int) bool { return msgJs[x] < msgJs[y] })
	var split []gsoEvent
	for _, mj := range msgJs {
		sA, okA := sender[mj]
		rB, okB := recvr[mj]
		switch {
		case okA && piece[mj]:
			child := mj
			if okB && find(rB) != find(sA) {
				into[mj] = find(rB)
				child = find(rB)
			}
			split = append(split, gsoEvent{parent: find(sA), child: child, at: wj.msgG[mj]})
		case okA && okB && find(sA) != find(rB):
			into[mj] = find(sA)
			into[find(rB)] = find(sA)
			wj.st.pairs++
		case okA:
			into[mj] = find(sA)
			wj.st.pairs++
		case okB:
			into[mj] = find(rB)
		}
	}
	wj.lateMessages(into, find) // wglate.go
	wj.fragsJoined(find)
	split = append(split, wj.laterPieces(find)...) // wgfrag.go
	if len(into) > 0 || len(split) > 0 {
		wgMerge(wj.w, wj.m, into, find, split)
	}
}

// wgMaxDelay bounds the time between an inner packet and the message that carried it, whatever
// --window: a packet waits in its device while a handshake completes (wireguard-go retries it every
// 5 s).
const wgMaxDelay = int64(10 * time.Second)

// sortMsgs puts messages in time order, by counter at one time.
func sortMsgs(ms []wgMsg) {
	sort.SliceStable(ms, func(x, y int) bool {
		if ms[x].t != ms[y].t {
			return ms[x].t < ms[y].t
		}
		return ms[x].counter < ms[y].counter
	})
}

func sortInner(xs []wgInner) []wgInner {
	sort.SliceStable(xs, func(x, y int) bool {
		if xs[x].t != xs[y].t {
			return xs[x].t < xs[y].t
		}
		return xs[x].g < xs[y].g
	})
	return xs
}

// wgPin pairs, in order, the inner packets seen on both devices (outs on the sender's, ins on the
// receiver's: the same journey, matched exactly) with the messages that carried them: the first
// message of their padded length sent after the packet entered the sender's device and received
// before it left the receiver's. It returns (index in outs, index in sent) pairs.
func wgPin(outs, ins []wgInner, sent, recvd []wgMsg, win int64) [][2]int {
	at := map[int32]int64{} // journey → when it left the receiver's device
	for _, x := range ins {
		if _, ok := at[x.j]; !ok {
			at[x.j] = x.t
		}
	}
	rt := map[int32]int64{} // message journey → when the receiver's underlay saw it
	for _, m := range recvd {
		if _, ok := rt[m.j]; !ok {
			rt[m.j] = m.t
		}
	}
	var out [][2]int
	k := 0
	for i := range outs {
		x := &outs[i]
		tb, ok := at[x.j]
		if !ok || x.gso {
			continue
		}
		for q := k; q < len(sent) && sent[q].t-x.t <= win; q++ {
			m := &sent[q]
			r, got := rt[m.j]
			if m.padded != x.padded || m.t < x.t || !got || r > tb {
				continue
			}
			out = append(out, [2]int{i, q})
			k = q + 1
			break
		}
	}
	return out
}

// wgDelays returns the bounds of the encryption and decryption delays for the packets left once the
// pinned ones are taken: twice the longest delay a pinned packet showed, and a millisecond, within win;
// win when nothing was pinned.
func wgDelays(pinned [][2]int, outs, ins []wgInner, sent, recvd []wgMsg, win int64) (int64, int64) {
	if len(pinned) == 0 {
		return win, win
	}
	at := map[int32]int64{}
	for _, x := range ins {
		if _, ok := at[x.j]; !ok {
			at[x.j] = x.t
		}
	}
	rt := map[int32]int64{}
	for _, m := range recvd {
		if _, ok := rt[m.j]; !ok {
			rt[m.j] = m.t
		}
	}
	var enc, dec int64
	for _, p := range pinned {
		x, m := &outs[p[0]], &sent[p[1]]
		enc = max(enc, m.t-x.t)
		dec = max(dec, at[x.j]-rt[m.j])
	}
	ms := int64(time.Millisecond)
	return min(win, 2*enc+ms), min(win, 2*dec+ms)
}

// wgUnpinned returns the inner packets and messages no pin took.
func wgUnpinned(outs []wgInner, ms []wgMsg, pinned [][2]int, xi, mi int) ([]wgInner, []wgMsg) {
	ux, um := make([]bool, len(outs)), make([]bool, len(ms))
	for _, p := range pinned {
		ux[p[xi]], um[p[mi]] = true, true
	}
	xs := make([]wgInner, 0, len(outs)-len(pinned))
	for i, x := range outs {
		if !ux[i] {
			xs = append(xs, x)
		}
	}
	rest := make([]wgMsg, 0, len(ms)-len(pinned))
	for i, m := range ms {
		if !um[i] {
			rest = append(rest, m)
		}
	}
	return xs, rest
}

// wgAssign is one inner packet carried by one message (piece: one of several messages of a
// super-packet).
type wgAssign struct {
	inner, msg int
	piece      bool
}

// alignWG aligns inner packets with the messages that carried them, both in time order, in one pass
// (see the top of this file). Keepalives carry nothing. On the sender a message comes after its inner
// packet (encryption), on the receiver before it (decryption): within win either way. seg allows a
// super-packet (GSO) to take a run of messages (the sender's side).
func alignWG(ins []wgInner, ms []wgMsg, win int64, sender bool) []wgAssign {
	var out []wgAssign
	// after returns how far message time mt lies after inner time it in the direction of travel.
	after := func(it, mt int64) int64 {
		if sender {
			return mt - it
		}
		return it - mt
	}
	fits := func(x *wgInner, m *wgMsg) bool {
		d := after(x.t, m.t)
		return d >= 0 && d <= win && (m.padded == x.padded || (sender && x.gso && m.padded < x.padded))
	}
	i, k := 0, 0
	for i < len(ins) && k < len(ms) {
		x, m := &ins[i], &ms[k]
		if m.padded == 0 { // a keepalive
			k++
			continue
		}
		d := after(x.t, m.t)
		switch {
		case d < 0 && sender, d > win && !sender:
			k++ // the message's inner packet was not captured (it comes before this one)
			continue
		case d > win && sender, d < 0 && !sender:
			i++ // this inner packet has no message
			continue
		}
		if sender && x.gso && m.padded < x.padded {
			// A super-packet leaves as one message per segment: the run that carries its bytes.
			// Each piece within the bound of the one before: the device encrypts them one by one.
			got, ref := 0, x.t
			for k < len(ms) && got < x.payload && ms[k].padded > 0 && ms[k].padded < x.padded && ms[k].t >= x.t &&
				ms[k].t-ref <= win {
				got += ms[k].padded - x.hdr
				ref = ms[k].t
				out = append(out, wgAssign{inner: i, msg: k, piece: true})
				k++
			}
			i++
			continue
		}
		if m.padded == x.padded {
			out = append(out, wgAssign{inner: i, msg: k})
			i++
			k++
			continue
		}
		// Lengths differ: either this inner packet left in no message, or this message's inner packet
		// was not captured. The inner packet has no message if the next one takes this message.
		if i+1 < len(ins) && fits(&ins[i+1], m) {
			i++
		} else {
			k++
		}
	}
	return out
}

// wgMerge moves the observations of each journey in into (transitively, find) into its target, and
// records the super-packets that went on as pieces (split).
func wgMerge(w *world, m *matcher, into map[int32]int32, find func(int32) int32, split []gsoEvent) {
	for f, obs := range w.c.Obs {
		base := w.fileBase[f]
		for i := range obs {
			w.trimAt(i)
			g := base + uint32(i)
			j := m.journeyOf(g)
			if j < 0 {
				continue
			}
			if _, ok := into[j]; !ok {
				continue
			}
			t := find(j)
			v := uint32(t + 1)
			if !m.isDup(g) {
				m.jHops[j+1]--
				v |= m.jHops[t+1] << 24 & m.jRank // its rank in t: after t's own hops and those moved before it
				m.jHops[t+1]++
			}
			m.jOf[g] = int32(v)
		}
	}
	for j := range into {
		t := find(j)
		m.outOfOrder = append(m.outOfOrder, t) // hops moved in after its own: not in time order (sorted by buildArena)
		if n := m.jDups[j]; n > 0 {
			m.jDups[t] += n
			delete(m.jDups, j)
		}
		if m.jT0.at(int(j)) < m.jT0.at(int(t)) {
			m.jT0.set(int(t), m.jT0.at(int(j)))
		}
	}
	re := func(j int32) int32 {
		if _, ok := into[j]; ok {
			return find(j)
		}
		return j
	}
	for i := range m.gso {
		m.gso[i].parent, m.gso[i].child = re(m.gso[i].parent), re(m.gso[i].child)
	}
	for i := range m.nat {
		m.nat[i].j = re(m.nat[i].j)
	}
	late := m.late[:0]
	for _, l := range m.late {
		if l.old, l.new = re(l.old), re(l.new); l.old != l.new {
			late = append(late, l)
		}
	}
	m.late = late
	for _, ev := range split {
		// The piece's first sighting on the underlay is where the super-packet went on as it.
		ev.child = re(ev.child)
		m.gso = append(m.gso, ev)
	}
}

// wgNodeIPsOut lists the node IPs learned from WireGuard messages.
func (w *world) wgNodeIPsOut() []NodeIP {
	var out []NodeIP
	for _, ip := range w.wgIPs {
		out = append(out, NodeIP{Node: ip.Node, IP: ip.IP.String(), Reason: ip.Reason})
	}
	return out
}

// wgTunneled reports whether a flow direction between nodes src and dst crosses their WireGuard
// devices: their pair's mode is wireguard and its packets were seen at a tunnel device. A direction
// whose packets never were went out in clear (wireguard-bypass): its path has no device.
func (s *pathStage) wgTunneled(src, dst int, tunnel bool) bool {
	return tunnel && s.pairMode[[2]int{min(src, dst), max(src, dst)}] == "wireguard"
}

// pairTunnels returns node n's tunnel points on the path of family v6 between nodes src and dst: its
// WireGuard devices when the pair's mode is wireguard (Calico routes pod traffic through them, over an
// IP-in-IP or VXLAN pool too), every tunnel point otherwise; of those, the ones that carry the family
// (tunfamily.go).
func (s *pathStage) pairTunnels(n, src, dst int, v6 bool) []int {
	wg := s.pairMode[[2]int{min(src, dst), max(src, dst)}] == "wireguard"
	var out []int
	for _, p := range s.w.tunnels[n] {
		if (!wg || s.w.wgDevice(p)) && s.carries(p, v6) {
			out = append(out, p)
		}
	}
	return out
}

// pktHop returns the first hop of a journey that shows its packet's own headers: the first, but for a
// packet whose first sighting is a WireGuard message carrying it (its sender's device not captured,
// or one piece of a super-packet). Without WireGuard, small enough to be inlined (wgPktHop is not).
func (w *world) pktHop(h []uint32) uint32 {
	if w.wgOn {
		return w.wgPktHop(h)
	}
	return h[0]
}

// wgPktHop is pktHop with a WireGuard device captured.
//
//go:noinline
func (w *world) wgPktHop(h []uint32) uint32 {
	for _, g := range h {
		if o, _ := w.obsAt(g); w.wgType(o) != decode.WGTransport {
			return g
		}
	}
	return h[0]
}

// pktLast is pktHop from the end: the last hop that shows the packet's own headers.
func (w *world) pktLast(h []uint32) uint32 {
	if w.wgOn {
		return w.wgPktLast(h)
	}
	return h[len(h)-1]
}

// wgPktLast is pktLast with a WireGuard device captured.
//
//go:noinline
func (w *world) wgPktLast(h []uint32) uint32 {
	for i := len(h) - 1; i >= 0; i-- {
		if o, _ := w.obsAt(h[i]); w.wgType(o) != decode.WGTransport {
			return h[i]
		}
	}
	return h[len(h)-1]
}

// wgRouters returns, for pod packets between two nodes in wireguard mode that reached no router (they
// died before the underlay: no session), the routers the nodes' own traffic crossed (their WireGuard
// messages: the same underlay route), so that their path is drawn, and judged, as the others'.
// Otherwise it returns routers as given.
func (s *pathStage) wgRouters(e pathEnds, routers map[int]*routerSeen) map[int]*routerSeen {
	if e.src < 0 || e.dst < 0 || e.src == e.dst ||
		s.pairMode[[2]int{min(e.src, e.dst), max(e.src, e.dst)}] != "wireguard" {
		return routers
	}
	for _, fl := range s.flows {
		for d := uint8(0); d < 2; d++ {
			if fl.nDir(d) == 0 || len(fl.votes[d].routers()) == 0 {
				continue
			}
			fe := s.ends(fl, d)
			if fe.src != e.src || fe.dst != e.dst || fe.srcPod >= 0 || fe.dstPod >= 0 {
				continue
			}
			addRouters(routers, fl.votes[d].routers())
		}
	}
	return routers
}

// wgHop marks a hop that saw its packet as a WireGuard transport message: encap "wireguard", the
// message's receiver index and counter, and, where the packet entered or left the encrypted hop, that
// change instead of the addresses the message's own headers differ in.
func (a *analysis) wgHop(h *Hop, prev, o *decode.Observation) {
	w := a.w
	msg := w.wgType(o) == decode.WGTransport
	was := prev != nil && w.wgType(prev) == decode.WGTransport
	if msg {
		c := w.ctxOf(o)
		h.Encap = "wireguard"
		h.WireGuard = &HopWG{Receiver: fmt.Sprintf("0x%08x", c.WGReceiver), Counter: c.WGCounter(o.Seq)}
		if o.Flags&decode.FlagFragment != 0 {
			h.WireGuard.Counter = w.fragCounter(o, h.Frame) // wgfrag.go
		}
	}
	switch {
	case prev == nil || msg == was:
		if c := wgFragChange(prev, o, msg); c != "" {
			h.Changes = append(h.Changes, c)
		}
	case msg:
		h.Changes = []string{fmt.Sprintf("+wireguard %s→%s receiver %s counter %d", addrOf(o.Src), addrOf(o.Dst),
			h.WireGuard.Receiver, h.WireGuard.Counter)}
		if o.Flags&decode.FlagIPv6 != 0 {
			h.Changes = []string{fmt.Sprintf("+wireguard receiver %s counter %d", h.WireGuard.Receiver, h.WireGuard.Counter)}
		}
	default:
		h.Changes = []string{"-wireguard"}
	}
}

// wgSegKind names the segments of the encrypted hop: "encrypt" from the sending node's WireGuard
// device to its underlay, "decrypt" from the receiving node's underlay to its device ("" for others).
func wgSegKind(w *world, from, to int, pi *pathInfo) string {
	if !w.wgOn || w.pointNode[from] != w.pointNode[to] {
		return ""
	}
	n := w.pointNode[from]
	switch {
	case n == pi.srcNode && n != pi.dstNode && w.wgDevice(from) && w.pointRole[to] == decode.RoleUnderlay:
		return "encrypt"
	case n == pi.dstNode && n != pi.srcNode && w.pointRole[from] == decode.RoleUnderlay && w.wgDevice(to):
		return "decrypt"
	}
	return ""
}
