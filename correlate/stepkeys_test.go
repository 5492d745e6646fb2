package correlate

import (
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// directOut is what matching on one core leaves (matchOut), with each slot's journey and rank as
// collectJourneys lays them out (jOf with the ranks), the journeys listed as out of path order, and
// the open journeys' range at the end.
type directOut struct {
	matchOut
	rawJOf     []int32
	outOfOrder []int32
	cameBack   bool
	base, next int32
}

// matchDirect matches capture c on one core as runDirect does, with the window given; with each,
// every sighting is stepped by step, one call each, as matchKeys and matchBatch did before stepKeys.
func matchDirect(c *decode.Capture, window time.Duration, each bool) directOut {
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	opts := Options{Window: window}
	w := worldOf(c)
	clocks, _ := w.clocksFor(opts)
	m := newMatcher(w, clocks, opts)
	sm := m.newSliceMerge(m.mergeFiles(m.prepare()), nil, nil)
	sm.take = m.takeDirect
	if each {
		sm.take = func(stage []sighting, keys []uint64) {
			if keys == nil {
				for i := range stage {
					m.step(&stage[i])
				}
				return
			}
			m.touched += m.keysInOrder(stage, keys)
			for _, k := range keys {
				m.step(sightingAt(stage, k))
			}
		}
	}
	sm.run()
	m.keepHops(m.base, m.next)
	base, next := m.base, m.next
	m.collectJourneys()
	t0 := make([]int64, m.next)
	for j := range t0 {
		t0[j] = m.jT0.at(j)
	}
	jOf := make([]int32, len(m.jOf))
	for g := range jOf {
		jOf[g] = m.journeyOf(uint32(g)) + 1
	}
	return directOut{
		matchOut: matchOut{next: m.next, jOf: jOf, jHops: m.jHops, jDups: m.jDups, jT0: t0, dup: m.dup, gso: m.gso,
			nat: m.nat, late: m.late, ambJ: m.ambJ},
		rawJOf: append([]int32(nil), m.jOf...), outOfOrder: m.outOfOrder, cameBack: m.cameBack, base: base, next: next,
	}
}

// checkStepKeys matches files on one core with stepKeys and with step alone, with the default window
// and with one below dupWin (where every new journey is left to step), and requires the same
// journeys, ranks, hop counts, events and first times. It returns how many journeys there were.
func checkStepKeys(t *testing.T, files []string) int32 {
	t.Helper()
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	var n int32
	for _, window := range []time.Duration{time.Second, 2 * time.Millisecond} {
		want := matchDirect(c, window, true)
		got := matchDirect(c, window, false)
		if window == time.Second {
			n = want.next
		}
		if !reflect.DeepEqual(got, want) {
			g := 0
			for g < len(got.rawJOf) && g < len(want.rawJOf) && got.rawJOf[g] == want.rawJOf[g] {
				g++
			}
			t.Fatalf("window %v: stepKeys' matching differs from step's (%d journeys, want %d; first slot that differs: %d of %d)",
				window, got.next, want.next, g, len(want.rawJOf))
		}
	}
	return n
}

// stepKeys (matchKeys' loop without a call: the usual attach, and beginUsual's usual new journey,
// written out) matches as step does, sighting by sighting: on every lab scenario (NAT, offload,
// WireGuard, clocks off, ICMP errors, byte-identical packets).
func TestStepKeysAsStepLab(t *testing.T) {
	eachLabScenario(t, func(t *testing.T, files []string) { checkStepKeys(t, files) })
}

// Likewise on generated captures: many flows (nearly every sighting stepKeys' own), and the default
// mix with NAT, loss, duplicates, retransmissions, byte-identical packets (ambiguous groups, which
// stepKeys leaves to step) and IP id 0, a clock off, in three modes.
func TestStepKeysAsStepGen(t *testing.T) { eachMatchGen(t, checkStepKeys) }

// stepKeys leaves to step what step would not attach or begin itself, wherever it meets it in a run of
// keys: sightings of a few packets (NAT-tolerant fingerprints) with one of two exact fingerprints each,
// at the stages of a lab capture's points, at random times (equal ones too), so that a chain holds
// several open journeys of one fingerprint, a journey seen again at a stage it passed, another exact
// fingerprint, journeys past the window and new ones in every case beginUsual tests. Two matchers, one
// taking the sightings in runs of keys of random lengths (matchKeys), the other stepping each, have the
// same slots and the same state after every run.
func TestStepKeysChains(t *testing.T) {
	attached := 0
	eachChainRound(t, func(round int, a, b *matcher, stageA, stageB []sighting, slotsA, slotsB, keys []uint64, runs func(func(k []uint64))) {
		runs(func(k []uint64) {
			a.matchKeys(stageA, k)
			for _, k := range k {
				b.step(&stageB[placeOf(k)])
			}
		})
		for _, s := range slotsA {
			if s>>rankShift != 0 {
				attached++
			}
		}
	})
	if attached < 1000 {
		t.Fatalf("%d sightings attached to a journey seen before: too few to tell", attached)
	}
}

// stepKeys (in assembly on amd64: stepkeys_amd64.s) is stepKeysGo: on the chains of
// TestStepKeysChains, in runs of keys of random lengths, both attach and begin the same sightings,
// stop at the same one (the same count, the same fresh) and leave the same state; the sighting they
// stop at is stepped as stepAll steps it.
func TestStepKeysAsGo(t *testing.T) {
	stops, fresh := 0, 0
	eachChainRound(t, func(round int, a, b *matcher, stageA, stageB []sighting, slotsA, slotsB, keys []uint64, runs func(func(k []uint64))) {
		runs(func(k []uint64) {
			for len(k) > 0 {
				if a.amb != nil {
					a.step(sightingAt(stageA, k[0]))
					b.step(sightingAt(stageB, k[0]))
					k = k[1:]
					continue
				}
				na, fa := a.stepKeys(stageA, k)
				nb, fb := b.stepKeysGo(stageB, k)
				if na != nb || fa != fb {
					t.Fatalf("round %d: stepKeys took %d of %d keys (fresh %v), stepKeysGo %d (%v)", round, na, len(k), fa, nb, fb)
				}
				if k = k[na:]; len(k) == 0 {
					return
				}
				sa, sb := sightingAt(stageA, k[0]), sightingAt(stageB, k[0])
				if stops++; fa {
					fresh++
					a.stepNew(sa, sa.e)
					b.stepNew(sb, sb.e)
				} else {
					a.step(sa)
					b.step(sb)
				}
				k = k[1:]
			}
		})
	})
	if stops < 1000 || fresh < 100 {
		t.Fatalf("%d sightings left to step, %d of them fresh: too few to tell", stops, fresh)
	}
}

// eachChainRound makes TestStepKeysChains' 60 rounds: two matchers, a and b, with the same sightings
// of a few packets (NAT-tolerant fingerprints) with one of two exact fingerprints each, at the stages
// of a lab capture's points, at random times (equal ones too), in stageA and stageB (their slots in
// slotsA and slotsB), named in time order by keys; with runs, check steps them in runs of keys of
// random lengths (its function steps a run in a and in b), and after each, a's and b's slots and
// state are compared.
func eachChainRound(t *testing.T, check func(round int, a, b *matcher, stageA, stageB []sighting, slotsA, slotsB, keys []uint64, runs func(func(k []uint64)))) {
	c := decode.Load(labFiles(t, "mtu-blackhole", func(name string) bool { return strings.HasSuffix(name, ".pcap") }), decode.Options{}, decode.PointConfig{})
	w := worldOf(c)
	clocks, _ := w.clocksFor(Options{})
	var obs []*decode.Observation
	var gs []uint32
	for f := range c.Obs { // the first few usual Observations of each file (a point: a stage of its own)
		k := 0
		for i := range c.Obs[f] {
			if o := &c.Obs[f][i]; matchable(o, 1) && o.Flags&decode.FlagICMPError == 0 && k < 3 {
				obs, gs, k = append(obs, o), append(gs, w.fileBase[f]+uint32(i)), k+1
			}
		}
	}
	if len(obs) < 6 {
		t.Fatalf("%d Observations: want more", len(obs))
	}
	rng := rand.New(rand.NewPCG(20, 12))
	for round := range 60 {
		mk := func() *matcher {
			m := newMatcher(w, clocks, Options{Window: []time.Duration{300 * time.Microsecond, 3 * time.Millisecond, 6 * time.Millisecond}[round%3]}) // (the first below dupWin)
			m.prepare()
			return m
		}
		a, b := mk(), mk()
		const n = 600
		stageA, stageB := make([]sighting, n), make([]sighting, n)
		slotsA, slotsB := make([]uint64, n), make([]uint64, n)
		loose := make([]uint64, 2+round%5)
		for i := range loose {
			loose[i] = rng.Uint64() | 1
		}
		t0 := int64(0)
		for i := range n {
			k := rng.IntN(len(obs))
			if rng.IntN(8) != 0 {
				t0 += rng.Int64N(int64(2 * time.Millisecond))
			}
			li := rng.IntN(len(loose))
			slotsA[i], slotsB[i] = loose[li], loose[li]
			a.sight(&stageA[i], obs[k], &slotsA[i], gs[k], t0)
			b.sight(&stageB[i], obs[k], &slotsB[i], gs[k], t0)
			e := loose[li]*0x9e3779b97f4a7c15 + uint64(rng.IntN(2)) // one of the packet's two exact fingerprints
			stageA[i].e, stageB[i].e = e, e
		}
		keys := make([]uint64, n)
		for i := range keys {
			keys[i] = uint64(i+1)<<34 | keyOf(i) // rising offsets (no two equal: no tie to order)
		}
		runs := func(step func(k []uint64)) {
			for i := 0; i < n; {
				r := min(n-i, 1+rng.IntN(40))
				step(keys[i : i+r])
				i += r
				checkChainRound(t, round, i, a, b, slotsA, slotsB)
			}
		}
		check(round, a, b, stageA, stageB, slotsA, slotsB, keys, runs)
	}
}

// checkChainRound fails t unless a's and b's slots (the first i) and state are the same after
// sighting i of round.
func checkChainRound(t *testing.T, round, i int, a, b *matcher, slotsA, slotsB []uint64) {
	t.Helper()
	if !slices.Equal(slotsA[:i], slotsB[:i]) {
		t.Fatalf("round %d, after sighting %d: the slots differ from step's", round, i)
	}
	if a.next != b.next || a.base != b.base || a.evictAt != b.evictAt || a.usualLeft != b.usualLeft || !slices.Equal(a.loose.head, b.loose.head) {
		t.Fatalf("round %d, after sighting %d: next %d, base %d, evictAt %d, usualLeft %d; step's %d, %d, %d, %d",
			round, i, a.next, a.base, a.evictAt, a.usualLeft, b.next, b.base, b.evictAt, b.usualLeft)
	}
	for j := a.base; j < a.next; j++ {
		if *a.st(j) != *b.st(j) || a.jT0.at(int(j)) != b.jT0.at(int(j)) {
			t.Fatalf("round %d, after sighting %d: journey %d's state %+v, step's %+v", round, i, j, *a.st(j), *b.st(j))
		}
		if c := aloneBehind(a, j); c >= 0 {
			t.Fatalf("round %d, after sighting %d: journey %d is alone (jAlone), open journey %d of its fingerprint after it in its chain", round, i, j, c)
		}
	}
}

// aloneBehind returns an open journey of open journey j's NAT-tolerant fingerprint after j in its
// chain of the loose index when j is marked jAlone (-1: none, or j not so marked), which stepKeys
// takes to have none there.
func aloneBehind(m *matcher, j int32) int32 {
	js := m.st(j)
	if js.flags&jAlone == 0 || js.flags&jIndexed == 0 {
		return -1
	}
	for c := js.nextSame; c >= m.base; c = m.st(c).nextSame {
		if m.st(c).loose == js.loose {
			return c
		}
	}
	return -1
}
