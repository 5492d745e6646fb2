package decode

import (
	"bytes"
	"errors"
	"io"
	"runtime/debug"
	"testing"
	"time"
)

// FuzzReader feeds arbitrary bytes to NewReader and Next: they must never panic, every call to Next
// must make progress so reading terminates, delivered records must respect the length caps, frame
// numbers must increase, and the reader must stay within its Limits. The committed corpus in testdata/fuzz/FuzzReader holds the good and
// broken fixtures (regenerate with go test -run TestBrokenFixtures -update).
func FuzzReader(f *testing.F) {
	for _, data := range rdSeeds() {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The fuzzer has no hang detection: crash the worker (which records the input) if one input
		// takes absurdly long, as an endless Next loop would.
		hang := time.AfterFunc(10*time.Second, func() {
			debug.SetTraceback("all")
			panic("FuzzReader: one input took more than 10s")
		})
		defer hang.Stop()
		// A third of the inputs run under limits they reach, so that stopping is fuzzed too.
		lim := Limits{MaxBytes: DefaultMaxBytes, MaxFrames: DefaultMaxFrames}
		if len(data)%3 == 1 {
			lim = Limits{MaxBytes: int64(len(data)*3/4) + 1, MaxFrames: int64(len(data)%7) + 1}
		}
		r, err := NewReaderLimits(bytes.NewReader(data), lim)
		if err != nil {
			if r != nil {
				t.Fatal("NewReader returned a Reader with an error")
			}
			return
		}
		in := rdFuzzInput(t, r)
		var lastFrame uint32
		skipped := 0
		for {
			before := in.offset()
			var rec Record
			err := r.Next(&rec)
			var re *RecordError
			switch {
			case err == nil:
				if rec.Frame <= lastFrame {
					t.Fatalf("frame %d after frame %d", rec.Frame, lastFrame)
				}
				lastFrame = rec.Frame
				if rec.CapLen != len(rec.Data) || rec.CapLen > MaxCapLen || rec.CapLen > rec.OrigLen {
					t.Fatalf("frame %d: CapLen %d, len(Data) %d, OrigLen %d", rec.Frame, rec.CapLen, len(rec.Data), rec.OrigLen)
				}
				if rec.Iface < 0 || rec.Iface >= len(r.Interfaces()) {
					t.Fatalf("frame %d: interface %d of %d", rec.Frame, rec.Iface, len(r.Interfaces()))
				}
				if it := r.Interfaces()[rec.Iface]; it.LinkType != rec.LinkType {
					t.Fatalf("frame %d: link type %v, interface says %v", rec.Frame, rec.LinkType, it.LinkType)
				}
			case errors.As(err, &re):
				if re.Records < 1 || re.Frame == 0 && re.Records != 1 {
					t.Fatalf("%v stands for %d records", re, re.Records)
				}
				skipped += re.Records
				if re.Frame != 0 {
					if re.Frame <= lastFrame {
						t.Fatalf("skipped frame %d after frame %d", re.Frame, lastFrame)
					}
					lastFrame = re.Frame + uint32(re.Records-1)
				}
				if re.Offset < 0 || re.Offset > in.offset() {
					t.Fatalf("error offset %d beyond the read position %d", re.Offset, in.offset())
				}
			default:
				if again := r.Next(&rec); again != err {
					t.Fatalf("Next after %v returned %v", err, again)
				}
				if r.Skipped() != skipped {
					t.Fatalf("Skipped() = %d, counted %d", r.Skipped(), skipped)
				}
				var le *LimitError
				if !errors.Is(err, io.EOF) && !r.Compressed() && !errors.As(err, &le) {
					t.Fatalf("fatal error on an uncompressed in-memory file: %v", err)
				}
				return
			}
			if in.offset() <= before {
				t.Fatalf("Next returned %v without consuming input (offset %d)", err, in.offset())
			}
			if in.offset() > lim.MaxBytes || int64(lastFrame) > lim.MaxFrames {
				t.Fatalf("read to offset %d and frame %d under limits %+v", in.offset(), lastFrame, lim)
			}
		}
	})
}

// rdFuzzInput returns the reader's stream state, to watch its progress.
func rdFuzzInput(t *testing.T, r Reader) *rdInput {
	switch r := r.(type) {
	case *pcapReader:
		return r.rdInput
	case *ngReader:
		return r.rdInput
	}
	t.Fatalf("unknown reader type %T", r)
	return nil
}
