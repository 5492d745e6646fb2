package correlate

import (
	"fmt"
	"time"
)

// errCopy is an ICMP error sighting (global observation g) that the matcher took for a copy of journey
// j's frame at a point: within copyGap of it, from the sole capture of that point (copyWin).
type errCopy struct {
	j int32
	g uint32
}

// detectICMPErrorCopies says, per point, how many ICMP errors were taken for a frame written twice by
// its capture (Hop.Dup): a byte-identical error less than copyGap after another, in the point's only
// capture. A duplicated capture writes a frame twice within microseconds, but a sender can send two
// identical errors that fast (a router answering two identical packets back to back): the captures
// cannot tell, and each such error was counted once where it may be two.
func detectICMPErrorCopies(f *findings, k *kindRow) []Anomaly {
	a := f.a
	type group struct {
		n      int
		flows  map[int32]bool
		ev     []Evidence
		gapMax int64
		file   string
	}
	groups := map[int]*group{}
	var order []int
	for _, c := range a.journeys.errCopies {
		p := a.point(c.g)
		if p < 0 || int(c.j) >= a.nJ {
			continue // a capture placed at no point
		}
		orig := uint32(0)
		found := false
		for _, h := range a.hops(int(c.j)) {
			if a.point(h) == p {
				orig, found = h, true
				break
			}
		}
		if !found {
			continue
		}
		gr := groups[p]
		if gr == nil {
			gr = &group{flows: map[int32]bool{}}
			groups[p] = gr
			order = append(order, p)
		}
		gr.n++
		gr.gapMax = max(gr.gapMax, a.ts(c.g)-a.ts(orig))
		gr.flows[a.jFlow[c.j]] = true
		if len(gr.ev) < 10 {
			gr.ev = append(gr.ev, a.evidence(orig), a.evidence(c.g))
		}
		if gr.file == "" {
			gr.file = a.evidence(c.g).File
		}
	}
	var out []Anomaly
	for _, p := range order {
		gr := groups[p]
		id := a.w.c.Points[p].ID
		detail := fmt.Sprintf("%d ICMP errors at %s were each followed, at most %s later and in the same capture (%s), "+
			"by an error identical to it byte for byte: each pair was counted as one error whose frame the capture "+
			"wrote twice (Hop.Dup).", gr.n, id, time.Duration(gr.gapMax), gr.file)
		out = append(out, k.anomaly(k.severity, Where{Point: id}, gr.flows, f.ids, gr.n, gr.ev, detail))
	}
	return out
}
