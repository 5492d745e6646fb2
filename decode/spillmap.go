package decode

import (
	"fmt"
	"os"
)

// MinMap is the smallest request Map takes, a page: smaller arrays stay on the heap, where they cost
// less than a file and a mapping of their own.
const MinMap = 4 << 10

// Map returns n zeroed bytes outside the Go heap, in a temporary file of the Spill's directory with
// its blocks reserved and mapped like the spilled frames (its pages dropped from the process's
// memory with theirs; the file removed at once, the mapping gone at Close). It is for the large
// arrays correlation keeps per frame or per journey in bounded-memory mode: they must hold no Go
// pointers and must not be used after Close. It returns nil when n is below MinMap, and nil, with
// the reason kept for MapErr, when the file cannot be made, reserved (a full disk) or mapped: the
// caller then takes heap memory. The blocks are reserved before mapping so that a full disk is an
// error here rather than a fault at a write to the mapping.
func (sp *Spill) Map(n int) []byte {
	if sp == nil || n < MinMap {
		return nil
	}
	b, err := sp.mapNew(n)
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if err != nil {
		if sp.mapErr == nil {
			sp.mapErr = err
		}
		return nil
	}
	sp.maps = append(sp.maps, b)
	sp.bytes += int64(n)
	sp.mapped += int64(n)
	return b
}

// Trim drops the mapped pages from the process's memory now when it holds more than SpillResident
// of them, as the release loop does at its next look: for a reader that touches them sparsely (each
// read maps the pages around it), which maps them faster than the loop drops them.
func (sp *Spill) Trim() {
	if sp == nil {
		return
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if n, ok := sp.trimSt.read(); ok && n <= SpillResident {
		return
	}
	for _, b := range sp.maps {
		release(b)
	}
}

// MapErr returns why Map first gave nil for a request it takes (nil: it never did).
func (sp *Spill) MapErr() error {
	if sp == nil {
		return nil
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.mapErr
}

// Mapped returns how many bytes Map gave.
func (sp *Spill) Mapped() int64 {
	if sp == nil {
		return 0
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.mapped
}

// mapNew makes, reserves and maps a temporary file of n bytes, and removes its name.
func (sp *Spill) mapNew(n int) ([]byte, error) {
	f, err := os.CreateTemp(sp.dir, "calipath-map-*")
	if err != nil {
		return nil, fmt.Errorf("keep the journeys in a temporary file: %w", err)
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	if err := reserve(f, int64(n)); err != nil {
		return nil, fmt.Errorf("keep the journeys in %s: %w", f.Name(), err)
	}
	b, err := mapShared(f, n)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", f.Name(), err)
	}
	return b, nil
}
