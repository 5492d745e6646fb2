package correlate

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"
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

// lossWarnings are the loss warnings (not errors, which blindKinds has): the clock and window hedges say
// them as uncertain or unreliable too.
var lossWarnings = map[string]bool{"loss": true, "loss-one-way-gap": true, "loss-router-side-unknown": true,
	"loss-order-unknown": true}

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
	nodeOf, natOn := a.pointNodes(ans)
	for i := range ans {
		an := &ans[i]
		if an.Severity != sevError || !blindKinds[an.Kind] || an.Where.From == "" {
			continue
		}
		from, ok1 := nodeOf(an.Where.From)
		to, ok2 := nodeOf(an.Where.To)
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

// unfitMin is the least disagreement of a clock's samples (clockModel.disagree) that clockUnfit takes
// for a clock that may have moved during the capture. Below it a disagreement is more likely timestamp
// jitter or queueing than a moved clock, and too small to swap a flow's packets (every fit of the 32 lab
// scenarios' captures has one offset fitting all its samples: disagree 0). A step
// the samples cannot resolve (too few packets both ways on one side of it, or within their jitter:
// splitPair) leaves them disagreeing by about the step (node-b +300 µs at 98% of clusterip-dnat's
// capture: 294.7 µs).
const unfitMin = int64(50 * time.Microsecond)

// clockUnfit turns the errors of blindKinds that matching across a clock no offset fits could have made
// into warnings that say why and how to settle them, and says it in the loss warnings there too: a
// clock whose samples disagree by unfitMin or more (its offset moved during the capture, by a step too
// small for clock-step to tell from noise, or drift the fit did not take) places some of its node's
// sightings off by about that, so packets across it may have been matched out of order. That takes a
// segment with an end on such a node (inside it too, as for stepUncertain: a packet across the node as
// its clock stepped has its frames on both sides of the step), and one inside a node that rewrote
// addresses (a nat anomaly there): a packet is followed across its NAT in time order with its
// sightings on the other nodes (clockUncertain), so one of those out of order breaks it. review12:
// clusterip-dnat with node-b's clock stepped by +300 µs at 5% of its capture gave "ERROR encap-drop at
// node-a/cali… → node-a/tunl0 (10)", healthy-ipip "WARNING loss at node-b/cali… → node-b/tunl0 (1)";
// truth 0 lost in both.
func (a *analysis) clockUnfit(ans []Anomaly) {
	var unfit []string
	worst := int64(0)
	for n := range a.clocks {
		if d := a.clocks[n].disagree; d >= unfitMin {
			unfit = append(unfit, a.w.nodes[n])
			worst = max(worst, d)
		}
	}
	if len(unfit) == 0 {
		return
	}
	nodeOf, natOn := a.pointNodes(ans)
	for i := range ans {
		an := &ans[i]
		loss := lossWarnings[an.Kind]
		if (!loss && (an.Severity != sevError || !blindKinds[an.Kind])) || an.Where.From == "" ||
			strings.HasPrefix(an.Message, "Uncertain:") {
			continue
		}
		from, ok1 := nodeOf(an.Where.From)
		to, ok2 := nodeOf(an.Where.To)
		if !ok1 || !ok2 {
			continue
		}
		var at []string
		d := int64(0)
		switch {
		case from == to && a.clocks[from].disagree >= unfitMin:
			// the clock may have stepped: a packet across the node then has its frames on both sides
			at, d = []string{a.w.nodes[from]}, a.clocks[from].disagree
		case from == to:
			if !natOn[from] {
				continue // both ends on one clock that fits, no NAT to follow across: the order is the node's own
			}
			at, d = unfit, worst
		default:
			for _, n := range []int{from, to} {
				if m := a.clocks[n]; m.disagree >= unfitMin {
					at, d = append(at, a.w.nodes[n]), max(d, m.disagree)
				}
			}
			if len(at) == 0 {
				continue
			}
		}
		clocks, them := "the clock of "+at[0], "it"
		if len(at) > 1 {
			clocks, them = "the clocks of "+strings.Join(at, " and "), "them"
		}
		an.Severity = sevWarning
		an.Message = fmt.Sprintf("Uncertain: no single offset fits %s (the packets across %s disagree by %s, see the "+
			"clock offsets: a clock moved during the capture, by a step too small to tell from noise or by drift), so "+
			"packets across %s may have been matched out of order and these may not be lost. %s", clocks, them,
			time.Duration(d).Round(time.Microsecond/10), them, an.Message)
		an.Next = fmt.Sprintf("Give --offset %s=DURATION if it is known, or split the captures where the offset changes "+
			"(editcap -A/-B) and correlate each part, and re-run. %s", at[0], an.Next)
	}
}

// clockMisorders reports whether some clock may have put packets' sightings out of order: one no offset
// fits (disagree of unfitMin or more, clockUnfit) or one that stepped at a moment the captures cannot
// place (stepUnsure).
func (a *analysis) clockMisorders() bool {
	for n := range a.clocks {
		if a.clocks[n].disagree >= unfitMin || a.stepUnsure(n) {
			return true
		}
	}
	return false
}

// clockUnreliable is the summary's Unreliable when a clock moved during the capture and was not
// corrected (a tie of clocks stepped at one moment, a step of another pair's clock, or a clock no
// offset fits: its samples disagree by unfitMin or more), else "". Packets across such a clock may have
// been matched out of order, and one packet's sightings taken as two journeys: clusterip-dnat with
// node-a +40 ms and router-1 −500 µs at 1.611 s gave "40 packets, 27 delivered, 12 lost" (truth: 27
// sent, 27 delivered), healthy-ipip with node-a −500 µs and router-1 +500 µs 30 and 29. The losses are
// said as uncertain finding by finding (stepUncertain, clockUnfit), but the sent, delivered and lost
// counts are the summary's, which a reader quotes. A step taken off with a few frames about its moment
// unplaced (clockStep.unsure) is not one: those frames' packets are its clock-step warning's.
func (a *analysis) clockUnreliable() string {
	var moved []string
	for _, n := range a.movedClocks() {
		moved = append(moved, a.w.nodes[n])
	}
	if len(moved) == 0 {
		return ""
	}
	clocks, one, them := "the clock of "+moved[0], "it", "it"
	if len(moved) > 1 {
		clocks, one, them = "the clocks of "+strings.Join(moved[:len(moved)-1], ", ")+" and "+moved[len(moved)-1],
			"one of them", "them"
	}
	return fmt.Sprintf("no single offset fits %s over the capture (%s or a neighbour's stepped at a moment the "+
		"captures cannot place or tell apart, and was not corrected: see clock-step), so packets across %s may have "+
		"been matched out of order, one packet's sightings counted as two packets: the sent, delivered and lost counts "+
		"are unreliable; split the captures at the moment (editcap -A/-B) and correlate each part, or give --offset "+
		"%s=D for each part", clocks, one, them, moved[0])
}

// movedClocks returns the nodes, in order, whose clock moved during the capture and was not corrected:
// a candidate of a tie (tieGroups, its own samples fitting or not), a clock no offset fits (disagree of
// unfitMin or more), or one whose step came with another pair's that was not taken off.
func (a *analysis) movedClocks() []int {
	grouped := map[int]bool{}
	for _, g := range a.tieGroups() {
		for _, n := range g.nodes {
			grouped[n] = true
		}
	}
	var out []int
	for n := range a.clocks {
		m := &a.clocks[n]
		if grouped[n] || m.disagree >= unfitMin || len(m.steps) > 0 && len(m.steps[0].others) > 0 {
			out = append(out, n)
		}
	}
	return out
}

// retransUncertain says the retransmissions seen at a point on a node whose clock moved and was not
// corrected (movedClocks) are uncertain: a packet whose sightings were matched as two journeys there
// (one ended where its first sightings were taken by another) looks resent. healthy-ipip with node-a
// and router-1 stepped by ∓2 ms at 1.611 s gave "1 retransmitted segments in 1 flows" at node-b's pod
// veth: the lab resent nothing.
func (a *analysis) retransUncertain(ans []Anomaly) {
	moved := a.movedClocks()
	if len(moved) == 0 {
		return
	}
	groups := a.tieGroups()
	nodeOf, _ := a.pointNodes(ans)
	for i := range ans {
		an := &ans[i]
		n, ok := nodeOf(an.Where.Point)
		if an.Kind != "retransmission" || !ok || !slices.Contains(moved, n) {
			continue
		}
		at := a.w.nodes[n] // the clock-step warning that says it: a tie's is at its first node
		if g := tieGroupOf(groups, n); len(g.nodes) > 0 {
			at = a.w.nodes[g.nodes[0]]
		}
		an.Message = fmt.Sprintf("Uncertain: the clock of %s, or a neighbour's, may have stepped during the capture "+
			"and was not corrected (see clock-step at %s), so a packet's sightings may have been matched as two "+
			"journeys and look resent. %s", a.w.nodes[n], at, an.Message)
		an.Next = fmt.Sprintf("Split the captures at the moment the clock moved (editcap -A/-B) and correlate each "+
			"part, or give --offset %s=D for each part. %s", a.w.nodes[n], an.Next)
	}
}

// pointNodes returns the node of a capture point given by its ID (false for an ID no point has), and
// the nodes at which anomalies ans show a NAT rewrite (a nat anomaly at one of their points): what the
// clock hedges (clockUncertain, clockUnfit, stepUncertain) read of a finding's place.
func (a *analysis) pointNodes(ans []Anomaly) (nodeOf func(id string) (int, bool), natOn map[int]bool) {
	pointOf := pointIndex(a.w.c.Points)
	nodeOf = func(id string) (int, bool) {
		p, ok := pointOf[id]
		if !ok {
			return 0, false
		}
		return a.w.pointNode[p], true
	}
	natOn = map[int]bool{}
	for i := range ans {
		if ans[i].Kind == "nat" {
			for _, id := range []string{ans[i].Where.From, ans[i].Where.To} {
				if n, ok := nodeOf(id); ok {
					natOn[n] = true
				}
			}
		}
	}
	return nodeOf, natOn
}
