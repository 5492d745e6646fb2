package correlate

import (
	"path/filepath"
	"testing"
)

// TestVoteWalkEveryJourney checks, on every lab scenario, the votes that the voter takes from a
// journey's hops (which it stops walking for a flow direction once a walk can add nothing: walkDone)
// against those of every journey's hops counted here: per flow direction, whether it crossed a tunnel
// device and an underlay, and at each router point and each of a node's several underlays the number
// of journeys there and their summed hop positions. It asks that some scenario has such points and
// that the voter passed over some journeys' hops.
func TestVoteWalkEveryJourney(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*")
	if len(dirs) < 20 {
		t.Fatalf("%d lab scenarios", len(dirs))
	}
	type seen struct{ pos, n int64 }
	withPos, skipped := 0, 0
	for _, dir := range dirs {
		files, _ := filepath.Glob(dir + "/*.pcap*")
		a := analysisBeforeFlows(t, files)
		a.opts.chunk = -1 // inline
		got, _ := a.assignFlows()
		kinds := pointKinds(a.w).ptKind
		type key struct {
			fi   int32
			d    uint8
			p    int
			kind uint8
		}
		want := map[key]seen{}
		tunnel, underlay := map[[2]int32]bool{}, map[[2]int32]bool{}
		anyPos := false
		for _, k := range kinds {
			anyPos = anyPos || k&(ptRouter|ptMulti) != 0
		}
		if anyPos {
			withPos++
		}
		fd := map[[2]int32]bool{} // the flow directions whose journeys were seen so far
		for j := 0; j < a.nJ; j++ {
			fi := got.jFlow[j]
			if fi < 0 {
				continue
			}
			d := got.jDir[j]
			dk := [2]int32{fi, int32(d)}
			if !anyPos && fd[dk] && tunnel[dk] && underlay[dk] {
				skipped++
			}
			fd[dk] = true
			base := int(a.jStart[j])
			for hi, pt := range a.hopPt[base : base+len(a.hops(j))] {
				p, k := int(pt), kinds[pt]
				if k&ptTunnel != 0 {
					tunnel[dk] = true
				}
				if k&ptEdge != 0 {
					underlay[dk] = true
				}
				for _, kind := range []uint8{ptRouter, ptMulti} {
					if k&kind != 0 {
						s := want[key{fi, d, p, kind}]
						want[key{fi, d, p, kind}] = seen{s.pos + int64(hi), s.n + 1}
					}
				}
			}
		}
		for fi, fl := range got.flows {
			for d := uint8(0); d < 2; d++ {
				v, dk := &fl.votes[d], [2]int32{int32(fi), int32(d)}
				if v.tunnel != tunnel[dk] || v.underlay != underlay[dk] {
					t.Fatalf("%s: flow %d direction %d: tunnel %v underlay %v, want %v %v", dir, fi, d, v.tunnel, v.underlay, tunnel[dk], underlay[dk])
				}
				n := 0
				for kind, m := range map[uint8]map[int]*routerSeen{ptRouter: v.routers, ptMulti: v.multi} {
					for p, rs := range m {
						n++
						if w := want[key{int32(fi), d, p, kind}]; rs.pos != w.pos || int64(rs.n) != w.n {
							t.Fatalf("%s: flow %d direction %d point %d: positions %d of %d journeys, want %d of %d", dir, fi, d, p, rs.pos, rs.n, w.pos, w.n)
						}
					}
				}
				for k := range want {
					if k.fi == int32(fi) && k.d == d {
						n--
					}
				}
				if n != 0 {
					t.Fatalf("%s: flow %d direction %d: %d points of routers or several underlays more than its journeys crossed", dir, fi, d, n)
				}
			}
		}
	}
	t.Logf("%d of %d scenarios with router points or several underlays on a node; %d journeys the voter need not walk", withPos, len(dirs), skipped)
	if withPos == 0 || skipped == 0 {
		t.Fatalf("%d scenarios with router points or several underlays, %d journeys passed over: nothing to check", withPos, skipped)
	}
}
