package report

import (
	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/internal/decimal"
	"github.com/calipath/calipath/internal/safetext"
)

// journeyTmpl is a journey's flowTmpl: the fixed bytes of its JSON at one depth, and of its hops'.
type journeyTmpl struct {
	depth int // the journey's
	// the journey's members' (each its comma, line break, indentation and key)
	id, flow, dir, status, lastSeen, nextExpected, retrans, hops string
	// a hop's: its start and first key, its other members'
	hop, file, frame, ts, delta, ttl, encap, changes, dup, len, tcpFlags, wireguard, wgCounter string
	wgEnd, change, changesEnd, hopEnd, hopsEnd, end                                            string
}

func newJourneyTmpl(d int) *journeyTmpl {
	m := func(key string) string { return "," + jsonLine(d+1) + `"` + key + `": ` }  // a journey's member
	m3 := func(key string) string { return "," + jsonLine(d+3) + `"` + key + `": ` } // a hop's
	return &journeyTmpl{depth: d,
		id: "{" + jsonLine(d+1) + `"id": `, flow: m("flow"), dir: m("dir"), status: m("status"),
		lastSeen: m("last_seen"), nextExpected: m("next_expected"), retrans: m("retrans") + "true", hops: m("hops"),
		hop: "," + jsonLine(d+2) + "{" + jsonLine(d+3) + `"point": `, file: m3("file"), frame: m3("frame"),
		ts: m3("ts_ns"), delta: m3("delta_ns"), ttl: m3("ttl"), encap: m3("encap"), changes: m3("changes"),
		dup: m3("dup"), len: m3("len"), tcpFlags: m3("tcp_flags"),
		wireguard: m3("wireguard") + "{" + jsonLine(d+4) + `"receiver": `,
		wgCounter: "," + jsonLine(d+4) + `"counter": `, wgEnd: jsonLine(d+3) + "}",
		change: "," + jsonLine(d+4), changesEnd: jsonLine(d+3) + "]", hopEnd: jsonLine(d+2) + "}",
		hopsEnd: jsonLine(d+1) + "]", end: jsonLine(d) + "}",
	}
}

// journeyTmpl returns the journey template of the current depth.
func (e *jsonEnc) journeyTmpl() *journeyTmpl {
	if e.journeyT == nil || e.journeyT.depth != e.depth {
		e.journeyT = newJourneyTmpl(e.depth)
	}
	return e.journeyT
}

func (e *jsonEnc) str(s string) { e.buf = safetext.AppendJSONString(e.buf, s) }

// writeJourney writes a journey as jsonEnc.value does, from the journey template of its depth. The
// strings a journey's hops repeat from a few (direction, status, points, encapsulation, TCP flags)
// are quoted through the name cache (jsonEnc.name); its flow's id and the changes are not.
func writeJourney(e *jsonEnc, x *correlate.Journey) {
	t := e.journeyTmpl()
	e.run(t.id)
	e.num(int64(x.ID))
	e.run(t.flow)
	e.str(x.Flow)
	e.run(t.dir)
	e.name(x.Dir)
	e.run(t.status)
	e.name(x.Status)
	if x.LastSeen != "" {
		e.run(t.lastSeen)
		e.name(x.LastSeen)
	}
	if x.NextExpected != "" {
		e.run(t.nextExpected)
		e.name(x.NextExpected)
	}
	if x.Retrans {
		e.run(t.retrans)
	}
	e.run(t.hops)
	if !e.emptyList(len(x.Hops), x.Hops == nil) {
		for i := range x.Hops {
			e.hop(t, i, &x.Hops[i])
		}
		e.run(t.hopsEnd)
	}
	e.run(t.end)
	e.flush(false)
}

// hop writes a journey's hop i.
func (e *jsonEnc) hop(t *journeyTmpl, i int, x *correlate.Hop) {
	e.elem(i, t.hop)
	e.name(x.Point)
	e.run(t.file)
	e.name(x.File)
	e.run(t.frame)
	e.buf = decimal.AppendUint(e.buf, uint64(x.Frame))
	e.run(t.ts)
	e.num(x.Ts)
	e.run(t.delta)
	e.num(x.DeltaNs)
	e.run(t.ttl)
	e.buf = decimal.AppendUint(e.buf, uint64(x.TTL))
	e.run(t.encap)
	e.name(x.Encap)
	if len(x.Changes) != 0 {
		e.run(t.changes)
		for k, c := range x.Changes {
			e.elem(k, t.change)
			e.str(c)
		}
		e.run(t.changesEnd)
	}
	e.hopOptional(t, x)
	e.run(t.hopEnd)
}

// hopOptional writes the hop's members that omitempty leaves out when empty, but its changes.
func (e *jsonEnc) hopOptional(t *journeyTmpl, x *correlate.Hop) {
	if x.Dup != 0 {
		e.run(t.dup)
		e.num(int64(x.Dup))
	}
	if x.Len != 0 {
		e.run(t.len)
		e.buf = decimal.AppendUint(e.buf, uint64(x.Len))
	}
	if x.TCPFlags != "" {
		e.run(t.tcpFlags)
		e.name(x.TCPFlags)
	}
	if x.WireGuard != nil {
		e.run(t.wireguard)
		e.str(x.WireGuard.Receiver)
		e.run(t.wgCounter)
		e.buf = decimal.AppendUint(e.buf, x.WireGuard.Counter)
		e.run(t.wgEnd)
	}
}
