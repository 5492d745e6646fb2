package correlate

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"sort"

	"github.com/calipath/calipath/decode"
)

// Traffic that stays on one node, between a pod and the node itself or another pod of the node.
//
// A packet handed to a pod through its cali interface was either routed by the pod's node (its TTL one
// below what hosts send with) or sent by the node's own stack (the TTL hosts send with): a cali is a
// point-to-point link whose other end is the pod. So:
//
//   - a packet headed to the pod, first seen at its cali with an initial TTL, came from the node itself:
//     its source is the node's own address (kubelet's probes, host-network pods), even when no capture
//     says which address the node has (no underlay frame, no --node-ip);
//   - one first seen there with a TTL one below came from an interface of the node next to its sender,
//     and when every underlay and tunnel capture of the node was running then and did not see it, from
//     an interface none of the captures covers: another pod's cali (the common case: only the source
//     pod's cali, eth0 and tunl0 were captured). Its source lives on the node.
//
// The path between a pod and an address that lives on the pod's own node is then that pod's cali alone:
// its packets never reach eth0 or the tunnel, and not seeing them there is no drop. A packet from the
// pod to the node's own address, seen at the cali, reached the node; one to another pod of the node
// whose cali was not captured left the captures there (path-incomplete says which capture is missing),
// unless the destination answered it, which shows it arrived.

// localHow says why a flow direction's destination is taken to be on its source's node (or may be):
// 0 when it is not.
type localHow uint8

const (
	localSeen  localHow = 1 + iota // its packets came back into the node's pods from it (localSource), or --k8s says so
	localBlock                     // its address is in the address block of pods captured on the node (localDsts)
	localMaybe                     // nothing in the captures says where it lives (localDsts)
)

// localSource returns the node whose pod-veth journey h (first sighting o, tuple t) was first seen
// entering, headed to that veth's pod from a source that lives on the node (see above), or -1. A source
// with an initial TTL is noted as the node's own address (ownClaims), for adoptOwnAddrs.
func (s *flowStage) localSource(t *tuple, o *decode.Observation, h []uint32) int {
	w := s.a.w
	if o.Flags&(decode.FlagICMPError|decode.FlagARP|decode.FlagNotIP) != 0 || o.Encap() != decode.EncapNone {
		return -1
	}
	p := w.srcPoint[o.Source]
	if w.pointRole[p] != decode.RolePodVeth || o.Src != t.src {
		return -1
	}
	n := w.pointNode[p]
	if owner, ok := s.owners.ownerOf(t.v6, o.Dst); !ok || owner != p || !w.cluster[n] {
		return -1 // not headed to this veth's pod
	}
	if _, ok := s.owners.ownerOf(t.v6, o.Src); ok || !initialTTL(o.TTL) && !(o.TTL < 255 && initialTTL(o.TTL+1)) || s.a.sharedVeth(p) {
		return -1
	}
	switch {
	case initialTTL(o.TTL):
		k := addrKey(t.v6, o.Src)
		if old, ok := s.ownClaims[k]; ok && old != n {
			s.ownClaims[k] = -2 // two nodes' own: neither's
			return -1
		} else if !ok {
			if s.ownClaims == nil {
				s.ownClaims = map[[2]uint64]int{}
			}
			s.ownClaims[k] = n
		}
		return n
	case o.TTL < 255 && initialTTL(o.TTL+1):
		if len(w.underlays[n]) == 0 {
			return -1 // the node's underlay was not captured: it may have come in there
		}
		at := s.a.ts(h[0])
		for _, q := range append(w.underlays[n][:len(w.underlays[n]):len(w.underlays[n])], w.tunnels[n]...) {
			if !s.a.covered(q, at) {
				return -1
			}
		}
		return n
	}
	return -1
}

// sharedVeth says whether pod-veth point p carries several pods (a capture of several veths, or of a
// bridge: detectSharedVeths), where a packet's TTL says nothing of where it came from; once per point.
func (a *analysis) sharedVeth(p int) bool {
	if a.shared == nil {
		a.shared = make([]int8, len(a.w.c.Points))
	}
	if a.shared[p] == 0 {
		a.shared[p] = -1
		if podsAt(a.w, p) != nil {
			a.shared[p] = 1
		}
	}
	return a.shared[p] == 1
}

