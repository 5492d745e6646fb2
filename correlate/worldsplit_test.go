package correlate

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// splitWorlds calls fn with the world of every lab scenario's captures and of generated many-flow
// captures (IP-in-IP, VXLAN and BGP, with losses, duplicates, DNAT and node-2's clock 2 s ahead), each
// a subtest.
func splitWorlds(t *testing.T, fn func(t *testing.T, w *world)) {
	eachLabScenario(t, func(t *testing.T, files []string) {
		fn(t, worldOf(decode.Load(files, decode.Options{}, decode.PointConfig{})))
	})
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 600, 6000
	cfg.LossPerHop, cfg.DupRate, cfg.DNAT = 0.02, 0.02, 0.2
	cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
	for _, mode := range []gen.Mode{gen.ModeIPIP, gen.ModeVXLAN, gen.ModeBGP} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			cfg.Mode, cfg.Dir = mode, t.TempDir()
			g, err := gen.Generate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			fn(t, worldOf(decode.Load(g.Files, decode.Options{}, decode.PointConfig{})))
		})
	}
}

// findPods' counts made in two sets of files on two goroutines (podCounts with any least, here 1)
// are those of one pass, on every lab scenario and generated captures; the two sets share no pod-veth
// point, and they do not depend on the number of cores.
func TestPodCountsSplit(t *testing.T) {
	split := 0
	splitWorlds(t, func(t *testing.T, w *world) {
		one, one6 := w.podCounts(0)
		two, two6 := w.podCounts(1)
		if !reflect.DeepEqual(one, two) || !reflect.DeepEqual(one6, two6) {
			t.Fatal("the pod-veth points' address counts made in two sets of files differ from one pass's")
		}
		podFile := w.filesWith(func(p int) bool { return w.pointRole[p] == decode.RolePodVeth })
		halves, n := w.podHalves(podFile, w.srcPodVeth())
		if halves[1] == nil {
			return
		}
		split++
		in := map[int32]int{} // pod-veth point → 1 + its set
		for s, src := range w.c.Sources {
			pi := w.srcPodVeth()[s]
			if pi < 0 || len(w.c.Obs[src.File]) == 0 {
				continue
			}
			h := 1
			if halves[1][src.File] {
				h = 2
			}
			if !halves[h-1][src.File] || (in[pi] != 0 && in[pi] != h) {
				t.Fatalf("point %d's file %d: in set %d, and the point in %d", pi, src.File, h, in[pi])
			}
			in[pi] = h
		}
		if n == 0 {
			t.Fatal("files in two sets, but no frame counted")
		}
	})
	if split == 0 {
		t.Fatal("no capture's pod files went into two sets: the test says nothing")
	}
}

// delayPairs' samples made from the packets of each half of the fingerprints on two goroutines
// (delayPairsIn, split) are those of one pass, pair by pair in the same order, on every lab scenario
// and generated captures.
func TestDelayPairsSplit(t *testing.T) {
	joined := 0
	splitWorlds(t, func(t *testing.T, w *world) {
		edge, total, _ := w.clockEdges()
		refs := w.sampleRefs(edge, sampleRate(total))
		pkts, _ := w.clockPackets(refs, total)
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		one := delayPairs(pkts) // one pass (GOMAXPROCS 1)
		two := delayPairsIn(pkts.list, true)
		if !reflect.DeepEqual(one, two) || !reflect.DeepEqual(one, delayPairsIn(pkts.list, false)) {
			t.Fatalf("%d node pairs' samples in one pass, %d in halves, or they differ", len(one), len(two))
		}
		for _, s := range one {
			if len(s) > 1 && s[0].fp>>63 == 0 && s[len(s)-1].fp>>63 == 1 {
				joined++ // a pair with samples of both halves
				break
			}
		}
	})
	if joined == 0 {
		t.Fatal("no node pair had samples from both halves: their join is not tested")
	}
}

// addPackets' usual packet (two sightings on two nodes) gives the samples addPacket gives it: random
// packets of one to four sightings, on nodes -1 to 3 (twice on one among them), their sender and
// receiver among those or not, some ambiguous; each pair's samples the same, in the same order.
func TestAddPacketsUsual(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 7))
	usual := 0
	for round := range 200 {
		list := make([]fpPkt, 1+rng.IntN(300))
		for i := range list {
			p := &clockPkt{sender: rng.IntN(5) - 1, receiver: rng.IntN(5) - 1, ambiguous: rng.IntN(10) == 0}
			n := 1 + rng.IntN(4)
			if rng.IntN(2) == 0 {
				n = 2
			}
			for range n {
				ts := rng.Int64N(1e9)
				p.seen = append(p.seen, clockSight{node: rng.IntN(5) - 1, first: ts, last: ts + rng.Int64N(1e5),
					ttl: uint8(60 + rng.IntN(5))})
			}
			if len(p.seen) == 2 && p.seen[0].node != p.seen[1].node && !p.ambiguous &&
				(p.seen[0].node == p.sender || p.seen[1].node == p.sender) {
				usual++
			}
			list[i] = fpPkt{uint64(i), p}
		}
		var got, want pairSamples
		got.addPackets(list)
		var routers []*clockSight
		for _, x := range list {
			if !x.p.ambiguous {
				routers = want.addPacket(x.fp, x.p, routers)
			}
		}
		if g, w := got.byPair(), want.byPair(); !reflect.DeepEqual(g, w) {
			t.Fatalf("round %d: addPackets' samples\n%v\naddPacket's\n%v", round, g, w)
		}
	}
	if usual < 1000 {
		t.Fatalf("%d usual packets with a sample: the usual case is not tested", usual)
	}
}

// The clock sample's packets collected on two goroutines (samplePacketsIn, split: the fingerprints
// worked out in two halves of the frames, then the packets of each half of the fingerprints) are
// those of one pass, on every lab scenario and generated captures, whatever their number of frames.
func TestSamplePacketsSplitAll(t *testing.T) {
	splitWorlds(t, func(t *testing.T, w *world) {
		edge, total, _ := w.clockEdges()
		refs := w.sampleRefs(edge, sampleRate(total))
		n := min(total, maxClockSamples)
		one := byFingerprint(t, w.samplePacketsIn(refs, n, false))
		two := byFingerprint(t, w.samplePacketsIn(refs, n, true))
		if !reflect.DeepEqual(one, two) {
			t.Fatalf("%d packets in one pass, %d on two goroutines, or they differ", len(one), len(two))
		}
	})
}

// fpOrderHalf's two halves, one after the other, are fpOrder's list: fingerprints spread, and
// crowded into few buckets (which sends a half to pdqsort).
func TestFpOrderHalf(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 8))
	for n := range 300 {
		for _, crowd := range []uint{0, 20, 62} {
			list := make([]fpPkt, n)
			used := map[uint64]bool{}
			for i := range list {
				fp := rng.Uint64()
				fp = fp&(1<<63) | fp&(1<<63-1)>>crowd // the top bit kept, the rest crowded
				for used[fp] {
					fp++
				}
				used[fp] = true
				list[i] = fpPkt{fp, &clockPkt{sender: i}}
			}
			got := append(fpOrderHalf(list, 0), fpOrderHalf(list, 1)...)
			if want := fpOrder(list); !reflect.DeepEqual(got, want) && n > 0 {
				t.Fatalf("n %d, crowded by %d bits: the halves' order is not fpOrder's", n, crowd)
			}
		}
	}
}
