package correlate

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// Lean correlation returns the memory its phases free to the system (after matching, and after the
// flows); with KeepFreed it collects as often and returns nothing, and the Result is the same (the
// TUI correlates so before its overview: docs/tui.md).
func TestKeepFreed(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Seed = 17
	cfg.Packets = 20000
	cfg.Flows = 40
	cfg.LossPerHop = 0.01
	cfg.DupRate = 0.02
	cfg.ClockOffset = map[string]time.Duration{"node-2": time.Second}
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func(f func()) { freeOSMemory = f }(freeOSMemory)
	var out [3][]byte
	for i, opts := range []Options{{}, {Lean: true}, {Lean: true, KeepFreed: true}} {
		returned := 0
		freeOSMemory = func() { returned++ }
		c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
		res := Correlate(c, opts)
		if want := map[bool]int{true: 2}[opts.Lean && !opts.KeepFreed]; returned != want {
			t.Errorf("Lean %v, KeepFreed %v: the free memory returned %d times, want %d", opts.Lean, opts.KeepFreed, returned, want)
		}
		if opts.Lean && c.Loose != nil {
			t.Errorf("Lean %v, KeepFreed %v: the fingerprints were kept", opts.Lean, opts.KeepFreed)
		}
		if out[i], err = json.Marshal(res); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out[0], out[2]) || !bytes.Equal(out[1], out[2]) {
		t.Fatal("correlation keeping the memory freed gave another Result")
	}
}