// k8sPodNode is the node (an index of the captures' nodes) on which the cluster metadata (--k8s) has a
// running pod, not on the host network, with address a (v6, as journeys carry it); -1 when it has
// none there, or pods on two nodes with that address.
func (s *flowStage) k8sPodNode(v6 bool, a uint32) int {
	m := s.a.opts.Cluster
	if m == nil {
		return -1
	}
	w := s.a.w
	if s.k8sOn == nil {
		s.k8sOn = map[[2]uint64]int{}
		add := func(ip netip.Addr, k int) {
			var key [2]uint64
			switch {
			case ip.Is4():
				key = addrKey(false, ip4(ip))
			case ip.Is6():
				key = addrKey(true, w.c.Tables.InternV6(ip.As16()))
			default:
				return
			}
			if old, seen := s.k8sOn[key]; seen && old != k {
				k = -1 // two pods on two nodes: neither
			}
			s.k8sOn[key] = k
		}
		for i := range m.Pods {
			p := &m.Pods[i]
			k, ok := w.nodeIdx[p.Node]
			if p.Done() || p.HostNetwork || !ok {
				continue
			}
			for _, ip := range p.IPs {
				add(ip, k)
			}
		}
		// Calico's workload endpoints name each pod's node too (calicoctl get workloadendpoints).
		for i := range m.WorkloadEndpoints {
			e := &m.WorkloadEndpoints[i]
			k, ok := w.nodeIdx[e.Node]
			if !ok {
				continue
			}
			for _, pf := range e.IPNetworks {
				if pf.IsSingleIP() {
					add(pf.Addr(), k)
				}
			}
		}
	}
	k, ok := s.k8sOn[addrKey(v6, a)]
	if !ok {
		return -1
	}
	return k
}

// adoptOwnAddrs makes the addresses localSource found to be one node's own (and no other's, nor a pod's,
// nor already known) that node's addresses. It reports whether it added an IPv4 address (the node
// addresses the single-frame checks read: outerFits, frameChecks).
func (a *analysis) adoptOwnAddrs() (added4 bool) {
	w := a.w
	keys := make([][2]uint64, 0, len(a.ownClaims))
	for k, n := range a.ownClaims {
		if n >= 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][1] < keys[j][1] || keys[i][1] == keys[j][1] && keys[i][0] < keys[j][0]
	})
	for _, k := range keys {
		n := a.ownClaims[k]
		v6, a := k[1] == 1, uint32(k[0])
		if _, ok := w.ownerOf(v6, a); ok || w.nodeOfIPOnly(v6, a) >= 0 {
			continue
		}
		if v6 {
			w.nodeOfIP6[a] = n
			continue
		}
		w.nodeOfIP[a] = n
		w.ipsOf[n] = append(w.ipsOf[n], a)
		added4 = true
	}
	return added4
}

// onePointStatus is the status of journey p, whose path is one point and which was seen there: where it
// went was not captured (one capture, or one carrying both ends), so it is never "delivered" for having
// been seen there, but between a pod and its own node (sameNodeStatus).
func (pl *placement) onePointStatus(p *placing) statusCode {
	st, ok := pl.sameNodeStatus(p)
	if !ok {
		st = stNotCaptured
	}
	if st != stDelivered {
		pl.jLast[p.j] = int32(p.pi.points[0])
	}
	return st
}

