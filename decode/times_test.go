package decode

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scanBytes writes data to a temporary file named name and scans it, returning the FileInfo and the
// frames flagged for their timestamps.
func scanBytes(t *testing.T, name string, data []byte) (*FileInfo, []uint32) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var flagged []uint32
	fi := ScanFile(path, 0, Options{}, NewTables(), func(rec *Record, p *Packet, _ *Observation) {
		if p.Errs&ErrTimestamp != 0 {
			flagged = append(flagged, rec.Frame)
		}
	})
	for i, p := range fi.Problems {
		fi.Problems[i] = strings.TrimPrefix(p, path+": ")
	}
	return fi, flagged
}

// onlyTraffic returns a FileInfo's one capture source.
func onlyTraffic(t *testing.T, fi *FileInfo) *Traffic {
	t.Helper()
	if len(fi.Traffic) != 1 {
		t.Fatalf("%d capture sources, want 1", len(fi.Traffic))
	}
	for _, tr := range fi.Traffic {
		return tr
	}
	return nil
}

const tsBase = 1764086400 // 2025-11-25T16:00:00Z

// Timestamps that lie: a fraction field of a second or more, a frame in 1970, one in 2106 and the
// clock stepping back an hour. They are parsed without overflow, each is flagged on its frame, and
// the 1970 and 2106 frames are named and kept out of the capture's span (which they stretched to 136
// years, making every other capture a capture gap).
func TestLyingTimestamps(t *testing.T) {
	w := newRdPcap(false, false, 65535, 1)
	for i := range 20 {
		sec, frac := uint32(tsBase), uint32(i)*1000
		switch {
		case i == 2:
			frac = 1500000
		case i == 5:
			sec = 0
		case i == 8:
			sec = 1<<32 - 1
		case i >= 11:
			sec -= 3600
		}
		w.rec(sec, frac, 60, 60, rdFrame(i, 60))
	}
	fi, errs := scanBytes(t, "node-a-eth0.pcap", w.b)
	want := []string{
		"frame 3: the timestamp's fraction field says a second or more; read as 2025-11-25T16:00:01.5Z (the excess carried into the seconds)",
		"frame 12: the time goes back 59m59.999s from the frame before it on its interface (a clock step, or frames out of order)",
		"frame 6 has a timestamp (1970-01-01T00:00:00.005Z) 56 years before the rest of this capture (2025-11-25T15:00:00.011Z to 2025-11-25T16:00:01.5Z): not to be trusted, so kept out of its time span",
		"frame 9 has a timestamp (2106-02-07T06:28:15.008Z) 80 years after the rest of this capture (2025-11-25T15:00:00.011Z to 2025-11-25T16:00:01.5Z): not to be trusted, so kept out of its time span",
	}
	if diff := cmp.Diff(want, fi.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint32{3, 6, 9, 12}, errs); diff != "" {
		t.Errorf("frames flagged (-want +got):\n%s", diff)
	}
	tr := onlyTraffic(t, fi)
	if first, last := int64(tsBase-3600)*1e9+11e6, int64(tsBase)*1e9+15e8; tr.First != first || tr.Last != last || tr.Frames != 20 || tr.Outside != 2 {
		t.Errorf("span %s to %s, %d frames, %d outside; want %s to %s, 20 frames, 2 outside", fmtNs(tr.First), fmtNs(tr.Last),
			tr.Frames, tr.Outside, fmtNs(first), fmtNs(last))
	}
}

