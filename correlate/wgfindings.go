package correlate

import (
	"fmt"
	"sort"

	"github.com/calipath/calipath/decode"
)

// WireGuard findings (wireguard.go gathered the sessions and handshakes).

// wgNoSession reports whether the losses of segment s are packets that entered a WireGuard device
// and died there because its node had no session: s runs from the device (or a pod veth standing in
// for it, wgproxy.go) to its node's underlay, and every packet lost there entered the device while the
// node had no session toward its peer and an initiation of the node toward it went unanswered
// (wgnosession.go). No session recorded is no evidence: the node's messages may be ones the captures
// could not tie to it.
func (a *analysis) wgNoSession(s *segAcc) bool {
	if a.wg == nil || !a.wg.devOrProxy(a.w, s.from) || a.w.pointRole[s.to] != decode.RoleUnderlay {
		return false
	}
	if a.w.pointNode[s.to] != a.w.pointNode[s.from] {
		return false
	}
	return s.lost > 0 && a.wgNoSessionLost(s) == s.lost
}

// detectWGHandshakes lists, per initiating node's underlay point, the handshake initiations that no
// response answered (a response names the initiation's sender index as its receiver).
func detectWGHandshakes(f *findings, k *kindRow) []Anomaly {
	a := f.a
	if a.wg == nil {
		return nil
	}
	answered := map[uint32]bool{}
	for _, h := range a.wg.handshakes {
		if h.typ == decode.WGResponse {
			answered[h.recv] = true
		}
	}
	type key struct{ point, to int }
	lost := map[key][]wgHandshake{}
	total := map[key]int{}
	for _, h := range a.wg.handshakes {
		if h.typ != decode.WGInitiation {
			continue
		}
		p := a.point(h.g)
		k := key{p, h.to}
		total[k]++
		if !answered[h.sender] {
			lost[k] = append(lost[k], h)
		}
	}
	var keys []key
	for k, hs := range lost {
		if len(hs) == total[k] {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(x, y int) bool {
		return keys[x].point < keys[y].point || keys[x].point == keys[y].point && keys[x].to < keys[y].to
	})
	var out []Anomaly
	for _, kk := range keys {
		hs := lost[kk]
		var ev []Evidence
		for _, h := range hs {
			if len(ev) < 10 {
				ev = append(ev, a.evidence(h.g))
			}
		}
		peer := a.wg.peerName(a.w, kk.to)
		detail := fmt.Sprintf("%d handshake initiations to %s, none answered.", len(hs), peer)
		out = append(out, k.anomaly(k.severity, Where{Point: a.w.c.Points[kk.point].ID}, nil, f.ids, len(hs), ev, detail))
	}
	return out
}

// detectWGBypass lists the points where pod packets left a node in clear toward a node it talks to
// through WireGuard: a pod's route bypassed the device (a policy rule, a route of its own).
func detectWGBypass(f *findings, k *kindRow) []Anomaly {
	a := f.a
	if a.wg == nil {
		return nil
	}
	w := a.w
	type hit struct {
		flows          map[int32]bool
		ev             []Evidence
		n              int
		dst, src, cali oneValue // for the next step's command
	}
	at := map[int]*hit{}
	for fi, fl := range a.flows {
		for d := 0; d < 2; d++ {
			pi := a.pathsOf(fl)[d]
			if pi == nil || pi.srcNode < 0 || pi.dstNode < 0 || pi.srcNode == pi.dstNode ||
				a.pairMode[[2]int{min(pi.srcNode, pi.dstNode), max(pi.srcNode, pi.dstNode)}] != "wireguard" {
				continue
			}
			for _, j := range a.dirJourneys(fl, uint8(d)) {
				for _, g := range a.hops(int(j)) {
					o, _ := a.obs(g)
					p := a.point(g)
					if w.pointNode[p] != pi.srcNode || w.pointRole[p] != decode.RoleUnderlay || o.Encap() != decode.EncapNone ||
						w.wgType(o) != 0 || o.Flags&(decode.FlagARP|decode.FlagICMPError) != 0 {
						continue
					}
					if _, pod := w.ownerOf(o.Flags&decode.FlagIPv6 != 0, o.Src); !pod {
						continue
					}
					h := at[p]
					if h == nil {
						h = &hit{flows: map[int32]bool{}}
						at[p] = h
					}
					h.flows[int32(fi)] = true
					h.n++
					v6 := o.Flags&decode.FlagIPv6 != 0
					h.dst.add(w.addrString(v6, o.Dst))
					h.src.add(w.addrString(v6, o.Src))
					h.cali.add(a.sentFromIface(j, pi.srcNode))
					if len(h.ev) < 10 {
						h.ev = append(h.ev, a.evidence(g))
					}
					break
				}
			}
		}
	}
	var out []Anomaly
	for _, p := range sortedKeys(at) {
		h := at[p]
		detail := fmt.Sprintf("%d pod packets left %s unencrypted toward a node this one reaches through WireGuard.",
			h.n, w.nodes[w.pointNode[p]])
		an := k.anomaly(k.severity, Where{Point: w.c.Points[p].ID}, h.flows, f.ids, h.n, h.ev, detail)
		an.named(w.nodes[w.pointNode[p]], "<dst>", h.dst.v, "<pod IP>", h.src.v, "<cali>", h.cali.v)
		out = append(out, an)
	}
	return out
}

// detectWGReordered lists, per receiving underlay point, the transport messages of a session that
// arrived after a message with a higher counter (reordered on the way), or with a counter the
// session had already carried (replayed).
func detectWGReordered(f *findings, k *kindRow) []Anomaly {
	a := f.a
	if a.wg == nil {
		return nil
	}
	type hit struct {
		n, replay int
		ev        []Evidence
	}
	at := map[int]*hit{}
	for _, s := range a.wg.sessions {
		var top uint64
		seen := map[uint64]bool{}
		for i, m := range s.recvd {
			if m.counter == wgNoCounter {
				continue // seen only in fragments: no capture showed its counter
			}
			back := i > 0 && m.counter < top
			if !back && !seen[m.counter] {
				top = max(top, m.counter)
				seen[m.counter] = true
				continue
			}
			p := a.point(m.g)
			h := at[p]
			if h == nil {
				h = &hit{}
				at[p] = h
			}
			h.n++
			if seen[m.counter] {
				h.replay++
			}
			seen[m.counter] = true
			if len(h.ev) < 10 {
				h.ev = append(h.ev, a.evidence(m.g))
			}
		}
	}
	var out []Anomaly
	for _, p := range sortedKeys(at) {
		h := at[p]
		detail := wgReorderedDetail(h.n, h.replay)
		out = append(out, k.anomaly(k.severity, Where{Point: a.w.c.Points[p].ID}, nil, f.ids, h.n, h.ev, detail))
	}
	return out
}

// wgReorderedDetail says how many transport messages came out of counter order, and how many of them
// were replays (a counter already received).
func wgReorderedDetail(n, replay int) string {
	msgs := fmt.Sprintf("%d transport messages arrived", n)
	if n == 1 {
		msgs = "1 transport message arrived"
	}
	switch {
	case replay == 0:
		return msgs + " with a counter below one already received."
	case replay == n && n == 1:
		return msgs + " with a counter already received: a replay."
	case replay == n:
		return msgs + " with a counter already received: replays."
	case replay == 1:
		return msgs + " with a counter below one already received (1 of them a replay of a counter seen before)."
	}
	return msgs + fmt.Sprintf(" with a counter below one already received (%d of them replays of a counter seen before).", replay)
}

// sentFromIface is the interface name of the pod veth on node at which journey j was seen (the
// sending pod's cali…), "" when none of its hops there is at one whose name is known.
func (a *analysis) sentFromIface(j int32, node int) string {
	w := a.w
	for _, g := range a.hops(int(j)) {
		if p := a.point(g); w.pointNode[p] == node {
			if name := w.podIface(p); name != "" {
				return name
			}
		}
	}
	return ""
}
