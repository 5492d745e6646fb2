package decode

import (
	"bytes"
	"path/filepath"
	"testing"
)

// The scan's records are the reader's, field for field, whichever way it read them: a pcap file's
// usual record by nextBuffered (which leaves the link type and interface that setReader put in the
// scan's Record once), any other by Next. Every lab capture (cooked, Ethernet and raw link types,
// pcap and pcapng files) and the generated many-flow sample.
func TestScanRecordsLikeNext(t *testing.T) {
	paths, err := filepath.Glob("../testdata/lab/scenarios/*/*.pcap*")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no lab captures (%v)", err)
	}
	for _, path := range paths {
		type want struct {
			frame    uint32
			ts       int64
			capLen   int
			origLen  int
			lt       LinkType
			iface    int
			fracOver bool
			data     []byte
		}
		var recs []want
		labRecords(t, path, func(rec *Record) {
			recs = append(recs, want{rec.Frame, rec.Ts, rec.CapLen, rec.OrigLen, rec.LinkType, rec.Iface, rec.FracOver,
				bytes.Clone(rec.Data)})
		})
		i := 0
		fi := ScanFile(path, 0, Options{}, NewTables(), func(rec *Record, p *Packet, o *Observation) {
			if i >= len(recs) {
				t.Fatalf("%s: the scan gave frame %d past the reader's %d", path, rec.Frame, len(recs))
			}
			w := recs[i]
			got := want{rec.Frame, rec.Ts, rec.CapLen, rec.OrigLen, rec.LinkType, rec.Iface, rec.FracOver, rec.Data}
			if got.frame != w.frame || got.ts != w.ts || got.capLen != w.capLen || got.origLen != w.origLen ||
				got.lt != w.lt || got.iface != w.iface || got.fracOver != w.fracOver || !bytes.Equal(got.data, w.data) {
				t.Fatalf("%s: the scan's record %d: frame %d time %d lengths %d/%d link type %v interface %d, want "+
					"frame %d time %d lengths %d/%d link type %v interface %d (or other bytes)", path, i, got.frame,
					got.ts, got.capLen, got.origLen, got.lt, got.iface, w.frame, w.ts, w.capLen, w.origLen, w.lt, w.iface)
			}
			i++
		})
		if fi.Err != nil || i != len(recs) {
			t.Fatalf("%s: the scan gave %d records of the reader's %d (%v)", path, i, len(recs), fi.Err)
		}
	}
}
