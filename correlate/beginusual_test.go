package correlate

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// beginUsual is begin(s, -1, -1, -1, e, s.stage, s.node) with its usual case written out: two matchers
// fed the same sightings, whose fingerprints no open journey has, one beginning each journey with
// begin and the other with beginUsual, end in the same state, through every case beginUsual leaves to
// begin (the first journey, the ring's and the loose index's growth, a new block of first times, TCP
// data, a recently closed journey's exact fingerprint and what noteLate then passes on, a NAT
// reversal's sighting) and the usual one between them.
func TestBeginUsual(t *testing.T) {
	c := decode.Load(labFiles(t, "mtu-blackhole", func(name string) bool { return strings.HasSuffix(name, ".pcap") }), decode.Options{}, decode.PointConfig{})
	w := worldOf(c)
	clocks, _ := w.clocksFor(Options{})
	var obs []*decode.Observation
	var gs []uint32 // their global ids (offload reads the Observations back by them)
	tcpData := 0
	for f := range c.Obs {
		for i := range c.Obs[f] {
			if o := &c.Obs[f][i]; matchable(o, 1) && o.Flags&decode.FlagICMPError == 0 {
				obs, gs = append(obs, o), append(gs, w.fileBase[f]+uint32(i))
				if o.Proto == 6 && o.Flags&decode.FlagFragment == 0 && o.PayloadLen() > 0 {
					tcpData++
				}
			}
		}
	}
	if len(obs) == 0 || tcpData == 0 {
		t.Fatalf("%d matchable Observations, %d of TCP data: want some of each", len(obs), tcpData)
	}
	mk := func() *matcher {
		m := newMatcher(w, clocks, Options{Window: time.Second})
		m.prepare()
		return m
	}
	a, b := mk(), mk()
	const n = timesBlock + 5000 // past the first block of first times; the ring and index grow on the way
	slotsA, slotsB := make([]uint64, n), make([]uint64, n)
	rng := rand.New(rand.NewPCG(15, 6))
	usual := 0
	for i := range n {
		o, g, t0 := obs[i%len(obs)], gs[i%len(obs)], int64(i)*1000 // every journey within the window: none closes
		slotsA[i] = rng.Uint64() | 1
		slotsB[i] = slotsA[i]
		var sa, sb sighting
		a.sight(&sa, o, &slotsA[i], g, t0)
		b.sight(&sb, o, &slotsB[i], g, t0)
		switch i % 1000 {
		case 7: // a recently closed journey with this exact fingerprint, past the window, at another stage
			for _, m := range []*matcher{a, b} {
				k := sa.e & (closedSlots - 1)
				m.closedExact[k] = sa.e
				m.closed[k] = closedJ{exact: sa.e, lastTs: t0 - 3*int64(time.Second), j: 0, nstages: 1, stages: [maxStages]uint32{sa.stage ^ 1<<12}}
			}
		case 9: // the sighting natBehind found behind journey 0
			a.natRevG, a.natRevOf = g+1, 0
			b.natRevG, b.natRevOf = g+1, 0
		}
		if b.beginsUsually(&sb) {
			usual++
		}
		a.begin(&sa, -1, -1, -1, sa.e, sa.stage, sa.node)
		b.beginUsual(&sb, sb.e)
		if slotsA[i] != slotsB[i] {
			t.Fatalf("sighting %d: slot %#x, begin's %#x", i, slotsB[i], slotsA[i])
		}
	}
	if usual < n/2 || usual == n {
		t.Fatalf("%d of %d new journeys in beginUsual's usual case: want most, not all", usual, n)
	}
	if a.next != b.next || a.base != b.base || a.evictAt != b.evictAt || len(a.ring) != len(b.ring) || len(a.loose.head) != len(b.loose.head) {
		t.Fatalf("next %d, base %d, evictAt %d, ring %d, index %d; begin's %d, %d, %d, %d, %d",
			b.next, b.base, b.evictAt, len(b.ring), len(b.loose.head), a.next, a.base, a.evictAt, len(a.ring), len(a.loose.head))
	}
	for j := a.base; j < a.next; j++ {
		sa, sb := *a.st(j), *b.st(j)
		sb.flags &^= jAlone // (beginUsual's caller walked the chain, begin's did not: stepKeys' test)
		if sa != sb {
			t.Fatalf("journey %d: state %+v, begin's %+v", j, *b.st(j), *a.st(j))
		}
		if a.jT0.at(int(j)) != b.jT0.at(int(j)) {
			t.Fatalf("journey %d: first time %d, begin's %d", j, b.jT0.at(int(j)), a.jT0.at(int(j)))
		}
	}
	if !slices.Equal(a.loose.head, b.loose.head) || a.jT0.n != b.jT0.n {
		t.Fatal("the loose index or the first times differ from begin's")
	}
	for _, f := range []struct {
		name string
		a, b any
	}{{"late", a.late, b.late}, {"natReversed", a.natReversed, b.natReversed}, {"gso", a.gso, b.gso}, {"tcp", a.tcp, b.tcp}, {"passed", a.passed, b.passed}} {
		if !reflect.DeepEqual(f.a, f.b) {
			t.Fatalf("%s: %v, begin's %v", f.name, f.b, f.a)
		}
	}
	if len(a.late) == 0 || len(a.natReversed) == 0 || len(a.tcp) == 0 {
		t.Fatalf("%d late, %d NAT reversals, %d TCP connections: the rare cases not reached", len(a.late), len(a.natReversed), len(a.tcp))
	}
}

