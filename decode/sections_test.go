package decode

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// ngBlocks splits a little-endian pcapng file into its blocks.
func ngBlocks(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) >= 12 {
		n := int(binary.LittleEndian.Uint32(b[4:]))
		if n < 12 || n > len(b) {
			t.Fatalf("bad block length %d", n)
		}
		out = append(out, b[:n:n])
		b = b[n:]
	}
	return out
}

// twoSections rewrites a one-section pcapng file as two sections, as `cat a.pcapng b.pcapng` makes:
// the second section lists the interfaces in reverse order and its packet blocks say so.
func twoSections(t *testing.T, whole []byte) []byte {
	t.Helper()
	var shb []byte
	var idbs, pkts [][]byte
	for _, bl := range ngBlocks(t, whole) {
		switch binary.LittleEndian.Uint32(bl) {
		case ngSHB:
			shb = bl
		case ngIDB:
			idbs = append(idbs, bl)
		case ngEPB:
			pkts = append(pkts, bl)
		}
	}
	if shb == nil || len(idbs) < 2 || len(pkts) < 4 {
		t.Fatalf("want a section with several interfaces and packets: %d IDBs, %d EPBs", len(idbs), len(pkts))
	}
	out := append([]byte(nil), shb...)
	for _, bl := range idbs {
		out = append(out, bl...)
	}
	half := len(pkts) / 2
	for _, bl := range pkts[:half] {
		out = append(out, bl...)
	}
	out = append(out, shb...)
	for i := len(idbs) - 1; i >= 0; i-- {
		out = append(out, idbs[i]...)
	}
	for _, bl := range pkts[half:] {
		c := append([]byte(nil), bl...)
		id := binary.LittleEndian.Uint32(c[8:])
		binary.LittleEndian.PutUint32(c[8:], uint32(len(idbs)-1)-id)
		out = append(out, c...)
	}
	return out
}

type ngFrame struct {
	iface, data string
	ts          int64
	lt          LinkType
}

// ngFrames reads every record of the file at p, naming its interface as the file's final interface
// list does (as ScanFile keeps it for the points).
func ngFrames(t *testing.T, p string) []ngFrame {
	t.Helper()
	r, c, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var rec Record
	var out []ngFrame
	var ids []int
	for r.Next(&rec) == nil {
		ids = append(ids, rec.Iface)
		out = append(out, ngFrame{"", string(rec.Data), rec.Ts, rec.LinkType})
	}
	ifs := r.Interfaces()
	for i, id := range ids {
		if id >= len(ifs) {
			t.Fatalf("frame %d: interface %d of %d", i+1, id, len(ifs))
		}
		out[i].iface = ifs[id].Name
	}
	return out
}

// A pcapng file of two sections whose interfaces are listed in other orders: each frame keeps the
// interface of its own section (the second section's list used to describe the first's frames).
func TestPcapngSectionsKeepTheirInterfaces(t *testing.T) {
	src := "../testdata/lab/scenarios/underlay-loss/node-a.pcapng"
	whole, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "node-a.pcapng")
	if err := os.WriteFile(p, twoSections(t, whole), 0o644); err != nil {
		t.Fatal(err)
	}
	want, got := ngFrames(t, src), ngFrames(t, p)
	if len(got) != len(want) {
		t.Fatalf("%d frames, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("frame %d: interface %q link %d, want %q link %d", i+1, got[i].iface, got[i].lt, want[i].iface, want[i].lt)
		}
	}
	fi := ScanFile(p, 0, Options{}, NewTables(), nil)
	if n := len(fi.Interfaces); n != 2*len(ngIfaceNames(t, src)) {
		t.Errorf("FileInfo lists %d interfaces, want both sections'", n)
	}
}

// ngIfaceNames lists the interface names of a one-section file.
func ngIfaceNames(t *testing.T, p string) []string {
	t.Helper()
	r, c, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var rec Record
	for r.Next(&rec) == nil {
	}
	var names []string
	for _, i := range r.Interfaces() {
		names = append(names, i.Name)
	}
	return names
}
