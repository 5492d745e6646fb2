package decode

import (
	"math/rand/v2"
	"testing"
)

// TestWordMap checks wordMap against a Go map over random puts and gets, with keys from a small range
// (many repeats and misses) and from the whole range, through several growths.
func TestWordMap(t *testing.T) {
	for _, keyRange := range []uint64{64, 5000, 0} {
		r := rand.New(rand.NewPCG(1, keyRange))
		key := func() uint64 {
			if keyRange == 0 {
				return r.Uint64()
			}
			return r.Uint64N(keyRange) << 32 // keys differing in high bits only: the slots must still spread
		}
		m, want := newWordMap(4), map[uint64]uint64{}
		for i := 0; i < 20000; i++ {
			k := key()
			if i%3 == 0 {
				v := r.Uint64() | 1
				m.put(k, v)
				want[k] = v
			}
			k2 := key() // another key, mostly one not put (yet)
			if v, ok := m.get(k2); v != want[k2] || ok != (want[k2] != 0) {
				t.Fatalf("range %d, step %d: get(%#x) = %#x, %v; want %#x", keyRange, i, k2, v, ok, want[k2])
			}
			v, wok := m.get(k)
			if wv, in := want[k]; in != wok || v != wv {
				t.Fatalf("range %d, step %d: get(%#x) = %#x, %v; want %#x, %v", keyRange, i, k, v, wok, wv, in)
			}
			if m.len() != len(want) {
				t.Fatalf("range %d, step %d: len %d, want %d", keyRange, i, m.len(), len(want))
			}
		}
		for k, wv := range want {
			if v, ok := m.get(k); !ok || v != wv {
				t.Fatalf("range %d: get(%#x) = %#x, %v; want %#x", keyRange, k, v, ok, wv)
			}
		}
	}
}
