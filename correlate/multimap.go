package correlate

import (
	"github.com/calipath/calipath/internal/hugepage"
	"github.com/calipath/calipath/internal/prefault"
)

// multimap maps uint64 keys to any number of int32 values (journeys) in one open-addressing table:
// linear probing, entries of one key anywhere in the run after its home slot, and deletion by
// shifting the following entries back (no tombstones), so probes stay short under constant churn.
// A slot holds a 32-bit hash of its key (which also gives its home slot) and the value, 8 bytes, so
// the table of a busy window stays small enough for the caches; a slot is empty when its value is -1.
// Different keys can share a hash: callers check the key of each value they get (a journey knows
// its own keys).
type multimap struct {
	slots []mslot
	n     int
}

type mslot struct {
	hash uint32
	val  int32
}

func newMultimap() *multimap {
	m := &multimap{}
	m.init(1 << 10)
	return m
}

func (m *multimap) init(size int) {
	m.slots = hugepage.Make[mslot](size, size)
	prefault.Slice(m.slots, 0, size) // every slot is written now: mapped in one call, not a fault a page
	for i := range m.slots {
		m.slots[i].val = -1
	}
	m.n = 0
}

func hash32(k uint64) uint32 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	return uint32(k)
}

// first returns the slot of the first value whose key hashes like k, or -1, and the hash; next(h, i)
// continues after slot i.
//
//	for i, h := m.first(k); i >= 0; i = m.next(h, i) { v := m.slots[i].val; if key of v == k { ... } }
func (m *multimap) first(k uint64) (int, uint32) {
	h := hash32(k)
	return m.scan(h, int(h)&(len(m.slots)-1)), h
}

// firstH is first for a key whose hash32 is h.
func (m *multimap) firstH(h uint32) int { return m.scan(h, int(h)&(len(m.slots)-1)) }

// touch reads the home slot of hash h (to bring it into the caches) and returns its value.
func (m *multimap) touch(h uint32) int32 { return m.slots[int(h)&(len(m.slots)-1)].val }

func (m *multimap) next(h uint32, i int) int { return m.scan(h, (i+1)&(len(m.slots)-1)) }

func (m *multimap) scan(h uint32, i int) int {
	mask := len(m.slots) - 1
	for ; m.slots[i].val >= 0; i = (i + 1) & mask {
		if m.slots[i].hash == h {
			return i
		}
	}
	return -1
}

// add stores v (≥ 0) under k, beside any values already there.
func (m *multimap) add(k uint64, v int32) { m.put(hash32(k), v) }

func (m *multimap) put(h uint32, v int32) {
	if 2*(m.n+1) > len(m.slots) {
		old := m.slots
		m.init(2 * len(old))
		for _, s := range old {
			if s.val >= 0 {
				m.put(s.hash, s.val)
			}
		}
	}
	mask := len(m.slots) - 1
	i := int(h) & mask
	for m.slots[i].val >= 0 {
		i = (i + 1) & mask
	}
	m.slots[i] = mslot{hash: h, val: v}
	m.n++
}

// remove deletes the pair (k, v); it reports whether it was there.
func (m *multimap) remove(k uint64, v int32) bool {
	mask := len(m.slots) - 1
	h := hash32(k)
	i := int(h) & mask
	for {
		s := &m.slots[i]
		if s.val < 0 {
			return false
		}
		if s.hash == h && s.val == v {
			break
		}
		i = (i + 1) & mask
	}
	m.n--
	// Shift back the entries after i whose home slot is not cyclically within (i, j].
	for j := (i + 1) & mask; m.slots[j].val >= 0; j = (j + 1) & mask {
		home := int(m.slots[j].hash) & mask
		if (j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j)) {
			m.slots[i] = m.slots[j]
			i = j
		}
	}
	m.slots[i].val = -1
	return true
}
