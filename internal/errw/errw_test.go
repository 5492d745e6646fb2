package errw

import (
	"bytes"
	"errors"
	"testing"
)

type failAfter struct {
	n   int
	buf bytes.Buffer
}

var errFull = errors.New("full")

func (f *failAfter) Write(b []byte) (int, error) {
	if f.n == 0 {
		return 0, errFull
	}
	f.n--
	return f.buf.Write(b)
}

func TestWriterKeepsFirstError(t *testing.T) {
	f := &failAfter{n: 1}
	w := &Writer{W: f}
	for _, s := range []string{"a", "b", "c"} {
		w.Write([]byte(s))
	}
	if !errors.Is(w.Err, errFull) || f.buf.String() != "a" {
		t.Errorf("Err = %v, written %q; want errFull after \"a\"", w.Err, f.buf.String())
	}
	if n, err := w.Write([]byte("d")); n != 0 || !errors.Is(err, errFull) {
		t.Errorf("a write after the error: %d, %v", n, err)
	}
}
