package correlate

// encapNoUnderlaySev is the severity of an encap-drop on segment s (a pod's cali → its node's tunnel
// device) when the node's underlay was not captured (encapNoUnderlayText), lost being its unexplained
// drops. Packets that never reached the tunnel device either died inside the node or left it another
// way, unencapsulated (a missing route to the remote block sends them out by the default route), and
// only the uncaptured underlay would tell: the text says which cannot be told, so the finding is a
// warning, not an error naming the node as the place of the drop (state-missing-route without node-b's
// eth0: an ERROR encap-drop at node-b/cali → node-b/tunl0 for replies that left node-b by eth0 and died
// on the underlay). It stays an error ("": the kind's) when the node answered every one of them with
// an ICMP error of its own (segAcc.refused, less those nothing shows it sent): the node said it
// refused them (df-ping-refused without node-a's eth0).
func (f *findings) encapNoUnderlaySev(s *segAcc, lost int) string {
	if refused := s.refused - f.unproven[s]; lost > 0 && refused >= lost {
		return ""
	}
	return sevWarning
}
