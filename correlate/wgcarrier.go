package correlate

import (
	"fmt"
	"sort"

	"github.com/calipath/calipath/decode"
)

// WireGuard messages no inner packet was tied to (carrier flows).
//
// joinWireGuard ties a transport message to the packet it carried where a capture on its sender shows
// that packet (the WireGuard device, or a pod veth standing in for it) or on its receiver (the device
// it was decrypted on). A message tied to nothing keeps its own journey, in the flow of the UDP
// datagrams between the two nodes' addresses: a carrier flow. When the sender's device and pod veths
// were not captured, the messages the underlay lost are exactly the ones nothing ties (only the
// receiver could have shown their packets), while those that got through are tied on the receiver and
// counted in their packets' flows: the carrier flow holds the losses and few deliveries, and its own
// share lost says nothing of a drop. flowDropped judges it against all the messages that crossed the
// segment in the same direction instead, and the loss's text says what the captures cannot tell.

// wgCarrier reports whether flow fi is a carrier flow: its packets are WireGuard messages themselves.
func (a *analysis) wgCarrier(fi int32) bool {
	if !a.w.wgOn {
		return false
	}
	if js := a.journeysOf(a.flows[fi]); len(js) > 0 { // its first client's, else its first server's
		o, _ := a.obs(a.w.pktHop(a.hops(int(js[0]))))
		return a.w.wgType(o) != 0
	}
	return false
}

// wgCarrierPassed reports whether carrier flow fi's n losses on segment s are fewer than the
// WireGuard messages that crossed s in their direction (between the same two addresses, counting the
// ones tied to the packets they carried), and not all larger than every one of those: scattered loss,
// not a flow stopped there. False for any other flow, and for size-selected losses (an MTU on the
// way), which stay a drop.
func (a *analysis) wgCarrierPassed(s *segAcc, fi int32, n int) bool {
	crossed, smallest, largest, ok := a.wgCarrierSizes(s, fi)
	return ok && n < crossed && smallest <= largest
}

// wgCarrierSized reports whether carrier flow fi's messages lost on segment s were all larger than
// every WireGuard message that crossed s between the same addresses the same way (size-selected: an
// MTU on the way). Such messages are the encrypted hop itself, which wgEncrypted tells detectLosses.
func (a *analysis) wgCarrierSized(s *segAcc, fi int32) bool {
	crossed, smallest, largest, ok := a.wgCarrierSizes(s, fi)
	return ok && crossed > 0 && smallest > largest
}

// wgCarrierSizes returns, for carrier flow fi's messages lost on segment s, how many messages crossed
// s between their addresses the same way, the smallest lost and the largest that crossed (wgCrossed);
// ok false when fi is no carrier flow or lost no message there.
func (a *analysis) wgCarrierSizes(s *segAcc, fi int32) (crossed, smallest, largest int, ok bool) {
	if !a.wgCarrier(fi) {
		return 0, 0, 0, false
	}
	var m *decode.Observation
	smallest = -1 // the smallest message lost
	a.wgLostOn(s, fi, func(j int32, o *decode.Observation) {
		if m == nil {
			m = o
		}
		if smallest < 0 || int(o.Len) < smallest {
			smallest = int(o.Len)
		}
	})
	if m == nil {
		return 0, 0, 0, false
	}
	crossed, largest = a.wgCrossed(s, m)
	return crossed, smallest, largest, true
}

// wgLostOn calls fn with each journey of flow fi lost on segment s and its WireGuard message at the
// segment's start (journeys without one are left out).
func (a *analysis) wgLostOn(s *segAcc, fi int32, fn func(j int32, o *decode.Observation)) {
	for _, j := range a.journeysOf(a.flows[fi]) { // the client's, then the server's
		if a.jStatus[j] != stLost || int(a.jLast[j]) != s.from || int(a.jNext[j]) != s.to {
			continue
		}
		if o := a.wgMsgAt(j, s.from); o != nil {
			fn(j, o)
		}
	}
}

// wgMsgAt returns journey j's WireGuard message at point p (nil: none).
func (a *analysis) wgMsgAt(j int32, p int) *decode.Observation {
	for _, g := range a.hops(int(j)) {
		if o, _ := a.obs(g); a.w.srcPoint[o.Source] == p && a.w.wgType(o) != 0 {
			return o
		}
	}
	return nil
}

// wgCrossed counts the journeys seen at both ends of segment s whose sighting at its start is a
// WireGuard message between the addresses of message m, the same way, and returns the largest of
// those messages. One pass over the hops: it runs only for a carrier flow's losses.
func (a *analysis) wgCrossed(s *segAcc, m *decode.Observation) (n, largest int) {
	v6 := m.Flags & decode.FlagIPv6
	for j := 0; j < a.nJ; j++ {
		size, to := -1, false
		for _, g := range a.hops(j) {
			o, _ := a.obs(g)
			switch a.w.srcPoint[o.Source] {
			case s.from:
				if o.Src == m.Src && o.Dst == m.Dst && o.Flags&decode.FlagIPv6 == v6 && a.w.wgType(o) != 0 {
					size = int(o.Len)
				}
			case s.to:
				to = true
			}
		}
		if size >= 0 && to {
			n++
			largest = max(largest, size)
		}
	}
	return n, largest
}

