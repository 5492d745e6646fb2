package correlate

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// refMerge is the merge's order as the head tree of the files' heads gives it, found the slow way: at
// each step the file whose next Observation (in the order perm gives) has the earliest corrected time,
// the lower file on equal times; in batches of batch, each put in tiesInOrder's order. It returns the
// global ids in that order.
func refMerge(m *matcher, perm [][]uint32, batch int) []uint32 {
	w := m.w
	pos := make([]int, len(w.c.Obs))
	var out []uint32
	var b []sighting
	flush := func() {
		for _, s := range m.tiesInOrder(b) {
			out = append(out, s.g)
		}
		b = b[:0]
	}
	for {
		best, bt, bidx := -1, int64(0), 0
		for f, obs := range w.c.Obs {
			if pos[f] == len(obs) {
				continue
			}
			idx := pos[f]
			if perm[f] != nil {
				idx = int(perm[f][idx])
			}
			if t := m.corrected(&obs[idx], f, idx); best < 0 || t < bt {
				best, bt, bidx = f, t, idx
			}
		}
		if best < 0 {
			break
		}
		pos[best]++
		var s sighting
		m.sight(&s, &w.c.Obs[best][bidx], m.fp[best].Slot(bidx), w.fileBase[best]+uint32(bidx), bt)
		if b = append(b, s); len(b) == batch {
			flush()
		}
	}
	flush()
	return out
}

// The merge a slice of time at a time hands over the Observations in the head tree's order (refMerge),
// with their corrected times, in batches of the size asked: on every lab scenario and a generated set,
// with slices of room for 4 sightings (nearly every slice full: made narrower down to a slice of one
// time, handed over without a sort), 64 and the usual; and with clocks stepping in the middle of some
// sources' files by a second either way, or forward where the merge's times ahead are worked out
// again, whose times then fall in the file's order (the head tree merges the rest from the first
// slice that meets such a fall).
func TestSliceMergeOrder(t *testing.T) {
	check := func(t *testing.T, files []string) {
		c := decode.Load(files, decode.Options{}, decode.PointConfig{})
		for _, steps := range []int{0, 1, 2} { // none, within the times ahead, between two of their blocks
			for _, cfg := range []struct{ cap, batch int }{{1, 7}, {4, 7}, {64, 256}, {0, 256}, {0, 4096}} {
				newM := func() *matcher {
					w := worldOf(c)
					clocks, _ := w.clocksFor(Options{})
					m := newMatcher(w, clocks, Options{Window: time.Second})
					m.batch, m.sliceCap = cfg.batch, cfg.cap
					for s := range m.srcClock {
						switch {
						case steps == 1 && s%3 == 1:
							size := int64(time.Second) * int64(1-2*(s/3%2)) // forward and back in turn
							m.srcClock[s].stepIdx, m.srcClock[s].stepSize = 5+s, size
						case steps == 2 && s%2 == 1:
							m.srcClock[s].stepIdx, m.srcClock[s].stepSize = mergeAheadN, int64(time.Second)
						}
					}
					return m
				}
				m := newM()
				want := refMerge(m, m.orders(), cfg.batch)
				if got := directMerge(t, newM()); !slices.Equal(got, want) {
					t.Fatalf("steps %d, room %d, batch %d, on one core: %d sightings, %d wanted; first difference at %d", steps, cfg.cap, cfg.batch, len(got), len(want), firstIDDiff(got, want))
				}
				var got []uint32
				batches, free := m.start()
				for b := range batches {
					if len(b) != cfg.batch && len(got)+len(b) != len(want) {
						t.Fatalf("a batch of %d sightings before the last, want %d", len(b), cfg.batch)
					}
					for i := range b {
						if tm := m.correctedG(b[i].g); b[i].t != tm {
							t.Fatalf("Observation %d: time %d, want %d", b[i].g, b[i].t, tm)
						}
						got = append(got, b[i].g)
					}
					free <- b[:0]
				}
				if i := firstIDDiff(got, want); i >= 0 {
					t.Fatalf("steps %d, room %d, batch %d: %d sightings, %d wanted; first difference at %d", steps, cfg.cap, cfg.batch, len(got), len(want), i)
				}
			}
		}
	}
	eachLabScenario(t, check)
	cfg := gen.DefaultConfig()
	cfg.Flows, cfg.Packets, cfg.Dir = 40, 2000, t.TempDir()
	cfg.DupRate, cfg.Identical = 0.03, 2
	cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	check(t, g.Files)
}

