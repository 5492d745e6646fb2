package correlate

import (
	"fmt"
	"math/bits"
	"strings"
)

// methodUncrossed is the clock method of a node no sampled packet crosses to or from.
const methodUncrossed = "no packets cross to or from this node: not corrected"

// blindSeen notes that a sampled packet with NAT-tolerant fingerprint fp, whose sending node is unknown, was
// seen on node n: blind maps each such fingerprint to the nodes it was seen on (one bit per node, the
// first 64 nodes), for at most maxClockSamples fingerprints. It returns blind, made on first use.
func (w *world) blindSeen(blind map[uint64]uint64, fp uint64, n int) map[uint64]uint64 {
	if n >= 64 {
		return blind
	}
	if blind == nil {
		blind = map[uint64]uint64{}
	}
	if m, ok := blind[fp]; ok || len(blind) < maxClockSamples {
		blind[fp] = m | 1<<uint(n)
	}
	return blind
}

// blindNodes marks the clocks nothing corrected although packets crossed between their node and
// another (a fingerprint of blind seen on both): none of those packets came from a known sending node
// (their sources are no pod's or node IP calipath knows), so none could be sampled. Such a clock may
// be off by anything, and the order of packets across its node with it.
func (w *world) blindNodes(models []clockModel, blind map[uint64]uint64) {
	var crossed uint64
	for _, m := range blind {
		if bits.OnesCount64(m) >= 2 {
			crossed |= m
		}
	}
	for n := range models {
		if n >= 64 || crossed&(1<<uint(n)) == 0 || models[n].method != methodUncrossed {
			continue
		}
		models[n].blind = true
		models[n].method = fmt.Sprintf("packets cross to and from this node, but none from an address calipath could put "+
			"down to a node (no pod's address or node IP it knows): could not be estimated, not corrected; give the nodes' IPs "+
			"(--node-ip NODE=IP, or --k8s) or --offset %s=DURATION", w.nodes[n])
	}
}

// blindKinds are the anomaly kinds whose errors rest on the order of packets across nodes (a packet
// that seems to vanish may have been matched out of order with the next): on a node whose clock could
// not be estimated (clockModel.blind) they are not certain.
var blindKinds = map[string]bool{"encap-drop": true, "underlay-drop": true, "decap-drop": true, "delivery-drop": true,
	"host-drop": true, "pmtu-blackhole": true, "wireguard-no-session": true}

// clockUncertain turns the errors of blindKinds at a segment with an end on a node whose clock could
// not be estimated into warnings that say why they are uncertain and how to settle them: the clocks
// of that node were not corrected, so packets across it may have been matched out of order. That
// takes a segment between two nodes, or one inside a node that rewrote addresses (a nat anomaly
// there): a packet is followed across a NAT rewrite by its NAT-tolerant fingerprint within its node,
// in time order, and a sighting on another node out of order breaks that. A segment inside a node
// without NAT stays as it is: its two ends share one clock.
func (a *analysis) clockUncertain(ans []Anomaly) {
	var blind []string
	for n := range a.clocks {
		if a.clocks[n].blind {
			blind = append(blind, a.w.nodes[n])
		}
	}
	if len(blind) == 0 {
		return
	}
	nodeOf := map[string]int{}
	for i := range a.w.c.Points {
		nodeOf[a.w.c.Points[i].ID] = a.w.pointNode[i]
	}
	natOn := map[int]bool{}
	for i := range ans {
		if ans[i].Kind == "nat" {
			for _, id := range []string{ans[i].Where.From, ans[i].Where.To} {
				if n, ok := nodeOf[id]; ok {
					natOn[n] = true
				}
			}
		}
	}
	for i := range ans {
		an := &ans[i]
		if an.Severity != sevError || !blindKinds[an.Kind] || an.Where.From == "" {
			continue
		}
		from, ok1 := nodeOf[an.Where.From]
		to, ok2 := nodeOf[an.Where.To]
		if !ok1 || !ok2 || (from == to && !natOn[from]) {
			continue
		}
		var at []string
		for _, n := range []int{from, to} {
			if a.clocks[n].blind && (len(at) == 0 || at[0] != a.w.nodes[n]) {
				at = append(at, a.w.nodes[n])
			}
		}
		if len(at) == 0 {
			continue
		}
		clocks, them := "the clock of "+at[0], "it"
		if len(at) > 1 {
			clocks, them = "the clocks of "+strings.Join(at, " and "), "them"
		}
		an.Severity = sevWarning
		an.Message = fmt.Sprintf("Uncertain: %s could not be estimated (packets cross to and from %s, but none from an "+
			"address calipath could put down to a node), so packets across nodes may have been matched out of order and "+
			"these may not be lost. %s", clocks, them, an.Message)
		an.Next = fmt.Sprintf("Give the nodes' IPs (--node-ip NODE=IP for each node, or --k8s) so calipath can estimate "+
			"%s, or --offset %s=DURATION if it is known, and re-run. %s", clocks, at[0], an.Next)
	}
}
