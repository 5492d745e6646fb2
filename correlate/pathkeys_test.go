package correlate

import "testing"

// TestPathKeys numbers path keys in the order first met and finds each again, with pathKey's own
// hash and with hashes many keys share (a few chains), through the hash table's growths, and in
// front of it the recent keys (pathKeys.recent).
func TestPathKeys(t *testing.T) {
	for name, hash := range map[string]func(pathKey) uint64{
		"own":    nil,
		"shared": func(k pathKey) uint64 { return uint64(k.src % 5) },
	} {
		x := newPathKeys(hash)
		var keys []pathKey
		for i := range 500 {
			keys = append(keys, pathKey{ends: pathEnds{src: i % 7, dst: i % 11, srcPod: -1, dstPod: -1}, src: uint32(i), v6: i%2 == 1})
		}
		for n, k := range keys {
			if got, added := x.index(k); !added || got != int32(n) {
				t.Fatalf("%s: key %d numbered %d (new: %v)", name, n, got, added)
			}
		}
		for n, k := range keys {
			if got, added := x.index(k); added || got != int32(n) {
				t.Fatalf("%s: key %d found as %d (new: %v)", name, n, got, added)
			}
		}
		// found again in an order that has keys of one place of recent (and of one hash) in turn,
		// each found there or past it
		for i := range 3000 {
			n := (i * 7919) % len(keys)
			if i%2 == 1 {
				n = i % 3
			}
			if got, added := x.index(keys[n]); added || got != int32(n) {
				t.Fatalf("%s: look-up %d: key %d found as %d (new: %v)", name, i, n, got, added)
			}
		}
	}
}
