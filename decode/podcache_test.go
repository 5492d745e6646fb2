package decode

import (
	"math/rand"
	"net/netip"
	"testing"
)

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

// podPackets counts the usual Observation in a loop of its own (count written out, s.all in a local);
// any other goes to count. Over Observations of every kind the loop takes or hands on (the node's pods'
// and others', cached and not, plain and encapsulated with and without an outer header's context,
// IPv6, ARP and damaged frames, TTLs that rise and fall), its counts must be count's of the node's
// pods' packets alone, in order.
func TestPodPacketsLikeCount(t *testing.T) {
	pods := []uint32{10<<24 | 244<<16 | 1<<8 | 5, 10<<24 | 244<<16 | 2<<8 | 9}
	others := []uint32{10<<24 | 244<<16 | 3<<8 | 7, 192<<24 | 168<<16 | 1}
	tab := NewTables()
	ctx := []uint16{tab.InternCtx(HdrCtx{Encap: EncapIPIP, OuterV: 4, OuterTTL: 64}),
		tab.InternCtx(HdrCtx{Encap: EncapIPIP, OuterV: 4, OuterTTL: 61}), tab.InternCtx(HdrCtx{Encap: EncapIPIP}),
		tab.InternCtx(HdrCtx{Encap: EncapVXLAN, OuterV: 4, OuterTTL: 250})}
	v6pod, v6other := [16]byte{0xfd, 15: 5}, [16]byte{0xfd, 15: 6}
	mine := podSet{v4: map[uint32]bool{}, v6: map[netip.Addr]bool{netip.AddrFrom16(v6pod): true}}
	for _, a := range pods {
		mine.v4[a] = true
	}
	v6 := []uint32{tab.InternV6(v6pod), tab.InternV6(v6other)}
	isMine := func(o *Observation) bool {
		if o.Flags&FlagIPv6 != 0 {
			return mine.v6[tab.V6(o.Src)]
		}
		return mine.v4[o.Src]
	}
	for seed := range int64(20) {
		r := rand.New(rand.NewSource(seed))
		var obs []Observation
		for range 400 {
			o := Observation{TTL: uint8(r.Intn(256)), Src: pods[r.Intn(2)]}
			switch k := r.Intn(10); {
			case k < 2:
				o.Src = others[r.Intn(2)]
			case k == 2:
				o.Flags, o.Src = FlagIPv6, v6[r.Intn(2)]
			case k == 3:
				o.Flags = []Flags{FlagARP, FlagNotIP, FlagTruncated, FlagError}[r.Intn(4)]
			}
			if r.Intn(3) == 0 && o.Flags&FlagIPv6 == 0 {
				o.Flags |= Flags(EncapIPIP)
				o.Ctx = ctx[r.Intn(len(ctx))]
				if r.Intn(20) == 0 {
					o.Ctx = uint16(len(ctx) + 3) // (no such context)
				}
			}
			if seed%2 == 1 && r.Intn(2) == 0 {
				o.TTL = []uint8{63, 127, 254}[r.Intn(3)]
			}
			obs = append(obs, o)
		}
		want := &podTTLs{}
		all := tab.CtxAll()
		for i := range obs {
			if o := &obs[i]; o.Flags&(FlagARP|FlagNotIP|FlagTruncated|FlagError) == 0 && isMine(o) {
				want.count(o, all)
			}
		}
		if got := podPackets(obs, tab, map[*Tables][]HdrCtx{}, mine); *got != *want {
			t.Fatalf("seed %d: podPackets counted\n%+v\nwant (count's)\n%+v", seed, *got, *want)
		}
	}
}
