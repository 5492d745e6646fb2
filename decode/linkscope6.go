package decode

// LinkScopeICMPv6 marks the ICMPv6 types of the messages that never leave their link: multicast
// listener query, reports and done (130, 131, 132, 143; RFC 3810, sent with hop limit 1), router
// solicitation and advertisement (133, 134), neighbour solicitation and advertisement (135, 136) and
// redirect (137) (RFC 4861: sent with hop limit 255, which a receiver checks, so none was forwarded).
// They are IPv6's ARP and more: a pod's solicitation for its gateway fe80::ecee:eeff:feee:eeee, its
// router solicitations at start, its host's solicitations for the pod's address, eth0's with the
// router. ICMPv6 errors (types below 128) and echo (128, 129) are forwarded like any packet.
var LinkScopeICMPv6 = [256]bool{130: true, 131: true, 132: true, 133: true, 134: true, 135: true, 136: true,
	137: true, 143: true}

// linkScope6 reports whether p's innermost packet is an ICMPv6 message of its link only
// (LinkScopeICMPv6).
func linkScope6(p *Packet) bool {
	return p.HasICMP && p.Inner.Version == 6 && LinkScopeICMPv6[p.ICMP.Type]
}

// PodAddr6 reports whether a can be a pod's address: not multicast (ff00::/8), not link-local
// (fe80::/10) and not unspecified (::). A pod's veth carries such addresses beside its pod's in
// neighbour discovery (the host asks for the pod's address at its solicited-node multicast address,
// the pod solicits routers from its link-local address), and none of them is a pod.
func PodAddr6(a [16]byte) bool {
	return a[0] != 0xff && !(a[0] == 0xfe && a[1]&0xc0 == 0x80) && a != [16]byte{}
}

// gatewayND reports whether p is a neighbour solicitation or advertisement (ICMPv6 135, 136) whose
// target (the 16 bytes after the ICMPv6 header) is the pods' gateway, CalicoGateway6: a pod asking
// for its gateway's MAC, or its host's answer. Like the ARP for 169.254.1.1, it shows a pod's veth.
func gatewayND(p *Packet) bool {
	return p.HasICMP && p.Inner.Version == 6 && (p.ICMP.Type == 135 || p.ICMP.Type == 136) && p.ICMP.Code == 0 &&
		len(p.Payload) >= 16 && [16]byte(p.Payload[:16]) == CalicoGateway6
}
