package report

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/calipath/calipath/internal/safetext"
)

// TestJSONNameCache holds jsonEnc.name to AppendJSONString's bytes over names written again and
// again: the same string, substrings that share its address (one with a length that maps to the
// same slot), names that need escapes, the empty name, and more names than the cache has slots.
func TestJSONNameCache(t *testing.T) {
	long := strings.Repeat("node-1/cali0123456789", 20) // 420 bytes
	names := []string{long[:5], long[:5+nameSlots], long, long[:5], "", `a"b\c<d>`, "pöd/\u2028x", long[:5+nameSlots]}
	for i := range 3 * nameSlots {
		names = append(names, fmt.Sprintf("node-%d/eth%d", i%7, i))
	}
	e := newJSONEnc(io.Discard)
	for round := range 3 {
		for _, s := range names {
			e.buf = e.buf[:0]
			e.name(s)
			if want := string(safetext.AppendJSONString(nil, s)); string(e.buf) != want {
				t.Fatalf("round %d: name(%q) wrote %s, want %s", round, s, e.buf, want)
			}
		}
	}
}
