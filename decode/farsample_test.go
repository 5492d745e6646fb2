package decode

import "testing"

// linkSightings keeps the first farSample distinct packets of a file, whatever its size: a capture
// of millions of a node's pods' packets on two of its underlay files must not make farEnds hold a map
// entry for each (its evidence needs minMergedDup).
func TestLinkSightingsBounded(t *testing.T) {
	const n = 2*farSample + 10
	mine := podSet{v4: map[uint32]bool{0x0af40105: true}}
	obs := make([]Observation, n)
	var st Stamps
	for i := range obs {
		obs[i] = Observation{Src: 0x0af40105, Dst: 0x0af40207, Proto: 6, Seq: uint32(i), Sport: 40000, Dport: 80, Len: 60, TTL: 64}
		obs[i].TsLo = st.add(int64(i)*1000, uint32(i+1))
	}
	got := linkSightings(obs, &st, NewTables(), map[*Tables][]HdrCtx{}, mine, true, farSample)
	if len(got) != farSample {
		t.Fatalf("%d sightings kept of %d distinct packets, want the first %d", len(got), n, farSample)
	}
	first := linkKey{seq: 0, sport: 40000, dport: 80, len: 60, proto: 6, ttl: 64}
	for k, s := range got {
		if k.seq >= farSample {
			t.Fatalf("packet %d kept, past the first %d", k.seq, farSample)
		}
		if k.seq == first.seq && (s.t != 0 || !s.out) {
			t.Errorf("first packet: %+v, want time 0, leaving the node", s)
		}
	}
}
