package correlate

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/calipath/calipath/decode"
)

// IPv6 neighbour discovery (RFC 4861), as the ARP check (arpicmp.go) for IPv4: a Calico IPv6 pod's
// default route is via fe80::ecee:eeff:feee:eeee dev eth0, the link-local address the kernel gives the
// host end of its veth from its MAC ee:ee:ee:ee:ee:ee, and the pod's kernel asks for that address's MAC
// with a neighbour solicitation (NS), which the host answers with a neighbour advertisement (NA) for
// its own address (no proxy). The check pairs solicitations with advertisements at every point and
// judges the gateway's at the pods' veths: nd-gateway-unanswered, nd-unanswered, nd-unexpected-mac.

// NDPoint summarises IPv6 neighbour discovery at one point.
type NDPoint struct {
	Point          string `json:"point"`
	Solicitations  int    `json:"solicitations"`  // neighbour solicitations, duplicate address detection's left out
	Advertisements int    `json:"advertisements"` // neighbour advertisements
	// GatewayOK counts the advertisements of fe80::ecee:eeff:feee:eeee at ee:ee:ee:ee:ee:ee: by their
	// target link-layer address option, or, a solicited one without it, by the frame's source MAC
	// (decode.ND.AdvertisedMAC).
	GatewayOK int `json:"gateway_ok"`
	// AdvertFlags counts the advertisements by their flags (R router, S solicited, O override; "-"
	// none), e.g. "RSO 1, RS 2": a host answers its pod's multicast solicitation with R, S and O and
	// the option, a unicast one (a probe of an entry in use) with R and S and no option.
	AdvertFlags   string  `json:"advert_flags,omitempty"`
	Unanswered    int     `json:"unanswered"`     // solicitations no captured advertisement answered
	UnexpectedMAC int     `json:"unexpected_mac"` // advertisements of the gateway at another MAC
	DAD           int     `json:"dad"`            // duplicate address detection (from ::): no answer expected
	LatencyNs     Latency `json:"latency_ns"`     // solicitation to advertisement
}

// ndObs is a neighbour discovery message at a point: its corrected time, global observation id and
// index in the ND table.
type ndObs struct {
	t  int64
	g  uint32
	nd uint32
}

// ndOut is what the ND check gives: each point's counts, the findings (arpFinding, kinds nd-*), the
// solicitations left unanswered while a point's capture dropped frames, and the gateway solicitations
// a later packet of their pod proved answered (their advertisement not captured).
type ndOut struct {
	points      []NDPoint
	findings    []arpFinding
	notCaptured []int // by point
	unseen      []arpUnseen
}

// nd pairs neighbour solicitations with advertisements at every point and judges the pods' gateway.
func (a *analysis) nd() ndOut {
	w := a.w
	out := ndOut{notCaptured: make([]int, len(w.c.Points))}
	nds := w.c.Tables.NDAll()
	if len(nds) <= 1 {
		return out // no message decoded (index 0 is none): no pass over the frames
	}
	byPoint := map[int][]ndObs{}
	for f, obs := range w.c.Obs {
		for i := range obs {
			w.trimAt(i)
			if o := &obs[i]; o.Proto == 58 && o.Seq != 0 && o.IsND() {
				p := w.srcPoint[o.Source]
				byPoint[p] = append(byPoint[p], ndObs{t: a.journeys.corrected(o, f, i), g: w.fileBase[f] + uint32(i), nd: o.Seq})
			}
		}
	}
	if len(byPoint) == 0 {
		return out
	}
	points := make([]int, 0, len(byPoint))
	for p := range byPoint {
		points = append(points, p)
	}
	sort.Ints(points)
	for _, p := range points {
		out.points = append(out.points, a.ndAt(p, byPoint[p], nds, &out))
	}
	a.proveNDAnswered(&out)
	return out
}

// ndPending is a solicitation waiting for its advertisement.
type ndPending struct {
	obs     ndObs
	replied bool
}

