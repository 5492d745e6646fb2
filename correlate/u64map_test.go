package correlate

import (
	"math/rand"
	"testing"
)

// The table agrees with a Go map through random sets, overwrites and deletions, across growth, with
// keys chosen from a small range so that probe sequences collide and wrap.
func TestU64map(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	m := newU64map()
	ref := map[uint64]int32{}
	for i := 0; i < 300000; i++ {
		k := uint64(r.Intn(5000))
		if i%7 == 0 {
			k = r.Uint64() // and some spread-out keys
		}
		switch r.Intn(3) {
		case 0, 1:
			v := int32(r.Intn(1 << 20))
			m.set(k, v)
			ref[k] = v
		case 2:
			m.del(k)
			delete(ref, k)
		}
		if i%1000 == 0 {
			for k, v := range ref {
				if got, ok := m.get(k); !ok || got != v {
					t.Fatalf("step %d: get(%d) = %d, %v; want %d", i, k, got, ok, v)
				}
			}
			if m.n != len(ref) {
				t.Fatalf("step %d: %d entries, want %d", i, m.n, len(ref))
			}
		}
		if _, ok := ref[k]; !ok {
			if _, found := m.get(k); found {
				t.Fatalf("step %d: deleted key %d still found", i, k)
			}
		}
	}
}
