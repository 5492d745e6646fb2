package correlate

// Sightings at the same corrected time. A clock bounded on one side only is taken at its limit, so the
// fastest packet across it takes no time at all (see oneSided): its sightings on both sides then have
// equal corrected times, and the merge, which orders equal times by file, may hand the matcher the
// later one first. A packet rewritten by NAT whose post-NAT sighting comes first is then taken for a
// new packet: its journey splits in two, and the first half is "lost". Within a run of equal times
// the merge therefore puts the sightings of one packet (the same NAT-tolerant fingerprint, the same
// encapsulation) in the order of its way: the higher TTL first (TTLs only fall on the way), and at
// equal TTLs (one link's two ends) the sighting on the node that sent the packet first and the one on
// the node it is going to last.

// tiesInOrder puts each run of equal times in batch b in the order of its packets' ways (tieOrder on
// each sighting that ties with the one before it) and returns b. It runs once per batch, off the
// merge's per-sighting line: a tie split across two batches keeps the merge's order.
func (m *matcher) tiesInOrder(b []sighting) []sighting {
	for i := 1; i < len(b); i++ {
		if b[i].t == b[i-1].t && b[i].loose == b[i-1].loose { // (tieBefore's first test, for its packet)
			m.tieOrder(b[:i+1])
		}
	}
	return b
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

// tiesInKeys is tiesInOrder for the sightings of stage that keys name, a slice's sorted keys (a time's
// offset in the slice at the top, its place in stage below bit 32: equal bits above it are equal times): it moves
// keys, not sightings (matchKeys).
func (m *matcher) tiesInKeys(stage []sighting, keys []uint64) {
	for i := 1; i < len(keys); i++ {
		if keys[i]>>32 == keys[i-1]>>32 && sightingAt(stage, keys[i]).loose == sightingAt(stage, keys[i-1]).loose {
			m.tieOrderKeys(stage, keys[:i+1])
		}
	}
}

// tieOrderKeys is tieOrder for tiesInKeys.
func (m *matcher) tieOrderKeys(stage []sighting, keys []uint64) {
	for i := len(keys) - 1; i > 0 && keys[i-1]>>32 == keys[i]>>32 && m.tieBefore(sightingAt(stage, keys[i]), sightingAt(stage, keys[i-1])); i-- {
		keys[i], keys[i-1] = keys[i-1], keys[i]
	}
}
