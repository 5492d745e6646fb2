package correlate

import (
	"unsafe"

	"github.com/calipath/calipath/internal/hugepage"
	"github.com/calipath/calipath/internal/prefault"
)

// multimap indexes the open journeys by NAT-tolerant fingerprint (any number of journeys a key) in
// chains: a table of buckets, each holding the newest journey put there, and each journey's state the
// next older one of its bucket (jstate.nextSame). Journeys are put in id order and closed in
// id order (evict), so a chain's ids fall, and the journeys closed are its tail: a walk ends at the
// first id below the matcher's base, and closing a journey takes no work here at all. The usual
// sighting reads its bucket and the one journey there (whose state it reads anyway) and stops at the
// next link, where an open-addressing table scanned its run of slots up to an empty one, twice.
//
// A bucket holds the journeys of every key that hashes to it: callers check each journey's own
// fingerprint. The table keeps at least bucketsPerOpen buckets an open journey, so that a chain holds
// few journeys of other keys.
//
//	for j, next := m.loose.first(h), int32(0); j >= m.base; j = next {
//		js := m.st(j)
//		next = js.nextSame
//		if js.loose == key { ... }
//	}
type multimap struct {
	// by bucket (hash32 of the key, masked): its newest journey + 1 (0: none; a closed one's stays),
	// so that a new table is ready as allocated, zeroed
	head []int32
	// mask is len(head)-1 (head's length a power of two), set with head (init): first and bucket
	// mask a hash with it, one operand, where len(head)-1 was a load and a decrement at each look-up.
	mask uintptr
}

// bucketsPerOpen is how many buckets the table keeps at least for each open journey.
const bucketsPerOpen = 4

func newMultimap() *multimap {
	m := &multimap{}
	m.init(1 << 10)
	return m
}

func (m *multimap) init(size int) {
	m.head, m.mask = hugepage.Make[int32](size, size), uintptr(size-1)
	prefault.Slice(m.head, 0, size) // every bucket is read soon: mapped in one call, not a fault a page
}

// hash32 is NAT-tolerant fingerprint k's hash in the index: its low 32 bits. The decoder gives every
// fingerprint through a finalizer that mixes each input bit into all 64 (mix64, after wyhash's
// multiplies), so those bits are as good as any mix of them, and a merge's sighting gets its hash with
// no work at all (a multiply and three shifts and exclusive ors before, at each sighting and at each
// open journey on every growth of the table).
func hash32(k uint64) uint32 { return uint32(k) }

// first returns the newest journey in the bucket of hash h: the chain goes on through each journey's
// nextSame, and ends at the first id below the matcher's base (-1 included). matchBatch calls it
// ahead of step, to bring the bucket into the caches.
// (The bucket read without a bounds check: h masked by mask, len(head)-1, head's length a power of
// two, never 0, as init makes it, is below len(head).)
func (m *multimap) first(h uint32) int32 {
	return *(*int32)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(m.head)), (uintptr(h)&m.mask)*4)) - 1
}

// bucket is first's bucket of hash h, to be written (no bounds check, as first).
func (m *multimap) bucket(h uint32) *int32 {
	return (*int32)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(m.head)), (uintptr(h)&m.mask)*4))
}

// put indexes journey j, the newest open one, whose NAT-tolerant fingerprint hashes to h (its state
// is written already), growing the table first when the open journeys would pass its share.
func (m *matcher) put(h uint32, j int32) {
	lm := m.loose
	if bucketsPerOpen*int(m.next-m.base) > len(lm.head) {
		m.regrow(2 * len(lm.head))
	}
	b := &lm.head[int(h)&(len(lm.head)-1)]
	js := m.st(j)
	js.nextSame = *b - 1
	js.flags |= jIndexed
	*b = j + 1
}

// regrow makes the table size buckets, and puts there again, in id order, the open journeys that
// were in it (jIndexed: not those that left it, nor those never put, ambiguous.go's).
func (m *matcher) regrow(size int) {
	lm := m.loose
	lm.init(size)
	m.usualLeft = 0 // (see usualRoom)
	for j := m.base; j < m.next; j++ {
		if js := m.st(j); js.flags&jIndexed != 0 {
			b := &lm.head[int(hash32(js.loose))&(size-1)]
			js.nextSame = *b - 1
			*b = j + 1
		}
	}
}

// unindex takes open journey j, whose NAT-tolerant fingerprint hashes to h, out of the index; it
// reports whether j was there.
func (m *matcher) unindex(h uint32, j int32) bool {
	if j < m.base || m.st(j).flags&jIndexed == 0 {
		return false
	}
	lm := m.loose
	b := &lm.head[int(h)&(len(lm.head)-1)]
	if *b-1 == j {
		js := m.st(j)
		*b = js.nextSame + 1
		js.flags &^= jIndexed
		return true
	}
	for k := *b - 1; k >= m.base && k > j; {
		ks := m.st(k)
		if ks.nextSame == j {
			js := m.st(j)
			ks.nextSame = js.nextSame
			js.flags &^= jIndexed
			return true
		}
		k = ks.nextSame
	}
	return false
}
