package correlate

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// labClock is the clock testdata/lab/pcapshift simulates (its own code there, this the tests'): the
// time a node's clock shows at true time t, with t0 the earliest frame of all.
type labClock struct {
	step, stepAt    time.Duration
	slewPPM         float64
	slewAt, slewFor time.Duration
}

func (c labClock) at(t, t0 int64) int64 {
	d, since := 0.0, t-t0
	if c.step != 0 && since >= int64(c.stepAt) {
		d += float64(c.step)
	}
	if c.slewPPM != 0 && since >= int64(c.slewAt) {
		d += float64(min(since-int64(c.slewAt), int64(c.slewFor))) * c.slewPPM / 1e6
	}
	return t + int64(math.Round(d))
}

func (c labClock) String() string {
	if c.step != 0 {
		return "step " + fmtStep(int64(c.step)) + " at " + c.stepAt.String()
	}
	if c.slewPPM == 0 {
		return "unshifted"
	}
	return "slew " + strconv.FormatFloat(c.slewPPM, 'f', -1, 64) + " ppm for " + c.slewFor.String() + " at " + c.slewAt.String()
}

// clockLab is driftLab with node's captures given clock c.
func clockLab(t *testing.T, src, node string, c labClock) ([]string, map[string][]int64) {
	t.Helper()
	return clockLabNodes(t, src, []string{node}, c)
}

// clockLabNodes is clockLab with the captures of each of nodes given clock c (one time service
// stepping them all at one moment).
func clockLabNodes(t *testing.T, src string, nodes []string, c labClock) ([]string, map[string][]int64) {
	t.Helper()
	pcaps, _ := filepath.Glob(filepath.Join(src, "*.pcap"))
	orig := map[string][]int64{}
	t0 := int64(0)
	for _, p := range pcaps {
		orig[filepath.Base(p)] = recordTimes(t, p)
		for _, ts := range orig[filepath.Base(p)] {
			if t0 == 0 || ts < t0 {
				t0 = ts
			}
		}
	}
	dir := t.TempDir()
	var paths []string
	for _, p := range pcaps {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(nodes, func(n string) bool { return strings.HasPrefix(filepath.Base(p), n+"-") }) {
			shiftCaptureBy(t, b, func(ts int64) int64 { return c.at(ts, t0) })
		}
		q := filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(q, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, q)
	}
	return paths, orig
}

