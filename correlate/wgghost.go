package correlate

import "github.com/calipath/calipath/decode"

// WireGuard peers known only by their address.
//
// A Calico node's messages to or from a peer whose node no capture shows and no evidence named
// (--node-ip, --k8s, the messages' own addresses) still make sessions: the node sent and received
// them, and its inner packets are aligned with them as with any peer's. Such a peer takes an id of
// its own in sessions and handshakes: -2 - its place in wgState.ghosts (-1 stays "unknown"). It has
// no node, so no inner packet or point of its own.

// wgGhost is a WireGuard peer known only by its underlay address.
type wgGhost struct {
	addr uint32 // IPv4 address, or Tables.V6 index
	v6   bool
}

// peerEnds gives a message's end whose node is unknown (-1) a peer id of its own (wgGhost) when its
// other end is a Calico node; from and to are the ends' nodes.
func (wj *wgJoin) peerEnds(v6 bool, o *decode.Observation, from, to int) (int, int) {
	w := wj.w
	switch {
	case from == -1 && to >= 0 && w.cluster[to]:
		from = wj.ghost(v6, o.Src)
	case to == -1 && from >= 0 && w.cluster[from]:
		to = wj.ghost(v6, o.Dst)
	}
	return from, to
}

// ghost returns the peer id of address a (see wgGhost), taking a new one the first time.
func (wj *wgJoin) ghost(v6 bool, a uint32) int {
	k := wgGhost{addr: a, v6: v6}
	if id, ok := wj.ghostOf[k]; ok {
		return id
	}
	if wj.ghostOf == nil {
		wj.ghostOf = map[wgGhost]int{}
	}
	id := -2 - len(wj.st.ghosts)
	wj.st.ghosts = append(wj.st.ghosts, k)
	wj.ghostOf[k] = id
	return id
}

// peerName names a session's or handshake's end: its node, the address of a peer known only by it,
// or "its peer" (-1: unknown).
func (st *wgState) peerName(w *world, id int) string {
	switch {
	case id >= 0:
		return w.nodes[id]
	case id <= -2 && -2-id < len(st.ghosts):
		g := st.ghosts[-2-id]
		if g.v6 {
			return "the peer at " + w.c.Tables.V6(g.addr).String()
		}
		return "the peer at " + addrOf(g.addr).String()
	}
	return "its peer"
}
