package report

import (
	"strings"
	"unsafe"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/internal/decimal"
	"github.com/calipath/calipath/internal/safetext"
)

// flowTmpl is the fixed bytes of a flow's JSON at one depth, each run of them between two values in
// one string: what ends the value before (a closing brace, a comma), the line break, the indentation
// and the next key; so that writing a flow is one append per value and one per run, with no
// indentation worked out per member. A list's element runs begin with the comma that goes before
// every element but the first, where '[' goes instead.
type flowTmpl struct {
	depth int // the flow's (jsonEnc.depth as it starts): its members are one deeper
	// the flow's members', in order; each is its member's comma, line break, indentation and key
	id, proto, src, port, dst, nat, packets, bytes, delivered, lost, notCaptured, lostAt, retrans, resets,
	handshake, echoPairs, echoUnanswered, udpPairs, arpWait, perPoint, path, pathUnordered, latency string
	lat [5]string // latency_ns's members but the first (in latency)
	end string    // the end of latency_ns and of the flow
	// the end of latency_ns, clock_bound's and clock_note's keys, and the end of the flow: for a flow
	// with a ClockBound or ClockNote (flowClock makes them when one comes)
	latEnd, clockBound, clockUncertain, clockNote, flowEnd string
	pp                                                     [3]string // a per_point element's: its start and first key, the other two keys
	hs                                                     [2]string // a handshake_rtt_ns element's: its start and first key, the other key
	elemEnd                                                string    // the end of an object in one of the flow's lists
	listEnd                                                string    // the end of one of the flow's lists
	pathElem                                               string    // what goes before an element of path
	// the same runs joined where they meet: a list's first element's start with '[' for its comma, a
	// later one's with the end of the one before, and the end of the last element and of its list
	ppFirst, ppNext, hsFirst, hsNext, pathFirst, elemsEnd string
	// the runs of the usual flow joined with its values: nat's key, an empty list and packets' key
	// (natNone); lost's key to handshake_rtt_ns's with the values between all 0 or empty (clean)
	natNone, clean string
	// dst, natNone and latency in halves, each of 16 to 32 bytes at the usual depths: two appendRuns,
	// where the whole (33 to 64 bytes) was append's call to memmove
	dst2, natNone2, latency2 [2]string
	// each point's name in per_point, handshake_rtt_ns and path with the runs around it (nameRuns)
	ppNames, hsNames, pathNames nameRuns
	lastPath                    pathCache // the last flow's path as written
	// per_point lists as written whose elements' numbers are all the same, by the numbers' length
	ppSame [17]ppSame
	// the last flow's protocol and addresses, quoted
	lastProto, lastSrc, lastDst lastQuoted
	lastDstPort                 lastEnd  // the last flow's destination, its address quoted and its port
	lastHead                    lastHead // the last flow's protocol and source address, as written
	kept                        []byte   // their joined strings' bytes (nameRuns.keep)
	// the flow's packets and bytes as writeFlow wrote them: per_point's numbers and latency_ns's n,
	// most flows' the same, copy their digits
	pk, by numAt
}

// numAt is one of the numbers writeFlow wrote (flowTmpl.pk, by): its value, and where in the flow's
// buffer its digits begin and how many there are (none: not to be copied; each is followed by a run
// of 8 bytes or more, so that appendAgain8 may copy it).
type numAt struct {
	v     int64
	at, n int32
}

// same reports whether v is c's number and its digits can be copied to the end of b (appendAgain8).
// Inlined, so that the copy takes no call: a number's digits are copied where
//
//	if c.same(b, v) { b = appendAgain8(b, int(c.at), int(c.n)) } else { b = decimal.AppendInt(b, v) }
func (c *numAt) same(b []byte, v int64) bool { return v == c.v && c.n > 0 && repeatable(b, int(c.n)) }

// nameRuns keeps, for the names one of a flow's lists repeats (capture points), a later element's
// run before the name, the name quoted and the run after it joined in one string, so that an element
// takes one append for the three where it took three and a look in jsonEnc.names. A direct-mapped
// cache by the name's address, as nameQuotes; the first element of a list starts with '[' and the
// joined string's end from the run's common part on (first).
type nameRuns struct {
	next, after string // the run before a later element's name (it ends with first's common part), the run after the name
	first       int    // where, in next, the part it has in common with a first element's run begins (after its comma)
	slots       [nameSlots]struct{ s, joined string }
	kept        *[]byte // the joined strings' bytes, one after another (keep): the template's, for its three lists
}

// keep returns b as a string whose bytes are kept in r.kept: a few allocations for all the names,
// not one each (the streamed flows' writer allocates next to nothing per flow). The bytes of r.kept
// below its length are never written again, so the string does not change.
func (r *nameRuns) keep(b []byte) string {
	kept := r.kept
	if cap(*kept)-len(*kept) < len(b) {
		*kept = make([]byte, 0, max(8192, 2*len(b)))
	}
	at := len(*kept)
	*kept = append(*kept, b...)
	return unsafe.String(&(*kept)[at], len(b))
}

