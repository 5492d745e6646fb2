package correlate

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// recordTimes reads the time (Unix ns) of every record of a little-endian classic pcap file, frame
// 1 first, on its own: the truth of a test that shifts a copy of the file (no calipath code).
func recordTimes(t *testing.T, name string) []int64 {
	t.Helper()
	b, unit := readClassicPcap(t, name)
	le := binary.LittleEndian
	var ts []int64
	for off := 24; off+16 <= len(b); off += 16 + int(le.Uint32(b[off+8:])) {
		ts = append(ts, int64(le.Uint32(b[off:]))*1e9+int64(le.Uint32(b[off+4:]))*unit)
	}
	return ts
}

// readClassicPcap reads a little-endian classic pcap file (no calipath code) and returns its bytes
// and the unit of its records' fractions of a second (ns: 1000 for microsecond files, 1 for
// nanosecond ones).
func readClassicPcap(t *testing.T, name string) ([]byte, int64) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
		return b, int64(time.Microsecond)
	case 0xa1b23c4d:
		return b, 1
	}
	t.Fatalf("%s: not a little-endian classic pcap file", name)
	return nil, 0
}

// driftLab copies the captures of lab scenario src into a temporary directory, node's own with the
// clock pcapshift simulates for -offset off -drift-ppm ppm -t0 (the earliest frame of all): t' = t +
// off + (t − t0)·ppm/10⁶. It returns the copies and, by file name, the original frames' times.
func driftLab(t *testing.T, src, node string, off time.Duration, ppm float64) ([]string, map[string][]int64) {
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
		if strings.HasPrefix(filepath.Base(p), node+"-") {
			shiftCaptureBy(t, b, func(ts int64) int64 { return ts + int64(off) + int64(float64(ts-t0)*ppm/1e6) })
		}
		q := filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(q, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, q)
	}
	return paths, orig
}

// TestOneSidedDriftLab: state-neigh-failed's node-b only ever receives from node-a (its replies die
// on a failed next hop), so its clock is bounded above only, and the latencies node-a → node-b are
// lower bounds. With node-b's captures given a clock 200 ppm fast (1.1 ms over the 5.5 s capture),
// a limit taken as a constant offset (the fastest sampled packet's) fell behind node-b's clock later
// on, and the "lower bounds" of the later packets came out up to 1 ms above their true latencies.
// Each one must be at most the packet's true latency, read from the unshifted files' frame times.
func TestOneSidedDriftLab(t *testing.T) {
	src := "../testdata/lab/scenarios/state-neigh-failed"
	if _, err := os.Stat(filepath.Join(src, "k8s")); err != nil {
		t.Skip("no state-neigh-failed lab scenario")
	}
	for _, ppm := range []float64{200, -200} {
		paths, orig := driftLab(t, src, "node-b", 3*time.Millisecond, ppm)
		cfg, m := labK8sConfig(t, src, decode.PointConfig{})
		r := Correlate(decode.Load(paths, decode.Options{}, cfg), Options{Cluster: m, Journeys: true})
		const tol = int64(2 * time.Microsecond) // the files' microseconds, rounded twice
		checked, trueMax := 0, int64(-1)
		for _, j := range r.Journeys {
			for i := 1; i < len(j.Hops); i++ {
				h0, h1 := &j.Hops[i-1], &j.Hops[i]
				if !strings.HasPrefix(h0.Point, "node-a/") || !strings.HasPrefix(h1.Point, "node-b/") {
					continue
				}
				a, b := orig[filepath.Base(h0.File)], orig[filepath.Base(h1.File)]
				if h0.Frame == 0 || h1.Frame == 0 || int(h0.Frame) > len(a) || int(h1.Frame) > len(b) {
					t.Fatalf("hop frames %s:%d %s:%d out of range", h0.File, h0.Frame, h1.File, h1.Frame)
				}
				truth := b[h1.Frame-1] - a[h0.Frame-1]
				if h0.Point == "node-a/eth0" && h1.Point == "node-b/eth0" {
					trueMax = max(trueMax, truth)
				}
				if h1.ClockBound != BoundLower {
					t.Errorf("ppm %v: %s → %s: clock bound %q, want lower", ppm, h0.Point, h1.Point, h1.ClockBound)
					continue
				}
				checked++
				if h1.DeltaNs > truth+tol {
					t.Errorf("ppm %v: %s:%d → %s:%d: lower bound %v above the true latency %v", ppm,
						filepath.Base(h0.File), h0.Frame, filepath.Base(h1.File), h1.Frame, time.Duration(h1.DeltaNs), time.Duration(truth))
				}
			}
		}
		if checked < 5 {
			t.Fatalf("ppm %v: %d lower-bound hops node-a → node-b, want the scenario's 7", ppm, checked)
		}
		for _, s := range r.Segments {
			if s.From == "node-a/eth0" && s.To == "node-b/eth0" && s.LatencyNs.Max > trueMax+tol {
				t.Errorf("ppm %v: segment %s → %s: max %s %v above the true max %v", ppm, s.From, s.To, s.ClockBound,
					time.Duration(s.LatencyNs.Max), time.Duration(trueMax))
			}
		}
	}
}

