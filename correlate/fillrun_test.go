package correlate

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// fillRun's times are each Observation's corrected time (correctAt), on every lab scenario, with
// clocks of their own per source (offsets, drifts, and steps in the middle of some sources' files),
// for the runs fillAhead gives it; and it declines runs it cannot take (of several sources, or
// reaching a step), which fillAhead then fills one by one.
func TestFillRunCorrected(t *testing.T) {
	took, declined := 0, 0
	eachLabScenario(t, func(t *testing.T, files []string) {
		m := mergeTimesMatcher(files)
		for s := range m.srcClock {
			c := &m.srcClock[s]
			c.stepIdx = math.MaxInt
			if s%4 == 1 { // a step from the 40th frame, another back from the 100th
				c.stepIdx, c.stepSize, c.idxSteps = 40, 5000, []stepOff{{idx: 100, size: -300}}
			}
		}
		for f, obs := range m.w.c.Obs {
			var ts [mergeAheadN]int64
			for i := 0; i < len(obs); {
				n := min(mergeAheadN-i%mergeAheadN, len(obs)-i) // as fillAhead takes them
				if !fillRun(&ts, obs[i:i+n], &m.w.c.Stamps[f], i, m.srcClock) {
					declined++
					i += n
					continue
				}
				took++
				for k := range n {
					if want := m.corrected(&obs[i+k], f, i+k); ts[k] != want {
						t.Fatalf("file %d, Observation %d: fillRun's time %d, want %d", f, i+k, ts[k], want)
					}
				}
				i += n
			}
		}
	})
	if took == 0 || declined == 0 {
		t.Fatalf("fillRun took %d runs and declined %d: want some of each", took, declined)
	}
}

// The merge hands over every Observation once, in corrected-time order, with its corrected time: on
// every lab scenario as captured (the head tree packed to the end), and on the lab's mtu-blackhole
// with node-a's eth0 carrying a frame in 2106 (far out of the packed reach: the merge starts packed
// and goes on unpacked from that frame on), and with one in 1970 too (never packed).
func TestMergeOrderAnyReach(t *testing.T) {
	check := func(t *testing.T, files []string, far bool) {
		c := decode.Load(files, decode.Options{}, decode.PointConfig{})
		w := worldOf(c)
		clocks, _ := w.clocksFor(Options{})
		m := newMatcher(w, clocks, Options{Window: time.Second})
		seen := make([]bool, w.nObs)
		n, last := 0, int64(math.MinInt64)
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		batches, free := m.start()
		for b := range batches {
			for i := range b {
				s := &b[i]
				if seen[s.g] {
					t.Fatalf("Observation %d handed over twice", s.g)
				}
				seen[s.g] = true
				n++
				if want := m.correctedG(s.g); s.t != want {
					t.Fatalf("Observation %d: time %d, want %d", s.g, s.t, want)
				}
				if s.t < last {
					t.Fatalf("Observation %d at %d after one at %d", s.g, s.t, last)
				}
				last, lo, hi = s.t, min(lo, s.t), max(hi, s.t)
			}
			free <- b[:0]
		}
		want := 0
		for _, obs := range c.Obs {
			want += len(obs)
		}
		if n != want {
			t.Fatalf("%d Observations handed over, want %d", n, want)
		}
		if far && uint64(hi)-uint64(lo) < keyReach {
			t.Fatalf("times span %d ns: within the packed reach, the test checks nothing of unpacking", hi-lo)
		}
	}
	eachLabScenario(t, func(t *testing.T, files []string) { check(t, files, false) })
	src := filepath.Join("..", "testdata", "lab", "scenarios", "mtu-blackhole")
	pcaps, _ := filepath.Glob(filepath.Join(src, "*-*.pcap"))
	if len(pcaps) == 0 {
		t.Skip("no lab scenario mtu-blackhole")
	}
	for _, c := range []struct {
		name string
		secs map[int]uint32
	}{
		{"future", map[int]uint32{15: 1<<32 - 16}},      // the first heads within reach: packed, then unpacked
		{"past", map[int]uint32{10: 0, 15: 1<<32 - 16}}, // a first head in 1970: never packed
	} {
		dir := t.TempDir()
		var paths []string
		for _, p := range pcaps {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(p) == "node-a-eth0.pcap" {
				lie(t, b, c.secs)
			}
			out := filepath.Join(dir, filepath.Base(p))
			if err := os.WriteFile(out, b, 0o644); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, out)
		}
		t.Run("lying-times-"+c.name, func(t *testing.T) { check(t, paths, true) })
	}
}
