package correlate

import (
	"testing"

	"github.com/calipath/calipath/decode"
)

// TestStageOf checks the matcher's stage and node of a sighting against their definition from the
// world: the point (shifted), and for a point of every interface (RoleAny) also the encapsulation and
// TTL; the node of the source's point.
func TestStageOf(t *testing.T) {
	w := &world{c: &decode.Capture{},
		srcPoint:  []int{2, 0, 1, 2, 3},
		pointNode: []int{0, 1, 1, 5},
		pointRole: []decode.Role{decode.RoleAny, decode.RolePodVeth, decode.RoleUnderlay, decode.RoleAny}}
	m := newMatcher(w, make([]clockModel, 6), Options{Lean: true})
	for src := range w.srcPoint {
		for _, flags := range []decode.Flags{0, 1, 2, decode.FlagEncapMask} {
			for _, ttl := range []uint8{0, 1, 63, 255} {
				o := &decode.Observation{Source: uint16(src), Flags: flags, TTL: ttl}
				p := w.srcPoint[src]
				want := uint32(p) << 12
				if w.pointRole[p] == decode.RoleAny {
					want |= uint32(o.Encap())<<8 | uint32(ttl)
				}
				if got := m.stageOf(o); got != want {
					t.Errorf("source %d, flags %#x, ttl %d: stage %#x, want %#x", src, flags, ttl, got, want)
				}
				if got := m.srcAt[src].node; got != int16(w.pointNode[p]) {
					t.Errorf("source %d: node %d, want %d", src, got, w.pointNode[p])
				}
			}
		}
	}
}
