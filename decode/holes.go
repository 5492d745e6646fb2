package decode

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// seekData and seekHole are lseek's whence values that find a sparse file's data and holes (Linux,
// and the BSDs and Solaris with the same numbers).
const (
	seekData = 3
	seekHole = 4
)

// holeSeeker is a regular file read from the start of an rdInput's stream: it maps the stream's
// offsets to the file's (base is where the stream began) and asks the file where its next data is.
type holeSeeker struct {
	f    *os.File
	base int64
	size int64
}

// holeFile returns f as a holeSeeker when it is a regular file whose file system answers SEEK_DATA,
// else nil. It must be called before anything is read from f: the stream begins where f is.
func holeFile(f *os.File) *holeSeeker {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	pos, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil
	}
	if _, err := f.Seek(0, seekData); err != nil && !errors.Is(err, syscall.ENXIO) {
		f.Seek(pos, io.SeekStart)
		return nil // SEEK_DATA not supported here
	}
	if _, err := f.Seek(pos, io.SeekStart); err != nil {
		return nil
	}
	return &holeSeeker{f: f, base: pos, size: st.Size()}
}

// skipHole is called by zeros when everything buffered from the read position on is zeros. It asks
// the file where its next data begins at or after the read position: if nowhere, the rest of the
// file is one hole, consumed as a zero-filled tail (tail true); if further on than the buffer
// reaches, the hole up to there is consumed in whole units (at most maxUnits units counted from done
// bytes already consumed by zeros) without being read. It returns the bytes it consumed.
func (in *rdInput) skipHole(unit int, maxUnits, done int64) (skipped int64, tail bool, err error) {
	h := in.holes
	in.sync()
	read := in.cr.n // the file is read up to here; the stream's read position is in.offset()
	next, serr := h.f.Seek(h.base+in.offset(), seekData)
	restore := func() error {
		_, err := h.f.Seek(h.base+read, io.SeekStart)
		return err
	}
	switch {
	case errors.Is(serr, syscall.ENXIO): // no data after the read position: all zeros to the end
		end := h.size - h.base
		if st, err := h.f.Stat(); err == nil { // the file may have grown since it was opened
			end = st.Size() - h.base
		}
		if end < in.offset() {
			return 0, false, restore()
		}
		skipped, tail = end-in.offset(), true
	case serr != nil:
		return 0, false, restore()
	default:
		hole := (next - h.base - in.offset()) &^ int64(unit-1)
		if maxUnits >= 0 {
			hole = min(hole, (maxUnits-done/int64(unit))*int64(unit))
		}
		if hole <= int64(in.br.Buffered()) { // the buffer reaches as far: read on as usual
			return 0, false, restore()
		}
		skipped = hole
	}
	if !tail && in.offset()+skipped > in.maxBytes { // the stream goes on past the limit: read up to it
		return 0, false, restore()
	}
	target := in.offset() + skipped
	if _, err := h.f.Seek(h.base+target, io.SeekStart); err != nil {
		return 0, false, restore()
	}
	in.cr.n = target
	in.br.Reset(in.cr)
	in.base = target // (pend is 0: sync)
	return skipped, tail, nil
}
