package correlate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/google/go-cmp/cmp"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

type fileFrame struct {
	file  string
	frame uint32
}

// runGen generates captures with cfg and correlates them as `calipath report` does (the ACKs that may
// clear a segment read again from the files), with the journeys kept.
func runGen(t *testing.T, cfg gen.Config) (*gen.Result, *Result) {
	t.Helper()
	cfg.Dir = t.TempDir()
	cfg.KeepTruth = true
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
	for _, f := range c.Files {
		if f.NProblems > 0 {
			t.Fatalf("%s: %v", f.Path, f.Problems)
		}
	}
	return g, Correlate(c, Options{Journeys: true, Acks: decode.AckReader(c, decode.Options{})})
}

// truthPoints maps each generated file's path to its point, node/interface, as the truth names it.
func truthPoints(g *gen.Result) map[string]string {
	dir := filepath.Dir(g.Files[0])
	points := map[string]string{}
	for _, f := range g.Truth.Files {
		points[filepath.Join(dir, f.Name)] = f.Node + "/" + f.Iface
	}
	return points
}

// checkTruth compares every true journey with the journey calipath found: the same frames (duplicates
// aside), and for lost packets the same segment, or not captured there when the captures cannot show
// the loss (edgeLosses); and the counts exactly (checkCounts). It returns the fraction of exact
// journeys.
func checkTruth(t *testing.T, g *gen.Result, res *Result) float64 {
	t.Helper()
	tr := g.Truth
	dir := filepath.Dir(g.Files[0])
	pointOfFile := truthPoints(g)
	jOf := map[fileFrame]int{}
	byID := map[int]*Journey{}
	for i := range res.Journeys {
		j := &res.Journeys[i]
		byID[j.ID] = j
		for _, h := range j.Hops {
			jOf[fileFrame{h.File, h.Frame}] = j.ID
		}
	}
	edge := edgeLosses(tr) // lost where the captures cannot show it: rightly not captured
	exact, lossWrong, atEdgeN := 0, 0, 0
	var bad []string
	for _, p := range tr.Packets {
		var frames []fileFrame
		for _, c := range p.Captures {
			if !c.Dup {
				frames = append(frames, fileFrame{filepath.Join(dir, tr.Files[c.File].Name), c.Frame})
			}
		}
		if len(frames) == 0 {
			exact++ // lost before the first capture point: nothing to find
			continue
		}
		id, ok := jOf[frames[0]]
		good := ok
		for _, f := range frames[1:] {
			if jOf[f] != id {
				good = false
			}
		}
		var j *Journey
		if good {
			j = byID[id]
			good = len(j.Hops) == len(frames)
		}
		if good && p.Lost && p.LostAfter < p.Hops-1 {
			last := frames[len(frames)-1]
			want := pointOfFile[last.file]
			_, next, _ := strings.Cut(p.Segment, " -> ")
			past, near := edge[p.ID] // past the edge: not captured; near it: that or lost
			atEdge := near && j.Status == statusNotCaptured && j.LastSeen == want && j.NextExpected == pointOfFile[filepath.Join(dir, next)]
			if atEdge {
				atEdgeN++
			}
			if !atEdge && (past || j.Status != statusLost || j.LastSeen != want) {
				lossWrong++
				good = false
				if len(bad) < 10 {
					bad = append(bad, fmt.Sprintf("packet %d lost after %s (%s): journey %d status %s last %s next %s",
						p.ID, want, p.Segment, j.ID, j.Status, j.LastSeen, j.NextExpected))
				}
			}
		}
		if good && !p.Lost && j.Status != statusDelivered {
			good = false
			if len(bad) < 10 {
				bad = append(bad, fmt.Sprintf("packet %d delivered: journey %d status %s last %s next %s", p.ID, j.ID, j.Status, j.LastSeen, j.NextExpected))
			}
		}
		if good {
			exact++
		} else if len(bad) < 10 && j == nil {
			bad = append(bad, fmt.Sprintf("packet %d (flow %d dir %d, %d frames, lost %v): frames split over journeys", p.ID, p.Flow, p.Dir, len(frames), p.Lost))
		}
	}
	for _, b := range bad {
		t.Log(b)
	}
	if lossWrong > 0 {
		t.Errorf("%d losses placed on the wrong segment (or lost where the captures cannot show it)", lossWrong)
	}
	checkCounts(t, tr, res.Summary, atEdgeN)
	return float64(exact) / float64(len(tr.Packets))
}

