package correlate

import (
	"math/rand"
	"sort"
	"testing"
)

// The table agrees with a Go map of value sets through random adds and removals, across growth, with
// keys chosen from a small range so that runs of one key interleave with others, collide and wrap.
func TestMultimap(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	m := newMultimap()
	ref := map[uint64]map[int32]bool{}
	n := 0
	for i := 0; i < 300000; i++ {
		k := uint64(r.Intn(3000))
		if i%7 == 0 {
			k = r.Uint64() // and some spread-out keys
		}
		v := int32(r.Intn(4))
		if ref[k] == nil {
			ref[k] = map[int32]bool{}
		}
		switch {
		case r.Intn(2) == 0 && !ref[k][v]:
			m.add(k, v)
			ref[k][v] = true
			n++
		default:
			if got := m.remove(k, v); got != ref[k][v] {
				t.Fatalf("step %d: remove(%d, %d) = %v, want %v", i, k, v, got, ref[k][v])
			}
			if ref[k][v] {
				n--
			}
			delete(ref[k], v)
		}
		check := func(k uint64) {
			var got, want []int32
			for i := m.first(k); i >= 0; i = m.next(k, i) {
				got = append(got, m.slots[i].val)
			}
			for v := range ref[k] {
				want = append(want, v)
			}
			sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
			sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
			if len(got) != len(want) {
				t.Fatalf("step %d: key %d has %v, want %v", i, k, got, want)
			}
			for x := range got {
				if got[x] != want[x] {
					t.Fatalf("step %d: key %d has %v, want %v", i, k, got, want)
				}
			}
		}
		check(k)
		if i%5000 == 0 {
			for k := range ref {
				check(k)
			}
			if m.n != n {
				t.Fatalf("step %d: %d entries, want %d", i, m.n, n)
			}
		}
	}
}