// wgLoose is what wgCarrierNote tells of the untied messages lost from one sender: how many, and
// the first one's first sighting.
type wgLoose struct {
	n     int
	first uint32
	v6    bool
}

// wgCarrierNote says, for a segment where carrier flows lost transport messages that carried a
// packet, how many from which sender, that which flows lost those packets cannot be told, and, when
// the sender's WireGuard device and pod veths were not captured, what to capture ("" otherwise).
func (a *analysis) wgCarrierNote(s *segAcc) string {
	if !a.w.wgOn {
		return ""
	}
	lost := map[[2]uint32]*wgLoose{} // sender (address, IPv6) → its lost messages that carried a packet
	for fi := range s.flows {
		if !a.wgCarrier(fi) {
			continue
		}
		a.wgLostOn(s, fi, func(j int32, o *decode.Observation) {
			if a.w.wgType(o) != decode.WGTransport || o.PayloadLen() <= 32 {
				return
			}
			k := [2]uint32{o.Src, uint32(o.Flags & decode.FlagIPv6)}
			if lost[k] == nil {
				lost[k] = &wgLoose{first: a.hops(int(j))[0], v6: k[1] != 0}
			}
			lost[k].n++
		})
	}
	keys := make([][2]uint32, 0, len(lost))
	for k := range lost {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(x, y int) bool {
		return keys[x][1] < keys[y][1] || keys[x][1] == keys[y][1] && keys[x][0] < keys[y][0]
	})
	note := ""
	for _, k := range keys {
		note += a.wgCarrierText(k[0], lost[k])
	}
	return note
}

// wgCarrierText is wgCarrierNote's sentence for the messages l lost from address src.
func (a *analysis) wgCarrierText(src uint32, l *wgLoose) string {
	w := a.w
	n := w.nodeOf(l.v6, src)
	who := w.addrString(l.v6, src) + " (first seen at " + w.c.Points[a.point(l.first)].ID + ")"
	if n >= 0 {
		who = w.nodes[n]
	}
	s := fmt.Sprintf(" %d of them were WireGuard messages from %s that calipath could not tie to the packet each carried, "+
		"so which flows lost those packets cannot be told", l.n, who)
	if ws := a.capDrop.wgLoose; n >= 0 && ws != nil && ws.stood[n] > 0 {
		s += fmt.Sprintf("; %d packet%s last seen leaving %s's WireGuard device, whose messages no capture on %s showed to tie "+
			"them, %s counted as not captured past it, not lost there: each may be one of these messages",
			ws.stood[n], plural(ws.stood[n]), who, who, map[bool]string{true: "was", false: "were"}[ws.stood[n] == 1])
	}
	name := "wireguard.cali"
	if l.v6 {
		name = "wg-v6.cali"
	}
	switch {
	case n >= 0 && !a.nodeShowsInner(n):
		return fmt.Sprintf("%s: %s's WireGuard device (%s) and pod veths were not captured. Capture %s's %s too (calipath plan --wireguard).",
			s, who, name, who, name)
	case n < 0 && a.allShowersKnown(l.v6):
		return fmt.Sprintf("%s: no capture shows what that sender encrypted (its WireGuard device, %s, and its pod veths were not "+
			"captured). Capture its %s too (calipath plan --wireguard).", s, name, name)
	case n < 0:
		return s + ", nor whether that sender's WireGuard device or pod veths were captured."
	}
	return s + "."
}

// nodeShowsInner reports whether some capture of node n shows the packets it encrypts: its
// WireGuard device or a pod veth.
func (a *analysis) nodeShowsInner(n int) bool {
	w := a.w
	for p := range w.c.Points {
		if w.pointNode[p] == n && (w.wgDevice(p) || w.pointRole[p] == decode.RolePodVeth) {
			return true
		}
	}
	return false
}

// allShowersKnown reports whether every node with a capture that shows the packets it encrypts has a
// known address of the family (IPv6 or not): a sender without one then has no such capture.
func (a *analysis) allShowersKnown(v6 bool) bool {
	w := a.w
	known := make([]bool, len(w.nodes))
	for _, n := range w.nodeOfIP {
		known[n] = known[n] || !v6
	}
	for _, n := range w.nodeOfIP6 {
		known[n] = known[n] || v6
	}
	for n := range w.nodes {
		if !known[n] && a.nodeShowsInner(n) {
			return false
		}
	}
	return true
}
