package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// withJSONPar sets how many workers format the JSON's long lists, in chunks of how many elements.
func withJSONPar(workers, chunk int) Option {
	return func(o *Options) { o.jsonPar = jsonPar{workers: workers, chunk: chunk} }
}

// jsonPars are the ways of formatting the long lists that must all give the one-worker bytes: chunks
// of a few elements, so that a small Result has many, and the default chunk.
var jsonPars = []jsonPar{{1, jsonParChunk}, {2, 1}, {2, 3}, {4, 2}, {4, 7}, {2, jsonParChunk}, {4, jsonParChunk}}

// parManyFlows is a streamed many-flow Result with loss, duplicates and DNAT (2,000 flows).
func parManyFlows(t testing.TB) *correlate.Result {
	c := decode.Load(manyFlowsCaps(t, 2000, 9000, true), decode.Options{}, decode.PointConfig{})
	res := correlate.Correlate(c, correlate.Options{Lean: true, StreamFlows: true})
	if !res.FlowsStreamed() || res.Summary.Flows < 1500 {
		t.Fatalf("%d flows (streamed %v), want at least 1,500 streamed", res.Summary.Flows, res.FlowsStreamed())
	}
	return res
}

// manyFlowsCaps generates the captures of a many-flow mix of flows over packets on two nodes of 16
// pods, with loss, duplicates and DNAT when lossy, and returns their paths.
func manyFlowsCaps(t testing.TB, flows, packets int, lossy bool) []string {
	cfg := gen.DefaultConfig()
	cfg.Mix = gen.MixManyFlows
	cfg.Nodes, cfg.PodsPerNode = 2, 16
	cfg.Flows, cfg.Packets = flows, packets
	if lossy {
		cfg.LossPerHop, cfg.DupRate, cfg.DNAT = 0.01, 0.02, 0.2
	}
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g.Files
}

// samePar checks that res's JSON (with and without --journeys) is byte for byte the same whatever
// the workers and chunks.
func samePar(t *testing.T, name string, res *correlate.Result) {
	t.Helper()
	for _, journeys := range []bool{false, true} {
		var want []byte
		for _, p := range jsonPars {
			var out bytes.Buffer
			if err := New(&out, WithFormat(JSON), WithJourneys(journeys), withJSONPar(p.workers, p.chunk)).Print(res); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if want == nil {
				want = out.Bytes()
				continue
			}
			if i := firstDiff(want, out.Bytes()); i >= 0 {
				t.Errorf("%s --journeys %v, %d workers, chunks of %d: differs from one worker at byte %d (%d bytes, want %d)",
					name, journeys, p.workers, p.chunk, i, out.Len(), len(want))
			}
		}
	}
}

// firstDiff is the first byte at which a and b differ, -1 when they are equal.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestJSONParallelSameBytes checks that the JSON of a streamed many-flow Result, and of every lab
// scenario correlated as `report --format json` does, is the same with 1, 2 and 4 workers and
// chunks of any size: the chunks are written in order, the first element's comma becomes the '['.
func TestJSONParallelSameBytes(t *testing.T) {
	samePar(t, "many flows", parManyFlows(t))
	for _, name := range labScenarios() {
		c := scenarioCapture(t, name)
		samePar(t, name, correlate.Correlate(c, correlate.Options{Lean: true, StreamFlows: true}))
	}
}

// stopWriter fails every write from the one that would take it past n bytes, and counts the writes
// tried after the first failure.
type stopWriter struct {
	n, after int
	failed   bool
}

var errStopWriter = errors.New("no space left on device")

func (s *stopWriter) Write(b []byte) (int, error) {
	if s.failed {
		s.after++
		return 0, errStopWriter
	}
	if s.n -= len(b); s.n < 0 {
		s.failed = true
		return 0, errStopWriter
	}
	return len(b), nil
}

// TestJSONParallelWriteError checks that a write error in the middle of the flows stops the writing
// on several workers: Print returns it, nothing more is written after it, and no worker is left
// running.
func TestJSONParallelWriteError(t *testing.T) {
	res := parManyFlows(t)
	before := runtime.NumGoroutine()
	for _, p := range jsonPars[1:] {
		for _, at := range []int{0, 100, 200_000, 1_000_000} {
			w := &stopWriter{n: at}
			err := New(w, WithFormat(JSON), WithJourneys(true), withJSONPar(p.workers, p.chunk)).Print(res)
			if !errors.Is(err, errStopWriter) || w.after != 0 {
				t.Errorf("%d workers, chunks of %d, failing after %d bytes: Print = %v, %d writes after the failure; want the write error and none",
					p.workers, p.chunk, at, err, w.after)
			}
		}
	}
	if n := settledGoroutines(before); n > before {
		t.Errorf("%d goroutines after the failed writes, %d before", n, before)
	}
}

// settledGoroutines is the number of goroutines once it is no more than want, or after a second.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

// TestJSONParallelPanic checks that a worker's panic is raised again on the writing goroutine once
// every worker has stopped.
func TestJSONParallelPanic(t *testing.T) {
	before := runtime.NumGoroutine()
	e := newJSONEnc(io.Discard)
	e.par = jsonPar{workers: 3, chunk: 2}
	got := func() (p any) {
		defer func() { p = recover() }()
		e.parList(50, func() parFormat {
			return func(c *jsonEnc, from, to int) int {
				if from >= 20 {
					panic(fmt.Sprintf("chunk at %d", from))
				}
				c.member('[', false)
				c.num(int64(from))
				return 1
			}
		}, func() {})
		return nil
	}()
	var at int // the writer waits for chunk 10 (at 20): the six buffers hold chunks 10 to 15 at most
	if s, ok := got.(string); !ok || func() bool { _, err := fmt.Sscanf(s, "chunk at %d", &at); return err != nil }() || at < 20 || at > 30 {
		t.Errorf("parList raised %v, want a worker's panic", got)
	}
	if n := settledGoroutines(before); n > before {
		t.Errorf("%d goroutines after the panic, %d before", n, before)
	}
}

