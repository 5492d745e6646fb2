package correlate

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// --offset fixes a node's clock before the others are estimated, so the nodes between it and the
// reference are fitted against the given offset, not against the estimate it replaces.
func TestOffsetOverrideIsFittedAgainst(t *testing.T) {
	pcaps, _ := filepath.Glob("../testdata/lab/scenarios/clock-skew/*.pcap")
	if len(pcaps) == 0 {
		t.Fatal("no clock-skew lab captures")
	}
	clocks := func(o map[string]time.Duration) map[string]Clock {
		r := Correlate(decode.Load(pcaps, decode.Options{}, decode.PointConfig{}), Options{Offsets: o})
		m := map[string]Clock{}
		for _, c := range r.Clocks {
			m[c.Node] = c
		}
		return m
	}
	est := clocks(nil)
	b, router := est["node-b"], est["router-1"]
	if b.Method == "--offset" || router.Samples == 0 {
		t.Fatalf("baseline clocks: %+v", est)
	}
	// Given its own estimate, node-b changes nothing for router-1.
	same := clocks(map[string]time.Duration{"node-b": time.Duration(b.OffsetNs)})
	if got := same["node-b"]; got.OffsetNs != b.OffsetNs || got.Method != "--offset" {
		t.Errorf("node-b with --offset = its estimate: %+v", got)
	}
	if d := same["router-1"].OffsetNs - router.OffsetNs; d > 1000 || d < -1000 {
		t.Errorf("router-1 moved by %d ns when node-b was given its own estimate", d)
	}
	// Given 0.8 ms more, router-1 (between node-a, the reference, and node-b) is fitted against it.
	// (Farther off, the offset contradicts the traffic and is not used: TestOffsetContradicted.)
	moved := clocks(map[string]time.Duration{"node-b": time.Duration(b.OffsetNs) + 800*time.Microsecond})
	if got := moved["node-b"]; got.OffsetNs != b.OffsetNs+800_000 || got.Method != "--offset" {
		t.Errorf("node-b with --offset: %+v", got)
	}
	if d := moved["router-1"].OffsetNs - router.OffsetNs; d < 200_000 {
		t.Errorf("router-1 moved by %d ns when node-b's offset was set 0.8 ms off: not fitted against the override", d)
	}
	if moved["node-a"].OffsetNs != 0 {
		t.Errorf("the reference moved: %+v", moved["node-a"])
	}
}
