package correlate

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// TestMapperSame: with its large arrays in the Spill's mapped files (bounded-memory mode), Correlate
// gives the same Result, journeys and flows included, as with them on the heap; the sparse reads of
// the echo pairs trim the mapped pages as they go; and the arrays are there: at least the matcher's journey ids (4 bytes a frame) and, per journey, its hops' start, flow,
// status and first time, on the IP-in-IP and many-flow mixes with loss, duplicates and an offset.
func TestMapperSame(t *testing.T) {
	for _, mix := range []gen.Mix{gen.MixDefault, gen.MixManyFlows} {
		cfg := gen.DefaultConfig()
		cfg.Dir, cfg.Mix, cfg.Packets, cfg.Flows = t.TempDir(), mix, 6000, 20
		cfg.LossPerHop, cfg.DupRate = 0.01, 0.02
		cfg.Protos = gen.Protos{TCP: 0.4, UDP: 0.2, ICMP: 0.4} // echo flows of hundreds of packets
		cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
		g, err := gen.Generate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		opts := Options{Lean: true, Journeys: true}
		want := Correlate(decode.Load(g.Files, decode.Options{}, decode.PointConfig{}), opts)
		c, sp, err := decode.LoadSpilled(g.Files, decode.Options{}, decode.PointConfig{}, nil, t.TempDir())
		if err == decode.ErrNoSpill {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		frames := 0
		for _, o := range c.Obs {
			frames += len(o)
		}
		spilled := sp.Bytes()
		cm := &countingMapper{Spill: sp}
		opts.Mapper = cm
		got := Correlate(c, opts)
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if string(wj) != string(gj) {
			t.Errorf("%v: the Result differs with the arrays mapped (%d bytes, %d on the heap)", mix, len(gj), len(wj))
		}
		nJ := len(want.Journeys)
		if least := int64(4*frames + (4+4+1+8)*nJ); sp.Mapped() < least || sp.Bytes()-spilled != sp.Mapped() {
			t.Errorf("%v: %d bytes mapped for %d frames and %d journeys, want at least %d", mix, sp.Mapped(), frames, nJ, least)
		}
		echo := 0
		for _, f := range want.Flows {
			if f.Proto == "icmp" && f.Packets >= 2*trimEvery {
				echo++
			}
		}
		if echo > 0 && cm.trims.Load() == 0 {
			t.Errorf("%v: %d ICMP flows of %d packets or more, and the stages never trimmed the mapped pages", mix, echo, 2*trimEvery)
		}
		sp.Close()
	}
}

// countingMapper is a Spill that counts the calls of Trim (which passes on two goroutines make).
type countingMapper struct {
	*decode.Spill
	trims atomic.Int64
}

func (m *countingMapper) Trim() {
	m.trims.Add(1)
	m.Spill.Trim()
}

// trimCounter is a Mapper that gives no memory (the arrays stay on the heap) and counts the calls of
// Trim.
type trimCounter struct{ n atomic.Int64 }

func (m *trimCounter) Map(int) []byte { return nil }
func (m *trimCounter) Trim()          { m.n.Add(1) }

// TestPassesTrim: in bounded-memory mode each sequential pass over all the frames looks at the mapped
// pages the process holds as it goes (world.trimAt), not only when the Mapper's release loop gets a
// core: the world's passes, the clocks', the merge, the journey ids' collection,
// the arena's fill, the side findings' passes and the fragments' pass each call Trim once per trimRun
// Observations they read (at least once for those that read some files only), and the flows'
// assignment and placement once per trimRun journeys, on a generated capture whose files hold
// several times trimRun frames.
func TestPassesTrim(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Dir, cfg.Packets, cfg.Flows = t.TempDir(), 3*trimRun, 20
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
	perFile := int64(0) // the trimRun-th Observations of every file: what a pass over all of them meets
	for _, obs := range c.Obs {
		perFile += int64(len(obs) / trimRun)
	}
	if perFile < 2*int64(len(c.Obs)) {
		t.Fatalf("%d files, %d runs of %d frames in them: too few to test", len(c.Obs), perFile, trimRun)
	}
	tc := &trimCounter{}
	pass := func(name string, least int64, run func()) {
		t.Helper()
		before := tc.n.Load()
		run()
		if got := tc.n.Load() - before; got < least {
			t.Errorf("%s: %d calls of Trim, want at least %d", name, got, least)
		}
	}
	opts := Options{Window: time.Second, Mapper: tc}
	var w *world
	pass("the world's passes", 1, func() { w = worldFor(c, tc) })
	var clocks []clockModel
	pass("the clocks' pass", 1, func() { clocks, _ = w.clocksFor(opts) })
	m := newMatcher(w, clocks, opts)
	pass("the merge", perFile, m.run) // the sightings it sends (files of one node in order take no time-order pass)
	m.ring, m.loose, m.tcp, m.amb, m.ambByLoose, m.dupRecs = nil, nil, nil, nil, nil, nil
	pass("the journey ids' collection", int64(len(c.Obs)), m.collectJourneys)
	a := &analysis{w: w, journeys: m.out(), clocks: clocks, opts: opts, nJ: int(m.next)}
	pass("the arena's fill", perFile, func() { a.arenaOut = buildArena(w, m, a.nJ, false) })
	// the ARP pass: over every frame, then each point's files with ARP frames (the capture has some)
	pass("the ARP passes", perFile+1, func() { a.arp() })
	pass("the frame checks", perFile, func() { a.frameChecks() })
	pass("the fragments' pass", perFile, w.learnFragments)
	// the flows' and placement's passes over the journeys, whose sightings lie across all the frames
	perJourneys := int64(a.nJ / trimRun)
	if perJourneys < 2 {
		t.Fatalf("%d journeys: too few to test", a.nJ)
	}
	a.cov, a.capDrop = newCoverage(w, clocks), newCapDrops(w, clocks, &a.journeys)
	pass("the flows' assignment", perJourneys, func() { a.flowsOut, a.pairMode = a.assignFlows() })
	a.paths = (&pathStage{w: w, flows: a.flows, jAll: a.jAll, pairMode: a.pairMode}).buildPaths()
	a.lateOut = (&lateStage{w: w, jo: &a.journeys, ar: a.arenaOut, fo: &a.flowsOut, nJ: a.nJ}).joinLate()
	pass("placement", perJourneys, func() { placeJourneys(a) })
}

// TestWireGuardPassesTrim: with WireGuard, the addresses' pass (a pass of the world's), the
// collection of the messages and the merge of split ones each call Trim once per trimRun
// Observations they read, on a generated WireGuard capture whose files hold several times trimRun
// frames.
func TestWireGuardPassesTrim(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Dir, cfg.Packets, cfg.Flows, cfg.Mode = t.TempDir(), 3*trimRun, 20, gen.ModeWireGuard
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
	perFile := int64(0)
	for _, obs := range c.Obs {
		perFile += int64(len(obs) / trimRun)
	}
	if perFile < 2*int64(len(c.Obs)) {
		t.Fatalf("%d files, %d runs of %d frames in them: too few to test", len(c.Obs), perFile, trimRun)
	}
	tc := &trimCounter{}
	w := worldFor(c, nil)
	count := func(run func()) int64 { before := tc.n.Load(); run(); return tc.n.Load() - before }
	w.big = tc
	if got := count(func() { w.wgAddrs() }); got < perFile {
		t.Errorf("the WireGuard addresses' pass: %d calls of Trim, want at least %d", got, perFile)
	}
	opts := Options{Window: time.Second, Mapper: tc}
	clocks, _ := w.clocksFor(opts)
	m := newMatcher(w, clocks, opts)
	m.run()
	m.ring, m.loose, m.tcp, m.amb, m.ambByLoose, m.dupRecs = nil, nil, nil, nil, nil, nil
	m.collectJourneys()
	var st *wgState
	if got := count(func() { st = joinWireGuard(w, m, opts) }); st == nil || got < 2*perFile {
		t.Errorf("the WireGuard messages' collection and merge: %d calls of Trim (state %v), want at least %d", got, st != nil, 2*perFile)
	}
}
