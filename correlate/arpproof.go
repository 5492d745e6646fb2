package correlate

import (
	"fmt"
	"sort"
	"time"

	"github.com/calipath/calipath/decode"
)

// arpAnsweredWindow bounds how long after a pod's broadcast request for Calico's gateway a packet the
// pod sends proves the request answered. A broadcast request means the pod's neighbour entry for the
// gateway is incomplete: its kernel queues what it would send through it, sends nothing, and repeats
// the request after retrans_time (1 s by default) until a reply comes. A packet sent before that
// repeat can only have been released by a reply to this request. (A unicast request is a probe of an
// entry the kernel keeps using meanwhile: a packet after it proves nothing. So is a broadcast one
// when the pod's mcast_resolicit is set, 0 by default.)
const arpAnsweredWindow = int64(900 * time.Millisecond)

// arpUnseen is a pod's broadcast request for Calico's gateway that no captured reply answered, kept
// until a packet the pod sent after it proves it answered (proveAnswered).
type arpUnseen struct {
	p, pi    int    // its point, and the point's index in arpOut.points
	finding  int    // its proxy-arp-missing finding's index in arpOut.findings
	t, until int64  // the request's corrected time, and the latest time a packet proves it answered
	spa      uint32 // the pod's address, as Observation.Src holds it
	g        uint32 // the request's frame
	by       uint32 // the proving packet's frame, when proved
	proved   bool
	v6       bool // an IPv6 neighbour solicitation for fe80::ecee:eeff:feee:eeee (nd.go); spa is then a V6 index
}

// mayBeAnswered keeps unanswered request o, a pod's request for Calico's gateway, to be proved
// answered when it was a broadcast: before the finding it is called for is added.
func (x *arpPairing) mayBeAnswered(o arpObs) {
	r := &x.arps[o.arp]
	if fr, _ := x.a.obs(o.g); fr.Dport != decode.ARPBroadcast || r.SPA == [4]byte{} {
		return
	}
	until := o.t + arpAnsweredWindow
	reqs := x.req[x.p] // the pod's requests, in time order: a packet after the next one proves nothing of o
	if i := sort.Search(len(reqs), func(i int) bool { return reqs[i] > o.t }); i < len(reqs) {
		until = min(until, reqs[i]-1)
	}
	*x.unseen = append(*x.unseen, arpUnseen{p: x.p, pi: x.pi, finding: len(*x.findings), t: o.t, until: until,
		spa: uint32(r.SPA[0])<<24 | uint32(r.SPA[1])<<16 | uint32(r.SPA[2])<<8 | uint32(r.SPA[3]), g: o.g})
}

// proveAnswered looks, in one pass over the files that hold their points, for a packet each kept
// request's pod sent (its address as source, to another unicast address) after it and within its window: the
// request was answered and its reply not captured. Such a request is no proxy-arp-missing finding and
// no unanswered request; its exchange's verdict is reply-not-captured, and capture-dropped says so.
func (a *analysis) proveAnswered(out *arpOut) {
	if len(out.unseen) == 0 {
		return
	}
	w := a.w
	byPoint := map[int][]int{} // point → its kept requests (indexes in out.unseen), in time order
	for i, u := range out.unseen {
		byPoint[u.p] = append(byPoint[u.p], i)
	}
	for f, obs := range w.c.Obs {
		if !a.holdsAny(f, byPoint) {
			continue
		}
		for i := range obs {
			w.trimAt(i)
			o := &obs[i]
			us := byPoint[w.srcPoint[o.Source]]
			if len(us) == 0 || o.Flags&(decode.FlagARP|decode.FlagNotIP|decode.FlagIPv6|decode.FlagOutbound) != 0 ||
				!unicastDst(o.Dst) || o.Dst == o.Src {
				continue
			}
			t := a.journeys.corrected(o, f, i)
			k := sort.Search(len(us), func(k int) bool { return out.unseen[us[k]].t >= t }) - 1
			if u := &out.unseen[us[max(k, 0)]]; k >= 0 && !u.proved && o.Src == u.spa && t <= u.until {
				u.proved, u.by = true, w.fileBase[f]+uint32(i)
			}
		}
	}
	a.settleAnswered(out)
}

