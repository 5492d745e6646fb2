package correlate

import (
	"math/rand"
	"testing"
)

// naiveUDPPairs is udpPairs as first written: each request (client→server journey, in order) paired
// with the first unpaired response after the GSO/GRO pieces that follows it within udpPairWindow.
func naiveUDPPairs(a *analysis, fl *flowAcc) int {
	first := func(j int32) int64 { return a.hopTs.t0.at(int(j)) }
	resp, k := a.dirJourneys(fl, s2c), 0
	skipPieces := func() {
		for k < len(resp) && a.mayOffload(resp[k]) && a.offloadNew[resp[k]] {
			k++
		}
	}
	pairs := 0
	for _, j := range a.dirJourneys(fl, c2s) {
		t := first(j)
		for skipPieces(); k < len(resp) && first(resp[k]) < t; skipPieces() {
			k++
		}
		if k < len(resp) && first(resp[k])-t <= udpPairWindow {
			pairs++
			k++
		}
	}
	return pairs
}

// TestUDPPairsAsNaive checks udpPairs, its loop written out with the times read from their blocks,
// against naiveUDPPairs on random flows: requests and responses in time order over more than one
// block of times, responses before requests, several responses to one request, gaps past the window,
// and GSO/GRO pieces (offloadNew) among the responses, some of them marked (offMark) but not pieces;
// in half the rounds no journey is marked, and udpPairs takes udpPairsWhole.
func TestUDPPairsAsNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(18))
	const nJ = timesBlock + 5000 // journeys past the first block of times
	for round := 0; round < 300; round++ {
		a := &analysis{arenaOut: &arenaOut{}, placementOut: &placementOut{offloadNew: map[int32]bool{}, offMark: make([]uint64, (nJ+63)/64)}}
		t0 := &times{}
		a.hopTs.t0 = t0
		// Journeys in time order, a few at random steps; the flow takes some of them, starting near
		// a block's end at times.
		start := rng.Intn(nJ - 400)
		if round%3 == 0 {
			start = timesBlock - 100
		}
		var now int64
		for j := 0; j < nJ; j++ {
			if j >= start && j < start+400 {
				switch rng.Intn(4) {
				case 0:
					now += int64(rng.Intn(3)) * udpPairWindow // (the window, or past it)
				default:
					now += int64(rng.Intn(1000))
				}
			}
			t0.append(now)
		}
		var c, r []int32
		for j := start; j < start+400; j++ {
			switch rng.Intn(5) {
			case 0, 1:
				c = append(c, int32(j))
			case 2, 3:
				r = append(r, int32(j))
				if round%2 == 0 && rng.Intn(4) == 0 { // (odd rounds: no pieces, udpPairsWhole)
					a.offMark[j/64] |= 1 << (j % 64)
					a.offloadNew[int32(j)] = rng.Intn(2) == 0 // a piece, or marked for another reason
				}
			}
		}
		a.jAll = append(c, r...)
		fl := &flowAcc{nC2S: int32(len(c)), nS2C: int32(len(r))}
		if got, want := a.udpPairs(fl), naiveUDPPairs(a, fl); got != want {
			t.Fatalf("round %d: %d UDP pairs, want %d", round, got, want)
		}
	}
}
