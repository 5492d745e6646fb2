package correlate

import (
	"fmt"
	"strings"
)

// routerUncertain turns the errors of blindKinds, and the loss warnings (lossWarnings), at a segment
// that starts at the point of a file that may be a router's capture named as a node's
// (decode.FileInfo.MaybeRouter: read as named, the captures cannot tell), or that ends there coming
// from another point of its node when the file holds too little to tell (MaybeRouterAfter), into
// warnings that say so and how to settle it: were the file a router's, the packets lost past it were
// lost past that router, not inside the node it is named after (tworouters' drop read as a decap
// drop of node-b), and those lost on the way to it from the node were lost after they left the node
// (an empty router capture named as the node's second underlay read as a host drop between the two).
func (a *analysis) routerUncertain(ans []Anomaly) {
	c := a.w.c
	type unsure struct {
		why, node string
		after     bool // FileInfo.MaybeRouterAfter
	}
	doubt := map[string]unsure{} // by point ID
	for f, fi := range c.Files {
		if fi.MaybeRouter == "" {
			continue
		}
		pt := -1
		for si, s := range c.Sources {
			if int(s.File) != f || si >= len(c.PointOf) {
				continue
			}
			if pt >= 0 && c.PointOf[si] != pt {
				pt = -2
				break
			}
			pt = c.PointOf[si]
		}
		if pt >= 0 && pt < len(c.Points) {
			doubt[c.Points[pt].ID] = unsure{fi.MaybeRouter, c.Points[pt].Node, fi.MaybeRouterAfter}
		}
	}
	if len(doubt) == 0 {
		return
	}
	for i := range ans {
		an := &ans[i]
		if !(lossWarnings[an.Kind] || an.Severity == sevError && blindKinds[an.Kind]) {
			continue
		}
		d, ok := doubt[an.Where.From]
		past := fmt.Sprintf("past that router (on the underlay or in a router further on), not in %s", d.node)
		if !ok {
			// Lost on the way to it from another of its node's points: were it a router's, they left
			// the node there and were lost on the underlay or in that router.
			if d, ok = doubt[an.Where.To]; !ok || !d.after || !strings.HasPrefix(an.Where.From, d.node+"/") {
				continue
			}
			past = fmt.Sprintf("after they left %s at %s, on the underlay or in that router, not in %s", d.node, an.Where.From, d.node)
		}
		an.Severity = sevWarning
		an.Message = fmt.Sprintf("Uncertain: %s. If it is a router's, these packets were lost %s. %s", d.why, past, an.Message)
		an.Next = fmt.Sprintf("Capture %s's own underlay interfaces to settle it, or name the file: --point ROUTER:IFACE=FILE "+
			"for a router's capture, --point NODE:IFACE=FILE for the node's, and re-run. %s", d.node, an.Next)
	}
}
