package correlate

import "github.com/calipath/calipath/decode"

// WireGuard messages split by a --window shorter than a hop.
//
// A message whose next sighting came later than --window after the one before opens a journey of its
// own there (the matcher notes it as a late sighting). lateStage joins such halves again only within
// one flow, and a message seen only as itself (on a router, past the window) belongs to the nodes'
// UDP flow, not to the pod flow of the packet it carries: the packet would end early on its path and
// its continuation be counted a packet of the underlay flow, lost without the packet's DF bit (a
// path-MTU black hole read as a plain loss). A message is exactly (receiver index, counter), whatever
// the window: lateMessages joins such a continuation to the journey its first half was joined to.

// lateMessages adds to into (the WireGuard join) the late continuations of messages that were joined
// to the packet they carried: each journey that the matcher opened for a message seen again past the
// window, made only of that message's sightings, joins the journey of the packet its first half
// carried.
func (wj *wgJoin) lateMessages(into map[int32]int32, find func(int32) int32) {
	m := wj.m
	cand := map[int32]bool{}
	for _, l := range m.late { // in the matcher's order: a continuation of a continuation is one too
		if _, joined := into[l.old]; (joined || cand[l.old]) && !l.nat {
			if _, ok := into[l.new]; !ok {
				cand[l.new] = true
			}
		}
	}
	if len(cand) == 0 {
		return
	}
	w := wj.w
	for f, obs := range w.c.Obs { // a candidate holds WireGuard transport messages only
		base := w.fileBase[f]
		for i := range obs {
			j := m.journeyOf(base + uint32(i))
			if j >= 0 && cand[j] && w.wgType(&obs[i]) != decode.WGTransport {
				delete(cand, j)
			}
		}
	}
	for _, l := range m.late { // in the matcher's order: a message split twice joins through its middle
		if _, joined := into[l.old]; !joined || !cand[l.new] {
			continue
		}
		if _, ok := into[l.new]; ok {
			continue
		}
		if to := find(l.old); to != l.new {
			into[l.new] = to
		}
	}
}