// An interface of a pcapng file whose every frame lies in 1970 takes the file's time span; its frames
// are named once.
func TestLyingInterface(t *testing.T) {
	w := (&ngBuf{}).shb().idb(1, 0).idb(1, 0)
	for i := range 4 {
		w.epb(0, tsBase*1e6+uint64(i)*1000, 60, rdFrame(i, 60))
		if i < 3 {
			w.epb(1, uint64(i+1)*1e6, 60, rdFrame(10+i, 60))
		}
	}
	fi, errs := scanBytes(t, "node-a.pcapng", w.b)
	want := []string{"3 frames from frame 2 on have timestamps (1970-01-01T00:00:01Z to 1970-01-01T00:00:03Z) 56 years before the rest of this capture (2025-11-25T16:00:00Z to 2025-11-25T16:00:00.003Z): not to be trusted, so kept out of its time span"}
	if diff := cmp.Diff(want, fi.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if len(errs) > 0 {
		t.Errorf("frames flagged: %v", errs)
	}
	for si, tr := range fi.Traffic {
		if tr.First != tsBase*1e9 || tr.Last != tsBase*1e9+3e6 {
			t.Errorf("source %d: span %s to %s", si, fmtNs(tr.First), fmtNs(tr.Last))
		}
	}
}

// Lying frames in more stretches of time than a capture source tracks are all kept out of the span
// and counted; when no stretch holds most frames, the capture's time is called unreliable.
func TestLyingManyStretches(t *testing.T) {
	w := newRdPcap(false, false, 65535, 1)
	for i := range 20 {
		w.rec(tsBase, uint32(i)*1000, 60, 60, rdFrame(i, 60))
		if i%2 == 1 { // every third frame lies, each in a year of its own
			w.rec(tsBase-uint32(i/2+1)*400*86400, 0, 60, 60, rdFrame(100+i, 60))
		}
	}
	fi, _ := scanBytes(t, "many.pcap", w.b)
	var named []string
	for _, p := range fi.Problems {
		named = append(named, strings.SplitN(p, " has", 2)[0])
	}
	want := []string{"frame 30", "frame 9", "frame 6", "and 7 frames in stretches not tracked, also kept out of this capture's time span"}
	if diff := cmp.Diff(want, named); diff != "" {
		t.Errorf("problems (-want +got):\n%s\nin %q", diff, fi.Problems)
	}
	if tr := onlyTraffic(t, fi); tr.First != tsBase*1e9 || tr.Last != tsBase*1e9+19e6 || tr.Outside != 10 {
		t.Errorf("span %s to %s, %d outside", fmtNs(tr.First), fmtNs(tr.Last), tr.Outside)
	}

	w = newRdPcap(false, false, 65535, 1)
	for i, year := range []uint32{0, 0, 0, 3, 3, 3, 6, 6, 6, 6} {
		w.rec(tsBase-(6-year)*365*86400, uint32(i), 60, 60, rdFrame(i, 60))
	}
	fi, _ = scanBytes(t, "split.pcap", w.b)
	if n := len(fi.Problems); n != 3 || fi.Problems[2] != "no stretch of time holds most of this capture's frames (the one taken as its time span holds 4 of 10): its timestamps are unreliable" {
		t.Errorf("problems %q", fi.Problems)
	}
}

// A frame going back in time by up to a second (captures reorder frames by microseconds) is not
// flagged; more is, once per step; an overflowed fraction is not the reference for the next frame.
func TestTimeGoesBack(t *testing.T) {
	var tr Traffic
	for _, c := range []struct {
		ts   int64
		odd  bool
		back uint64
	}{{10e9, false, 0}, {9e9, false, 0}, {8.5e9, false, 0}, {7e9, false, 15e8}, {7.1e9, false, 0},
		{20e9, true, 0}, {7.2e9, false, 0}, {1e9, false, 62e8}, {1e9 + spanGapNs, false, 0}, {1, false, uint64(spanGapNs) + 1e9 - 1}} {
		if back := tr.add(1, c.ts, c.odd, &Packet{}, 0); back != c.back {
			t.Errorf("frame at %d ns: back %d, want %d", c.ts, back, c.back)
		}
	}
	if tr.First != 1 || tr.Last != 1e9+spanGapNs || tr.Frames != 10 {
		t.Errorf("span %d to %d over %d frames", tr.First, tr.Last, tr.Frames)
	}
}

const spanGapNs = int64(spanGap)

// The pcap timestamp parser flags a fraction field of a second or more and carries it into the
// seconds, without overflow at the fields' extremes.
func TestPcapFractionOverflow(t *testing.T) {
	for _, nano := range []bool{false, true} {
		w := newRdPcap(false, nano, 65535, 1)
		max32 := uint32(1<<32 - 1)
		w.rec(0, 0, 42, 42, rdFrame(0, 42))
		w.rec(max32, max32, 42, 42, rdFrame(1, 42))
		limit := uint32(1e6)
		unit := int64(1e3)
		if nano {
			limit, unit = 1e9, 1
		}
		w.rec(7, limit-1, 42, 42, rdFrame(2, 42))
		w.rec(7, limit, 42, 42, rdFrame(3, 42))
		r, err := NewReader(bytes.NewReader(w.b))
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			ts   int64
			over bool
		}{{0, false}, {int64(max32)*1e9 + int64(max32)*unit, true}, {7e9 + int64(limit-1)*unit, false}, {8e9, true}}
		for i, w := range want {
			var rec Record
			if err := r.Next(&rec); err != nil {
				t.Fatal(err)
			}
			if rec.Ts != w.ts || rec.FracOver != w.over {
				t.Errorf("nano %v, record %d: ts %d, fraction over %v; want %d, %v", nano, i+1, rec.Ts, rec.FracOver, w.ts, w.over)
			}
		}
	}
}
