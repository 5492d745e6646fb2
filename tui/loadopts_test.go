package tui

import (
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
)

// Before its overview the TUI correlates as calipath tui asks (Lean), with the flows left unlisted
// and the memory correlation's phases free kept for its next phases rather than returned to the
// system and faulted in again (correlate.Options.KeepFreed; docs/tui.md).
func TestLoadCorrelateOptions(t *testing.T) {
	in := correlate.Options{Lean: true, Window: 3}
	got := correlateOptions(&decode.Capture{}, Options{Correlate: in})
	if !got.Lean || got.Window != 3 || !got.StreamFlows || !got.KeepFreed || got.Acks == nil {
		t.Errorf("correlate options %+v from %+v: want Lean, the window, StreamFlows, KeepFreed and Acks", got, in)
	}
}
