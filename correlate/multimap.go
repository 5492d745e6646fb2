package correlate

// multimap maps uint64 keys to any number of int32 values (journeys) in one open-addressing table:
// linear probing, entries of one key anywhere in the run after its home slot, and deletion by
// shifting the following entries back (no tombstones), so probes stay short under constant churn and
// an operation touches one or two cache lines. Keys are mixed before probing; a slot is empty when
// its value is -1.
type multimap struct {
	slots []mslot
	n     int
}

type mslot struct {
	key uint64
	val int32
}

func newMultimap() *multimap {
	m := &multimap{}
	m.init(1 << 10)
	return m
}

func (m *multimap) init(size int) {
	m.slots = make([]mslot, size)
	for i := range m.slots {
		m.slots[i].val = -1
	}
	m.n = 0
}

func (m *multimap) home(k uint64) int {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	return int(k & uint64(len(m.slots)-1))
}

// first returns the slot of the first value stored under k, or -1; next(k, i) continues after slot i.
//
//	for i := m.first(k); i >= 0; i = m.next(k, i) { v := m.slots[i].val ... }
func (m *multimap) first(k uint64) int { return m.scan(k, m.home(k)) }

func (m *multimap) next(k uint64, i int) int { return m.scan(k, (i+1)&(len(m.slots)-1)) }

func (m *multimap) scan(k uint64, i int) int {
	mask := len(m.slots) - 1
	for ; m.slots[i].val >= 0; i = (i + 1) & mask {
		if m.slots[i].key == k {
			return i
		}
	}
	return -1
}

// add stores v (≥ 0) under k, beside any values already there.
func (m *multimap) add(k uint64, v int32) {
	if 2*(m.n+1) > len(m.slots) {
		old := m.slots
		m.init(2 * len(old))
		for _, s := range old {
			if s.val >= 0 {
				m.add(s.key, s.val)
			}
		}
	}
	mask := len(m.slots) - 1
	i := m.home(k)
	for m.slots[i].val >= 0 {
		i = (i + 1) & mask
	}
	m.slots[i] = mslot{key: k, val: v}
	m.n++
}

// remove deletes the pair (k, v); it reports whether it was there.
func (m *multimap) remove(k uint64, v int32) bool {
	mask := len(m.slots) - 1
	i := m.home(k)
	for {
		s := &m.slots[i]
		if s.val < 0 {
			return false
		}
		if s.key == k && s.val == v {
			break
		}
		i = (i + 1) & mask
	}
	m.n--
	// Shift back the entries after i whose home slot is not cyclically within (i, j].
	for j := (i + 1) & mask; m.slots[j].val >= 0; j = (j + 1) & mask {
		h := m.home(m.slots[j].key)
		if (j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j)) {
			m.slots[i] = m.slots[j]
			i = j
		}
	}
	m.slots[i].val = -1
	return true
}
