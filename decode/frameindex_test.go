package decode

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestReadFrameIndexed: Load marks an uncompressed pcap file every markEvery frames, and a frame read
// through that index is the frame ReadFrame reads from the start, read from the mark before it (no
// more bytes than from there to the end of the file); a file changed since it was loaded (its size or
// modification time) is not read, and a compressed file is not marked.
func TestReadFrameIndexed(t *testing.T) {
	n := 2*markEvery + 100
	path, frames := frameTestFile(t, n, false)
	c := Load([]string{path}, Options{}, PointConfig{})
	idx := c.Files[0].FrameIndex
	if idx == nil || len(idx.Marks) != 2 || idx.Marks[0].Frame != markEvery || idx.Marks[1].Frame != 2*markEvery {
		t.Fatalf("index %+v, want marks at frames %d and %d", idx, markEvery, 2*markEvery)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	check := func(frame uint32, idx *FrameIndex, maxRead int64) {
		t.Helper()
		rec, p, read, err := readFrameIndexed(path, frame, idx, Options{})
		if err != nil {
			t.Fatalf("frame %d: %v", frame, err)
		}
		want, wantP, err := ReadFrame(path, frame)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Frame != frame || !bytes.Equal(rec.Data, frames[frame-1]) || rec.Ts != want.Ts || rec.CapLen != want.CapLen {
			t.Fatalf("frame %d: got frame %d ts %d data %x, want ts %d data %x", frame, rec.Frame, rec.Ts, rec.Data,
				want.Ts, frames[frame-1])
		}
		if !aliases(p.Payload, rec.Data) || !bytes.Equal(p.Payload, wantP.Payload) {
			t.Fatalf("frame %d: payload %q, want %q in the record's copy", frame, p.Payload, wantP.Payload)
		}
		p.Payload, wantP.Payload = nil, nil
		if !reflect.DeepEqual(p, wantP) {
			t.Fatalf("frame %d: packet %+v, want %+v", frame, p, wantP)
		}
		if read > maxRead {
			t.Fatalf("frame %d: read %d bytes, want at most %d", frame, read, maxRead)
		}
	}
	for _, f := range []uint32{1, markEvery, markEvery + 1, 2*markEvery - 1, 2 * markEvery, 2*markEvery + 1, uint32(n)} {
		from := int64(0)
		if m, ok := idx.before(f); ok {
			from = m.Off
		}
		check(f, idx, st.Size()-from)
	}
	if _, _, err := ReadFrameIndexed(path, uint32(n+1), idx, Options{}); err == nil {
		t.Errorf("frame %d of %d read", n+1, n)
	}
	// Changed since it was loaded (its time, then its size): not read, the change said.
	if err := os.Chtimes(path, time.Time{}, st.ModTime().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	changed := func(what string) {
		t.Helper()
		var ce *FileChangedError
		_, _, read, err := readFrameIndexed(path, uint32(n), idx, Options{})
		if !errors.As(err, &ce) || read != 0 || !strings.Contains(err.Error(), "the file changed since calipath read it") {
			t.Errorf("a file whose %s changed: read %d bytes, error %v; want a FileChangedError and nothing read", what, read, err)
		}
	}
	changed("modification time")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0})
	f.Close()
	if err := os.Chtimes(path, time.Time{}, st.ModTime()); err != nil {
		t.Fatal(err)
	}
	changed("size")
	// A compressed file has no marks, and its size and time are kept: read from its start while it is
	// as it was read.
	gz, _ := frameTestFile(t, markEvery+1, true)
	c = Load([]string{gz}, Options{}, PointConfig{})
	gi := c.Files[0].FrameIndex
	if gi == nil || len(gi.Marks) != 0 {
		t.Fatalf("a compressed file's index: %+v, want one of no marks", gi)
	}
	if rec, _, read, err := readFrameIndexed(gz, markEvery+1, gi, Options{}); err != nil || rec.Frame != markEvery+1 || read == 0 {
		t.Errorf("a compressed file's last frame: frame %d, read %d bytes, %v", rec.Frame, read, err)
	}
}
