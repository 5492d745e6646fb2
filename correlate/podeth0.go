package correlate

import (
	"strings"

	"github.com/calipath/calipath/decode"
)

// A capture taken inside a pod's network namespace (ksniff, `kubectl debug`, Inspektor Gadget) sees
// the pod's eth0, the other end of its cali veth: a point named pod-eth0 (`--point NODE:pod-eth0=FILE`,
// or pod-eth0:NS/POD from a Gadget description). Its frames are the pod's, so decode gives it the
// pod-veth role, and alone it is the pod's end of the path. Beside the pod's cali capture, it is the
// point before it on the way out and after it on the way in: the path is pod-eth0 → cali → … → cali
// → pod-eth0, so that a packet the veth or the pod's own stack lost is placed there.

// isPodEth0 reports whether point p is a capture inside a pod's network namespace.
func (w *world) isPodEth0(p int) bool {
	iface := w.c.Points[p].Iface
	return iface == decode.PodEth0 || strings.HasPrefix(iface, decode.PodEth0+":")
}

// podPair returns the other pod-side point of pod-veth point p's pod on its node: the pod's cali
// point for a pod-eth0 point, its pod-eth0 point for a cali one; -1 when there is none.
func (w *world) podPair(p int) int {
	if p < 0 || w.podOf[p] == 0 {
		return -1
	}
	n, eth0 := w.pointNode[p], w.isPodEth0(p)
	for _, q := range w.podVeths[n] {
		if q != p && w.podOf[q] == w.podOf[p] && w.isPodEth0(q) != eth0 {
			return q
		}
	}
	return -1
}

// podEnd returns the pod-side points of a path's end in the order a packet leaving the pod crosses
// them: pod-eth0 first, then the cali veth; one point when the pod has only one captured.
func (w *world) podEnd(p int) []int {
	q := w.podPair(p)
	switch {
	case q < 0:
		return []int{p}
	case w.isPodEth0(p):
		return []int{p, q}
	}
	return []int{q, p}
}
