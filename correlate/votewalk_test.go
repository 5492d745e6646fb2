package correlate

import (
	"path/filepath"
	"testing"
)

// TestVoteWalkAsKinds checks what votePath's walk of the hops leaves of each flow direction's
// tunnel device and underlay (dirVotes.tunnel, underlay) against every journey's hops walked here,
// on every lab scenario: with no router point nor several underlays (anyPos false) the walk is an OR
// of the hops' kinds, read from kindOf. The lab has such scenarios with directions that saw both,
// and directions (same-node flows) that saw neither; the test asks that some did.
func TestVoteWalkAsKinds(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*")
	if len(dirs) < 20 {
		t.Fatalf("%d lab scenarios", len(dirs))
	}
	plain, both, neither := 0, 0, 0
	for _, dir := range dirs {
		files, _ := filepath.Glob(dir + "/*.pcap*")
		a := analysisBeforeFlows(t, files)
		a.opts.chunk = -1 // inline
		got, _ := a.assignFlows()
		kinds := pointKinds(a.w)
		want := make([][2][2]bool, len(got.flows)) // flow, direction: tunnel, underlay
		for j, fi := range got.jFlow {
			if fi < 0 {
				continue
			}
			d := got.jDir[j]
			for _, pt := range a.hopPt[a.jStart[j]:a.jStart[j+1]] {
				k := kinds.ptKind[pt]
				want[fi][d][0] = want[fi][d][0] || k&ptTunnel != 0
				want[fi][d][1] = want[fi][d][1] || k&ptEdge != 0
			}
		}
		for fi, fl := range got.flows {
			for d := range 2 {
				v := &fl.votes[d]
				if g := [2]bool{v.tunnel, v.underlay}; g != want[fi][d] {
					t.Fatalf("%s: flow %d direction %d: tunnel, underlay %v, want %v", dir, fi, d, g, want[fi][d])
				}
				if !kinds.anyPos && (fl.nC2S > 0 && d == c2s || fl.nS2C > 0 && d == s2c) {
					plain++
					switch want[fi][d] {
					case [2]bool{true, true}:
						both++
					case [2]bool{}:
						neither++
					}
				}
			}
		}
	}
	t.Logf("%d flow directions walked without a router point or several underlays: %d saw a tunnel device and an underlay, %d neither", plain, both, neither)
	if both == 0 || neither == 0 {
		t.Fatalf("%d flow directions without a router point or several underlays: %d saw a tunnel device and an underlay, %d neither", plain, both, neither)
	}
}
