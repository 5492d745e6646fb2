// Package pcapmerge writes the frames of several classic pcap files into one, in time order, as
// `mergecap -F pcap` does: one capture of several interfaces, with nothing left to tell them apart.
// Tests use it to build such captures from real ones.
package pcapmerge

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
)

type record struct {
	ts  int64  // seconds × 10⁹ + the fraction in the files' resolution (orders either resolution)
	raw []byte // record header and data
}

// Merge writes the records of the pcap files in (same byte order, resolution and link type) to out,
// ordered by timestamp (stable: ties keep input order).
func Merge(out string, in ...string) error {
	if len(in) == 0 {
		return errors.New("no input")
	}
	var header []byte
	var recs []record
	for _, path := range in {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if len(b) < 24 {
			return fmt.Errorf("%s: no pcap header", path)
		}
		var bo binary.ByteOrder
		switch binary.LittleEndian.Uint32(b) {
		case 0xa1b2c3d4, 0xa1b23c4d:
			bo = binary.LittleEndian
		case 0xd4c3b2a1, 0x4d3cb2a1:
			bo = binary.BigEndian
		default:
			return fmt.Errorf("%s: not a classic pcap file", path)
		}
		if header == nil {
			header = b[:24]
		} else if string(header[:4]) != string(b[:4]) || string(header[20:24]) != string(b[20:24]) {
			return fmt.Errorf("%s: byte order, resolution or link type differs from %s", path, in[0])
		}
		for off := 24; off < len(b); {
			if off+16 > len(b) {
				return fmt.Errorf("%s: truncated record header at offset %d", path, off)
			}
			n := int(bo.Uint32(b[off+8:]))
			if off+16+n > len(b) {
				return fmt.Errorf("%s: truncated record at offset %d", path, off)
			}
			ts := int64(bo.Uint32(b[off:]))*1_000_000_000 + int64(bo.Uint32(b[off+4:]))
			recs = append(recs, record{ts: ts, raw: b[off : off+16+n]})
			off += 16 + n
		}
	}
	sort.SliceStable(recs, func(a, b int) bool { return recs[a].ts < recs[b].ts })
	buf := append([]byte(nil), header...)
	for _, r := range recs {
		buf = append(buf, r.raw...)
	}
	return os.WriteFile(out, buf, 0o644)
}
