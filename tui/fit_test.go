package tui

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
)

// When nothing can be read, the TUI does not open an empty overview: it quits, and Run returns the
// reason (a correlate.UnfitError, one line per input) for the command to print.
func TestUnfitInputQuits(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "node-a-eth0.pcap")
	m := New([]string{missing}, testOptions())
	msg := loadCmd(m.paths, m.opts, m.load)()
	if _, ok := msg.(unfitMsg); !ok {
		t.Fatalf("loading a missing file gave %T, want unfitMsg", msg)
	}
	nm, cmd := m.Update(msg)
	if !isQuit(cmd) {
		t.Fatal("the TUI does not quit when nothing could be read")
	}
	var ue *correlate.UnfitError
	if !errors.As(nm.(Model).unfit, &ue) || len(ue.Problems) != 2 || !strings.Contains(ue.Problems[0], missing+": no such file") {
		t.Fatalf("unfit = %v", nm.(Model).unfit)
	}

	opts := testOptions()
	opts.In = strings.NewReader("")
	opts.Out = io.Discard
	err := Run(context.Background(), []string{missing}, opts)
	if !errors.As(err, &ue) {
		t.Fatalf("Run returned %v, want a correlate.UnfitError", err)
	}
}
