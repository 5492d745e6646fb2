package correlate

import "github.com/calipath/calipath/decode"

// Sightings at the same corrected time. A clock bounded on one side only is taken at its limit, so the
// fastest packet across it takes no time at all (see oneSided): its sightings on both sides then have
// equal corrected times, and the merge, which orders equal times by file, may hand the matcher the
// later one first. A packet rewritten by NAT whose post-NAT sighting comes first is then taken for a
// new packet: its journey splits in two, and the first half is "lost". Within a run of equal times
// the merge therefore puts the sightings of one packet (the same NAT-tolerant fingerprint, the same
// encapsulation) in the order of its way: the higher TTL first (TTLs only fall on the way), and at
// equal TTLs (one link's two ends) the sighting on the node that sent the packet first and the one on
// the node it is going to last.

// sightTied fills the last sighting of batch b (see sight) and moves it before the sightings of its
// packet at the same corrected time that its way says came after it.
func (m *matcher) sightTied(b []sighting, o *decode.Observation, slot *uint64, g uint32, t int64) {
	n := len(b) - 1
	m.sight(&b[n], o, slot, g, t)
	if n > 0 && b[n-1].t == t {
		m.tieOrder(b)
	}
}

// tieOrder moves the last sighting of b back past the sightings at its time that come after it on its
// packet's way (tieBefore).
func (m *matcher) tieOrder(b []sighting) {
	for i := len(b) - 1; i > 0 && b[i-1].t == b[i].t && m.tieBefore(&b[i], &b[i-1]); i-- {
		b[i], b[i-1] = b[i-1], b[i]
	}
}

// tieBefore reports whether sighting s, at the same corrected time as p, came first on their packet's
// way: both of one packet (matchable, the same NAT-tolerant fingerprint and encapsulation), s with the
// higher TTL, or at equal TTLs s on the node that sent the packet or p on the node it is going to.
func (m *matcher) tieBefore(s, p *sighting) bool {
	if s.kind&p.kind&sMatchable == 0 || s.loose != p.loose || s.o.Encap() != p.o.Encap() {
		return false
	}
	if s.o.TTL != p.o.TTL {
		return s.o.TTL > p.o.TTL
	}
	if s.node == p.node {
		return false
	}
	w := m.w
	if snd := w.senderNode(s.o); snd >= 0 && int(s.node) == snd && int(p.node) != snd {
		return true
	}
	rcv := w.receiverNode(p.o)
	return rcv >= 0 && int(p.node) == rcv && int(s.node) != rcv
}
