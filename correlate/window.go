package correlate

// A --window shorter than the hops the captures show.
//
// The matcher follows a packet from point to point only while the sightings are at most --window
// apart; a packet whose next hop takes longer opens a new journey there, and its first half would
// end early on its path: lost (an encap-drop or underlay-drop ERROR) or not captured, for a packet
// that went on. The matcher notes such late sightings (noteLate); joinLate confirms them against the
// flows' paths and joins each pair again: the later journey continues the earlier one from its first
// point, as a segmentation offload's pieces continue their frame, so the packet is counted once, with
// the outcome of its second half, and the window-too-small warning says so and names a window that
// fits.

// lateJoin is a packet followed as two journeys because a hop took longer than --window: old ended at
// path point last, and new, the same packet, began further along the path at point first.
type lateJoin struct {
	old, new    int32
	gap         int64
	last, first int
}

// joinLate confirms the matcher's late sightings — the older journey ended early on its path and the
// newer one, of the same flow and direction, begins further along that path — and records each as the
// older journey continuing as the newer one (an offload event), so that placeJourneys counts the
// packet once. It runs once the paths are built and before the journeys are placed.
func (a *analysis) joinLate() {
	joined := map[int32]bool{} // journeys already continued by a later one (each continues once)
	for _, l := range a.m.late {
		o, nw := int(l.old), int(l.new)
		if o >= a.nJ || nw >= a.nJ || a.jFlow[o] < 0 || a.jFlow[o] != a.jFlow[nw] || a.jDir[o] != a.jDir[nw] ||
			joined[l.old] {
			continue
		}
		pi := a.flows[a.jFlow[o]].path[a.jDir[o]]
		hn := a.hops(nw)
		if pi == nil || len(hn) == 0 {
			continue
		}
		last := -1 // the farthest point of the path the older journey reached
		for _, g := range a.hops(o) {
			last = max(last, pi.index(a.point(g)))
		}
		first := pi.index(a.point(hn[0]))
		if last < 0 || first <= last {
			continue
		}
		joined[l.old] = true
		a.lateJoins = append(a.lateJoins, lateJoin{old: l.old, new: l.new, gap: l.gap, last: pi.points[last],
			first: pi.points[first]})
		a.m.gso = append(a.m.gso, gsoEvent{parent: l.old, child: l.new, at: hn[0]})
	}
}
