package decode

import (
	"testing"
	"unsafe"
)

// The Observation is the unit of memory for whole-capture correlation: keep it at 48 bytes.
func TestObservationSize(t *testing.T) {
	if n := unsafe.Sizeof(Observation{}); n != 48 {
		t.Fatalf("Observation is %d bytes, want 48", n)
	}
}