// TestNegativeUpperBoundLab: in router-three-ifaces ext-1 only ever receives from the cluster's
// addresses, so its clock is bounded above only, partly through router-1's; given --offset
// router-1=50µs (router-1's clock is the lab host's, as node-a's), ext-1's replies to router-1 come out
// as negative upper bounds. Before, the generic clock-inconsistent text blamed "the offset estimate";
// the message names the pair, says the latencies are upper bounds, and names the --offset and the fix.
func TestNegativeUpperBoundLab(t *testing.T) {
	src := "../testdata/lab/scenarios/router-three-ifaces"
	if _, err := os.Stat(filepath.Join(src, "k8s")); err != nil {
		t.Skip("no router-three-ifaces lab scenario")
	}
	pcaps, _ := filepath.Glob(filepath.Join(src, "*.pcap"))
	cfg, m := labK8sConfig(t, src, decode.PointConfig{})
	r := Correlate(decode.Load(pcaps, decode.Options{}, cfg), Options{Cluster: m,
		Offsets: map[string]time.Duration{"router-1": 50 * time.Microsecond}})
	found := false
	for _, s := range r.Segments {
		if s.From == "ext-1/eth0" && s.To == "router-1/eth2" && (s.ClockBound != BoundUpper || s.LatencyNs.Min >= 0) {
			t.Fatalf("ext-1/eth0 → router-1/eth2: %q %+v, want negative upper bounds", s.ClockBound, s.LatencyNs)
		}
	}
	for _, a := range r.Anomalies {
		if a.Kind != "clock-inconsistent" || a.Where.From != "ext-1/eth0" {
			continue
		}
		found = true
		for _, want := range []string{"from ext-1 to router-1", "upper bounds", "ext-1's offset ≤", "--offset router-1=50µs"} {
			if !strings.Contains(a.Message, want) {
				t.Errorf("message lacks %q: %s", want, a.Message)
			}
		}
		if strings.Contains(a.Message, "The offset estimate is off") {
			t.Errorf("generic text for a negative upper bound: %s", a.Message)
		}
		for _, want := range []string{"--offset router-1=50µs", "--offset ext-1=DURATION"} {
			if !strings.Contains(a.Next, want) {
				t.Errorf("fix lacks %q: %s", want, a.Next)
			}
		}
	}
	if !found {
		t.Fatal("no clock-inconsistent at ext-1/eth0 → router-1/eth2")
	}
}

// TestFlowDirsLab: in oneway (with k8s/), ext-1's clock is bounded above only, from node-a's
// packets: each flow's requests' end-to-end latencies are lower bounds, its replies' upper bounds, so
// its quantiles over both are neither and were given as nothing at all. Each direction's are given
// apart (Flow.Dirs), each with its mark, and each holds against the truth: every packet's latency
// from its first to its last sighting, read from the files' frame times (one host's clock).
func TestFlowDirsLab(t *testing.T) {
	src := "../testdata/lab/scenarios/oneway"
	if _, err := os.Stat(filepath.Join(src, "k8s")); err != nil {
		t.Skip("no oneway lab scenario")
	}
	pcaps, _ := filepath.Glob(filepath.Join(src, "*.pcap"))
	var files []string
	orig := map[string][]int64{}
	for _, p := range pcaps {
		if !strings.HasSuffix(p, "-any.pcap") { // one sighting per path point
			files = append(files, p)
			orig[filepath.Base(p)] = recordTimes(t, p)
		}
	}
	cfg, m := labK8sConfig(t, src, decode.PointConfig{})
	r := Correlate(decode.Load(files, decode.Options{}, cfg), Options{Cluster: m, Journeys: true})
	type span struct{ n, lo, hi int64 }
	truth := map[string]map[string]*span{} // flow → dir → true latencies' count, min, max
	for _, j := range r.Journeys {
		if j.Status != "delivered" || len(j.Hops) < 2 {
			continue
		}
		a, b := &j.Hops[0], &j.Hops[len(j.Hops)-1]
		lat := orig[filepath.Base(b.File)][b.Frame-1] - orig[filepath.Base(a.File)][a.Frame-1]
		if truth[j.Flow] == nil {
			truth[j.Flow] = map[string]*span{}
		}
		s := truth[j.Flow][j.Dir]
		if s == nil {
			s = &span{lo: lat, hi: lat}
			truth[j.Flow][j.Dir] = s
		}
		s.n++
		s.lo, s.hi = min(s.lo, lat), max(s.hi, lat)
	}
	const tol = int64(2 * time.Microsecond)
	for _, f := range r.Flows {
		if f.ClockBound != BoundNone || len(f.Dirs) != 2 {
			t.Errorf("%s: clock bound %q, %d directions' latencies, want none and 2", f.ID, f.ClockBound, len(f.Dirs))
			continue
		}
		for _, d := range f.Dirs {
			want := map[string]string{"c2s": BoundLower, "s2c": BoundUpper}[d.Dir]
			tr := truth[f.ID][d.Dir]
			if d.ClockBound != want || tr == nil || int64(d.LatencyNs.N) != tr.n {
				t.Errorf("%s %s: %q over %d, want %q over the truth's %v", f.ID, d.Dir, d.ClockBound, d.LatencyNs.N, want, tr)
				continue
			}
			l := d.LatencyNs
			if want == BoundLower && (l.Min > tr.lo+tol || l.Max > tr.hi+tol) ||
				want == BoundUpper && (l.Min < tr.lo-tol || l.Max < tr.hi-tol) {
				t.Errorf("%s %s: %s bounds min %v max %v, true min %v max %v", f.ID, d.Dir, want,
					time.Duration(l.Min), time.Duration(l.Max), time.Duration(tr.lo), time.Duration(tr.hi))
			}
		}
	}
	if len(r.Flows) == 0 {
		t.Fatal("no flows")
	}
}
