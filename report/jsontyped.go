package report

import (
	"unsafe"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/internal/decimal"
	"github.com/calipath/calipath/internal/safetext"
)

// Typed writers for the Result's big lists (its flows, and the journeys with their hops: jsonflow.go
// and jsonjourney.go, from templates of their fixed bytes) and what they hold: the same bytes as
// jsonEnc.value gives by reflection, written field by field with no reflection and nothing allocated
// per element. A field added to one of these types must be added to its writer too:
// TestJSONTypedFields compares each writer with the reflective one on a value with every field set.

// obj starts the member after n others of an object with its quoted key and returns n+1.
func (e *jsonEnc) obj(n int, key string) int {
	e.member('{', n == 0)
	e.buf = append(e.buf, key...)
	return n + 1
}

func (e *jsonEnc) strField(n int, key, s string) int {
	n = e.obj(n, key)
	e.buf = safetext.AppendJSONString(e.buf, s)
	return n
}

func (e *jsonEnc) intField(n int, key string, v int64) int {
	n = e.obj(n, key)
	e.buf = decimal.AppendInt(e.buf, v)
	return n
}

// typedList writes list with write, each element as a list member: null when nil, [] when empty.
func typedList[T any](e *jsonEnc, list []T, write func(*jsonEnc, *T)) {
	if list == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	for i := range list {
		e.member('[', i == 0)
		write(e, &list[i])
	}
	e.end('[', ']', len(list))
}

// nameQuotes keeps the quoted form of the names the flows and journeys repeat (a capture point's
// or file's: the Result holds each once, and every flow and hop refers to it) by the address of
// their bytes, so that each is quoted once, not per flow: a cache of nameSlots by the address, each
// slot kept by the first name that maps to it, a name that meets a taken slot kept in one of the
// next (appendNameNext; a name that finds them all taken is quoted each time, so the cache allocates
// at most nameSlots strings).
type nameQuotes [nameSlots]struct{ s, quoted string }

const nameSlots = 256

// name writes s, quoted, as AppendJSONString does (appendName).
func (e *jsonEnc) name(s string) { e.buf = e.appendName(e.buf, s) }

// appendName appends s, quoted, as AppendJSONString does, from the cache when s is the very string
// (the same bytes at the same address) whose quoted form a slot holds. The slot keeps s, so its
// address cannot be reused for other bytes while the slot refers to it.
func (e *jsonEnc) appendName(b []byte, s string) []byte {
	if len(s) == 0 {
		return append(b, '"', '"')
	}
	if e.names == nil {
		e.names = new(nameQuotes)
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	h := (p>>4 ^ p>>12 ^ uintptr(len(s))) % nameSlots
	slot := &e.names[h]
	if len(slot.s) == len(s) && unsafe.StringData(slot.s) == unsafe.StringData(s) {
		return append(b, slot.quoted...)
	}
	return e.appendNameNext(b, s, h)
}

// nameProbes is how many slots, from its own on, a name may be kept in.
const nameProbes = 8

// appendNameNext is appendName for a name its own slot (h) does not hold: it looks in the slots
// after it, up to nameProbes in all, and keeps s in the first empty one, so that the few names that
// meet at a slot (by their addresses, which change from run to run with what was allocated before)
// are quoted once each, not each time. When all are taken, s is quoted each time.
func (e *jsonEnc) appendNameNext(b []byte, s string, h uintptr) []byte {
	for k := uintptr(0); k < nameProbes; k++ {
		slot := &e.names[(h+k)%nameSlots]
		if len(slot.s) == 0 {
			start := len(b)
			b = safetext.AppendJSONString(b, s)
			slot.s, slot.quoted = s, string(b[start:])
			return b
		}
		if len(slot.s) == len(s) && unsafe.StringData(slot.s) == unsafe.StringData(s) {
			return append(b, slot.quoted...)
		}
	}
	return safetext.AppendJSONString(b, s)
}

func writeNATMapping(e *jsonEnc, x *correlate.NATMapping) {
	n := e.strField(0, `"kind": `, x.Kind)
	n = e.strField(n, `"at": `, x.At)
	n = e.strField(n, `"from": `, x.From)
	n = e.strField(n, `"to": `, x.To)
	n = e.intField(n, `"count": `, int64(x.Count))
	e.end('{', '}', n)
}

func writeLostAt(e *jsonEnc, x *correlate.LostAt) {
	n := e.strField(0, `"from": `, x.From)
	n = e.strField(n, `"to": `, x.To)
	n = e.intField(n, `"count": `, int64(x.Count))
	if len(x.Uncaptured) > 0 {
		n = e.obj(n, `"uncaptured": `)
		for i, s := range x.Uncaptured {
			e.member('[', i == 0)
			e.buf = safetext.AppendJSONString(e.buf, s)
		}
		e.end('[', ']', len(x.Uncaptured))
	}
	e.end('{', '}', n)
}
