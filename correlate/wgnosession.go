package correlate

import (
	"fmt"
	"time"

	"github.com/calipath/calipath/decode"
)

// Traffic dropped while no WireGuard session exists, over time. A packet that enters a node's
// WireGuard device toward a peer with no session waits there while the device sends a handshake
// initiation (at once, or within REKEY_TIMEOUT if one is already out); when no response comes, it is
// dropped. So an inner packet that no message carried died for want of a session when, at its time,
// no session of the node toward that peer was in use (none had sent a message before it and another
// after it), and an initiation of the node toward the peer that nothing answered lies around it.

// wgInitWindow is how far around a packet the initiation its wait sent (or the one already out) can
// lie: REKEY_TIMEOUT (5 s) and its jitter before it, and a second after it.
const (
	wgInitBefore = int64(6 * time.Second)
	wgInitAfter  = int64(time.Second)
)

// noSession marks, among the inner packets no message carried (st.noMsg), those that entered their
// node's device while it had no session toward their peer (st.noSess).
func (wj *wgJoin) noSession(outTo map[[2]int][]wgInner) {
	st := wj.st
	if len(st.noMsg) == 0 {
		return
	}
	dead := map[int32]bool{}
	for _, j := range st.noMsg {
		dead[j] = true
	}
	answered := map[uint32]bool{}
	for _, h := range st.handshakes {
		if h.typ == decode.WGResponse {
			answered[h.recv] = true
		}
	}
	for pair, ins := range outTo {
		var unanswered []int64 // times of the node's unanswered initiations toward the peer
		for _, h := range st.handshakes {
			if h.typ == decode.WGInitiation && h.from == pair[0] && h.to == pair[1] && !answered[h.sender] {
				unanswered = append(unanswered, h.t)
			}
		}
		if len(unanswered) == 0 {
			continue
		}
		var spans [][2]int64 // each session's first and last message sent
		for _, s := range st.sessions {
			if s.from == pair[0] && s.to == pair[1] && len(s.sent) > 0 {
				spans = append(spans, [2]int64{s.sent[0].t, s.sent[len(s.sent)-1].t})
			}
		}
		for _, x := range ins {
			if !dead[x.j] || wgInSession(spans, x.t) || !wgInitNear(unanswered, x.t) {
				continue
			}
			if st.noSess == nil {
				st.noSess = map[int32]bool{}
			}
			st.noSess[x.j] = true
		}
	}
}

// wgInSession reports whether time t lies within one of the sessions' spans of sent messages.
func wgInSession(spans [][2]int64, t int64) bool {
	for _, sp := range spans {
		if sp[0] <= t && t <= sp[1] {
			return true
		}
	}
	return false
}

// wgInitNear reports whether an initiation lies around time t (see wgInitWindow).
func wgInitNear(inits []int64, t int64) bool {
	for _, it := range inits {
		if it >= t-wgInitBefore && it <= t+wgInitAfter {
			return true
		}
	}
	return false
}

// wgNoSessionLost counts the journeys lost on segment s that died in their node's WireGuard device
// while it had no session (noSession).
func (a *analysis) wgNoSessionLost(s *segAcc) int {
	n := 0
	for j := range a.wg.noSess {
		if a.jStatus[j] == stLost && int(a.jLast[j]) == s.from && int(a.jNext[j]) == s.to {
			n++
		}
	}
	return n
}

// wgNoSessionNote says, for a device → underlay segment whose losses are not all for want of a
// session, how many of them were ("" when none); and, for a segment inside a node whose WireGuard
// device no capture shows, what calipath cannot tell there (wgProxyNote).
func (a *analysis) wgNoSessionNote(s *segAcc) string {
	if a.wg == nil {
		return ""
	}
	if note := a.wgProxyNote(s); note != "" {
		return note
	}
	if len(a.wg.noSess) == 0 {
		return ""
	}
	k := a.wgNoSessionLost(s)
	if k == 0 || k == s.lost {
		return ""
	}
	return fmt.Sprintf(" %d of them entered %s's WireGuard device while it had no session toward their peer (see wireguard-handshake-failing).",
		k, a.w.nodes[a.w.pointNode[s.from]])
}
