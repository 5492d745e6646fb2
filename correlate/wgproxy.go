package correlate

import (
	"fmt"
	"strings"

	"github.com/calipath/calipath/decode"
)

// A WireGuard node whose device no capture shows.
//
// `calipath plan` asks for the pods' cali interfaces and eth0; without --wireguard it does not ask for
// wireguard.cali. On such a node the inner packets are still seen, on the pods' veths: a packet a pod
// sends to a pod of another node enters the device right after its veth, and one from a pod of another
// node leaves the device right before. So the node's pod-veth sightings of packets between its pods
// and another node's stand in for its device's: they are aligned with the node's messages as the
// device's would be (wireguard.go), only with the veth → device time added to the delay, which the
// window allows. Packets with an end no capture names (a pod of a node not captured, an address
// outside the pods) are left alone: the device would have sent them to a peer, or not at all.

// wgProxyNodes returns the Calico nodes whose underlay captures carry WireGuard messages and that have
// no capture of a WireGuard device (nor a point that may be one: an -i any file's unnamed tunnel
// interface or an -i any file not split by interface); nil when there are none.
func (w *world) wgProxyNodes() []bool {
	nn := len(w.nodes)
	msgs, dev := make([]bool, nn), make([]bool, nn)
	for p := range w.c.Points {
		n := w.pointNode[p]
		switch r := w.pointRole[p]; {
		case r == decode.RoleUnderlay && w.c.Points[p].Traffic.WireGuard > 0:
			msgs[n] = true
		case w.wgDevice(p), r == decode.RoleAny,
			r == decode.RoleTunnel && strings.HasPrefix(w.c.Points[p].Iface, "any#"):
			dev[n] = true
		}
	}
	var proxy []bool
	for n := range nn {
		if msgs[n] && !dev[n] && w.cluster[n] {
			if proxy == nil {
				proxy = make([]bool, nn)
			}
			proxy[n] = true
		}
	}
	return proxy
}

// proxyInner lists a packet seen on node n's pod veth between one of n's pods and another node (or an
// address no capture names: a pod of a node not captured, or outside the cluster) as if seen on n's
// WireGuard device (see the top of this file). proxySure keeps it only if the node's underlay did not
// see it in clear (a route that bypassed the device, an address outside the cluster).
func (wj *wgJoin) proxyInner(o *decode.Observation, g uint32, j int32, n int, t int64) {
	w := wj.w
	x, sn, dn, ok := wj.innerOf(o, g, j, t)
	if !ok {
		return
	}
	v6 := o.Flags&decode.FlagIPv6 != 0
	switch {
	case sn == n && dn >= 0 && dn != n:
		wj.pending = append(wj.pending, wgPendingInner{node: n, out: true, x: x, peer: dn, veth: true})
	case dn == n && sn >= 0 && sn != n:
		wj.pending = append(wj.pending, wgPendingInner{node: n, out: false, x: x, peer: sn, veth: true})
	case sn == n && dn < 0 && w.nodeOf(v6, o.Dst) < 0:
		wj.pending = append(wj.pending, wgPendingInner{node: n, out: true, x: x, peer: -1, veth: true})
	case dn == n && sn < 0 && w.nodeOf(v6, o.Src) < 0:
		wj.pending = append(wj.pending, wgPendingInner{node: n, out: false, x: x, peer: -1, veth: true})
	}
}

// proxyClear notes journey j seen unencrypted at a proxy node's underlay: not a WireGuard packet there.
func (wj *wgJoin) proxyClear(j int32) {
	if wj.clear == nil {
		wj.clear = map[int32]bool{}
	}
	wj.clear[j] = true
}

// proxySure drops the pod-veth packets that their node's underlay saw in clear (proxyInner).
func (wj *wgJoin) proxySure() {
	keep := wj.pending[:0]
	for _, pi := range wj.pending {
		if !pi.veth || !wj.clear[pi.x.j] {
			keep = append(keep, pi)
		}
	}
	wj.pending = keep
	wj.clear = nil
}

// devOrProxy reports whether point p is a WireGuard device, or a pod veth standing in for its node's.
func (st *wgState) devOrProxy(w *world, p int) bool {
	return w.wgDevice(p) || st.proxy != nil && st.proxy[w.pointNode[p]] && w.pointRole[p] == decode.RolePodVeth
}

