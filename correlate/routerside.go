package correlate

import (
	"fmt"
	"sort"
	"strings"
)

// detectRouterUnplaced lists the router points the TTLs put on neither side of their router's other
// captured interface (pathInfo.sideUnknown), left off the paths, where nothing was lost next to them:
// a loss there is loss-router-side-unknown (or pmtu-blackhole), which says so itself, but with
// nothing lost the point would leave the paths without a word, and the user gave calipath its capture.
// One anomaly per such point, naming the interface it could not be placed against, the segments whose
// packets crossed that interface, and what would place it.
func detectRouterUnplaced(f *findings, k *kindRow) []Anomaly {
	a := f.a
	said := map[[2]int]bool{} // {router point, unplaced point} a loss finding already explains
	for _, l := range f.segLosses() {
		if l.s.kind == "side unknown" {
			said[l.s.unplaced] = true
		}
	}
	type crossing struct {
		packets int
		segs    []string
	}
	by := map[[2]int]*crossing{}
	for _, s := range a.segs {
		if s.kind != "side unknown" || said[s.unplaced] || s.unplaced[0] != s.from {
			continue // each stretch once: the segment leaving the router point
		}
		c := by[s.unplaced]
		if c == nil {
			c = &crossing{}
			by[s.unplaced] = c
		}
		c.packets += s.packets
		where := f.segWhere(s)
		c.segs = append(c.segs, where.From+" → "+where.To)
	}
	keys := make([][2]int, 0, len(by))
	for key := range by {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][1] != keys[j][1] {
			return keys[i][1] < keys[j][1]
		}
		return keys[i][0] < keys[j][0]
	})
	pts := a.w.c.Points
	var out []Anomaly
	for _, key := range keys {
		p, q := key[0], key[1]
		c := by[key]
		sort.Strings(c.segs)
		r := a.w.nodes[a.w.pointNode[p]]
		detail := fmt.Sprintf("%d packets crossed %s on their path (segment %s) and none of them crossed %s. The TTLs cannot tell "+
			"which side of %s it is on: at %s the packets had crossed one router, which makes %s either %s's way out (and %s its "+
			"way in, a capture of the other direction only, tcpdump -Q out) or its way in (and %s its way out, captured -Q in, or "+
			"not their way at all). calipath leaves %s off their path and does not say which; nothing was lost next to it, so no "+
			"verdict depends on it.",
			c.packets, pts[p].ID, strings.Join(c.segs, ", "), pts[q].ID, pts[p].ID, pts[p].ID, pts[p].ID, r, pts[q].ID,
			pts[q].ID, pts[q].ID)
		out = append(out, k.anomaly(k.severity, Where{Point: pts[q].ID}, nil, f.ids, c.packets, nil, detail))
	}
	return out
}