// newNameRuns returns the runs around a name: next before a later element's, first before the
// first's ('[' and then the end of next: newFlowTmpl makes them so), after after it; the joined
// strings' bytes go to kept.
func newNameRuns(first, next, after string, kept *[]byte) nameRuns {
	return nameRuns{next: next, after: after, first: len(next) - len(first) + 1, kept: kept}
}

// appendNameRun appends the runs around name s and s quoted, as appendName does, for the first of
// its list's elements or a later one.
func (e *jsonEnc) appendNameRun(b []byte, r *nameRuns, s string, first bool) []byte {
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	slot := &r.slots[(p>>4^p>>12^uintptr(len(s)))%nameSlots]
	if len(s) == 0 || len(slot.s) != len(s) || unsafe.StringData(slot.s) != unsafe.StringData(s) {
		start := len(b)
		b = append(b, r.next...)
		b = e.appendName(b, s)
		b = append(b, r.after...)
		if len(slot.s) != 0 || len(s) == 0 { // the first name a slot meets keeps it, as in appendName
			if first {
				b = append(append(b[:start], '['), b[start+r.first:]...) // (overlapping: copied downwards)
			}
			return b
		}
		slot.s, slot.joined = s, r.keep(b[start:])
		b = b[:start]
	}
	if first {
		return append(append(b, '['), slot.joined[r.first:]...)
	}
	return append(b, slot.joined...)
}

// halves returns s in two halves.
func halves(s string) [2]string { return [2]string{s[:len(s)/2], s[len(s)/2:]} }

// jsonLine is a line break and the indentation of depth d.
func jsonLine(d int) string { return "\n" + strings.Repeat("  ", d) }

func newFlowTmpl(d int) *flowTmpl {
	m := func(key string) string { return "," + jsonLine(d+1) + `"` + key + `": ` }  // a flow's member
	in := func(key string) string { return "{" + jsonLine(d+2) + `"` + key + `": ` } // an object's first member
	m2 := func(key string) string { return "," + jsonLine(d+2) + `"` + key + `": ` } // its next
	m3 := func(key string) string { return "," + jsonLine(d+3) + `"` + key + `": ` } // a list element's next
	closeObj := jsonLine(d+1) + "}"
	elem := "," + jsonLine(d+2) + "{" + jsonLine(d+3)
	t := &flowTmpl{depth: d,
		id: "{" + jsonLine(d+1) + `"id": `, proto: m("proto"), src: m("src") + in("ip"), port: m2("port"),
		dst: closeObj + m("dst") + in("ip"), nat: closeObj + m("nat"), packets: m("packets"), bytes: m("bytes"),
		delivered: m("delivered"), lost: m("lost"), notCaptured: m("not_captured"), lostAt: m("lost_at"),
		retrans: m("retransmissions"), resets: m("resets"), handshake: m("handshake_rtt_ns"),
		echoPairs: m("echo_pairs"), echoUnanswered: m("echo_unanswered"), udpPairs: m("udp_pairs"),
		arpWait: m("arp_wait_ns"), perPoint: m("per_point"), path: m("path"), pathUnordered: m("path_unordered"), latency: m("latency_ns") + in("n"),
		lat: [5]string{m2("min"), m2("p50"), m2("p90"), m2("p99"), m2("max")}, end: closeObj + jsonLine(d) + "}",
		pp:      [3]string{elem + `"point": `, m3("packets"), m3("bytes")},
		hs:      [2]string{elem + `"point": `, m3("rtt_ns")},
		elemEnd: jsonLine(d+2) + "}", listEnd: jsonLine(d+1) + "]", pathElem: "," + jsonLine(d+2),
	}
	t.ppFirst, t.ppNext = "["+t.pp[0][1:], t.elemEnd+t.pp[0]
	t.hsFirst, t.hsNext = "["+t.hs[0][1:], t.elemEnd+t.hs[0]
	t.pathFirst, t.elemsEnd = "["+t.pathElem[1:], t.elemEnd+t.listEnd
	t.natNone = t.nat + "[]" + t.packets
	t.clean = t.lost + "0" + t.notCaptured + "0" + t.lostAt + "[]" + t.retrans + "0" + t.resets + "0" + t.handshake
	t.dst2, t.natNone2, t.latency2 = halves(t.dst), halves(t.natNone), halves(t.latency)
	t.ppNames = newNameRuns(t.ppFirst, t.ppNext, t.pp[1], &t.kept)
	t.hsNames = newNameRuns(t.hsFirst, t.hsNext, t.hs[1], &t.kept)
	t.pathNames = newNameRuns(t.pathFirst, t.pathElem, "", &t.kept)
	return t
}

