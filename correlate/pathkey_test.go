package correlate

import (
	"fmt"
	"testing"
)

// buildPaths finds a flow direction's group by its key's hash, then the key among those sharing that
// hash: with the hashes made to collide (a few values for every key), the paths are those built with
// pathKey.hash, and the flow directions that share a path share it alike, on a generated many-flow
// capture with DNAT (flows whose pods are not all known).
func TestBuildPathsKeysSharingHashes(t *testing.T) {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets, cfg.DNAT = 600, 4000, 0.2
	eachModeCaps(t, cfg, func(t *testing.T, files []string) {
		paths := func(hash func(pathKey) uint64) (string, int) {
			a := analysisBeforeFlows(t, files)
			a.flowsOut, a.pairMode = a.assignFlows()
			a.paths = (&pathStage{w: a.w, flows: a.flows, jAll: a.jAll, pairMode: a.pairMode, ar: a.arenaOut, keyHash: hash}).buildPaths()
			var out []byte
			ids := map[*pathInfo]int{}
			for fi, fl := range a.flows {
				for d, pi := range a.pathsOf(fl) {
					if pi == nil {
						continue
					}
					if _, ok := ids[pi]; !ok {
						ids[pi] = len(ids)
					}
					out = fmt.Appendf(out, "flow %d dir %d: path %d %v %d→%d\n", fi, d, ids[pi], pi.points, pi.srcNode, pi.dstNode)
				}
			}
			return string(out), len(ids)
		}
		want, n := paths(nil)
		if n < 8 {
			t.Fatalf("%d paths: too few to make keys collide", n)
		}
		if got, _ := paths(func(k pathKey) uint64 { return k.hash() % 3 }); got != want {
			t.Errorf("with colliding hashes the paths differ:\n got %.2000s\nwant %.2000s", got, want)
		}
	})
}
