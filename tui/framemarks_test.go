package tui

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	tea "github.com/charmbracelet/bubbletea"
)

// The packet screen reads a journey's frames from the marks loading left in their files
// (decode.FileInfo.FrameIndex), not from the start of each file: a frame near the end of an underlay
// capture of a million frames took a scan of them all (178 ms of CPU on the many-flow set). The test
// overwrites the records before a file's first mark with zeros, keeping the file's size and time: a
// frame after the mark still reads as it was, while reading from the start finds empty records and
// numbers the frames after them wrongly.
func TestPacketFramesFromMarks(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Mix = gen.MixManyFlows
	cfg.Nodes, cfg.PodsPerNode = 2, 2
	cfg.Flows, cfg.Packets = 1000, 20000
	cfg.Dir, cfg.KeepTruth = t.TempDir(), false
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := New(g.Files, labOptions())
	m = send(m, tea.WindowSizeMsg{Width: 160, Height: 48})
	msg, ok := loadCmd(g.Files, m.opts, m.load)().(loadedMsg)
	if !ok || msg.res.FlowsStreamed() {
		t.Fatal("the captures did not load with their flows")
	}
	m = send(m, msg)
	// A journey with a hop past the first mark of its file.
	var j *correlate.Journey
	var hop correlate.Hop
	var mark decode.FrameMark
	for _, f := range m.c.res.Flows {
		for _, jr := range m.c.res.FlowJourneys(f.ID) {
			for _, h := range jr.Hops {
				if idx := m.c.frames[h.File]; j == nil && idx != nil && len(idx.Marks) > 0 && h.Frame > idx.Marks[0].Frame+10 {
					j, hop, mark = &jr, h, idx.Marks[0]
				}
			}
		}
	}
	if j == nil {
		t.Fatalf("no hop past a file's first mark (indexes %v)", m.c.frames)
	}
	want, _, err := decode.ReadFrame(hop.File, hop.Frame)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(hop.File)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(hop.File)
	if err != nil {
		t.Fatal(err)
	}
	clear(b[24:mark.Off]) // the records before the mark; the file header stays
	if err := os.WriteFile(hop.File, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(hop.File, time.Time{}, st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if rec, _, err := decode.ReadFrame(hop.File, hop.Frame); err == nil && bytes.Equal(rec.Data, want.Data) {
		t.Fatal("the frame still reads the same from the start of the file: the test proves nothing")
	}
	fm, ok := msgsOf(m.pk.open(m.c, j))[0].(framesMsg)
	if !ok {
		t.Fatal("the packet screen read no frames")
	}
	for i, h := range j.Hops {
		if h.File == hop.File && h.Frame == hop.Frame {
			if got := fm.frames[i]; got.err != nil || got.rec.Frame != hop.Frame || !bytes.Equal(got.rec.Data, want.Data) {
				t.Fatalf("%s frame %d: got frame %d (%v), want the frame as it was read before", hop.File, hop.Frame,
					got.rec.Frame, got.err)
			}
			return
		}
	}
	t.Fatal("the hop is not among the journey's")
}
