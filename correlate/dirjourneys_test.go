package correlate

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestDirJourneysAsFlows holds a flow's journey lists (dirJourneys, journeysOf, nDir: offsets into
// flowsOut.jAll) to the journeys' flows and directions, on a few lab scenarios, with the lists made
// on one goroutine and on two (flowJourneys, flowJourneysHalves): each direction's list is its
// journeys in journey order, nDir its length, journeysOf the client's then the server's.
func TestDirJourneysAsFlows(t *testing.T) {
	for _, sc := range []string{"healthy-ipip", "clusterip-dnat", "tcp-retransmission", "router-three-ifaces"} {
		files, _ := filepath.Glob("../testdata/lab/scenarios/" + sc + "/*.pcap*")
		a := analysisBeforeFlows(t, files)
		for _, chunk := range []int{-1, 3} {
			a.opts.chunk = chunk
			fo, _ := a.assignFlows()
			want := make([][2][]int32, len(fo.flows))
			for j, fi := range fo.jFlow {
				if fi >= 0 {
					d := fo.jDir[j]
					want[fi][d] = append(want[fi][d], int32(j))
				}
			}
			for fi, fl := range fo.flows {
				for d := range uint8(2) {
					got := fo.dirJourneys(fl, d)
					if !slices.Equal(got, want[fi][d]) || fl.nDir(d) != len(want[fi][d]) || cap(got) != len(got) {
						t.Fatalf("%s, chunk %d: flow %d direction %d: journeys %v (%d, cap %d), want %v", sc, chunk, fi, d,
							got, fl.nDir(d), cap(got), want[fi][d])
					}
				}
				if got, w := fo.journeysOf(fl), append(slices.Clone(want[fi][c2s]), want[fi][s2c]...); !slices.Equal(got, w) || cap(got) != len(got) {
					t.Fatalf("%s, chunk %d: flow %d: journeys %v, want %v", sc, chunk, fi, got, w)
				}
			}
		}
	}
}