// TestJSONParallelStopsFormatting checks that a write error stops the workers, not only the writing:
// after the first chunk fails to be written, a worker formats no more than the chunks its buffers
// hold, of thousands. Each chunk is a write unit long, so that it is written as it comes, not kept
// in the buffer.
func TestJSONParallelStopsFormatting(t *testing.T) {
	e := newJSONEnc(&stopWriter{n: 0})
	e.par = jsonPar{workers: 2, chunk: 1}
	var formatted atomic.Int32
	pad := strings.Repeat(" ", jsonWriteUnit)
	e.parList(10000, func() parFormat {
		return func(c *jsonEnc, from, to int) int {
			formatted.Add(1)
			c.member('[', false)
			c.num(int64(from))
			c.run(pad)
			return 1
		}
	}, func() {})
	if !errors.Is(e.err, errStopWriter) || formatted.Load() > 4*2 {
		t.Errorf("error %v after %d chunks formatted; want the write error after at most 8", e.err, formatted.Load())
	}
}

// BenchmarkJSONWriter weighs the JSON writer on the streamed flows of BenchmarkStreamedFlowsJSON's
// capture (24,000 flows), written to a file (write(2) included) and to io.Discard: "serial" is one
// goroutine formatting and writing (the flows rendered ahead by another on more than one core),
// "parallel" the default, one worker a core formatting chunks written in order (the same as serial
// on one core), with the CPU time they take in user and system mode. Run with -cpu 1,2.
// CALIPATH_BENCH_DIR keeps the captures between runs.
func BenchmarkJSONWriter(b *testing.B) {
	res := perFlowBenchResult(b)
	path := filepath.Join(b.TempDir(), "out.json")
	for _, how := range []struct {
		name string
		opt  Option
	}{{"serial", withJSONPar(1, jsonParChunk)}, {"parallel", func(*Options) {}}} {
		for _, to := range []string{"file", "discard"} {
			b.Run(how.name+"/"+to, func(b *testing.B) {
				var size countWriter
				if err := New(&size, WithFormat(JSON)).Print(res); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				u0, s0 := cpuTimes()
				for b.Loop() {
					benchWriteJSON(b, res, to == "file", path, how.opt)
				}
				u1, s1 := cpuTimes()
				b.ReportMetric(float64((u1-u0).Microseconds())/1000/float64(b.N), "user-ms/op")
				b.ReportMetric(float64((s1-s0).Microseconds())/1000/float64(b.N), "sys-ms/op")
			})
		}
	}
}

// benchWriteJSON writes res's JSON with opt to a new file at path, or to io.Discard.
func benchWriteJSON(b *testing.B, res *correlate.Result, file bool, path string, opt Option) {
	if !file {
		if err := New(io.Discard, WithFormat(JSON), opt).Print(res); err != nil {
			b.Fatal(err)
		}
		return
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := New(f, WithFormat(JSON), opt).Print(res); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// TestParOfCapped: on a machine with many cores the JSON lists are formatted by at most
// jsonParMaxWorkers workers (each holds chunk buffers outside any memory limit).
func TestParOfCapped(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2 * jsonParMaxWorkers))
	if p := parOf(&Options{}); p.workers != jsonParMaxWorkers || p.chunk != jsonParChunk {
		t.Errorf("parOf at GOMAXPROCS %d = %+v, want %d workers, chunks of %d", 2*jsonParMaxWorkers, p, jsonParMaxWorkers, jsonParChunk)
	}
	runtime.GOMAXPROCS(2)
	if p := parOf(&Options{}); p.workers != 2 {
		t.Errorf("parOf at GOMAXPROCS 2 = %+v, want 2 workers", p)
	}
}

// sizeWriter keeps the bytes written and the size of each write.
type sizeWriter struct {
	bytes.Buffer
	sizes []int
}

func (s *sizeWriter) Write(b []byte) (int, error) {
	s.sizes = append(s.sizes, len(b))
	return s.Buffer.Write(b)
}

// TestJSONWritesAligned checks that every write of the JSON writer but the last is a whole number of
// jsonWriteUnit, on one worker and on several, with and without --journeys, and that the bytes are
// those of one worker.
func TestJSONWritesAligned(t *testing.T) {
	res := parManyFlows(t)
	for _, journeys := range []bool{false, true} {
		var want []byte
		for _, p := range jsonPars {
			var w sizeWriter
			if err := New(&w, WithFormat(JSON), WithJourneys(journeys), withJSONPar(p.workers, p.chunk)).Print(res); err != nil {
				t.Fatal(err)
			}
			if w.Len() < 4*jsonWriteUnit {
				t.Fatalf("%d bytes, want at least 4 write units", w.Len())
			}
			for i, n := range w.sizes[:len(w.sizes)-1] {
				if n%jsonWriteUnit != 0 {
					t.Errorf("--journeys %v, %d workers, chunks of %d: write %d of %d is %d bytes, not a whole number of %d",
						journeys, p.workers, p.chunk, i, len(w.sizes), n, jsonWriteUnit)
					break
				}
			}
			if want == nil {
				want = w.Bytes()
			} else if !bytes.Equal(w.Bytes(), want) {
				t.Errorf("--journeys %v, %d workers, chunks of %d: the bytes differ from one worker's", journeys, p.workers, p.chunk)
			}
		}
	}
}
