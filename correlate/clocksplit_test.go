package correlate

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// The clock sample's packets collected on two goroutines (half the fingerprints each) are the ones one
// pass collects: the same packets, each with the same sender, receiver and sightings.
func TestSamplePacketsSplit(t *testing.T) {
	w, edge, total := clockSampleWorld(t, 5, 0)
	refs := w.sampleRefs(edge, 1)
	if len(refs) < clockSplit {
		t.Fatalf("%d sampled frames, fewer than the %d that split the work: the test says nothing", len(refs), clockSplit)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	one := w.samplePackets(refs, total)
	runtime.GOMAXPROCS(2)
	two := w.samplePackets(refs, total)
	if len(one) == 0 || !reflect.DeepEqual(byFingerprint(t, one), byFingerprint(t, two)) {
		t.Fatalf("%d packets in one pass, %d on two goroutines, or they differ", len(one), len(two))
	}
}

// byFingerprint returns the sampled packets pkts by fingerprint, failing t if one is there twice.
func byFingerprint(t *testing.T, pkts []fpPkt) map[uint64]*clockPkt {
	t.Helper()
	m := map[uint64]*clockPkt{}
	for _, x := range pkts {
		if m[x.fp] != nil {
			t.Fatalf("fingerprint %x sampled twice", x.fp)
		}
		m[x.fp] = x.p
	}
	return m
}

// clockSampleWorld returns the world of a generated many-flow IP-in-IP capture (seed; packets, or the
// many-flow set's when 0) with losses, duplicates and node-2's clock 2 s ahead, and its clock edges
// and their frame count (clockEdges), for the tests of the clock sample's split work.
func clockSampleWorld(t *testing.T, seed uint64, packets int) (*world, []bool, int) {
	t.Helper()
	return clockSampleWorldIn(t, gen.ModeIPIP, seed, packets)
}

// clockSampleWorldIn is clockSampleWorld's capture in mode.
func clockSampleWorldIn(t *testing.T, mode gen.Mode, seed uint64, packets int) (*world, []bool, int) {
	t.Helper()
	cfg := manyFlowsConfig()
	cfg.Seed, cfg.Mode, cfg.Rate = seed, mode, 4000
	if packets > 0 {
		cfg.Packets = packets
	}
	cfg.DupRate, cfg.LossPerHop = 0.02, 0.01
	cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := worldOf(decode.Load(g.Files, decode.Options{}, decode.PointConfig{}))
	edge, total, _ := w.clockEdges()
	return w, edge, total
}

// fpIndex finds each packet by its fingerprint, whatever slots their fingerprints share: filled to
// its limit (half its slots), with fingerprints chosen to share a home slot and others to wrap
// around the end, and asked for ones it does not hold.
func TestFpIndex(t *testing.T) {
	const n = 64
	x := newFpIndex(n)
	home := func(fp uint64) int { return int(fp * 0x9e3779b97f4a7c15 >> x.shift) }
	var list []fpPkt
	want := map[uint64]*clockPkt{}
	last := len(x.slots) - 1
	for fp := uint64(1); len(list) < n; fp++ {
		// every other one shares the first's home slot or has the last slot's, the rest anywhere
		if len(list)%2 == 0 && home(fp) != home(1) && home(fp) != last {
			continue
		}
		slot := x.slot(fp, list)
		if *slot != 0 {
			t.Fatalf("fingerprint %d found before it was added", fp)
		}
		p := &clockPkt{sender: len(list)}
		list = append(list, fpPkt{fp, p})
		*slot = int32(len(list))
		want[fp] = p
	}
	c := clockPkts{list: list, idx: x}
	for fp, p := range want {
		if got := c.get(fp); got != p {
			t.Fatalf("fingerprint %d: packet %d, want %d", fp, got.sender, p.sender)
		}
	}
	for fp := uint64(1 << 40); fp < 1<<40+1000; fp++ {
		if k := *x.slot(fp, list); k != 0 {
			t.Fatalf("fingerprint %d, never added, found as packet %d", fp, k-1)
		}
	}
}

// addSamples' packets (a new packet's first sighting and a second one on another node written out,
// without addSighting's call) are those of adding each sampled frame, in order, to its packet by
// exactOf, senderNode, receiverNode and addSighting: the same senders, receivers and sightings, each
// packet ambiguous alike. On a generated capture with duplicates (a node's frame twice) and node-2's
// clock 2 s ahead, in sortRefs' order and shuffled (a packet's sightings in another order). In IP-in-IP
// mode every sampled frame is encapsulated, its nodes its header context's; in BGP mode none is, its
// nodes those of its addresses (nodeOf): each of add's two ways is held to senderNode's and
// receiverNode's.
func TestAddSamplesAsSightings(t *testing.T) {
	for _, mode := range []gen.Mode{gen.ModeIPIP, gen.ModeBGP} {
		addSamplesAsSightings(t, mode)
	}
}

// addSamplesAsSightings is TestAddSamplesAsSightings on a capture in mode.
func addSamplesAsSightings(t *testing.T, mode gen.Mode) {
	w, edge, total := clockSampleWorldIn(t, mode, 13, 30000)
	refs := w.sortRefs(w.edgeRefs(edge, 1, false))
	shuffled := slices.Clone(refs)
	rand.New(rand.NewPCG(7, 1)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for order, in := range map[string][]clockRef{"sorted": refs, "shuffled": shuffled} {
		name := fmt.Sprintf("%v %s", mode, order)
		want := map[uint64]*clockPkt{}
		third := 0 // packets seen a third time (addSighting's other cases)
		for _, r := range in {
			o := &w.c.Obs[r.f][r.i]
			lf := w.c.Loose[r.f].At(int(r.i))
			fp := w.exactOf(o, lf)
			p := want[fp]
			if p == nil {
				p = &clockPkt{sender: -1, receiver: -1, loose: lf}
				want[fp] = p
			}
			if p.sender < 0 {
				p.sender = w.senderNode(o)
			}
			if p.receiver < 0 {
				p.receiver = w.receiverNode(o)
			}
			if len(p.seen) == 2 {
				third++
			}
			p.addSighting(w.pointNode[r.point], r.ts, w.hopTTL(o), o)
		}
		got := byFingerprint(t, w.addSamples(in, total, 0, 0))
		if len(got) != len(want) || third == 0 {
			t.Fatalf("%s: %d packets, want %d; %d seen a third time", name, len(got), len(want), third)
		}
		for fp, p := range want {
			if !reflect.DeepEqual(got[fp], p) {
				t.Fatalf("%s: packet %x:\n%+v\nwant\n%+v", name, fp, got[fp], p)
			}
		}
	}
}
