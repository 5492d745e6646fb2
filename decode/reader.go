package decode

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// readBufSize is the size of the buffer records are served from. It holds the largest record
// (MaxCapLen plus its header) several times over, so a record is always one Peek.
const readBufSize = 1 << 20

// resyncLimit bounds how far a reader scans for the next plausible record header after a corrupt one.
const resyncLimit = 4 << 20

// maxBlockLen is the largest pcapng block (and pcap original length) taken at face value.
const maxBlockLen = 16 << 20

// Limits bound how much of one input a Reader reads. What a header or a file's size claims is never
// trusted: these are counted as the input is read, and an input that passes one stops with a
// *LimitError (the records before it stay read).
type Limits struct {
	// MaxBytes bounds the bytes read from the (decompressed) stream; 0 means DefaultMaxBytes.
	MaxBytes int64
	// MaxFrames bounds the records, skipped ones included; 0 means DefaultMaxFrames. At most
	// math.MaxUint32-1 (frame numbers are 32 bits).
	MaxFrames int64
}

// Default limits: far beyond any real capture of one interface calipath can hold in memory (a kept
// frame costs about 62 bytes at the peak), well short of what a gzip bomb or an endless FIFO feeds.
const (
	DefaultMaxBytes  = 64 << 30
	DefaultMaxFrames = 100_000_000
)

// LimitError reports an input that passed one of its Limits: the rest of it is not read.
type LimitError struct {
	What  string // "bytes" or "records"
	Limit int64
	Flag  string // the calipath flag that raises the limit
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("the input holds more than %s %s (raise the limit with %s)", groupDigits(e.Limit), e.What, e.Flag)
}

// groupDigits writes n with thousands separators.
func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Open opens a capture file (pcap or pcapng, optionally gzip-compressed) with the default Limits;
// "-" is stdin, read once like any pipe. The Closer closes the file (not stdin) and hands the
// Reader's buffers on to the next file opened: no record read before stays valid, and the Reader
// returns an error from then on.
func Open(path string) (Reader, io.Closer, error) { return OpenLimits(path, Limits{}) }

// OpenLimits is Open with limits.
func OpenLimits(path string, lim Limits) (Reader, io.Closer, error) {
	if path == "-" {
		r, in, err := newReader(os.Stdin, lim)
		if err != nil {
			return nil, nil, fmt.Errorf("-: %w", err)
		}
		return r, &inputCloser{in: in}, nil
	}
	return openFile(path, lim, nil)
}

// openInput opens an input as opts says: through opts.Open when it is set (and the input is not stdin).
func openInput(path string, opts Options) (Reader, io.Closer, error) {
	if opts.Open == nil || path == "-" {
		return OpenLimits(path, opts.Limits)
	}
	f, err := opts.Open(path)
	if err != nil {
		return nil, nil, err
	}
	r, in, err := newReader(f, opts.Limits)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, &inputCloser{f: f, in: in}, nil
}

// inputCloser closes an opened input: the file (when there is one), then its Reader, whose buffers
// go back to readBufs.
type inputCloser struct {
	f  io.Closer
	in *rdInput
}

func (c *inputCloser) Close() error {
	c.in.release()
	if c.f == nil {
		return nil
	}
	return c.f.Close()
}

// readBufs holds the read buffers of closed inputs for the inputs opened next: a fresh buffer costs
// a page fault per 4 KiB on its first fill, and files are opened twice (EstimateFrames, then the
// scan), a few at a time. It keeps a few, enough for the files read side by side.
var readBufs = make(chan *bufio.Reader, 8)

// newBuffered returns a reader of readBufSize over r, with a buffer from readBufs when one is there.
func newBuffered(r io.Reader) *bufio.Reader {
	select {
	case br := <-readBufs:
		br.Reset(r)
		return br
	default:
		return bufio.NewReaderSize(r, readBufSize)
	}
}