// directMerge runs the merge of m's files as on one core (runDirect), where the matcher takes each part
// of a batch as the merge makes it (sliceMerge.take), and returns the global ids in the order the
// matcher would take them (a slice's keys put in order as matchKeys puts them), checking that no part
// crosses a batch's bounds and that each sighting carries its corrected time.
func directMerge(t *testing.T, m *matcher) []uint32 {
	t.Helper()
	sm := m.newSliceMerge(m.mergeFiles(m.prepare()), nil, nil)
	var got []uint32
	add := func(s *sighting) {
		if tm := m.correctedG(s.g); s.t != tm {
			t.Fatalf("Observation %d: time %d, want %d", s.g, s.t, tm)
		}
		got = append(got, s.g)
	}
	inBatch := 0
	sm.take = func(stage []sighting, keys []uint64) {
		n := len(keys)
		if keys == nil {
			n = len(stage)
		}
		if inBatch+n > m.batch {
			t.Fatalf("%d sightings taken at once, %d of the batch's %d taken already", n, inBatch, m.batch)
		}
		inBatch = (inBatch + n) % m.batch
		if keys == nil {
			for i := range stage {
				add(&stage[i])
			}
			return
		}
		m.keysInOrder(stage, keys)
		for _, k := range keys {
			add(&stage[placeOf(k)])
		}
	}
	sm.run()
	return got
}

// firstIDDiff returns the first place where a and b differ (the shorter one's length when one is the
// other's start), or -1 when they are equal.
func firstIDDiff(a, b []uint32) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// sortKeys sorts a slice's keys by their whole value (offset, then place): keys at random in the
// slice, keys each bucket of which holds many in falling order (insertion would move them far: sorted
// by comparison), and every key at one offset; through the staging of the keys (stageKeys) and their
// counts by bucket, for slices of several widths.
func TestSliceSortKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	for _, width := range []uint64{2, 1 << 10, 1 << 20, maxSliceWidth} {
		for _, shape := range []string{"random", "falling", "one time"} {
			for _, n := range []int{1, 30, 65, 1000, 1003, sliceCap} {
				sm := &sliceMerge{width: width, keys: make([]uint64, n), tmp: make([]uint64, n)}
				t0 := int64(rng.Uint64() >> 2)
				ts := make([]int64, n)
				for i := range ts {
					switch shape {
					case "random":
						ts[i] = t0 + int64(rng.Uint64N(width))
					case "falling": // runs of 50 falling times in one bucket each
						ts[i] = t0 + int64(min(width-1, uint64(i/50)*(width>>bucketBits)+uint64(50-i%50)))
					default:
						ts[i] = t0
					}
				}
				for from := 0; from < n; from += 17 { // several files' runs
					to := min(from+17, n)
					if got := stageKeys(ts[from:to], sm.keys[from:to], &sm.count, t0, width, sm.mul(), uint64(from)); got != to-from {
						t.Fatalf("stageKeys took %d of %d times within the slice", got, to-from)
					}
				}
				want := slices.Clone(sm.keys)
				slices.Sort(want)
				got := sm.sortKeys(n)
				if !slices.Equal(got, want) {
					t.Fatalf("width %d, %s, %d keys: not sorted", width, shape, n)
				}
				if sm.count != [1 << bucketBits]int32{} {
					t.Fatalf("width %d, %s, %d keys: counts left", width, shape, n)
				}
				for i, k := range want {
					if int64(sm.offsetOf(k)) != ts[placeOf(k)]-t0 || (k^want[max(i-1, 0)])>>32 == 0 != (ts[placeOf(k)] == ts[placeOf(want[max(i-1, 0)])]) {
						t.Fatalf("key %d: offset %d, want %d (or equal times not told by the bits above 32)", i, sm.offsetOf(k), ts[placeOf(k)]-t0)
					}
				}
			}
		}
	}
	sm := &sliceMerge{width: 1 << 20, keys: make([]uint64, 4), tmp: make([]uint64, 4)}
	if got := stageKeys([]int64{100, 100 + 1<<20, 5}, sm.keys, &sm.count, 100, sm.width, sm.mul(), 0); got != 1 {
		t.Fatalf("stageKeys took %d times, want the 1 below the slice's end", got)
	}
}

