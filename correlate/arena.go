package correlate

import (
	"math"
	"math/bits"
	"runtime"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/calipath/calipath/decode"
)

// arenaOut is the arena stage's output: every journey's hops laid out in one array, in path order,
// with each slot's point and corrected time, and the duplicates of each journey's first sighting.
type arenaOut struct {
	jStart []uint32 // hops of journey j: arena[jStart[j]:jStart[j+1]] (global observation ids, in path order)
	arena  []uint32
	hopPt  []uint16 // the point of each arena slot (until placement is done: dropHopDetail)
	hopTs  hopTimes // the corrected time of each arena slot (its slots' times likewise; t0 stays)
	t0     times    // each journey's first sighting in corrected time, which hopTs counts from
	// noRanks: the arena's slots need the 32nd bit, which fill's next cannot then spare (unranked).
	// ranked: every journey's hops go to the slots of their ranks (none has more than maxRanked, and
	// jOf holds the ranks): fill then takes jStart for its next, read only, with no unranked entry.
	noRanks, ranked bool
	// orderKnown: the fill lays every hop out by rank, and outOfOrder lists, in id order, every
	// journey whose hops it may then leave out of path order (the matcher's list: see
	// matcher.outOfOrder), but for those with a time in hopTs's side map: sortHops looks at those alone.
	orderKnown bool
	outOfOrder []int32
	jDups      map[int32]int
	// revisit: some journey came back to a node (visits): buildPaths then takes such a journey's
	// direction's path from its hops (revisitPath). Set by either goroutine of buildArena.
	revisit atomic.Bool
	// order: the clocks' bounds where a node's clock is seen only inside it (newInnerOrder); nil
	// without one, as nearly always.
	order *innerOrder
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
// per-journey counts and times and drops its per-observation state (collected when lean, its pages
// kept for the flow stage, see result): the matcher is not needed after it.
func buildArena(w *world, m *matcher, nJ int, lean bool) *arenaOut {
	return buildArenaSplit(w, m, nJ, lean, runtime.GOMAXPROCS(0) > 1)
}

// buildArenaSplit is buildArena with the journeys' hops filled in and sorted by two goroutines when
// split, each for half of the journeys (fillSort).
func buildArenaSplit(w *world, m *matcher, nJ int, lean, split bool) *arenaOut {
	ar := &arenaOut{t0: m.jT0}
	ar.jStart, ar.jDups = m.jHops, m.jDups // counts, turned into starts below
	m.jHops, m.jDups, m.jT0 = nil, nil, times{}
	most := uint32(0) // the most hops of a journey
	for j := 0; j < nJ; j++ {
		most = max(most, ar.jStart[j+1])
		ar.jStart[j+1] += ar.jStart[j]
	}
	ar.arena = makeFilled[uint32](w.big, int(ar.jStart[nJ]), int(ar.jStart[nJ]))
	ar.hopPt = makeFilled[uint16](w.big, int(ar.jStart[nJ]), int(ar.jStart[nJ]))
	ar.hopTs = newHopTimes(w.big, int(ar.jStart[nJ]), &ar.t0)
	ar.setRanked(m, nJ, most)
	ar.takeOrder(m)
	ar.order = newInnerOrder(w, m.clocks)
	if split && nJ > 1 {
		mid := ar.midJourney(nJ)
		wait := beside(func() { ar.fillSort(w, m, mid, nJ) })
		ar.fillSort(w, m, 0, mid)
		wait()
	} else {
		ar.fillSort(w, m, 0, nJ)
	}
	for i := range m.nat {
		if m.nat[i].ahead {
			ar.aheadFirst(w, &m.nat[i])
		}
	}
	// The matcher's per-observation state is no longer needed. On the heap, its memory is collected
	// but not returned to the system: the flow stage, which comes next, allocates in proportion to the
	// flows and takes these pages without a page fault each (result returns what is left free once the
	// flows are assigned). In bounded-memory mode (w.big) the state was mapped, the heap is small and
	// its free memory goes back at once, as it did.
	if m.cameBack || !ar.revisit.Load() && ar.natBack(m.nat) { // a journey with two hops at one point: its flow direction's path from its hops
		ar.revisit.Store(true)
	}
	m.jOf, m.dup, m.outOfOrder, ar.outOfOrder = nil, nil, nil, nil
	switch {
	case lean && w.big != nil:
		debug.FreeOSMemory()
	case lean:
		runtime.GC()
	}
	return ar
}

// aheadFirst puts the hops of NAT event ev's journey on the node of ev.from first, in their order: the
// packet before the rewrite, joined to the journey after its sightings past the rewrite, which the
// clocks put first within their bounds (natAhead; the journey had not passed that node). ev.to becomes
// the hop after them, the first past the rewrite. (innerFirst may have moved them already.)
func (ar *arenaOut) aheadFirst(w *world, ev *natEvent) {
	j := int(ev.j)
	if j < 0 || j+1 >= len(ar.jStart) {
		return
	}
	lo, hi := int(ar.jStart[j]), int(ar.jStart[j+1])
	nd := w.pointNode[w.pointOf(ev.from)]
	k := lo
	for k < hi && w.pointNode[ar.hopPt[k]] != nd {
		k++
	}
	end := k
	for end < hi && w.pointNode[ar.hopPt[end]] == nd {
		end++
	}
	for r := k; r < end; r++ { // each moved back past the hops from lo on
		for i := r; i > lo+r-k; i-- {
			ar.arena[i], ar.arena[i-1] = ar.arena[i-1], ar.arena[i]
			ar.hopPt[i], ar.hopPt[i-1] = ar.hopPt[i-1], ar.hopPt[i]
			ar.hopTs.swap(i, i-1)
		}
	}
	if n := lo + end - k; k < end && n < hi {
		ev.to = ar.arena[n]
	}
}

// setRanked sets noRanks and ranked for the arena of the nJ journeys (jStart the starts), the most
// hops of a journey being most.
func (ar *arenaOut) setRanked(m *matcher, nJ int, most uint32) {
	ar.noRanks = ar.jStart[nJ] >= unranked
	ar.ranked = !ar.noRanks && m.jRank != 0 && most <= maxRanked
}

// takeOrder takes the matcher's list of the journeys that may be out of path order as the fill lays
// them out (outOfOrder) where it lays every hop out by rank (ranked), in id order.
func (ar *arenaOut) takeOrder(m *matcher) {
	ar.outOfOrder, ar.orderKnown = nil, ar.ranked
	if ar.ranked {
		js := m.outOfOrder
		if !slices.IsSorted(js) { // (wgMerge's joins appended)
			slices.Sort(js)
			js = slices.Compact(js)
		}
		ar.outOfOrder, m.outOfOrder = js, js
	}
}

// natBack reports whether a journey that NAT rewrote crossed one of its points twice: a NodePort's
// request, DNATed on its node to a pod on another node, goes in by the node's eth0 bare and out of it
// in IP-in-IP. Where only the nodes are captured (-i any), no router's hop comes between the two
// crossings, the node's hops are together in time and visits, which starts the revisit paths, is not
// called; the path was drawn from the flow's rewritten addresses (the node's tunnel address to the
// pod), from the node's tunnel device on. Only the journeys NAT rewrote are looked at: a few.
func (ar *arenaOut) natBack(nat []natEvent) bool {
	for _, ev := range nat {
		if int(ev.j)+1 >= len(ar.jStart) {
			continue
		}
		pts := ar.hopPt[ar.jStart[ev.j]:ar.jStart[ev.j+1]]
		for k := 1; k < len(pts); k++ {
			if slices.Contains(pts[:k], pts[k]) {
				return true
			}
		}
	}
	return false
}

// midJourney returns the first journey of the second half of the hops (jStart must be the starts):
// journeys are numbered in time order, so the journeys below it are about the first half of the time.
func (ar *arenaOut) midJourney(nJ int) int {
	half := ar.jStart[nJ] / 2
	lo, hi := 0, nJ // the first j with jStart[j] >= half
	for lo < hi {
		if j := int(uint(lo+hi) >> 1); ar.jStart[j] < half {
			lo = j + 1
		} else {
			hi = j
		}
	}
	return lo
}

// fillSort fills in the hops of journeys [from, to) (fill) and puts them in path order (sortHops).
// The journeys of another range are another goroutine's to fill and sort at the same time: no slot
// is written by both.
func (ar *arenaOut) fillSort(w *world, m *matcher, from, to int) {
	ar.fill(w, m, int32(from), int32(to))
	ar.sortHops(w, from, to)
}

// fillSlice is how much corrected time fill takes from each file in turn: 4 ms, where 1 ms made
// about 4 times as many calls of fillSlice and fillRanked, each with its setup, for about 16 frames
// a call on a set of many flows; the journeys of 4 ms (about 800 at a million frames a second, their
// slots about 60 KB) still fit the caches.
const fillSlice = int64(4 * time.Millisecond)

// fill writes every hop of the journeys [from, to) (an Observation of the journey, duplicates aside)
// to its journey's next arena slot, with its point and corrected time. The order of a journey's slots
// does not matter (sortHops orders them), only locality: the files are read side by side, a slice of
// corrected time from each in turn, so the journeys being filled are the few of that moment (journeys
// are numbered in time order) and their slots stay in the caches; one file after another would sweep
// the whole arena once a file. A file not in time order is read in its own order, each of its
// Observations once all the same. The Observations of other journeys are passed over (they cost a
// journey id read each).
func (ar *arenaOut) fill(w *world, m *matcher, from, to int32) {
	next := ar.jStart[from:to] // (read only: ranked)
	var t0 []int64
	var jt []jfill
	if ar.ranked {
		jt = ar.jfills(w, from, to)
	} else {
		next = ar.nextSlots(w, m, from, to)
		t0 = ar.t0.flat(w.big, int(from), int(to)) // their first sightings: one load a hop, not two (blocks)
	}
	pos := make([]int, len(w.c.Obs))
	runs := make([]fillTimes, len(w.c.Obs))
	one := oneSourceFiles(w.c.Sources, len(w.c.Obs))
	for {
		lo, left := int64(math.MaxInt64), false
		for f, obs := range w.c.Obs {
			if pos[f] < len(obs) {
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
		for f := range w.c.Obs {
			pos[f] = ar.fillSlice(w, m, f, pos[f], until, next, t0, jt, from, to, &runs[f], one[f])
		}
	}
}

// unranked marks a journey's entry in fill's next whose hops are not put in the slots of their ranks
// (see rankShift): the entry is then the journey's next slot to fill, in its low 31 bits.
const unranked = 1 << 31

// nextSlots returns, for a fill not ranked, each journey of [from, to)'s first arena slot, or with unranked its
// next slot to fill: a journey of more than maxRanked hops, or every journey when jOf holds no ranks
// (jRank) or the arena's slots need the flag's bit (noRanks: every frame is then taken one by one,
// fillSlice's plain way, and the entries are only the next slots).
func (ar *arenaOut) nextSlots(w *world, m *matcher, from, to int32) []uint32 {
	next := makeFilled[uint32](w.big, int(to-from), int(to-from))
	starts := ar.jStart[from : to+1]
	switch {
	case ar.noRanks:
		copy(next, starts)
	case m.jRank == 0:
		for k := range next {
			next[k] = starts[k] | unranked
		}
	default:
		for k := range next {
			s := starts[k]
			if starts[k+1]-s > maxRanked {
				s |= unranked
			}
			next[k] = s
		}
	}
	return next
}

// fillTimes is the run of a file's frames whose corrected times fill has taken at once (fillRun), kept
// from one of its slices of time to the next: frames from to from+n-1, their times ts and their point
// pt; or, when plain, a run fillRun declined, whose times fill takes one by one.
type fillTimes struct {
	ts [mergeAheadN]int64
	// js is the frames' jOf values for a ranked fill (fillRanked), but 0 (no journey) for a duplicate:
	// beside ts, so that one base reaches both and the duplicate bits need no test a frame.
	js [fillRunN]int32
	// fillRanked's values that its loop reads but does not keep in registers (too few for them all):
	// read from here by the instructions that use them
	last       int64  // the latest time to fill (until-1, or math.MaxInt64 for all)
	from1      uint32 // the fill's first journey + 1 (jOf's value)
	nJt, slots uint   // len(jt) and the arena's slots
	big        uint64 // dtBig (a 64-bit constant is no immediate operand)
	from       int
	n          int
	pt         uint16
	plain      bool
	// direct: a run of a file of one source (oneSourceFiles) in one block of its Stamps, with no
	// clock step or drift in it, whose times a ranked fill reads from the Observations as it fills
	// (fillDirect): each the block's base less the clock's offset (add) and the Observation's TsLo,
	// as fillRun would have them; ts is not set.
	direct bool
	add    int64
}

// begin begins the run of file frames from i on (of Observations obs): fillRunN of them (to the next
// multiple) when it can be filled directly (directAt, with mayDirect: its file is of one source, the
// fill ranked), else mergeAheadN's, and returns how many.
func (run *fillTimes) begin(st *decode.Stamps, clocks []clockModel, obs []decode.Observation, i int, mayDirect bool) int {
	k := min(fillRunN-i%fillRunN, len(obs)-i)
	run.direct = mayDirect && run.directAt(st, clocks, obs[i].Source, i, k)
	if !run.direct && k > mergeAheadN-i%mergeAheadN {
		k = min(mergeAheadN-i%mergeAheadN, len(obs)-i)
		run.direct = mayDirect && run.directAt(st, clocks, obs[i].Source, i, k)
	}
	run.from, run.n = i, k
	return k
}

// directAt reports whether the run of file frames [i, i+n), of source src, can be filled directly
// (fillTimes.direct; its file being of one source), and sets add for it.
func (run *fillTimes) directAt(st *decode.Stamps, clocks []clockModel, src uint16, i, n int) bool {
	base, ok := st.Base(i, i+n)
	clk := &clocks[src]
	if !ok || i+n > clk.stepIdx || clk.drift != 0 {
		return false
	}
	run.add = base - clk.offset
	return true
}

// oneSourceFiles returns, for each of n files, whether all its Observations are of one source: it
// has a single source (Source.File), and no file's sources overflowed into the shared last one.
func oneSourceFiles(sources []decode.Source, n int) []bool {
	count := make([]int, n)
	for _, s := range sources {
		if s.IfIndex == decode.IfOverflow {
			return make([]bool, n)
		}
		if int(s.File) < n {
			count[s.File]++
		}
	}
	one := make([]bool, n)
	for f, c := range count {
		one[f] = c == 1
	}
	return one
}

// fillSlice fills in the hops of journeys [from, to) in file f from its i-th Observation on, up to
// corrected time until (all of them for math.MaxInt64), and returns where it stopped; next holds
// the arena slot that journey from+k's next hop goes to at k, and t0 its first sighting (a flat copy
// of the matcher's, which fill takes while it runs: 8 bytes a journey of the range), or, for a ranked
// fill, jt both (jfills: t0 is then nil). An
// Observation's corrected time is its capture time corrected by its source's clock
// (matcher.corrected). The frames are taken in runs of
// up to mergeAheadN, as the merge takes them (fillAhead), or fillRunN for a direct run: a run of one source in one block of the
// file's Stamps with no clock step in it has its times and point worked out once (run, which keeps
// them for the slices after) and its hops filled by fillTimed (fillRanked for a ranked fill), any
// other run a frame at a time.
func (ar *arenaOut) fillSlice(w *world, m *matcher, f, i int, until int64, next []uint32, t0 []int64, jt []jfill, from, to int32, run *fillTimes, one bool) int {
	obs, base, st, clk := w.c.Obs[f], w.fileBase[f], &w.c.Stamps[f], m.srcClock
	jOf, dup, arena, hopPt, srcPoint := m.jOf, m.dup, ar.arena, ar.hopPt, w.srcPoint
	dts := ar.hopTs.dt // set's common case below, on a local
	n, keep := uint32(to-from), ^m.jRank
	for i < len(obs) {
		if uint(i-run.from) >= uint(run.n) { // the next run
			k := run.begin(st, clk, obs, i, one && ar.ranked)
			run.plain = !run.direct && (!fillRun(&run.ts, obs[i:i+k], st, i, clk) || ar.noRanks)
			run.pt = uint16(srcPoint[obs[i].Source])
			if !run.plain && ar.ranked {
				run.journeys(jOf[base+uint32(i):base+uint32(i+k)], dupWindow(dup, base+uint32(i)))
			}
			// Each frame is read once a run: the trim at a run's last frame (a run ends at a multiple of
			// mergeAheadN, which divides trimRun) is looked at when the run is begun.
			w.trimAt(i + k - 1)
		}
		end := run.from + run.n
		if run.plain {
			for ; i < end; i++ {
				g := base + uint32(i)
				v := uint32(jOf[g])
				j := int32(v&keep) - 1
				if uint32(j-from) >= n || dup[g/64]&(1<<(g%64)) != 0 { // none (-1), another range's or a duplicate (isDup)
					continue
				}
				o := &obs[i]
				ts, ok := st.TsPlain(i, o) // Ts, inlined: a call for each frame
				if !ok {
					ts = st.Ts(i, o)
				}
				t := clk[o.Source].correctAt(ts, i)
				if t >= until && until != math.MaxInt64 {
					return i
				}
				k := ar.slotOf(next, j-from, v)
				arena[k], hopPt[k] = g, uint16(srcPoint[o.Source])
				var first int64 // the journey's first sighting
				if ar.ranked {
					first = jt[j-from].t0
				} else {
					first = t0[j-from]
				}
				if d := t - first; d >= 0 && d < dtBig {
					dts[k] = uint32(d)
				} else {
					ar.hopTs.set(int(k), j, t)
				}
			}
			continue
		}
		var k int
		var t int64
		var big bool
		if ar.ranked {
			k, t, big = ar.fillRankedRun(run, i, obs[run.from:end], jt, base+uint32(run.from), from, until)
		} else {
			k, t, big = ar.fillTimed(jOf[base+uint32(i):base+uint32(end)], dup, next, t0, run.ts[i-run.from:run.n], base+uint32(i), from, keep, run.pt, until)
		}
		i += k
		if !big {
			if i < end {
				return i // its time is at or past until
			}
			continue
		}
		// frame i (of the range, no duplicate) needs hopTs's side map
		g := base + uint32(i)
		v := uint32(jOf[g])
		j := int32(v&keep) - 1
		k32 := ar.slotOf(next, j-from, v)
		arena[k32], hopPt[k32] = g, run.pt
		ar.hopTs.set(int(k32), j, t)
		i++
	}
	return i
}

// slotOf returns the arena slot of a hop of journey from+jf whose jOf value is v: the slot of its rank
// (see rankShift) in the journey's slots, whose first next holds at jf, or, for a journey marked
// unranked there (or every one, noRanks), its next slot to fill.
func (ar *arenaOut) slotOf(next []uint32, jf int32, v uint32) uint32 {
	s := next[jf]
	switch {
	case ar.ranked:
	case ar.noRanks:
		next[jf] = s + 1
		return s
	case s&unranked != 0:
		next[jf] = s + 1
		return s &^ unranked
	}
	return s + v>>24
}

// fillTimed fills the hops of a run's frames whose journey ids are js (global observation ids g0 on)
// and corrected times ts (as many; a run, so at most mergeAheadN), all at point pt, that are hops of journeys [from, from+len(next))
// and not duplicates, in their journeys' next slots (next; t0 holds their first sightings, as many).
// It stops at the first such frame whose time is at or past until (math.MaxInt64: none is), or whose time offset from its journey's first
// sighting needs hopTs's side map (big: that frame is not filled; t is its time), and returns how
// many frames it took. Its loop is fillSlice's usual one on its own, so that fewer of its values are
// kept on the stack: a run's duplicate bits in one word (dupWindow), the arena's three arrays checked
// once a hop.
func (ar *arenaOut) fillTimed(js []int32, dup []uint64, next []uint32, t0 []int64, ts []int64, g0 uint32, from int32, keep uint32, pt uint16, until int64) (int, int64, bool) {
	if len(js) > 64 { // not from fillSlice (mergeAheadN is less); the rest is taken in the next slice
		js = js[:64]
	}
	ts = ts[:len(js)]
	dups := dupWindow(dup, g0)                               // bit k: frame g0+k is a duplicate (isDup)
	dts, t0 := ar.hopTs.dt, t0[:len(next)]                   // t0's index checked with next's
	arena, hopPt := ar.arena[:len(dts)], ar.hopPt[:len(dts)] // one bounds check for the three
	for k, v := range js {
		j := int32(uint32(v)&keep) - 1
		jf := uint(uint32(j - from))                            // next's index of journey j
		if jf >= uint(len(next)) || dups>>(uint(k)&63)&1 != 0 { // none (-1), another range's or a duplicate
			continue
		}
		t := ts[k]
		if t >= until && until != math.MaxInt64 {
			return k, t, false
		}
		d := t - t0[jf]
		if uint64(d) >= dtBig {
			return k, t, true
		}
		s := next[jf]
		if s&unranked == 0 { // the slot of its rank (never with noRanks: fillSlice takes the frames plainly)
			s += uint32(v) >> 24
		} else {
			next[jf] = s + 1
			s &^= unranked
		}
		dts[s], arena[s], hopPt[s] = uint32(d), g0+uint32(k), pt
	}
	return len(js), 0, false
}

// jfill is a journey's first sighting (t0, corrected) and first arena slot (jStart) side by side, as
// a ranked fill reads them for each hop (jfills): one array, so one base and one length kept through
// fillRanked's loop where two arrays took two of each.
type jfill struct {
	t0    int64
	start uint32
}

// jfills returns the first sightings and first slots of journeys [from, to) (a ranked fill's), from
// w.big (makeBig): 16 bytes a journey while the fill runs, where t0's flat copy took 8.
func (ar *arenaOut) jfills(w *world, from, to int32) []jfill {
	jt := makeFilled[jfill](w.big, int(to-from), int(to-from))
	starts := ar.jStart[from:to]
	jt = jt[:len(starts)]
	for k := 0; k < len(jt); {
		i := int(from) + k
		blk := ar.t0.blocks[i/timesBlock][i%timesBlock:]
		blk = blk[:min(len(blk), len(jt)-k)]
		for n, t := range blk {
			jt[k+n] = jfill{t0: t, start: starts[k+n]}
		}
		k += len(blk)
	}
	return jt
}

// journeys sets run's js: js, the jOf values of its frames, but 0 for those whose bit is set in dups
// (duplicates: dupWindow's bits, from the run's first frame on).
func (run *fillTimes) journeys(js []int32, dups uint64) {
	n := copy(run.js[:], js)
	for dups &= 1<<n - 1; dups != 0; dups &= dups - 1 {
		run.js[bits.TrailingZeros64(dups)&(fillRunN-1)] = 0
	}
}

// fillRankedRun fills the hops of a ranked fill's run from file frame i on (the run's frames are obs,
// g0 the global id of its first) by fillDirect or fillRanked, and returns how many frames it took from
// i on, and, when it stopped at a frame that needs hopTs's side map (big), that frame's time, as
// fillTimed does.
func (ar *arenaOut) fillRankedRun(run *fillTimes, i int, obs []decode.Observation, jt []jfill, g0 uint32, from int32, until int64) (int, int64, bool) {
	var k int
	var t int64
	var big bool
	if run.direct {
		k, big = ar.fillDirect(run, uint(i-run.from), obs, jt, g0, from, until)
		if big {
			t = run.add + int64(obs[k].TsLo)
		}
	} else {
		k, big = ar.fillRanked(run, uint(i-run.from), jt, g0, from, until)
		if big {
			t = run.ts[k]
		}
	}
	return k - (i - run.from), t, big
}

// fillRanked is fillTimed for a ranked fill, from the run's k-th frame on (g0 the global id of its
// first): jt holds each journey's first sighting and first slot (jStart), read only, and each hop
// goes to the slot of its rank, with no unranked entry to look for. A ranked fill's jOf holds the
// ranks in rankBits (setRanked), so the journey is in the bits below them: a constant mask, and
// from+1 taken off at once; the run's js holds the duplicates as frames of no journey, and until's
// test is one compare (last). It returns where it stopped in the run and whether that frame needs
// hopTs's side map (big: its time is the run's), as fillTimed does. The loop
// keeps the run, k, its end, jt's base and the arena's three in registers, and reads the rest from
// the run (fillTimes' last to slots) where it uses them: with each of them in a register of its own
// as well, Go's register allocator moved values to the stack and back at every frame. jt and the
// arena are read and written through unsafe pointers after the tests a bounds check would make
// (jf below len(jt), the slot below the arena's length), made against those fields.
func (ar *arenaOut) fillRanked(run *fillTimes, k uint, jt []jfill, g0 uint32, from int32, until int64) (int, bool) {
	run.last = until - 1 // t >= until, for a time to stop at
	if until == math.MaxInt64 {
		run.last = until
	}
	dts := ar.hopTs.dt
	arena, hopPt := ar.arena[:len(dts)], ar.hopPt[:len(dts)] // (the three as long)
	run.from1, run.nJt, run.slots, run.big = uint32(from)+1, uint(len(jt)), uint(len(dts)), dtBig
	jp := unsafe.Pointer(unsafe.SliceData(jt))
	dp, ap, pp := unsafe.Pointer(unsafe.SliceData(dts)), unsafe.Pointer(unsafe.SliceData(arena)), unsafe.Pointer(unsafe.SliceData(hopPt))
	n := min(run.n, mergeAheadN)
	js, ts, pt := run.js[:n:n], run.ts[:n:n], run.pt
	for ; k < uint(len(js)); k++ {
		v := uint32(js[k])
		jf := uint(v&^rankBits - run.from1) // jt's index of journey v&^rankBits - 1
		if jf >= run.nJt {                  // none (-1, or a duplicate) or another range's
			continue
		}
		t := ts[k]
		if t > run.last {
			return int(k), false
		}
		x := (*jfill)(unsafe.Add(jp, uintptr(jf)*unsafe.Sizeof(jfill{})))
		d := t - x.t0
		if uint64(d) >= run.big {
			return int(k), true
		}
		s := uint(x.start + v>>24)
		if s >= run.slots {
			panic("fillRanked: a hop's rank past its journey's slots")
		}
		*(*uint32)(unsafe.Add(dp, s*4)) = uint32(d)
		*(*uint32)(unsafe.Add(ap, s*4)) = g0 + uint32(k)
		*(*uint16)(unsafe.Add(pp, s*2)) = pt
	}
	return n, false
}

// fillDirect is fillRanked for a direct run (fillTimes.direct), whose frames from run.from on are
// obs: each frame's time read from its Observation (run.add and its TsLo) as the loop comes to it,
// for the frames of the range alone, where fillRun would have taken every frame's time and source
// beforehand. The same loop as fillRanked's but for the time, and the same values kept in registers
// (obs's base for ts's).
func (ar *arenaOut) fillDirect(run *fillTimes, k uint, obs []decode.Observation, jt []jfill, g0 uint32, from int32, until int64) (int, bool) {
	run.last = until - 1 // t >= until, for a time to stop at
	if until == math.MaxInt64 {
		run.last = until
	}
	dts := ar.hopTs.dt
	arena, hopPt := ar.arena[:len(dts)], ar.hopPt[:len(dts)] // (the three as long)
	run.from1, run.nJt, run.slots, run.big = uint32(from)+1, uint(len(jt)), uint(len(dts)), dtBig
	jp := unsafe.Pointer(unsafe.SliceData(jt))
	dp, ap, pp := unsafe.Pointer(unsafe.SliceData(dts)), unsafe.Pointer(unsafe.SliceData(arena)), unsafe.Pointer(unsafe.SliceData(hopPt))
	n := min(run.n, fillRunN, len(obs))
	js, obs, pt := run.js[:n:n], obs[:n:n], run.pt
	for ; k < uint(len(js)); k++ {
		v := uint32(js[k])
		jf := uint(v&^rankBits - run.from1) // jt's index of journey v&^rankBits - 1
		if jf >= run.nJt {                  // none (-1, or a duplicate) or another range's
			continue
		}
		t := run.add + int64(obs[k].TsLo)
		if t > run.last {
			return int(k), false
		}
		x := (*jfill)(unsafe.Add(jp, uintptr(jf)*unsafe.Sizeof(jfill{})))
		d := t - x.t0
		if uint64(d) >= run.big {
			return int(k), true
		}
		s := uint(x.start + v>>24)
		if s >= run.slots {
			panic("fillDirect: a hop's rank past its journey's slots")
		}
		*(*uint32)(unsafe.Add(dp, s*4)) = uint32(d)
		*(*uint32)(unsafe.Add(ap, s*4)) = g0 + uint32(k)
		*(*uint16)(unsafe.Add(pp, s*2)) = pt
	}
	return n, false
}

// A run (fillRunN frames at most) fits the 64 bits of dupWindow.
var _ [64 - fillRunN]struct{}

// fillRunN is how many frames the fill takes a direct run at a time (fillTimes.direct: fillDirect),
// where each run costs fillSlice about 300 instructions to begin (directAt, journeys, the trim's look):
// twice mergeAheadN, the length of any other run (whose times fillRun works out into ts); a multiple
// of it, so that a run of either length ends at a multiple of mergeAheadN, as the trim wants.
const fillRunN = 2 * mergeAheadN

// dupWindow returns the duplicate bits (matcher.dup) of global observations g0 to g0+63, bit k for
// g0+k (0 past the last).
func dupWindow(dup []uint64, g0 uint32) uint64 {
	w, sh := int(g0/64), g0%64
	if w >= len(dup) {
		return 0
	}
	bits := dup[w] >> sh
	if sh != 0 && w+1 < len(dup) {
		bits |= dup[w+1] << (64 - sh)
	}
	return bits
}

// sortHops puts the hops of journeys [from, to) in path order. Within a journey: nodes in the order
// the packet reached them (first sighting in corrected time), and within a node by capture time (one
// clock, so exact). Journeys are short, and nearly all in path order already as the fill laid them out
// (hopsInOrder); another journey of at most maxQuickHops hops is sorted in a local copy (sortQuick),
// a longer one or one with a time in hopTs's side map in place (sortInPlace); both give the same order.
// Where the matcher said which journeys may be out of order (orderKnown), only those are looked at,
// unless some hop of the range has its time in the side map.
func (a *arenaOut) sortHops(w *world, from, to int) {
	var nodes []int
	dt := a.hopTs.dt
	ga, pts := a.arena[:len(dt)], a.hopPt[:len(dt)]
	if a.orderKnown && !a.hopTs.bigIn(int(a.jStart[from]), int(a.jStart[to])) {
		js := a.outOfOrder
		k, _ := slices.BinarySearch(js, int32(from))
		for _, j := range js[k:] {
			if int(j) >= to {
				break
			}
			if hopsInOrder(dt, ga, pts, w.pointNode, a.jStart[j:j+2]) == 0 {
				nodes = a.sortJourney(w, int(j), nodes)
			}
		}
		a.innerFirsts(w, from, to)
		return
	}
	for j := from; j < to; j++ {
		j += hopsInOrder(dt, ga, pts, w.pointNode, a.jStart[j:to+1])
		if j == to {
			break
		}
		nodes = a.sortJourney(w, j, nodes)
	}
	a.innerFirsts(w, from, to)
}

// innerFirsts puts the hops of journeys [from, to), in path order, on a node seen only inside it where
// their TTL says they go (innerOrder.innerFirst), when there is such a node.
func (a *arenaOut) innerFirsts(w *world, from, to int) {
	if a.order == nil {
		return
	}
	for j := from; j < to; j++ {
		if a.order.innerFirst(w, a, j) {
			a.revisit.Store(true)
		}
	}
}

// sortJourney puts journey j's hops in path order (sortHops): in a copy (sortQuick) or in place
// (sortInPlace, nodes its scratch space, returned).
func (a *arenaOut) sortJourney(w *world, j int, nodes []int) []int {
	if lo, hi := int(a.jStart[j]), int(a.jStart[j+1]); hi-lo > maxQuickHops || !a.sortQuick(w, j, lo, hi) {
		nodes = a.sortInPlace(w, j, lo, hi, nodes)
	}
	return nodes
}

// maxQuickHops is the most hops sortQuick sorts.
const maxQuickHops = 16

// sortQuick sorts journey j's hops (slots lo..hi-1, at most maxQuickHops) in a copy on the stack:
// insertion sorts first by time and observation id (one key: the time offset above the id), as the
// hops are copied, then (stably) by node rank, as sortInPlace does. It reports false, leaving the
// slots as they were, when a time is in hopTs's side map.
func (a *arenaOut) sortQuick(w *world, j, lo, hi int) bool {
	dt, ga, pts, pointNode := a.hopTs.dt[lo:hi], a.arena[lo:hi], a.hopPt[lo:hi], w.pointNode
	n := len(dt)
	if uint(n-1) >= maxQuickHops || len(ga) != n || len(pts) != n { // (none: nothing to sort)
		return false
	}
	var keys [maxQuickHops]uint64 // time offset << 32 | observation id
	var pt [maxQuickHops]uint16
	if uint64(dt[0])<<32|uint64(ga[0]) > uint64(dt[n-1])<<32|uint64(ga[n-1]) {
		// Taken from the last: the fill meets each node's files in one order, a reply's nodes in
		// the reverse of its path's, so its hops arrive nearly backwards (a request's and its reply's
		// out-of-order pairs are all the pairs between them). Insertion shifts once a pair out of
		// order, and the order a sort ends in does not depend on the one it starts from.
		for k := range n {
			insertHop(&keys, &pt, k, uint64(dt[n-1-k])<<32|uint64(ga[n-1-k]), pts[n-1-k])
		}
	} else {
		for k := range n {
			insertHop(&keys, &pt, k, uint64(dt[k])<<32|uint64(ga[k]), pts[k])
		}
	}
	if keys[n-1]>>32 == dtBig { // the largest time offset (dtBig sorts last): one in the side map
		return false
	}
	// In path order already, as the usual journey: each node's hops together, none coming back to a
	// node after another's (nodesTogether), and no two neighbours of one node at one time (which
	// decapFirst may swap). One pass for both tests, where there were two; else the hops go the long
	// way (nodes put together, then ties looked at), which gives the same order for them as for any.
	var seen uint64
	prev, prevT, ok := -1, uint64(0), true
	for k, p := range pt[:n] {
		nd, t := pointNode[p], keys[k]>>32
		if nd == prev {
			if t == prevT {
				ok = false
				break
			}
			prevT = t
			continue
		}
		if uint(nd) >= 64 || seen&(1<<uint(nd)) != 0 {
			ok = false
			break
		}
		seen, prev, prevT = seen|1<<uint(nd), nd, t
	}
	if !ok {
		if !nodesTogether(w, pt[:n]) {
			var visit [maxQuickHops]uint8
			if visits(w, keys[:n], pt[:n], visit[:n], nil) {
				a.revisit.Store(true)
			}
			sortByRank(w, keys[:n], pt[:n], visit[:n])
		}
		for k := 1; k < n; k++ {
			if keys[k]>>32 == keys[k-1]>>32 && w.pointNode[pt[k]] == w.pointNode[pt[k-1]] &&
				w.decapFirst(uint32(keys[k]), uint32(keys[k-1]), w.pointNode[pt[k]]) {
				keys[k], keys[k-1], pt[k], pt[k-1] = keys[k-1], keys[k], pt[k-1], pt[k]
			}
		}
	}
	for k := range n {
		dt[k], ga[k], pts[k] = uint32(keys[k]>>32), uint32(keys[k]), pt[k]
	}
	return true
}

// hopsInOrder returns how many of the journeys whose first slots starts holds (journey k's slots from
// starts[k] to starts[k+1]-1) are, from the first, in path order where they lie, as sortQuick would
// leave them: in order by time and id (each key above the one before), each node's hops together and
// none coming back to a node after another's, no two neighbours of one node at one time, and no time
// in hopTs's side map (the largest offset, dtBig, last); a journey of one hop is, and one of more than
// maxQuickHops is not. The fill lays a journey's hops out in the order the matcher took them (see
// rankShift), which is nearly always this one. dt, ga and pts are the arena's times, ids and points.
// One call for a run of journeys: their slots are not sliced apart.
func hopsInOrder(dt, ga []uint32, pts []uint16, pointNode []int, starts []uint32) int {
	ga, pts = ga[:len(dt)], pts[:len(dt)]
	if len(starts) == 0 {
		return -1
	}
	lo := int(starts[0]) // each journey's first slot is the end of the one before
	for j, end := range starts[1:] {
		hi := int(end)
		if hi-lo < 2 {
			lo = hi
			continue
		}
		if hi-lo > maxQuickHops || hi > len(dt) || lo < 0 || dt[hi-1] == dtBig {
			return j
		}
		prevT, prev := dt[lo], pointNode[pts[lo]]
		if uint(prev) >= 64 {
			return j
		}
		seen := uint64(1) << uint(prev)
		for k := lo + 1; k < hi; k++ {
			t, nd := dt[k], pointNode[pts[k]]
			// The key (time offset above id) rises: a later time, or the same time and a higher id at
			// another node (one node's two hops at one time are a tie). The ids are read only then.
			if t <= prevT && (t < prevT || nd == prev || ga[k] <= ga[k-1]) {
				return j
			}
			if nd != prev {
				if uint(nd) >= 64 || seen&(1<<uint(nd)) != 0 {
					return j
				}
				seen, prev = seen|1<<uint(nd), nd
			}
			prevT = t
		}
		lo = hi
	}
	return len(starts) - 1
}

// insertHop inserts hop k (key, point p) among sortQuick's first k, in order by key.
func insertHop(keys *[maxQuickHops]uint64, pt *[maxQuickHops]uint16, k int, key uint64, p uint16) {
	i := k
	for ; i > 0 && key < keys[i-1]; i-- {
		keys[i], pt[i] = keys[i-1], pt[i-1]
	}
	keys[i], pt[i] = key, p
}

// nodesTogether reports whether the hops at points pt (at most maxQuickHops) are in node rank order
// already: each node's hops together, none coming back to a node after another's. The nodes met are
// bits of a word while their numbers are below 64 (nodesTogetherList otherwise).
func nodesTogether(w *world, pt []uint16) bool {
	var seen uint64
	prev := -1
	for _, p := range pt {
		nd := w.pointNode[p]
		if nd == prev {
			continue
		}
		if uint(nd) >= 64 {
			return nodesTogetherList(w, pt)
		}
		if seen&(1<<uint(nd)) != 0 {
			return false
		}
		seen, prev = seen|1<<uint(nd), nd
	}
	return true
}

// nodesTogetherList is nodesTogether with the nodes met in a list, for any node numbers.
func nodesTogetherList(w *world, pt []uint16) bool {
	var nodes [maxQuickHops]int
	prev, nn := -1, 0
	for _, p := range pt {
		nd := w.pointNode[p]
		if nd == prev {
			continue
		}
		for _, x := range nodes[:nn] {
			if x == nd {
				return false
			}
		}
		nodes[nn], nn, prev = nd, nn+1, nd
	}
	return true
}

// sortByRank sorts sortQuick's hops (at most maxQuickHops, in time order, each with its visit: see
// visits) stably by their nodes' ranks: the order in which the packet first reached them, each visit
// to a node it came back to ranked on its own.
func sortByRank(w *world, keys []uint64, pt []uint16, visit []uint8) {
	var nodes [maxQuickHops]int
	var rank [maxQuickHops]uint8
	nn := 0
	for k, p := range pt {
		nd := w.pointNode[p]<<8 | int(visit[k])
		r := 0
		for r < nn && nodes[r] != nd {
			r++
		}
		if r == nn {
			nodes[nn] = nd
			nn++
		}
		rank[k] = uint8(r)
	}
	for k := 1; k < len(keys); k++ {
		key, p, r := keys[k], pt[k], rank[k]
		i := k
		for ; i > 0 && r < rank[i-1]; i-- {
			keys[i], pt[i], rank[i] = keys[i-1], pt[i-1], rank[i-1]
		}
		keys[i], pt[i], rank[i] = key, p, r
	}
}

// visits fills visit with each hop's visit to its node (hops in time order: observation ids in the
// low half of keys, points pt): 0 for the first, 1 once the packet came back to the node, and so on.
// A packet came back to a node when it is seen at one of the node's points again in another
// encapsulation than in the visit so far (matching takes such a sighting for a stage of its own:
// stageOf), or when its TTL (hop limit) is two or more below the one it had at the visit's first hop:
// one visit forwards a packet once (a router, or a node between its eth0 and a pod or its tunnel
// device), and the TTL never rises on a packet's way (NAT and encapsulation keep the inner one), so
// another node forwarded it in between. A NodePort's request, DNATed to a pod on another node, leaves
// the router interface toward the node bare and comes back to it in IP-in-IP from the node; a node's
// own eth0 sees it in bare and out in its tunnel, which only starts a visit of the node's that follows
// the first at once. With that router interface not captured, the request is seen at the router's
// interface from the client bare and at the one toward the pod's node in IP-in-IP with its TTL two
// lower (the router's and the NodePort node's forwarding): two visits, the node's hops between them.
// A clock bounded on one side may put another node's hop between a node's eth0 and its tunnel device
// in time; the TTL, one lower at most, keeps both in one visit.
// A visit's first hop after the first visit comes before the hops just before it in time that are
// past it on the packet's way (comeBackFirst): the move is made on keys, pt and visit, and told to
// move (nil: none to tell).
// It reports whether any hop is of a second visit or later.
func visits(w *world, keys []uint64, pt []uint16, visit []uint8, move func(from, to int)) bool {
	again := false
	for k, p := range pt {
		nd, v := w.pointNode[p], uint8(0)
		e, ok := w.encapOf(uint32(keys[k]))
		latest := -1
		for i := k - 1; i >= 0; i-- { // the node's latest hop before this one: its visit so far
			if w.pointNode[pt[i]] != nd {
				continue
			}
			v, latest = visit[i], i
			first := i // the visit's first hop
			for ; ok && i >= 0; i-- {
				if w.pointNode[pt[i]] != nd || visit[i] != v {
					continue
				}
				first = i
				if pt[i] != p {
					continue
				}
				if q, ok := w.encapOf(uint32(keys[i])); ok && q != e {
					v++
					break
				}
			}
			if i < 0 && ok && w.ttlFell(uint32(keys[first]), uint32(keys[k])) {
				v++
			}
			if v != visit[latest] {
				if to := comeBackFirst(w, keys, pt, visit, latest, k); to < k {
					if move != nil {
						move(k, to)
					}
					k = to
				}
			}
			break
		}
		visit[k] = v
		again = again || v > 0
	}
	return again
}

// ttlFell reports whether observation g's TTL (hop limit) is two or more below observation f's: two
// forwardings at least between them (visits). Observations without one (ARP: 0) tell nothing.
func (w *world) ttlFell(f, g uint32) bool {
	of, _ := w.obsAt(f)
	og, _ := w.obsAt(g)
	return og.TTL != 0 && int(og.TTL)+2 <= int(of.TTL)
}

// comeBackFirst moves hop k, which starts another visit to its node (visits), before the hops just
// before it in time (after latest, the node's hop before it) that are past it on the packet's way:
// unencapsulated as hop k is, with a lower TTL, or with its TTL on a node that showed no higher one
// before (the next node, as the node came back to forwarded the packet; not a node that forwarded it
// onto the link to this one, whose TTL it would show). The TTL never rises on a packet's way, and a hop of the link out of
// the node comes after the node. A clock bounded on one side (a host outside the cluster whose
// packets name no node) can stamp that hop before the node's: a NodePort's reply, back from the pod's
// node through a router whose interface toward that node is not captured, was put at the external
// client before the router interface toward it, and at times before the node's own eth0 on its way
// out. It returns where hop k goes (k: nowhere else), the hops from there to k-1 moved one on (keys,
// pt, visit) and hop k put there.
func comeBackFirst(w *world, keys []uint64, pt []uint16, visit []uint8, latest, k int) int {
	og, _ := w.obsAt(uint32(keys[k]))
	if og.Encap() != decode.EncapNone || og.TTL == 0 {
		return k
	}
	to := k
	for i := k - 1; i > latest; i-- {
		oi, _ := w.obsAt(uint32(keys[i]))
		if oi.Encap() != decode.EncapNone || oi.TTL == 0 || oi.TTL > og.TTL ||
			oi.TTL == og.TTL && w.forwarded(keys, pt, i, og.TTL) {
			break
		}
		to = i
	}
	if to < k {
		key, p := keys[k], pt[k]
		copy(keys[to+1:k+1], keys[to:k])
		copy(pt[to+1:k+1], pt[to:k])
		copy(visit[to+1:k+1], visit[to:k])
		keys[to], pt[to] = key, p
	}
	return to
}

// forwarded reports whether hop i's node shows the packet with a TTL above ttl before it (in any
// visit: a node's eth0 in a visit of its own on the way out still shows the node's forwarding).
func (w *world) forwarded(keys []uint64, pt []uint16, i int, ttl uint8) bool {
	nd := w.pointNode[pt[i]]
	for x := i - 1; x >= 0; x-- {
		if w.pointNode[pt[x]] == nd {
			if o, _ := w.obsAt(uint32(keys[x])); o.TTL > ttl {
				return true
			}
		}
	}
	return false
}

// sortInPlace sorts journey j's hops (slots lo..hi-1) where they are: insertion sorts on the parallel
// arrays, first by time, then by node rank. nodes is scratch space, returned for reuse.
func (a *arenaOut) sortInPlace(w *world, j, lo, hi int, nodes []int) []int {
	swap := func(i, k int) {
		a.arena[i], a.arena[k] = a.arena[k], a.arena[i]
		a.hopPt[i], a.hopPt[k] = a.hopPt[k], a.hopPt[i]
		a.hopTs.swap(i, k)
	}
	var visit []uint8 // each hop's visit to its node (visits), once the hops are in time order
	rankOf := func(k int) int {
		n := w.pointNode[a.hopPt[k]]
		if visit != nil {
			n = n<<8 | int(visit[k-lo])
		}
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
	// Each visit to a node ranked on its own (visits), as sortQuick does.
	n := hi - lo
	keys, pt, visit := make([]uint64, n), make([]uint16, n), make([]uint8, n)
	for k := range n {
		keys[k], pt[k] = uint64(a.arena[lo+k]), a.hopPt[lo+k]
	}
	move := func(from, to int) { // the hop at from put at to, the ones between moved one on
		for i := lo + from; i > lo+to; i-- {
			swap(i, i-1)
		}
	}
	if visits(w, keys, pt, visit, move) {
		a.revisit.Store(true)
	}
	nodes = nodes[:0]
	for k := lo; k < hi; k++ {
		rankOf(k)
	}
	for k := lo + 1; k < hi; k++ {
		for i := k; i > lo && rankOf(i) < rankOf(i-1); i-- {
			swap(i, i-1)
			visit[i-lo], visit[i-1-lo] = visit[i-1-lo], visit[i-lo]
		}
	}
	for k := lo + 1; k < hi; k++ {
		if nd := w.pointNode[a.hopPt[k]]; nd == w.pointNode[a.hopPt[k-1]] &&
			a.hopTs.at(int32(j), k) == a.hopTs.at(int32(j), k-1) && w.decapFirst(a.arena[k], a.arena[k-1], nd) {
			swap(k, k-1)
		}
	}
	return nodes
}

// decapFirst reports whether observation g, at the same time on node nd as observation p put before
// it, came first on the packet's way: one of the two encapsulated and the other not, g the
// encapsulated one where nd is its outer destination (decapsulated there: eth0, then the tunnel
// device), or the bare one where nd is the outer source (encapsulated there). A node's two sightings
// share one microsecond in a pcap, and the hops were otherwise left in observation order, the files'
// (TestTieEncapOrder: "+vxlan" on the way in at the node that took the header off).
func (w *world) decapFirst(g, p uint32, nd int) bool {
	if int(g>>16) >= len(w.blockFile) || int(p>>16) >= len(w.blockFile) {
		return false // no observations to tell (a world made without them)
	}
	og, _ := w.obsAt(g)
	op, _ := w.obsAt(p)
	eg, ep := og.Encap() != decode.EncapNone, op.Encap() != decode.EncapNone
	if eg == ep || nd < 0 {
		return false
	}
	e := op
	if eg {
		e = og
	}
	switch nd {
	case w.receiverNode(e):
		return eg
	case w.senderNode(e):
		return !eg
	}
	return false
}

// encapOf returns global observation g's encapsulation; false in a world made without observations.
func (w *world) encapOf(g uint32) (decode.Encap, bool) {
	if int(g>>16) >= len(w.blockFile) {
		return 0, false
	}
	o, _ := w.obsAt(g)
	return o.Encap(), true
}

// pointOf returns the point of global observation g.
func (w *world) pointOf(g uint32) int {
	o, _ := w.obsAt(g)
	return w.srcPoint[o.Source]
}
