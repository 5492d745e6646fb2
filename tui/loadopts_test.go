package tui

import (
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
)

// Before its overview the TUI correlates as calipath tui asks (Lean), with the flows left unlisted
// and the memory correlation's phases free kept for its next phases rather than returned to the
// system and faulted in again (correlate.Options.KeepFreed; docs/tui.md), and the collection after
// placement left to when the flows are listed (CollectLater).
func TestLoadCorrelateOptions(t *testing.T) {
	in := correlate.Options{Lean: true, Window: 3}
	got := correlateOptions(&decode.Capture{}, Options{Correlate: in})
	if !got.Lean || got.Window != 3 || !got.StreamFlows || !got.KeepFreed || !got.CollectLater || got.Acks == nil {
		t.Errorf("correlate options %+v from %+v: want Lean, the window, StreamFlows, KeepFreed, CollectLater and Acks", got, in)
	}
}

// The collection correlation leaves to the TUI (CollectLater) comes right before the flows are listed:
// in the loading command when they are listed before the overview, after it (listFlowsCmd) otherwise,
// never both.
func TestCollectBeforeListing(t *testing.T) {
	files := labFiles(t, "../testdata/lab/scenarios/healthy-ipip")
	defer func(f func()) { collect = f }(collect)
	n := 0
	collect = func() { n++ }
	for _, after := range []bool{false, true} {
		if after {
			listAfter(t)
		}
		n = 0
		opts := labOptions()
		m := New(files, opts)
		msg, ok := loadCmd(files, m.opts, m.load)().(loadedMsg)
		if !ok || msg.res.Summary.Flows == 0 {
			t.Fatal("the captures did not load, or hold no flows")
		}
		if want := map[bool]int{false: 1, true: 0}[after]; n != want || msg.res.FlowsStreamed() != after {
			t.Fatalf("flows listed after the overview %v: %d collections loading, want %d (flows streamed: %v)",
				after, n, want, msg.res.FlowsStreamed())
		}
		if !after {
			continue
		}
		if _, ok := listFlowsCmd(msg.res, msg.times)().(flowsMsg); !ok || n != 1 {
			t.Errorf("listing the flows after the overview: %d collections, want 1", n)
		}
	}
}
