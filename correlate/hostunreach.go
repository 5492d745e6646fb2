package correlate

import (
	"fmt"
	"strings"
	"time"

	"github.com/calipath/calipath/decode"
)

// neighWait is how long before a host-unreachable error the node's ARP requests for the next hop are
// taken to be the resolution that failed: Linux queues the packets for an unresolved neighbour and,
// after its probes (3 by default, 1 s apart) go unanswered, drops them with that error.
const neighWait = 5 * time.Second

// hostUnreachChain is what a drop on segment s, inside a node, adds when the node answered its packets
// with ICMP host-unreachable (icmpBook.refusedOn): Linux sends that error for the packets it queued
// for a next hop whose link-layer address it could not resolve, and the node's unanswered ARP requests
// at its other points in the seconds before the errors name that next hop. It returns the detail, the
// next step ("" when no error of s is host-unreachable) and the evidence: up to two errors and two
// requests.
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
	dsts, hops := map[string]bool{}, map[string]bool{}
	var reqs []arpFinding
	for _, fi := range errs {
		if fi.qdst != "" {
			dsts[fi.qdst] = true
		}
		if len(ev) < 2 {
			ev = append(ev, fi.ev)
		}
	}
	for _, af := range a.side.arp.findings {
		if af.kind != "arp-unanswered" || w.pointNode[af.point] != node || w.pointRole[af.point] == decode.RolePodVeth {
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
	name, dst := w.nodes[node], strings.Join(sortedKeys(dsts), ", ")
	what := "host-unreachable (ICMP type 3 code 1)"
	if errs[0].v6 {
		what = "address-unreachable (ICMPv6 type 1 code 3)"
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
		detail += fmt.Sprintf("; no capture of %s holds its unanswered requests for that next hop (a capture filtered to IP "+
			"carries no ARP), so it is not named here.", name)
		next = fmt.Sprintf("On %s, `ip route get %s` names the route's next hop and `ip neigh` whether it resolves: correct the "+
			"route or bring up the host that should answer for its next hop.", name, dst)
		return detail, next, ev
	}
	points := map[string]bool{}
	for _, af := range reqs {
		points[w.c.Points[af.point].ID] = true
	}
	nh := strings.Join(sortedKeys(hops), ", ")
	detail += fmt.Sprintf(": in the seconds before them, %s's ARP requests for %s at %s got no reply (%d, see arp-unanswered). "+
		"%s routes these packets (to %s) via %s, and nothing answers for that next hop.", name, nh,
		strings.Join(sortedKeys(points), ", "), len(reqs), name, dst, nh)
	next = fmt.Sprintf("The route's next hop %s does not answer ARP: on %s, `ip route get %s` names it and `ip neigh show %s` "+
		"shows it FAILED or INCOMPLETE; correct the route's next hop (where the route comes from: BGP, a static route) or bring up "+
		"the host that should answer for it.", nh, name, dst, nh)
	for _, af := range reqs[:min(2, len(reqs))] {
		ev = append(ev, af.ev)
	}
	return detail, next, ev
}
