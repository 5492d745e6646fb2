package correlate

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// detectWGRekey lists, per sending node's underlay point and peer, the sessions that replaced an
// earlier one of the same direction (a new receiver index: a new handshake while a session existed),
// with how often that happened. WireGuard rekeys every 2 minutes of a session (or after 2^60
// messages); far more often, a handshake was redone early (a restarted peer, a changed key or
// endpoint, a device recreated).
func detectWGRekey(f *findings, k *kindRow) []Anomaly {
	a := f.a
	if a.wg == nil {
		return nil
	}
	type dir struct{ from, to int }
	byDir := map[dir][]*wgSession{}
	for _, s := range a.wg.sessions {
		if len(s.sent)+len(s.recvd) > 0 {
			byDir[dir{s.from, s.to}] = append(byDir[dir{s.from, s.to}], s)
		}
	}
	type hit struct {
		point    int
		to       int
		sessions []*wgSession
	}
	var hits []hit
	for d, ss := range byDir {
		if len(ss) < 2 {
			continue
		}
		sort.Slice(ss, func(x, y int) bool { return wgFirstMsg(ss[x]).t < wgFirstMsg(ss[y]).t })
		hits = append(hits, hit{point: a.point(wgFirstMsg(ss[1]).g), to: d.to, sessions: ss})
	}
	sort.Slice(hits, func(x, y int) bool {
		return hits[x].point < hits[y].point || hits[x].point == hits[y].point && hits[x].to < hits[y].to
	})
	var out []Anomaly
	for _, h := range hits {
		var ev []Evidence
		var idx []string
		for i, s := range h.sessions {
			idx = append(idx, fmt.Sprintf("0x%08x", s.receiver))
			if i > 0 && len(ev) < 10 {
				ev = append(ev, a.evidence(wgFirstMsg(s).g))
			}
		}
		n := len(h.sessions) - 1
		span := time.Duration(wgFirstMsg(h.sessions[n]).t - wgFirstMsg(h.sessions[0]).t)
		every := span / time.Duration(n)
		detail := fmt.Sprintf("%d new sessions toward %s replaced the one before (receiver indexes %s), one every %s on average.",
			n, a.wg.peerName(a.w, h.to), strings.Join(idx, ", "), every.Round(time.Millisecond))
		if n == 1 {
			detail = fmt.Sprintf("1 new session toward %s replaced the one before (receiver indexes %s), after %s.",
				a.wg.peerName(a.w, h.to), strings.Join(idx, ", "), every.Round(time.Millisecond))
		}
		out = append(out, k.anomaly(k.severity, Where{Point: a.w.c.Points[h.point].ID}, nil, f.ids, n, ev, detail))
	}
	return out
}

// wgFirstMsg returns a session's first message: the first sent, or received when its sender's
// underlay saw none.
func wgFirstMsg(s *wgSession) *wgMsg {
	if len(s.sent) > 0 {
		return &s.sent[0]
	}
	return &s.recvd[0]
}
