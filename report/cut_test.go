package report

import (
	"bytes"
	"strings"
	"testing"
)

// Colour codes take no column: a coloured line is cut at the same place as the plain one.
func TestCutIgnoresColour(t *testing.T) {
	plain := "WARNING encap-drop at node-a/cali1234567890 → node-a/tunl0 (12)"
	for _, width := range []int{10, 30, len([]rune(plain)) - 1, 200} {
		var pb, cb bytes.Buffer
		(&text{w: &pb, width: width}).line(plain)
		ct := &text{w: &cb, width: width, color: true}
		ct.line(ct.style(ansiRed, plain))
		got := strings.NewReplacer(ansiRed, "", ansiReset, "").Replace(cb.String())
		if got != pb.String() {
			t.Errorf("width %d: coloured %q, plain %q", width, got, pb.String())
		}
		if !strings.HasSuffix(strings.TrimSuffix(cb.String(), "\n"), ansiReset) {
			t.Errorf("width %d: colour not reset at the line's end: %q", width, cb.String())
		}
	}
	if n := visibleLen(ansiBold + "ab" + ansiReset + "c"); n != 3 {
		t.Errorf("visibleLen = %d, want 3", n)
	}
}
