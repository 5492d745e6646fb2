package decode

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ReadFrame opens a capture file, walks to the given 1-based frame number and returns that record
// and its decoded Packet. Unlike a Reader's records, the result owns its bytes: rec.Data is a copy and
// p.Payload points into that copy, so both stay valid. VXLAN is recognised on the default port.
//
// It returns an error when the file cannot be read, when the frame was skipped as damaged, or when
// the file holds fewer frames.
func ReadFrame(path string, frame uint32) (Record, Packet, error) {
	return ReadFrameOptions(path, frame, Options{})
}

// ReadFrameOptions is ReadFrame with decoding options (the VXLAN and WireGuard ports).
func ReadFrameOptions(path string, frame uint32, opts Options) (Record, Packet, error) {
	rec, p, _, err := readFrame(path, frame, opts, nil)
	return rec, p, err
}

// readFrame is ReadFrameOptions; seek (when not nil) may position the Reader, just opened on the file,
// nearer the frame, or end the read with an error. It also returns how many bytes it read from where it
// began reading records.
func readFrame(path string, frame uint32, opts Options, seek func(*os.File, Reader) error) (rec Record, p Packet, read int64, err error) {
	if frame == 0 {
		return rec, p, 0, fmt.Errorf("read %s: frame numbers start at 1", path)
	}
	var r Reader
	var c io.Closer
	if path == "-" || seek == nil {
		r, c, err = OpenLimits(path, opts.Limits)
	} else {
		r, c, err = openFile(path, opts.Limits, seek)
	}
	if err != nil {
		return rec, p, 0, fmt.Errorf("read %s: %w", path, err)
	}
	start := r.Offset()
	defer func() {
		read = r.Offset() - start
		c.Close()
	}()
	rec, p, err = frameOf(r, path, frame, opts)
	return rec, p, read, err
}

// openFile is OpenLimits for a file by path, which seek (if not nil) may position before its first
// record is read; an error from seek is openFile's.
func openFile(path string, lim Limits, seek func(*os.File, Reader) error) (Reader, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	r, in, err := newReader(f, lim)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	c := &inputCloser{f: f, in: in}
	if seek != nil {
		if err := seek(f, r); err != nil {
			c.Close()
			return nil, nil, err
		}
	}
	return r, c, nil
}

// frameOf reads r up to frame and returns its record, which owns its bytes, and its Packet.
func frameOf(r Reader, path string, frame uint32, opts Options) (Record, Packet, error) {
	var rec Record
	var p Packet
	for {
		if err := r.Next(&rec); err != nil { // errors.As's target is made for an error only, not each record
			var re *RecordError
			switch {
			case errors.Is(err, io.EOF):
				return Record{}, p, fmt.Errorf("read %s: frame %d not found: the file ends first", path, frame)
			case errors.As(err, &re):
				if re.Frame == frame {
					return Record{}, p, fmt.Errorf("read %s: frame %d was skipped: %w", path, frame, err)
				}
				if re.Frame > frame {
					return Record{}, p, fmt.Errorf("read %s: frame %d not found", path, frame)
				}
				continue
			default:
				return Record{}, p, fmt.Errorf("read %s: frame %d: %w", path, frame, err)
			}
		}
		if rec.Frame < frame {
			continue
		}
		if rec.Frame > frame {
			return Record{}, p, fmt.Errorf("read %s: frame %d not found", path, frame)
		}
		rec.Data = append([]byte(nil), rec.Data...)
		decodeFast(rec.LinkType, rec.Data, rec.OrigLen, opts.VXLANPort, opts.WireGuardPort, &p)
		if rec.FracOver {
			p.Errs |= ErrTimestamp
		}
		return rec, p, nil
	}
}