// The merge follows the head tree's order where a file's times fall: right after times equal to the
// slice's start (a slice one ns wide, taken without a sort), within a slice, and at its start; the
// files' times set by hand (the files three views of one lab capture's first Observations).
func TestSliceMergeFall(t *testing.T) {
	c := decode.Load(labFiles(t, "mtu-blackhole", func(string) bool { return true }), decode.Options{}, decode.PointConfig{})
	w := worldOf(c)
	clocks, _ := w.clocksFor(Options{})
	m := newMatcher(w, clocks, Options{Window: time.Second})
	m.batch = 3
	for _, tc := range []struct {
		name  string
		width uint64
		ts    [][]int64
	}{
		{"after equal times", 1, [][]int64{{10, 10, 5, 20}, {10, 10, 30}, {7, 10, 40}}},
		{"after equal times, at once", 1, [][]int64{{10, 4, 20}, {10, 10}, {10}}},
		{"within a slice", 1 << 20, [][]int64{{10, 12, 11, 20}, {11, 13}, {9, 30}}},
		{"at a slice's start", 4, [][]int64{{10, 12, 20, 11}, {11, 13}, {9, 30}}},
		{"in order", 4, [][]int64{{10, 12, 12, 20}, {11, 13}, {9, 12, 30}}},
	} {
		files := make([]mergeFile, len(tc.ts))
		var want []uint32
		pos := make([]int, len(tc.ts))
		for f, ts := range tc.ts {
			if len(c.Obs[0]) < len(ts) {
				t.Fatalf("%d Observations in file 0: too few", len(c.Obs[0]))
			}
			mf := &files[f]
			*mf = mergeFile{obs: c.Obs[0][:len(ts)], fp: &m.fp[0], base: uint32(f) << 8}
			mf.n, mf.ordered = copy(mf.ts[:], ts), rising(ts)
		}
		for { // the head tree's order: the earliest head, the lower file on equal times
			best := -1
			for f, ts := range tc.ts {
				if pos[f] < len(ts) && (best < 0 || ts[pos[f]] < tc.ts[best][pos[best]]) {
					best = f
				}
			}
			if best < 0 {
				break
			}
			want = append(want, uint32(best)<<8|uint32(pos[best]))
			pos[best]++
		}
		out, free := make(chan []sighting, 100), make(chan []sighting, 100)
		for range cap(free) {
			free <- make([]sighting, 0, m.batch)
		}
		sm := m.newSliceMerge(files, out, free)
		sm.width = tc.width
		sm.run()
		close(out)
		var got []uint32
		for b := range out {
			for _, s := range b {
				got = append(got, s.g)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: order %v, want %v", tc.name, got, want)
		}
	}
}

// aheadKeys reads every key's bucket and finds the first key at the time of the one before it with
// its NAT-tolerant fingerprint (a tie), as a plain loop over the keys finds them: on keys with few
// fingerprints and times (ties everywhere), many fingerprints (ties rare), neighbours' fingerprints
// one bit apart (the first key's stand-in "before" is its own with the lowest bit flipped), and 0.
func TestAheadKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 11))
	head := make([]int32, 1<<8)
	for i := range head {
		head[i] = int32(rng.Uint32N(1000))
	}
	for _, looses := range []uint64{1, 2, 3, 50, 1 << 40} {
		for _, times := range []uint64{1, 3, 1000} {
			for _, n := range []int{0, 1, 2, 3, 7, 256} {
				for range 20 {
					stage := make([]sighting, n)
					keys := make([]uint64, n)
					for i := range stage {
						stage[i].loose = rng.Uint64N(looses)
						keys[i] = rng.Uint64N(times)<<34 | keyOf(n-1-i) // places in any order
					}
					slices.Sort(keys)
					wantTie, wantSum := n, int32(0)
					for i, k := range keys {
						l := stage[placeOf(k)].loose
						wantSum += head[hash32(l)&uint32(len(head)-1)]
						if i > 0 && wantTie == n && k>>32 == keys[i-1]>>32 && l == stage[placeOf(keys[i-1])].loose {
							wantTie = i
						}
					}
					sum, tie := aheadKeys(head, unsafe.Pointer(unsafe.SliceData(stage)), keys)
					if sum != wantSum || tie != wantTie {
						t.Fatalf("%d keys, %d fingerprints, %d times: sum %d tie %d, want %d and %d", n, looses, times, sum, tie, wantSum, wantTie)
					}
				}
			}
		}
	}
}

