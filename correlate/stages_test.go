package correlate

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// matchFiles loads files and matches their journeys, as CorrelateContext does (a one-second window):
// the world, the clocks, their offset fits, the matcher and the options.
func matchFiles(t *testing.T, files []string) (*world, []clockModel, []offsetFit, *matcher, Options) {
	t.Helper()
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	opts := Options{Window: time.Second}
	w := worldOf(c)
	clocks, offFits := w.clocksFor(opts)
	m, err := matchJourneys(context.Background(), c, w, clocks, opts)
	if err != nil {
		t.Fatal(err)
	}
	return w, clocks, offFits, m, opts
}

// analysisBeforeFlows correlates files up to the flow stage, as CorrelateContext does.
func analysisBeforeFlows(t *testing.T, files []string) *analysis {
	t.Helper()
	w, clocks, offFits, m, opts := matchFiles(t, files)
	a := &analysis{w: w, journeys: m.out(), clocks: clocks, opts: opts, nJ: int(m.next), offFits: offFits,
		wg: joinWireGuard(w, m, opts)}
	a.arenaOut = buildArena(w, m, a.nJ, false)
	return a
}

// checkVoting compares the flow stage's output with the journeys keyed on the keyer's goroutine and
// the votes taken on the voter's, n journeys to a chunk, with that of both done inline: the same
// flows (numbered alike), journeys, ICMP errors' journeys and votes. It
// returns how many journeys voted for their pods.
func checkVoting(t *testing.T, a *analysis) int {
	t.Helper()
	a.opts.chunk = -1
	want, wantModes := a.assignFlows()
	votes := 0
	for _, fl := range want.flows {
		votes += int(fl.votes[c2s].nVoted + fl.votes[s2c].nVoted)
	}
	for _, n := range []int{1, 3, voteChunk} {
		a.opts.chunk = n
		got, modes := a.assignFlows()
		if !reflect.DeepEqual(modes, wantModes) || !reflect.DeepEqual(got.jFlow, want.jFlow) || !reflect.DeepEqual(got.jDir, want.jDir) ||
			!reflect.DeepEqual(got.icmpJ, want.icmpJ) || !reflect.DeepEqual(got.flowOf, want.flowOf) {
			t.Fatalf("chunks of %d: the journeys' flows differ", n)
		}
		if len(got.flows) != len(want.flows) {
			t.Fatalf("chunks of %d: %d flows, want %d", n, len(got.flows), len(want.flows))
		}
		for fi := range got.flows {
			if !reflect.DeepEqual(got.flows[fi], want.flows[fi]) {
				t.Fatalf("chunks of %d: flow %d:\n got %+v %+v\nwant %+v %+v", n, fi, got.flows[fi], *got.flows[fi].votes,
					want.flows[fi], *want.flows[fi].votes)
			}
		}
	}
	return votes
}

// The votes taken on the voter's goroutine are those taken inline, whatever the chunk size, on a
// generated many-flow capture with NAT, loss and a clock off.
func TestVoterSameResult(t *testing.T) {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 2000, 10000
	cfg.LossPerHop, cfg.DupRate, cfg.DNAT = 0.01, 0.01, 0.2
	cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
	eachModeCaps(t, cfg, func(t *testing.T, files []string) {
		if checkVoting(t, analysisBeforeFlows(t, files)) == 0 {
			t.Fatal("no votes: nothing to compare")
		}
	})
}

// eachModeCaps generates cfg's captures in IP-in-IP mode and in BGP mode, each in a subtest, and
// checks them with check.
func eachModeCaps(t *testing.T, cfg gen.Config, check func(t *testing.T, files []string)) {
	for _, mode := range []gen.Mode{gen.ModeIPIP, gen.ModeBGP} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			cfg.Mode, cfg.Dir = mode, t.TempDir()
			g, err := gen.Generate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			check(t, g.Files)
		})
	}
}

// Likewise on every lab scenario: their routers' votes, tunnels and pods.
func TestVoterLab(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*/truth.json")
	if len(dirs) == 0 {
		t.Skip("no lab scenarios under testdata/lab/scenarios")
	}
	voted := 0
	for _, tf := range dirs {
		dir := filepath.Dir(tf)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
			ngs, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
			if checkVoting(t, analysisBeforeFlows(t, append(pcaps, ngs...))) > 0 {
				voted++
			}
		})
	}
	if voted < len(dirs)/2 {
		t.Errorf("votes in %d of %d scenarios: too few to tell", voted, len(dirs))
	}
}

// checkStages correlates files with the flow and placement stages' work inline, then handed to their
// goroutines in chunks of several sizes and at several GOMAXPROCS: the same Result (as JSON, with
// the journeys) every time. It returns the Result's JSON.
func checkStages(t *testing.T, files []string) []byte {
	t.Helper()
	run := func(chunk int) []byte {
		res := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{Journeys: true, chunk: chunk})
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	want := run(-1)
	for _, chunk := range []int{1, 3, 64} {
		if got := run(chunk); string(got) != string(want) {
			t.Fatalf("chunks of %d: the Result differs from the one worked inline", chunk)
		}
	}
	for _, procs := range []int{1, 2, 4} {
		old := runtime.GOMAXPROCS(procs)
		got := run(0)
		runtime.GOMAXPROCS(old)
		if string(got) != string(want) {
			t.Fatalf("GOMAXPROCS %d: the Result differs from the one worked inline", procs)
		}
	}
	return want
}

// The flow and placement stages give the same Result whether their goroutines take the work in
// chunks of any size or it is done inline, at any GOMAXPROCS: on generated many-flow captures with
// loss, duplicates, DNAT, retransmissions and a clock off, in three modes.
func TestStagesSameResult(t *testing.T) {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 600, 4000
	cfg.LossPerHop, cfg.DupRate, cfg.DNAT, cfg.RetransRate = 0.02, 0.02, 0.2, 0.01
	cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
	for _, mode := range []gen.Mode{gen.ModeIPIP, gen.ModeVXLAN, gen.ModeBGP} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			cfg.Mode, cfg.Dir = mode, t.TempDir()
			g, err := gen.Generate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var res Result
			if err := json.Unmarshal(checkStages(t, g.Files), &res); err != nil {
				t.Fatal(err)
			}
			if res.Summary.Lost == 0 || len(res.Segments) == 0 {
				t.Fatalf("%d lost on %d segments: too few to tell", res.Summary.Lost, len(res.Segments))
			}
		})
	}
}

// Likewise on every lab scenario.
func TestStagesLab(t *testing.T) {
	eachLabScenario(t, func(t *testing.T, files []string) { checkStages(t, files) })
}

// eachLabScenario runs fn as a subtest on every lab scenario's captures (its pcap and pcapng files).
func eachLabScenario(t *testing.T, fn func(t *testing.T, files []string)) {
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*/truth.json")
	if len(dirs) == 0 {
		t.Skip("no lab scenarios under testdata/lab/scenarios")
	}
	for _, tf := range dirs {
		dir := filepath.Dir(tf)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
			ngs, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
			fn(t, append(pcaps, ngs...))
		})
	}
}
