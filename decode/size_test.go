package decode

import (
	"testing"
	"unsafe"
)

// The Observation is the unit of memory for whole-capture correlation: keep it at 40 bytes.
func TestObservationSize(t *testing.T) {
	if n := unsafe.Sizeof(Observation{}); n != 40 {
		t.Fatalf("Observation is %d bytes, want 40", n)
	}
}
