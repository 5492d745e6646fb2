package correlate

import (
	"bytes"
	"encoding/json"
	"runtime/debug"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// gcPercent returns the runtime's GOGC percentage (-1: off), setting it back as it was.
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// Lean correlation turns the automatic collections off from the flows to its last collection
// (holdCollections: the flows and placement collect at their ends, and an automatic collection
// between them would mark every flow for little), and sets the percentage back after it; the
// Result is the same. Without Lean, and outside those stages, the percentage is the caller's.
func TestCollectionsHeld(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Seed = 23
	cfg.Packets = 20000
	cfg.Flows = 40
	cfg.LossPerHop = 0.01
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(37))
	defer func(f func()) { collect = f }(collect)
	collect = func() {}
	run := func(opts Options) (map[string]int, []byte) {
		at := map[string]int{}
		opts.StageDone = func(stage string) { at[stage] = gcPercent() }
		res := Correlate(decode.Load(g.Files, decode.Options{}, decode.PointConfig{}), opts)
		if p := gcPercent(); p != 37 {
			t.Errorf("%+v: GOGC %d after correlation, want 37 as before", opts, p)
		}
		b, err := json.Marshal(res.WithFlows())
		if err != nil {
			t.Fatal(err)
		}
		return at, b
	}
	_, want := run(Options{})
	for _, tc := range []struct {
		opts Options
		off  []string // the stages that end with the collections held
	}{
		{Options{}, nil},
		{Options{Lean: true}, []string{"flows", "paths", "late joins"}},
		{Options{Lean: true, chunk: 64}, []string{"flows", "paths", "late joins"}},
		{Options{Lean: true, KeepFreed: true, StreamFlows: true}, []string{"flows", "paths", "late joins"}},
		// the caller collects after placement: held up to the collection after the paths
		{Options{Lean: true, KeepFreed: true, StreamFlows: true, CollectLater: true}, []string{"flows"}},
	} {
		at, got := run(tc.opts)
		held := map[string]bool{}
		for _, s := range tc.off {
			held[s] = true
		}
		for _, s := range []string{"world", "clocks", "matcher", "arena", "flows", "paths", "late joins", "placement", "side findings", "output"} {
			p, ok := at[s]
			switch {
			case !ok:
				t.Errorf("%+v: no stage %q", tc.opts, s)
			case held[s] && p != -1:
				t.Errorf("%+v: GOGC %d at the end of %s, want -1 (held)", tc.opts, p, s)
			case !held[s] && p != 37:
				t.Errorf("%+v: GOGC %d at the end of %s, want 37", tc.opts, p, s)
			}
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%+v: another Result", tc.opts)
		}
	}
}

// Holds of two correlations at once nest: the percentage comes back when the last ends, in either
// order.
func TestCollectionsHeldNest(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(37))
	lean := &analysis{opts: Options{Lean: true}}
	for _, firstEnds := range []bool{true, false} {
		r1 := lean.holdCollections()
		r2 := lean.holdCollections()
		if firstEnds {
			r1, r2 = r2, r1
		}
		r1()
		r1() // a second call does nothing
		if p := gcPercent(); p != -1 {
			t.Errorf("one of two holds ended: GOGC %d, want -1", p)
		}
		r2()
		if p := gcPercent(); p != 37 {
			t.Errorf("both holds ended: GOGC %d, want 37", p)
		}
	}
	if r := (&analysis{}).holdCollections(); gcPercent() != 37 {
		t.Errorf("without Lean: GOGC %d, want 37", gcPercent())
	} else {
		r()
	}
}
