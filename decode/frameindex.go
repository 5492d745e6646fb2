package decode

import (
	"fmt"
	"io"
	"os"
	"sort"
	"time"
)

// markEvery is how many frames read apart a FrameIndex marks the file (progressEvery is a multiple
// of it: the scan tests one count for both). 4,096 rather than 16,384: placement's late ACKs
// (ReadAcksIndexed) read from the mark before each, on average half of markEvery records, for 6 bytes
// of marks per 1,000 frames.
const markEvery = 1 << 12

// FrameMark is where a frame's record ends in a capture file: the frames after it are read from
// there on.
type FrameMark struct {
	Frame  uint32 // the frame whose record ends at Off
	Off    int64  // the offset in the file of the byte after its record
	PrevTs int64  // its timestamp (the reader's resynchronisation compares the next record's with it)
}

// FrameIndex marks an uncompressed pcap file every markEvery frames as Load read it
// (FileInfo.FrameIndex), so that ReadFrameIndexed reads a frame from the mark before it instead of
// from the start of the file: the TUI's packet screen reads a journey's frames, and a frame near the
// end of an underlay capture of a million frames took a scan of all of them. Size and ModTime are the
// file's when it was read: ReadFrameIndexed does not read a file that changed since (its frame numbers
// may hold other packets now). Other regular files read by path (pcapng, compressed) have an index of
// no marks, for Size and ModTime.
type FrameIndex struct {
	Size    int64
	ModTime time.Time
	Marks   []FrameMark
	marks   bool // the file's format lets a read start at a mark
}

// newFrameIndex returns the index to fill while scanning path through r, or nil when path is not a
// regular file opened by path (standard input, a file opened by opts.Open).
func newFrameIndex(path string, r Reader, opts Options) *FrameIndex {
	if path == "-" || opts.Open != nil {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	return &FrameIndex{Size: st.Size(), ModTime: st.ModTime(), marks: !r.Compressed() && r.Format() == FormatPcap}
}

// mark records that rec's record ends at offset off.
func (x *FrameIndex) mark(rec *Record, off int64) {
	if x.marks {
		x.Marks = append(x.Marks, FrameMark{Frame: rec.Frame, Off: off, PrevTs: rec.Ts})
	}
}

// before returns the last mark of a frame before frame, and false when there is none.
func (x *FrameIndex) before(frame uint32) (FrameMark, bool) {
	if x == nil {
		return FrameMark{}, false
	}
	i := sort.Search(len(x.Marks), func(i int) bool { return x.Marks[i].Frame >= frame })
	if i == 0 {
		return FrameMark{}, false
	}
	return x.Marks[i-1], true
}

// FileChangedError says that a file changed since Load read it: its size or modification time is no
// longer what its FrameIndex holds, so its frame numbers may hold other packets now.
type FileChangedError struct {
	Size, NowSize       int64
	ModTime, NowModTime time.Time
}

func (e *FileChangedError) Error() string {
	return fmt.Sprintf("the file changed since calipath read it (%d bytes modified %s, now %d bytes modified %s): "+
		"its frame numbers may hold other packets now; run calipath on it again", e.Size,
		e.ModTime.UTC().Format("2006-01-02 15:04:05.000000000"), e.NowSize, e.NowModTime.UTC().Format("2006-01-02 15:04:05.000000000"))
}

// ReadFrameIndexed is ReadFrameOptions reading from the mark of idx (the file's FrameIndex, nil for
// none) before frame; it returns the same record and packet, or, when the file's size or modification
// time is not idx's, a *FileChangedError (wrapped) and reads nothing.
func ReadFrameIndexed(path string, frame uint32, idx *FrameIndex, opts Options) (Record, Packet, error) {
	rec, p, _, err := readFrameIndexed(path, frame, idx, opts)
	return rec, p, err
}

// readFrameIndexed is ReadFrameIndexed, also reporting how many bytes it read from the file.
func readFrameIndexed(path string, frame uint32, idx *FrameIndex, opts Options) (Record, Packet, int64, error) {
	if idx == nil {
		return readFrame(path, frame, opts, nil)
	}
	return readFrame(path, frame, opts, func(f *os.File, r Reader) error {
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if st.Size() != idx.Size || !st.ModTime().Equal(idx.ModTime) {
			return &FileChangedError{Size: idx.Size, NowSize: st.Size(), ModTime: idx.ModTime, NowModTime: st.ModTime()}
		}
		m, ok := idx.before(frame)
		pr, isPcap := r.(*pcapReader)
		if ok && isPcap && !r.Compressed() {
			_ = pr.seekMark(f, m) // not reported, as before: frameOf reads on from where the reader stands
		}
		return nil
	})
}

// seekMark positions r, just opened on f, at the end of m's record: the next record read is frame
// m.Frame+1.
func (r *pcapReader) seekMark(f *os.File, m FrameMark) error {
	in := r.rdInput
	in.sync()
	if _, err := f.Seek(m.Off, io.SeekStart); err != nil {
		return fmt.Errorf("seek to offset %d: %w", m.Off, err)
	}
	in.cr.n = m.Off
	in.br.Reset(in.cr)
	in.win, in.pend, in.base = nil, 0, m.Off
	r.frame, r.prevTs, r.havePrev = m.Frame, m.PrevTs, true
	return nil
}
