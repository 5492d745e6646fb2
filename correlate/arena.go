package correlate

import (
	"math"
	"runtime"
	"runtime/debug"
	"time"
)

// arenaOut is the arena stage's output: every journey's hops laid out in one array, in path order,
// with each slot's point and corrected time, and the duplicates of each journey's first sighting.
type arenaOut struct {
	jStart []uint32 // hops of journey j: arena[jStart[j]:jStart[j+1]] (global observation ids, in path order)
	arena  []uint32
	hopPt  []uint16 // the point of each arena slot (until placement is done: dropHopDetail)
	hopTs  hopTimes // the corrected time of each arena slot (its slots' times likewise; t0 stays)
	t0     times    // each journey's first sighting in corrected time, which hopTs counts from
	jDups  map[int32]int
}

// dropHopDetail drops each arena slot's point and corrected time (6 bytes a hop) once placement, their
// last reader, is done, before the flows are written out (the memory peak of many flows). The arena's
// hops and the journeys' first sightings (t0) stay: the output and FlowJourneys read those.
func (ar *arenaOut) dropHopDetail() {
	ar.hopPt = nil
	ar.hopTs.dt, ar.hopTs.big = nil, nil
}

// hops returns journey j's hops (global observation ids), in path order.
func (ar *arenaOut) hops(j int) []uint32 { return ar.arena[ar.jStart[j]:ar.jStart[j+1]] }

// buildArena lays out the nJ journeys' hops contiguously, in path order: nodes in the order the packet
// reached them, and within a node by raw capture time (one clock, so exact). It takes the matcher's
// per-journey counts and times and drops its per-observation state (returning the memory to the
// system when lean): the matcher is not needed after it.
func buildArena(w *world, m *matcher, nJ int, lean bool) *arenaOut {
	return buildArenaSplit(w, m, nJ, lean, runtime.GOMAXPROCS(0) > 1)
}

// buildArenaSplit is buildArena with the files' hops filled in by two goroutines when split (fill).
func buildArenaSplit(w *world, m *matcher, nJ int, lean, split bool) *arenaOut {
	ar := &arenaOut{t0: m.jT0}
	ar.jStart, ar.jDups = m.jHops, m.jDups // counts, turned into starts below
	m.jHops, m.jDups, m.jT0 = nil, nil, times{}
	for j := 0; j < nJ; j++ {
		ar.jStart[j+1] += ar.jStart[j]
	}
	ar.arena = makeBig[uint32](w.big, int(ar.jStart[nJ]), int(ar.jStart[nJ]))
	ar.hopPt = makeBig[uint16](w.big, int(ar.jStart[nJ]), int(ar.jStart[nJ]))
	ar.hopTs = newHopTimes(w.big, int(ar.jStart[nJ]), &ar.t0)
	ar.fill(w, m, nJ, split)
	// The matcher's per-observation state is no longer needed.
	m.jOf, m.dup = nil, nil
	if lean {
		debug.FreeOSMemory()
	}
	// Each journey's hops in path order; journeys are independent, so two halves sort side by side.
	mid := nJ / 2
	done := make(chan struct{})
	go func() {
		defer close(done)
		ar.sortHops(w, 0, mid)
	}()
	ar.sortHops(w, mid, nJ)
	<-done
	return ar
}

// fillSlice is how much corrected time fill takes from each file in turn.
const fillSlice = int64(time.Millisecond)

// fill writes every hop (an Observation of a journey, duplicates aside) to its journey's next arena
// slot, with its point and corrected time. The order of a journey's slots does not matter (sortHops
// orders them), only locality: the files are read side by side, a slice of corrected time from each
// in turn, so the journeys being filled are the few of that moment (journeys are numbered in time
// order) and their slots stay in the caches; one file after another would sweep the whole arena once
// a file. A file not in time order is read in its own order, each of its Observations once all the
// same. When split, a second goroutine fills in the later files' hops (about half the Observations),
// each journey's from its last slot down while this one fills the earlier files' from its first slot
// up: which slot a hop lands in differs, the journey's hops once sorted do not.
func (ar *arenaOut) fill(w *world, m *matcher, nJ int, split bool) {
	files := make([]int, len(w.c.Obs))
	for f := range files {
		files[f] = f
	}
	total := 0
	for _, obs := range w.c.Obs {
		total += len(obs)
	}
	half, n := 0, 0 // the earlier files, up to about half the Observations
	for f, obs := range w.c.Obs {
		if n < total/2 {
			half = f + 1
		}
		n += len(obs)
	}
	if !split || half == 0 || half == len(files) {
		ar.fillFiles(w, m, files, makeBig[uint32](w.big, nJ, nJ), false)
		return
	}
	wait := beside(func() { ar.fillFiles(w, m, files[half:], makeBig[uint32](w.big, nJ, nJ), true) })
	ar.fillFiles(w, m, files[:half], makeBig[uint32](w.big, nJ, nJ), false)
	wait()
}

