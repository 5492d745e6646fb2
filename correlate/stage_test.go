package correlate

import (
	"testing"

	"github.com/calipath/calipath/decode"
)

// TestStageOf checks the matcher's stage and node of a sighting against their definition from the
// world: the point (shifted), and for a point of every interface (RoleAny) also the encapsulation and
// TTL; the node of the source's point.
func TestStageOf(t *testing.T) {
	eachStageCase(t, func(m *matcher, o *decode.Observation, want uint32, node int16) {
		if got := m.stageOf(o); got != want {
			t.Errorf("source %d, flags %#x, ttl %d: stage %#x, want %#x", o.Source, o.Flags, o.TTL, got, want)
		}
		if got := m.srcAt[o.Source].node; got != node {
			t.Errorf("source %d: node %d, want %d", o.Source, got, node)
		}
	})
}

// eachStageCase calls check with a matcher over sources at points of several roles and nodes (one a
// point for every interface), a UDP Observation of each source, encapsulation and TTL, and the stage
// and node it has by definition.
func eachStageCase(t *testing.T, check func(m *matcher, o *decode.Observation, want uint32, node int16)) {
	t.Helper()
	w := &world{c: &decode.Capture{},
		srcPoint:  []int{2, 0, 1, 2, 3},
		pointNode: []int{0, 1, 1, 5},
		pointRole: []decode.Role{decode.RoleAny, decode.RolePodVeth, decode.RoleUnderlay, decode.RoleAny}}
	m := newMatcher(w, make([]clockModel, 6), Options{Lean: true})
	for src := range w.srcPoint {
		for _, flags := range []decode.Flags{0, 1, 2, decode.FlagEncapMask} {
			for _, ttl := range []uint8{0, 1, 63, 255} {
				o := &decode.Observation{Source: uint16(src), Flags: flags, TTL: ttl, Proto: 17}
				p := w.srcPoint[src]
				want := uint32(p)<<12 | uint32(o.Encap())<<8 // every point's stage holds the encapsulation
				if w.pointRole[p] == decode.RoleAny {
					want |= uint32(ttl)
				}
				check(m, o, want, int16(w.pointNode[p]))
			}
		}
	}
}