// checkCounts checks a Result's counts against the generator's truth, exactly: every packet sent is
// a journey, the packets delivered are delivered and the packets lost are lost, but for atEdge of them
// that vanished where the captures cannot show it (edgeLosses; checkTruth and edgeNotCaptured count
// those calipath rightly said not captured). A lost TCP segment is not one its receiver acknowledged
// (the generator's receivers ACK only what arrived), so the ACK evidence turns no loss into "not
// captured".
func checkCounts(t *testing.T, tr *gen.Truth, s Summary, atEdge int) {
	t.Helper()
	lost := 0
	for i := range tr.Packets {
		if tr.Packets[i].Lost {
			lost++
		}
	}
	delivered := len(tr.Packets) - lost
	if s.Journeys != len(tr.Packets) || s.Delivered != delivered || s.Lost != lost-atEdge || s.NotCaptured != atEdge {
		t.Errorf("%d sent, %d delivered, %d lost, %d not captured; truth: %d sent, %d delivered, %d lost (%d of them where the captures cannot show it)",
			s.Journeys, s.Delivered, s.Lost, s.NotCaptured, len(tr.Packets), delivered, lost, atEdge)
	}
}

// edgeSlack is how close to the edge of a node's captures edgeLosses takes a packet last seen on
// another node to be on either side of it: the clocks calipath fits (two-way fits of about ±100µs)
// move its sightings against the edge. On one node the slack is the timestamps' microsecond.
const edgeSlack = int64(time.Millisecond)

// edgeLosses returns the IDs of the packets the truth has lost where the captures cannot show it:
// the packet vanished after it was last seen at a moment the next point's captures had not begun
// (before the first frame of that point's node) or were about to end (less than coverageGrace
// before the node's last frame). A pcap file records no start or stop time, so calipath takes a
// node's captures to run from their first frame to their last, and a point to cover a moment only
// when its capture runs coverageGrace past it (coverage.covered): such a packet may have reached the
// next point while its capture did not run, and is rightly not captured, not lost (docs/result.md).
// The truth records what every packet did, independent of the captures, so it counts it lost. The
// value is true past the slack (not captured is the only right status), false within it on either
// side of the edge (lost or not captured, by the clocks calipath fits).
func edgeLosses(tr *gen.Truth) map[int64]bool {
	node := map[string]int{}
	for i, n := range tr.Nodes {
		node[n.Name] = i
	}
	file := map[string]int{}
	for i, f := range tr.Files {
		file[f.Name] = i
	}
	first, last := make([]int64, len(tr.Nodes)), make([]int64, len(tr.Nodes)) // true times
	for i := range first {
		first[i], last[i] = math.MaxInt64, math.MinInt64
	}
	see := func(f int, t int64) {
		n := node[tr.Files[f].Node]
		first[n], last[n] = min(first[n], t), max(last[n], t)
	}
	for _, p := range tr.Packets {
		for _, c := range p.Captures {
			see(c.File, c.True)
		}
	}
	for _, a := range tr.ARP { // recorded times only: back to true time (NodeTruth.Offset)
		n := tr.Nodes[node[tr.Files[a.File].Node]]
		trueAt := func(rec int64) int64 {
			return tr.Start + int64(float64(rec-int64(n.Offset)-tr.Start)/(1+n.DriftPPM/1e6))
		}
		see(a.File, trueAt(a.RequestTime))
		if a.ReplyFrame != 0 {
			see(a.File, trueAt(a.ReplyTime))
		}
	}
	edge := map[int64]bool{}
	for _, p := range tr.Packets {
		_, next, _ := strings.Cut(p.Segment, " -> ")
		if !p.Lost || next == "" {
			continue
		}
		for _, c := range p.Captures {
			if c.Dup || c.Hop != p.LostAfter { // the last sighting, a duplicate copy aside
				continue
			}
			n := node[tr.Files[file[next]].Node]
			in := min(c.True-first[n], last[n]-(c.True+coverageGrace)) // < 0: outside what the node's captures cover
			slack := edgeSlack
			if node[tr.Files[c.File].Node] == n {
				slack = 2 * int64(time.Microsecond) // one clock: only the timestamps' microseconds
			}
			if in < slack {
				edge[p.ID] = in < -slack
			}
		}
	}
	return edge
}

