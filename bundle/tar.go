package bundle

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/calipath/calipath/decode"
)

// Limits of the tar walker, beside decode.Limits.MaxBytes (which bounds the decompressed stream of a
// tarball, as it bounds every other input).
const (
	// maxEntries is how many entries of one tarball are looked at (a Retina bundle holds a few
	// hundred: its proc-net and proc-sys-net copies).
	maxEntries = 1 << 16
	// maxText is how much of a text entry (ip-resources.txt, tcpdump.log) is read.
	maxText = 16 << 20
	// sniffLen is how many bytes of an entry or file decide what it is.
	sniffLen = 512
)

// Sep separates a tarball's path from the name of an entry in it, in the paths calipath gives the
// captures it reads from tarballs: bundle.tar.gz!/capture.pcap.
const Sep = "!/"

// kind is what a file or entry holds, decided by its first bytes.
type kind int

const (
	kindOther   kind = iota
	kindCapture      // pcap or pcapng, possibly gzip-compressed
	kindTar          // a tar archive, possibly gzip-compressed
	kindGzip         // gzip of something else
	kindText         // printable text (dumps, logs, metadata)
)

// sniff tells what b, the first bytes of a stream, starts. A gzip stream is looked into.
func sniff(b []byte) kind {
	if len(b) >= 4 {
		switch string(b[:4]) {
		case "\xd4\xc3\xb2\xa1", "\xa1\xb2\xc3\xd4", "\x4d\x3c\xb2\xa1", "\xa1\xb2\x3c\x4d", "\x0a\x0d\x0d\x0a":
			return kindCapture
		}
	}
	if len(b) >= 262 && string(b[257:262]) == "ustar" {
		return kindTar
	}
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return kindGzip
		}
		in := make([]byte, sniffLen)
		n, _ := io.ReadFull(zr, in)
		switch sniff(in[:n]) {
		case kindCapture:
			return kindCapture
		case kindTar:
			return kindTar
		}
		return kindGzip
	}
	if len(b) > 0 && isText(b) {
		return kindText
	}
	return kindOther
}

// isText reports whether b looks like text: no NUL and few control characters.
func isText(b []byte) bool {
	ctl := 0
	for _, c := range b {
		switch {
		case c == 0:
			return false
		case c < 0x20 && c != '\n' && c != '\r' && c != '\t':
			ctl++
		}
	}
	return ctl*20 < len(b)
}

// countingReader stops a stream at max bytes with a *decode.LimitError.
type countingReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.max {
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			return 0, &decode.LimitError{What: "bytes decompressed", Limit: c.max, Flag: "--max-bytes"}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.max-c.n {
		p = p[:c.max-c.n]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// entry is one regular file of a tarball as the walker hands it over: its name, size claim, first
// bytes and a reader of its content (valid until the walker moves on).
type entry struct {
	name string
	size int64
	head []byte
	r    io.Reader
}

// tarStream opens the tar stream of r: gzip-compressed or not, decided by its first bytes, and bounded
// by maxBytes decompressed.
func tarStream(r io.Reader, maxBytes int64) (*tar.Reader, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2)
	var in io.Reader = br
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		in = zr
	}
	if maxBytes <= 0 {
		maxBytes = decode.DefaultMaxBytes
	}
	return tar.NewReader(&countingReader{r: in, max: maxBytes}), nil
}

// walkTar calls fn for each regular file of the tarball read from r, in order, and returns the
// problems met: entries skipped for their names (absolute, "..", a name given twice), for a size
// claim past maxBytes, links and devices, and the error that ended the walk (a truncated or corrupt
// stream, the --max-bytes limit, too many entries), each naming the entry. fn returning false stops
// the walk. It never panics on any input.
func walkTar(r io.Reader, maxBytes int64, fn func(e *entry) bool) (problems []string, err error) {
	tr, err := tarStream(r, maxBytes)
	if err != nil {
		return nil, err
	}
	if maxBytes <= 0 {
		maxBytes = decode.DefaultMaxBytes
	}
	seen := map[string]bool{}
	last := ""
	for n := 0; ; n++ {
		if n >= maxEntries {
			return problems, fmt.Errorf("more than %d entries: the rest is not read", maxEntries)
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return problems, nil
		}
		if err != nil {
			return problems, walkErr(last, err)
		}
		name := h.Name
		last = name
		switch h.Typeflag {
		case tar.TypeReg, 0: // 0: tar.TypeRegA, old archives' regular files
		case tar.TypeDir, tar.TypeXGlobalHeader:
			continue
		default:
			problems = append(problems, fmt.Sprintf("entry %q: skipped (a link or special file, type %q)", name, h.Typeflag))
			continue
		}
		if bad := badName(name); bad != "" {
			problems = append(problems, fmt.Sprintf("entry %q: skipped (%s; calipath writes nothing, but such a name is a hostile archive's)", name, bad))
			continue
		}
		clean := path.Clean(name)
		if seen[clean] {
			problems = append(problems, fmt.Sprintf("entry %q: skipped (a second entry of that name)", name))
			continue
		}
		seen[clean] = true
		if h.Size > maxBytes {
			return problems, fmt.Errorf("entry %q claims %d bytes, more than %d (raise the limit with --max-bytes): the rest is not read", name, h.Size, maxBytes)
		}
		head := make([]byte, sniffLen)
		k, err := io.ReadFull(tr, head)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return problems, walkErr(name, err)
		}
		if int64(k) < min(h.Size, sniffLen) {
			return problems, fmt.Errorf("entry %q: truncated: %d of %d bytes before the end of the archive", name, k, h.Size)
		}
		if !fn(&entry{name: clean, size: h.Size, head: head[:k], r: io.MultiReader(bytes.NewReader(head[:k]), tr)}) {
			return problems, nil
		}
	}
}

// walkErr words an error that ended a walk after entry last.
func walkErr(last string, err error) error {
	var le *decode.LimitError
	if errors.As(err, &le) {
		return fmt.Errorf("%w: the rest is not read", err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		if last == "" {
			return errors.New("truncated before its first entry")
		}
		return fmt.Errorf("truncated in or after entry %q: the rest is not read", last)
	}
	if last == "" {
		return fmt.Errorf("not a readable tar archive: %w", err)
	}
	return fmt.Errorf("after entry %q: %w: the rest is not read", last, err)
}

// badName says what is wrong with an entry's name for calipath's purposes, or "".
func badName(name string) string {
	switch {
	case name == "":
		return "an empty name"
	case strings.HasPrefix(name, "/"):
		return "an absolute path"
	case strings.ContainsRune(name, 0):
		return "a NUL in its name"
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return `a ".." in its path`
		}
	}
	return ""
}
