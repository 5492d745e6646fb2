package correlate

import (
	"net/netip"

	"github.com/calipath/calipath/decode"
)

// cookedPods gives the pod side of a cooked v1 -i any capture (any:pod, which files every pod veth
// of its node under one point) all the pods its host delivered to from ee:ee:ee:ee:ee:ee, not only
// the most frequent one (findPods): each is a pod of that node, and its packets start and end their
// path there. Without it, a second pod's packets at any:pod had no source pod-veth, so their path
// started at the underlay (a pod route that bypassed the WireGuard device was path-incomplete, not
// wireguard-bypass). Only the host's own deliveries count: a cooked v1 file read as a stream files
// frames in from the wire under any:pod too (dropForeignPods).
func (w *world) cookedPods() {
	for pi := range w.c.Points {
		pt := &w.c.Points[pi]
		if pt.Iface != "any:pod" || w.pointRole[pi] != decode.RolePodVeth || pt.Traffic.NPodDst+pt.Traffic.NPodDst6 < 2 {
			continue
		}
		tr := &pt.Traffic
		var v4 []uint32
		for i := 0; i < tr.NPodDst; i++ {
			a := ip4(netip.AddrFrom4(tr.PodDsts[i]))
			if _, dup := w.podOwner[a]; !dup {
				w.podOwner[a] = pi
			}
			if w.podOwner[a] == pi {
				v4 = append(v4, a)
			}
		}
		for i := 0; i < tr.NPodDst6; i++ {
			a := w.c.Tables.InternV6(tr.PodDsts6[i])
			if _, dup := w.podOwner6[a]; !dup {
				w.podOwner6[a] = pi
			}
		}
		if len(v4) > 1 {
			if w.podsOf == nil {
				w.podsOf = map[int][]uint32{}
			}
			w.podsOf[pi] = v4
		}
	}
}
