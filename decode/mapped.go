package decode

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"syscall"
	"unsafe"

	"github.com/calipath/calipath/internal/prefault"
)

// A plain (uncompressed) capture file is read from a mapping of the file into memory rather than
// copied into a buffer by read(2): records are served from the page cache, and the kernel's copy of
// every byte is saved. Only the scan does so (scanFile, which catches what a file cut short while
// mapped does, see mappedFault); stdin, pipes, gzip-compressed files and inputs opened through
// Options.Open are read as streams.

// newMappedInput returns an input that serves data (a whole uncompressed capture) from memory under
// lim, as a stream of the same bytes would be served.
func newMappedInput(data []byte, lim Limits) *rdInput {
	in := newInput(&rdCounter{}, lim)
	in.mapped = data
	in.setWin()
	return in
}

// newMappedReader is newReader for data served from memory. data must not start with gzip's magic.
func newMappedReader(data []byte, lim Limits) (Reader, *rdInput, error) {
	in := newMappedInput(data, lim)
	rd, err := in.open()
	if err != nil {
		in.release()
		return nil, nil, err
	}
	return rd, in, nil
}

// gzipped reports whether data starts with gzip's magic.
func gzipped(data []byte) bool { return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b }

// mapWindow is the most a mapped input's window holds: a record that does not fit in what is left
// of it moves it on (setWin), which lets the pages behind go, so that the process holds no more than
// a few windows of the file. (A variable for tests.)
var mapWindow int64 = 4 << 20

// setWin makes the window the mapped bytes from the read position on, up to mapWindow of them and
// the byte limit.
func (in *rdInput) setWin() {
	end := min(int64(len(in.mapped)), max(in.maxBytes, in.off), in.off+mapWindow)
	in.win, in.pend = in.mapped[in.off:end:end], 0
	if in.mapFile {
		in.letGoBehind()
	}
	if in.mapIn && end > in.mapTo {
		prefault.Read(in.mapped[max(in.off, in.mapTo):end])
		in.mapTo = end
	}
}

// letGoBehind lets the pages more than a window behind the read position go (the page cache keeps
// them; the process's memory holds only what it reads). The pages ahead are mapped a window at a time
// as setWin sets it, in one call (prefault.Read, MADV_POPULATE_READ), for a file with no holes (a
// hole's pages would be read into the page cache as zeros); elsewhere by the faults of their first
// reads, each of which maps the pages around it (the kernel's fault-around) and reads ahead in the
// file (MADV_SEQUENTIAL). On the VM of issue 17 (one core, many-flow set) the calls saved a quarter
// of the faults left and some system time; the window mapped in is one the scan reads next.
func (in *rdInput) letGoBehind() {
	page := int64(os.Getpagesize()) // what madvise aligns to
	if behind := (in.off - mapWindow) &^ (page - 1); behind-in.mapFrom >= mapWindow {
		letGo(in.mapped[in.mapFrom:behind])
		in.mapFrom = behind
	}
}

// peekMapped is peek for more bytes than the window holds: the window moves on, and the bytes are
// served unless the input ends first (those it holds are all there are) or the byte limit does (an
// error when the input goes on past it).
func (in *rdInput) peekMapped(n int) ([]byte, error) {
	in.setWin()
	rest := in.mapped[in.off:]
	if room := max(in.maxBytes-in.off, 0); int64(n) > room && int64(len(rest)) > room {
		return rest[:room:room], in.overBytes()
	}
	k := min(n, len(rest))
	return rest[:k:k], nil
}

// discardMapped is discard for more bytes than the window holds.
func (in *rdInput) discardMapped(n int) (int, error) {
	over := in.off+int64(n) > in.maxBytes
	if over {
		n = int(max(in.maxBytes-in.off, 0))
	}
	d := min(n, len(in.mapped)-int(in.off))
	in.off += int64(d)
	in.setWin()
	if over && d == n && in.off < int64(len(in.mapped)) {
		return d, in.overBytes()
	}
	return d, nil
}