// flowTmpl returns the flow template of the current depth.
func (e *jsonEnc) flowTmpl() *flowTmpl {
	if e.flowT == nil || e.flowT.depth != e.depth {
		e.flowT = newFlowTmpl(e.depth)
	}
	return e.flowT
}

func (e *jsonEnc) run(s string) { e.buf = append(e.buf, s...) }

func (e *jsonEnc) num(v int64) { e.buf = decimal.AppendInt(e.buf, v) }

// writeFlow writes a flow as jsonEnc.value does, from the flow template of its depth. The bytes are
// appended to a local slice, handed back to e only around the generic writers' lists, so that the
// buffer stays in registers rather than being stored to e after every value.
func writeFlow(e *jsonEnc, x *correlate.Flow) {
	t := e.flowTmpl()
	b := appendRun16(e.buf, t.id)
	b = appendID(b, x.ID)
	b = t.lastHead.append(b, t, x) // proto and src's address: most flows' those of the flow before
	// (in as many lines as the calls it replaced: the calls below keep their offsets from the
	// function's first line, by which the PGO profile's inlining goes)
	//
	b = appendRun(b, t.port)
	b = decimal.AppendUint(b, uint64(x.Src.Port))
	b = appendRun(appendRun(b, t.dst2[0]), t.dst2[1])
	// (the destination's address and port as the flow before's when the same: lastEnd)
	b = t.lastDstPort.append(b, t, x.Dst)
	if x.NAT != nil && len(x.NAT) == 0 { // no NAT (most flows): its empty list and the next key in one run
		b = appendRun(appendRun(b, t.natNone2[0]), t.natNone2[1])
	} else {
		b = appendRun(b, t.nat)
		b = memberList(e, b, x.NAT, writeNATMapping)
		b = appendRun(b, t.packets)
	}
	pk := len(b) // the packets' and bytes' digits noted for per_point's and latency_ns's (t.pk, t.by)
	b = appendRun(decimal.AppendInt(b, int64(x.Packets)), t.bytes)
	by := len(b)
	b = appendRun(decimal.AppendInt(b, x.Bytes), t.delivered)
	t.pk, t.by = numAt{int64(x.Packets), int32(pk), int32(by - len(t.bytes) - pk)}, numAt{x.Bytes, int32(by), int32(len(b) - len(t.delivered) - by)}
	b = decimal.AppendInt(b, int64(x.Delivered))
	if x.Lost|x.NotCaptured|x.Retransmissions|x.Resets == 0 && x.LostAt != nil && len(x.LostAt) == 0 {
		b = append(b, t.clean...) // nothing lost, missed, sent again or reset (most flows): one run
	} else {
		b = flowLosses(e, b, t, x)
	}
	b = e.pointRTTs(b, t, x.HandshakeRTT)
	// (the calls from here on at main's offsets from the function's first line, where the PGO
	// profile saw them hot: flowOptional is inlined for it)
	b = flowOptional(b, t, x)
	b = appendRun(b, t.perPoint)
	b = e.pointCounts(b, t, x.PerPoint)
	b = appendRun(b, t.path)
	b = e.path(b, t, x.Path)
	if len(x.PathUnordered) > 0 {
		b = pathUnordered(b, t, x.PathUnordered)
	}
	b = latency(b, t, &x.LatencyNs)
	if x.ClockBound != "" || x.ClockUncertainNs != 0 || x.ClockNote != "" || len(x.Dirs) > 0 || x.OpenerUnknown != "" ||
		len(x.Connections) > 0 {
		b = flowClock(b, t, x)
	}
	e.buf = b
	e.flush(false)
}

// flowLosses appends a flow's lost, not_captured, lost_at, retransmissions and resets, and the key of
// handshake_rtt_ns: for a flow whose run is not the template's clean.
func flowLosses(e *jsonEnc, b []byte, t *flowTmpl, x *correlate.Flow) []byte {
	t.pk.n, t.by.n = 0, 0 // memberList may flush e.buf: the digits may no longer be where noted
	b = appendRun(b, t.lost)
	b = decimal.AppendInt(b, int64(x.Lost))
	b = appendRun(b, t.notCaptured)
	b = decimal.AppendInt(b, int64(x.NotCaptured))
	b = appendRun(b, t.lostAt)
	b = memberList(e, b, x.LostAt, writeLostAt)
	b = appendRun(b, t.retrans)
	b = decimal.AppendInt(b, int64(x.Retransmissions))
	b = appendRun(b, t.resets)
	b = decimal.AppendInt(b, int64(x.Resets))
	return appendRun(b, t.handshake)
}

// appendID appends a flow's id quoted, as safetext.AppendJSONString does: correlate's ids ("f" and the
// flow's rank) byte by byte into b's spare capacity, with no escape to look for in a lower-case letter
// or a digit; any other id by AppendJSONString.
func appendID(b []byte, s string) []byte {
	i := len(b)
	if cap(b)-i < len(s)+2 {
		return safetext.AppendJSONString(b, s)
	}
	b = b[:i+len(s)+2]
	d := b[i+1 : i+1+len(s)]
	for k := range d {
		c := s[k]
		if c-'0' > 9 && c-'a' > 25 {
			return safetext.AppendJSONString(b[:i], s)
		}
		d[k] = c
	}
	b[i] = '"'
	b[i+1+len(s)] = '"'
	return b
}

