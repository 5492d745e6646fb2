package decode

import (
	"math/rand"
	"testing"
)

// ctxPacket returns a decoded Packet whose header context is the k-th of a small set (k == 0: none).
// Contexts 12-19 differ from context 2 in one field each; context 20 has a VNI only (not a frame that
// DecodeFast returns, but a context all the same).
func ctxPacket(k int) (*Packet, HdrCtx) {
	if k == 20 {
		p, _ := ctxPacket(0)
		p.VNI = 5
		return p, HdrCtx{VNI: 5}
	}
	if k >= 12 {
		p, c := ctxPacket(2)
		switch k {
		case 12:
			p.Outer.Src[3]++
			c.OuterSrc[3]++
		case 13:
			p.Outer.Dst[3]++
			c.OuterDst[3]++
		case 14:
			p.Outer.TTL++
			c.OuterTTL++
		case 15:
			p.Outer.TOS++
			c.OuterTOS++
		case 16:
			p.Outer.DF = false
			c.OuterDF = false
		case 17:
			p.Inner.TOS++
			c.InnerTOS++
		case 18:
			p.VNI++
			c.VNI++
		case 19:
			p.Outer.Version = 6
			c.OuterV = 6
		}
		return p, c
	}
	p := &Packet{Inner: IPHdr{Version: 4, Proto: 6, TTL: 63}, Checksum: CsumOK}
	p.Inner.Src[0], p.Inner.Dst[0] = 10, 10
	var want HdrCtx
	switch {
	case k == 0:
	case k%4 == 1: // plain, with a TOS: a context without encapsulation
		p.Inner.TOS = uint8(k)
		want = HdrCtx{InnerTOS: uint8(k)}
	case k%4 == 3:
		p.Encap, p.VNI = EncapVXLAN, uint32(k)
		p.Outer = IPHdr{Version: 6, TTL: 64, TOS: uint8(k), DF: k%3 == 0}
		p.Outer.Src[15], p.Outer.Dst[15] = byte(k), 1
		want = HdrCtx{Encap: EncapVXLAN, OuterV: 6, OuterSrc: p.Outer.Src, OuterDst: p.Outer.Dst, OuterTTL: 64,
			OuterTOS: uint8(k), OuterDF: k%3 == 0, VNI: uint32(k)}
	default: // IP-in-IP, the two directions differ in addresses and TTL
		p.Encap = EncapIPIP
		p.Inner.TOS = uint8(k >> 3)
		p.Outer = IPHdr{Version: 4, TTL: uint8(60 + k), DF: true}
		p.Outer.Src = [16]byte{192, 168, byte(k), 1}
		p.Outer.Dst = [16]byte{192, 168, 0, byte(k)}
		want = HdrCtx{Encap: EncapIPIP, OuterV: 4, OuterSrc: p.Outer.Src, OuterDst: p.Outer.Dst,
			OuterTTL: uint8(60 + k), OuterDF: true, InnerTOS: uint8(k >> 3)}
	}
	return p, want
}

// TestObserveCtxCache checks Observation.Ctx over frames that switch between more header contexts than
// the decoder caches, in random order and in runs: every index must name the frame's own context.
func TestObserveCtxCache(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	tb := NewTables()
	d := NewDecoder(Options{}, tb, 0)
	k := 0
	for i := 0; i < 20000; i++ {
		if rng.Intn(3) > 0 { // runs of equal contexts, too
			k = rng.Intn(21)
		}
		if i >= 10000 {
			k = []int{2, 6, 10, 2, 6}[i%5] // cycles through more than fit, then back
		}
		p, want := ctxPacket(k)
		var o Observation
		d.Observe(&Record{Frame: uint32(i + 1)}, p, &o)
		if got := tb.Ctx(o.Ctx); got != want || (want == HdrCtx{}) != (o.Ctx == 0) {
			t.Fatalf("frame %d (context %d): Ctx %d is %+v, want %+v", i, k, o.Ctx, got, want)
		}
	}
	if tb.CtxOverflow != 0 {
		t.Errorf("CtxOverflow %d", tb.CtxOverflow)
	}
}

