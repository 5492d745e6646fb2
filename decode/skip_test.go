package decode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"testing"
)

// skipEvent is what a reader reports for one call to Next, with where it stands after it.
type skipEvent struct {
	what          string // rdEventsOf's line for the call
	frame         uint32 // the reader's frame count after it
	off           int64  // its Offset after it
	prevTs        int64  // the time the next resynchronisation compares with
	havePrev      bool
	skipped, pend int
}

// skipEvents reads the pcap file data to its end (within lim): with skip 0 by Next alone, else by skipBuffered(skip)
// before each Next, each record it passes over noted as Next would have reported it (rdEventsOf's
// line then rebuilt from the record header it passed over is not known: "passed" and the frame).
func skipEvents(t *testing.T, data []byte, skip int, lim Limits) []skipEvent {
	t.Helper()
	r, err := NewReaderLimits(bytes.NewReader(data), lim)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	pr := r.(*pcapReader)
	state := func(what string) skipEvent {
		return skipEvent{what, pr.frame, r.Offset(), pr.prevTs, pr.havePrev, r.Skipped(), pr.pend}
	}
	var ev []skipEvent
	for range 100000 {
		if skip > 0 {
			first := pr.frame
			n := pr.skipBuffered(skip)
			if int(pr.frame-first) != n {
				t.Fatalf("skipBuffered(%d) returned %d, the frame count went from %d to %d", skip, n, first, pr.frame)
			}
			if n > 0 { // where the reader stands after the records passed over: as after Next read the last
				e := state(fmt.Sprintf("passed to frame %d", pr.frame))
				ev = append(ev, e)
			}
		}
		var rec Record
		err := r.Next(&rec)
		var re *RecordError
		switch {
		case err == nil:
			ev = append(ev, state(fmt.Sprintf("frame %d ts %d len %d/%d", rec.Frame, rec.Ts, rec.CapLen, rec.OrigLen)))
		case errors.As(err, &re):
			ev = append(ev, state("skip: "+err.Error()))
		default:
			if !errors.Is(err, io.EOF) {
				ev = append(ev, state("fatal: "+err.Error()))
			}
			return append(ev, state("end"))
		}
	}
	t.Fatal("reader did not terminate")
	return nil
}

// TestSkipBuffered reads the pcap fixtures (good ones of both byte orders and time units, and the
// broken ones) passing over records with skipBuffered before each Next, and checks it against Next
// alone: the records it passes over are ones Next read without error, the reader stands after them
// as after Next (frame count, offset, the time a resynchronisation compares with), and every record,
// skip and error after them is Next's; also under frame limits, which skipBuffered bounds its count by
// once (a limit within a run of sound records, at its end, past it).
func TestSkipBuffered(t *testing.T) {
	const sec = 1764086400
	fx := map[string][]byte{}
	for name, data := range brokenFixtures() {
		if _, err := NewReader(bytes.NewReader(data)); err == nil && bytes.HasSuffix([]byte(name), []byte(".pcap")) {
			fx[name] = data // (not those that do not open)
		}
	}
	for _, be := range []bool{false, true} {
		for _, nano := range []bool{false, true} {
			p := newRdPcap(be, nano, 65535, 1)
			for i := range 40 {
				p.frame(sec+uint32(i/7), i, 60+i)
			}
			fx[fmt.Sprintf("good-be%v-nano%v.pcap", be, nano)] = p.b
		}
	}
	// A corrupt caplen after a run of sound records: the resynchronisation compares the record it
	// finds with the time of the last record before it, which skipBuffered passed over.
	p := newRdPcap(false, false, 65535, 1)
	for i := range 6 {
		p.frame(sec, i, 60)
	}
	p.rec(sec, 0, 1<<30, 60, nil)
	p.frame(sec+2*86400, 7, 60).frame(sec+2*86400, 8, 60).frame(sec, 9, 60).frame(sec, 10, 60)
	fx["resync-after-run.pcap"] = p.b
	names := make([]string, 0, len(fx))
	for name := range fx {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, lim := range []Limits{{}, {MaxFrames: 1}, {MaxFrames: 4}, {MaxFrames: 6}, {MaxFrames: 17}, {MaxFrames: 40}} {
			skipCompare(t, fx[name], name, lim)
		}
	}
}

// skipCompare is TestSkipBuffered's comparison of one file read within lim.
func skipCompare(t *testing.T, data []byte, name string, lim Limits) {
	t.Helper()
	name = fmt.Sprintf("%s (max frames %d)", name, lim.MaxFrames)
	{
		want := skipEvents(t, data, 0, lim)
		for _, skip := range []int{1, 2, 3, 5, 1000} {
			got := skipEvents(t, data, skip, lim)
			w := 0
			for i, g := range got {
				if w >= len(want) {
					t.Fatalf("%s, skip %d: event %d %+v after the last of Next alone", name, skip, i, g)
				}
				if bytes.HasPrefix([]byte(g.what), []byte("passed")) {
					// Next alone read these frames without error, the last where g stands.
					for w < len(want) && (w == 0 || want[w-1].frame < g.frame) {
						if !bytes.HasPrefix([]byte(want[w].what), []byte("frame ")) {
							t.Fatalf("%s, skip %d: passed over %q", name, skip, want[w].what)
						}
						w++
					}
					if w == 0 || want[w-1].frame != g.frame {
						t.Fatalf("%s, skip %d: passed to frame %d, which Next alone did not read", name, skip, g.frame)
					}
					if g2 := want[w-1]; g.off != g2.off || g.prevTs != g2.prevTs || g.havePrev != g2.havePrev ||
						g.skipped != g2.skipped || g.pend != g2.pend {
						t.Fatalf("%s, skip %d: after passing to frame %d: %+v, want %+v", name, skip, g.frame, g, g2)
					}
					continue
				}
				if g != want[w] {
					t.Fatalf("%s, skip %d: event %d %+v, want %+v", name, skip, i, g, want[w])
				}
				w++
			}
			if w != len(want) {
				t.Fatalf("%s, skip %d: %d events of Next alone, %d matched", name, skip, len(want), w)
			}
		}
	}
}
