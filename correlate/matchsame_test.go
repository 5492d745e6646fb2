package correlate

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// matchOut is everything matching leaves for the stages after it.
type matchOut struct {
	next  int32
	jOf   []int32
	jHops []uint32
	jDups map[int32]int
	jT0   []int64
	dup   []uint64
	gso   []gsoEvent
	nat   []natEvent
	late  []lateEv
	ambJ  []uint64
}

// matchOnce matches capture c (its fingerprints copied, so c can be matched again) with the given
// window at GOMAXPROCS procs, the merge handing over batch sightings at a time.
func matchOnce(c *decode.Capture, window time.Duration, procs, batch int) matchOut {
	old := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(old)
	opts := Options{Window: window}
	w := worldOf(c)
	clocks, _ := w.clocksFor(opts)
	m := newMatcher(w, clocks, opts)
	m.batch = batch
	m.run()
	m.collectJourneys()
	t0 := make([]int64, m.next)
	for j := range t0 {
		t0[j] = m.jT0.at(j)
	}
	jOf := make([]int32, len(m.jOf)) // the journeys without the hops' ranks, which are the order of attach
	for g := range jOf {
		jOf[g] = m.journeyOf(uint32(g)) + 1
	}
	return matchOut{next: m.next, jOf: jOf, jHops: m.jHops, jDups: m.jDups, jT0: t0, dup: m.dup, gso: m.gso,
		nat: m.nat, late: m.late, ambJ: m.ambJ}
}

// checkMatchSame matches files on one core with the merge's batches of the default size, then in
// batches of several sizes at several GOMAXPROCS (the merge and the sightings it works out ahead on
// a core of their own): the same journeys, events and first times every time; with the default
// window and with one short enough for the late and late-NAT notes. It returns how many journeys
// the default window found.
func checkMatchSame(t *testing.T, files []string) int32 {
	t.Helper()
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	var n int32
	for _, window := range []time.Duration{time.Second, 2 * time.Millisecond} {
		want := matchOnce(c, window, 1, 0)
		if window == time.Second {
			n = want.next
		}
		for _, procs := range []int{1, 2, 4} {
			for _, batch := range []int{1, 7, 100, sightingBatch} {
				got := matchOnce(c, window, procs, batch)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("window %v, GOMAXPROCS %d, batches of %d: matching differs from the plain one (%d journeys, want %d)",
						window, procs, batch, got.next, want.next)
				}
			}
		}
	}
	return n
}

// Matching in batches of any size and at any GOMAXPROCS finds what it finds on one core, on every
// lab scenario (NAT, offload, WireGuard, clocks off, drops).
func TestMatchSameResultLab(t *testing.T) {
	eachLabScenario(t, func(t *testing.T, files []string) { checkMatchSame(t, files) })
}

// Likewise on generated captures: many flows, and the default mix with NAT, loss, duplicates,
// retransmissions, byte-identical packets and IP id 0, a clock off, in three modes.
func TestMatchSameResultGen(t *testing.T) { eachMatchGen(t, checkMatchSame) }

