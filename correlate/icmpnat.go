package correlate

import (
	"fmt"
	"strings"
	"time"
)

// detectICMPNATUnknown says where an ICMP error ended at a point and an error alike but for its quote's
// flow (addresses, ports or echo identifier) began at a point after it on the same node within the
// window: the matcher refused to take the second for the first rewritten by NAT, since no NAT event of
// the quoted flows' own packets joined them (errNATShown, natRefusal). Either a NAT between the points
// rewrote the error (then it was not lost there) or they are two errors: the captures cannot tell.
func detectICMPNATUnknown(f *findings, k *kindRow) []Anomaly {
	a := f.a
	type pair struct{ from, to int }
	type group struct {
		n       int
		flows   map[int32]bool
		ev      []Evidence
		example string
		gapHi   int64
	}
	groups := map[pair]*group{}
	var order []pair
	tb := a.w.c.Tables
	quoted := func(g uint32) string {
		o, _ := a.obs(g)
		e := tb.ICMPErr(o.Seq)
		h := &e.Quoted
		if e.QuotedInner.Version != 0 {
			h = &e.QuotedInner
		}
		if h.Version == 0 {
			return "?"
		}
		return fmt.Sprintf("%s %s → %s", protoName(h.Proto), endpointAddr(h.SrcAddr(), e.QSport, h.Proto),
			endpointAddr(h.DstAddr(), e.QDport, h.Proto))
	}
	for _, r := range a.natUnknown() {
		p := pair{a.point(r.from), a.point(r.to)}
		gr := groups[p]
		if gr == nil {
			gr = &group{flows: map[int32]bool{}}
			groups[p] = gr
			order = append(order, p)
		}
		gr.n++
		gap := a.ts(r.to) - a.ts(r.from)
		gr.gapHi = max(gr.gapHi, gap)
		gr.flows[a.jFlow[r.j]], gr.flows[a.jFlow[r.nj]] = true, true
		if len(gr.ev) < 10 {
			gr.ev = append(gr.ev, a.evidence(r.from), a.evidence(r.to))
		}
		if gr.example == "" {
			gr.example = fmt.Sprintf("the first quoting %s, the other %s, %s later", quoted(r.from), quoted(r.to),
				time.Duration(gap))
		}
	}
	var out []Anomaly
	for _, p := range order {
		gr := groups[p]
		pts := a.w.c.Points
		from, to := pts[p.from].ID, pts[p.to].ID
		detail := fmt.Sprintf("%d ICMP errors were last seen at %s, and an error alike but for the flow it quotes was "+
			"first seen at %s after each (%s; at most %s apart).", gr.n, from, to, gr.example, time.Duration(gr.gapHi))
		out = append(out, k.anomaly(k.severity, Where{From: from, To: to}, gr.flows, f.ids, gr.n, gr.ev, detail))
	}
	return out
}

// natUnknown returns the refused joins (natRefusal) that icmp-error-nat-unknown says: the first error
// ended where it was refused and the second began there, both at placed points, and no packet of
// either quoted flow crossed the two points unrewritten (crossedUnrewritten).
func (a *analysis) natUnknown() []natRefusal {
	if len(a.journeys.natRefused) == 0 {
		return nil
	}
	var out []natRefusal
	crossed := a.crossedUnrewritten()
	for _, r := range a.journeys.natRefused {
		old, nw := a.hops(int(r.j)), a.hops(int(r.nj))
		if len(old) == 0 || len(nw) == 0 || old[len(old)-1] != r.from || nw[0] != r.to {
			continue // the first went on, or the second joined another journey: not a loss in question
		}
		from, to := a.point(r.from), a.point(r.to)
		if from < 0 || to < 0 {
			continue // a capture placed at no point
		}
		if crossed[flowPts{a.jFlow[r.j], from, to}] || crossed[flowPts{a.jFlow[r.nj], from, to}] {
			continue // a quoted flow's own packets crossed between the points unrewritten: no NAT joins them
		}
		out = append(out, r)
	}
	return out
}

