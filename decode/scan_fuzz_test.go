package decode

import (
	"bytes"
	"runtime/debug"
	"testing"
	"time"
)

// FuzzScan runs the whole scan of one file (reader, decoder, traffic accounting, and settling the
// file's time span from timestamps that may lie) over arbitrary bytes: no panic, every frame
// accounted to one capture source, and every source's span and count of frames outside it sane. Its
// seeds include outer fragments (fragSeeds), so that their reassembly is fuzzed too.
func FuzzScan(f *testing.F) {
	for _, data := range rdSeeds() {
		f.Add(data)
	}
	for _, data := range fragSeeds(f) {
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
		scan(r, fi, Options{}, NewTables(), func(*Record, *Packet, *Observation) { frames++ }, nil, nil)
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
		// Outer fragments: each change is to a frame of the file, at most one a frame, and one
		// Observation is replaced for each datagram reassembled.
		seen := map[int]bool{}
		replaced := 0
		for _, x := range fi.fragFixes {
			if x.idx < 0 || x.idx >= frames || seen[x.idx] {
				t.Fatalf("reassembly changes frame index %d of %d (again: %v)", x.idx, frames, seen[x.idx])
			}
			seen[x.idx] = true
			if !x.drop {
				replaced++
				if x.o.Encap() == EncapNone {
					t.Fatalf("frame index %d replaced by an Observation without a tunnel", x.idx)
				}
			}
		}
		if replaced != fi.OuterReassembled || fi.OuterIncomplete < 0 || fi.OuterSkipped < 0 {
			t.Fatalf("%d Observations replaced, %d datagrams reassembled", replaced, fi.OuterReassembled)
		}
	})
}
