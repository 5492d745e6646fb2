package correlate

import "testing"

// Two packets in flight whose exact fingerprints share the direct-mapped table's slot (the same low
// 12 bits) are both found again past the window: the second to close does not make the matcher forget
// the first (closed alone did, and the first packet's next hop opened a journey of its own). Every
// piece of a split packet is found for a duplicate copy of its frame, not only the latest; and
// entries go after lateNATWin.
func TestRecentClosedCollision(t *testing.T) {
	const stA, stB, stC = 1 << 12, 2 << 12, 3 << 12
	e1, e2 := uint64(0x713a230a55060227), uint64(0xec8860a0af8e1227) // one slot of closed (seed 1's pair)
	if e1&(closedSlots-1) != e2&(closedSlots-1) {
		t.Fatal("the fingerprints do not collide")
	}
	r := newRecentClosed()
	r.add(closedJ{exact: e1, loose: 11, lastTs: 1000, j: 1, stages: [maxStages]uint32{stA}, nstages: 1})
	r.add(closedJ{exact: e2, loose: 22, lastTs: 1100, j: 2, stages: [maxStages]uint32{stB}, nstages: 1})
	r.add(closedJ{exact: e1, loose: 11, lastTs: 1200, j: 3, stages: [maxStages]uint32{stB}, nstages: 1}) // 1's next piece
	r.expire(2000)
	if c := r.latest(e2); c == nil || c.j != 2 {
		t.Errorf("latest(e2) = %+v, want journey 2", c)
	}
	if c := r.latest(e1); c == nil || c.j != 3 {
		t.Errorf("latest(e1) = %+v, want journey 3 (the latest piece)", c)
	}
	if c := r.latestLoose(22); c == nil || c.j != 2 {
		t.Errorf("latestLoose(22) = %+v, want journey 2", c)
	}
	// A copy of the first piece's frame at stage A, within dupWin: journey 1, behind journey 3.
	if j := r.dupOf(e1, stA, 1500, 1000); j != 1 {
		t.Errorf("dupOf(e1, A) = %d, want 1", j)
	}
	if j := r.dupOf(e1, stC, 1500, 1000); j != -1 {
		t.Errorf("dupOf(e1, C) = %d, want none", j)
	}
	r.expire(1100 + lateNATWin + 1) // journeys 1 and 2 go; 3 stays
	if r.latest(e2) != nil || r.latestLoose(22) != nil {
		t.Error("journey 2 kept past lateNATWin")
	}
	if c := r.latest(e1); c == nil || c.j != 3 {
		t.Errorf("after expiry latest(e1) = %+v, want journey 3", c)
	}
	if j := r.dupOf(e1, stA, 1500, 1000); j != -1 {
		t.Errorf("dupOf after journey 1 expired = %d, want none", j)
	}
}