// memberList appends list, one of the flow's members, to b as typedList writes it one level deeper
// than the flow.
func memberList[T any](e *jsonEnc, b []byte, list []T, write func(*jsonEnc, *T)) []byte {
	if len(list) == 0 {
		return appendEmpty(b, list == nil) // as typedList writes it, without the encoder's state
	}
	e.buf = b
	e.depth++
	typedList(e, list, write)
	e.depth--
	return e.buf
}

// appendEmpty appends a list with no elements, null for nil.
func appendEmpty(b []byte, isNil bool) []byte {
	if isNil {
		return append(b, "null"...)
	}
	return append(b, "[]"...)
}

// flowOptional appends the flow's members that omitempty leaves out when zero.
func flowOptional(b []byte, t *flowTmpl, x *correlate.Flow) []byte {
	if x.EchoPairs != 0 {
		b = appendRun(b, t.echoPairs)
		b = decimal.AppendInt(b, int64(x.EchoPairs))
	}
	if x.EchoUnanswered != 0 {
		b = appendRun(b, t.echoUnanswered)
		b = decimal.AppendInt(b, int64(x.EchoUnanswered))
	}
	if x.UDPPairs != 0 {
		b = appendRun(b, t.udpPairs)
		b = decimal.AppendInt(b, int64(x.UDPPairs))
	}
	if x.ARPWaitNs != 0 {
		b = appendRun(b, t.arpWait)
		b = decimal.AppendInt(b, x.ARPWaitNs)
	}
	return b
}

func (e *jsonEnc) pointRTTs(b []byte, t *flowTmpl, list []correlate.PointRTT) []byte {
	if len(list) == 0 {
		return appendEmpty(b, list == nil)
	}
	for i := range list {
		b = e.appendNameRun(b, &t.hsNames, list[i].Point, i == 0)
		b = decimal.AppendInt(b, list[i].RTT)
	}
	return appendRun(b, t.elemsEnd)
}

func (e *jsonEnc) pointCounts(b []byte, t *flowTmpl, list []correlate.PointCount) []byte {
	if len(list) == 0 {
		return appendEmpty(b, list == nil)
	}
	if len(list) <= ppSameMax {
		return e.pointCountsSame(b, t, list)
	}
	return e.pointCountsAll(b, t, list)
}

// pointCountsAll appends list, a flow's per_point, element by element.
func (e *jsonEnc) pointCountsAll(b []byte, t *flowTmpl, list []correlate.PointCount) []byte {
	from, to := 0, 0 // the element before's numbers, in b
	for i := range list {
		b = e.appendNameRun(b, &t.ppNames, list[i].Point, i == 0)
		if i > 0 && list[i].Packets == list[i-1].Packets && list[i].Bytes == list[i-1].Bytes {
			b, from, to = appendAgain(b, from, to), len(b), len(b)+to-from // a flow seen whole at each point: most
			continue
		}
		from = len(b)
		b = decimal.AppendInt(b, int64(list[i].Packets))
		b = appendRun(b, t.pp[2])
		b = decimal.AppendInt(b, list[i].Bytes)
		to = len(b)
	}
	return appendRun(b, t.elemsEnd)
}

// ppSame is a flow's per_point list as written, '[' to ']', when every element's numbers are the same
// (a flow seen whole at each point: most): its names, and where in it each element's numbers (its
// packets, the run between and its bytes) begin. flowTmpl keeps one for each length of the numbers
// from 16 to 32 bytes: a later flow with the same names and numbers of that length writes the list
// as this one's bytes with its own numbers over this one's, at the same places. Flows on the same
// paths, which come one after another, have the same names: the same strings, which the list keeps.
type ppSame struct {
	names [ppSameMax]string // (an array, and out made once: TestStreamedFlowsJSONAllocs)
	n     int               // how many of names the list has
	out   []byte
	at    [ppSameMax]int32
}

// ppSameMax is the longest per_point list a ppSame holds.
const ppSameMax = 8

