package decode

import (
	"errors"
	"io"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// The Observations the scan keeps (as Load does: the Packet lean, each Observation made in its place
// in the collector, by the fast path where it takes the frame) are those Decode makes of each frame
// (the Packet in full, the usual path's Observation), but for TsLo (the Stamps'), and the fingerprints
// its Loose: on every capture under testdata and generated ones of each mode. The collector's first
// chunk is one given back dirty (as a Load reuses the chunk of a file read before), so that a field
// the fast path left unwritten shows.
func TestScanKeptAsDecode(t *testing.T) {
	files := append(diffCaptureFiles(t, filepath.Join("..", "testdata"), "testdata"), diffGenerated(t)...)
	frames, fast := 0, 0
	for _, path := range files {
		if m, _, _ := learnMerged(path, Options{}, false); m != nil {
			continue // (its frames' sources are its stages, which a Decoder of its own does not know)
		}
		var c obsCollector
		var fp fpCollector
		c.firsts = newObsFirsts(1)
		dirty := make([]Observation, obsChunk)
		b := unsafe.Slice((*byte)(unsafe.Pointer(&dirty[0])), len(dirty)*int(unsafe.Sizeof(dirty[0])))
		for i := range b {
			b[i] = byte(i*7 + 1)
		}
		c.firsts.give(dirty)
		fi := scanFile(path, 0, Options{}, NewTables(), nil, &frameKeeper{&c, &fp, &Stamps{}}, nil)
		obs, fps := c.finish(), fp.finish()
		if fi.Err != nil || fi.mergedInScan || fi.Unsplit {
			continue
		}
		r, cl, err := Open(path)
		if err != nil {
			continue
		}
		d := NewDecoder(Options{}, NewTables(), 0)
		var rec Record
		var p Packet
		n := 0
		for {
			err := r.Next(&rec)
			var re *RecordError
			if errors.As(err, &re) {
				continue
			}
			if err != nil {
				if err != io.EOF {
					t.Fatalf("%s: %v", path, err)
				}
				break
			}
			if rec.LinkType == LinkLinuxSLL && d.sll == nil {
				d.sll = learnSLL(path, Options{})
			}
			var o Observation
			d.Decode(&rec, &p, &o)
			if n >= len(obs) {
				t.Fatalf("%s: frame %d past the scan's %d", path, rec.Frame, len(obs))
			}
			got := obs[n]
			got.TsLo = 0
			if got != o || fps.At(n) != p.Loose {
				t.Fatalf("%s frame %d (-Decode +scan):\n%s\nfingerprints %#x, %#x", path, rec.Frame, cmp.Diff(o, got), p.Loose, fps.At(n))
			}
			if p.Errs == 0 && !p.HasWG && p.Inner.Version == 4 {
				fast++
			}
			n++
		}
		cl.Close()
		if n != len(obs) {
			t.Errorf("%s: %d frames, the scan kept %d", path, n, len(obs))
		}
		frames += n
	}
	if frames < 20000 || fast < frames/2 {
		t.Errorf("%d frames compared, %d of them plain IPv4: too few", frames, fast)
	}
}