// ndAt pairs the messages seen at point p (list) and adds its findings to out.
func (a *analysis) ndAt(p int, list []ndObs, nds []decode.ND, out *ndOut) NDPoint {
	slices.SortStableFunc(list, func(x, y ndObs) int { return cmp.Compare(x.t, y.t) })
	np := NDPoint{Point: a.w.c.Points[p].ID}
	pod := a.w.pointRole[p] == decode.RolePodVeth
	var lat latAcc
	var pending []ndPending
	var prev *ndObs
	flags := map[string]int{}
	for i := range list {
		o := list[i]
		if int(o.nd) >= len(nds) {
			continue
		}
		n := &nds[o.nd]
		// The same frame from two captures of one interface: count it once.
		if prev != nil && prev.nd == o.nd && o.t-prev.t <= int64(time.Millisecond) {
			continue
		}
		prev = &list[i]
		switch {
		case n.Type == 135 && n.Src == [16]byte{}:
			np.DAD++ // duplicate address detection: an answer would mean the address is taken
		case n.Type == 135:
			np.Solicitations++
			pending = append(pending, ndPending{obs: o})
		case n.Type == 136:
			np.Advertisements++
			flags[n.FlagString()]++
			for j := len(pending) - 1; j >= 0 && o.t-pending[j].obs.t <= arpTimeout; j-- { // newest first
				if pd := &pending[j]; !pd.replied && nds[pd.obs.nd].Target == n.Target {
					pd.replied = true
					lat.add(o.t - pd.obs.t)
					break
				}
			}
			if mac, ok := n.AdvertisedMAC(); n.Target == decode.CalicoGateway6 && ok && pod {
				if mac == decode.CalicoMAC {
					np.GatewayOK++
				} else {
					np.UnexpectedMAC++
					out.findings = append(out.findings, arpFinding{point: p, kind: "nd-unexpected-mac", ev: a.evidence(o.g),
						who: netip.AddrFrom16(n.Target).String(), mac: net.HardwareAddr(mac[:]).String(), t: o.t})
				}
			}
		}
	}
	for _, pd := range pending {
		if !pd.replied {
			a.ndUnanswered(p, pd.obs, nds, pending, &np, out)
		}
	}
	np.LatencyNs = lat.summary()
	np.AdvertFlags = flagCounts(flags)
	return np
}

// flagCounts lists advertisements counted by their flags (ND.FlagString), most flags first: "RSO 1, RS 2".
func flagCounts(by map[string]int) string {
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y string) int {
		return cmp.Or(cmp.Compare(len(y), len(x)), cmp.Compare(strings.IndexByte("RSO-", x[0]), strings.IndexByte("RSO-", y[0])), cmp.Compare(x, y))
	})
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, by[k])
	}
	return b.String()
}

// ndUnanswered judges solicitation o at point p, which no captured advertisement answered (pending
// are the point's solicitations, in time order).
func (a *analysis) ndUnanswered(p int, o ndObs, nds []decode.ND, pending []ndPending, np *NDPoint, out *ndOut) {
	if a.capDrop.droppedIn(p, o.t, o.t+arpTimeout) {
		out.notCaptured[p]++ // the advertisement may be among the frames the capture dropped
		return
	}
	np.Unanswered++
	n := &nds[o.nd]
	kind := "nd-unanswered"
	if n.Target == decode.CalicoGateway6 && a.w.pointRole[p] == decode.RolePodVeth {
		kind = "nd-gateway-unanswered"
		if fr, _ := a.obs(o.g); n.Dst[0] == 0xff {
			src := fr.Src // the pod's address, as the Observations it sends hold it // multicast: the pod's entry for its gateway is incomplete (see arpAnsweredWindow)
			until := o.t + arpAnsweredWindow
			for _, q := range pending { // a packet after the pod's next solicitation proves nothing of this one
				if q.obs.t > o.t && nds[q.obs.nd].Target == n.Target {
					until = min(until, q.obs.t-1)
					break
				}
			}
			out.unseen = append(out.unseen, arpUnseen{p: p, pi: len(out.points), finding: len(out.findings), t: o.t,
				until: until, spa: src, g: o.g, v6: true})
		}
	}
	out.findings = append(out.findings, arpFinding{point: p, kind: kind, ev: a.evidence(o.g),
		who: netip.AddrFrom16(n.Target).String(), t: o.t})
}

// proveNDAnswered looks for a packet each kept gateway solicitation's pod sent (its address as source,
// to a unicast address beyond the link) through the point after it and within its window: its kernel
// sends such a packet through the gateway only once an advertisement resolved it, so the solicitation
// was answered and the capture missed the advertisement. Such a solicitation is no finding (as
// proveAnswered for ARP).
func (a *analysis) proveNDAnswered(out *ndOut) {
	if len(out.unseen) == 0 {
		return
	}
	w := a.w
	byPoint := map[int][]int{}
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
			if len(us) == 0 || o.Flags&(decode.FlagIPv6|decode.FlagNotIP|decode.FlagOutbound) != decode.FlagIPv6 ||
				(o.Proto == 58 && o.Sport < 256 && decode.LinkScopeICMPv6[o.Sport&0xff]) || !decode.PodAddr6(w.c.Tables.V6(o.Dst).As16()) {
				continue
			}
			t := a.journeys.corrected(o, f, i)
			k := sort.Search(len(us), func(k int) bool { return out.unseen[us[k]].t >= t }) - 1
			if u := &out.unseen[us[max(k, 0)]]; k >= 0 && !u.proved && o.Src == u.spa && t <= u.until {
				u.proved, u.by = true, w.fileBase[f]+uint32(i)
			}
		}
	}
	a.settleNDAnswered(out)
}