// errClosed is what a Reader returns once its input was closed.
var errClosed = errors.New("read from a closed input")

// release hands in's buffers on to readBufs and leaves in failing with errClosed.
func (in *rdInput) release() {
	if in.released {
		return
	}
	in.closedAt = in.Offset()
	in.released = true
	for _, br := range []*bufio.Reader{in.br, in.raw} {
		if br == nil || br.Size() != readBufSize {
			continue
		}
		br.Reset(nil)
		select {
		case readBufs <- br:
		default:
		}
	}
	in.raw = nil
	in.br = bufio.NewReaderSize(errReader{errClosed}, 16)
	in.base, in.win, in.pend = in.offset(), nil, 0
	in.done = errClosed
}

// errReader is a reader that fails with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// NewReader sniffs the magic bytes of r (gzip, pcap in either byte order and resolution, pcapng) and
// returns a streaming Reader with the default Limits. It reads the file header; a missing or
// truncated header is an error.
func NewReader(r io.Reader) (Reader, error) { return NewReaderLimits(r, Limits{}) }

// NewReaderLimits is NewReader with limits.
func NewReaderLimits(r io.Reader, lim Limits) (Reader, error) {
	rd, _, err := newReader(r, lim)
	return rd, err
}

// newReader is NewReaderLimits, also returning the Reader's input (its buffers are released when
// it is closed; nil with an error, whose buffers are released already).
func newReader(r io.Reader, lim Limits) (Reader, *rdInput, error) {
	in := newInput(&rdCounter{r: r}, lim)
	if f, ok := r.(*os.File); ok {
		in.holes = holeFile(f) // before anything is read from f
	}
	rd, err := in.open()
	if err != nil {
		in.release()
		return nil, nil, err
	}
	return rd, in, nil
}

// newInput returns an input over cr under lim.
func newInput(cr *rdCounter, lim Limits) *rdInput {
	in := &rdInput{cr: cr, maxBytes: lim.MaxBytes, maxFrames: uint32(DefaultMaxFrames)}
	if in.maxBytes <= 0 {
		in.maxBytes = DefaultMaxBytes
	}
	if lim.MaxFrames > 0 {
		in.maxFrames = uint32(min(lim.MaxFrames, math.MaxUint32-1))
	}
	return in
}

// open sniffs the input's format and returns the Reader for it.
func (in *rdInput) open() (Reader, error) {
	raw := newBuffered(in.cr)
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
		in.holes = nil // holes are in the compressed file, not the stream
		in.br = newBuffered(gz)
	}
	magic, err = in.br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return in.openFormat(magic)
}

// openFormat returns the Reader for the format magic (the stream's first bytes, up to 4) says.
func (in *rdInput) openFormat(magic []byte) (Reader, error) {
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
	cr  *rdCounter
	raw *bufio.Reader // buffer over the compressed file (gzip only)
	br  *bufio.Reader // the decompressed stream
	gz  bool
	// base is the offset of win's first byte in the decompressed stream, and base+pend (offset) that
	// of the read position: a record read from the window moves pend alone (base moves when the window
	// is given back to br, by sync), where the read position kept apart took a load, two additions
	// and a store a record.
	base int64
	// maxBytes and maxFrames are the Limits: the stream is not read past maxBytes, and a reader stops
	// after maxFrames records.
	maxBytes  int64
	maxFrames uint32
	skipped   int
	done      error // sticky: io.EOF or a fatal error once the stream cannot be read further
	released  bool  // the input was closed: its buffers went back to readBufs
	closedAt  int64 // Offset when it was closed

	// win is what br held buffered from its read position on when the window was taken, and pend how
	// many bytes of it were consumed since without telling br yet: win[pend:] is buffered from the read
	// position on, and peek and discard serve records from it without calling br (which would return
	// the same bytes, without error, as they are buffered). sync settles up before anything else asks
	// br. (An offset into win rather than win resliced a record at a time: no pointer is stored a
	// record.)
	win  []byte
	pend int

	// holes is the file behind an uncompressed stream when it is a regular file that can report its
	// holes (SEEK_DATA): a run of zeros there is skipped without reading it (see skipHole).
	holes *holeSeeker
}