// skipHoleMapped is skipHole for a mapped file: the hole up to the next data is skipped without
// touching its pages (reading them would fill the page cache with zeros).
func (in *rdInput) skipHoleMapped(unit int, maxUnits, done int64) (skipped int64, tail bool, err error) {
	h := in.holes
	next, serr := h.f.Seek(h.base+in.off, seekData)
	end := int64(len(in.mapped)) // the file's size when it was mapped: what the mapping holds
	switch {
	case errors.Is(serr, syscall.ENXIO): // no data after the read position: all zeros to the end
		if end < in.off {
			return 0, false, nil
		}
		skipped, tail = end-in.off, true
	case serr != nil:
		return 0, false, nil
	default:
		hole := (min(next-h.base, end) - in.off) &^ int64(unit-1)
		if maxUnits >= 0 {
			hole = min(hole, (maxUnits-done/int64(unit))*int64(unit))
		}
		if hole <= readBufSize { // the stream's buffer would reach as far: read on as usual
			return 0, false, nil
		}
		skipped = hole
	}
	if !tail && in.off+skipped > in.maxBytes { // the stream goes on past the limit: read up to it
		return 0, false, nil
	}
	in.off += skipped
	in.setWin()
	return skipped, tail, nil
}

// mappedCloser closes a mapped input: the Reader first (it serves nothing more), then the mapping
// and the file.
type mappedCloser struct {
	f    *os.File
	in   *rdInput
	data []byte
}

func (c *mappedCloser) Close() error {
	c.in.release()
	err := unmap(c.data)
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// errMapFault is what reading a mapped file stops with when its mapping could no longer be read:
// the file was cut short (truncated) while it was read, or its storage failed.
var errMapFault = errors.New("the file could not be read where it was mapped: it was truncated or its storage failed while it was read (the rest of the file is not read)")

// mappedFault runs read, which reads the mapping data, and returns a fault read met inside data as
// an error instead of crashing: a file truncated while it is mapped makes reading its lost pages a
// SIGBUS. Any other panic passes on. The goroutine's SetPanicOnFault is restored.
func mappedFault(data []byte, read func()) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if f, ok := v.(interface{ Addr() uintptr }); ok && inside(f.Addr(), data) {
			err = fmt.Errorf("%w (%v)", errMapFault, v)
			return
		}
		panic(v)
	}()
	read()
	return nil
}

// inside reports whether addr is the address of one of b's bytes.
func inside(addr uintptr, b []byte) bool {
	if len(b) == 0 {
		return false
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return addr >= start && addr-start < uintptr(len(b))
}

// openMapped opens path as a mapped input when it is a plain capture file that can be mapped (a
// non-empty regular file that is not gzip-compressed, on a system that maps files); ok is false
// when it is not, and the caller reads it as a stream. An error is one opening it as a stream
// would have met too.
func openMapped(path string, lim Limits) (r Reader, c *mappedCloser, ok bool, err error) {
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return nil, nil, false, nil // opened once, as a stream (a FIFO's writer meets one reader)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, false, nil
	}
	data, ok := mapFile(f)
	gz := false
	if ok { // the file may be cut short under the mapping before its first bytes are read
		if ferr := mappedFault(data, func() { gz = gzipped(data) }); ferr != nil {
			_ = unmap(data)
			f.Close()
			return nil, nil, true, fmt.Errorf("%s: %w", path, ferr)
		}
	}
	if !ok || gz {
		if ok {
			_ = unmap(data)
		}
		f.Close()
		return nil, nil, false, nil
	}
	in := newInput(&rdCounter{}, lim)
	in.mapped, in.mapFile, in.mapIn = data, true, dense(f)
	in.setWin()
	in.holes = holeFile(f)
	var rd Reader
	if ferr := mappedFault(data, func() { rd, err = in.open() }); ferr != nil {
		err = ferr
	}
	if err != nil {
		in.release()
		_ = unmap(data)
		f.Close()
		return nil, nil, true, fmt.Errorf("%s: %w", path, err)
	}
	return rd, &mappedCloser{f: f, in: in, data: data}, true, nil
}
