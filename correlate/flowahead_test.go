package correlate

import (
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// flowCopy copies a flow that EachFlow lends: its lists are pieces of arrays rendered into again.
func flowCopy(f *Flow) Flow {
	c := *f
	c.PerPoint = append([]PointCount(nil), f.PerPoint...)
	c.HandshakeRTT = append([]PointRTT(nil), f.HandshakeRTT...)
	c.LostAt = append([]LostAt(nil), f.LostAt...)
	c.NAT = append([]NATMapping(nil), f.NAT...)
	c.Path = append([]string(nil), f.Path...)
	return c
}

// streamedAndListed correlates files twice: with the flows streamed, and with them listed (the
// reference, in the order of their ids).
func streamedAndListed(t *testing.T, files []string) (*Result, []Flow) {
	t.Helper()
	streamed := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{StreamFlows: true})
	if !streamed.FlowsStreamed() {
		t.Fatal("the flows were not streamed")
	}
	listed := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	want := make([]Flow, len(listed.Flows))
	for i := range listed.Flows {
		want[i] = flowCopy(&listed.Flows[i])
	}
	return streamed, want
}

// checkFlowsAhead compares the flows eachFlowAhead hands over, n to a batch, and EachFlow's at
// several GOMAXPROCS, with the listed flows: the same flows in the same order.
func checkFlowsAhead(t *testing.T, res *Result, want []Flow) {
	t.Helper()
	collect := func(each func(func(*Flow) bool)) []Flow {
		var got []Flow
		each(func(f *Flow) bool {
			got = append(got, flowCopy(f))
			return true
		})
		return got
	}
	compare := func(name string, got []Flow) {
		if len(got) != len(want) {
			t.Fatalf("%s: %d flows, want %d", name, len(got), len(want))
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("%s: flow %d:\n got %+v\nwant %+v", name, i, got[i], want[i])
			}
		}
	}
	for _, n := range []int{1, 2, 7, flowAheadBatch} {
		compare(fmt.Sprintf("batches of %d", n), collect(func(fn func(*Flow) bool) { res.analysis.eachFlowAhead(fn, n) }))
	}
	for _, procs := range []int{1, 2, 4} {
		old := runtime.GOMAXPROCS(procs)
		got := collect(res.EachFlow)
		runtime.GOMAXPROCS(old)
		compare(fmt.Sprintf("GOMAXPROCS %d", procs), got)
	}
}

// The flows rendered ahead on another goroutine (eachFlowAhead) are EachFlow's: the same flows in
// the order of their ids, whatever the batch size and the number of cores, on a generated many-flow
// capture with NAT, loss and TCP handshakes; and a stop after k flows hands over k.
func TestEachFlowAheadSameResult(t *testing.T) {
	res, want := streamedAndListed(t, genLossyNAT(t, 3000, 12000))
	if len(want) < 3*flowAheadBatch {
		t.Fatalf("%d flows: too few for several batches", len(want))
	}
	checkFlowsAhead(t, res, want)
	for _, stop := range []int{1, 5, flowAheadBatch + 3} {
		k := 0
		res.analysis.eachFlowAhead(func(f *Flow) bool {
			if !reflect.DeepEqual(flowCopy(f), want[k]) {
				t.Fatalf("flow %d differs", k)
			}
			k++
			return k < stop
		}, 7)
		if k != stop {
			t.Errorf("a stop after %d flows: %d flows handed over", stop, k)
		}
	}
}

// Likewise on every lab scenario (their flows are few: batches of one and two matter there).
func TestEachFlowAheadLab(t *testing.T) {
	eachLabScenario(t, func(t *testing.T, files []string) {
		res, want := streamedAndListed(t, files)
		checkFlowsAhead(t, res, want)
	})
}

// BenchmarkPerFlowStreamed is BenchmarkPerFlow as `report --format json` runs it: the flows streamed
// (Options.StreamFlows) and walked once with EachFlow, each rendered. Run with -cpu 1,2 to weigh what
// the stages' goroutines (the voter, the segment counter, the flows rendered ahead) gain on two cores.
func BenchmarkPerFlowStreamed(b *testing.B) {
	c := perFlowCapture(b)
	keep := c.Loose
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		freshLoose(c, keep)
		b.StartTimer()
		res := Correlate(c, Options{Lean: true, StreamFlows: true})
		n := perPointsWalked(res)
		if res.Summary.Flows < 20000 || n < res.Summary.Flows {
			b.Fatalf("%d flows, %d points counted, want at least 20,000 flows", res.Summary.Flows, n)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)*24000/b.Elapsed().Seconds(), "flows/s")
}

// perPointsWalked walks res's flows once with EachFlow, as the JSON writer does, and returns the
// per-point entries it saw (a benchmark's check that every flow was rendered).
func perPointsWalked(res *Result) int {
	n := 0
	res.EachFlow(func(f *Flow) bool {
		n += len(f.PerPoint)
		return true
	})
	return n
}

// flowAt sets every field of the Flow it fills (it clears only those it sets for some flows alone,
// clearOptional): each flow rendered into a Flow whose every field holds something is the flow
// rendered into a zero Flow, on every lab scenario and a generated many-flow capture with NAT, loss,
// TCP handshakes and a clock offset.
func TestFlowAtOverwrites(t *testing.T) {
	check := func(t *testing.T, files []string) {
		res := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{StreamFlows: true})
		a := res.analysis
		ob := newFlowOutBuf(a, false)
		ob.derived = a.deriveAll()
		for _, fi := range a.byRank {
			var zero, full Flow
			fillFields(reflect.ValueOf(&full).Elem())
			ob.pp, ob.hs = ob.pp[:0], ob.hs[:0]
			a.flowAt(&zero, ob, int(fi), a.ids)
			want := flowCopy(&zero)
			ob.pp, ob.hs = ob.pp[:0], ob.hs[:0]
			a.flowAt(&full, ob, int(fi), a.ids)
			if got := flowCopy(&full); !reflect.DeepEqual(got, want) {
				t.Fatalf("flow %d rendered over a full Flow:\n%+v\nwant\n%+v", fi, got, want)
			}
		}
	}
	eachLabScenario(t, check)
	check(t, genLossyNAT(t, 300, 3000))
}

// genLossyNAT generates a many-flow capture of flows flows and packets packets with NAT, loss,
// duplicates and a clock offset, and returns its files.
func genLossyNAT(t *testing.T, flows, packets int) []string {
	t.Helper()
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = flows, packets
	cfg.LossPerHop, cfg.DupRate, cfg.DNAT = 0.01, 0.01, 0.2
	cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g.Files
}

// fillFields sets every field of v (a struct, recursively) to something that is not its zero value.
func fillFields(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fillFields(v.Field(i))
		}
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fillFields(v.Index(0))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillFields(v.Elem())
	default:
		panic("fillFields: " + v.Kind().String())
	}
}
