package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"testing"
)

// chunkReader returns at most n bytes per Read, and fails with err once fail bytes were read (fail < 0:
// never).
type chunkReader struct {
	data    []byte
	n, fail int
	off     int
	err     error
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.fail >= 0 && c.off >= c.fail {
		return 0, c.err
	}
	end := min(len(c.data), c.off+c.n, c.off+len(p))
	if c.fail >= 0 {
		end = min(end, c.fail)
	}
	if c.off == len(c.data) {
		return 0, io.EOF
	}
	k := copy(p, c.data[c.off:end])
	c.off += k
	return k, nil
}

// TestReaderWindow reads a pcap larger than the read buffer in chunks of several sizes and checks every
// record's bytes and Offset against the file, so that records served from the reader's window (and
// those that straddle a refill) are the file's own.
func TestReaderWindow(t *testing.T) {
	data := ipipPcap(9000) // about 1.5 MiB: more than one buffer
	for _, chunk := range []int{len(data), readBufSize, 7001, 64 << 10, 1000} {
		r, err := NewReader(&chunkReader{data: data, n: chunk, fail: -1})
		if err != nil {
			t.Fatal(err)
		}
		off, n := pcapHdrLen, 0
		var rec Record
		for {
			err := r.Next(&rec)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("chunk %d, record %d: %v", chunk, n+1, err)
			}
			n++
			caplen := int(binary.LittleEndian.Uint32(data[off+8:]))
			want := data[off+pcapRecHdrLen : off+pcapRecHdrLen+caplen]
			off += pcapRecHdrLen + caplen
			if !bytes.Equal(rec.Data, want) || rec.Frame != uint32(n) {
				t.Fatalf("chunk %d, record %d: wrong data or frame %d", chunk, n, rec.Frame)
			}
			if r.Offset() != int64(off) {
				t.Fatalf("chunk %d, record %d: Offset %d, want %d", chunk, n, r.Offset(), off)
			}
		}
		if n != 9000 || r.Offset() != int64(len(data)) || r.Skipped() != 0 {
			t.Errorf("chunk %d: %d records, Offset %d of %d, Skipped %d", chunk, n, r.Offset(), len(data), r.Skipped())
		}
	}
}

// TestReaderWindowReadError checks that a read error met after a window's records is reported with
// the offset where the stream failed, and sticks.
func TestReaderWindowReadError(t *testing.T) {
	data := ipipPcap(9000)
	boom := errors.New("boom")
	// Fail 5 bytes into the header of the record that starts just after 1 MiB.
	off := pcapHdrLen
	for off < readBufSize+100 {
		off += pcapRecHdrLen + int(binary.LittleEndian.Uint32(data[off+8:]))
	}
	r, err := NewReader(&chunkReader{data: data, n: 100000, fail: off + 5, err: boom})
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	n := 0
	for err = r.Next(&rec); err == nil; err = r.Next(&rec) {
		n++
	}
	want := "read at offset " + strconv.Itoa(off+5) + ": boom"
	if !errors.Is(err, boom) || err.Error() != want || r.Offset() != int64(off) {
		t.Fatalf("after %d records: %v (Offset %d), want %q at Offset %d", n, err, r.Offset(), want, off)
	}
	if err2 := r.Next(&rec); err2 != err {
		t.Errorf("error not sticky: %v", err2)
	}
}