// edgeNotCaptured counts the packets of edgeLosses that res says were not captured, last seen where
// the truth last saw them (the journey of that frame) and next expected at the next point on their
// path: checkCounts' atEdge. Those past edgeSlack must all be.
func edgeNotCaptured(t *testing.T, g *gen.Result, res *Result) int {
	t.Helper()
	tr := g.Truth
	dir := filepath.Dir(g.Files[0])
	point := truthPoints(g)
	edge := edgeLosses(tr)
	last := map[fileFrame]int64{} // the frame each packet of edge was last seen as → its ID
	for _, p := range tr.Packets {
		if _, ok := edge[p.ID]; !ok {
			continue
		}
		for _, c := range p.Captures {
			if !c.Dup && c.Hop == p.LostAfter {
				last[fileFrame{filepath.Join(dir, tr.Files[c.File].Name), c.Frame}] = p.ID
			}
		}
	}
	n := 0
	for _, j := range res.Journeys {
		if len(j.Hops) == 0 {
			continue
		}
		h := j.Hops[len(j.Hops)-1]
		id, ok := last[fileFrame{h.File, h.Frame}]
		if !ok {
			continue
		}
		_, next, _ := strings.Cut(tr.Packets[id].Segment, " -> ")
		if j.Status == statusNotCaptured && j.LastSeen == point[h.File] && j.NextExpected == point[filepath.Join(dir, next)] {
			n++
		} else if edge[id] {
			t.Errorf("packet %d, lost after %s (%s) where the captures cannot show it: journey %d %s, last seen %s, next %s; want not captured",
				id, point[h.File], tr.Packets[id].Segment, j.ID, j.Status, j.LastSeen, j.NextExpected)
		}
	}
	return n
}

// With 1% loss per hop, 5% duplicates, a 5 s offset with 100 ppm drift, DNAT and retransmissions,
// correlated as `calipath report` does (ACKs read again), every packet gets exactly its true journey,
// every loss is placed on its segment, and the counts are the truth's (checkCounts).
func TestPropertyRecoverTruth(t *testing.T) {
	for _, mode := range []gen.Mode{gen.ModeIPIP, gen.ModeVXLAN, gen.ModeBGP, gen.ModeWireGuard} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg := gen.DefaultConfig()
			cfg.Seed = 7
			cfg.Mode = mode
			cfg.Packets = 20000
			cfg.Flows = 60
			cfg.Rate = 1000 // 20 s of traffic, long enough to fit the drift
			cfg.LossPerHop = 0.01
			cfg.DupRate = 0.05
			cfg.RetransRate = 0.01
			cfg.DNAT = 0.2
			cfg.IPID0DF = 0.2
			cfg.ClockOffset = map[string]time.Duration{"node-2": 5 * time.Second}
			cfg.DriftPPM = map[string]float64{"node-2": 100}
			g, res := runGen(t, cfg)
			frac := checkTruth(t, g, res)
			t.Logf("%.4f%% of %d journeys exact", frac*100, len(g.Truth.Packets))
			if frac != 1 {
				t.Errorf("only %.3f%% of journeys recovered exactly, want all", frac*100)
			}
			var n2 Clock
			for _, c := range res.Clocks {
				if c.Node == "node-2" {
					n2 = c
				}
			}
			if d := time.Duration(n2.OffsetNs) - 5*time.Second; d > time.Millisecond || d < -time.Millisecond {
				t.Errorf("node-2 offset %v, want 5s ± 1ms (%s)", time.Duration(n2.OffsetNs), n2.Method)
			}
			if n2.DriftPPM < 90 || n2.DriftPPM > 110 {
				t.Errorf("node-2 drift %.1f ppm, want 100 ± 10", n2.DriftPPM)
			}
		})
	}
}

// FlowJourneys renders, per flow, exactly the journeys Options.Journeys lists.
func TestFlowJourneysMatchAll(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Seed = 11
	cfg.Packets = 3000
	cfg.Flows = 12
	cfg.LossPerHop = 0.02
	cfg.DNAT = 0.3
	_, res := runGen(t, cfg)
	byFlow := map[string][]Journey{}
	for _, j := range res.Journeys {
		byFlow[j.Flow] = append(byFlow[j.Flow], j)
	}
	n := 0
	for _, f := range res.Flows {
		got := res.FlowJourneys(f.ID)
		n += len(got)
		want := byFlow[f.ID]
		if len(got) != len(want) || len(got) != f.Packets {
			t.Fatalf("%s: FlowJourneys gives %d, Journeys %d, flow counts %d", f.ID, len(got), len(want), f.Packets)
		}
		ids := map[int]Journey{}
		for _, j := range want {
			ids[j.ID] = j
		}
		for i, j := range got {
			if d := cmp.Diff(ids[j.ID], j); d != "" {
				t.Fatalf("%s journey %d (-all +flow):\n%s", f.ID, j.ID, d)
			}
			if i > 0 && got[i-1].Hops[0].Ts > j.Hops[0].Ts {
				t.Fatalf("%s: journeys not in time order", f.ID)
			}
		}
	}
	if n != len(res.Journeys) || res.FlowJourneys("nope") != nil {
		t.Fatalf("journeys over flows %d, all %d", n, len(res.Journeys))
	}
}

