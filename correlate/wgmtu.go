package correlate

import "fmt"

// The MTU of the encrypted hop.
//
// WireGuard encrypts a packet into a UDP datagram 60 bytes larger (IPv4 underlay: IP 20, UDP 8,
// WireGuard header 16, tag 16; 80 over IPv6), its inner packet padded to 16 bytes, and sends it without
// DF. A link on the way whose MTU is below that fragments it (fragmented, wgfrag.go) or, where
// fragments are dropped, loses it; no ICMP fragmentation-needed can come back either way, whatever the
// inner packet's DF bit. So on the encrypted hop, the big packets lost while smaller ones pass are a
// path-MTU black hole with or without DF: wgEncrypted tells detectLosses it is on that hop.

// wgEncrypted reports whether segment s lies on the encrypted hop of every flow that lost packets
// there: between the WireGuard devices of its path, the sender's before it and the receiver's after.
func (a *analysis) wgEncrypted(s *segAcc) bool {
	if a.wg == nil || s.kind != "underlay" || len(s.flows) == 0 {
		return false
	}
	for fi := range s.flows {
		ok := false
		for _, pi := range a.flows[fi].path {
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
