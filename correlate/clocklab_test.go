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

// labStep is one step of a node's clock: from moment at after the scenario's first frame on, every
// time of the node's files is moved by d more.
type labStep struct{ at, d time.Duration }

// labClocks copies a lab scenario's .pcap files (without the -any ones when perIf) into a temporary
// directory with each node's times rewritten as shift gives them (node, the scenario's first time of
// all, a record's time), and loads them.
func labClocks(t *testing.T, scenario string, perIf bool, shift func(node string, first, ts int64) int64) *decode.Capture {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join("../testdata/lab/scenarios", scenario, "*.pcap"))
	if len(all) == 0 {
		t.Skipf("no lab scenario %s", scenario)
	}
	var names []string
	bufs := map[string][]byte{}
	first := int64(math.MaxInt64)
	for _, p := range all {
		if perIf && strings.HasSuffix(p, "-any.pcap") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		names, bufs[p] = append(names, p), b
		shiftCaptureBy(t, b, func(ts int64) int64 { first = min(first, ts); return ts })
	}
	dir := t.TempDir()
	var paths []string
	for _, p := range names {
		base := filepath.Base(p)
		node := base[:strings.LastIndex(base, "-")]
		shiftCaptureBy(t, bufs[p], func(ts int64) int64 { return shift(node, first, ts) })
		out := filepath.Join(dir, base)
		if err := os.WriteFile(out, bufs[p], 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, out)
	}
	return decode.Load(paths, decode.Options{}, decode.PointConfig{})
}

// stepAll returns a clock stepped by each of steps, the moments counted from first.
func stepAll(first, ts int64, steps []labStep) int64 {
	out := ts
	for _, s := range steps {
		if ts >= first+int64(s.at) {
			out += int64(s.d)
		}
	}
	return out
}

// labNodesSteps loads a lab scenario's .pcap files with each node's clock stepped by its steps (every
// time of the node's files from each moment on moved by its d, as an NTP step does).
func labNodesSteps(t *testing.T, scenario string, steps map[string][]labStep) *decode.Capture {
	t.Helper()
	return labClocks(t, scenario, false, func(node string, first, ts int64) int64 {
		return stepAll(first, ts, steps[node])
	})
}

// labSteps loads a lab scenario's .pcap files with node's clock stepped by each of steps.
func labSteps(t *testing.T, scenario, node string, steps ...labStep) *decode.Capture {
	t.Helper()
	return labNodesSteps(t, scenario, map[string][]labStep{node: steps})
}

// labStepped loads a lab scenario's .pcap files with node's clock stepped by d at moment at after the
// scenario's first frame.
func labStepped(t *testing.T, scenario, node string, at, d time.Duration) *decode.Capture {
	t.Helper()
	return labSteps(t, scenario, node, labStep{at, d})
}

// labSmallStep loads a lab scenario's per-interface captures (not the -any ones) with node's clock
// stepped by d at fraction frac of node's eth0 capture (every time of node's files from then on moved
// by d), as review12's step.sh does.
func labSmallStep(t *testing.T, scenario, node string, frac float64, d time.Duration) *decode.Capture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../testdata/lab/scenarios", scenario, node+"-eth0.pcap"))
	if err != nil {
		t.Skipf("no lab scenario %s with %s-eth0.pcap", scenario, node)
	}
	lo, hi := int64(-1), int64(0)
	shiftCaptureBy(t, b, func(ts int64) int64 {
		if lo < 0 {
			lo = ts
		}
		hi = ts
		return ts
	})
	step := lo + int64(float64(hi-lo)*frac)
	return labClocks(t, scenario, true, func(n string, _, ts int64) int64 {
		if n == node && ts >= step {
			return ts + int64(d)
		}
		return ts
	})
}
