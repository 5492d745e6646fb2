package decode

import (
	"errors"
	"io"
	"os"
)

// ReadAcks reads frames of one capture file again for their TCP acknowledgement numbers, which an
// Observation does not keep. frames are 1-based frame numbers in ascending order; ack[i] is frame
// frames[i]'s acknowledgement number where ok[i]: a TCP segment with ACK set, decoded again. ok[i] is
// false where that cannot be told: the input cannot be read twice (standard input), the frame is gone
// (skipped, or past a read error), or it carries no TCP ACK. The file is read once, up to the last
// frame asked for.
func ReadAcks(path string, frames []uint32, opts Options) (ack []uint32, ok []bool) {
	ack, ok, _ = readAcks(path, frames, nil, opts)
	return ack, ok
}

// ReadAcksIndexed is ReadAcks reading through idx (the file's FrameIndex, nil for none) when the file
// is still as it was read: before each frame asked for, from the mark before it when that mark lies
// past the records read so far, not through every record up to it (the frames asked for are few and
// far apart: placement's late ACKs). It returns the same.
func ReadAcksIndexed(path string, frames []uint32, idx *FrameIndex, opts Options) (ack []uint32, ok []bool) {
	ack, ok, _ = readAcks(path, frames, idx, opts)
	return ack, ok
}

// readAcks is ReadAcksIndexed, also reporting how many bytes of the file it read (not those it went
// past by a mark).
func readAcks(path string, frames []uint32, idx *FrameIndex, opts Options) (ack []uint32, ok []bool, read int64) {
	ack, ok = make([]uint32, len(frames)), make([]bool, len(frames))
	if path == "-" || len(frames) == 0 {
		return ack, ok, 0
	}
	var r Reader
	var c io.Closer
	var err error
	var f *os.File // the file, when the reader may go to idx's marks in it
	if idx != nil && opts.Open == nil {
		r, c, err = openFile(path, opts.Limits, func(fl *os.File, r Reader) error {
			st, err := fl.Stat()
			if _, isPcap := r.(*pcapReader); err == nil && isPcap && !r.Compressed() && st.Size() == idx.Size && st.ModTime().Equal(idx.ModTime) {
				f = fl
			}
			return nil // (read from the start: the first frame's mark is looked at as any other's)
		})
	} else {
		r, c, err = openInput(path, opts)
	}
	if err != nil {
		return ack, ok, 0
	}
	defer c.Close()
	var rec Record
	var p Packet
	i := 0
	pr, _ := r.(*pcapReader)
	from := r.Offset()
	defer func() { read += r.Offset() - from }()
	for i < len(frames) {
		if pr != nil && frames[i] > pr.frame+1 { // the records before the next frame asked for: gone past, passed over
			if m, has := idx.before(frames[i]); f != nil && has && m.Frame > pr.frame {
				read += r.Offset() - from
				err := pr.seekMark(f, m)
				if from = r.Offset(); err != nil {
					return ack, ok, read
				}
			}
			pr.skipBuffered(int(frames[i] - pr.frame - 1))
		}
		if err := r.Next(&rec); err != nil {
			var re *RecordError
			if errors.As(err, &re) && !errors.Is(err, io.EOF) {
				continue // a skipped record: its frame, if asked for, stays unknown
			}
			return ack, ok, read
		}
		for i < len(frames) && frames[i] < rec.Frame {
			i++ // skipped, or asked for twice
		}
		if i == len(frames) || frames[i] != rec.Frame {
			continue
		}
		p = Packet{}
		decodeFast(rec.LinkType, rec.Data, rec.OrigLen, opts.VXLANPort, opts.WireGuardPort, &p)
		if p.HasTCP && p.TCP.Flags&TCPAck != 0 && p.Errs&ErrTruncated == 0 {
			ack[i], ok[i] = p.TCP.Ack, true
		}
		i++
	}
	return ack, ok, read
}

// AckReader returns ReadAcks over c's files by their index in c.Files, with the options they were
// loaded with (correlate.Options.Acks).
func AckReader(c *Capture, opts Options) func(file int, frames []uint32) ([]uint32, []bool) {
	return func(file int, frames []uint32) ([]uint32, []bool) {
		if file < 0 || file >= len(c.Files) {
			return make([]uint32, len(frames)), make([]bool, len(frames))
		}
		return ReadAcksIndexed(c.Files[file].Path, frames, c.Files[file].FrameIndex, opts)
	}
}
