package testtool

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Frames are the frames of a capture and their times in ns, for tests that build captures out of the
// lab's (a router's interfaces merged into one file, a node's captures merged, a capture padded).
type Frames struct {
	Ts   []int64
	Data [][]byte
}

// ReadPcap returns the frames of the little-endian pcap (µs or ns) at path, as the lab writes them.
func ReadPcap(t testing.TB, path string) Frames {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 {
		t.Fatalf("%s: %d bytes, no pcap header", path, len(b))
	}
	unit := int64(1000)
	if binary.LittleEndian.Uint32(b) == 0xa1b23c4d {
		unit = 1
	}
	var f Frames
	for off := 24; off+16 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		if off+16+n > len(b) {
			t.Fatalf("%s: record at byte %d runs past the end", path, off)
		}
		f.Ts = append(f.Ts, int64(binary.LittleEndian.Uint32(b[off:]))*1e9+int64(binary.LittleEndian.Uint32(b[off+4:]))*unit)
		f.Data = append(f.Data, b[off+16:off+16+n])
		off += 16 + n
	}
	return f
}

// WritePcap writes parts one after the other (as `mergecap -a` concatenates captures) to path, a
// nanosecond pcap of Ethernet frames, making its directory.
func WritePcap(t testing.TB, path string, parts ...Frames) {
	t.Helper()
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0xa1b23c4d)
	b = le.AppendUint16(le.AppendUint16(b, 2), 4)
	b = le.AppendUint32(le.AppendUint32(b, 0), 0)
	b = le.AppendUint32(le.AppendUint32(b, 262144), 1)
	for _, p := range parts {
		for i, f := range p.Data {
			b = le.AppendUint32(le.AppendUint32(b, uint32(p.Ts[i]/1e9)), uint32(p.Ts[i]%1e9))
			b = le.AppendUint32(le.AppendUint32(b, uint32(len(f))), uint32(len(f)))
			b = append(b, f...)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Appended returns the frames of parts one after the other, each in its own time order.
func Appended(parts ...Frames) Frames {
	var out Frames
	for _, p := range parts {
		out.Ts, out.Data = append(out.Ts, p.Ts...), append(out.Data, p.Data...)
	}
	return out
}

// Padded returns the frames of f repeated, each repetition earlier in time by the capture's span plus
// a second than the one after it, ending with f itself: at least atLeast frames of one interface's
// real traffic, in time order.
func Padded(f Frames, atLeast int) Frames {
	span := f.Ts[len(f.Ts)-1] - f.Ts[0] + 1e9
	reps := (atLeast + len(f.Ts) - 1) / len(f.Ts)
	var out Frames
	for r := reps - 1; r >= 0; r-- {
		for i := range f.Ts {
			out.Ts, out.Data = append(out.Ts, f.Ts[i]-int64(r)*span), append(out.Data, f.Data[i])
		}
	}
	return out
}

// TimeMerged returns the frames of parts in time order (stable: ties keep the parts' order), as
// `mergecap -w` merges captures.
func TimeMerged(parts ...Frames) Frames {
	type rec struct {
		ts int64
		f  []byte
	}
	var all []rec
	for _, p := range parts {
		for i := range p.Ts {
			all = append(all, rec{p.Ts[i], p.Data[i]})
		}
	}
	slices.SortStableFunc(all, func(a, b rec) int { return int(min(max(a.ts-b.ts, -1), 1)) })
	var out Frames
	for _, r := range all {
		out.Ts, out.Data = append(out.Ts, r.ts), append(out.Data, r.f)
	}
	return out
}

// CutPcap writes into dir a copy of the nanosecond pcap file at path without its records before time
// cut (ns since the epoch), as a capture begun then would hold (its header, link type included, kept),
// and returns the copy's path.
func CutPcap(t testing.TB, path, dir string, cut int64) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if len(b) < 24 || le.Uint32(b) != 0xa1b23c4d {
		t.Fatalf("%s: not a nanosecond pcap file", path)
	}
	kept := append([]byte(nil), b[:24]...)
	for off := 24; off+16 <= len(b); {
		n := int(le.Uint32(b[off+8:]))
		if off+16+n > len(b) {
			t.Fatalf("%s: record at byte %d runs past the end", path, off)
		}
		if int64(le.Uint32(b[off:]))*1e9+int64(le.Uint32(b[off+4:])) >= cut {
			kept = append(kept, b[off:off+16+n]...)
		}
		off += 16 + n
	}
	q := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(q, kept, 0o644); err != nil {
		t.Fatal(err)
	}
	return q
}
