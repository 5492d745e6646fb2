package correlate

import (
	"testing"

	"github.com/calipath/calipath/decode"
)

// filesWith and oneNode read a file's capture sources: file 0 has two interfaces on two nodes, file 1
// one source, file 2 none.
func TestFileSources(t *testing.T) {
	w := &world{
		c: &decode.Capture{
			Obs:     make([][]decode.Observation, 3),
			Sources: []decode.Source{{File: 0, Iface: 0}, {File: 1}, {File: 0, Iface: 1}},
		},
		srcPoint:  []int{0, 1, 2},
		pointNode: []int{0, 0, 1},
		pointRole: []decode.Role{decode.RoleUnderlay, decode.RolePodVeth, decode.RoleUnderlay},
	}
	pods := w.filesWith(func(p int) bool { return w.pointRole[p] == decode.RolePodVeth })
	if pods[0] || !pods[1] || pods[2] {
		t.Errorf("files with pod-veth sources: %v, want [false true false]", pods)
	}
	node1 := w.filesWith(func(p int) bool { return w.pointNode[p] == 1 })
	if !node1[0] || node1[1] || node1[2] {
		t.Errorf("files with node-1 sources: %v, want [true false false]", node1)
	}
	if w.oneNode(0) || !w.oneNode(1) || !w.oneNode(2) {
		t.Errorf("one node: %v %v %v, want false true true", w.oneNode(0), w.oneNode(1), w.oneNode(2))
	}
}