// beginsUsually reports whether beginUsual would take sighting s in its usual case (its test, for
// TestBeginUsual's count).
func (m *matcher) beginsUsually(s *sighting) bool {
	j, ft := m.next, &m.jT0
	return !(m.recent != nil || m.closedExact[s.e&(closedSlots-1)] == s.e || s.kind&sTCPData != 0 || m.natRevG == s.g+1 ||
		int(j-m.base) == len(m.ring) || m.base == j || bucketsPerOpen*int(j+1-m.base) > len(m.loose.head) ||
		ft.n%timesBlock == 0 || m.passed.n > 0)
}

// beginUsual's count of the journeys it may begin without its tests of the rooms and of an open
// journey before them (usualLeft) leaves the matcher as those tests made each time do: a matcher
// stepping bursts of new journeys, each burst past the window of the one before and begun after a
// sighting that is not matchable (which closes every open journey, evict, and begins none), ends in
// the state of one whose count is cleared before every sighting. (Without evict's clearing, the
// first journey of a burst is begun as if an open journey came before it, and evictAt is left at
// never: the bursts' journeys then never close.)
func TestUsualLeftAsTests(t *testing.T) {
	c := decode.Load(labFiles(t, "mtu-blackhole", func(name string) bool { return strings.HasSuffix(name, ".pcap") }), decode.Options{}, decode.PointConfig{})
	w := worldOf(c)
	clocks, _ := w.clocksFor(Options{})
	var obs []*decode.Observation
	var gs []uint32
	for f := range c.Obs {
		for i := range c.Obs[f] {
			if o := &c.Obs[f][i]; matchable(o, 1) && o.Flags&decode.FlagICMPError == 0 &&
				!(o.Proto == 6 && o.Flags&decode.FlagFragment == 0 && o.PayloadLen() > 0) {
				obs, gs = append(obs, o), append(gs, w.fileBase[f]+uint32(i))
			}
		}
	}
	if len(obs) == 0 {
		t.Fatal("no matchable Observation without TCP data")
	}
	mk := func() *matcher {
		m := newMatcher(w, clocks, Options{Window: time.Second})
		m.prepare()
		return m
	}
	a, b := mk(), mk() // a's count cleared before every sighting: beginUsual's tests made each time
	const bursts, burst = 40, 300
	slotsA, slotsB := make([]uint64, bursts*(burst+1)), make([]uint64, bursts*(burst+1))
	rng := rand.New(rand.NewPCG(8, 3))
	k, usualB := 0, 0
	for r := range bursts {
		t0 := int64(r) * 3 * int64(time.Second)
		for i := range burst + 1 {
			o, g := obs[k%len(obs)], gs[k%len(obs)]
			if i > 0 {
				slotsA[k] = rng.Uint64() | 1 // a fingerprint no open journey has: a new journey
			} // (else 0: not matchable)
			slotsB[k] = slotsA[k]
			var sa, sb sighting
			a.sight(&sa, o, &slotsA[k], g, t0+int64(i)*1000)
			b.sight(&sb, o, &slotsB[k], g, t0+int64(i)*1000)
			if b.usualLeft > 0 {
				usualB++
			}
			a.usualLeft = 0
			a.step(&sa)
			b.step(&sb)
			if slotsA[k] != slotsB[k] || a.evictAt != b.evictAt || a.base != b.base || a.next != b.next {
				t.Fatalf("burst %d, sighting %d: slot %#x, evictAt %d, journeys %d-%d; with the tests each time %#x, %d, %d-%d",
					r, i, slotsB[k], b.evictAt, b.base, b.next, slotsA[k], a.evictAt, a.base, a.next)
			}
			k++
		}
	}
	for j := a.base; j < a.next; j++ {
		if *a.st(j) != *b.st(j) {
			t.Fatalf("journey %d: state %+v, with the tests each time %+v", j, *b.st(j), *a.st(j))
		}
	}
	if a.base == 0 || usualB < bursts*burst/2 {
		t.Fatalf("base %d, %d sightings with a count left: want journeys closed and most begun on the count", a.base, usualB)
	}
}
