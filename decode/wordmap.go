package decode

// wordMap maps 64-bit keys to nonzero 64-bit values: an open-addressing table (linear probing, at most
// half full) for the merged probe's per-frame look-ups, which a Go map made a large share of the probe's
// instructions. Nothing is ever removed.
type wordMap struct {
	keys, vals []uint64 // vals[i] == 0: slot i is empty
	n          int
	shift      uint // 64 - log2(len(keys))
}

// newWordMap returns a wordMap with room for hint keys before it grows.
func newWordMap(hint int) wordMap {
	size, shift := 16, uint(60)
	for size < 2*hint {
		size, shift = size<<1, shift-1
	}
	return wordMap{keys: make([]uint64, size), vals: make([]uint64, size), shift: shift}
}

func (m *wordMap) slot(k uint64) int { return int(k * 0x9e3779b97f4a7c15 >> m.shift) }

// get returns the value of k and whether k is in m.
func (m *wordMap) get(k uint64) (uint64, bool) {
	mask := len(m.keys) - 1
	for i := m.slot(k); ; i = (i + 1) & mask {
		if m.vals[i] == 0 {
			return 0, false
		}
		if m.keys[i] == k {
			return m.vals[i], true
		}
	}
}

// put sets the value of k to v (not 0).
func (m *wordMap) put(k, v uint64) {
	if 2*(m.n+1) > len(m.keys) {
		m.grow()
	}
	mask := len(m.keys) - 1
	i := m.slot(k)
	for ; m.vals[i] != 0; i = (i + 1) & mask {
		if m.keys[i] == k {
			m.vals[i] = v
			return
		}
	}
	m.keys[i], m.vals[i] = k, v
	m.n++
}

// room grows m as put does before it looks k up, so that find's empty slot can take a key (setAt).
func (m *wordMap) room() {
	if 2*(m.n+1) > len(m.keys) {
		m.grow()
	}
}

// find returns the slot of k and true when k is in m, or the empty slot where put would put it and
// false (after room, setAt(i, k, v, false) puts it there): a look-up and a put of one key in one search.
func (m *wordMap) find(k uint64) (int, bool) {
	mask := len(m.keys) - 1
	for i := m.slot(k); ; i = (i + 1) & mask {
		if m.vals[i] == 0 {
			return i, false
		}
		if m.keys[i] == k {
			return i, true
		}
	}
}

// setAt sets the value of k, found at slot i (found) or to go there (see find), to v (not 0).
func (m *wordMap) setAt(i int, k, v uint64, found bool) {
	if !found {
		m.keys[i] = k
		m.n++
	}
	m.vals[i] = v
}

// len returns the number of keys in m.
func (m *wordMap) len() int { return m.n }

func (m *wordMap) grow() {
	old := *m
	*m = wordMap{keys: make([]uint64, 2*len(old.keys)), vals: make([]uint64, 2*len(old.keys)), shift: old.shift - 1}
	for i, v := range old.vals {
		if v != 0 {
			m.put(old.keys[i], v)
		}
	}
}
