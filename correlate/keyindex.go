package correlate

import "math/bits"

// keyIndex numbers keys in the order they are added: open addressing with linear probing, each slot
// a key's number + 1 (0: empty), at most half the slots taken. The caller hands in each key's hash,
// mixed in its high bits (flowKey.mix, mixWord), and, to grow, the function that makes it. It stands
// where a Go map hashed all of a key's bytes at each look-up (about 80 instructions, and growth by
// rehashing): the flows' index by root key, the flows' address strings, the paths' key hashes.
type keyIndex[K comparable] struct {
	slots []int32
	shift uint // 64 - log2(len(slots))
	keys  []K  // by number
}

// mixWord mixes a 64-bit key into a hash for keyIndex (its high bits the best mixed).
func mixWord(k uint64) uint64 { return k * 0x9e3779b97f4a7c15 }

// slot returns the slot of key k (hash h): its number's, or the empty one where it goes. The index
// has slots.
func (x *keyIndex[K]) slot(k K, h uint64) *int32 {
	mask := len(x.slots) - 1
	for i := int(h >> x.shift); ; i = (i + 1) & mask {
		if s := x.slots[i]; s == 0 || x.keys[s-1] == k {
			return &x.slots[i]
		}
	}
}

// get returns the number of key k (hash h), and whether it has one.
func (x *keyIndex[K]) get(k K, h uint64) (int32, bool) {
	if len(x.slots) == 0 {
		return 0, false
	}
	s := *x.slot(k, h)
	return s - 1, s != 0
}

// add gives key k (hash h), which has no number yet, the next one, and returns it.
func (x *keyIndex[K]) add(k K, h uint64, hash func(K) uint64) int32 {
	if 2*(len(x.keys)+1) > len(x.slots) {
		x.grow(hash)
	}
	s := x.slot(k, h)
	x.keys = append(x.keys, k)
	*s = int32(len(x.keys))
	return *s - 1
}

// grow doubles the slots (64 at first) and puts every key in again.
func (x *keyIndex[K]) grow(hash func(K) uint64) {
	n := max(64, 2*len(x.slots))
	x.slots, x.shift = make([]int32, n), uint(64-bits.Len(uint(n-1)))
	for i, k := range x.keys {
		*x.slot(k, hash(k)) = int32(i) + 1
	}
}

// len returns how many keys have a number.
func (x *keyIndex[K]) len() int { return len(x.keys) }
