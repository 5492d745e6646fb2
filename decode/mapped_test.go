package decode

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// rdTranscript reads r to its end (at most calls calls of Next) and writes down each call's
// outcome, the record's fields and bytes or the error, with the offset and skip count after it; then
// the interfaces, and a pcapng file's names and statistics.
func rdTranscript(r Reader, calls int) []string {
	var out []string
	var rec Record
	for range calls {
		err := r.Next(&rec)
		line := fmt.Sprintf("frame %d ts %d over %v cap %d orig %d link %v iface %d data %x", rec.Frame,
			rec.Ts, rec.FracOver, rec.CapLen, rec.OrigLen, rec.LinkType, rec.Iface, rec.Data)
		if err != nil {
			line = "error " + err.Error()
		}
		out = append(out, fmt.Sprintf("%s | offset %d skipped %d", line, r.Offset(), r.Skipped()))
		var re *RecordError
		if err != nil && !errors.As(err, &re) {
			out = append(out, fmt.Sprintf("again %v", r.Next(&rec)))
			break
		}
	}
	out = append(out, fmt.Sprintf("format %v compressed %v interfaces %+v", r.Format(), r.Compressed(), r.Interfaces()))
	if nr, ok := r.(*ngReader); ok {
		out = append(out, fmt.Sprintf("names %+v stats %+v", nr.Names(), nr.Stats()))
	}
	return out
}

// mappedAgrees reports how a Reader serving data from memory and one reading it as a stream differ
// under lim (nil: they agree).
func mappedAgrees(data []byte, lim Limits) error {
	const calls = 100000
	var want, got []string
	if r, err := NewReaderLimits(bytes.NewReader(data), lim); err != nil {
		want = []string{"open: " + err.Error()}
	} else {
		want = rdTranscript(r, calls)
	}
	if r, in, err := newMappedReader(data, lim); err != nil {
		got = []string{"open: " + err.Error()}
	} else {
		got = rdTranscript(r, calls)
		in.release()
	}
	for i := range max(len(want), len(got)) {
		w, g := "(nothing)", "(nothing)"
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			return fmt.Errorf("call %d: from memory\n\t%s\nas a stream\n\t%s", i, g, w)
		}
	}
	return nil
}

// smallMapWindow makes mapped inputs move their window every few bytes for the test, so that records
// and blocks straddle its end.
func smallMapWindow(t testing.TB, n int64) {
	old := mapWindow
	mapWindow = n
	t.Cleanup(func() { mapWindow = old })
}

// A capture served from memory (a mapped file) reads as the same bytes read as a stream do: the same
// records, skips and errors at the same offsets, under the default limits and under limits it
// reaches, with a window that moves every few bytes and with the default one.
func TestMappedLikeStream(t *testing.T) {
	for name, data := range rdSeeds() {
		if gzipped(data) {
			continue
		}
		lims := []Limits{{}, {MaxBytes: int64(len(data)*3/4) + 1, MaxFrames: 3}, {MaxBytes: 30}, {MaxFrames: 1}}
		for _, win := range []int64{4 << 20, 16, 100} {
			smallMapWindow(t, win)
			for _, lim := range lims {
				if err := mappedAgrees(data, lim); err != nil {
					t.Errorf("%s, window %d, limits %+v: %v", name, win, lim, err)
				}
			}
		}
	}
}

// FuzzMapped checks that any input reads from memory as it reads as a stream (see TestMappedLikeStream).
func FuzzMapped(f *testing.F) {
	for _, data := range rdSeeds() {
		if !gzipped(data) {
			f.Add(data, uint16(0))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, win uint16) {
		if gzipped(data) {
			return
		}
		smallMapWindow(t, max(int64(win), 1))
		lim := Limits{}
		if len(data)%3 == 1 {
			lim = Limits{MaxBytes: int64(len(data)*3/4) + 1, MaxFrames: int64(len(data)%7) + 1}
		}
		if err := mappedAgrees(data, lim); err != nil {
			t.Fatal(err)
		}
	})
}