// sync discards the pending bytes from br and forgets the window.
func (in *rdInput) sync() {
	if in.pend > 0 {
		in.br.Discard(in.pend) // buffered: cannot fail
		in.base += int64(in.pend)
		in.pend = 0
	}
	in.win = nil
}

// offset is the offset of the read position in the decompressed stream.
func (in *rdInput) offset() int64 {
	return in.base + int64(in.pend)
}

// peek returns up to n bytes. A short result with a nil error means the stream ended (EOF);
// any other read failure is returned as an error, and so is a stream that goes on past maxBytes.
func (in *rdInput) peek(n int) ([]byte, error) {
	if w := in.win[in.pend:]; n <= len(w) {
		return w[:n:n], nil
	}
	in.sync()
	if in.offset()+int64(n) > in.maxBytes {
		return in.peekLimit(n)
	}
	b, err := in.br.Peek(n)
	if err == nil {
		// All buffered (no read, no error), up to the limit.
		in.win, _ = in.br.Peek(int(min(int64(in.br.Buffered()), in.maxBytes-in.offset())))
	}
	if len(b) == n || err == nil || errors.Is(err, io.EOF) {
		return b, nil
	}
	return b, in.readErr(in.offset()+int64(len(b)), err)
}

// peekLimit is peek for n bytes that reach past maxBytes: a stream that ends before the limit
// gives its last bytes, one that goes on past it a *LimitError.
func (in *rdInput) peekLimit(n int) ([]byte, error) {
	room := int(max(in.maxBytes-in.offset(), 0)) // < n <= the buffer's size
	b, err := in.br.Peek(room + 1)
	if len(b) > room {
		return b[:room], in.overBytes()
	}
	if err == nil || errors.Is(err, io.EOF) {
		return b, nil
	}
	return b, in.readErr(in.offset()+int64(len(b)), err)
}

// overBytes returns the error for a stream longer than maxBytes.
func (in *rdInput) overBytes() error {
	what := "bytes"
	if in.gz {
		what = "bytes decompressed"
	}
	return &LimitError{What: what, Limit: in.maxBytes, Flag: "--max-bytes"}
}

func (in *rdInput) readErr(off int64, err error) error {
	if in.gz {
		return fmt.Errorf("read compressed stream at offset %d: %w", off, err)
	}
	return fmt.Errorf("read at offset %d: %w", off, err)
}

// discard advances the stream by n bytes and reports how many were actually skipped. Discarding
// past maxBytes is a *LimitError (when the stream goes on past it).
func (in *rdInput) discard(n int) (int, error) {
	if n <= len(in.win)-in.pend {
		in.pend += n
		return n, nil
	}
	in.sync()
	over := in.offset()+int64(n) > in.maxBytes
	if over {
		n = int(max(in.maxBytes-in.offset(), 0))
	}
	d, err := in.br.Discard(n)
	in.base += int64(d) // (pend is 0: sync)
	if err != nil && !errors.Is(err, io.EOF) {
		return d, in.readErr(in.offset(), err)
	}
	if over && d == n {
		if b, _ := in.br.Peek(1); len(b) > 0 {
			return d, in.overBytes()
		}
	}
	return d, nil
}

