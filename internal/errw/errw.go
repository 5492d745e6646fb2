// Package errw has a writer that remembers its first write error, so that code writing many small
// pieces (a report, a capture plan) checks for an error once, at the end.
package errw

import "io"

// Writer writes to W until a write fails; from then on it writes nothing and returns that error.
type Writer struct {
	W   io.Writer
	Err error // the first write error
}

// Write writes b to W, unless an earlier write failed.
func (e *Writer) Write(b []byte) (int, error) {
	if e.Err != nil {
		return 0, e.Err
	}
	n, err := e.W.Write(b)
	e.Err = err
	return n, err
}
