// Package safetext makes strings taken from captures (file and interface names, pcapng comments,
// payload text) safe to print on a terminal.
package safetext

import (
	"strconv"
	"strings"
)

// Clean replaces control characters (C0, DEL and C1, so every terminal escape sequence) with U+FFFD
// and each byte that is not UTF-8 with a \x escape (a raw 0x9b would otherwise be a C1 CSI). Clean
// strings are returned as they are.
func Clean(s string) string {
	ok := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\uFFFD' {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\uFFFD' && !strings.HasPrefix(s[i:], "\uFFFD"):
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i]), 16))
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
