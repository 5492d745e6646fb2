package decode

import (
	"errors"
	"io"
	"os"
)

// estimateSample is how many records of each input EstimateFrames reads.
const estimateSample = 4096

// EstimateFrames estimates how many frames the inputs hold without reading them: it reads the first
// estimateSample records of each and scales their count by the file's size over the bytes they
// took (for a gzip-compressed file, compressed bytes, so the ratio holds). A file read to its end in
// the sample counts exactly. Inputs whose size is unknown (stdin, pipes, members of a bundle opened
// through opts.Open, files it cannot open) count nothing and are returned in unsized.
func EstimateFrames(paths []string, opts Options) (frames int64, unsized []string) {
	for _, p := range paths {
		n, ok := estimateFile(p, opts)
		if !ok {
			unsized = append(unsized, p)
		}
		frames += n
	}
	return frames, unsized
}

func estimateFile(path string, opts Options) (int64, bool) {
	if path == "-" || opts.Open != nil {
		return 0, false
	}
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return 0, false
	}
	r, c, err := openInput(path, opts)
	if err != nil {
		return 0, st.Size() == 0 // an empty file holds nothing; another that cannot be opened is unknown
	}
	defer c.Close()
	var rec Record
	n := int64(0)
	pr, _ := r.(*pcapReader)
	for n < estimateSample {
		if pr != nil { // the records counted, not looked at: passed over where they are buffered and sound
			if n += int64(pr.skipBuffered(int(estimateSample - n))); n == estimateSample {
				break
			}
		}
		err := r.Next(&rec)
		switch {
		case err == nil:
			n++
		case isRecordError(err):
		case err == io.EOF:
			return n, true
		default:
			return n, true // the rest cannot be read: the scan stops there too
		}
	}
	off := r.Offset()
	if off <= 0 {
		return n, true
	}
	return int64(float64(n) * float64(st.Size()) / float64(off)), true
}

// isRecordError reports whether err is (or wraps) a *RecordError: a record skipped, the reading going
// on. It is a function of its own so that the target errors.As writes to is made only for an error,
// not for every record read.
func isRecordError(err error) bool {
	var re *RecordError
	return errors.As(err, &re)
}