// natUnknownJourneys makes the two journeys of each join icmp-error-nat-unknown says (natUnknown)
// uncertain (statusUncertain, with why in natUnsure) and marks their entries in res.ICMP: the first,
// followed as ending where it was last seen, read delivered there when that was its destination's
// node (nat-error-late: at node-a/tunl0, the error then seen again un-NATed at pod-a's cali) or lost,
// and the second delivered, one error counted as two with confidence. Either the error crossed a NAT
// the captures do not show and went on as the second, or they are two errors: the captures cannot
// tell. The loss findings at the segment are hedged apart (natUnknownUncertain). Run once the
// findings, which read the statuses, are made.
func (a *analysis) natUnknownJourneys(res *Result) {
	rs := a.natUnknown()
	if len(rs) == 0 {
		return
	}
	pts := a.w.c.Points
	a.natUnsure = map[int32]string{}
	for _, r := range rs {
		from, to := a.point(r.from), a.point(r.to)
		gap := time.Duration(a.ts(r.to) - a.ts(r.from))
		was := a.jStatus[r.j].String()
		a.natUnsure[r.j] = fmt.Sprintf("Uncertain: followed as %s where it was last seen, at %s, but an ICMP error alike "+
			"but for the flow it quotes began at %s %s later (journey %d): a NAT between the two points that the captures "+
			"do not show may have rewritten this error, which then went on as that one, or they are two errors "+
			"(see icmp-error-nat-unknown).", was, pts[from].ID, pts[to].ID, gap, r.nj)
		a.natUnsure[r.nj] = fmt.Sprintf("Uncertain: followed as %s, but it may be the ICMP error of journey %d, last seen at "+
			"%s %s before, rewritten by a NAT between the two points that the captures do not show, or an error of its own "+
			"(see icmp-error-nat-unknown).", a.jStatus[r.nj].String(), r.j, pts[from].ID, gap)
		a.jStatus[r.j], a.jStatus[r.nj] = stUncertain, stUncertain
		a.jLast[r.j], a.jNext[r.j] = int32(from), int32(to)
	}
	for i, j := range a.side.icmp.errJ {
		if why, ok := a.natUnsure[j]; ok && i < len(res.ICMP) {
			res.ICMP[i].Uncertain = why
		}
	}
}

// flowPts is a flow and two points (in either order).
type flowPts struct {
	f        int32
	from, to int
}

// crossedUnrewritten finds, for the flows of the journeys of the refused joins (natRefusal), the pairs
// of points between which a packet of the flow other than an ICMP error passed with the flow's
// addresses and ports unchanged (decode.Tables.FlowKeys), keyed both ways: there no NAT rewrote that
// flow, nor its errors. Read only when there are refused joins.
func (a *analysis) crossedUnrewritten() map[flowPts]bool {
	want := map[int32]bool{}
	for _, r := range a.journeys.natRefused {
		want[a.jFlow[r.j]], want[a.jFlow[r.nj]] = true, true
	}
	out := map[flowPts]bool{}
	if len(want) == 0 {
		return out
	}
	tb := a.w.c.Tables
	for j := 0; j < a.nJ; j++ {
		if f := a.jFlow[j]; f < 0 || !want[f] {
			continue
		}
		type seen struct {
			key uint64
			pt  int
		}
		var s []seen
		for _, g := range a.hops(j) {
			o, _ := a.obs(g)
			k, _, ok := tb.FlowKeys(o)
			if !ok {
				continue
			}
			pt := a.point(g)
			for _, e := range s {
				if e.key == k && e.pt != pt {
					out[flowPts{a.jFlow[j], e.pt, pt}], out[flowPts{a.jFlow[j], pt, e.pt}] = true, true
				}
			}
			s = append(s, seen{k, pt})
		}
	}
	return out
}

// natUnknownUncertain turns the loss findings (lossWarnings, and the errors of blindKinds) at a segment
// that icmp-error-nat-unknown names into warnings that say so: the errors counted lost there may have
// crossed a NAT the captures did not show, and continued as the errors seen after it.
func (a *analysis) natUnknownUncertain(ans []Anomaly) {
	type seg struct{ from, to string }
	unsure := map[seg]int{}
	for _, an := range ans {
		if an.Kind == "icmp-error-nat-unknown" {
			unsure[seg{an.Where.From, an.Where.To}] += an.Count
		}
	}
	if len(unsure) == 0 {
		return
	}
	for i := range ans {
		an := &ans[i]
		n, ok := unsure[seg{an.Where.From, an.Where.To}]
		if !ok || !(lossWarnings[an.Kind] || an.Severity == sevError && blindKinds[an.Kind]) ||
			strings.HasPrefix(an.Message, "Uncertain:") {
			continue
		}
		an.Severity = sevWarning
		an.Message = fmt.Sprintf("Uncertain: %d ICMP errors counted here may have crossed a NAT the captures do not show "+
			"and gone on as the errors seen at %s (see icmp-error-nat-unknown). %s", n, an.Where.To, an.Message)
	}
}
