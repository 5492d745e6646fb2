package correlate

import "fmt"

// routerUncertain turns the errors of blindKinds, and the loss warnings (lossWarnings), at a segment
// that starts at the point of a file that may be a router's capture named as a node's
// (decode.FileInfo.MaybeRouter: read as named, the captures cannot tell) into warnings that say so and
// how to settle it: were the file a router's, the packets lost past it were lost past that router, not
// inside the node it is named after (tworouters' drop read as a decap drop of node-b).
func (a *analysis) routerUncertain(ans []Anomaly) {
	c := a.w.c
	type unsure struct{ why, node string }
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
			doubt[c.Points[pt].ID] = unsure{fi.MaybeRouter, c.Points[pt].Node}
		}
	}
	if len(doubt) == 0 {
		return
	}
	for i := range ans {
		an := &ans[i]
		d, ok := doubt[an.Where.From]
		if !ok || !(lossWarnings[an.Kind] || an.Severity == sevError && blindKinds[an.Kind]) {
			continue
		}
		an.Severity = sevWarning
		an.Message = fmt.Sprintf("Uncertain: %s. If it is a router's, these packets were lost past that router (on the "+
			"underlay or in a router further on), not in %s. %s", d.why, d.node, an.Message)
		an.Next = fmt.Sprintf("Capture %s's own underlay interfaces to settle it, or name the file: --point ROUTER:IFACE=FILE "+
			"for a router's capture, --point NODE:IFACE=FILE for the node's, and re-run. %s", d.node, an.Next)
	}
}