// TestOneSidedStepLab: a clock bounded on one side only (state-neigh-failed's node-b, which only
// ever receives from node-a; oneway's ext-1, bounded from node-a's packets only) that steps by 2 ms
// during the capture, or is slewed at 20,000 ppm for 100 ms (chrony's way), as pcapshift -step and
// -slew-ppm simulate it. Taken at the tightest line within 500 ppm, node-b's clock gave "lower bounds"
// up to 1.45 ms above the true latencies (19 µs). Every latency calipath gives as a bound must hold
// against the truth (each packet's frames' times in the unshifted files: one kernel clock), or be
// withheld (clock bound none) with a clock-step warning at the node that says its limits jump and
// how to bound it; the unshifted captures show no jump and keep their bounds.
func TestOneSidedStepLab(t *testing.T) {
	for _, sc := range []struct {
		scenario, node, by string
		at                 time.Duration // about the middle of the capture
	}{
		{"state-neigh-failed", "node-b", "node-a", 2500 * time.Millisecond},
		{"oneway", "ext-1", "node-a", time.Second},
	} {
		src := filepath.Join("../testdata/lab/scenarios", sc.scenario)
		if _, err := os.Stat(filepath.Join(src, "k8s")); err != nil {
			t.Skipf("no %s lab scenario", sc.scenario)
		}
		for _, c := range []labClock{
			{},
			{step: 2 * time.Millisecond, stepAt: sc.at},
			{step: -2 * time.Millisecond, stepAt: sc.at},
			{slewPPM: 20000, slewAt: sc.at, slewFor: 100 * time.Millisecond},
			{slewPPM: -20000, slewAt: sc.at, slewFor: 100 * time.Millisecond},
		} {
			name := sc.scenario + " " + sc.node + " " + c.String()
			all, orig := clockLab(t, src, sc.node, c)
			var paths []string
			for _, p := range all {
				if !strings.HasSuffix(p, "-any.pcap") { // one sighting per path point
					paths = append(paths, p)
				}
			}
			cfg, m := labK8sConfig(t, src, decode.PointConfig{})
			r := Correlate(decode.Load(paths, decode.Options{}, cfg), Options{Cluster: m, Journeys: true})
			const tol = int64(2 * time.Microsecond) // the files' microseconds, rounded twice
			bounds, none := 0, 0
			for _, j := range r.Journeys {
				for i := 1; i < len(j.Hops); i++ {
					h0, h1 := &j.Hops[i-1], &j.Hops[i]
					a, b := orig[filepath.Base(h0.File)], orig[filepath.Base(h1.File)]
					if h0.Frame == 0 || h1.Frame == 0 || int(h0.Frame) > len(a) || int(h1.Frame) > len(b) {
						t.Fatalf("%s: hop frames %s:%d %s:%d out of range", name, h0.File, h0.Frame, h1.File, h1.Frame)
					}
					truth := b[h1.Frame-1] - a[h0.Frame-1]
					bad := false
					switch h1.ClockBound {
					case BoundLower:
						bounds++
						bad = h1.DeltaNs > truth+tol
					case BoundUpper:
						bounds++
						bad = h1.DeltaNs < truth-tol
					case BoundNone:
						none++
					}
					if bad {
						t.Errorf("%s: %s:%d → %s:%d: %s bound %v, true latency %v", name, filepath.Base(h0.File), h0.Frame,
							filepath.Base(h1.File), h1.Frame, h1.ClockBound, time.Duration(h1.DeltaNs), time.Duration(truth))
					}
				}
			}
			var said *Anomaly
			for i, a := range r.Anomalies {
				if a.Kind == "clock-step" && a.Where.Node == sc.node && strings.Contains(a.Message, "limits jump") {
					said = &r.Anomalies[i]
				}
			}
			for _, sg := range r.Segments {
				if sg.ClockBound == BoundNone && strings.Contains(sg.ClockNote, "limits jump") && strings.HasSuffix(sg.ClockNote, ".") {
					t.Errorf("%s: %s → %s: the note ends in a full stop the tables add too: %s", name, sg.From, sg.To, sg.ClockNote)
				}
			}
			if c == (labClock{}) {
				if said != nil || bounds == 0 {
					t.Errorf("%s: %d bounds given, jump said: %v, want bounds and no jump", name, bounds, said)
				}
				continue
			}
			if said == nil {
				t.Errorf("%s: no clock-step warning at %s that its limits jump (%d bounds given, %d withheld)", name,
					sc.node, bounds, none)
				continue
			}
			if checkOrderUnsure(t, name, r, orig) == 0 {
				t.Errorf("%s: no sightings across %s said uncertain in order", name, sc.node)
			}
			for _, want := range []string{"both ways", "a ping from " + sc.node + " to " + sc.by, "--offset " + sc.node + "="} {
				if !strings.Contains(said.Next, want) {
					t.Errorf("%s: the fix lacks %q: %s", name, want, said.Next)
				}
			}
		}
	}
}

