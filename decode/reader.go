package decode

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// readBufSize is the size of the buffer records are served from. It holds the largest record
// (MaxCapLen plus its header) several times over, so a record is always one Peek.
const readBufSize = 1 << 20

// resyncLimit bounds how far a reader scans for the next plausible record header after a corrupt one.
const resyncLimit = 4 << 20

// maxBlockLen is the largest pcapng block (and pcap original length) taken at face value.
const maxBlockLen = 16 << 20

// Open opens a capture file (pcap or pcapng, optionally gzip-compressed); "-" is stdin, read once
// like any pipe. The Closer closes the file (not stdin).
func Open(path string) (Reader, io.Closer, error) {
	if path == "-" {
		r, err := NewReader(os.Stdin)
		if err != nil {
			return nil, nil, fmt.Errorf("-: %w", err)
		}
		return r, io.NopCloser(nil), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	r, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, f, nil
}

// NewReader sniffs the magic bytes of r (gzip, pcap in either byte order and resolution, pcapng) and
// returns a streaming Reader. It reads the file header; a missing or truncated header is an error.
func NewReader(r io.Reader) (Reader, error) {
	in := &rdInput{cr: &rdCounter{r: r}}
	raw := bufio.NewReaderSize(in.cr, readBufSize)
	in.br = raw
	magic, err := raw.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(raw)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		in.raw = raw
		in.gz = true
		in.br = bufio.NewReaderSize(gz, readBufSize)
	}
	magic, err = in.br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(magic) == 0 {
		return nil, errors.New("empty file")
	}
	if len(magic) == 4 {
		switch binary.LittleEndian.Uint32(magic) {
		case 0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1:
			return rdReader(newPcapReader(in))
		case 0x0a0d0d0a:
			return rdReader(newNgReader(in))
		}
	}
	return nil, fmt.Errorf("not a pcap or pcapng file (first bytes % x)", magic)
}

// rdReader returns r as a Reader, or a nil Reader (not a typed nil) with err.
func rdReader[R Reader](r R, err error) (Reader, error) {
	if err != nil {
		return nil, err
	}
	return r, nil
}

// rdCounter counts the bytes read from the underlying file.
type rdCounter struct {
	r io.Reader
	n int64
}

func (c *rdCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// rdInput is the buffered, possibly decompressed byte stream both readers parse. Record data is
// served straight from br's buffer through Peek, then Discarded: nothing is copied or allocated.
type rdInput struct {
	cr      *rdCounter
	raw     *bufio.Reader // buffer over the compressed file (gzip only)
	br      *bufio.Reader // the decompressed stream
	gz      bool
	off     int64 // offset of the read position in the decompressed stream
	skipped int
	done    error // sticky: io.EOF or a fatal error once the stream cannot be read further

	// win is what br holds buffered from the read position on, and pend how many bytes before it
	// were consumed without telling br yet: peek and discard serve records from win without calling
	// br (which would return the same bytes, without error, as they are buffered). sync settles up
	// before anything else asks br.
	win  []byte
	pend int
}

// sync discards the pending bytes from br and forgets the window.
func (in *rdInput) sync() {
	if in.pend > 0 {
		in.br.Discard(in.pend) // buffered: cannot fail
		in.pend = 0
	}
	in.win = nil
}

// peek returns up to n bytes. A short result with a nil error means the stream ended (EOF);
// any other read failure is returned as an error.
func (in *rdInput) peek(n int) ([]byte, error) {
	if n <= len(in.win) {
		return in.win[:n:n], nil
	}
	in.sync()
	b, err := in.br.Peek(n)
	if err == nil {
		in.win, _ = in.br.Peek(in.br.Buffered()) // all buffered: no read, no error
	}
	if len(b) == n || err == nil || errors.Is(err, io.EOF) {
		return b, nil
	}
	return b, in.readErr(in.off+int64(len(b)), err)
}

func (in *rdInput) readErr(off int64, err error) error {
	if in.gz {
		return fmt.Errorf("read compressed stream at offset %d: %w", off, err)
	}
	return fmt.Errorf("read at offset %d: %w", off, err)
}

// discard advances the stream by n bytes and reports how many were actually skipped.
func (in *rdInput) discard(n int) (int, error) {
	if n <= len(in.win) {
		in.win = in.win[n:]
		in.pend += n
		in.off += int64(n)
		return n, nil
	}
	in.sync()
	d, err := in.br.Discard(n)
	in.off += int64(d)
	if err != nil && !errors.Is(err, io.EOF) {
		return d, in.readErr(in.off, err)
	}
	return d, nil
}

// skip records a skipped record (or byte range) and returns it as a *RecordError.
func (in *rdInput) skip(frame uint32, off int64, format string, args ...any) error {
	in.skipped++
	return &RecordError{Frame: frame, Offset: off, Reason: fmt.Sprintf(format, args...)}
}

// fail makes err sticky and returns it.
func (in *rdInput) fail(err error) error {
	in.done = err
	return err
}

// truncated reports a record cut short by the end of the file; the next Next returns io.EOF.
func (in *rdInput) truncated(frame uint32, what string, have, want int) error {
	off := in.off
	if _, err := in.discard(have); err != nil {
		return in.fail(err)
	}
	in.done = io.EOF
	return in.skip(frame, off, "truncated %s: %d of %d bytes before end of file", what, have, want)
}

// Compressed reports whether the file was gzip-compressed.
func (in *rdInput) Compressed() bool { return in.gz }

// Offset is the number of bytes consumed from the underlying file so far.
func (in *rdInput) Offset() int64 {
	if in.gz {
		return in.cr.n - int64(in.raw.Buffered())
	}
	return in.cr.n - int64(in.br.Buffered()-in.pend)
}

// Skipped counts the records and byte ranges reported as *RecordError so far.
func (in *rdInput) Skipped() int { return in.skipped }

// endian reads a capture file's multi-byte fields in its byte order (be: big-endian).
type endian struct{ be bool }

func (e endian) u16(b []byte) uint16 {
	if e.be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (e endian) u32(b []byte) uint32 {
	if e.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (e endian) u64(b []byte) uint64 {
	if e.be {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}
