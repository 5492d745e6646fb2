package correlate

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// votesWithEnds is assignFlows done inline, as on one core, with the voter's cache of ends seeded
// first (seed): the flows, their votes and the modes, and the modes' count of journeys a node pair.
func votesWithEnds(a *analysis, seed func(ends *[endSlots]endsEnt)) (fo flowsOut, modes map[[2]int]string, seen []int) {
	w := a.w
	s := &flowStage{a: a, owners: ownerCache{w: w}, pointKindsOf: pointKinds(w), nJ: a.nJ}
	v := s.startVoter(0)
	seed(v.ends)
	s.uf = unionFind{parent: map[flowKey]flowKey{}}
	for _, ev := range a.journeys.nat {
		of, _ := a.obs(ev.from)
		ot, _ := a.obs(ev.to)
		s.uf.union(w.tupleOf(of).key(), w.tupleOf(ot).key())
	}
	s.flowOf = flowIndex{}
	flowCache := make([]flowCacheEntry, flowCacheSize(a.nJ))
	s.jFlow, s.jDir = make([]int32, a.nJ), make([]uint8, a.nJ)
	var job voteJob
	for j := 0; j < a.nJ; j++ {
		if s.keyJob(j, &job) {
			s.assign(&job, flowCache)
			v.vote(&job)
			job.fl.countDir(job.d)
		}
	}
	s.listJourneys(false, true)
	return s.flowsOut, v.modes.result(), v.modes.seen
}

// TestVoterEndsCache holds the voter's cache of ends (endsEnt) to naiveVotes on every lab scenario
// and a generated many-flow capture, with the cache seeded with entries it must not take: each
// journey's pair of addresses with the other IPv6 flags (kind), the key of another pair in its slot,
// and an empty entry's kind with the pair's key, all with owners no point has; and the node pairs'
// counts of journeys for the modes up to modeSample, from which on step settles nothing and the voter
// takes no step (endsEnt.seen): the generated capture counts more on some. Without the seeds,
// TestVoteEnds.
func TestVoterEndsCache(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*")
	if len(dirs) < 20 {
		t.Fatalf("%d lab scenarios", len(dirs))
	}
	var sets [][]string
	for _, dir := range dirs {
		files, _ := filepath.Glob(dir + "/*.pcap*")
		sets = append(sets, files)
	}
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets, cfg.Mode, cfg.Dir = 300, 4000, gen.ModeIPIP, t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sets = append(sets, g.Files)
	bogus := endsEnt{srcNode: 1 << 20, srcPod: 1 << 20, dstNode: 1 << 20, dstPod: 1 << 20, seen: 1 << 20}
	seeded, settled := 0, 0
	for _, files := range sets {
		name := filepath.Dir(files[0])
		for round := range 3 {
			a := analysisBeforeFlows(t, files)
			w := a.w
			got, gotModes, gotSeen := votesWithEnds(a, func(ends *[endSlots]endsEnt) {
				for j := 0; j < a.nJ; j++ {
					h := a.hops(j)
					if len(h) == 0 {
						continue
					}
					o, _ := a.obs(w.pktHop(h))
					ol, _ := a.obs(w.pktLast(h))
					key, kind := uint64(o.Src)<<32|uint64(ol.Dst), (o.Flags&decode.FlagIPv6)<<1|ol.Flags&decode.FlagIPv6|1
					c := bogus
					switch round {
					case 0:
						c.key, c.kind = key, kind^decode.FlagIPv6<<1 // the source's IPv6 flag the other way
					case 1:
						c.key, c.kind = key^1<<40, kind // another source, of this slot
					case 2:
						c.key = key // an empty entry's kind, 0
					}
					ends[endsSlot(key)] = c
					seeded++
				}
			})
			want, wantModes, wantSeen := naiveVotes(a) // (the same analysis: IPv6 addresses' indexes differ between loads)
			if !reflect.DeepEqual(gotModes, wantModes) {
				t.Fatalf("%s, round %d: modes %v, want %v", name, round, gotModes, wantModes)
			}
			// The voter passes over the modes' step of a node pair whose mode is settled (modeSample
			// journeys counted), where step would count the journey and return.
			for i := range wantSeen {
				if g, w := min(gotSeen[i], modeSample), min(wantSeen[i], modeSample); g != w {
					t.Fatalf("%s, round %d: node pair %d: %d journeys counted, want %d", name, round, i, g, w)
				}
				if wantSeen[i] > modeSample {
					settled++
				}
			}
			if len(got.flows) != len(want.flows) || !reflect.DeepEqual(got.jFlow, want.jFlow) || !reflect.DeepEqual(got.jDir, want.jDir) {
				t.Fatalf("%s, round %d: the journeys' flows differ", name, round)
			}
			for fi := range got.flows {
				if !reflect.DeepEqual(got.flows[fi], want.flows[fi]) {
					t.Fatalf("%s, round %d: flow %d:\n got %+v %+v\nwant %+v %+v", name, round, fi, got.flows[fi], *got.flows[fi].votes,
						want.flows[fi], *want.flows[fi].votes)
				}
			}
		}
	}
	if seeded == 0 || settled == 0 {
		t.Fatalf("%d entries seeded, %d node pairs' modes settled", seeded, settled)
	}
}
