package correlate

import "github.com/calipath/calipath/decode"

// openerNote is Flow.OpenerUnknown's text: why the flow's direction and its NAT's kind are not known,
// and the fix.
const openerNote = "which side opened the conversation is not known: every capture that saw its first packet " +
	"may have begun after its opening (the conversation was first seen there no later after the capture's " +
	"first frame than its longest silence there, or after a packet of the other direction), and a conversation's " +
	"first packet seen says nothing of who opened it. Its ends are listed in that packet's direction, not as " +
	"client and server, and its NAT may be a SNAT by the side that opened it (undone on the replies) or a DNAT " +
	"of the other side's requests: the mappings say nat. Start the captures before the conversation begins"

// tcpOpenerNote is openerNote for a TCP flow, whose opening is its handshake (openingSeen).
const tcpOpenerNote = tcpUnseen + " Its ends are listed in that packet's direction, not as client and server, and " +
	"its NAT may be a SNAT by the side that opened it (undone on the replies) or a DNAT of the other side's " +
	"requests: the mappings say nat. Start the captures before the connection opens"

// natOpeners finds the flows with NAT mappings (natStats) whose opening no capture could have shown,
// so that which side opened them, and with it which NAT (a SNAT by the opener, undone on the replies,
// or a DNAT of the other side's requests), is not known: the flow's direction is only its first
// packet seen's. Their mappings' kinds become "nat" (the header rewrites alone, a source or a
// destination, are either) and the flow is noted (analysis.openerUnknown). Flows without NAT are not
// asked here (no kind to tell; and the captures without NAT cost nothing): firstSeenTCP asks the TCP
// ones after.
func (a *analysis) natOpeners() {
	var cache map[uint16]*srcFlows
	for fi, fl := range a.flows {
		if fl.nat == nil || (fl.client.proto != 6 && fl.client.proto != 17) {
			continue
		}
		if cache == nil {
			cache = map[uint16]*srcFlows{}
		}
		seen, noAddr := a.openingSeen(fl, cache)
		if seen {
			continue
		}
		if a.openerUnknown == nil {
			a.openerUnknown = map[int32]bool{}
		}
		a.openerUnknown[int32(fi)] = true
		if noAddr >= 0 {
			if a.openerNoAddr == nil {
				a.openerNoAddr = map[int32]int{}
			}
			a.openerNoAddr[int32(fi)] = noAddr
		}
		nat, ev := map[natKey]int{}, map[natKey][]Evidence{}
		for _, k := range sortedNAT(fl.nat.n) { // in order, so the evidence kept is the same each run
			nk := k
			nk.kind = "nat"
			nat[nk] += fl.nat.n[k]
			for _, e := range fl.nat.ev[k] {
				if len(ev[nk]) < 10 {
					ev[nk] = append(ev[nk], e)
				}
			}
		}
		fl.nat = &flowNAT{nat, ev}
	}
	a.firstSeenTCP()
}

