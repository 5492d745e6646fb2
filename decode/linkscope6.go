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
