package correlate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
)

// The MTU of the encrypted hop.
//
// WireGuard encrypts a packet into a UDP datagram 60 bytes larger (IPv4 underlay: IP 20, UDP 8,
// WireGuard header 16, tag 16; 80 over IPv6), its inner packet padded to 16 bytes, and sends it without
// DF. A link on the way whose MTU is below that fragments it (fragmented, wgfrag.go) or, where
// fragments are dropped, loses it; no ICMP fragmentation-needed can come back either way, whatever the
// inner packet's DF bit. So on the encrypted hop, the big packets lost while smaller ones pass are a
// path-MTU black hole with or without DF: wgEncrypted tells detectLosses it is on that hop.

// wgEncrypted reports whether segment s lies on the encrypted hop of every flow that lost packets
// there: between the WireGuard devices of its path, the sender's before it and the receiver's after;
// or, for a carrier flow (WireGuard messages no packet was tied to), the hop its lost messages were
// on, when they were all larger than every message that crossed it (wgCarrierSized).
func (a *analysis) wgEncrypted(s *segAcc) bool {
	if a.wg == nil || s.kind != "underlay" || len(s.flows) == 0 {
		return false
	}
	for fi := range s.flows {
		ok := a.wgCarrierSized(s, fi) // its packets are the messages themselves, lost by size (wgcarrier.go)
		for _, pi := range a.pathsOf(a.flows[fi]) {
			ok = ok || (pi != nil && a.wgBetween(pi, s.from, s.to))
		}
		if !ok {
			return false
		}
	}
	return true
}

// wgBetween reports whether the segment from → to lies on path pi between two WireGuard devices.
func (a *analysis) wgBetween(pi *pathInfo, from, to int) bool {
	i, k := pi.index(from), pi.index(to)
	if i < 0 || k != i+1 {
		return false
	}
	before, after := false, false
	for x, p := range pi.points {
		if a.w.wgDevice(p) {
			before = before || x < i
			after = after || x > k
		}
	}
	return before && after
}

// wgBlackholeDetail says what a black hole on the encrypted hop is: the largest packet lost and the
// largest that passed, as the pods sent them, and why DF does not matter there.
func wgBlackholeDetail(s *segAcc) string {
	return fmt.Sprintf("Lost packets were up to %d bytes as sent; the largest that passed was %d. On WireGuard's encrypted "+
		"hop DF does not matter: a packet travels as a UDP datagram 60 bytes larger (80 over IPv6; inner packet padded to 16) "+
		"without DF, so no ICMP fragmentation-needed can come back, and a link whose MTU is below it fragments or loses it. "+
		"The WireGuard MTU is too large for the underlay here.", s.lostMaxLen, s.passMaxLen)
}

// wgMTU explains a path-MTU black hole or fragmentation on the encrypted hop from the nodes' link
// dumps: a WireGuard device whose MTU, plus what WireGuard adds, is above the MTU of the underlay
// device of a node on the way (its own, or its peer's): its largest packets cannot cross unfragmented.
func (x *explainer) wgMTU(an *Anomaly) []Explanation {
	a, w := x.a, x.a.w
	if a.wg == nil {
		return nil
	}
	var nodes []int // the end nodes of the anomaly's flows, in order
	seen := map[int]bool{}
	for _, id := range an.Flows {
		for fi, fid := range a.ids {
			if fid != id {
				continue
			}
			for _, pi := range a.pathsOf(a.flows[fi]) {
				if pi == nil {
					continue
				}
				for _, n := range []int{pi.srcNode, pi.dstNode} {
					if n >= 0 && !seen[n] {
						seen[n] = true
						nodes = append(nodes, n)
					}
				}
			}
		}
	}
	var out []Explanation
	for _, s := range nodes {
		st := x.states[w.nodes[s]]
		if st == nil {
			continue
		}
		for _, dev := range []string{"wireguard.cali", "wg-v6.cali"} {
			wl, ok := st.Link(dev)
			if !ok || wl.MTU <= 0 {
				continue
			}
			out = append(out, x.wgUnderlayBelow(s, nodes, dev, wl.MTU, tunnelOverhead[dev], wl.Source)...)
		}
	}
	return out
}

// wgUnderlayBelow explains, for node s's WireGuard device dev (MTU mtu, overhead oh, dumped at src),
// each underlay device of the given nodes whose MTU is below the device's largest packet encrypted.
func (x *explainer) wgUnderlayBelow(s int, nodes []int, dev string, mtu, oh int, src cluster.Source) []Explanation {
	w := x.a.w
	var out []Explanation
	for _, n := range nodes {
		st := x.states[w.nodes[n]]
		if st == nil {
			continue
		}
		for p := range w.c.Points {
			if w.pointNode[p] != n || w.pointRole[p] != decode.RoleUnderlay {
				continue
			}
			l, ok := st.Link(w.c.Points[p].Iface)
			if !ok || l.MTU <= 0 || mtu+oh <= l.MTU {
				continue
			}
			out = append(out, explanation("mtu-too-small", w.nodes[s], src, fmt.Sprintf(
				"%s's MTU on %s is %d: its largest packets leave encrypted as %d bytes, above the MTU of %s on %s (%d); "+
					"a WireGuard MTU of at most %d fits.", dev, w.nodes[s], mtu, mtu+oh, l.Name, w.nodes[n], l.MTU, l.MTU-oh)))
		}
	}
	return out
}

// wgBlackholeText is the kind's text of a path-MTU black hole on the encrypted hop (%s: the segment):
// there the generic "DF … fragmentation-needed … sending pod" does not hold.
const wgBlackholeText = "Large packets were lost between %s while smaller ones passed, on WireGuard's encrypted hop, where no ICMP " +
	"fragmentation-needed can report it: a path-MTU black hole."

// wgBlackholeNext is what to do about a path-MTU black hole on the encrypted hop of segment s: the
// WireGuard MTU of the nodes at its ends (wireguard.cali, or wg-v6.cali over an IPv6 underlay) must fit
// the smallest underlay MTU between them less what WireGuard adds, since no ICMP can help.
func (a *analysis) wgBlackholeNext(s *segAcc) string {
	dev, felix := "wireguard.cali", "wireguardMTU"
	if o := a.lostAt(s); o != nil && o.Flags&decode.FlagIPv6 != 0 {
		dev, felix = "wg-v6.cali", "wireguardMTUV6"
	}
	oh := tunnelOverhead[dev]
	var names []string
	seen := map[int]bool{}
	for fi := range s.flows {
		for _, pi := range a.pathsOf(a.flows[fi]) {
			if pi == nil || !a.wgBetween(pi, s.from, s.to) {
				continue
			}
			for _, n := range []int{pi.srcNode, pi.dstNode} {
				if n >= 0 && !seen[n] {
					seen[n] = true
					names = append(names, a.w.nodes[n])
				}
			}
		}
	}
	sort.Strings(names)
	nodes := "the nodes"
	if len(names) > 0 {
		nodes = strings.Join(names, " and ")
	}
	return fmt.Sprintf("Set %s's MTU on %s (FelixConfiguration %s, or Calico's MTU setting) to the smallest underlay MTU between "+
		"them less %d. WireGuard sends its UDP without DF, so no ICMP fragmentation-needed comes back and letting ICMP through "+
		"does not help: compare `ip link show` (the MTU) of every underlay interface and router on the way, and check whether "+
		"something on it drops IP fragments.", dev, nodes, felix, oh)
}