// TestOneSidedStepChainLab: a clock bounded through another one-sided clock whose limits jump
// (ipip-input-drop's node-b and two-routers-drop-r2's router-2, each bounded through router-1, itself
// bounded from node-a's packets only). router-1 and the node behind it step together (one time service
// stepping both, as pcapshift -step simulates it): router-1's limits jump, the other's, taken through
// router-1's clock as set, do not, so the chain is the only thing that can say the latencies between
// node-a and that node are no bounds. Every time between two sightings of a packet on two nodes that
// calipath gives as a bound must hold against the truth (the unshifted files: one kernel clock), and
// those between node-a and the node behind router-1 are withheld, with a note that names router-1.
// Without the chain rule (chainNext ending a chain at a clock whose limits jump, the nodes at the ends
// checked alone) they were lower bounds up to 1.59 ms above the true times (48 of them wrong).
func TestOneSidedStepChainLab(t *testing.T) {
	for _, sc := range []struct{ scenario, node string }{
		{"ipip-input-drop", "node-b"},
		{"two-routers-drop-r2", "router-2"},
	} {
		src := filepath.Join("../testdata/lab/scenarios", sc.scenario)
		if _, err := os.Stat(filepath.Join(src, "k8s")); err != nil {
			t.Skipf("no %s lab scenario", sc.scenario)
		}
		for _, c := range []labClock{
			{step: 2 * time.Millisecond, stepAt: 2 * time.Second},
			{step: -2 * time.Millisecond, stepAt: 2 * time.Second},
		} {
			name := sc.scenario + " router-1 and " + sc.node + " " + c.String()
			all, orig := clockLabNodes(t, src, []string{"router-1", sc.node}, c)
			var paths []string
			for _, p := range all {
				if !strings.HasSuffix(p, "-any.pcap") {
					paths = append(paths, p)
				}
			}
			cfg, m := labK8sConfig(t, src, decode.PointConfig{})
			r := Correlate(decode.Load(paths, decode.Options{}, cfg), Options{Cluster: m, Journeys: true})
			a := r.analysis
			na, r1, n := a.nodeIndex("node-a/"), a.nodeIndex("router-1/"), a.nodeIndex(sc.node+"/")
			if na < 0 || r1 < 0 || n < 0 {
				t.Fatalf("%s: nodes node-a %d, router-1 %d, %s %d", name, na, r1, sc.node, n)
			}
			// The shape this test is about: router-1's limits jump, the node's come through router-1 and do not.
			if cn := &a.clocks[n]; !a.clocks[r1].jumped || cn.jumped || cn.open == sideNone || cn.openVia-1 != r1 {
				t.Fatalf("%s: router-1 jumped %v; %s open %v via %d jumped %v: not a chain through a jump", name,
					a.clocks[r1].jumped, sc.node, cn.open, cn.openVia-1, cn.jumped)
			}
			const tol = int64(2 * time.Microsecond)
			bounds, withheld := 0, 0
			for _, j := range r.Journeys {
				for i := range j.Hops {
					for k := i + 1; k < len(j.Hops); k++ {
						h0, h1 := &j.Hops[i], &j.Hops[k]
						x, y := a.nodeIndex(h0.Point), a.nodeIndex(h1.Point)
						if x == y {
							continue
						}
						b0, b1 := orig[filepath.Base(h0.File)], orig[filepath.Base(h1.File)]
						if h0.Frame == 0 || h1.Frame == 0 || int(h0.Frame) > len(b0) || int(h1.Frame) > len(b1) {
							t.Fatalf("%s: hop frames %s:%d %s:%d out of range", name, h0.File, h0.Frame, h1.File, h1.Frame)
						}
						truth, got := b1[h1.Frame-1]-b0[h0.Frame-1], h1.Ts-h0.Ts
						bound := r.ClockBound(h0.Point, h1.Point)
						bad := false
						switch bound {
						case BoundLower:
							bounds++
							bad = got > truth+tol
						case BoundUpper:
							bounds++
							bad = got < truth-tol
						case BoundNone:
							if (x == na && y == n) || (x == n && y == na) {
								withheld++
							}
						}
						if bad {
							t.Errorf("%s: %s:%d → %s:%d: %s bound %v, true time %v", name, filepath.Base(h0.File), h0.Frame,
								filepath.Base(h1.File), h1.Frame, bound, time.Duration(got), time.Duration(truth))
						}
						if (x == na && y == n) || (x == n && y == na) {
							if bound != BoundNone {
								t.Errorf("%s: %s → %s given as a %s bound (%v): its clock is bounded through router-1's, whose limits jump",
									name, h0.Point, h1.Point, bound, time.Duration(got))
							}
						}
					}
				}
			}
			if withheld == 0 || bounds == 0 {
				t.Errorf("%s: %d times between node-a and %s withheld, %d bounds given: want some of each", name, withheld, sc.node, bounds)
			}
			if checkOrderUnsure(t, name, r, orig) == 0 {
				t.Errorf("%s: no sightings across router-1 and %s said uncertain in order", name, sc.node)
			}
			bound, note := a.nodeClock(na, n)
			if bound != BoundNone || !strings.Contains(note, "router-1") || !strings.Contains(note, "limits jump") {
				t.Errorf("%s: node-a → %s: %s, %q: want none, naming router-1 and its limits' jump", name, sc.node, bound, note)
			}
		}
	}
}

// checkOrderUnsure checks, for every two sightings of a packet on two nodes one of which has a clock
// whose times may be off beyond its bound (Clock.OrderUnsureNs), that the time between them is off the
// truth (orig: the unshifted files' times) by no more than the greater of the two: what the order
// notes say ("order across node-b uncertain by up to X"). It returns how many such pairs there were.
func checkOrderUnsure(t *testing.T, name string, r *Result, orig map[string][]int64) int {
	t.Helper()
	unsure := map[string]int64{}
	for _, c := range r.Clocks {
		unsure[c.Node] = c.OrderUnsureNs
	}
	const tol = int64(2 * time.Microsecond)
	n, worst := 0, int64(0)
	for _, j := range r.Journeys {
		for i := range j.Hops {
			for k := i + 1; k < len(j.Hops); k++ {
				h0, h1 := &j.Hops[i], &j.Hops[k]
				x, _, _ := strings.Cut(h0.Point, "/")
				y, _, _ := strings.Cut(h1.Point, "/")
				u := max(unsure[x], unsure[y])
				if x == y || u == 0 {
					continue
				}
				n++
				b0, b1 := orig[filepath.Base(h0.File)], orig[filepath.Base(h1.File)]
				off := h1.Ts - h0.Ts - (b1[h1.Frame-1] - b0[h0.Frame-1])
				worst = max(worst, off, -off)
				if off > u+tol || off < -u-tol {
					t.Errorf("%s: %s:%d → %s:%d off the truth by %v, beyond the %v the order note says", name, filepath.Base(h0.File),
						h0.Frame, filepath.Base(h1.File), h1.Frame, time.Duration(off), time.Duration(u))
				}
			}
		}
	}
	return n
}
