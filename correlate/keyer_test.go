package correlate

import (
	"math/rand"
	"reflect"
	"testing"
)

// flowJourneysHalves lists the same journeys, in the same order and lists, as flowJourneys: journeys
// without a flow, flows seen in one direction only or in one half of the journeys only, an odd
// number of journeys, one journey and none.
func TestFlowJourneysHalves(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	for _, nJ := range []int{0, 1, 2, 7, 1001, 20000} {
		nf := 1 + nJ/5
		a := &analysis{w: &world{}, nJ: nJ}
		mk := func() *flowStage {
			s := &flowStage{a: a}
			s.jFlow, s.jDir = make([]int32, nJ), make([]uint8, nJ)
			for fi := 0; fi < nf; fi++ {
				s.flows = append(s.flows, &flowAcc{})
			}
			return s
		}
		want, got := mk(), mk()
		for j := range nJ {
			fi := int32(rng.Intn(nf+1)) - 1 // -1: no flow
			if j >= nJ/2 && fi%3 == 0 {
				fi = int32(nf) - 1 // some flows only in the second half
			}
			d := uint8(rng.Intn(2))
			if fi%4 == 1 {
				d = c2s // some flows in one direction only
			}
			want.jFlow[j], want.jDir[j] = fi, d
			got.jFlow[j], got.jDir[j] = fi, d
		}
		want.flowJourneys(false)
		got.flowJourneysHalves()
		listed := 0
		for fi := range want.flows {
			for d := range uint8(2) {
				w, g := want.dirJourneys(want.flows[fi], d), got.dirJourneys(got.flows[fi], d)
				if !reflect.DeepEqual(g, w) || cap(g) != cap(w) {
					t.Fatalf("%d journeys: flow %d direction %d: %v (cap %d), want %v (cap %d)", nJ, fi, d, g, cap(g), w, cap(w))
				}
				listed += len(w)
			}
		}
		if nJ >= 1001 && listed == 0 {
			t.Fatalf("%d journeys: none listed: nothing compared", nJ)
		}
	}
}
