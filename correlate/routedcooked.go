package correlate

import (
	"fmt"
	"path/filepath"
)

// A router captured with tcpdump -i any in Linux cooked v1 (LINUX_SLL: tcpdump before 4.99, or -y
// LINUX_SLL) records no interface index: each packet the router forwarded is in the file twice, coming
// in and going out, and decode files both under one point (its Routed and RoutedCooked, with a problem
// naming the fix). A packet the router took in and dropped is then seen at that point like one it sent
// on, so a loss on the segment after it may have happened inside the router: routedCookedNote says so.
// When its neighbours could not be placed behind its interfaces, decode splits it by direction only
// (any:in, any:out): a loss between the two is inside the router, and the note says that through which
// interfaces is not known.

// routedCookedNote is what a loss on segment s adds when s starts at a point of a router's cooked v1
// -i any capture; "" otherwise.
func (a *analysis) routedCookedNote(s *segAcc) string {
	w := a.w
	f, ok := a.onlyFile(s.from)
	if !ok {
		return ""
	}
	at := w.c.Points[s.from]
	if fi := w.c.Files[f]; len(fi.CookedIfaces) > 0 && fi.CookedIfaces[0].Side != "" && at.Iface == "any:in" {
		return fmt.Sprintf(" %s's cooked v1 -i any capture (%s) could not be split into its interfaces (its "+
			"neighbours could not be placed behind them), only into its way in and its way out: these packets "+
			"came in and were not seen leaving, so they died inside %s or on their way out of it, but through "+
			"which of its interfaces they came in and were to leave is not known. Capture %s with tcpdump 4.99 "+
			"or later (cooked v2) or each of its interfaces to its own file to tell.", at.Node,
			filepath.Base(fi.Path), at.Node, at.Node)
	}
	if !w.c.Files[f].RoutedCooked {
		return ""
	}
	return fmt.Sprintf(" %s is %s's cooked v1 -i any capture (%s), which records no interface: a packet it "+
		"took in and one it sent out are the same sighting there, so these packets may have died inside %s "+
		"rather than after it. Capture %s with tcpdump 4.99 or later (cooked v2) or each of its interfaces "+
		"to its own file to tell.", at.ID, at.Node, filepath.Base(w.c.Files[f].Path), at.Node, at.Node)
}
