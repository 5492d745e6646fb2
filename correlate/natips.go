package correlate

import (
	"fmt"
	"sort"

	"github.com/calipath/calipath/decode"
)

// maxNATSent bounds the pod packets natLearnNodeIPs keeps to look for at the underlay.
const maxNATSent = 1 << 14

// natSent is a packet a pod sent, as its veth saw it.
type natSent struct {
	src, dst uint32
	node     int
	ts       int64
}

// natLearnNodeIPs learns the IPv4 address of each Calico node that no other evidence gave one (no
// --node-ip, no encapsulated frame of its pods, no WireGuard message), from its source NAT: a packet
// one of its pods sent (seen at the pod's veth from the pod's address) that its underlay saw moments
// later with the same NAT-tolerant fingerprint and destination but another source. natOutgoing
// (MASQUERADE) rewrites the source to the address of the interface the packet leaves by: the node's.
// An address is taken only when it is the only one the node's pods were rewritten to, at least twice,
// and no pod's or other node's. Without it the node sends nothing the clocks can attribute (a pod's
// packets to the outside change their source on the way out), so they could not be estimated.
func (w *world) natLearnNodeIPs() {
	need := make([]bool, len(w.nodes))
	some := false
	for n := range w.nodes {
		if w.cluster[n] && len(w.ipsOf[n]) == 0 && len(w.podVeths[n]) > 0 {
			need[n], some = true, true
		}
	}
	if !some {
		return // the usual case: every node's address is known, and no pass over the frames
	}
	sent := w.natPodSent(need)
	if len(sent) == 0 {
		return
	}
	votes, at := w.natVotes(need, sent)
	for n, vs := range votes {
		ip, k, total := uint32(0), 0, 0
		for a, c := range vs {
			total += c
			if c > k || (c == k && a < ip) {
				ip, k = a, c
			}
		}
		if k < 2 || k != total {
			continue // one rewrite could be chance; two addresses are no node's own
		}
		if _, taken := w.nodeOfIP[ip]; taken {
			continue
		}
		w.addNodeIP(n, ip, fmt.Sprintf("source NAT (natOutgoing) of its pods' packets between their veth and %s (%d frames)",
			w.c.Points[at[n]].ID, k))
	}
}

// natPodSent collects, by NAT-tolerant fingerprint, the packets the pods of the nodes in need sent
// (at most maxNATSent).
func (w *world) natPodSent(need []bool) map[uint64]natSent {
	sent := map[uint64]natSent{}
	vethFile := w.filesWith(func(p int) bool { return w.pointRole[p] == decode.RolePodVeth && need[w.pointNode[p]] })
	for f, obs := range w.c.Obs {
		if !vethFile[f] {
			continue
		}
		loose := &w.c.Loose[f]
		for i := range obs {
			w.trimAt(i)
			o := &obs[i]
			pi := w.srcPoint[o.Source]
			n := w.pointNode[pi]
			if w.pointRole[pi] != decode.RolePodVeth || !need[n] || !natCandidate(o) || o.Src != w.podOf[pi] || o.Src == 0 {
				continue
			}
			if len(sent) >= maxNATSent {
				return sent
			}
			sent[loose.At(i)] = natSent{src: o.Src, dst: o.Dst, node: n, ts: w.c.Stamps[f].Ts(i, o)}
		}
	}
	return sent
}

// natVotes counts, per node in need, the sources its way out (natOut) saw on the pods' packets (sent)
// when they differ from the pod's: the rewritten sources; at is the point of each node's first.
func (w *world) natVotes(need []bool, sent map[uint64]natSent) (votes []map[uint32]int, at []int) {
	votes, at = make([]map[uint32]int, len(w.nodes)), make([]int, len(w.nodes))
	underFile := w.filesWith(func(p int) bool { return need[w.pointNode[p]] && w.natOut(p) })
	for f, obs := range w.c.Obs {
		if !underFile[f] {
			continue
		}
		loose := &w.c.Loose[f]
		for i := range obs {
			w.trimAt(i)
			o := &obs[i]
			pi := w.srcPoint[o.Source]
			n := w.pointNode[pi]
			if !need[n] || !w.natOut(pi) || !natCandidate(o) {
				continue
			}
			s, ok := sent[loose.At(i)]
			if !ok || s.node != n || o.Dst != s.dst || o.Src == s.src || o.Src == 0 {
				continue
			}
			if d := w.c.Stamps[f].Ts(i, o) - s.ts; d < 0 || d > sightingSpan {
				continue // a packet passes its node in microseconds, veth first
			}
			if _, pod := w.podOwner[o.Src]; pod {
				continue
			}
			if votes[n] == nil {
				votes[n], at[n] = map[uint32]int{}, pi
			}
			votes[n][o.Src]++
		}
	}
	return votes, at
}

// natOut reports whether point p is its node's way out to the underlay: an underlay point, or, on a
// node without one, a point whose role is unknown (a -i any capture's interface without a name and
// without a Calico signature: the node's uplink in BGP mode).
func (w *world) natOut(p int) bool {
	n := w.pointNode[p]
	return w.pointRole[p] == decode.RoleUnderlay || (len(w.underlays[n]) == 0 && w.pointRole[p] == decode.RoleUnknown)
}

// natCandidate reports whether an Observation can show a source NAT: an IPv4 packet in clear whose
// fingerprint hashes its payload.
func natCandidate(o *decode.Observation) bool {
	return o.Encap() == decode.EncapNone && o.Flags&(decode.FlagNotIP|decode.FlagARP|decode.FlagIPv6|
		decode.FlagNoPayloadHash|decode.FlagICMPError|decode.FlagLaterFragment) == 0
}

// addNodeIP gives node n the IPv4 address ip, learned from the traffic for the reason why: the
// encapsulating header contexts with it as an outer address name n as their sender or receiver.
func (w *world) addNodeIP(n int, ip uint32, why string) {
	w.nodeOfIP[ip] = n
	w.ipsOf[n] = append(w.ipsOf[n], ip)
	w.learnedIPs = append(w.learnedIPs, decode.NodeIP{Node: w.nodes[n], IP: addrOf(ip), Reason: why})
	sort.SliceStable(w.learnedIPs, func(x, y int) bool { return w.learnedIPs[x].Node < w.learnedIPs[y].Node })
	for i := range w.ctx {
		x := &w.ctx[i]
		if x.Encap == decode.EncapNone || x.OuterV != 4 {
			continue
		}
		if ip4(x.OuterSrcAddr()) == ip && w.ctxNodes[i][0] < 0 {
			w.ctxNodes[i][0] = n
		}
		if ip4(x.OuterDstAddr()) == ip && w.ctxNodes[i][1] < 0 {
			w.ctxNodes[i][1] = n
		}
	}
}

// unknownOut lists, per Calico node without an underlay point, its points whose role is unknown (see
// world.natOut): the nearest the wire its captures come, before its tunnels and pods' veths.
func (w *world) unknownOut() [][]int {
	out := make([][]int, len(w.nodes))
	for p, r := range w.pointRole {
		if n := w.pointNode[p]; r == decode.RoleUnknown && w.cluster[n] && len(w.underlays[n]) == 0 {
			out[n] = append(out[n], p)
		}
	}
	return out
}
