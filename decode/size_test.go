package decode

import (
	"testing"
	"unsafe"
)

// The Observation is the unit of memory for whole-capture correlation: keep it at 32 bytes (the time and frame number live in Stamps).
func TestObservationSize(t *testing.T) {
	if n := unsafe.Sizeof(Observation{}); n != 32 {
		t.Fatalf("Observation is %d bytes, want 32", n)
	}
}