// pointCountsSame appends list, a flow's per_point list of up to ppSameMax elements, as
// pointCountsAll does: when its elements' numbers are all the same, from the template's ppSame of
// their length when it holds the same names, else element by element, kept in it.
func (e *jsonEnc) pointCountsSame(b []byte, t *flowTmpl, list []correlate.PointCount) []byte {
	start := len(b)
	if t.pk.same(b, int64(list[0].Packets)) { // the flow's packets and bytes (most flows': seen whole at every point)
		b = appendAgain8(b, int(t.pk.at), int(t.pk.n))
	} else {
		b = decimal.AppendInt(b, int64(list[0].Packets))
	}
	b = appendRun(b, t.pp[2])
	if t.by.same(b, list[0].Bytes) {
		b = appendAgain8(b, int(t.by.at), int(t.by.n))
	} else {
		b = decimal.AppendInt(b, list[0].Bytes)
	}
	n := len(b) - start
	if uint(n-16) > 16 {
		return e.pointCountsAll(b[:start], t, list)
	}
	c := &t.ppSame[n-16]
	if same, ok := c.same(list); !ok {
		return e.pointCountsAll(b[:start], t, list)
	} else if same {
		lo, hi := *(*[16]byte)(b[start:]), *(*[16]byte)(b[start+n-16:])
		b = append(b[:start], c.out...)
		// (each element's numbers end before out does, where its run to the next or the list's end
		// begins: the stores need no bounds check)
		p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), start)
		for _, at := range c.at[:len(list)] {
			*(*[16]byte)(unsafe.Add(p, at)) = lo
			*(*[16]byte)(unsafe.Add(p, int(at)+n-16)) = hi
		}
		return b
	}
	b = b[:start]
	c.n = len(list)
	for i := range list {
		b = e.appendNameRun(b, &t.ppNames, list[i].Point, i == 0)
		c.at[i] = int32(len(b) - start)
		c.names[i] = list[i].Point
		if i == 0 {
			b = decimal.AppendInt(b, int64(list[i].Packets))
			b = appendRun(b, t.pp[2])
			b = decimal.AppendInt(b, list[i].Bytes)
		} else {
			b = appendAgain(b, start+int(c.at[0]), start+int(c.at[0])+n)
		}
	}
	b = appendRun(b, t.elemsEnd)
	if cap(c.out) < len(b)-start {
		c.out = make([]byte, 0, max(1024, 2*(len(b)-start))) // once, as a rule: lists of up to 8 names
	}
	c.out = append(c.out[:0], b[start:]...)
	return b
}

// same reports whether list's names are those c holds, the same strings (the same bytes at the
// same address: a string's bytes never change), and (ok) whether every element of list (up to
// ppSameMax) has the packets and bytes of the first: one pass for both.
func (c *ppSame) same(list []correlate.PointCount) (same, ok bool) {
	names := c.names[:len(list)]
	p, n := list[0].Packets, list[0].Bytes
	var counts, strs uint64 // the bits in which an element's numbers, or its name's length or address, differ
	for i := range names {
		x := &list[i]
		counts |= uint64(x.Packets^p) | uint64(x.Bytes^n)
		strs |= uint64(len(x.Point)^len(names[i])) | uint64(uintptr(unsafe.Pointer(unsafe.StringData(x.Point)))^uintptr(unsafe.Pointer(unsafe.StringData(names[i]))))
	}
	return strs == 0 && len(list) == c.n, counts == 0
}

// appendAgain appends b[from:to] to b, as append does, but for 16 to 32 bytes (a per_point element's
// numbers and the run between them) without the call to memmove, as appendRun.
func appendAgain(b []byte, from, to int) []byte {
	n, i := to-from, len(b)
	if uint(n-16) > 16 || cap(b)-i < n {
		return append(b, b[from:to]...)
	}
	d, p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i), unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), from)
	*(*[16]byte)(d) = *(*[16]byte)(p)
	*(*[16]byte)(unsafe.Add(d, n-16)) = *(*[16]byte)(unsafe.Add(p, n-16))
	return b[:i+n]
}

func (e *jsonEnc) path(b []byte, t *flowTmpl, list []string) []byte {
	if len(list) == 0 {
		return appendEmpty(b, list == nil)
	}
	if t.lastPath.same(list) {
		return append(b, t.lastPath.out...)
	}
	start := len(b)
	for i := range list {
		b = e.appendNameRun(b, &t.pathNames, list[i], i == 0)
	}
	b = appendRun(b, t.listEnd)
	t.lastPath.keep(list, b[start:])
	return b
}

// pathCache is the last path a flow template wrote (flows on one path come one after another: all but
// 60 of the many-flow set's 20,000), its names and its bytes, so that the next flow on the same
// path appends those bytes at once instead of each name's.
type pathCache struct {
	names []string // a copy of the list (the strings' headers): the caller's may change
	out   []byte   // the list as written, '[' to ']'
}

// same reports whether list holds the names the cache holds, the same strings (the same bytes at
// the same address: a string's bytes never change).
func (c *pathCache) same(list []string) bool {
	if len(list) != len(c.names) {
		return false
	}
	names := c.names[:len(list)]
	var d uint64 // the bits in which a name's length or address differ
	for i, s := range list {
		d |= uint64(len(s)^len(names[i])) | uint64(uintptr(unsafe.Pointer(unsafe.StringData(s)))^uintptr(unsafe.Pointer(unsafe.StringData(names[i]))))
	}
	return d == 0
}

