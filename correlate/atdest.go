package correlate

import "github.com/calipath/calipath/decode"

// lostUnlessArrived is the status of journey p, not seen at point nx, the next on its path, whose
// capture ran: lost, unless it was seen at its destination (seenAtDest), where it arrived, or its
// receiver acknowledged it (ackedLater): then the capture at nx missed it.
func (pl *placement) lostUnlessArrived(p *placing, nx int) statusCode {
	if !pl.seenAtDest(p, nx) {
		if pl.ackedLater(p, nx) {
			return stNotCaptured
		}
		return stLost
	}
	pl.jLast[p.j], pl.jNext[p.j] = -1, -1
	return stDelivered
}

// seenAtDest reports whether journey p, about to be counted lost before point nx, was seen where its
// destination lives, on another node than nx's: the node whose own address it was sent to, or a host
// outside the cluster, captured on its one interface, that answers for the address (openEndFinder's
// dstAt). It arrived there; what its path puts after that point (built from the TTLs and times the
// flows' journeys showed) is no place it was lost. A node's own address that it rewrites onward (the
// replies to SNAT, on their way to a pod of the node) is not a destination: nx is then on that node;
// nor is it when the journey was seen on another node after it: the node sent it on (a NodePort's
// request, DNATed there to a pod on another node, which then died past its second
// crossing of a router: nodeport-cluster-drop).
func (pl *placement) seenAtDest(p *placing, nx int) bool {
	w := pl.w
	for i := 0; i <= p.reach; i++ {
		q := p.pi.points[i]
		n := w.pointNode[q]
		if p.reached[i] < 0 || n == w.pointNode[nx] || w.pointRole[q] == decode.RolePodVeth || pl.leftNode(p, i, n) {
			continue
		}
		o, _ := pl.obs(p.h[p.reached[i]])
		v6 := o.Flags&decode.FlagIPv6 != 0
		switch {
		case w.cluster[n]:
			if pl.oe.ownAddr(n, v6, o.Dst) {
				return true
			}
		case len(w.underlays[n]) == 1 && o.Encap() == decode.EncapNone && pl.oe.dstAt(n, v6, o.Dst):
			return true
		}
	}
	return false
}

// leftNode reports whether journey p, seen on node n at its path index i, was seen on another node
// after that (its hops after that one, in the order it crossed them, not in its path's, which may be
// wrong: TestSeenAtDestinationNotLost): node n sent the packet on, so it did not arrive there. So it
// did when a later hop on n shows the packet headed elsewhere: its destination rewritten to an address
// of another node (a NodePort's DNAT to a pod there), or encapsulated to another node. Without the
// capture past n on its way (router-1/eth0 in nodeport-cluster-drop, or with -i any files alone) that
// is all that says it did not arrive (TestNodePortOnwardNotDelivered).
func (pl *placement) leftNode(p *placing, i, n int) bool {
	base := int(pl.jStart[p.j])
	w := pl.w
	for k, pt := range pl.hopPt[base+p.reached[i]+1 : base+len(p.h)] {
		if w.pointNode[pt] != n {
			return true
		}
		o, _ := pl.obs(p.h[p.reached[i]+1+k])
		if m := w.nodeOf(o.Flags&decode.FlagIPv6 != 0, o.Dst); m >= 0 && m != n {
			return true
		}
		if o.Encap() != decode.EncapNone && pl.outerDstNode(o) >= 0 && pl.outerDstNode(o) != n {
			return true
		}
	}
	return false
}

// outerDstNode returns the node whose address is encapsulated observation o's outer destination (-1:
// none known).
func (pl *placement) outerDstNode(o *decode.Observation) int {
	var n int
	var ok bool
	switch a := pl.w.ctxOf(o).OuterDstAddr(); {
	case a.Is4():
		n, ok = pl.w.nodeOfIP[ip4(a)]
	case a.Is6():
		n, ok = pl.w.nodeOfIP6[pl.w.c.Tables.InternV6(a.As16())]
	}
	if !ok {
		return -1
	}
	return n
}
