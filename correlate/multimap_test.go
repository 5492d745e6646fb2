package correlate

import (
	"math/rand"
	"slices"
	"testing"
)

// indexMatcher is a matcher with only what the loose index uses: a ring of journey states (large
// enough for every journey the test opens) and the index.
func indexMatcher(ringBits int) *matcher {
	return &matcher{loose: newMultimap(), ring: make([]jstate, 1<<ringBits), mask: 1<<ringBits - 1}
}

// chainOf walks the index as the matcher's scans do and returns the open journeys whose key is k.
func chainOf(m *matcher, k uint64) []int32 {
	var got []int32
	for j, next := m.loose.first(hash32(k)), int32(0); j >= m.base; j = next {
		js := m.st(j)
		next = js.nextSame
		if js.loose == k {
			got = append(got, j)
		}
	}
	return got
}

// The index agrees with a reference through random opens, closes (in id order, as evict closes) and
// removals (any open journey, as ambiguate takes them out), across the table's growth and the ring's
// reuse of closed journeys' states, with keys chosen from a small range so that chains of one key
// interleave with others in a bucket. A walk lists each key's open journeys in falling id order,
// stopping at the first closed one.
func TestMultimap(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	const ringBits = 16
	m := indexMatcher(ringBits)
	in := map[int32]bool{} // open journeys in the index
	grown := 0
	for i := 0; i < 400000; i++ {
		opens := 70 // the window's open journeys grow, then shrink, in turns
		if i/50000%2 == 1 {
			opens = 35
		}
		switch x := r.Intn(100); {
		case x < opens && int(m.next-m.base) < 1<<ringBits: // open a journey
			k := uint64(r.Intn(3000))
			if i%7 == 0 {
				k = uint64(r.Intn(1<<20)) << 20 // and some spread-out keys
			}
			j := m.next
			m.next++
			*m.st(j) = jstate{loose: k, nextSame: 12345} // a reused slot's old state: put must set the link
			if r.Intn(50) == 0 {
				continue // a journey never put (an ambiguous group's: ambiguous.go)
			}
			before := len(m.loose.head)
			m.put(hash32(k), j)
			if len(m.loose.head) != before {
				grown++
			}
			in[j] = true
		case x < 95 && m.base < m.next: // close the oldest, sometimes many (as the window passes)
			for n := 1 + r.Intn(3); n > 0 && m.base < m.next; n-- {
				delete(in, m.base)
				m.base++
			}
		case m.base < m.next: // take an open journey out, or one not in
			j := m.base + int32(r.Intn(int(m.next-m.base)))
			if got := m.unindex(hash32(m.st(j).loose), j); got != in[j] {
				t.Fatalf("step %d: unindex(%d) = %v, want %v", i, j, got, in[j])
			}
			delete(in, j)
		}
		if i%1000 == 0 || m.base == m.next {
			want := map[uint64][]int32{}
			for j := range in {
				want[m.st(j).loose] = append(want[m.st(j).loose], j)
			}
			for k, js := range want {
				slices.Sort(js)
				slices.Reverse(js)
				if got := chainOf(m, k); !slices.Equal(got, js) {
					t.Fatalf("step %d: key %d walks to %v, want %v", i, k, got, js)
				}
			}
			if open := int(m.next - m.base); bucketsPerOpen*open > len(m.loose.head) {
				t.Fatalf("step %d: %d buckets for %d open journeys", i, len(m.loose.head), open)
			}
		}
	}
	if grown < 3 {
		t.Fatalf("the table grew %d times, want the test to cover growth", grown)
	}
}

// Two keys with the same bucket share a chain: each journey is still found under its own key, and
// taking one out leaves the other; closing the older one ends the chain before it.
func TestMultimapHashCollision(t *testing.T) {
	a, b := uint64(1), uint64(1)<<32|1 // one hash32
	if hash32(a) != hash32(b) {
		t.Fatal("the keys do not share a bucket")
	}
	m := indexMatcher(4)
	for _, k := range []uint64{a, b, a} {
		j := m.next
		m.next++
		*m.st(j) = jstate{loose: k}
		m.put(hash32(k), j)
	}
	if got := chainOf(m, a); !slices.Equal(got, []int32{2, 0}) {
		t.Fatalf("key a walks to %v, want [2 0]", got)
	}
	if got := chainOf(m, b); !slices.Equal(got, []int32{1}) {
		t.Fatalf("key b walks to %v, want [1]", got)
	}
	if !m.unindex(hash32(b), 1) || m.unindex(hash32(b), 1) {
		t.Fatal("unindex(b, 1) did not take it out exactly once")
	}
	if got := chainOf(m, a); !slices.Equal(got, []int32{2, 0}) {
		t.Fatalf("after b left, key a walks to %v, want [2 0]", got)
	}
	m.base = 1 // journey 0 closed
	if got := chainOf(m, a); !slices.Equal(got, []int32{2}) {
		t.Fatalf("after 0 closed, key a walks to %v, want [2]", got)
	}
	if m.unindex(hash32(a), 0) {
		t.Fatal("a closed journey was taken out of the index")
	}
}
