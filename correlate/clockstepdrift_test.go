package correlate

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// driftStepPair returns made-up samples of a pair [a, b] over 10 s, 1,000 packets each way, b's clock
// drifting ppm against a's and stepped by step at 5 s (θ = b − a), each packet's delay 50 µs plus up to
// 20 µs of jitter.
func driftStepPair(ppm float64, step time.Duration) (ab, ba []delaySample) {
	us := int64(time.Microsecond)
	theta := func(x int64) int64 {
		th := int64(float64(x) * ppm * 1e-6)
		if x >= 5*int64(time.Second) {
			th += int64(step)
		}
		return th
	}
	for i := int64(0); i < 1000; i++ {
		x := i * 10 * int64(time.Millisecond)
		d1, d2 := 50*us+(i*7919%21)*us, 50*us+(i*104729%21)*us
		ab = append(ab, delaySample{t: x, m: d1 + theta(x), fp: uint64(2 * i)})
		y := x + 5*int64(time.Millisecond) // sent by b at true time y, received by a at y + d2
		ba = append(ba, delaySample{t: y + theta(y), m: d2 - theta(y), fp: uint64(2*i + 1)})
	}
	return ab, ba
}

// A clock that drifts and steps: its samples each side of the step fit a line, not one offset, and the
// step search, which asked each side to fit one offset (fitRun), found none: 50 ppm over 10 s (0.5 ms)
// hid a 4 ms step in 2,000 samples ("the samples cannot resolve a step"). The step is found now, of
// its size (to the delays' jitter), between the samples about 5 s.
func TestSplitPairDrift(t *testing.T) {
	us := int64(time.Microsecond)
	for _, ppm := range []float64{0, 10, 50, 100, -100, 300} {
		for _, step := range []time.Duration{4 * time.Millisecond, -3 * time.Millisecond, 5 * time.Millisecond} {
			t.Run(fmt.Sprintf("%v/%v", ppm, step), func(t *testing.T) {
				s, ok, _ := splitPair(driftStepPair(ppm, step))
				if !ok {
					t.Fatalf("no step found")
				}
				// To the delays' jitter; and where one offset fits each side (10 ppm: 50 µs over 5 s, within the
				// delays' 100 µs), to half the drift over the capture too, which each side's offset may take.
				if got := s.after - s.before; abs64(got-int64(step)) > 25*us+int64(math.Abs(ppm)*5e3) {
					t.Errorf("step %v, want %v", time.Duration(got), step)
				}
				if at := 5 * int64(time.Second); s.preA >= at || s.postA < at || s.postA-s.preA > 20*int64(time.Millisecond) {
					t.Errorf("step placed between %v and %v, want about 5s", time.Duration(s.preA), time.Duration(s.postA))
				}
			})
		}
	}
	// A drift alone is a line: no step.
	for _, ppm := range []float64{50, 300} {
		if _, ok, _ := splitPair(driftStepPair(ppm, 0)); ok {
			t.Errorf("%v ppm and no step: a step found", ppm)
		}
	}
}

// stepAtRe reads a stepped clock's method: the moment of its (first) step on its own clock.
var stepAtRe = regexp.MustCompile(`stepped by \S+ during the capture \(at (\S+ \S+) on its own clock`)

// stepCorrectedRe reads a clock-step finding: the moment of its (first) step corrected.
var stepCorrectedRe = regexp.MustCompile(`on its own clock \((\S+ \S+) corrected\)`)