// dnatOnly reports whether the first rewrite of a flow's first journey (hops h) can only be a DNAT of
// its requests: it rewrote the destination (not the source) of a packet sent from a pod on the NAT
// node (seen before the rewrite at that pod's veth, from its address: sentByPod; a reply entering a
// pod that un-SNATs in its own namespace, an egress gateway's, is seen there too, sent by another) away from an address that is
// no node's own, where the node's addresses are known. The other reading, the un-SNAT of a reply to
// a conversation the other side opened, needs that address to be the one the other side's packets
// were SNATed to, and that reply to come from the pod: a masquerade takes the NAT node's own address,
// and an SNAT to another address (Calico's natOutgoingAddress, an egress gateway) or a Service's
// external IP or LoadBalancer address DNATed to an endpoint are rewritten on packets that arrive
// from outside the node (its eth0 or tunnel device), where a destination rewrite away from a
// non-node address reads either way: those are left to the captures' timing. So a Service's cluster
// IP DNATed for a pod on the NAT node is told so, where the NAT node's addresses are known (hasNodeIP,
// of one of the two points the rewrite lies between: the NAT node is one of them; a router has no node
// address; where none of its addresses is known, the address may be its own and the rewrite a
// masquerade's un-SNAT). A source rewrite may be either side's (a SNAT of the opener's requests, or
// the un-DNAT of the replies to the other side's), and so may a destination rewrite away from a node's
// address (a node port's DNAT, or a masquerade's un-SNAT). noAddr is, when the rewrite would have
// shown a DNAT but for the pod's node's addresses being unknown, that node (-1 otherwise): knowing
// them (its eth0 captured, --node-ip) would let calipath answer.
func (a *analysis) dnatOnly(h []uint32) (only bool, noAddr int) {
	w := a.w
	for i := 1; i < len(h); i++ {
		p, _ := a.obs(h[i-1])
		o, _ := a.obs(h[i])
		tp, to := w.tupleOf(p), w.tupleOf(o)
		if tp == to {
			continue
		}
		from := a.point(h[i-1])
		if tp.src != to.src || tp.sp != to.sp || !w.sentByPod(tp.v6, tp.src, from) || w.nodeOfIPOnly(tp.v6, tp.dst) >= 0 {
			return false, -1
		}
		if w.hasNodeIP(tp.v6, w.pointNode[from]) || w.hasNodeIP(tp.v6, w.pointNode[a.point(h[i])]) {
			return true, -1
		}
		return false, w.pointNode[from]
	}
	return false, -1
}

// openingSeen reports whether some capture could have shown the opening of flow fl, whose direction
// (client) is that of its first journey (or, first seen through a SYN-ACK, its receiver's: newFlow).
// A TCP flow's opening is its handshake: it was shown when the flow's first journey is a SYN without
// ACK or a SYN-ACK (synOpened), and otherwise not, whatever the timing: a connection's first packet
// seen that is neither was sent after its opening, which no capture showed. A UDP flow's was shown
// when its first journey is a WireGuard handshake initiation (its sender opened the session), or at
// one of the captures that journey was seen at no packet of the other direction came before it and
// the conversation was first seen later after the capture's first frame than its longest silence
// there (srcFlows.late, the test dnatOpens makes of a UDP NAT sighting). Either protocol's is also
// shown when that journey's rewrite can only be a DNAT of its requests (dnatOnly). noAddr is
// dnatOnly's: the node whose addresses, known, would have shown the opening (-1 for none).
func (a *analysis) openingSeen(fl *flowAcc, cache map[uint16]*srcFlows) (seen bool, noAddr int) {
	c2sJ := a.dirJourneys(fl, c2s)
	if len(c2sJ) == 0 {
		return true, -1 // first seen through an ICMP error about it, oriented as quoted: not this question
	}
	h := a.hops(int(c2sJ[0]))
	if len(h) == 0 {
		return true, -1
	}
	if fl.client.proto == 6 {
		if a.synOpened(fl, c2sJ[0], h) {
			return true, -1
		}
		only, noAddr := a.dnatOnly(h)
		return only, noAddr
	}
	if o, _ := a.obs(h[0]); a.w.wgType(o) == wgInitiation {
		return true, -1
	}
	only, noAddr := a.dnatOnly(h)
	if only {
		return true, -1
	}
	t := a.w.c.Tables
	for _, g := range h {
		o, _ := a.obs(g)
		fwd, rev, ok := t.FlowKeys(o)
		if !ok {
			continue
		}
		sf := a.w.srcFlowsIn(cache, o.Source, g)
		if r, seen := sf.first[rev]; seen && r < g {
			continue
		}
		if !sf.late(fwd, rev) {
			return true, -1
		}
	}
	return false, noAddr
}

// wgInitiation is the WireGuard message type of a handshake initiation (2 is its response, 4 a
// transport message): its sender opens the session.
const wgInitiation = 1