// keep makes list, written as out, the one the cache holds.
func (c *pathCache) keep(list []string, out []byte) {
	c.names = append(c.names[:0], list...)
	c.out = append(c.out[:0], out...)
}

// pathUnordered appends a flow's path_unordered member (Flow.PathUnordered), one index a line as
// path's points.
func pathUnordered(b []byte, t *flowTmpl, list []int) []byte {
	b = appendRun(b, t.pathUnordered)
	for i, n := range list {
		if i == 0 {
			b = appendRun(b, t.pathFirst)
		} else {
			b = appendRun(b, t.pathElem)
		}
		b = decimal.AppendInt(b, int64(n))
	}
	return appendRun(b, t.listEnd)
}

// latency appends latency_ns and the end of the flow.
func latency(b []byte, t *flowTmpl, x *correlate.Latency) []byte {
	b = appendRun(appendRun(b, t.latency2[0]), t.latency2[1])
	if t.pk.same(b, int64(x.N)) { // the flow's packets (a delivered flow's: one a packet)
		b = appendAgain8(b, int(t.pk.at), int(t.pk.n))
	} else {
		b = decimal.AppendInt(b, int64(x.N))
	}
	b = appendRun(b, t.lat[0])
	b = decimal.AppendInt(b, x.Min)
	b = appendRun(b, t.lat[1])
	from := len(b)
	b = decimal.AppendInt(b, x.P50)
	n := len(b) - from
	b = appendRun(b, t.lat[2])
	if i := len(b); x.P90 == x.P50 && repeatable(b, n) {
		b, from = appendAgain8(b, from, n), i
	} else {
		b, from = decimal.AppendInt(b, x.P90), i
		n = len(b) - i
	}
	b = appendRun(b, t.lat[3])
	if i := len(b); x.P99 == x.P90 && repeatable(b, n) {
		b, from = appendAgain8(b, from, n), i
	} else {
		b, from = decimal.AppendInt(b, x.P99), i
		n = len(b) - i
	}
	b = appendRun(b, t.lat[4])
	if x.Max == x.P99 && repeatable(b, n) {
		b = appendAgain8(b, from, n)
	} else {
		b = decimal.AppendInt(b, x.Max)
	}
	return appendRun16(b, t.end)
}

// repeatable reports whether a number of n digits, written before b's end and followed there by a
// run of at least 8 bytes (a latency's next key), can be written again by appendAgain8: the upper
// percentiles of a flow's few packets are often the same (p99 and max nearly always).
func repeatable(b []byte, n int) bool { return n <= 8 && cap(b)-len(b) >= 8 }

// appendAgain8 appends b[from:from+n] to b (repeatable: n is at most 8, from+8 at most b's length,
// and b has room for 8 more bytes) with one 8-byte load and store: the store may write b's spare
// capacity past the n bytes, as decimal.AppendInt's may.
func appendAgain8(b []byte, from, n int) []byte {
	i, p := len(b), unsafe.Pointer(unsafe.SliceData(b))
	*(*uint64)(unsafe.Add(p, i)) = *(*uint64)(unsafe.Add(p, from))
	return b[:i+n]
}

// flowClock rewrites the end of flow x's JSON, b as latency left it, to add its clock_bound,
// clock_uncertain_ns, clock_note, dir_latency, opener_unknown and connections.
func flowClock(b []byte, t *flowTmpl, x *correlate.Flow) []byte {
	if t.flowEnd == "" { // made for the first flow that needs them: most runs have none
		t.latEnd, t.clockBound = jsonLine(t.depth+1)+"}", ","+jsonLine(t.depth+1)+`"clock_bound": `
		t.clockNote, t.flowEnd = ","+jsonLine(t.depth+1)+`"clock_note": `, jsonLine(t.depth)+"}"
		t.clockUncertain = "," + jsonLine(t.depth+1) + `"clock_uncertain_ns": `
	}
	b = append(b[:len(b)-len(t.end)], t.latEnd...)
	if x.ClockBound != "" {
		b = appendRun(b, t.clockBound)
		b = safetext.AppendJSONString(b, x.ClockBound)
	}
	if x.ClockUncertainNs != 0 {
		b = appendRun(b, t.clockUncertain)
		b = decimal.AppendInt(b, x.ClockUncertainNs)
	}
	if x.ClockNote != "" {
		b = appendRun(b, t.clockNote)
		b = safetext.AppendJSONString(b, x.ClockNote)
	}
	if len(x.Dirs) > 0 {
		b = dirLatency(b, t.depth+1, x.Dirs)
	}
	if x.OpenerUnknown != "" { // rare (a flow whose opening no capture shows): not templated
		b = append(b, ","+jsonLine(t.depth+1)+`"opener_unknown": `...)
		b = safetext.AppendJSONString(b, x.OpenerUnknown)
	}
	if len(x.Connections) > 0 {
		b = connections(b, t.depth+1, x.Connections)
	}
	return appendRun(b, t.flowEnd)
}

