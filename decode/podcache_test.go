package decode

import "testing"

// podPackets keeps mine.v4's answers in a direct-mapped cache by source address. Two sources that
// share a slot, one of the node's pods and one not, take turns in it: each frame must still be
// judged by its own source, so the counts are those of the pod's frames alone.
func TestPodPacketsCacheCollision(t *testing.T) {
	pod := uint32(10<<24 | 244<<16 | 1<<8 | 5)
	slot := func(a uint32) uint32 { return a * 0x9e3779b1 >> (32 - podCacheBits) }
	other := uint32(0)
	for a := pod + 1; a != pod; a++ {
		if slot(a) == slot(pod) {
			other = a
			break
		}
	}
	if other == 0 {
		t.Fatal("no address shares the pod's slot")
	}
	mine := podSet{v4: map[uint32]bool{pod: true}}
	var obs []Observation
	want := podTTLs{}
	for i := range 40 {
		ttl := uint8(64)
		if i%3 == 0 {
			ttl = 63 // one hop from the pod
		}
		src := other
		if i%2 == 0 {
			src = pod
		}
		obs = append(obs, Observation{Src: src, TTL: ttl})
		if src == pod {
			want.plain++
			if ttl == 63 {
				want.one++
			}
			if want.all++; want.all == 1 {
				want.first = ttl
			}
		}
	}
	got := podPackets(obs, &Tables{}, map[*Tables][]HdrCtx{}, mine)
	if got.plain != want.plain || got.one != want.one || got.all != want.all || got.first != want.first {
		t.Errorf("podPackets: plain %d, one %d, all %d, first TTL %d; want %d, %d, %d, %d",
			got.plain, got.one, got.all, got.first, want.plain, want.one, want.all, want.first)
	}
}