// wgAnyDevices marks, on each Calico node whose underlay carries WireGuard messages and that has no
// named WireGuard device, its only unnamed -i any tunnel interface (no link-layer header, no
// IP-in-IP or VXLAN frame: not tunl0 or vxlan.calico at work) as its WireGuard device: with WireGuard
// on, Calico routes the pods' traffic to other nodes through wireguard.cali.
func (w *world) wgAnyDevices() {
	nn := len(w.nodes)
	msgs, named, cand := make([]bool, nn), make([]bool, nn), make([]int, nn)
	for n := range cand {
		cand[n] = -1
	}
	for p := range w.c.Points {
		n, pt := w.pointNode[p], &w.c.Points[p]
		switch {
		case w.pointRole[p] == decode.RoleUnderlay && pt.Traffic.WireGuard > 0:
			msgs[n] = true
		case w.wgDevice(p):
			named[n] = true
		case w.pointRole[p] == decode.RoleTunnel && anyTunnel(pt) && pt.Traffic.IPIP == 0 && pt.Traffic.VXLAN == 0:
			if cand[n] == -1 {
				cand[n] = p
			} else {
				cand[n] = -2 // several: none is told apart
			}
		}
	}
	for n := range nn {
		if p := cand[n]; p >= 0 && msgs[n] && !named[n] && w.cluster[n] {
			if w.wgAnyDev == nil {
				w.wgAnyDev = make([]bool, len(w.c.Points))
			}
			w.wgAnyDev[p] = true
		}
	}
}

// anyTunnel reports whether a point is an unnamed -i any interface that may be a tunnel device: one
// of a cooked v2 capture (any#N), or the tunnel stage of a cooked v1 capture (any:tunnel) with frames
// and none between VXLAN VTEPs (vxlan.calico at work).
func anyTunnel(pt *decode.Point) bool {
	return strings.HasPrefix(pt.Iface, "any#") ||
		pt.Iface == "any:tunnel" && pt.Traffic.Frames > 0 && pt.Traffic.VTEPMAC == 0
}

// untied counts, when node from stands in pod veths for its device, the messages it sent (keepalives
// aside) that no inner packet was tied to: packets its veths may have shown that the alignment missed.
func (wj *wgJoin) untied(from int, sent []wgMsg, sender map[int32]int32) {
	st := wj.st
	if from < 0 || st.proxy == nil || !st.proxy[from] {
		return
	}
	for _, m := range sent {
		if _, ok := sender[m.j]; !ok && m.padded > 0 {
			if st.loose == nil {
				st.loose = map[int]int{}
			}
			st.loose[from]++
		}
	}
}

// wgProxyNote says, for a lossy segment between a pod veth and the underlay of a node whose WireGuard
// device no capture shows, that where inside the node the packets died cannot be told, that some of
// them may not be lost at all when the node sent messages no packet was tied to, and what to capture
// ("" for other segments).
func (a *analysis) wgProxyNote(s *segAcc) string {
	w, st := a.w, a.wg
	n := w.pointNode[s.from]
	if st.proxy == nil || s.lost == 0 || w.pointNode[s.to] != n || !st.proxy[n] {
		return ""
	}
	r1, r2 := w.pointRole[s.from], w.pointRole[s.to]
	if !(r1 == decode.RolePodVeth && r2 == decode.RoleUnderlay || r1 == decode.RoleUnderlay && r2 == decode.RolePodVeth) {
		return ""
	}
	if a.wgNoSessionLost(s) == s.lost {
		return fmt.Sprintf(" %s's WireGuard device (wireguard.cali) was not captured: its pod's veth stands in for it here.",
			w.nodes[n])
	}
	note := fmt.Sprintf(" %s's WireGuard device (wireguard.cali) was not captured: calipath tied its pods' packets to its "+
		"encrypted messages by order and size only, so whether these died before the device, in it (no session) or after "+
		"it cannot be told.", w.nodes[n])
	if k := st.loose[n]; k > 0 {
		note += fmt.Sprintf(" %d of its messages sent carried a packet calipath could not tie to one: some of these packets "+
			"may have left in them, not been lost.", k)
	}
	return note + " Capture wireguard.cali too (calipath plan --wireguard)."
}
