package decode

import (
	"bytes"
	"runtime/debug"
	"testing"
	"time"
)

// FuzzScan runs the whole scan of one file (reader, decoder, traffic accounting, and settling the
// file's time span from timestamps that may lie) over arbitrary bytes: no panic, every frame
// accounted to one capture source, and every source's span and count of frames outside it sane.
func FuzzScan(f *testing.F) {
	for _, data := range rdSeeds() {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		hang := time.AfterFunc(10*time.Second, func() {
			debug.SetTraceback("all")
			panic("FuzzScan: one input took more than 10s")
		})
		defer hang.Stop()
		r, err := NewReaderLimits(bytes.NewReader(data), Limits{MaxFrames: 100000})
		if err != nil {
			return
		}
		fi := &FileInfo{Path: "fuzz", Traffic: map[uint16]*Traffic{}}
		frames := 0
		scan(r, fi, Options{}, NewTables(), func(*Record, *Packet, *Observation) { frames++ }, nil)
		total := 0
		for si, tr := range fi.Traffic {
			total += tr.Frames
			if tr.Frames == 0 || tr.First > tr.Last || tr.Outside < 0 || tr.Outside > tr.Frames {
				t.Fatalf("source %d: %d frames from %d to %d, %d outside", si, tr.Frames, tr.First, tr.Last, tr.Outside)
			}
		}
		if frames != fi.Records || total != fi.Records {
			t.Fatalf("%d records, %d frames seen, %d in sources", fi.Records, frames, total)
		}
		if len(fi.Problems) > maxProblems || fi.NProblems < len(fi.Problems) {
			t.Fatalf("%d problems kept of %d", len(fi.Problems), fi.NProblems)
		}
	})
}