// synOpened reports whether TCP flow fl's first journey is its handshake's opening: its first client
// to server journey j (hops h) is a SYN without ACK, or the flow's first journey is a SYN-ACK (sent
// back to the client, which newFlow took from it) that came before j. Each journey's packet is read
// at its first hop that shows its own headers (pktHop: not a WireGuard message carrying it), as
// newFlow and handshake read it.
func (a *analysis) synOpened(fl *flowAcc, j int32, h []uint32) bool {
	if o, _ := a.obs(a.w.pktHop(h)); o.Proto == 6 && o.Flags&decode.FlagFragment == 0 && o.TCPFlags&(decode.TCPSyn|decode.TCPAck) == decode.TCPSyn {
		return true
	}
	back := a.dirJourneys(fl, s2c)
	if len(back) == 0 || back[0] > j {
		return false
	}
	bh := a.hops(int(back[0]))
	if len(bh) == 0 {
		return false
	}
	o, _ := a.obs(a.w.pktHop(bh))
	return synAck(o)
}

// synAck reports whether o is a TCP SYN-ACK (not a fragment, nor an ICMP error about one).
func synAck(o *decode.Observation) bool {
	return o.Proto == 6 && o.Flags&(decode.FlagFragment|decode.FlagICMPError) == 0 &&
		o.TCPFlags&(decode.TCPSyn|decode.TCPAck) == decode.TCPSyn|decode.TCPAck
}

// openerText is Flow.OpenerUnknown for flow fi (natOpeners noted it): openerNote (tcpOpenerNote for a
// TCP flow), and where the NAT
// node's addresses being unknown is what kept its rewrite from showing a DNAT (openerNoAddr), the
// other fix: making them known.
func (a *analysis) openerText(fi int) string {
	note := openerNote
	if a.flows[fi].client.proto == 6 {
		note = tcpOpenerNote
	}
	n, ok := a.openerNoAddr[int32(fi)]
	if !ok {
		return note
	}
	node := a.w.nodes[n]
	return note + "; or let calipath know " + node + "'s addresses (capture " + node + "'s eth0, or tcpdump -i any " +
		"there, or give --node-ip " + node + "=IP): its first packet seen came from a pod on " + node + " with its " +
		"destination rewritten there away from an address calipath knows as no node's, which shows a DNAT of its " +
		"requests only where " + node + "'s own addresses are known (a masquerade by " + node + " is undone on replies " +
		"sent to " + node + "'s own address)"
}

// natOpenerDetail is the nat INFO's kind for the rewrites of flows whose opener is not known
// (natOpeners): no DNAT claimed for what may be the un-SNAT of replies, nor SNAT for what may be the
// un-DNAT of replies.
const natOpenerDetail = "NAT (SNAT or DNAT: the captures may have begun after these conversations' first packets, " +
	"so which side opened them, and so which of the two this is, is not known; start the captures before the " +
	"conversations begin)."

// natRewrite is the pair of sightings NAT event ev's rewrite lies between, for natStats: natFrom's
// and ev.to, unless those carry the same tuple. That happens when the matcher joined ev.to (a
// router's sighting, its clock's correction within its uncertainty putting it before the NAT node's
// own way out) straight after the sighting before the rewrite, and natFrom, looking for the hop
// nearest to the NAT on to's side, took the NAT node's way out, already rewritten (a SNAT to an
// address calipath does not know as the node's: snat-address-midstream's requests at node-a/eth0 →
// router-1/eth0, a "rewrite" from a tuple to itself). Then the rewrite is the journey's last change of
// tuple before ev.to, in its hops' (path) order.
func (a *analysis) natRewrite(ev natEvent) (from, to uint32) {
	from, to = a.natFrom(ev), ev.to
	w := a.w
	of, _ := a.obs(from)
	ot, _ := a.obs(to)
	if w.tupleOf(of) != w.tupleOf(ot) {
		return from, to
	}
	h := a.hops(int(ev.j))
	for i := 1; i < len(h) && h[i-1] != ev.to; i++ {
		p, _ := a.obs(h[i-1])
		o, _ := a.obs(h[i])
		if w.tupleOf(p) != w.tupleOf(o) {
			from, to = h[i-1], h[i]
		}
	}
	return from, to
}