// settleNDAnswered takes the solicitations proved answered out of the findings and the unanswered
// counts, unless a point holds more than one such and no advertisement of the gateway at all: then the
// pod sends without asking (a static neighbour entry) and its solicitations stay unanswered.
func (a *analysis) settleNDAnswered(out *ndOut) {
	perPoint := map[int]int{}
	for _, u := range out.unseen {
		if u.proved {
			perPoint[u.pi]++
		}
	}
	proved := out.unseen[:0]
	drop := map[int]bool{}
	for _, u := range out.unseen {
		if !u.proved || perPoint[u.pi] > 1 && out.points[u.pi].GatewayOK == 0 {
			continue
		}
		drop[u.finding] = true
		out.points[u.pi].Unanswered--
		proved = append(proved, u)
	}
	out.unseen = proved
	kept := out.findings[:0]
	for i, af := range out.findings {
		if !drop[i] {
			kept = append(kept, af)
		}
	}
	out.findings = kept
}

// detectND groups the neighbour discovery findings of kind k by point, as detectARP does for ARP: at
// a point whose capture recorded one direction only, the gateway's unanswered solicitations are a
// warning that says so, and other targets' are left out.
func detectND(f *findings, k *kindRow) []Anomaly {
	groups := map[int][]arpFinding{}
	var points []int
	for _, af := range f.a.side.nd.findings {
		if af.kind == k.kind {
			if groups[af.point] == nil {
				points = append(points, af.point)
			}
			groups[af.point] = append(groups[af.point], af)
		}
	}
	var out []Anomaly
	for _, p := range points {
		fs := groups[p]
		var ev []Evidence
		for _, af := range fs {
			if len(ev) < 10 {
				ev = append(ev, af.ev)
			}
		}
		w := f.a.w
		where := Where{Point: w.c.Points[p].ID}
		detail := fmt.Sprintf("%d neighbour solicitations for %s.", len(fs), fs[0].who)
		if k.kind == "nd-unexpected-mac" {
			detail = fmt.Sprintf("%s advertised at %s.", fs[0].who, fs[0].mac)
		}
		if f.a.oneWay.hidesReply(p) {
			if k.kind == "nd-gateway-unanswered" {
				an := k.anomaly(sevWarning, where, nil, f.ids, len(fs), ev, "")
				an.Message = fmt.Sprintf("%d neighbour solicitations for %s at %s got no advertisement in this capture, but it "+
					"recorded frames of one direction only (tcpdump -Q, or a filter on direction; or the host sent nothing "+
					"at all): whether anything answered cannot be told from it.", len(fs), fs[0].who, where.Point)
				an.Next = "Capture both directions on that interface (no -Q) and look again. If no advertisement shows there: " + k.next
				an.named(w.nodes[w.pointNode[p]], "<cali>", w.podIface(p))
				out = append(out, an)
			}
			continue
		}
		an := k.anomaly(k.severity, where, nil, f.ids, len(fs), ev, detail)
		an.named(w.nodes[w.pointNode[p]], "<cali>", w.podIface(p))
		out = append(out, an)
	}
	return out
}

// ndMissedText says what n neighbour advertisements for the pods' gateway a capture missed (as
// arpMissedText for ARP).
func ndMissedText(n int) string {
	what, them := "the advertisement answering 1 multicast neighbour solicitation", "it was answered"
	if n > 1 {
		what, them = fmt.Sprintf("the advertisements answering %d multicast neighbour solicitations", n), "they were answered"
	}
	return what + " for fe80::ecee:eeff:feee:eeee from its pod (the evidence: the solicitation, then the next packet the " +
		"pod sent beyond its link, less than a second later): a pod's kernel sends nothing through its gateway until " +
		"its solicitation is answered, so " + them + " and the capture missed the advertisement, unless the pod has a " +
		"static neighbour entry for fe80::ecee:eeff:feee:eeee (then the solicitations went unanswered: check `ip -6 neigh` in the pod)."
}

// notCapturedAt is how many solicitations at point p were left unanswered while its capture dropped frames.
func (o *ndOut) notCapturedAt(p int) int {
	if p < len(o.notCaptured) {
		return o.notCaptured[p]
	}
	return 0
}
