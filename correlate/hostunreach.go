package correlate

import (
	"fmt"
	"strings"
	"time"

	"github.com/calipath/calipath/decode"
)

// neighWait is how long before a host-unreachable error the node's ARP requests (IPv6: neighbour
// solicitations) for the next hop are taken to be the resolution that failed: Linux queues the
// packets for an unresolved neighbour and, after its probes (3 by default, 1 s apart) go unanswered,
// drops them with that error.
const neighWait = 5 * time.Second

// hostUnreachChain is what a drop on segment s, inside a node, adds when the node answered its packets
// with ICMP host-unreachable (icmpBook.refusedOn): Linux sends that error for the packets it queued
// for a next hop whose link-layer address it could not resolve, and the node's unanswered ARP requests
// (for ICMPv6 address-unreachable, its unanswered neighbour solicitations) at its other points in the
// seconds before the errors name that next hop. It returns the detail, the next step ("" when no error
// of s is host-unreachable) and the evidence: up to two errors and two requests.
func (f *findings) hostUnreachChain(s *segAcc) (detail, next string, ev []Evidence) {
	a, w := f.a, f.a.w
	node := w.pointNode[s.from]
	var errs []icmpFinding
	for _, i := range f.refusedOn[s] {
		if fi := a.side.icmp.findings[i]; fi.hostUnreach {
			errs = append(errs, fi)
		}
	}
	if len(errs) == 0 {
		return "", "", nil
	}
	dsts := map[string]bool{}
	for _, fi := range errs {
		if fi.qdst != "" {
			dsts[fi.qdst] = true
		}
		if len(ev) < 2 {
			ev = append(ev, fi.ev)
		}
	}
	v6 := errs[0].v6
	reqs, hops := a.unresolvedAsks(node, errs, v6)
	name, dst := w.nodes[node], strings.Join(sortedKeys(dsts), ", ")
	what, asks, answer, ipc, find := "host-unreachable (ICMP type 3 code 1)", "ARP requests", "no reply", "ip", "arp-unanswered"
	if v6 {
		what, asks, answer, ipc, find = "address-unreachable (ICMPv6 type 1 code 3)", "neighbour solicitations", "no advertisement", "ip -6", "nd-unanswered"
	}
	n := fmt.Sprintf("%d of the errors are", len(errs))
	switch {
	case len(errs) == 1 && len(f.refusedOn[s]) == 1:
		n = "The error is"
	case len(errs) == 1:
		n = "1 of the errors is"
	case len(errs) == len(f.refusedOn[s]):
		n = "The errors are"
	}
	detail = fmt.Sprintf(" %s %s, which Linux sends for the packets it queued for a next hop whose link-layer address it "+
		"could not resolve", n, what)
	if len(reqs) == 0 {
		filtered := "a capture filtered to IP carries no ARP"
		if v6 {
			filtered = "a capture filtered to the pods' traffic carries no neighbour discovery"
		}
		detail += fmt.Sprintf("; no capture of %s holds its unanswered %s for that next hop (%s), so it is not named here.",
			name, strings.TrimPrefix(asks, "ARP "), filtered)
		next = fmt.Sprintf("On %s, `%s route get %s` names the route's next hop and `%s neigh` whether it resolves: correct the "+
			"route or bring up the host that should answer for its next hop.", name, ipc, dst, ipc)
		return detail, next, ev
	}
	points := map[string]bool{}
	for _, af := range reqs {
		points[w.c.Points[af.point].ID] = true
	}
	nh := strings.Join(sortedKeys(hops), ", ")
	detail += fmt.Sprintf(": in the seconds before them, %s's %s for %s at %s got %s (%d, see %s). "+
		"%s routes these packets (to %s) via %s, and nothing answers for that next hop.", name, asks, nh,
		strings.Join(sortedKeys(points), ", "), answer, len(reqs), find, name, dst, nh)
	proto := "ARP"
	if v6 {
		proto = "neighbour discovery"
	}
	next = fmt.Sprintf("The route's next hop %s does not answer %s: on %s, `%s route get %s` names it and `%s neigh show %s` "+
		"shows it FAILED or INCOMPLETE; correct the route's next hop (where the route comes from: BGP, a static route) or bring up "+
		"the host that should answer for it.", nh, proto, name, ipc, dst, ipc, nh)
	for _, af := range reqs[:min(2, len(reqs))] {
		ev = append(ev, af.ev)
	}
	return detail, next, ev
}

// unresolvedAsks are node's unanswered ARP requests (v6: neighbour solicitations, duplicate address
// detection's left out) at its points other than pod veths in the neighWait before one of errs, and
// the addresses they asked for: the next hops the node could not resolve.
func (a *analysis) unresolvedAsks(node int, errs []icmpFinding, v6 bool) ([]arpFinding, map[string]bool) {
	w := a.w
	all, kind := a.side.arp.findings, "arp-unanswered"
	if v6 {
		all, kind = a.side.nd.findings, "nd-unanswered"
	}
	var reqs []arpFinding
	hops := map[string]bool{}
	for _, af := range all {
		if af.kind != kind || w.pointNode[af.point] != node || w.pointRole[af.point] == decode.RolePodVeth {
			continue
		}
		for _, fi := range errs {
			if af.t <= fi.t && fi.t-af.t <= int64(neighWait) {
				reqs = append(reqs, af)
				hops[af.who] = true
				break
			}
		}
	}
	return reqs, hops
}