// The loose index sized from the start (sizeIndex) to about a window's sightings: on a generated
// capture of many flows, every journey within the window, it is, and the matcher on one core writes
// the same journey and rank into every slot as with the index grown from its first size (regrow),
// and ends with the same journeys and hop counts.
func TestSizedIndexSameJourneys(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Flows, cfg.Packets, cfg.Dir = 300, 20000, t.TempDir()
	cfg.DupRate, cfg.Identical = 0.01, 2
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
	run := func(unsized bool) *matcher {
		w := worldOf(c)
		clocks, _ := w.clocksFor(Options{})
		m := newMatcher(w, clocks, Options{Window: time.Second})
		m.unsized = unsized
		sm := m.newSliceMerge(m.mergeFiles(m.prepare()), nil, nil)
		if first := len(newMultimap().head); unsized != (len(m.loose.head) == first) {
			t.Fatalf("unsized %v: the index has %d buckets after prepare (first size %d)", unsized, len(m.loose.head), first)
		}
		sm.take = m.takeDirect
		sm.run()
		m.keepHops(m.base, m.next)
		return m
	}
	a, b := run(false), run(true)
	if a.next != b.next || a.base != b.base || a.next < 1000 {
		t.Fatalf("journeys %d..%d sized, %d..%d not: want the same, and many", a.base, a.next, b.base, b.next)
	}
	for f := range a.fp {
		for c := range a.fp[f].Chunks {
			if !slices.Equal(a.fp[f].Chunks[c], b.fp[f].Chunks[c]) {
				t.Fatalf("file %d, chunk %d: the slots differ", f, c)
			}
		}
	}
	if ha, hb := a.hopsOf.flat(int(a.next)+1), b.hopsOf.flat(int(b.next)+1); !slices.Equal(ha, hb) || !slices.Equal(a.outOfOrder, b.outOfOrder) {
		t.Fatalf("the hop counts or out-of-order journeys differ")
	}
}

// inOrderTo finds the first key below the one before it, from any place on, as a plain loop does: keys
// in order but one fallen key at each place (the four-a-turn loop's first to fourth, and the tail's), none,
// and equal keys.
func TestInOrderTo(t *testing.T) {
	plain := func(keys []uint64, from int) int {
		for i := from; i < len(keys); i++ {
			if keys[i] < keys[i-1] {
				return i
			}
		}
		return max(from, len(keys))
	}
	for n := 1; n <= 19; n++ {
		for fall := -1; fall < n; fall++ { // the key that falls (-1: none)
			keys := make([]uint64, n)
			for i := range keys {
				keys[i] = uint64(10 * (i / 2)) // pairs of equal keys
			}
			if fall > 0 {
				keys[fall] = keys[fall-1] - 1
			}
			for from := 1; from <= n; from++ {
				if got, want := inOrderTo(keys, from), plain(keys, from); got != want {
					t.Fatalf("%d keys, key %d fallen, from %d: %d, want %d", n, fall, from, got, want)
				}
			}
		}
	}
}

