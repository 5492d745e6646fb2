package correlate

import (
	"testing"
	"unsafe"
)

// A flow holds one pointTally for each point it crosses, and on the many-flow set they are on the
// memory peak (200,000 flows of six points): keep them at 16 bytes.
func TestPointTallySize(t *testing.T) {
	if n := unsafe.Sizeof(pointTally{}); n != 16 {
		t.Fatalf("pointTally is %d bytes, want 16", n)
	}
}
