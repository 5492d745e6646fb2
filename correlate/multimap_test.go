package correlate

import (
	"math/rand"
	"sort"
	"testing"
)

// The table agrees with a Go map of value sets through random adds and removals, across growth, with
// keys chosen from a small range so that runs of one key interleave with others, collide and wrap.
// Values are unique per key (as journeys are), and a lookup keeps those whose key matches, as callers do.
func TestMultimap(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	m := newMultimap()
	ref := map[uint64]map[int32]bool{}
	keyOf := map[int32]uint64{}
	idx := map[uint64]int32{}
	n := 0
	for i := 0; i < 300000; i++ {
		k := uint64(r.Intn(3000))
		if i%7 == 0 {
			k = uint64(r.Intn(1<<20)) << 20 // and some spread-out keys
		}
		if _, ok := idx[k]; !ok {
			idx[k] = int32(len(idx))
		}
		v := idx[k]*4 + int32(r.Intn(4)) // unique to its key
		keyOf[v] = k
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
			for i, h := m.first(k); i >= 0; i = m.next(h, i) {
				if v := m.slots[i].val; keyOf[v] == k {
					got = append(got, v)
				}
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

// Two keys with the same 32-bit hash share a run: each value is still found, under both keys' scans,
// and removing one leaves the other.
func TestMultimapHashCollision(t *testing.T) {
	seen := map[uint32]uint64{}
	var a, b uint64
	for k := uint64(1); ; k++ {
		if o, ok := seen[hash32(k)]; ok {
			a, b = o, k
			break
		}
		seen[hash32(k)] = k
	}
	m := newMultimap()
	m.add(a, 1)
	m.add(b, 2)
	for _, k := range []uint64{a, b} {
		var got []int32
		for i, h := m.first(k); i >= 0; i = m.next(h, i) {
			got = append(got, m.slots[i].val)
		}
		if len(got) != 2 {
			t.Fatalf("key %d scans %v, want both values", k, got)
		}
	}
	if !m.remove(a, 1) || m.remove(a, 1) {
		t.Fatal("remove(a, 1) did not remove exactly once")
	}
	if i, h := m.first(b); i < 0 || m.slots[i].val != 2 || m.next(h, i) >= 0 {
		t.Fatal("b's value lost after removing a's")
	}
}