// addTimes gives each Observation's time, add plus its TsLo, and tells whether all are of src, as a
// plain loop does, for runs of 0 to 9 frames with one frame of another source at each place.
func TestAddTimes(t *testing.T) {
	for n := 0; n <= 9; n++ {
		for other := -1; other < n; other++ {
			run := make([]decode.Observation, n)
			for i := range run {
				run[i].TsLo, run[i].Source = uint32(1000+7*i), 3
			}
			if other >= 0 {
				run[other].Source = 2
			}
			out := make([]int64, n+2)
			got := addTimes(out, run, -500, 3)
			if (got == 0) != (other < 0) {
				t.Fatalf("%d frames, another source at %d: %#x", n, other, got)
			}
			for i := range run {
				if out[i] != int64(run[i].TsLo)-500 {
					t.Fatalf("%d frames: time %d is %d, want %d", n, i, out[i], int64(run[i].TsLo)-500)
				}
			}
			if out[n] != 0 || out[n+1] != 0 {
				t.Fatalf("%d frames: written past the run", n)
			}
		}
	}
}

// TestAddTimesOne holds addTimesOne (a run of one source) to addTimes' times for runs of 0 to 9
// frames of one source.
func TestAddTimesOne(t *testing.T) {
	for n := 0; n <= 9; n++ {
		run := make([]decode.Observation, n)
		for i := range run {
			run[i].TsLo, run[i].Source = uint32(1000+7*i+i*i), 3
		}
		want, got := make([]int64, n+2), make([]int64, n+2)
		if addTimes(want, run, -500, 3) != 0 {
			t.Fatalf("%d frames: addTimes finds another source", n)
		}
		addTimesOne(got, run, -500)
		if !slices.Equal(got, want) {
			t.Fatalf("%d frames: addTimesOne %v, want %v", n, got, want)
		}
	}
}

// TestStageKeysCut holds stageKeys to a plain loop that stops at the first time past the slice, on
// times that never fall (runs of equal times among them), from t0 on, 0 to 130 of them, with the
// slice's end before the first, after the last and at every place between, in a slice 1 ms wide and
// one of maxSliceWidth: the same count, keys and counts by bucket, nothing written past the count.
func TestStageKeysCut(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 3))
	for _, width := range []uint64{1 << 20, maxSliceWidth} {
		stageKeysCut(t, rng, (&sliceMerge{width: width}).mul())
	}
}

func stageKeysCut(t *testing.T, rng *rand.Rand, mul uint64) {
	for n := 0; n <= 130; n++ {
		t0 := int64(rng.Uint64() >> 2)
		ts := make([]int64, n)
		for i, at := range ts {
			at = t0
			if i > 0 {
				at = ts[i-1] + int64(rng.Uint64N(3)*rng.Uint64N(5000)) // (equal times a third of the time)
			}
			ts[i] = at
		}
		for cut := -1; cut <= n; cut++ {
			w := uint64(1 << 20) // every time within
			if cut == -1 {
				w = 0 // none within
			} else if cut < n {
				w = uint64(ts[cut] - t0) // ts[cut] the first past (with the equal ones before it)
			}
			var count, wantCount [1 << bucketBits]int32
			keys, want := make([]uint64, n+1), make([]uint64, n+1)
			wantN := n
			for i, at := range ts {
				off := uint64(at) - uint64(t0)
				if off >= w {
					wantN = i
					break
				}
				off *= mul
				wantCount[off>>(64-bucketBits)]++
				want[i] = off | keyOf(7+i)
			}
			if got := stageKeys(ts, keys, &count, t0, w, mul, 7); got != wantN || !slices.Equal(keys, want) || count != wantCount {
				t.Fatalf("%d times, slice's end %d ns in: took %d, want %d (keys or counts differ: %v)", n, w, got, wantN, !slices.Equal(keys, want) || count != wantCount)
			}
		}
	}
}