// sameNodeStatus is the status of journey p, whose path is one pod-veth point on a node that both its
// ends are on (localSource), seen there: delivered when headed to that veth's pod, or from it to the
// node's own address; from it to another pod of the node, delivered when the destination answered
// (answered), else left the captures (an open end, ends.go). ok is false for any other journey.
func (pl *placement) sameNodeStatus(p *placing) (statusCode, bool) {
	w, pi := pl.w, p.pi
	p0 := pi.points[0]
	if p.reach != 0 || pi.srcNode < 0 || pi.srcNode != pi.dstNode || w.pointRole[p0] != decode.RolePodVeth || pi.blindEnd ||
		pl.sharedVeth(p0) {
		return 0, false
	}
	g := p.h[p.reached[0]]
	o, _ := pl.obs(g)
	v6 := o.Flags&decode.FlagIPv6 != 0
	n := w.pointNode[p0]
	if last := p.h[len(p.h)-1]; last != g && pl.point(last) == p0 {
		// Seen again at the veth, rewritten by the node's NAT (hairpin: its pod reaching a Service
		// whose endpoint is itself): delivered when that packet is headed to the veth's pod.
		ol, _ := pl.obs(last)
		if dst, ok := w.ownerOf(v6, ol.Dst); ok && dst == p0 {
			return stDelivered, true
		}
	}
	src, srcOK := w.ownerOf(v6, o.Src)
	dst, dstOK := w.ownerOf(v6, o.Dst)
	if srcOK == dstOK || n != pi.srcNode {
		return 0, false // both ends' pods known (a capture of several pods' veths, fit.go), or neither
	}
	if dstOK && dst == p0 {
		return stDelivered, true // at its destination pod's cali, sent from its own node
	}
	if src != p0 {
		return 0, false
	}
	if pl.oe.ownAddr(n, v6, o.Dst) {
		return stDelivered, true // the node's own stack takes it in from the cali
	}
	if pl.answered(p) {
		return stDelivered, true
	}
	how := pi.local
	if how == 0 {
		how = localSeen
	}
	pl.oe.found = append(pl.oe.found, openEnd{j: int32(p.j), point: p0, left: true, addr: w.addrString(v6, o.Dst), local: how})
	return stLeftCaptures, true
}

// answered reports whether journey p's destination answered it: a packet of the reverse direction, not a
// TCP reset nor an ICMP error, first seen after p and before the direction's next packet.
func (pl *placement) answered(p *placing) bool {
	fwd, back := pl.dirJourneys(p.fl, pl.jDir[p.j]), pl.dirJourneys(p.fl, 1-pl.jDir[p.j])
	t0 := pl.hopTs.t0
	t := t0.at(p.j)
	next := int64(1<<63 - 1)
	// Both lists are in order of first sighting.
	if i := sort.Search(len(fwd), func(i int) bool { return t0.at(int(fwd[i])) > t }); i < len(fwd) {
		next = t0.at(int(fwd[i]))
	}
	for _, r := range back[sort.Search(len(back), func(i int) bool { return t0.at(int(back[i])) > t }):] {
		tr := t0.at(int(r))
		if tr <= t {
			continue
		}
		if tr > next {
			return false
		}
		h := pl.hops(int(r))
		if len(h) == 0 {
			continue
		}
		o, _ := pl.obs(h[0])
		if o.Flags&decode.FlagICMPError == 0 && !(o.Proto == 6 && o.TCPFlags&4 != 0) {
			return true
		}
	}
	return false
}

// One-way traffic from a pod to another pod of its node (UDP to a sink that never answers; a reply
// direction the node dropped) shows neither of localSource's signs, nor a path: nothing comes back
// into the node's pods, and the packets stop at the source pod's cali, just as packets the node drops
// on their way to another node do. Where the destination lives then rests on what else the captures
// show of its address:
//
//   - remote: some packet of the flow (either direction) crossed a tunnel device, a cluster node's
//     underlay or a router, or one back came into the source pod's cali routed more than once (a TTL
//     two or more below an initial one: routedBack), or another flow's packets crossed one on their way between the address and
//     the node (awayFrom), or the address was placed on another node (allEnds: by encapsulation), or it
//     shares a longer prefix, of at least a Calico address block (/26, IPv6 /122: IPAM gives each node
//     its own blocks), with pods captured on another node than with the node's own pods. The packets
//     are judged on the way to the underlay, as before: a host-drop when they did not get there.
//   - local (localBlock): it shares a block with pods captured on the source's node, more closely than
//     with any pod of another node.
//   - unknown (localMaybe): neither, and it shares a /16 (IPv6 /48: a likely IP pool) with the node's
//     pods. It may well be a pod of the node: no confident drop. Except on a WireGuard node whose
//     device was not captured: there a packet to an address no capture names is taken to have entered
//     the device (wgproxy.go), and judged so, as before.
//
// A local or unknown destination is put on the source's node, so its packets are judged as traffic
// between two pods of that node (sameNodeStatus): not a drop, left the captures at the source pod's cali,
// with a path-incomplete warning that says why and names the capture (or --k8s) that would tell. An
// address outside the /16 of every pod of the node keeps the path to the underlay.