// zeros consumes the zero bytes from the read position on, in whole units of unit bytes (a power of
// two up to 4096), and returns how many bytes it consumed: all of them up to the end of the stream
// when nothing but zeros is left (tail), else up to the first unit that is not all zeros, or up to
// maxUnits units (maxUnits < 0: no bound).
func (in *rdInput) zeros(unit int, maxUnits int64) (n int64, tail bool, err error) {
	for {
		b, err := in.peek(readBufSize)
		if err != nil && len(b) == 0 {
			return n, false, err
		}
		eof := err == nil && len(b) < readBufSize
		i := nonZero(b)
		if i == len(b) && !eof && in.holes != nil {
			// Only zeros buffered: a sparse file's hole need not be read to be known.
			skipped, tail, herr := in.skipHole(unit, maxUnits, n)
			if herr != nil {
				return n, false, herr
			}
			n += skipped
			if tail {
				return n, true, nil
			}
			if skipped > 0 {
				continue
			}
		}
		if i == len(b) && eof {
			if _, err := in.discard(i); err != nil {
				return n, false, err
			}
			return n + int64(i), true, nil
		}
		k, full := i&^(unit-1), false
		if left := maxUnits - n/int64(unit); maxUnits >= 0 && int64(k/unit) >= left {
			k, full = int(left)*unit, true
		}
		if _, derr := in.discard(k); derr != nil {
			return n, false, derr
		}
		n += int64(k)
		if full || i < len(b) {
			return n, false, nil
		}
		if err != nil { // zeros up to the byte limit
			return n, false, err
		}
	}
}

// zeroBlock is compared against to find the end of a run of zeros quickly.
var zeroBlock [4096]byte

// nonZero returns the index of the first byte of b that is not zero, or len(b).
func nonZero(b []byte) int {
	i := 0
	for ; i+len(zeroBlock) <= len(b); i += len(zeroBlock) {
		if !bytes.Equal(b[i:i+len(zeroBlock)], zeroBlock[:]) {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i] != 0 {
			return i
		}
	}
	return i
}

// skip records a skipped record (or byte range) and returns it as a *RecordError.
func (in *rdInput) skip(frame uint32, off int64, format string, args ...any) error {
	return in.skipN(frame, off, 1, format, args...)
}

// skipN records n skipped records (a run from frame on) and returns them as one *RecordError.
func (in *rdInput) skipN(frame uint32, off int64, n int, format string, args ...any) error {
	in.skipped += n
	return &RecordError{Frame: frame, Offset: off, Records: n, Reason: fmt.Sprintf(format, args...)}
}

// overFrames returns the error for an input with more than maxFrames records: frame is the first
// record not read.
func (in *rdInput) overFrames(frame uint32) error {
	return in.fail(fmt.Errorf("frame %d (offset %d): %w", frame, in.offset(),
		&LimitError{What: "records", Limit: int64(in.maxFrames), Flag: "--max-frames"}))
}

// fail makes err sticky and returns it.
func (in *rdInput) fail(err error) error {
	in.done = err
	return err
}

// truncated reports a record cut short by the end of the file; the next Next returns io.EOF.
func (in *rdInput) truncated(frame uint32, what string, have, want int) error {
	off := in.offset()
	if _, err := in.discard(have); err != nil {
		return in.fail(err)
	}
	in.done = io.EOF
	return in.skip(frame, off, "truncated %s: %d of %d bytes before end of file", what, have, want)
}

// zeroTail reports a zero-filled tail, as a crash or a preallocated file leaves: zero bytes from
// offset start to the end of the stream, whose last n are still to be consumed. It is one skipped
// range, and the next Next returns io.EOF.
func (in *rdInput) zeroTail(start int64, n int) error {
	if _, err := in.discard(n); err != nil {
		return in.fail(err)
	}
	in.done = io.EOF
	return in.skip(0, start, "zero-filled tail: the last %d bytes are zeros, not records (as a crash or a preallocated file leaves): ignored", in.offset()-start)
}

// Compressed reports whether the file was gzip-compressed.
func (in *rdInput) Compressed() bool { return in.gz }

// Offset is the number of bytes consumed from the underlying file so far.
func (in *rdInput) Offset() int64 {
	if in.released {
		return in.closedAt
	}
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
