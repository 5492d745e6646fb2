package report

import (
	"strings"

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
	handshake, echoPairs, echoUnanswered, udpPairs, arpWait, perPoint, path, latency string
	lat      [5]string // latency_ns's members but the first (in latency)
	end      string    // the end of latency_ns and of the flow
	pp       [3]string // a per_point element's: its start and first key, the other two keys
	hs       [2]string // a handshake_rtt_ns element's: its start and first key, the other key
	elemEnd  string    // the end of an object in one of the flow's lists
	listEnd  string    // the end of one of the flow's lists
	pathElem string    // what goes before an element of path
}

// jsonLine is a line break and the indentation of depth d.
func jsonLine(d int) string { return "\n" + strings.Repeat("  ", d) }

func newFlowTmpl(d int) *flowTmpl {
	m := func(key string) string { return "," + jsonLine(d+1) + `"` + key + `": ` }  // a flow's member
	in := func(key string) string { return "{" + jsonLine(d+2) + `"` + key + `": ` } // an object's first member
	m2 := func(key string) string { return "," + jsonLine(d+2) + `"` + key + `": ` } // its next
	m3 := func(key string) string { return "," + jsonLine(d+3) + `"` + key + `": ` } // a list element's next
	closeObj := jsonLine(d+1) + "}"
	elem := "," + jsonLine(d+2) + "{" + jsonLine(d+3)
	return &flowTmpl{depth: d,
		id: "{" + jsonLine(d+1) + `"id": `, proto: m("proto"), src: m("src") + in("ip"), port: m2("port"),
		dst: closeObj + m("dst") + in("ip"), nat: closeObj + m("nat"), packets: m("packets"), bytes: m("bytes"),
		delivered: m("delivered"), lost: m("lost"), notCaptured: m("not_captured"), lostAt: m("lost_at"),
		retrans: m("retransmissions"), resets: m("resets"), handshake: m("handshake_rtt_ns"),
		echoPairs: m("echo_pairs"), echoUnanswered: m("echo_unanswered"), udpPairs: m("udp_pairs"),
		arpWait: m("arp_wait_ns"), perPoint: m("per_point"), path: m("path"), latency: m("latency_ns") + in("n"),
		lat: [5]string{m2("min"), m2("p50"), m2("p90"), m2("p99"), m2("max")}, end: closeObj + jsonLine(d) + "}",
		pp:      [3]string{elem + `"point": `, m3("packets"), m3("bytes")},
		hs:      [2]string{elem + `"point": `, m3("rtt_ns")},
		elemEnd: jsonLine(d+2) + "}", listEnd: jsonLine(d+1) + "]", pathElem: "," + jsonLine(d+2),
	}
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

// elem starts element i of a list with run s: '[' for the comma s starts with, for the first.
func (e *jsonEnc) elem(i int, s string) {
	if i == 0 {
		e.buf = append(e.buf, '[')
		s = s[1:]
	}
	e.buf = append(e.buf, s...)
}

// emptyList writes a list with no elements, null for nil, and reports whether it did.
func (e *jsonEnc) emptyList(n int, isNil bool) bool {
	switch {
	case isNil:
		e.run("null")
	case n == 0:
		e.run("[]")
	default:
		return false
	}
	return true
}

// writeFlow writes a flow as jsonEnc.value does, from the flow template of its depth.
func writeFlow(e *jsonEnc, x *correlate.Flow) {
	t := e.flowTmpl()
	e.run(t.id)
	e.buf = safetext.AppendJSONString(e.buf, x.ID)
	e.run(t.proto)
	e.buf = safetext.AppendJSONString(e.buf, x.Proto)
	e.run(t.src)
	e.buf = safetext.AppendJSONString(e.buf, x.Src.IP)
	e.run(t.port)
	e.buf = decimal.AppendUint(e.buf, uint64(x.Src.Port))
	e.run(t.dst)
	e.buf = safetext.AppendJSONString(e.buf, x.Dst.IP)
	e.run(t.port)
	e.buf = decimal.AppendUint(e.buf, uint64(x.Dst.Port))
	e.run(t.nat)
	e.depth++ // the generic writers' lists are the flow's members
	typedList(e, x.NAT, writeNATMapping)
	e.run(t.packets)
	e.num(int64(x.Packets))
	e.run(t.bytes)
	e.num(x.Bytes)
	e.run(t.delivered)
	e.num(int64(x.Delivered))
	e.run(t.lost)
	e.num(int64(x.Lost))
	e.run(t.notCaptured)
	e.num(int64(x.NotCaptured))
	e.run(t.lostAt)
	typedList(e, x.LostAt, writeLostAt)
	e.depth--
	e.run(t.retrans)
	e.num(int64(x.Retransmissions))
	e.run(t.resets)
	e.num(int64(x.Resets))
	e.run(t.handshake)
	e.pointRTTs(t, x.HandshakeRTT)
	e.flowOptional(t, x)
	e.run(t.perPoint)
	e.pointCounts(t, x.PerPoint)
	e.run(t.path)
	e.path(t, x.Path)
	e.latency(t, &x.LatencyNs)
	e.run(t.end)
	e.flush(false)
}

// flowOptional writes the flow's members that omitempty leaves out when zero.
func (e *jsonEnc) flowOptional(t *flowTmpl, x *correlate.Flow) {
	if x.EchoPairs != 0 {
		e.run(t.echoPairs)
		e.num(int64(x.EchoPairs))
	}
	if x.EchoUnanswered != 0 {
		e.run(t.echoUnanswered)
		e.num(int64(x.EchoUnanswered))
	}
	if x.UDPPairs != 0 {
		e.run(t.udpPairs)
		e.num(int64(x.UDPPairs))
	}
	if x.ARPWaitNs != 0 {
		e.run(t.arpWait)
		e.num(x.ARPWaitNs)
	}
}

func (e *jsonEnc) pointRTTs(t *flowTmpl, list []correlate.PointRTT) {
	if e.emptyList(len(list), list == nil) {
		return
	}
	for i := range list {
		e.elem(i, t.hs[0])
		e.name(list[i].Point)
		e.run(t.hs[1])
		e.num(list[i].RTT)
		e.run(t.elemEnd)
	}
	e.run(t.listEnd)
}

func (e *jsonEnc) pointCounts(t *flowTmpl, list []correlate.PointCount) {
	if e.emptyList(len(list), list == nil) {
		return
	}
	for i := range list {
		e.elem(i, t.pp[0])
		e.name(list[i].Point)
		e.run(t.pp[1])
		e.num(int64(list[i].Packets))
		e.run(t.pp[2])
		e.num(list[i].Bytes)
		e.run(t.elemEnd)
	}
	e.run(t.listEnd)
}

func (e *jsonEnc) path(t *flowTmpl, list []string) {
	if e.emptyList(len(list), list == nil) {
		return
	}
	for i := range list {
		e.elem(i, t.pathElem)
		e.name(list[i])
	}
	e.run(t.listEnd)
}

func (e *jsonEnc) latency(t *flowTmpl, x *correlate.Latency) {
	e.run(t.latency)
	e.num(int64(x.N))
	for i, v := range [5]int64{x.Min, x.P50, x.P90, x.P99, x.Max} {
		e.run(t.lat[i])
		e.num(v)
	}
}