// TestObserveCtxOverflowCount checks that a full table still counts an overflow every time a frame's
// context differs from the previous context-carrying frame's (as it did before the decoder kept
// recent contexts): contexts that overflowed are not served from the cache.
func TestObserveCtxOverflowCount(t *testing.T) {
	tb := NewTables()
	_, in := ctxPacket(2) // kept in the table; the others overflow
	tb.InternCtx(in)
	for i := len(tb.ctx); i < ctxOverflow; i++ {
		tb.InternCtx(HdrCtx{Encap: EncapIPIP, OuterV: 4, OuterSrc: [16]byte{10, 0, byte(i >> 8), byte(i)}})
	}
	d := NewDecoder(Options{}, tb, 0)
	rng := rand.New(rand.NewSource(2))
	want, prev := 0, -1
	for i := 0; i < 5000; i++ {
		k := []int{0, 2, 6, 10, 7}[rng.Intn(5)]
		p, c := ctxPacket(k)
		var o Observation
		d.Observe(&Record{Frame: uint32(i + 1)}, p, &o)
		switch {
		case k == 0:
			if o.Ctx != 0 {
				t.Fatalf("frame %d: Ctx %d, want 0", i, o.Ctx)
			}
			continue
		case c == in:
			if tb.Ctx(o.Ctx) != in {
				t.Fatalf("frame %d: Ctx %d, want the kept context", i, o.Ctx)
			}
		default:
			if o.Ctx != ctxOverflow {
				t.Fatalf("frame %d: Ctx %d, want overflow", i, o.Ctx)
			}
			if k != prev {
				want++
			}
		}
		prev = k
	}
	if tb.CtxOverflow != want {
		t.Errorf("CtxOverflow %d, want %d", tb.CtxOverflow, want)
	}
}

// TestCtxKey checks the header-context keys the fast path compares instead of the contexts: two
// contexts of the fast path's shape have equal keys exactly when they are equal (contexts 12-18 differ
// from context 2 in one field each), a context of another shape (an IPv6 outer header, VXLAN's with a
// 32-bit VNI, a WireGuard message's) has no key, and fastCtxKey of a packet
// (from its outer header's bytes) is its context's key.
func TestCtxKey(t *testing.T) {
	var ctxs []HdrCtx
	var pkts []*Packet
	for k := 0; k <= 20; k++ {
		p, c := ctxPacket(k)
		ctxs, pkts = append(ctxs, c), append(pkts, p)
	}
	wg := HdrCtx{WGType: WGTransport, WGReceiver: 7}
	bigVNI := HdrCtx{Encap: EncapVXLAN, OuterV: 4, VNI: 1 << 24}
	v6tail := ctxs[2]
	v6tail.OuterSrc[15] = 1
	for _, c := range []HdrCtx{wg, bigVNI, v6tail, {OuterTTL: 1}} {
		if k := ctxKeyOf(&c); k != noCtxKey {
			t.Errorf("%+v: key %x, want none", c, k)
		}
	}
	for i := range ctxs {
		ki := ctxKeyOf(&ctxs[i])
		fast := ctxs[i].OuterV != 6
		if (ki != noCtxKey) != fast {
			t.Fatalf("context %d %+v: key %x", i, ctxs[i], ki)
		}
		if !fast {
			continue
		}
		p := pkts[i]
		var b [20]byte // p's outer header, as putIPv4 reads it
		b[1], b[8] = p.Outer.TOS, p.Outer.TTL
		if p.Outer.DF {
			b[6] = 0x40
		}
		copy(b[12:16], p.Outer.Src[:4])
		copy(b[16:20], p.Outer.Dst[:4])
		if k := fastCtxKey(p.Encap, p.Inner.TOS, p.VNI, b[:]); hdrCtx(p) != ctxs[i] || k != ki {
			t.Fatalf("context %d: packet's key %x, want %x", i, k, ki)
		}
		for j := range ctxs {
			if kj := ctxKeyOf(&ctxs[j]); (ki == kj) != (ctxs[i] == ctxs[j]) {
				t.Fatalf("contexts %d and %d: keys %x and %x, contexts %+v and %+v", i, j, ki, kj, ctxs[i], ctxs[j])
			}
		}
	}
}
