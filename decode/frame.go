package decode

import (
	"errors"
	"fmt"
	"io"
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
	var rec Record
	var p Packet
	if frame == 0 {
		return rec, p, fmt.Errorf("read %s: frame numbers start at 1", path)
	}
	r, c, err := OpenLimits(path, opts.Limits)
	if err != nil {
		return rec, p, fmt.Errorf("read %s: %w", path, err)
	}
	defer c.Close()
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