// sentByPod reports whether a packet from address src (v6: a Tables.V6 index) seen at point p was sent
// by the pod behind p: p is that pod's veth (podOwner).
func (w *world) sentByPod(v6 bool, src uint32, p int) bool {
	owner := w.podOwner
	if v6 {
		owner = w.podOwner6
	}
	q, ok := owner[src]
	return ok && q == p
}

// rewrittenInPod returns the pod-veth point whose pod rewrote the packet of NAT rewrite (from, to) in
// its own network namespace, -1 when the captures do not show that: both sightings are at that pod's
// own veth (not a -i any capture's shared pod stage), the first on its way into the pod (not sent by
// it: its source is not the pod's address; in a cooked capture, not the pod's outgoing), the second
// on its way out (its destination, rewritten, is not the pod's; in a cooked capture, not outgoing
// to the pod), one TTL (hop limit) lower: the pod routed it (egw19's podForwarded, which joined them).
// An egress gateway's masquerade and its un-masquerade of the replies are such; a pod's own packet
// DNATed on its host back into it (hairpin-clusterip) is not: it was sent by the pod, and rewritten
// on the host between its way out and its way back in.
func (a *analysis) rewrittenInPod(from, to uint32) int {
	w := a.w
	of, _ := a.obs(from)
	ot, _ := a.obs(to)
	p := w.srcPoint[of.Source]
	if w.srcPoint[ot.Source] != p || w.pointRole[p] != decode.RolePodVeth ||
		w.c.Sources[of.Source].IfIndex == decode.IfAnyPod || w.c.Sources[ot.Source].IfIndex == decode.IfAnyPod {
		return -1
	}
	if ot.TTL+1 != of.TTL || ot.Flags&decode.FlagOutbound != 0 {
		return -1
	}
	v6 := of.Flags&decode.FlagIPv6 != 0
	if w.sentByPod(v6, of.Src, p) {
		return -1
	}
	if owner, ok := w.ownerOf(v6, ot.Dst); ok && owner == p {
		return -1
	}
	return p
}

// natPodKey is NAT mapping k's key in analysis.natInPod: its kind left out, which natOpeners may
// change after natStats.
func natPodKey(k natKey) natKey {
	k.kind = ""
	return k
}

// noteInPod notes for NAT mapping k (natStats) one rewrite, rewritten inside the pod of point p
// (rewrittenInPod; -1 not).
func (a *analysis) noteInPod(k natKey, p int) {
	k = natPodKey(k)
	if a.natInPod == nil {
		a.natInPod = map[natKey]int{}
	}
	old, seen := a.natInPod[k]
	switch {
	case !seen:
		a.natInPod[k] = p + 1 // 0: not inside a pod
	case old != p+1:
		a.natInPod[k] = -1
	}
}

// natPodOf returns the pod-veth point inside whose pod every rewrite of NAT mapping k was seen
// (noteInPod), -1 when not all were, or not inside one pod.
func (a *analysis) natPodOf(k natKey) int {
	if p, ok := a.natInPod[natPodKey(k)]; ok && p > 0 {
		return p - 1
	}
	return -1
}

// inPodText is what the nat finding adds for rewrites all seen inside the pod of point p
// (rewrittenInPod): that the rewrite is the pod's, in its own network namespace, not its node's at
// the veth; "" for p < 0.
func (a *analysis) inPodText(p int) string {
	if p < 0 {
		return ""
	}
	w := a.w
	pod := "the pod behind " + w.c.Points[p].ID
	if w.podOf[p] != 0 {
		pod = "pod " + w.addrString(false, w.podOf[p])
	} else if w.podOf6[p] != 0 {
		pod = "pod " + w.addrString(true, w.podOf6[p])
	}
	return " Rewritten inside " + pod + " (it forwards traffic: an egress gateway or a proxy pod?): the captures show " +
		"the packets delivered into it at " + w.c.Points[p].ID + " and leaving it there rewritten, with a TTL one lower, not " +
		"rewritten by the node."
}
