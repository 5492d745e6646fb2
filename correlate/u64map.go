package correlate

// u64map maps uint64 keys to int32 values with open addressing: linear probing, and deletion by
// shifting the following entries back (no tombstones), so lookups stay short under constant churn.
// Keys are mixed before probing; a slot is empty when its value is -1.
type u64map struct {
	keys []uint64
	vals []int32
	n    int
}

func newU64map() *u64map {
	m := &u64map{}
	m.init(1 << 10)
	return m
}

func (m *u64map) init(size int) {
	m.keys = make([]uint64, size)
	m.vals = make([]int32, size)
	for i := range m.vals {
		m.vals[i] = -1
	}
	m.n = 0
}

func (m *u64map) slot(k uint64) int {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	return int(k & uint64(len(m.keys)-1))
}

// get returns the value stored for k.
func (m *u64map) get(k uint64) (int32, bool) {
	mask := len(m.keys) - 1
	for i := m.slot(k); ; i = (i + 1) & mask {
		switch {
		case m.vals[i] < 0:
			return -1, false
		case m.keys[i] == k:
			return m.vals[i], true
		}
	}
}

// set stores v (≥ 0) for k.
func (m *u64map) set(k uint64, v int32) {
	if 2*(m.n+1) > len(m.keys) {
		old, oldv := m.keys, m.vals
		m.init(2 * len(m.keys))
		for i, ov := range oldv {
			if ov >= 0 {
				m.set(old[i], ov)
			}
		}
	}
	mask := len(m.keys) - 1
	for i := m.slot(k); ; i = (i + 1) & mask {
		if m.vals[i] < 0 {
			m.keys[i], m.vals[i] = k, v
			m.n++
			return
		}
		if m.keys[i] == k {
			m.vals[i] = v
			return
		}
	}
}

// del removes k.
func (m *u64map) del(k uint64) {
	mask := len(m.keys) - 1
	i := m.slot(k)
	for {
		if m.vals[i] < 0 {
			return
		}
		if m.keys[i] == k {
			break
		}
		i = (i + 1) & mask
	}
	m.n--
	// Shift back the entries after i whose home slot is not between i and their position.
	for j := (i + 1) & mask; m.vals[j] >= 0; j = (j + 1) & mask {
		h := m.slot(m.keys[j])
		if (j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j)) {
			m.keys[i], m.vals[i] = m.keys[j], m.vals[j]
			i = j
		}
	}
	m.vals[i] = -1
}
