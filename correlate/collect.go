package correlate

import "runtime"

// collectMin is how many Observations make it worth gathering the journeys on two goroutines.
const collectMin = 1 << 16

// collectSplit gathers the journeys (collectJourneys) on two goroutines when there is more than one
// core and enough Observations, and reports whether it did: each takes a share of the files (about
// half the Observations, matcher.shares), writes their journey ids (disjoint ranges of jOf) and
// counts their hops and duplicate copies on its own; the second share's counts are added to the
// first's after. Counts are sums, so they are the same as one pass makes.
func (m *matcher) collectSplit() bool {
	if runtime.GOMAXPROCS(0) < 2 || m.w.nObs < collectMin || len(m.fp) < 2 {
		return false
	}
	sh := m.shares(2)
	hops, dups := makeBig[uint32](m.w.big, len(m.jHops), len(m.jHops)), map[int32]int{}
	wait := beside(func() { m.collectFiles(sh[1], hops, dups) })
	m.collectFiles(sh[0], m.jHops, m.jDups)
	wait()
	for j, n := range hops {
		m.jHops[j] += n
	}
	for j, n := range dups {
		m.jDups[j] += n
	}
	return true
}