// connections appends a flow's connections member (Flow.Connections), the flow's members being at
// depth d: rare (a TCP flow whose 5-tuple carried several connections), so not templated.
func connections(b []byte, d int, cs []correlate.TCPConnection) []byte {
	b = append(b, ","+jsonLine(d)+`"connections": [`...)
	for i := range cs {
		x := &cs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, jsonLine(d+1)+"{"+jsonLine(d+2)+`"opened_by": `...)
		b = safetext.AppendJSONString(b, x.OpenedBy)
		b = append(b, ","+jsonLine(d+2)+`"journey": `...)
		b = decimal.AppendInt(b, int64(x.Journey))
		b = append(b, ","+jsonLine(d+2)+`"ts_ns": `...)
		b = decimal.AppendInt(b, x.Ts)
		for k, v := range []int64{int64(x.Packets), x.Bytes, int64(x.Lost), int64(x.NotCaptured), int64(x.Retransmissions), int64(x.Resets)} {
			b = append(b, ","+jsonLine(d+2)+`"`+[]string{"packets", "bytes", "lost", "not_captured", "retransmissions", "resets"}[k]+`": `...)
			b = decimal.AppendInt(b, v)
		}
		b = append(b, ","+jsonLine(d+2)+`"handshake_rtt_ns": [`...)
		for k := range x.HandshakeRTT {
			r := &x.HandshakeRTT[k]
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, jsonLine(d+3)+"{"+jsonLine(d+4)+`"point": `...)
			b = safetext.AppendJSONString(b, r.Point)
			b = append(b, ","+jsonLine(d+4)+`"rtt_ns": `...)
			b = decimal.AppendInt(b, r.RTT)
			b = append(b, jsonLine(d+3)+"}"...)
		}
		if len(x.HandshakeRTT) > 0 {
			b = append(b, jsonLine(d+2)...)
		}
		b = append(b, "]"+jsonLine(d+1)+"}"...)
	}
	return append(b, jsonLine(d)+"]"...)
}

// dirLatency appends a flow's dir_latency member (Flow.Dirs), the flow's members being at depth d:
// rare (a flow whose two directions' latencies are bounds of different kinds), so not templated.
func dirLatency(b []byte, d int, dirs []correlate.DirLatency) []byte {
	b = append(b, ","+jsonLine(d)+`"dir_latency": [`...)
	for i := range dirs {
		x := &dirs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, jsonLine(d+1)+"{"+jsonLine(d+2)+`"dir": `...)
		b = safetext.AppendJSONString(b, x.Dir)
		b = append(b, ","+jsonLine(d+2)+`"latency_ns": {`...)
		for k, v := range []int64{int64(x.LatencyNs.N), x.LatencyNs.Min, x.LatencyNs.P50, x.LatencyNs.P90,
			x.LatencyNs.P99, x.LatencyNs.Max} {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, jsonLine(d+3)+`"`+[]string{"n", "min", "p50", "p90", "p99", "max"}[k]+`": `...)
			b = decimal.AppendInt(b, v)
		}
		b = append(b, jsonLine(d+2)+"}"...)
		if x.ClockBound != "" {
			b = append(b, ","+jsonLine(d+2)+`"clock_bound": `...)
			b = safetext.AppendJSONString(b, x.ClockBound)
		}
		b = append(b, jsonLine(d+1)+"}"...)
	}
	return append(b, jsonLine(d)+"]"...)
}

// lastEnd is the last destination a flow template wrote, its address and port, and its JSON: the
// address quoted (lastDst), the port's run and the port.
type lastEnd struct {
	ip   string
	port uint16
	n    int              // the length of the JSON (0: none kept, or longer than q)
	q    [lastEndMax]byte // (an array: appendKept copies 80 bytes of it)
}

// lastEndMax is the most bytes a lastEnd keeps: an IPv6 address's are about 70.
const lastEndMax = 96

// append appends endpoint x's address and port, as writeFlow writes them, from q when x is the last
// endpoint (the same address string, as lastQuoted compares them, and port).
func (c *lastEnd) append(b []byte, t *flowTmpl, x correlate.Endpoint) []byte {
	if c.n != 0 && x.Port == c.port && len(x.IP) == len(c.ip) && unsafe.StringData(x.IP) == unsafe.StringData(c.ip) {
		if c.n <= 80 {
			return appendKept(b, (*[80]byte)(c.q[:]), c.n)
		}
		return append(b, c.q[:c.n]...) // (an IPv6 address's)
	}
	start := len(b)
	b = t.lastDst.append(b, x.IP)
	b = appendRun(b, t.port)
	b = decimal.AppendUint(b, uint64(x.Port))
	c.ip, c.port, c.n = x.IP, x.Port, 0
	if len(b)-start <= lastEndMax {
		c.n = copy(c.q[:], b[start:])
	}
	return b
}

