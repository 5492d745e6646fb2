package report

import (
	"unsafe"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/internal/decimal"
	"github.com/calipath/calipath/internal/safetext"
)

// Typed writers for the Result's big lists (its flows, and the journeys with their hops): the same
// bytes as jsonEnc.value gives by reflection, written field by field with no reflection and nothing
// allocated per element. A field added to one of these types must be added here too:
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

func (e *jsonEnc) uintField(n int, key string, v uint64) int {
	n = e.obj(n, key)
	e.buf = decimal.AppendUint(e.buf, v)
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

func writeString(e *jsonEnc, s *string) { e.buf = safetext.AppendJSONString(e.buf, *s) }

// nameQuotes keeps the quoted form of the names the flows and journeys repeat (a capture point's
// or file's: the Result holds each once, and every flow and hop refers to it) by the address of
// their bytes, so that each is quoted once, not per flow: a direct-mapped cache of nameSlots, each
// slot kept by the first name that maps to it (a name that meets a taken slot is quoted each time,
// so the cache allocates at most nameSlots strings).
type nameQuotes [nameSlots]struct{ s, quoted string }

const nameSlots = 256

// name writes s, quoted, as AppendJSONString does, from the cache when s is the very string
// (the same bytes at the same address) whose quoted form a slot holds. The slot keeps s, so its
// address cannot be reused for other bytes while the slot refers to it.
func (e *jsonEnc) name(s string) {
	if len(s) == 0 {
		e.buf = append(e.buf, '"', '"')
		return
	}
	if e.names == nil {
		e.names = new(nameQuotes)
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	slot := &e.names[(p>>4^p>>12^uintptr(len(s)))%nameSlots]
	if len(slot.s) == len(s) && unsafe.StringData(slot.s) == unsafe.StringData(s) {
		e.buf = append(e.buf, slot.quoted...)
		return
	}
	start := len(e.buf)
	e.buf = safetext.AppendJSONString(e.buf, s)
	if len(slot.s) == 0 { // the first name a slot meets keeps it: two that meet there take no turns
		slot.s, slot.quoted = s, string(e.buf[start:])
	}
}

func (e *jsonEnc) nameField(n int, key, s string) int {
	n = e.obj(n, key)
	e.name(s)
	return n
}

func writeName(e *jsonEnc, s *string) { e.name(*s) }

func writeEndpoint(e *jsonEnc, x *correlate.Endpoint) {
	n := e.strField(0, `"ip": `, x.IP)
	n = e.uintField(n, `"port": `, uint64(x.Port))
	e.end('{', '}', n)
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
	e.end('{', '}', n)
}

func writePointRTT(e *jsonEnc, x *correlate.PointRTT) {
	n := e.nameField(0, `"point": `, x.Point)
	n = e.intField(n, `"rtt_ns": `, x.RTT)
	e.end('{', '}', n)
}

func writePointCount(e *jsonEnc, x *correlate.PointCount) {
	n := e.nameField(0, `"point": `, x.Point)
	n = e.intField(n, `"packets": `, int64(x.Packets))
	n = e.intField(n, `"bytes": `, x.Bytes)
	e.end('{', '}', n)
}

func writeLatency(e *jsonEnc, x *correlate.Latency) {
	n := e.intField(0, `"n": `, int64(x.N))
	n = e.intField(n, `"min": `, x.Min)
	n = e.intField(n, `"p50": `, x.P50)
	n = e.intField(n, `"p90": `, x.P90)
	n = e.intField(n, `"p99": `, x.P99)
	n = e.intField(n, `"max": `, x.Max)
	e.end('{', '}', n)
}

// writeFlow writes a flow as jsonEnc.value does.
func writeFlow(e *jsonEnc, x *correlate.Flow) {
	n := e.strField(0, `"id": `, x.ID)
	n = e.strField(n, `"proto": `, x.Proto)
	n = e.obj(n, `"src": `)
	writeEndpoint(e, &x.Src)
	n = e.obj(n, `"dst": `)
	writeEndpoint(e, &x.Dst)
	n = e.obj(n, `"nat": `)
	typedList(e, x.NAT, writeNATMapping)
	n = e.intField(n, `"packets": `, int64(x.Packets))
	n = e.intField(n, `"bytes": `, x.Bytes)
	n = e.intField(n, `"delivered": `, int64(x.Delivered))
	n = e.intField(n, `"lost": `, int64(x.Lost))
	n = e.intField(n, `"not_captured": `, int64(x.NotCaptured))
	n = e.obj(n, `"lost_at": `)
	typedList(e, x.LostAt, writeLostAt)
	n = e.intField(n, `"retransmissions": `, int64(x.Retransmissions))
	n = e.intField(n, `"resets": `, int64(x.Resets))
	n = e.obj(n, `"handshake_rtt_ns": `)
	typedList(e, x.HandshakeRTT, writePointRTT)
	if x.EchoPairs != 0 {
		n = e.intField(n, `"echo_pairs": `, int64(x.EchoPairs))
	}
	if x.EchoUnanswered != 0 {
		n = e.intField(n, `"echo_unanswered": `, int64(x.EchoUnanswered))
	}
	if x.UDPPairs != 0 {
		n = e.intField(n, `"udp_pairs": `, int64(x.UDPPairs))
	}
	if x.ARPWaitNs != 0 {
		n = e.intField(n, `"arp_wait_ns": `, x.ARPWaitNs)
	}
	n = e.obj(n, `"per_point": `)
	typedList(e, x.PerPoint, writePointCount)
	n = e.obj(n, `"path": `)
	typedList(e, x.Path, writeName)
	n = e.obj(n, `"latency_ns": `)
	writeLatency(e, &x.LatencyNs)
	e.end('{', '}', n)
}

func writeHopWG(e *jsonEnc, x *correlate.HopWG) {
	n := e.strField(0, `"receiver": `, x.Receiver)
	n = e.uintField(n, `"counter": `, x.Counter)
	e.end('{', '}', n)
}

// writeHop writes a journey's hop as jsonEnc.value does.
func writeHop(e *jsonEnc, x *correlate.Hop) {
	n := e.nameField(0, `"point": `, x.Point)
	n = e.nameField(n, `"file": `, x.File)
	n = e.uintField(n, `"frame": `, uint64(x.Frame))
	n = e.intField(n, `"ts_ns": `, x.Ts)
	n = e.intField(n, `"delta_ns": `, x.DeltaNs)
	n = e.uintField(n, `"ttl": `, uint64(x.TTL))
	n = e.strField(n, `"encap": `, x.Encap)
	if len(x.Changes) != 0 {
		n = e.obj(n, `"changes": `)
		typedList(e, x.Changes, writeString)
	}
	if x.Dup != 0 {
		n = e.intField(n, `"dup": `, int64(x.Dup))
	}
	if x.Len != 0 {
		n = e.uintField(n, `"len": `, uint64(x.Len))
	}
	if x.TCPFlags != "" {
		n = e.strField(n, `"tcp_flags": `, x.TCPFlags)
	}
	if x.WireGuard != nil {
		n = e.obj(n, `"wireguard": `)
		writeHopWG(e, x.WireGuard)
	}
	e.end('{', '}', n)
}

// writeJourney writes a journey as jsonEnc.value does.
func writeJourney(e *jsonEnc, x *correlate.Journey) {
	n := e.intField(0, `"id": `, int64(x.ID))
	n = e.strField(n, `"flow": `, x.Flow)
	n = e.strField(n, `"dir": `, x.Dir)
	n = e.strField(n, `"status": `, x.Status)
	if x.LastSeen != "" {
		n = e.strField(n, `"last_seen": `, x.LastSeen)
	}
	if x.NextExpected != "" {
		n = e.strField(n, `"next_expected": `, x.NextExpected)
	}
	if x.Retrans {
		n = e.obj(n, `"retrans": `)
		e.buf = append(e.buf, "true"...)
	}
	n = e.obj(n, `"hops": `)
	typedList(e, x.Hops, writeHop)
	e.end('{', '}', n)
}