// A node whose clock drifts (0 to 100 ppm) and steps (±3 to 5 ms, early, midway or late) in generated
// captures (20,000 packets over 10 s, gencap --drift and --step): the step is found, its size and its
// moment (on the node's own clock) within the clock's bound of the truth's, the drift fitted (the
// line within the bound of the truth's at both ends), and the counts are the truth's, not said
// unreliable. Before, a drift of 10 ppm or more hid the step ("the samples cannot resolve a step",
// with 20,000 samples), the clock was fitted as one offset the samples disagree with by the step, and
// the counts were UNRELIABLE. The finding's moment corrected (the true time of the step, to the
// samples' spacing) was said a whole step early for a step forward.
func TestClockDriftStepGenerated(t *testing.T) {
	ms := time.Millisecond
	for _, ppm := range []float64{0, 10, 50, -50, 100} {
		for _, st := range []gen.ClockStep{{At: 5 * time.Second, Size: 4 * ms}, {At: 2500 * ms, Size: -3 * ms},
			{At: 7500 * ms, Size: 5 * ms}, {At: 7500 * ms, Size: -5 * ms}} {
			t.Run(fmt.Sprintf("%v/%v@%v", ppm, st.Size, st.At), func(t *testing.T) {
				t.Parallel()
				cfg := gen.DefaultConfig()
				cfg.Packets, cfg.Flows, cfg.Rate, cfg.KeepTruth, cfg.Dir = 20000, 100, 2000, true, t.TempDir()
				cfg.DriftPPM = map[string]float64{"node-2": ppm}
				cfg.ClockStep = map[string]gen.ClockStep{"node-2": st}
				res, err := gen.Generate(cfg)
				if err != nil {
					t.Fatal(err)
				}
				r := Correlate(decode.Load(res.Files, decode.Options{}, decode.PointConfig{}), Options{})
				checkCounts(t, res.Truth, r.Summary, 0)
				if r.Summary.Unreliable != "" {
					t.Errorf("unreliable: %s", r.Summary.Unreliable)
				}
				for _, an := range r.Anomalies {
					if an.Kind == "clock-step" && (an.Where.Node != "node-2" || strings.Contains(an.Message, "cannot resolve")) {
						t.Errorf("clock-step at %s: %s", an.Where.Node, an.Message)
					}
				}
				for _, an := range r.Anomalies {
					m := stepCorrectedRe.FindStringSubmatch(an.Message)
					if an.Kind != "clock-step" || m == nil {
						continue
					}
					at, err := time.Parse("2006-01-02 15:04:05.000000", m[1])
					want := res.Truth.Start + int64(st.At)
					if d := at.UnixNano() - want; err != nil || abs64(d) > int64(2*ms)+clockOf(r, "node-2").BoundNs {
						t.Errorf("step at %v corrected, want %v (%v)", at.UTC(), time.Unix(0, want).UTC(), err)
					}
				}
				c := clockOf(r, "node-2")
				steps := steppedBy(t, c.Method)
				if len(steps) != 1 || abs64(int64(steps[0]-st.Size)) > c.BoundNs {
					t.Fatalf("steps %v, want %v within the clock's bound ±%v: %s", steps, st.Size, time.Duration(c.BoundNs), c.Method)
				}
				m := stepAtRe.FindStringSubmatch(c.Method)
				if m == nil {
					t.Fatalf("no moment in %q", c.Method)
				}
				at, err := time.Parse("2006-01-02 15:04:05.000000", m[1])
				if err != nil {
					t.Fatal(err)
				}
				// The moment on the node's clock: the old clock's time then (the new one's after a step back,
				// from which its times are taken as after it), to the samples' spacing (packets 0.5 ms apart).
				want := res.Truth.Start + int64(st.At) + int64(float64(st.At)*ppm/1e6)
				if st.Size < 0 {
					want += int64(st.Size)
				}
				if d := at.UnixNano() - want; abs64(d) > c.BoundNs+int64(2*ms) {
					t.Errorf("step at %v on its clock, want %v (off by %v; the clock's bound ±%v)", at.UTC(),
						time.Unix(0, want).UTC(), time.Duration(d), time.Duration(c.BoundNs))
				}
				// The clock, its step with it, at the capture's start and at its end: within its bound of the truth.
				span := float64(10 * time.Second)
				for _, x := range []float64{0, span} {
					got, want := float64(c.OffsetNs)+c.DriftPPM*1e-6*x, ppm*1e-6*x
					if x > 0 {
						got, want = got+float64(steps[0]), want+float64(st.Size)
					}
					if math.Abs(got-want) > float64(c.BoundNs) {
						t.Errorf("clock at %v: %v, want %v within ±%v (%v ppm: %s)", time.Duration(x), time.Duration(got),
							time.Duration(want), time.Duration(c.BoundNs), c.DriftPPM, c.Method)
					}
				}
			})
		}
	}
}

// Where the samples of a clock no offset fits show no step that can be resolved, the clock-step
// warning says why (unsplitWhy), not "too few packets both ways on one side of it, or a step within
// their jitter" whatever the reason. Made-up samples (driftStepPair's): a clock slewed (+2 ms over
// 1 s from 4 s) fits no two stretches; a step of 20 µs at 5 s is within 4 times the delays' jitter
// (their median less their least, 10 µs). Generated captures (20,000 packets): node-2 stepped by
// −400 µs, within 4 times its delays' jitter (100 to 500 µs), is said so.
func TestUnsplitWhy(t *testing.T) {
	ab, ba := driftStepPair(0, 0)
	slew := func(x int64) int64 { return min(max(x-4*int64(time.Second), 0), int64(time.Second)) / 500 }
	for i := range ab {
		ab[i].m += slew(ab[i].t)
		ba[i].m -= slew(ba[i].t + ba[i].m)
		ba[i].t += slew(ba[i].t + ba[i].m)
	}
	if why := unsplitWhy(ab, ba); !strings.HasPrefix(why, "no one moment splits them into two stretches") {
		t.Errorf("slewed: %q", why)
	}
	ab, ba = driftStepPair(0, 20*time.Microsecond)
	if _, ok, _ := splitPair(ab, ba); ok {
		t.Fatalf("a step of 20µs within the delays' jitter resolved")
	}
	if why := unsplitWhy(ab, ba); !strings.Contains(why, "is within 4 times the jitter of their delays") {
		t.Errorf("20µs: %q", why)
	}
	cfg := gen.DefaultConfig()
	cfg.Packets, cfg.Flows, cfg.Rate, cfg.Dir = 20000, 100, 2000, t.TempDir()
	cfg.ClockStep = map[string]gen.ClockStep{"node-2": {At: 5 * time.Second, Size: -400 * time.Microsecond}}
	res, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := Correlate(decode.Load(res.Files, decode.Options{}, decode.PointConfig{}), Options{})
	said := false
	for _, an := range r.Anomalies {
		said = said || an.Kind == "clock-step" && an.Where.Node == "node-2" &&
			strings.Contains(an.Message, "cannot resolve a step (the step they show, of about 400µs, is within 4 times the jitter")
	}
	if !said {
		t.Errorf("no clock-step warning at node-2 that says the step is within the delays' jitter: %+v", stepsOf(r))
	}
}