// eachMatchGen runs check on generated captures (TestMatchSameResultGen's and TestStepKeysAsStepGen's):
// many flows, and the default mix with NAT, loss, duplicates, retransmissions, byte-identical packets
// and IP id 0, a clock off, in three modes; check returns how many journeys it matched, at least half
// the packets.
func eachMatchGen(t *testing.T, check func(t *testing.T, files []string) int32) {
	many := manyFlowsConfig()
	many.Flows, many.Packets = 1000, 6000
	many.LossPerHop, many.DupRate, many.DNAT = 0.01, 0.02, 0.2
	mixed := gen.DefaultConfig()
	mixed.Flows, mixed.Packets = 40, 3000
	mixed.LossPerHop, mixed.DupRate, mixed.DNAT, mixed.RetransRate = 0.02, 0.03, 0.3, 0.02
	mixed.Identical, mixed.IPID0DF = 2, 0.2
	mixed.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
	for name, cfg := range map[string]gen.Config{"many-flows": many, "mixed": mixed} {
		for _, mode := range []gen.Mode{gen.ModeIPIP, gen.ModeVXLAN, gen.ModeBGP} {
			t.Run(fmt.Sprint(name, "-", mode), func(t *testing.T) {
				cfg.Mode, cfg.Dir = mode, t.TempDir()
				g, err := gen.Generate(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if n := check(t, g.Files); n < int32(cfg.Packets/2) {
					t.Fatalf("%d journeys: too few to tell", n)
				}
			})
		}
	}
}

// checkSights checks, for every Observation of files, that the merge's sighting carries what step
// reads of the Observation: whether it is matchable, its exact fingerprint (an ICMP error's with its
// quote's addresses and ports: QuoteExact), stage and the stage's bit, node and whether it is TCP data, as worked
// out from the Observation itself, and its global id, fingerprint slot and corrected time. The merge
// makes them a run at a time (sightRun) where a run allows, else one at a time (sight); both are
// held to this. It returns how many were TCP data, and how many at a point for every interface (-i
// any without interface indexes).
func checkSights(t *testing.T, files []string) (tcpData, anyRole int) {
	t.Helper()
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	w := worldOf(c)
	clocks, _ := w.clocksFor(Options{})
	m := newMatcher(w, clocks, Options{Window: time.Second})
	got := make([]sighting, w.nObs)
	batches, free := m.start()
	for b := range batches {
		for _, s := range b {
			got[s.g] = s
		}
		free <- b[:0]
	}
	for f, obs := range w.c.Obs {
		for i := range obs {
			o, slot, g := &obs[i], m.fp[f].Slot(i), w.fileBase[f]+uint32(i)
			want := sighting{o: o, slot: slot, loose: *slot, t: m.correctedG(g), g: g}
			if matchable(o, *slot) {
				want.kind = sMatchable
				want.e, want.stage, want.node = c.Tables.QuoteExact(o, o.Exact(*slot)), m.stageOf(o), int16(w.pointNode[w.srcPoint[o.Source]])
				want.bit = stageBit(want.stage)
				if o.Proto == 6 && o.Flags&decode.FlagFragment == 0 && o.Len > uint16(o.HdrLen) {
					want.kind |= sTCPData
					if o.Flags&decode.FlagIPv6 != 0 {
						want.kind |= sTCPData6 // healthy-vxlan6
					}
					tcpData++
				}
				if w.pointRole[w.srcPoint[o.Source]] == decode.RoleAny {
					anyRole++
				}
			}
			if s := got[g]; s != want {
				t.Fatalf("file %d, Observation %d: sighting %+v, want %+v", f, i, s, want)
			}
			// sight alone, into a slot holding another sighting from before
			s := sighting{e: 1, stage: 2, node: 3, kind: 4}
			if m.sight(&s, o, slot, g, want.t); s != want {
				t.Fatalf("file %d, Observation %d: sight gives %+v, want %+v", f, i, s, want)
			}
		}
	}
	return tcpData, anyRole
}

// The merge's sightings carry what step reads of their Observations, on every lab scenario and on a
// generated mix of TCP, UDP and ICMP.
func TestSightLab(t *testing.T) {
	tcp := 0
	eachLabScenario(t, func(t *testing.T, files []string) {
		n, _ := checkSights(t, files)
		tcp += n
	})
	cfg := gen.DefaultConfig()
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := checkSights(t, g.Files)
	if tcp += n; tcp == 0 {
		t.Fatal("no TCP data: too few to tell")
	}
}

// A sighting at a point for every interface (RoleAny: -i any without interface indexes) has the
// encapsulation and TTL in its stage, one at another point not: as TestStageOf, through sight.
func TestSightStage(t *testing.T) {
	eachStageCase(t, func(m *matcher, o *decode.Observation, want uint32, node int16) {
		loose := uint64(0x1234)
		var s sighting
		m.sight(&s, o, &loose, 0, 0)
		if s.kind != sMatchable || s.stage != want || s.node != node {
			t.Errorf("source %d, flags %#x, ttl %d: kind %d, stage %#x, node %d; want %d, %#x, %d", o.Source, o.Flags,
				o.TTL, s.kind, s.stage, s.node, sMatchable, want, node)
		}
	})
}

// The files' orders by corrected time are the same whatever the number of cores that check them:
// none for a file in order, the sorted indexes for one out of order; here every other file of a lab
// scenario has its first record moved to its end.
func TestOrdersSameResult(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/lab/scenarios/healthy-ipip/*.pcap")
	if len(paths) < 4 {
		t.Skip("no lab scenario healthy-ipip")
	}
	dir := t.TempDir()
	moved := map[string]bool{}
	for k, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if k%2 == 0 {
			b, moved[filepath.Base(p)] = firstToEnd(b), true
		}
		paths[k] = filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(paths[k], b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := decode.Load(paths, decode.Options{}, decode.PointConfig{})
	w := worldOf(c)
	clocks, _ := w.clocksFor(Options{})
	var want [][]uint32
	for _, procs := range []int{1, 2, 4} {
		old := runtime.GOMAXPROCS(procs)
		for range 10 { // the goroutines take the files in no fixed order
			got := newMatcher(w, clocks, Options{}).orders()
			if want == nil {
				want = got
			}
			if !reflect.DeepEqual(got, want) {
				runtime.GOMAXPROCS(old)
				t.Fatalf("GOMAXPROCS %d: the files' orders differ from those found on one core", procs)
			}
		}
		runtime.GOMAXPROCS(old)
	}
	for f, p := range want {
		if name := filepath.Base(c.Files[f].Path); (p != nil) != moved[name] {
			t.Errorf("%s: order %v, moved %v", name, p != nil, moved[name])
		}
	}
}

// firstToEnd moves the first record of a little-endian pcap to its end.
func firstToEnd(b []byte) []byte {
	n := 16 + int(binary.LittleEndian.Uint32(b[24+8:]))
	out := append([]byte(nil), b[:24]...)
	out = append(out, b[24+n:]...)
	return append(out, b[24:24+n]...)
}
