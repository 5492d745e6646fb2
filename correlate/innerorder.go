package correlate

import "github.com/calipath/calipath/decode"

// innerOrder is what the arena needs to order the hops on a node whose clock is seen only inside it
// (innerEdged: no capture of its underlay): the clocks' bounds by node (at least 0), and which nodes are
// such. nil when no such node has a bounded clock (nothing to do: the common case).
type innerOrder struct {
	bound []int64
	inner []bool
}

// newInnerOrder returns the innerOrder of clocks, nil when no node seen only inside has a bound above 0.
// Such a node's clock is fitted through its own delays (its tunnel device's encapsulation and
// decapsulation, unequal), so its bound is wide (tens of µs where a wire tie gives one or two) and the
// order of its hops against the other nodes' within that bound is the clocks' guess, not a measure.
func newInnerOrder(w *world, clocks []clockModel) *innerOrder {
	var io *innerOrder
	for n := range clocks {
		if n >= len(w.nodes) || !w.innerEdged(n) || clocks[n].bound <= 0 {
			continue
		}
		if io == nil {
			io = &innerOrder{bound: make([]int64, len(clocks)), inner: make([]bool, len(clocks))}
			for k := range clocks {
				io.bound[k] = max(clocks[k].bound, 0)
			}
		}
		io.inner[n] = true
	}
	return io
}

// innerFirst puts the hops of journey j (in path order) on a node seen only inside it where their TTL
// says they go, when the clocks cannot tell: a node's first hops of the journey, unencapsulated, come
// before the other nodes' unencapsulated hops just before them in time that have a lower TTL (the
// TTL never rises on a packet's way; NAT and encapsulation keep the inner one) and lie within both
// clocks' bounds of them. A NodePort's reply, decapsulated at node-a's tunl0 (node-a's eth0 not
// captured) and un-NATed out of node-a bare, was put after the router's and the client's copies of
// the un-NATed reply: node-a's clock, set through its tunnel device only, is off by up to its bound,
// which the hops' order did not heed. It reports whether it moved hops so that a node comes back
// after another's (a revisit, see visits).
func (io *innerOrder) innerFirst(w *world, a *arenaOut, j int) bool {
	lo, hi := int(a.jStart[j]), int(a.jStart[j+1])
	moved := false
	for k := lo + 1; k < hi; k++ {
		nd := w.pointNode[a.hopPt[k]]
		if !io.inner[nd] || w.pointNode[a.hopPt[k-1]] == nd {
			continue
		}
		seen := false
		for i := lo; i < k; i++ {
			seen = seen || w.pointNode[a.hopPt[i]] == nd
		}
		og, _ := w.obsAt(a.arena[k])
		if seen || og.Encap() != decode.EncapNone || og.TTL == 0 {
			continue
		}
		tk := a.hopTs.at(int32(j), k)
		to := k
		for i := k - 1; i >= lo; i-- {
			oi, _ := w.obsAt(a.arena[i])
			ni := w.pointNode[a.hopPt[i]]
			if oi.Encap() != decode.EncapNone || oi.TTL == 0 || oi.TTL >= og.TTL ||
				tk-a.hopTs.at(int32(j), i) > io.bound[nd]+io.bound[ni]+negTolerance {
				break
			}
			to = i
		}
		if to == k {
			continue
		}
		// The node's hops from k on, together, go to to: each moved back past the hops from to on.
		end := k + 1
		for end < hi && w.pointNode[a.hopPt[end]] == nd {
			end++
		}
		for r := k; r < end; r++ {
			for i := r; i > to+r-k; i-- {
				a.arena[i], a.arena[i-1] = a.arena[i-1], a.arena[i]
				a.hopPt[i], a.hopPt[i-1] = a.hopPt[i-1], a.hopPt[i]
				a.hopTs.swap(i, i-1)
			}
		}
		// A node before the moved hops and after them: it came back.
		for i := lo; i < to && !moved; i++ {
			for x := to + end - k; x < hi; x++ {
				if w.pointNode[a.hopPt[x]] == w.pointNode[a.hopPt[i]] {
					moved = true
					break
				}
			}
		}
		k = end - 1
	}
	return moved
}