// localDsts puts on its source's node the destination of each flow direction (ends, by flow) from a
// pod on a node whose underlay was captured, to an address no end or encapsulation placed, that no
// packet of the flow carried past the node's pod veths, when its address says it lives there or says
// nothing (above). learnt is allEnds' (address → node, -2 several).
func (s *pathStage) localDsts(ends [][2]pathEnds, learnt map[[2]uint64]int) {
	w := s.w
	var sites *podSites
	var away map[awayKey]bool
	var wgProxy []bool
	shared := map[int]bool{} // sharedVeth, once per pod veth asked about
	for fi, fl := range s.flows {
		for d := uint8(0); d < 2; d++ {
			e := &ends[fi][d]
			if fl.nDir(d) == 0 || e.dst >= 0 || e.dstPod >= 0 || e.src < 0 || e.srcPod < 0 || !w.cluster[e.src] ||
				len(w.underlays[e.src]) == 0 || fl.votes[0].crossed() || fl.votes[1].crossed() {
				continue
			}
			t := dirTuple(fl, d)
			if _, ok := learnt[addrKey(t.v6, t.dst)]; ok || w.nodeOfIPOnly(t.v6, t.dst) >= 0 {
				continue // placed on several nodes; a node's own address
			}
			if s.routedBack(fl, 1-d, e.srcPod) {
				continue // its packets back were routed more than once: it is not on the node
			}
			sh, ok := shared[e.srcPod]
			if !ok {
				sh = podsAt(w, e.srcPod) != nil
				shared[e.srcPod] = sh
			}
			if sh {
				continue // a capture of several pods' veths: its TTLs and addresses place none of them
			}
			if sites == nil {
				sites, away, wgProxy = newPodSites(w, learnt), s.awayFrom(ends), w.wgProxyNodes()
			}
			if away[awayKey{addrKey(t.v6, t.dst), e.src}] {
				continue // other flows' packets crossed between it and the node: it is not there
			}
			how := sites.where(t.v6, w.addr128(t.v6, t.dst), e.src)
			if how == localMaybe && wgProxy != nil && wgProxy[e.src] {
				continue // taken to have entered the node's WireGuard device, which was not captured (wgproxy.go)
			}
			if e.local = how; how != 0 {
				e.dst = e.src
			}
		}
	}
}

// routedBack says whether a packet of flow fl's direction d (up to its first routedSample journeys)
// was first seen at pod veth p with a TTL two or more below any that hosts send with: routed more than
// once on its way, so its source is not on p's node (a pod of the node reaches p routed once: its TTL
// is one below). Not for ICMP errors, whose source is a router or node on the way.
func (s *pathStage) routedBack(fl *flowAcc, d uint8, p int) bool {
	if s.ar == nil {
		return false
	}
	w := s.w
	for i, j := range s.dirJourneys(fl, d) {
		if i == routedSample {
			break
		}
		h := s.ar.hops(int(j))
		if len(h) == 0 {
			continue
		}
		o, _ := w.obsAt(h[0])
		if w.srcPoint[o.Source] != p || o.Flags&(decode.FlagICMPError|decode.FlagARP|decode.FlagNotIP) != 0 ||
			o.Encap() != decode.EncapNone {
			continue
		}
		if !initialTTL(o.TTL) && !(o.TTL < 255 && initialTTL(o.TTL+1)) {
			return true
		}
	}
	return false
}

// routedSample is how many journeys of a flow direction routedBack reads.
const routedSample = 4

// awayKey is an address (addrKey) and a node it does not live on (awayFrom).
type awayKey struct {
	a [2]uint64
	n int
}

// awayFrom returns the addresses that flows' packets show not to live on a node: the destination of
// a direction from that node, and the source of one to it, whose packets crossed a tunnel device, a
// cluster node's underlay or a router (their path left, or entered, the node).
func (s *pathStage) awayFrom(ends [][2]pathEnds) map[awayKey]bool {
	away := map[awayKey]bool{}
	for fi, fl := range s.flows {
		for d := uint8(0); d < 2; d++ {
			e := ends[fi][d]
			if fl.nDir(d) == 0 || !fl.votes[d].crossed() {
				continue
			}
			t := dirTuple(fl, d)
			if e.src >= 0 && e.src != e.dst {
				away[awayKey{addrKey(t.v6, t.dst), e.src}] = true
			}
			if e.dst >= 0 && e.dst != e.src {
				away[awayKey{addrKey(t.v6, t.src), e.dst}] = true
			}
		}
	}
	return away
}

