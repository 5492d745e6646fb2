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
	id, flow, dir, status, lastSeen, nextExpected, lostUncaptured, retrans, uncertain, hops string
	// a hop's: its start and first key, its other members'
	hop, file, frame, ts, delta, ttl, encap, changes, clockBound, dup, len, tcpFlags, wireguard, wgCounter string
	wgEnd, change, changesEnd, hopEnd, hopsEnd, end                                                        string
}

func newJourneyTmpl(d int) *journeyTmpl {
	m := func(key string) string { return "," + jsonLine(d+1) + `"` + key + `": ` }  // a journey's member
	m3 := func(key string) string { return "," + jsonLine(d+3) + `"` + key + `": ` } // a hop's
	return &journeyTmpl{depth: d,
		id: "{" + jsonLine(d+1) + `"id": `, flow: m("flow"), dir: m("dir"), status: m("status"),
		lastSeen: m("last_seen"), nextExpected: m("next_expected"), lostUncaptured: m("lost_uncaptured"), retrans: m("retrans") + "true",
		uncertain: m("uncertain"), hops: m("hops"),
		hop: "," + jsonLine(d+2) + "{" + jsonLine(d+3) + `"point": `, file: m3("file"), frame: m3("frame"),
		ts: m3("ts_ns"), delta: m3("delta_ns"), ttl: m3("ttl"), encap: m3("encap"), changes: m3("changes"),
		dup: m3("dup"), len: m3("len"), tcpFlags: m3("tcp_flags"),
		wireguard: m3("wireguard") + "{" + jsonLine(d+4) + `"receiver": `,
		wgCounter: "," + jsonLine(d+4) + `"counter": `, wgEnd: jsonLine(d+3) + "}",
		change: "," + jsonLine(d+4), changesEnd: jsonLine(d+3) + "]", hopEnd: jsonLine(d+2) + "}",
		hopsEnd: jsonLine(d+1) + "]", end: jsonLine(d) + "}",
	}
}

// appendStrings appends a list of strings (not empty) as a member at depth d writes it.
func appendStrings(b []byte, d int, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, jsonLine(d+1)...)
		b = safetext.AppendJSONString(b, s)
	}
	return append(append(b, jsonLine(d)...), ']')
}

// journeyTmpl returns the journey template of the current depth.
func (e *jsonEnc) journeyTmpl() *journeyTmpl {
	if e.journeyT == nil || e.journeyT.depth != e.depth {
		e.journeyT = newJourneyTmpl(e.depth)
	}
	return e.journeyT
}

// writeJourney writes a journey as jsonEnc.value does, from the journey template of its depth. The
// strings a journey's hops repeat from a few (direction, status, points, encapsulation, TCP flags)
// are quoted through the name cache (jsonEnc.appendName); its flow's id and the changes are not. As
// writeFlow does, it appends to a local slice, stored back to e once.
func writeJourney(e *jsonEnc, x *correlate.Journey) {
	t := e.journeyTmpl()
	b := append(e.buf, t.id...)
	b = decimal.AppendInt(b, int64(x.ID))
	b = append(b, t.flow...)
	b = safetext.AppendJSONString(b, x.Flow)
	b = append(b, t.dir...)
	b = e.appendName(b, x.Dir)
	b = append(b, t.status...)
	b = e.appendName(b, x.Status)
	if x.LastSeen != "" {
		b = append(b, t.lastSeen...)
		b = e.appendName(b, x.LastSeen)
	}
	if x.NextExpected != "" {
		b = append(b, t.nextExpected...)
		b = e.appendName(b, x.NextExpected)
	}
	if len(x.LostUncaptured) > 0 {
		b = append(b, t.lostUncaptured...)
		b = appendStrings(b, t.depth+1, x.LostUncaptured)
	}
	if x.Retrans {
		b = append(b, t.retrans...)
	}
	if x.Uncertain != "" {
		b = append(b, t.uncertain...)
		b = safetext.AppendJSONString(b, x.Uncertain)
	}
	b = append(b, t.hops...)
	if len(x.Hops) == 0 {
		b = appendEmpty(b, x.Hops == nil)
	} else {
		for i := range x.Hops {
			b = e.hop(b, t, i, &x.Hops[i])
		}
		b = append(b, t.hopsEnd...)
	}
	e.buf = append(b, t.end...)
	e.flush(false)
}

// hop appends a journey's hop i.
func (e *jsonEnc) hop(b []byte, t *journeyTmpl, i int, x *correlate.Hop) []byte {
	if i == 0 {
		b = append(b, '[')
		b = append(b, t.hop[1:]...)
	} else {
		b = append(b, t.hop...)
	}
	b = e.appendName(b, x.Point)
	b = append(b, t.file...)
	b = e.appendName(b, x.File)
	b = append(b, t.frame...)
	b = decimal.AppendUint(b, uint64(x.Frame))
	b = append(b, t.ts...)
	b = decimal.AppendInt(b, x.Ts)
	b = append(b, t.delta...)
	b = decimal.AppendInt(b, x.DeltaNs)
	b = append(b, t.ttl...)
	b = decimal.AppendUint(b, uint64(x.TTL))
	b = append(b, t.encap...)
	b = e.appendName(b, x.Encap)
	if len(x.Changes) != 0 {
		b = append(b, t.changes...)
		for k, c := range x.Changes {
			if k == 0 {
				b = append(b, '[')
				b = append(b, t.change[1:]...)
			} else {
				b = append(b, t.change...)
			}
			b = safetext.AppendJSONString(b, c)
		}
		b = append(b, t.changesEnd...)
	}
	if x.ClockBound != "" {
		if t.clockBound == "" { // made for the first hop that needs it: most runs have none
			t.clockBound = "," + jsonLine(t.depth+3) + `"clock_bound": `
		}
		b = append(b, t.clockBound...)
		b = e.appendName(b, x.ClockBound)
	}
	if x.ClockUncertainNs != 0 {
		b = append(b, ","+jsonLine(t.depth+3)+`"clock_uncertain_ns": `...)
		b = decimal.AppendInt(b, x.ClockUncertainNs)
	}
	b = e.hopOptional(b, t, x)
	return append(b, t.hopEnd...)
}

// hopOptional appends the hop's members that omitempty leaves out when empty, but its changes.
func (e *jsonEnc) hopOptional(b []byte, t *journeyTmpl, x *correlate.Hop) []byte {
	if x.Dup != 0 {
		b = append(b, t.dup...)
		b = decimal.AppendInt(b, int64(x.Dup))
	}
	if x.Len != 0 {
		b = append(b, t.len...)
		b = decimal.AppendUint(b, uint64(x.Len))
	}
	if x.TCPFlags != "" {
		b = append(b, t.tcpFlags...)
		b = e.appendName(b, x.TCPFlags)
	}
	if x.WireGuard != nil {
		b = append(b, t.wireguard...)
		b = safetext.AppendJSONString(b, x.WireGuard.Receiver)
		b = append(b, t.wgCounter...)
		b = decimal.AppendUint(b, x.WireGuard.Counter)
		b = append(b, t.wgEnd...)
	}
	return b
}