// unicastDst reports whether IPv4 address d (as Observation.Dst holds it) is one a packet to must be
// sent to a resolved next hop: not 0.0.0.0, multicast (224/4), reserved (240/4) or the limited
// broadcast. A pod sends multicast and broadcast (IGMP, mDNS, DHCP) to a MAC made from the address,
// without ARP, so such a packet after an unanswered request proves nothing (review10 #1).
func unicastDst(d uint32) bool {
	return d != 0 && d>>28 < 0xE
}

// holdsAny reports whether file f holds frames of one of the points of byPoint.
func (a *analysis) holdsAny(f int, byPoint map[int][]int) bool {
	for si, s := range a.w.c.Sources {
		if int(s.File) == f && si < len(a.w.srcPoint) && byPoint[a.w.srcPoint[si]] != nil {
			return true
		}
	}
	return false
}

// settleAnswered takes the requests proved answered out of the findings and the unanswered counts,
// and keeps them (out.unseen) for capture-dropped.
func (a *analysis) settleAnswered(out *arpOut) {
	perPoint := map[int]int{} // point index → requests proved answered there
	for _, u := range out.unseen {
		if u.proved {
			perPoint[u.pi]++
		}
	}
	proved := out.unseen[:0]
	drop := map[int]bool{}
	for _, u := range out.unseen {
		// A capture that missed every proxy reply but recorded each packet a reply released, more than
		// once, is not dropping: the pod sends without asking (a static neighbour entry for the gateway)
		// while its requests go unanswered. Those stay unanswered (review10 #1).
		if !u.proved || perPoint[u.pi] > 1 && out.points[u.pi].ProxyReplies == 0 {
			continue
		}
		drop[u.finding] = true
		ap := &out.points[u.pi]
		ap.Unanswered--
		for i := range ap.Exchanges {
			if e := &ap.Exchanges[i]; e.Ts == u.t && e.Verdict == "unanswered" {
				e.Verdict = "reply-not-captured"
				break
			}
		}
		proved = append(proved, u)
	}
	out.unseen = proved
	if len(drop) == 0 {
		return
	}
	kept := out.findings[:0]
	for i, af := range out.findings {
		if !drop[i] {
			kept = append(kept, af)
		}
	}
	out.findings = kept
}

// arpMissedDrops adds to the capture-dropped anomalies (out) the replies each point's capture missed:
// at a point that has one already, to its message; elsewhere as an anomaly of its own.
func arpMissedDrops(f *findings, k *kindRow, out []Anomaly) []Anomaly {
	byPoint := map[int][]arpUnseen{}
	var points []int
	for _, u := range append(append([]arpUnseen(nil), f.a.side.arp.unseen...), f.a.side.nd.unseen...) {
		if byPoint[u.p] == nil {
			points = append(points, u.p)
		}
		byPoint[u.p] = append(byPoint[u.p], u)
	}
	sort.Ints(points)
	for _, p := range points {
		us := byPoint[p]
		var ev []Evidence
		n6 := 0
		for i, u := range us {
			if i < ackedEvidence {
				ev = append(ev, f.a.evidence(u.g), f.a.evidence(u.by))
			}
			if u.v6 {
				n6++
			}
		}
		missed := arpMissedText(len(us) - n6)
		switch {
		case n6 == len(us):
			missed = ndMissedText(n6)
		case n6 > 0:
			missed += " It also missed " + ndMissedText(n6)
		}
		id := f.a.w.c.Points[p].ID
		i := pointAnomaly(out, id)
		if i == len(out) {
			out = append(out, k.anomaly(k.severity, Where{Point: id}, nil, f.ids, len(us), ev, "The capture missed "+missed))
			continue
		}
		an := &out[i]
		an.Message = "It also missed " + missed + " " + an.Message
		an.Severity, an.Count = k.severity, an.Count+len(us)
		an.Evidence = append(an.Evidence, ev...)
	}
	return out
}

// arpMissedText says what n ARP replies a capture missed, and how they are counted.
func arpMissedText(n int) string {
	what, them := "the reply to 1 broadcast ARP request", "it was answered"
	if n > 1 {
		what, them = fmt.Sprintf("the replies to %d broadcast ARP requests", n), "they were answered"
	}
	return what + " for 169.254.1.1 from its pod (the evidence: the request, then the next unicast packet the pod " +
		"sent, less than a second later): a pod's kernel sends nothing through its gateway until the gateway's " +
		"ARP request is answered, so " + them + " and the capture missed the reply, unless the pod has a static " +
		"neighbour entry for 169.254.1.1 (then the requests went unanswered: check `ip neigh` in the pod)."
}