// The same captures give byte-identical JSON, run after run (maps are never printed in their order),
// and whether or not correlation releases the fingerprints once it has matched.
func TestDeterministicJSON(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Seed = 5
	cfg.Packets = 4000
	cfg.Flows = 20
	cfg.LossPerHop = 0.02
	cfg.DupRate = 0.05
	cfg.DNAT = 0.3
	cfg.RetransRate = 0.02
	cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out [2][]byte
	for i := range out {
		c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
		release := i == 1
		b, err := json.Marshal(Correlate(c, Options{Journeys: true, Lean: release}))
		if err != nil {
			t.Fatal(err)
		}
		if (c.Loose == nil) != release {
			t.Fatalf("Lean %v, fingerprints released: %v", release, c.Loose == nil)
		}
		out[i] = b
	}
	if !bytes.Equal(out[0], out[1]) {
		t.Fatal("two runs over the same captures gave different JSON")
	}
}

// Lean correlation writes the journey ids over the Capture's fingerprints, drops them, and returns
// memory to the system between phases (after matching, and after the flows); with KeepFreed it
// collects as often and returns nothing (the TUI correlates so before its overview: docs/tui.md);
// otherwise it works on a copy. The Result is the same.
func TestLeanMatchesDefault(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Seed = 11
	cfg.Packets = 70000 // more than one fingerprint chunk per file
	cfg.Flows = 30
	cfg.LossPerHop = 0.01
	cfg.DupRate = 0.02
	cfg.ClockOffset = map[string]time.Duration{"node-2": time.Second}
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func(f func()) { freeOSMemory = f }(freeOSMemory)
	var out [3][]byte
	for i, opts := range []Options{{}, {Lean: true}, {Lean: true, KeepFreed: true}} {
		returned := 0
		freeOSMemory = func() { returned++ }
		c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
		for f, obs := range c.Obs {
			if opts.Lean && len(obs) <= decode.FingerprintChunk {
				t.Fatalf("%s: %d frames, too few to release a fingerprint chunk", c.Files[f].Path, len(obs))
			}
		}
		b, err := json.Marshal(Correlate(c, opts))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
		if want := map[bool]int{true: 2}[opts.Lean && !opts.KeepFreed]; returned != want {
			t.Errorf("Lean %v, KeepFreed %v: the free memory returned %d times, want %d", opts.Lean, opts.KeepFreed, returned, want)
		}
		if opts.Lean && c.Loose != nil {
			t.Errorf("Lean %v, KeepFreed %v: the fingerprints were kept", opts.Lean, opts.KeepFreed)
		}
	}
	if !bytes.Equal(out[0], out[1]) {
		t.Fatal("lean correlation gave another Result")
	}
	if !bytes.Equal(out[1], out[2]) {
		t.Fatal("lean correlation keeping the memory freed gave another Result")
	}
}

// With CollectLater, Lean correlation leaves its collection after placement to the caller when the
// flows are streamed (the TUI collects before it lists them, after its overview): one collection
// fewer, the same Result; without streamed flows it collects as before.
func TestCollectLater(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Seed = 12
	cfg.Packets = 20000
	cfg.Flows = 40
	cfg.LossPerHop = 0.01
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func(f func()) { collect = f }(collect)
	run := func(opts Options) (int, []byte) {
		n := 0
		collect = func() { n++ }
		res := Correlate(decode.Load(g.Files, decode.Options{}, decode.PointConfig{}), opts)
		if res.FlowsStreamed() != opts.StreamFlows {
			t.Fatalf("%+v: flows streamed %v", opts, res.FlowsStreamed())
		}
		b, err := json.Marshal(res.WithFlows())
		if err != nil {
			t.Fatal(err)
		}
		return n, b
	}
	for _, stream := range []bool{true, false} {
		opts := Options{Lean: true, KeepFreed: true, StreamFlows: stream}
		n, want := run(opts)
		opts.CollectLater = true
		later, got := run(opts)
		if wantN := map[bool]int{true: n - 1, false: n}[stream]; later != wantN || n == 0 {
			t.Errorf("flows streamed %v: %d collections with CollectLater, %d without: want %d", stream, later, n, wantN)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("flows streamed %v: CollectLater gave another Result", stream)
		}
	}
}