// fillFiles fills in the hops of the given files (fill's order), counting each journey's hops filled
// in fill: from the journey's first slot up, or from its last down.
func (ar *arenaOut) fillFiles(w *world, m *matcher, files []int, fill []uint32, down bool) {
	pos := make([]int, len(w.c.Obs))
	for {
		lo, left := int64(math.MaxInt64), false
		for _, f := range files {
			if obs := w.c.Obs[f]; pos[f] < len(obs) {
				lo, left = min(lo, m.corrected(&obs[pos[f]], f, pos[f])), true
			}
		}
		if !left {
			return
		}
		until := lo + fillSlice
		if until < lo { // overflow: the rest
			until = math.MaxInt64
		}
		for _, f := range files {
			obs, i, base := w.c.Obs[f], pos[f], w.fileBase[f]
			for ; i < len(obs); i++ {
				g := base + uint32(i)
				j := m.jOf[g] - 1
				if j < 0 || m.isDup(g) {
					continue
				}
				o := &obs[i]
				t := m.corrected(o, f, i)
				if t >= until && until != math.MaxInt64 {
					break
				}
				k := ar.jStart[j] + fill[j]
				if down {
					k = ar.jStart[j+1] - 1 - fill[j]
				}
				ar.arena[k], ar.hopPt[k] = g, uint16(w.srcPoint[o.Source])
				ar.hopTs.set(int(k), j, t)
				fill[j]++
			}
			pos[f] = i
		}
	}
}

// sortHops puts the hops of journeys [from, to) in path order. Within a journey: nodes in the order
// the packet reached them (first sighting in corrected time), and within a node by capture time (one
// clock, so exact). Journeys are short: a journey of at most maxQuickHops hops is sorted in a local
// copy (sortQuick), a longer one or one with a time in hopTs's side map in place (sortInPlace); both
// give the same order.
func (a *arenaOut) sortHops(w *world, from, to int) {
	var nodes []int
	for j := from; j < to; j++ {
		lo, hi := int(a.jStart[j]), int(a.jStart[j+1])
		if hi-lo < 2 {
			continue
		}
		if hi-lo > maxQuickHops || !a.sortQuick(w, j, lo, hi) {
			nodes = a.sortInPlace(w, j, lo, hi, nodes)
		}
	}
}

// maxQuickHops is the most hops sortQuick sorts.
const maxQuickHops = 16

// quickHop is one hop in sortQuick's copy.
type quickHop struct {
	dt   uint32 // hopTs's offset
	g    uint32 // global observation id
	pt   uint16
	rank uint8 // the rank of its node on the path
}

// sortQuick sorts journey j's hops (slots lo..hi-1, at most maxQuickHops) in a copy on the stack:
// insertion sorts first by time and observation id, then (stably) by node rank, as sortInPlace does.
// It reports false, leaving the slots as they were, when a time is in hopTs's side map.
func (a *arenaOut) sortQuick(w *world, j, lo, hi int) bool {
	var hs [maxQuickHops]quickHop
	n := hi - lo
	for k := range n {
		d := a.hopTs.dt[lo+k]
		if d == dtBig {
			return false
		}
		hs[k] = quickHop{dt: d, g: a.arena[lo+k], pt: a.hopPt[lo+k]}
	}
	for k := 1; k < n; k++ {
		h := hs[k]
		i := k
		for ; i > 0 && (h.dt < hs[i-1].dt || h.dt == hs[i-1].dt && h.g < hs[i-1].g); i-- {
			hs[i] = hs[i-1]
		}
		hs[i] = h
	}
	var nodes [maxQuickHops]int
	nn, sorted := 0, true
	for k := range n {
		nd := w.pointNode[hs[k].pt]
		r := 0
		for r < nn && nodes[r] != nd {
			r++
		}
		if r == nn {
			nodes[nn] = nd
			nn++
		}
		hs[k].rank = uint8(r)
		if k > 0 && hs[k].rank < hs[k-1].rank {
			sorted = false
		}
	}
	if !sorted {
		for k := 1; k < n; k++ {
			h := hs[k]
			i := k
			for ; i > 0 && h.rank < hs[i-1].rank; i-- {
				hs[i] = hs[i-1]
			}
			hs[i] = h
		}
	}
	for k := range n {
		a.arena[lo+k], a.hopPt[lo+k], a.hopTs.dt[lo+k] = hs[k].g, hs[k].pt, hs[k].dt
	}
	return true
}

// sortInPlace sorts journey j's hops (slots lo..hi-1) where they are: insertion sorts on the parallel
// arrays, first by time, then by node rank. nodes is scratch space, returned for reuse.
func (a *arenaOut) sortInPlace(w *world, j, lo, hi int, nodes []int) []int {
	swap := func(i, k int) {
		a.arena[i], a.arena[k] = a.arena[k], a.arena[i]
		a.hopPt[i], a.hopPt[k] = a.hopPt[k], a.hopPt[i]
		a.hopTs.swap(i, k)
	}
	rankOf := func(k int) int {
		n := w.pointNode[a.hopPt[k]]
		for r, x := range nodes {
			if x == n {
				return r
			}
		}
		nodes = append(nodes, n)
		return len(nodes) - 1
	}
	for k := lo + 1; k < hi; k++ {
		for i := k; i > lo && a.hopTs.before(int32(j), i, i-1, a.arena); i-- {
			swap(i, i-1)
		}
	}
	nodes = nodes[:0]
	for k := lo; k < hi; k++ {
		rankOf(k)
	}
	for k := lo + 1; k < hi; k++ {
		for i := k; i > lo && rankOf(i) < rankOf(i-1); i-- {
			swap(i, i-1)
		}
	}
	return nodes
}

// pointOf returns the point of global observation g.
func (w *world) pointOf(g uint32) int {
	o, _ := w.obsAt(g)
	return w.srcPoint[o.Source]
}