// crossed says whether some journey of a flow direction was seen past the pod veths: at a tunnel
// device, a cluster node's underlay or a router.
func (v *dirVotes) crossed() bool { return v.tunnel || v.underlay || len(v.routers()) > 0 }

// u128 is an address as a 128-bit number, high half first; IPv4 in the top 32 bits, so that a prefix
// length counts the same bits either way.
type u128 [2]uint64

// addr128 is address a (v6: a Tables index, as journeys carry it) as a u128.
func (w *world) addr128(v6 bool, a uint32) u128 {
	if !v6 {
		return u128{uint64(a) << 32, 0}
	}
	b := w.c.Tables.V6(a).As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// commonBits is the length of the longest prefix a and b share.
func commonBits(a, b u128) int {
	if a[0] != b[0] {
		return bits.LeadingZeros64(a[0] ^ b[0])
	}
	return 64 + bits.LeadingZeros64(a[1]^b[1])
}

// podSites are the addresses known to be on each node: its captured pods', and those allEnds placed on
// it (not a node's own): per family (1: IPv6), per node, sorted.
type podSites struct {
	at [2][][]u128
}

// newPodSites collects the podSites of world w, with allEnds' learnt addresses (address → node, -2
// several).
func newPodSites(w *world, learnt map[[2]uint64]int) *podSites {
	ps := &podSites{at: [2][][]u128{make([][]u128, len(w.nodes)), make([][]u128, len(w.nodes))}}
	add := func(v6 bool, a uint32, n int) {
		f := 0
		if v6 {
			f = 1
		}
		ps.at[f][n] = append(ps.at[f][n], w.addr128(v6, a))
	}
	for p, n := range w.pointNode {
		if w.pointRole[p] != decode.RolePodVeth || !w.cluster[n] {
			continue
		}
		if a := w.podOf[p]; a != 0 {
			add(false, a, n)
		}
		if a := w.podOf6[p]; a != 0 {
			add(true, a, n)
		}
		for _, a := range w.podsOf[p] {
			add(false, a, n)
		}
	}
	for k, n := range learnt {
		if v6, a := k[1] == 1, uint32(k[0]); n >= 0 && w.nodeOfIPOnly(v6, a) < 0 {
			add(v6, a, n)
		}
	}
	for f := range ps.at {
		for _, l := range ps.at[f] {
			sort.Slice(l, func(i, j int) bool { return l[i][0] < l[j][0] || l[i][0] == l[j][0] && l[i][1] < l[j][1] })
		}
	}
	return ps
}

// closest is the longest prefix a shares with an address of sorted list l (-1 for none): its
// neighbours in order share the longest.
func closest(l []u128, a u128) int {
	i := sort.Search(len(l), func(i int) bool { return l[i][0] > a[0] || l[i][0] == a[0] && l[i][1] >= a[1] })
	best := -1
	if i < len(l) {
		best = commonBits(l[i], a)
	}
	if i > 0 {
		best = max(best, commonBits(l[i-1], a))
	}
	return best
}

// Prefix lengths localDsts reads addresses with: Calico's default IPAM block, and the prefix an IP
// pool likely spans; IPv4, IPv6.
var blockBits, poolBits = [2]int{26, 122}, [2]int{16, 48}

// where says whether address a (v6) lives on node n by the addresses known on the nodes: localBlock,
// localMaybe, or 0 when it lives elsewhere (localDsts).
func (ps *podSites) where(v6 bool, a u128, n int) localHow {
	f := 0
	if v6 {
		f = 1
	}
	local, remote := -1, -1
	for m, l := range ps.at[f] {
		if c := closest(l, a); m == n {
			local = c
		} else {
			remote = max(remote, c)
		}
	}
	switch {
	case local >= blockBits[f] && local > remote:
		return localBlock
	case remote >= blockBits[f] && remote > local:
		return 0
	case local >= poolBits[f]:
		return localMaybe
	}
	return 0
}
