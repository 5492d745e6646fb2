package correlate

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// steppedFitCase gives the samples of node 1, whose clock (its step taken off) still runs ppm fast,
// with the reference node 0 and node 2 (whose clock is the reference's too) over span: 8 packets 0→1
// of 50 µs in its second half, 56 packets 2→1 throughout, the first 53 µs and the others 50 µs, and
// 32 packets 1→0 of 50 µs to 79 µs.
func steppedFitCase(span time.Duration, ppm float64) map[[2]int][]delaySample {
	us := int64(time.Microsecond)
	theta := func(x int64) int64 { return int64(float64(x) * ppm * 1e-6) }
	pairs := map[[2]int][]delaySample{}
	add := func(k [2]int, x, d int64) {
		fp := uint64(len(pairs[k]))<<8 | uint64(k[0])<<4 | uint64(k[1])
		if k[1] == 1 { // to node 1: sent at x, received on node 1's clock
			pairs[k] = append(pairs[k], delaySample{t: x, m: d + theta(x), fp: fp})
			return
		}
		pairs[k] = append(pairs[k], delaySample{t: x + theta(x), m: d - theta(x), fp: fp})
	}
	for i := range 8 {
		add([2]int{0, 1}, int64(span)/2+int64(i)*int64(span)/16, 50*us)
	}
	for i := range 56 {
		d := 50 * us
		if i == 0 {
			d += 3 * us
		}
		add([2]int{2, 1}, int64(i)*int64(span)/56, d)
	}
	for i := range 32 {
		add([2]int{1, 0}, int64(i)*int64(span)/32, 50*us+int64((i*7919+17)%30)*us)
	}
	return pairs
}

// A stepped clock is fitted as one offset over all its samples (jointFit): its offset the middle of
// the bounds of the fastest packets to it and from it, its disagreement how far they overlap. bestLine,
// called first for nothing, narrowed its slopes toward the drift the samples show and pruned, in
// place, the samples that bind no line there (pruneLine): the one offset was then fitted on what that
// left, without the packet that bound it at slope 0 (the first 2→1, 53 µs), and the node's samples
// were said to disagree by less than they do.
func TestJointFitSteppedAllSamples(t *testing.T) {
	for _, ppm := range []float64{300} {
		pairs := steppedFitCase(time.Second, ppm)
		a, b := math.Inf(1), math.Inf(-1) // θ1 ≤ m (to node 1), θ1 ≥ −m (from it): the others' offsets are 0
		for _, k := range [][2]int{{0, 1}, {2, 1}} {
			for _, s := range pairs[k] {
				a = min(a, float64(s.m))
			}
		}
		for _, s := range pairs[[2]int{1, 0}] {
			b = max(b, -float64(s.m))
		}
		w := &world{c: &decode.Capture{}, nodes: []string{"node-a", "node-b", "node-c"},
			underlays: [][]int{{0}, {1}, {2}}, tunnels: make([][]int, 3), podVeths: make([][]int, 3)}
		models := make([]clockModel, 3)
		models[2].method = "--offset"
		w.jointFit(models, pairs, 0, 0, []clockSide{sideTwo, sideTwo, sideTwo}, []bool{false, true, false})
		m := models[1]
		if want := int64(math.Round((a + b) / 2)); m.offset != want || m.drift != 0 {
			t.Errorf("%v ppm: offset %v drift %v, want %v and none (the middle of all samples' bounds)", ppm,
				time.Duration(m.offset), m.drift, time.Duration(want))
		}
		if want := max(0, int64(b-a)); m.disagree != want {
			t.Errorf("%v ppm: the samples disagree by %v, want %v", ppm, time.Duration(m.disagree), time.Duration(want))
		}
		if m.samples != 96 {
			t.Errorf("%v ppm: %d samples, want 96", ppm, m.samples)
		}
	}
}

// underlay-loss's per-interface captures of node-a and node-b (router-1's left out: the two nodes'
// packets are each other's only samples), node-a's clock running 60 ppm slow and stepped by +2 ms at
// 30% of the capture (pcapshift -drift-ppm -60 -step 2ms): calipath takes the step (-1.92 ms, put on
// node-b against the reference node-a) off and fits node-b as one offset, which no offset fits. The
// report's own latencies across the two eth0s show how far its samples disagree: the least a→b plus
// the least b→a is minus that. Before, node-b's clock said "they disagree by 250.2µs" (± 125 µs),
// while those latencies were -254.6 µs and 0: its fit had lost the samples bestLine's pruning dropped.
func TestSteppedClockDisagreeLab(t *testing.T) {
	dir := "../testdata/lab/scenarios/underlay-loss"
	all, _ := filepath.Glob(filepath.Join(dir, "node-*.pcap"))
	bufs := map[string][]byte{}
	first, last := int64(math.MaxInt64), int64(0)
	for _, p := range all {
		if strings.HasSuffix(p, "-any.pcap") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		bufs[p] = b
		shiftCaptureBy(t, b, func(ts int64) int64 { first, last = min(first, ts), max(last, ts); return ts })
	}
	if len(bufs) != 6 {
		t.Skipf("underlay-loss: %d per-interface captures of node-a and node-b, want 6", len(bufs))
	}
	at := first + (last-first)*3/10
	var paths []string
	tmp := t.TempDir()
	for p, b := range bufs {
		if strings.HasPrefix(filepath.Base(p), "node-a-") {
			shiftCaptureBy(t, b, func(ts int64) int64 {
				out := ts + int64(float64(ts-first)*-60e-6)
				if ts >= at {
					out += 2 * int64(time.Millisecond)
				}
				return out
			})
		}
		out := filepath.Join(tmp, filepath.Base(p))
		if err := os.WriteFile(out, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, out)
	}
	r := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{})
	var clock *Clock
	for i, c := range r.Clocks {
		if c.Node == "node-b" {
			clock = &r.Clocks[i]
		}
	}
	if clock == nil || !strings.Contains(clock.Method, "stepped by") || clock.DriftPPM != 0 {
		t.Fatalf("node-b's clock %+v: want one offset, stepped", clock)
	}
	least := int64(0)
	for _, s := range r.Segments {
		if (s.From == "node-a/eth0" && s.To == "node-b/eth0") || (s.From == "node-b/eth0" && s.To == "node-a/eth0") {
			least += s.LatencyNs.Min
		}
	}
	if least >= 0 {
		t.Fatalf("the least latencies across the eth0s add up to %v: no disagreement to test", time.Duration(least))
	}
	if 2*clock.BoundNs+1 < -least {
		t.Errorf("node-b's clock ± %v (%s), but the least latencies across the eth0s, each way, add up to %v",
			time.Duration(clock.BoundNs), clock.Method, time.Duration(least))
	}
}
