package correlate

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/calipath/calipath/decode"
)

// naiveVotes is assignFlows done inline with every owner the modes and the votes take looked up in
// the world, each for itself: the modes the first sighting's source and the last packet hop's
// destination (pktLast), the vote the tuple's source and the last hop's destination. seen is the
// modes' count of journeys a node pair (modeFinder.seen).
func naiveVotes(a *analysis) (fo flowsOut, modes map[[2]int]string, seen []int) {
	w := a.w
	owner := func(v6 bool, addr uint32) int {
		if p, ok := w.ownerOf(v6, addr); ok {
			return p
		}
		return -1
	}
	s := &flowStage{a: a, owners: ownerCache{w: w}, pointKindsOf: pointKinds(w)}
	s.uf = unionFind{parent: map[flowKey]flowKey{}}
	for _, ev := range a.journeys.nat {
		of, _ := a.obs(ev.from)
		ot, _ := a.obs(ev.to)
		s.uf.union(w.tupleOf(of).key(), w.tupleOf(ot).key())
	}
	s.flowOf = flowIndex{}
	flowCache := make([]flowCacheEntry, flowCacheSize(a.nJ))
	s.jFlow, s.jDir = make([]int32, a.nJ), make([]uint8, a.nJ)
	mf := a.newModeFinder()
	for j := 0; j < a.nJ; j++ {
		var job voteJob
		if !s.keyJob(j, &job) {
			continue
		}
		s.assign(&job, flowCache)
		job.d = direction(job.fl, &job.t)
		s.jDir[j] = job.d
		h := a.hops(j)
		o, t := job.o, &job.t
		ol, _ := a.obs(w.pktLast(h))
		last, _ := a.obs(h[len(h)-1])
		lv6 := last.Flags&decode.FlagIPv6 != 0
		dn := owner(ol.Flags&decode.FlagIPv6 != 0, ol.Dst)
		if dn >= 0 {
			dn = w.pointNode[dn]
		}
		mf.step(h, owner(o.Flags&decode.FlagIPv6 != 0, o.Src), dn)
		e := voteEnds{w.nodeOf(t.v6, t.src), owner(t.v6, t.src), w.nodeOf(lv6, last.Dst), owner(lv6, last.Dst),
			owner(o.Flags&decode.FlagIPv6 != 0, o.Src)}
		s.votePath(job.fl, job.d, j, t, o, h, &e)
	}
	s.listJourneys(false, false)
	return s.flowsOut, mf.result(), mf.seen
}

// TestVoteEnds checks the voter, which looks up the owners of a journey's ends once for both its
// step of the modes and its vote, against naiveVotes on every lab scenario: the same flows, votes
// and modes. The lab has journeys whose vote's ends differ from the modes' (ICMP errors, whose tuple
// is the quoted packet's; WireGuard messages after the last packet hop); the test asks that some did.
func TestVoteEnds(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*")
	if len(dirs) < 20 {
		t.Fatalf("%d lab scenarios", len(dirs))
	}
	srcDiffer, dstDiffer := 0, 0
	for _, dir := range dirs {
		files, _ := filepath.Glob(dir + "/*.pcap*")
		a := analysisBeforeFlows(t, files)
		a.opts.chunk = -1 // inline
		got, gotModes := a.assignFlows()
		want, wantModes, _ := naiveVotes(a)
		if !reflect.DeepEqual(gotModes, wantModes) {
			t.Fatalf("%s: modes %v, want %v", dir, gotModes, wantModes)
		}
		if len(got.flows) != len(want.flows) || !reflect.DeepEqual(got.jFlow, want.jFlow) || !reflect.DeepEqual(got.jDir, want.jDir) {
			t.Fatalf("%s: the journeys' flows differ", dir)
		}
		for fi := range got.flows {
			if !reflect.DeepEqual(got.flows[fi], want.flows[fi]) {
				t.Fatalf("%s: flow %d:\n got %+v %+v\nwant %+v %+v", dir, fi, got.flows[fi], *got.flows[fi].votes,
					want.flows[fi], *want.flows[fi].votes)
			}
		}
		w := a.w
		// The pod-veth votes at the source: the owners of the first sightings' sources (not the tuple's:
		// an ICMP error's is the quoted packet's) of each flow direction's first voteSample journeys.
		srcPods := make([][2]dirVotes, len(got.flows)) // (their tSrcPod tallies)
		voted := make([][2]int, len(got.flows))
		for j, fi := range got.jFlow {
			if d := got.jDir[j]; fi >= 0 && voted[fi][d] < voteSample {
				voted[fi][d]++
				o, _ := a.obs(w.pktHop(a.hops(j)))
				if p, ok := w.ownerOf(o.Flags&decode.FlagIPv6 != 0, o.Src); ok {
					if v := &srcPods[fi][d]; !v.tl[tSrcPod].add(p) {
						v.addMore(tSrcPod, p)
					}
				}
			}
		}
		for fi, fl := range got.flows {
			for d := range 2 {
				g, w := tallyOf(&fl.votes[d], tSrcPod), tallyOf(&srcPods[fi][d], tSrcPod)
				if !reflect.DeepEqual(g, w) {
					t.Fatalf("%s: flow %d direction %d: source pod votes %+v, want %+v", dir, fi, d, g, w)
				}
			}
		}
		ends := func(v6 bool, addr uint32) [2]int {
			p, ok := w.ownerOf(v6, addr)
			if !ok {
				p = -1
			}
			return [2]int{w.nodeOf(v6, addr), p}
		}
		for j := 0; j < a.nJ; j++ {
			h := a.hops(j)
			if len(h) == 0 {
				continue
			}
			o, _ := a.obs(w.pktHop(h))
			if w.cutLeft(o) {
				continue
			}
			tu := w.tupleOf(o)
			if ends(tu.v6, tu.src) != ends(o.Flags&decode.FlagIPv6 != 0, o.Src) {
				srcDiffer++
			}
			ol, _ := a.obs(w.pktLast(h))
			last, _ := a.obs(h[len(h)-1])
			if ends(last.Flags&decode.FlagIPv6 != 0, last.Dst) != ends(ol.Flags&decode.FlagIPv6 != 0, ol.Dst) {
				dstDiffer++
			}
		}
	}
	t.Logf("%d journeys whose vote's source's owner or node differs from the modes', %d whose destination's does", srcDiffer, dstDiffer)
	if srcDiffer == 0 || dstDiffer == 0 {
		t.Fatalf("%d journeys whose vote's source's owner or node differs from the modes', %d whose destination's does", srcDiffer, dstDiffer)
	}
}

// tallyList is a tally and its list (none while it holds one key).
type tallyList struct {
	t    tally
	more votes
}

// tallyOf returns tally i of v with its list.
func tallyOf(v *dirVotes, i int) tallyList {
	if v.rare == nil {
		return tallyList{t: v.tl[i]}
	}
	return tallyList{v.tl[i], v.rare.more[i]}
}
