package decode

import (
	"errors"
	"io"
)

// ReadAcks reads frames of one capture file again for their TCP acknowledgement numbers, which an
// Observation does not keep. frames are 1-based frame numbers in ascending order; ack[i] is frame
// frames[i]'s acknowledgement number where ok[i]: a TCP segment with ACK set, decoded again. ok[i] is
// false where that cannot be told: the input cannot be read twice (standard input), the frame is gone
// (skipped, or past a read error), or it carries no TCP ACK. The file is read once, up to the last
// frame asked for.
func ReadAcks(path string, frames []uint32, opts Options) (ack []uint32, ok []bool) {
	ack, ok = make([]uint32, len(frames)), make([]bool, len(frames))
	if path == "-" || len(frames) == 0 {
		return ack, ok
	}
	r, c, err := openInput(path, opts)
	if err != nil {
		return ack, ok
	}
	defer c.Close()
	var rec Record
	var p Packet
	i := 0
	pr, _ := r.(*pcapReader)
	for i < len(frames) {
		if pr != nil && frames[i] > pr.frame+1 { // the records before the next frame asked for: passed over
			pr.skipBuffered(int(frames[i] - pr.frame - 1))
		}
		if err := r.Next(&rec); err != nil {
			var re *RecordError
			if errors.As(err, &re) && !errors.Is(err, io.EOF) {
				continue // a skipped record: its frame, if asked for, stays unknown
			}
			return ack, ok
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
	return ack, ok
}

// AckReader returns ReadAcks over c's files by their index in c.Files, with the options they were
// loaded with (correlate.Options.Acks).
func AckReader(c *Capture, opts Options) func(file int, frames []uint32) ([]uint32, []bool) {
	return func(file int, frames []uint32) ([]uint32, []bool) {
		if file < 0 || file >= len(c.Files) {
			return make([]uint32, len(frames)), make([]bool, len(frames))
		}
		return ReadAcks(c.Files[file].Path, frames, opts)
	}
}
