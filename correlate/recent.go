package correlate

// With a --window below lateNATWin, the matcher closes nearly every journey between two hops, and each
// late sighting (noteLate, noteLateNAT) or late duplicate copy (pastDup) must find the journey it
// continues among the ones just closed. The direct-mapped table of closed journeys (closed, 4,096
// slots by exact fingerprint) forgets one whenever another packet's fingerprint falls in its slot
// before its next hop is seen: two packets in flight at once are enough, and then the packet is
// counted lost where its first half ended and sent again from where its second half began. And it
// keeps only the latest piece of a packet split several times, so a duplicate copy of a frame of an
// earlier piece was taken for a new packet. recentClosed keeps, for such windows, every journey
// closed in the last lateNATWin (by its last sighting), by exact and by NAT-tolerant fingerprint,
// with the earlier journeys of the same exact fingerprint (the earlier pieces) reachable from the
// latest: no collision forgets one. Memory: the journeys closed within lateNATWin (about 100 bytes
// each). Longer windows close far fewer journeys early and keep the direct-mapped table alone.

// recentJ is a closed journey in recentClosed, with the entry before it of the same exact fingerprint.
type recentJ struct {
	closedJ
	prev int64 // sequence number of the previous entry with the same exact fingerprint, -1: none
}

// recentClosed is the journeys closed within lateNATWin, oldest first; entry i has sequence number
// head+i.
type recentClosed struct {
	q       []recentJ
	off     int   // q[off:] are live
	head    int64 // sequence number of q[off]
	byExact map[uint64]int64
	byLoose map[uint64]int64
}

// recentWalk bounds the entries of one exact fingerprint looked through for a duplicate copy: the
// pieces of one packet are a few; more are identical packets (ambiguous.go matches those).
const recentWalk = 16

func newRecentClosed() *recentClosed {
	return &recentClosed{byExact: map[uint64]int64{}, byLoose: map[uint64]int64{}}
}

// add remembers closed journey c.
func (r *recentClosed) add(c closedJ) {
	seq := r.head + int64(len(r.q)-r.off)
	prev, ok := r.byExact[c.exact]
	if !ok {
		prev = -1
	}
	r.byExact[c.exact] = seq
	r.byLoose[c.loose] = seq
	r.q = append(r.q, recentJ{closedJ: c, prev: prev})
}

// expire forgets the journeys last seen more than lateNATWin before now (from the oldest closed on).
func (r *recentClosed) expire(now int64) {
	for r.off < len(r.q) && now-r.q[r.off].lastTs > lateNATWin {
		c := &r.q[r.off]
		if r.byExact[c.exact] == r.head {
			delete(r.byExact, c.exact)
		}
		if r.byLoose[c.loose] == r.head {
			delete(r.byLoose, c.loose)
		}
		r.off++
		r.head++
	}
	if r.off > 1024 && 2*r.off > len(r.q) { // compact: the live entries to the front
		n := copy(r.q, r.q[r.off:])
		clear(r.q[n:])
		r.q, r.off = r.q[:n], 0
	}
}

// at returns the entry of sequence number seq, nil when it has expired.
func (r *recentClosed) at(seq int64) *recentJ {
	if seq < r.head {
		return nil
	}
	return &r.q[r.off+int(seq-r.head)]
}

// latest returns the journey closed last with exact fingerprint e, nil when none is kept.
func (r *recentClosed) latest(e uint64) *closedJ {
	seq, ok := r.byExact[e]
	if !ok {
		return nil
	}
	return &r.at(seq).closedJ
}

// latestLoose returns the journey closed last with NAT-tolerant fingerprint loose, nil when none.
func (r *recentClosed) latestLoose(loose uint64) *closedJ {
	seq, ok := r.byLoose[loose]
	if !ok {
		return nil
	}
	return &r.at(seq).closedJ
}

// dupOf returns the closed journey (or -1) whose frame a sighting at t, at stage, with exact
// fingerprint e copies: seen at that stage at most dupWin before t. Every piece of a packet split by
// the window is looked at, the latest first.
func (r *recentClosed) dupOf(e uint64, stage uint32, t, dupWin int64) int32 {
	seq, ok := r.byExact[e]
	for n := 0; ok && n < recentWalk; n++ {
		c := r.at(seq)
		if c == nil {
			break
		}
		if t-c.lastTs <= dupWin && t >= c.lastTs && c.visitedStage(stage) {
			return c.j
		}
		seq, ok = c.prev, c.prev >= 0
	}
	return -1
}

// visitedStage reports whether closed journey c was seen at stage.
func (c *closedJ) visitedStage(stage uint32) bool {
	for i := uint8(0); i < c.nstages; i++ {
		if c.stages[i] == stage {
			return true
		}
	}
	return false
}