// lastHead is the last flow's protocol and source address as written, from proto's key to the
// address quoted: the flows come in the order of their ids, by protocol and source address, and runs
// of them share both (the same strings: correlate keeps one per address).
type lastHead struct {
	proto, ip string
	n         int               // the length of the bytes written (0: none kept, or longer than q)
	q         [lastHeadMax]byte // (an array: TestStreamedFlowsJSONAllocs)
}

// lastHeadMax is the most bytes a lastHead keeps: an IPv6 address's head is about 100.
const lastHeadMax = 160

// append appends flow x's protocol and source address, as writeFlow writes them, from q when they
// are the last flow's (the same strings, as lastQuoted compares them).
func (c *lastHead) append(b []byte, t *flowTmpl, x *correlate.Flow) []byte {
	if c.n != 0 && len(x.Proto) == len(c.proto) && unsafe.StringData(x.Proto) == unsafe.StringData(c.proto) &&
		len(x.Src.IP) == len(c.ip) && unsafe.StringData(x.Src.IP) == unsafe.StringData(c.ip) {
		if c.n <= 80 {
			return appendKept(b, (*[80]byte)(c.q[:]), c.n)
		}
		return append(b, c.q[:c.n]...) // (an IPv6 address's)
	}
	start := len(b)
	b = appendRun(b, t.proto)
	b = t.lastProto.append(b, x.Proto)
	b = appendRun(b, t.src)
	b = t.lastSrc.append(b, x.Src.IP)
	c.proto, c.ip, c.n = x.Proto, x.Src.IP, 0
	if len(b)-start <= lastHeadMax {
		c.n = copy(c.q[:], b[start:])
	}
	return b
}

// appendKept appends q[:n], a lastHead's or lastEnd's bytes (n at most 80), to b as append does,
// but without the call to memmove: q's 80 bytes in five 16-byte copies straight into b's spare
// capacity, where those past n land as appendAgain8's store may (the usual IPv4 head is 66 bytes,
// the destination 35). Inlined.
func appendKept(b []byte, q *[80]byte, n int) []byte {
	i := len(b)
	if cap(b)-i < 80 {
		return append(b, q[:n]...)
	}
	d, p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i), unsafe.Pointer(q)
	*(*[16]byte)(d) = *(*[16]byte)(p)
	*(*[16]byte)(unsafe.Add(d, 16)) = *(*[16]byte)(unsafe.Add(p, 16))
	*(*[16]byte)(unsafe.Add(d, 32)) = *(*[16]byte)(unsafe.Add(p, 32))
	*(*[16]byte)(unsafe.Add(d, 48)) = *(*[16]byte)(unsafe.Add(p, 48))
	*(*[16]byte)(unsafe.Add(d, 64)) = *(*[16]byte)(unsafe.Add(p, 64))
	return b[:i+n]
}

// lastQuoted is the last string written in one of a flow's members and its JSON: flows of one pair of
// pods, one after another, have the same addresses (the same strings: correlate keeps one per address).
type lastQuoted struct {
	s string
	q []byte
}

// append appends s in JSON, as safetext.AppendJSONString, from q when s is the last string (the same
// address and length: a string's bytes never change, and c keeps them alive).
func (c *lastQuoted) append(b []byte, s string) []byte {
	if len(s) == len(c.s) && unsafe.StringData(s) == unsafe.StringData(c.s) && len(s) != 0 {
		return append(b, c.q...)
	}
	start := len(b)
	b = safetext.AppendJSONString(b, s)
	c.s, c.q = s, append(c.q[:0], b[start:]...)
	return b
}

// appendRun appends s, one of a template's runs, to b as append(b, s...) does, but for s of 16 to 32
// bytes (most of them) without the call to memmove: two copies of 16 bytes, the second ending where s
// ends (overlapping the first), straight into b's spare capacity.
func appendRun(b []byte, s string) []byte {
	n, i := len(s), len(b)
	if uint(n-16) > 16 || cap(b)-i < n {
		return append(b, s...)
	}
	d, p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i), unsafe.Pointer(unsafe.StringData(s))
	*(*[16]byte)(d) = *(*[16]byte)(p)
	*(*[16]byte)(unsafe.Add(d, n-16)) = *(*[16]byte)(unsafe.Add(p, n-16))
	return b[:i+n]
}

// appendRun16 is appendRun for s of 8 to 16 bytes (a flow's first run and its last, at the usual
// depths): two copies of 8 bytes, the second ending where s ends.
func appendRun16(b []byte, s string) []byte {
	n, i := len(s), len(b)
	if uint(n-8) > 8 || cap(b)-i < n {
		return append(b, s...)
	}
	d, p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i), unsafe.Pointer(unsafe.StringData(s))
	*(*[8]byte)(d) = *(*[8]byte)(p)
	*(*[8]byte)(unsafe.Add(d, n-8)) = *(*[8]byte)(unsafe.Add(p, n-8))
	return b[:i+n]
}
