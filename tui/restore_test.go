package tui

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// failingKeyboard is a keyboard that goes away after a while.
type failingKeyboard struct{ after time.Duration }

func (k failingKeyboard) Read([]byte) (int, error) {
	time.Sleep(k.after)
	return 0, errors.New("keyboard gone")
}

// blockedKeyboard never sends a key.
type blockedKeyboard struct{ done <-chan struct{} }

func (k blockedKeyboard) Read([]byte) (int, error) {
	<-k.done
	return 0, errors.New("closed")
}

// Whatever stops Run, an error or its context ending (a signal, in calipath), what it wrote to the
// terminal ends by undoing what it turned on: the alternate screen, the hidden cursor, mouse reporting.
// (That a crash or a kill of the process restores the terminal too is the binary's job:
// cmd/calipath's TestTUIRestoresTerminal.)
func TestRunRestoresTerminal(t *testing.T) {
	files, _ := filepath.Glob("../testdata/lab/scenarios/healthy-ipip/node-b-*.pcap")
	if len(files) == 0 {
		t.Fatal("no lab captures")
	}
	for _, c := range []struct {
		name   string
		cancel bool
	}{{"input error", false}, {"context ends", true}} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opts := Options{In: failingKeyboard{500 * time.Millisecond}, Getenv: func(string) string { return "" }}
			if c.cancel {
				opts.In = blockedKeyboard{ctx.Done()}
				time.AfterFunc(500*time.Millisecond, cancel)
			}
			var screen bytes.Buffer
			opts.Out = &screen
			err := Run(ctx, files, opts)
			if err == nil {
				t.Fatal("Run returned no error")
			}
			out := screen.String()
			i := strings.LastIndex(out, "\x1b[?1049h")
			if i < 0 {
				t.Fatalf("the TUI never entered the alternate screen: %q", out)
			}
			for _, seq := range []string{"\x1b[?1049l", "\x1b[?25h", "\x1b[?1002l", "\x1b[?1006l"} {
				if !strings.Contains(out[i:], seq) {
					t.Errorf("%s: %q not written after entering the alternate screen", c.name, seq)
				}
			}
		})
	}
}
