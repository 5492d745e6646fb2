package decode

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
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
		checkScanRecords(t, path)
	}
	// The scan reads a pcap file's records after the first at its loop's end (nextBuffered written
	// out): big-endian files and fraction fields that overflow take its other ways.
	dir := t.TempDir()
	n := 0
	for _, path := range paths {
		if filepath.Ext(path) != ".pcap" || n == 6 {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < pcapHdrLen || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 && binary.LittleEndian.Uint32(b) != 0xa1b23c4d {
			continue
		}
		n++
		for _, be := range []bool{false, true} {
			out := filepath.Join(dir, fmt.Sprintf("%d-%v-%s", n, be, filepath.Base(path)))
			if err := os.WriteFile(out, pcapVariant(b, be), 0o644); err != nil {
				t.Fatal(err)
			}
			checkScanRecords(t, out)
		}
	}
	if n == 0 {
		t.Fatal("no little-endian lab pcap file")
	}
}

// pcapVariant returns the little-endian pcap file b with every fifth record's fraction field made a
// second or more (its frame's time overflows), in big-endian byte order when be.
func pcapVariant(b []byte, be bool) []byte {
	b = bytes.Clone(b)
	frac := uint32(1_000_000)
	if binary.LittleEndian.Uint32(b) == 0xa1b23c4d {
		frac = 1_000_000_000
	}
	swap32 := func(w []byte) {
		if be {
			binary.BigEndian.PutUint32(w, binary.LittleEndian.Uint32(w))
		}
	}
	for _, off := range []int{0, 8, 12, 16, 20} {
		swap32(b[off:])
	}
	if be {
		binary.BigEndian.PutUint16(b[4:], binary.LittleEndian.Uint16(b[4:]))
		binary.BigEndian.PutUint16(b[6:], binary.LittleEndian.Uint16(b[6:]))
	}
	for pos, k := pcapHdrLen, 0; pos+pcapRecHdrLen <= len(b); k++ {
		h := b[pos : pos+pcapRecHdrLen]
		caplen := int(binary.LittleEndian.Uint32(h[8:]))
		if k%5 == 4 {
			binary.LittleEndian.PutUint32(h[4:], frac+uint32(k))
		}
		for off := 0; off < pcapRecHdrLen; off += 4 {
			swap32(h[off:])
		}
		pos += pcapRecHdrLen + caplen
	}
	return b
}

// checkScanRecords fails t unless the scan of the capture at path gives the records its reader gives,
// field for field.
func checkScanRecords(t *testing.T, path string) {
	t.Helper()
	{
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
