package correlate

import "github.com/calipath/calipath/decode"

// Where a packet's trail ends past the last point of its path.
//
// A path whose end nodes are unknown (BGP mode without the nodes' addresses: --node-ip, --k8s) runs
// between the routers' points only, and a packet that reached the last of them was said to have left
// the captures there, although a node's -i any capture showed it arriving. Its sightings past the path
// are not ordered by the path, and their order among themselves follows the clocks and, at one time,
// the files (see TestOpenEndsOrderFree), so the last sighting is not where it went. What orders them
// soundly is the packet itself: a router decrements the TTL, so a sighting at a TTL no higher than at
// the path's end crossed no router after it; received there (a cooked capture's frame not sent by the
// node), on a node whose -i any capture covers every interface and shows the packet leaving none, it
// went from the path's end to that node, and no further. The open end is there.

// beyondEnd returns the point, and the sighting, past the last path point p (reached as observation g)
// where journey j's trail ends, when its sightings show one (see above): received, in the same
// encapsulation and at a TTL no higher than at p, at a point (not a pod's veth) of another cluster node
// whose -i any capture covers it and saw the packet leave from none of its interfaces. Among several,
// the lowest TTL, then the lowest point.
func (f *openEndFinder) beyondEnd(j int32, p int, g uint32) (int, uint32, bool) {
	w := f.w
	o, _ := w.obsAt(g)
	ttl, np := w.hopTTL(o), w.pointNode[p]
	h := f.ar.hops(int(j))
	best, bg, bt := -1, uint32(0), uint8(0)
	for _, x := range h {
		ox, _ := w.obsAt(x)
		q := w.srcPoint[ox.Source]
		n := w.pointNode[q]
		if n == np || !w.cluster[n] || w.pointRole[q] == decode.RolePodVeth || !f.nodeHasAny(n) ||
			!f.received(ox) || ox.Encap() != o.Encap() || w.hopTTL(ox) > ttl || f.leftNode(h, n) {
			continue
		}
		if t := w.hopTTL(ox); best < 0 || t < bt || t == bt && q < best {
			best, bg, bt = q, x, t
		}
	}
	return best, bg, best >= 0
}

// received says whether a cooked capture (LINUX_SLL or SLL2) took o as a frame its node received,
// not one it sent.
func (f *openEndFinder) received(o *decode.Observation) bool {
	srcs := f.w.c.Sources
	return int(o.Source) < len(srcs) && srcs[o.Source].IfIndex != -1 && o.Flags&decode.FlagOutbound == 0
}

// leftNode says whether any of hops h shows the packet leaving node n: a frame its cooked capture saw
// it send, or one its captures could not tell the direction of.
func (f *openEndFinder) leftNode(h []uint32, n int) bool {
	w := f.w
	for _, x := range h {
		if ox, _ := w.obsAt(x); w.pointNode[w.srcPoint[ox.Source]] == n && !f.received(ox) {
			return true
		}
	}
	return false
}
