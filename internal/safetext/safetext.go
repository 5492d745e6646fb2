// Package safetext is calipath's one rule for text that comes from captures or the command line
// (file and interface names, pcapng comments, --point and --links contents, payload text): such text
// never reaches a terminal or a browser as code.
//
// A rune is unsafe when it is a C0 or C1 control character or DEL (every terminal escape sequence
// starts with one: ESC, OSC, CSI, BEL) or a bidirectional formatting character (U+061C, U+200E,
// U+200F, U+202A–U+202E, U+2066–U+2069), which reorders the text around it so that what is shown is
// not what is there. Clean shows unsafe runes, and bytes that are not UTF-8, as visible escapes; it is
// what the text, Markdown and HTML reports, the TUI and every message on stderr print. JSON keeps the
// text as it is but escapes every unsafe rune (JSON, JSONWriter), so a consumer gets the exact name
// and a terminal that shows the file gets none of its codes.
package safetext

import (
	"io"
	"unicode/utf8"
)

// Unsafe reports whether r may not be shown as it is: a C0 or C1 control character, DEL, or a
// bidirectional formatting character.
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

const hexDigits = "0123456789abcdef"

// AppendEscape appends the visible escape of an unsafe rune: \x1b for a C0 control or DEL (one byte),
// \u009b for a C1 control and \u202e for a bidirectional character (the code point).
func AppendEscape(b []byte, r rune) []byte {
	if r < 0x80 {
		return append(b, '\\', 'x', hexDigits[r>>4], hexDigits[r&0xf])
	}
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// AppendByte appends the visible escape of a byte that is not UTF-8: \xff.
func AppendByte(b []byte, c byte) []byte {
	return append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
}

// Clean returns s with every unsafe rune shown as its escape (AppendEscape) and every byte that is
// not UTF-8 as \xNN (a raw 0x9b would otherwise be a C1 CSI). Clean strings, which are nearly all, are
// returned as they are; cleaning is idempotent. A backslash is not escaped: "\x1b" in a name shows as
// the same four characters that an ESC does.
func Clean(s string) string {
	if isClean(s) {
		return s
	}
	b := make([]byte, 0, len(s)+16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = AppendByte(b, s[i])
		case Unsafe(r):
			b = AppendEscape(b, r)
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b)
}

// isClean reports whether s is valid UTF-8 without an unsafe rune.
func isClean(s string) bool {
	for i := 0; i < len(s); {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			i++
			continue
		} else if c < 0x80 {
			return false
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || Unsafe(r) {
			return false
		}
		i += n
	}
	return true
}

// JSON returns the encoding/json output b with every unsafe rune that encoding/json leaves as it is
// (DEL, C1 controls and bidirectional characters) written as a \u escape. encoding/json escapes C0
// controls itself and never writes a byte that is not UTF-8, and such runes occur in its output only
// inside strings, so the result is the same JSON value. b is returned as it is when it holds none.
func JSON(b []byte) []byte {
	i := jsonUnsafeAt(b)
	if i < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	for i >= 0 {
		out = append(out, b[:i]...)
		r, n := utf8.DecodeRune(b[i:])
		out = append(out, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		b = b[i+n:]
		i = jsonUnsafeAt(b)
	}
	return append(out, b...)
}

// jsonUnsafeAt returns the offset of the first unsafe rune in b that encoding/json does not escape,
// or -1.
func jsonUnsafeAt(b []byte) int {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == 0x7f {
			return i
		}
		if c < 0x80 {
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if Unsafe(r) {
			return i
		}
		i += n - 1
	}
	return -1
}

// JSONWriter returns a writer that passes encoding/json output to w through JSON. Each Write must
// hold whole runes, as a json.Encoder's do (one Write per value); the count returned is of the bytes
// given.
func JSONWriter(w io.Writer) io.Writer { return jsonWriter{w} }

type jsonWriter struct{ w io.Writer }

func (j jsonWriter) Write(b []byte) (int, error) {
	out := JSON(b)
	if _, err := j.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// jsonPlain marks the bytes AppendJSONString copies as they are: the ASCII characters JSON needs no
// escape for, less those encoding/json escapes for HTML (<, >, &) and DEL.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c != 0x7f
	}
	return t
}()

// AppendJSONString appends s quoted as encoding/json does with HTML escaping (its Encoder's
// default), with safetext.JSON's escapes on top: DEL, C1 controls and bidirectional characters as
// \u escapes. The result is what JSON gives for encoding/json's quoting of s, without the second
// pass: a writer of JSON by hand quotes strings with it.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029' || Unsafe(r):
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		default:
			i += n
			continue
		}
		i += n
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
