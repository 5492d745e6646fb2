package correlate

import (
	"reflect"
	"runtime"
	"slices"
	"testing"
	"unsafe"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// rangesCapture is a generated many-flow capture with more flows than deriveAll computes on one
// goroutine, with loss, duplicates, DNAT and TCP handshakes.
func rangesCapture(t *testing.T) []string {
	t.Helper()
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = deriveParMin+1000, 4*(deriveParMin+1000)
	cfg.LossPerHop, cfg.DupRate, cfg.DNAT = 0.01, 0.01, 0.2
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g.Files
}

// deriveAll gives the same flowsDerived on one goroutine and on several (each with its own range of
// the flows and handshake RTTs, joined after).
func TestDeriveAllParallel(t *testing.T) {
	res := Correlate(decode.Load(rangesCapture(t), decode.Options{}, decode.PointConfig{}), Options{StreamFlows: true})
	a := res.analysis
	if len(a.flows) < deriveParMin {
		t.Fatalf("%d flows, want at least %d", len(a.flows), deriveParMin)
	}
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	want := derivedOf(t, a, a.deriveAll())
	for _, procs := range []int{2, 3, 4} {
		runtime.GOMAXPROCS(procs)
		if got := derivedOf(t, a, a.deriveAll()); !reflect.DeepEqual(got, want) {
			t.Errorf("GOMAXPROCS %d: the flows derived differ from one goroutine's", procs)
		}
	}
}

// derived is one flow's flowDerived with its handshake RTTs.
type derived struct {
	lat               Latency
	pairs, unanswered int32
	hs                []PointRTT
}

// derivedOf lists what fd holds of each of a's flows, by rank, with the handshake RTTs from its
// block; it fails when no flow has one.
func derivedOf(t *testing.T, a *analysis, fd *flowsDerived) []derived {
	out := make([]derived, len(fd.at))
	n := 0
	for fi := range a.flows {
		d := &fd.at[a.rank[fi]]
		hs := fd.hsBlock(fi)[d.hsFrom:d.hsTo]
		n += len(hs)
		out[a.rank[fi]] = derived{d.lat, d.pairs, d.unanswered, slices.Clone(hs)}
	}
	if n == 0 {
		t.Fatal("no handshake RTTs")
	}
	return out
}

// A FlowRanges' cursors render EachFlow's flows, whatever the ranges and however many cursors take
// them at once; and a stop after k flows hands over k.
func TestFlowRangesSameFlows(t *testing.T) {
	res, want := streamedAndListed(t, rangesCapture(t))
	fr := res.FlowRanges()
	if fr.Len() != len(want) {
		t.Fatalf("Len %d, want %d", fr.Len(), len(want))
	}
	for _, step := range []int{1, 7, 256, len(want)} {
		got := make([][]Flow, (len(want)+step-1)/step)
		done := make(chan bool)
		for w := range 3 { // three cursors, each taking every third range
			go func() {
				cur := fr.Cursor()
				for k := w; k < len(got); k += 3 {
					cur.Each(k*step, min((k+1)*step, len(want)), func(f *Flow) bool {
						got[k] = append(got[k], flowCopy(f))
						return true
					})
				}
				done <- true
			}()
		}
		for range 3 {
			<-done
		}
		if all := slices.Concat(got...); !reflect.DeepEqual(all, want) {
			t.Errorf("ranges of %d: the flows differ from the listed ones", step)
		}
	}
	k := 0
	if fr.Cursor().Each(0, len(want), func(*Flow) bool { k++; return k < 5 }) || k != 5 {
		t.Errorf("a stop after 5 flows: %d flows handed over", k)
	}
}

// A JourneyRanges' cursors render EachJourney's journeys, whatever the ranges.
func TestJourneyRangesSameJourneys(t *testing.T) {
	eachLabScenario(t, func(t *testing.T, files []string) {
		res := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{Lean: true})
		var want []Journey
		res.EachJourney(func(j *Journey) bool {
			want = append(want, journeyCopy(j))
			return true
		})
		jr := res.JourneyRanges()
		for _, step := range []int{1, 3, jr.Len() + 1} {
			var got []Journey
			cur := jr.Cursor()
			for from := 0; from < jr.Len(); from += step {
				cur.Each(from, min(from+step, jr.Len()), func(j *Journey) bool {
					got = append(got, journeyCopy(j))
					return true
				})
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ranges of %d: %d journeys differ from EachJourney's %d", step, len(got), len(want))
			}
		}
	})
}

// journeyCopy copies a journey that EachJourney lends: its hops are rendered into again.
func journeyCopy(j *Journey) Journey {
	c := *j
	c.Hops = slices.Clone(j.Hops)
	return c
}

// hsBlock finds each flow's block of handshake RTTs as deriveAll splits the flows: block p holds
// flows [p*n/P, (p+1)*n/P).
func TestHSBlock(t *testing.T) {
	for n := 1; n <= 300; n++ {
		for parts := 1; parts <= 8; parts++ {
			fd := &flowsDerived{at: make([]flowDerived, n), hs: make([][]PointRTT, parts)}
			for p := range parts {
				fd.hs[p] = []PointRTT{{RTT: int64(p)}}
			}
			for p := range parts {
				for fi := p * n / parts; fi < (p+1)*n/parts; fi++ {
					if got := fd.hsBlock(fi)[0].RTT; got != int64(p) {
						t.Fatalf("%d flows in %d blocks: flow %d in block %d, want %d", n, parts, fi, got, p)
					}
				}
			}
		}
	}
}

// deriveAll's block of handshake RTTs is made with room for one a TCP flow and doubles when short,
// rather than growing by append, a quarter at a time once large, where each step is allocated while
// the flows are written out with no collection to take the old ones back: what deriveAll allocates
// beside its flowDerived is at most twice what the block holds (here more than its first room).
func TestDeriveAllHandshakeBlock(t *testing.T) {
	res := Correlate(decode.Load(rangesCapture(t), decode.Options{}, decode.PointConfig{}), Options{StreamFlows: true})
	a := res.analysis
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fd := a.deriveAll()
	runtime.ReadMemStats(&after)
	tcp, n := 0, len(fd.hs[0])
	for _, fl := range a.flows {
		if fl.client.proto == 6 {
			tcp++
		}
	}
	if n <= tcp {
		t.Fatalf("%d handshake RTTs for %d TCP flows: the block never grew", n, tcp)
	}
	rtt, at := uint64(unsafe.Sizeof(PointRTT{})), uint64(unsafe.Sizeof(flowDerived{}))*uint64(len(fd.at))
	got := after.TotalAlloc - before.TotalAlloc - at
	if limit := uint64(2*n)*rtt + 4096; got > limit {
		t.Errorf("deriveAll allocated %d bytes beside its %d of flowDerived, for %d handshake RTTs of %d TCP flows: want at most %d",
			got, at, n, tcp, limit)
	}
	t.Logf("%d bytes beside the flowDerived for %d handshake RTTs (%d bytes each) of %d TCP flows", got, n, rtt, tcp)
}
